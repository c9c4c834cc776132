/* stackbatch.c - the own batch of a thread whose stack moves (3.11+; see walker.h
 * ls_stack_batch_read), and the two things it is predicted from: which threads' stacks move
 * (ls_motion_*) and each data-stack chunk's previous chunk (ls_chunk_map_note).
 *
 * A sample's first batch predicts every range from the sample before (threads.c). For a stack that
 * moves through several chunks between samples (a deep recursion, down and back every few hundred
 * microseconds) that prediction names chunks that are gone or no longer the newest: a failed range
 * ends the call, the walk then reads the thread state again and the rest one call at a time, about
 * 18 ranges a sample. Each range takes the target's memory-map lock once, and a target that maps
 * and unmaps a chunk at every descent holds that lock often: a reader that waits for it is woken by
 * the target, which pays for the wake-up (benchmarks/RESULTS.md, "Session 10").
 *
 * So a moving thread's first batch reads only its thread state and cframe word (one moment), and
 * one more call reads what that state names, in the order pointers lead: the newest chunk up to
 * its top (or up to the current frame, pushed between the state's read and the cframe word's),
 * each older chunk as the chunk map says it follows, then the frames outside the chunks, code
 * headers and names the thread's last walk read (ls_spec_range.owner; a lean sample leaves the
 * code headers and names out: code_check.c), then the code epoch. The
 * walk is served from that batch alone (own_serve): its bytes are never older than what points to
 * them. Nothing here is trusted: a chunk map entry or a prediction that no longer holds only means
 * the walk misses the batch there and reads afresh, as it would without it.
 *
 * Of a group of threads, all chunks are read before any other range, so that no code header is
 * read before another thread's frames point to it; a chunk that ends where the next one down its
 * chain starts is read in one range with it (newest first, as the kernel copies). When every
 * thread of the sample moves, what several of them read (code headers of functions they share) is
 * read once, after every thread's own ranges, and serves them all. A chunk chain or prediction
 * that does not fit is cut: the walk reads the rest afresh. It does not walk, and does not decide
 * when a thread is walked from its own batch (threads.c).
 */
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "ls_error.h"
#include "walker.h"

#define OWN_TOP_MARGIN 4096u /* past the newest chunk's top when the current frame is unknown */
#define OWN_CHAINS_MAX 64    /* older chunks predicted for one thread */
#define OWN_MERGE_GAP 8192u  /* the rest: ranges closer than this are read as one span */

static size_t motion_slot(uint64_t tstate)
{
	return (size_t)((tstate >> 4) % LS_MOTION_MAP);
}

int ls_motion_moving(const struct ls_walker *w, uint64_t tstate)
{
	size_t s = motion_slot(tstate);
	return tstate && (w->all_moving || (w->motion[s].tstate == tstate && w->motion[s].hold > 0));
}

void ls_motion_note(struct ls_walker *w, uint64_t tstate, uint64_t chunk)
{
	if (!tstate)
		return;
	size_t s = motion_slot(tstate);
	if (w->motion[s].tstate != tstate) {
		w->motion[s].tstate = tstate; /* first seen (or it took another's slot): not moving yet */
		w->motion[s].chunk = chunk;
		w->motion[s].hold = 0;
	} else if (w->motion[s].chunk != chunk) {
		w->motion[s].chunk = chunk;
		w->motion[s].hold = LS_MOTION_HOLD;
	} else if (w->motion[s].hold > 0) {
		w->motion[s].hold--;
	}
}

static size_t chunk_slot(uint64_t chunk)
{
	return (size_t)(((chunk >> 12) * 0x9E3779B97F4A7C15ull) >> 40) % LS_CHUNK_MAP;
}

void ls_chunk_map_note(struct ls_walker *w, uint64_t chunk, uint64_t previous, uint64_t size)
{
	if (!chunk)
		return;
	size_t s = chunk_slot(chunk);
	w->chunk_map[s].chunk = chunk;
	w->chunk_map[s].previous = previous;
	w->chunk_map[s].size = size;
}

