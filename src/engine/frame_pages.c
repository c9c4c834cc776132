/* frame_pages.c - the <=3.10 page cache: the 4 KiB pages a frame walk reads frame objects from.
 *
 * <=3.10 frames are heap objects. Frames allocated one after another share pages, so a walk reads
 * pages rather than frames: a deep stack costs a fraction of one read per frame, and a shorter
 * walk gives a running thread less time to change its stack under us. The pages are predicted
 * like every other range a walk reads: the next sample's first batch reads them with the thread
 * states, so a thread whose frames stay on the same pages is walked without a read of its own
 * (ls_walker_batch_bytes). A 600-deep recursion spreads its frames (~470 bytes each on 3.8-3.10)
 * over 70-100 pages, so the cache holds LS_PAGE_CACHE of them, found through a small hash index
 * (a walk looks a page up once per frame).
 *
 * The cache lives for one walk attempt (ls_frame_pages_clear). It does not decide which frames
 * are consistent: frames.c checks the chain it builds from these bytes.
 */
#include <string.h>

#include "ls_error.h"
#include "walker.h"

static size_t page_hash(uint64_t page)
{
	return (size_t)((page >> 12) * 0x9E3779B97F4A7C15ull >> 40) & (LS_PAGE_HASH - 1);
}

/* The cache slot holding page, or LS_PAGE_CACHE. Index entries whose slot now holds another page
 * (evicted, or dropped) are passed over. */
static size_t page_find(const struct ls_walker *w, uint64_t page)
{
	for (size_t i = page_hash(page), probes = 0; w->page_index[i] && probes < LS_PAGE_HASH;
	     i = (i + 1) & (LS_PAGE_HASH - 1), probes++) {
		size_t slot = w->page_index[i] - 1u;
		if (w->page_addrs[slot] == page)
			return slot;
	}
	return LS_PAGE_CACHE;
}

static void index_insert(struct ls_walker *w, uint64_t page, size_t slot)
{
	size_t i = page_hash(page);
	while (w->page_index[i])
		i = (i + 1) & (LS_PAGE_HASH - 1);
	w->page_index[i] = (uint16_t)(slot + 1);
	w->page_index_used++;
}

/* Make the index hold exactly the slots in use (it fills with stale entries as slots are reused). */
static void index_rebuild(struct ls_walker *w)
{
	memset(w->page_index, 0, sizeof(w->page_index));
	w->page_index_used = 0;
	for (size_t s = 0; s < w->npages; s++)
		if (w->page_addrs[s])
			index_insert(w, w->page_addrs[s], s);
}

/* Put page in a slot (bytes at have); the index never gets more than half full. */
static void page_add(struct ls_walker *w, size_t slot, uint64_t page, const uint8_t *have)
{
	if (w->page_index_used + 1 > LS_PAGE_HASH / 2)
		index_rebuild(w);
	w->page_addrs[slot] = page;
	w->page_at[slot] = have;
	index_insert(w, page, slot);
}

void ls_frame_pages_clear(struct ls_walker *w)
{
	w->npages = 0;
	w->page_next = 0;
	memset(w->page_index, 0, sizeof(w->page_index));
	w->page_index_used = 0;
}

/* Forget the pages that came from the sample's batch: the walk has read afresh, and the frames
 * fresh bytes lead to must not be taken from older ones. */
static void drop_batch_pages(struct ls_walker *w)
{
	for (size_t i = 0; i < w->npages; i++)
		if (w->page_at[i] != w->pages + i * LS_PAGE_SIZE)
			w->page_addrs[i] = 0;
}

int ls_frame_pages_bytes(struct ls_walker *w, uint64_t addr, size_t size, const uint8_t **out)
{
	uint64_t page = addr & ~(uint64_t)(LS_PAGE_SIZE - 1);
	if (page == 0)
		return LS_ERR_TORN; /* no frame lives in the first page */
	if (addr - page + size > LS_PAGE_SIZE)
		return LS_ERR_READ; /* crosses a page: the caller reads it directly */
	size_t slot = page_find(w, page);
	if (slot < LS_PAGE_CACHE && !w->spec_serve && w->page_at[slot] != w->pages + slot * LS_PAGE_SIZE) {
		drop_batch_pages(w); /* a batch page, but the walk read afresh since (a frame across pages) */
		slot = LS_PAGE_CACHE;
	}
	if (slot < LS_PAGE_CACHE) {
		*out = w->page_at[slot] + (addr - page);
		return 0;
	}
	slot = w->npages < LS_PAGE_CACHE ? w->npages++ : (w->page_next++ % LS_PAGE_CACHE);
	w->page_addrs[slot] = 0;
	const uint8_t *have = ls_walker_batch_bytes(w, page, LS_PAGE_SIZE);
	if (!have) {
		drop_batch_pages(w); /* read fresh from here on */
		uint8_t *dst = w->pages + slot * LS_PAGE_SIZE;
		int rc = ls_proc_read(w->ctx.proc, page, dst, LS_PAGE_SIZE);
		if (rc)
			return rc;
		have = dst;
	}
	page_add(w, slot, page, have);
	*out = have + (addr - page);
	return 0;
}

int ls_frames_reread_start(struct ls_walker *w, uint64_t tstate, uint8_t *ts, size_t ts_size)
{
	struct ls_remote_iov iov[1 + LS_REREAD_PAGES];
	int status[1 + LS_REREAD_PAGES];
	iov[0] = (struct ls_remote_iov){tstate, ts, ts_size};
	/* the pages of the last attempt's frames, top first (not those it wandered into after its
	 * chain went wrong: it stopped there) */
	ls_frame_pages_clear(w);
	for (size_t i = 0; i < w->nraw && w->npages < LS_REREAD_PAGES; i++) {
		uint64_t page = w->raw[i].addr & ~(uint64_t)(LS_PAGE_SIZE - 1);
		if (page == 0 || page_find(w, page) < LS_PAGE_CACHE)
			continue;
		size_t np = w->npages++;
		page_add(w, np, page, w->pages + np * LS_PAGE_SIZE);
		iov[1 + np] = (struct ls_remote_iov){page, w->pages + np * LS_PAGE_SIZE, LS_PAGE_SIZE};
	}
	int rc = ls_proc_readv(w->ctx.proc, iov, 1 + w->npages, status);
	if (rc || status[0]) {
		ls_frame_pages_clear(w); /* nothing of this read is checked: keep none of it */
		return rc ? rc : status[0];
	}
	for (size_t i = 0; i < w->npages; i++)
		if (status[1 + i])
			w->page_addrs[i] = 0; /* freed meanwhile: read again if a frame is there */
	return 0;
}