/* The chunk map's entry for chunk, or NULL. */
static const uint64_t *chunk_map_find(const struct ls_walker *w, uint64_t chunk, uint64_t *previous)
{
	size_t s = chunk_slot(chunk);
	if (!chunk || w->chunk_map[s].chunk != chunk)
		return NULL;
	*previous = w->chunk_map[s].previous;
	return &w->chunk_map[s].size;
}

uint64_t ls_chunk_map_holding(const struct ls_walker *w, uint64_t addr, size_t len)
{
	const uint64_t data = (uint64_t)w->ctx.target->layout.chunk_data, page = 4096;
	uint64_t previous;
	for (uint64_t at = addr & ~(page - 1), k = 0; at && k < LS_SPEC_BYTES / 4 / page; at -= page, k++) {
		const uint64_t *size = chunk_map_find(w, at, &previous);
		if (size && addr >= at + data && addr - at <= *size && len <= *size - (addr - at))
			return at;
	}
	return 0;
}

/* Add a range to own_ranges: 0, or LS_ERR_NOMEM when it does not fit. */
static int own_add(struct ls_walker *w, uint64_t addr, size_t len, uint64_t owner, int kind)
{
	if (w->nown == LS_OWN_RANGES || len == 0 || len > LS_SPEC_BYTES - w->own_bytes_used)
		return LS_ERR_NOMEM;
	w->own_ranges[w->nown++] = (struct ls_spec_range){addr, len, w->own_bytes_used, 0, 0, owner, kind, 0};
	w->own_bytes_used += len;
	return 0;
}

/* The predicted ranges beyond the chunks that `owner`'s walks read (0: those several threads
 * read), appended to own_ranges as far as they fit. */
static void own_add_others(struct ls_walker *w, uint64_t owner)
{
	for (size_t i = 0; i < w->nspec_pred; i++) {
		struct ls_spec_range *r = &w->spec_ranges[i];
		if (r->owner != owner || (r->kind != LS_WANT_OTHER && r->kind != LS_WANT_CODE))
			continue;
		if (r->kind == LS_WANT_CODE && w->code_lean)
			ls_batch_keep(r); /* for the next sample that proves code identity */
		else
			(void)own_add(w, r->addr, r->len, owner, r->kind);
	}
}

/* How far past the newest chunk's top (as the thread state names it) its range reads. The walk
 * starts at the current frame and goes down, so only frames pushed between the state's read and the
 * current frame's word matter, and the current frame says where they end: up to its fields
 * (fr_size), nothing past. Those bytes are the ones the target is writing at that moment, each a
 * cache line it must take back from us. A current frame outside the chunk (a chunk pushed meanwhile,
 * which the walk misses anyway) or unknown: OWN_TOP_MARGIN. An image: nothing was pushed since. */
static uint64_t newest_margin(const struct ls_walker *w, const uint8_t *ts, const struct ls_prefetch *pf,
			      uint64_t chunk, uint64_t top, uint64_t cap)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	if (w->ctx.proc->frozen)
		return 0;
	uint64_t current = l->frame_kind == LS_FRAME_DIRECT ? ls_get_u64(ts, l->ts_frame)
			   : l->frame_kind == LS_FRAME_VIA_CFRAME && pf->cframe_ok ? pf->current_frame : 0;
	if (!current || current % 8 || current < chunk || current - chunk >= cap || l->fr_size <= 0 || top < chunk)
		return OWN_TOP_MARGIN;
	uint64_t end = current + (uint64_t)l->fr_size;
	return end > top ? end - top : 0;
}

/* The ranges of one thread's own batch, appended to own_ranges: its chunks from the newest on, as
 * far as they fit, then what its last walk read beyond them. *nchunks = how many are chunks.
 * LS_ERR_NOMEM when not even the newest chunk fits. The newest chunk is read whole when the chunk
 * before it lies right above it (one range then holds both: see own_heads). */
static int own_ranges_of(struct ls_walker *w, uint64_t tstate, const uint8_t *ts, const struct ls_prefetch *pf,
			 size_t *nchunks)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	uint64_t chunk = ls_get_u64(ts, l->ts_datastack_chunk), top = ls_get_u64(ts, l->ts_datastack_chunk + 8);
	uint64_t previous = 0, prev_previous = 0;
	const uint64_t *size = chunk_map_find(w, chunk, &previous);
	uint64_t cap = size && *size > LS_CHUNK_FIRST_READ && *size <= LS_SPEC_BYTES / 4 ? *size : LS_CHUNK_FIRST_READ;
	uint64_t margin = newest_margin(w, ts, pf, chunk, top, cap);
	uint64_t len = top > chunk && top - chunk <= cap ? top - chunk + margin : cap;
	len = len < cap ? (len + 7) & ~7ull : cap;
	if (size && *size == cap && previous == chunk + cap && chunk_map_find(w, previous, &prev_previous))
		len = cap;
	if (own_add(w, chunk, (size_t)len, tstate, LS_WANT_NEWEST))
		return LS_ERR_NOMEM;
	*nchunks = 1;
	for (int k = 0; size && previous && k < OWN_CHAINS_MAX; k++) {
		uint64_t at = previous;
		size = chunk_map_find(w, at, &previous);
		if (!size || *size < (uint64_t)l->chunk_data || *size > LS_SPEC_BYTES / 4 || at % 8 ||
		    own_add(w, at, (size_t)*size, tstate, LS_WANT_CHUNK))
			break; /* the rest of the chain is read afresh if the walk needs it */
		(*nchunks)++;
	}
	own_add_others(w, tstate);
	return 0;
}

/* The chunk ranges of own_ranges[lo, lo + n) (one thread's, newest first) as the ranges to read:
 * a chunk that ends where the next one down the chain starts (chunks mapped one below the other,
 * as the kernel places them) joins its range, which is then read newest first as pointers lead.
 * Appends to iov (dst in own_bytes: a thread's chunks lie there one after the other) and, for each
 * range, the own_ranges it covers in first[]/count[]. Returns the new count. */
static size_t own_heads(struct ls_walker *w, size_t lo, size_t n, struct ls_remote_iov *iov, size_t k, size_t *first,
			size_t *count)
{
	for (size_t j = lo; j < lo + n; j++) {
		const struct ls_spec_range *r = &w->own_ranges[j];
		if (k > 0 && j > lo && first[k - 1] + count[k - 1] == j && iov[k - 1].addr + iov[k - 1].len == r->addr &&
		    iov[k - 1].len + r->len <= LS_SPEC_BYTES) {
			iov[k - 1].len += r->len;
			count[k - 1]++;
			continue;
		}
		iov[k] = (struct ls_remote_iov){r->addr, w->own_bytes + r->local, r->len};
		first[k] = j;
		count[k++] = 1;
	}
	return k;
}

int ls_stack_batch_read(struct ls_walker *w, const uint64_t *tstates, uint8_t *const *ts, struct ls_prefetch *const *pf,
			size_t n)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	if (l->ts_datastack_chunk < 0 || l->ts_datastack_chunk + 16 > l->ts_size)
		return 0;
	if (!w->own_bytes && !(w->own_bytes = malloc(LS_SPEC_BYTES)))
		return LS_ERR_NOMEM;
	size_t first = w->nown, first_bytes = w->own_bytes_used, chunks_of[LS_OWN_RANGES];
	size_t nthreads = 0;
	for (size_t i = 0; i < n; i++) {
		pf[i]->own = 0;
		uint64_t chunk = ls_get_u64(ts[i], l->ts_datastack_chunk);
		if (!chunk || chunk % 8)
			continue;
		size_t lo = w->nown, nchunks;
		if (own_ranges_of(w, tstates[i], ts[i], pf[i], &nchunks))
			continue; /* full: this thread takes the first batch's path */
		pf[i]->own = 1;
		pf[i]->own_lo = lo;
		pf[i]->own_hi = w->nown;
		chunks_of[nthreads++] = nchunks;
	}
	/* what several threads read, once, after every thread's own ranges (a group of the sample's
	 * first prefetch when every thread of the sample moves: else they are in the first batch) */
	size_t shared_lo = w->nown;
	if (w->own_share && first == 0)
		own_add_others(w, 0);
	size_t count = w->nown - first;
	if (count == 0)
		return 0;
	/* every chunk of every thread first, each alone or joined with its neighbour, then the rest
	 * (ranges close together read as one span), then the code epoch */
	struct ls_remote_iov iov[LS_OWN_RANGES + 1];
	size_t first_of[LS_OWN_RANGES], count_of[LS_OWN_RANGES], heads = 0;
	int status[LS_OWN_RANGES + 1];
	for (size_t i = 0, t = 0; i < n; i++)
		if (pf[i]->own)
			heads = own_heads(w, pf[i]->own_lo, chunks_of[t++], iov, heads, first_of, count_of);
	size_t k = heads;
	for (size_t i = 0, t = 0; i < n; i++) {
		if (!pf[i]->own)
			continue;
		for (size_t j = pf[i]->own_lo + chunks_of[t++]; j < pf[i]->own_hi; j++, k++) {
			first_of[k] = j, count_of[k] = 1;
			iov[k] = (struct ls_remote_iov){w->own_ranges[j].addr, w->own_bytes + w->own_ranges[j].local,
							 w->own_ranges[j].len};
		}
	}
	for (size_t j = shared_lo; j < w->nown; j++, k++) {
		first_of[k] = j, count_of[k] = 1;
		iov[k] = (struct ls_remote_iov){w->own_ranges[j].addr, w->own_bytes + w->own_ranges[j].local,
						 w->own_ranges[j].len};
	}
	size_t nread = k;
	uint32_t epoch = 0;
	uint64_t epoch_at = ls_code_epoch_addr(w);
	size_t tail = 0;
	if (epoch_at)
		iov[k++] = (struct ls_remote_iov){epoch_at, &epoch, sizeof(epoch)}, tail = 1;
	/* one thread: its chunks are of no use once its newest is gone, nor is the rest. Code headers
	 * and names a few KiB apart (one arena's pools) are read as one span: in a target whose
	 * memory map is busy a range costs more than a few pages */
	w->merge_gap = OWN_MERGE_GAP;
	int rc = ls_walker_readv_spans(w, iov, k, heads, tail, nthreads == 1, status);
	w->merge_gap = 0;
	if (rc) {
		for (size_t i = 0; i < n; i++)
			pf[i]->own = 0;
		w->nown = first;
		w->own_bytes_used = first_bytes;
		return ls_error_is_recoverable(rc) ? 0 : rc;
	}
	for (size_t h = 0; h < nread; h++)
		for (size_t j = first_of[h]; j < first_of[h] + count_of[h]; j++)
			w->own_ranges[j].ok = status[h] == 0;
	if (epoch_at)
		w->code_epoch = status[k - 1] == 0 ? epoch : 0; /* read after every frame of this batch */
	for (size_t i = 0; i < n; i++) {
		if (!pf[i]->own)
			continue;
		pf[i]->shared_lo = shared_lo;
		pf[i]->shared_hi = w->nown;
		const struct ls_spec_range *newest = &w->own_ranges[pf[i]->own_lo];
		pf[i]->chunk_ok = newest->ok;
		pf[i]->chunk = w->own_bytes + newest->local;
		pf[i]->chunk_len = newest->len;
		pf[i]->from_batch = 1;
		w->own_batches++;
	}
	return 0;
}
