/* batch.c - the sample's first batch as the walks see it: what the previous sample read is
 * predicted for this one (the ranges and their longest lengths, kept for a few samples), read in
 * one call with the thread states (threads.c read_speculatively), and served to the walks by
 * ls_walker_read / ls_walker_readv / ls_walker_batch_bytes while spec_serve holds; every read a walk
 * makes is remembered for the next sample's prediction, with the thread that made it (0 when
 * several threads read it) and what it was (w->want_owner, w->want_kind). A walk served from its
 * thread's own batch (stackbatch.c, own_serve) finds its bytes there instead: in its thread's part,
 * then in the part the batch read for every thread. See walker.h.
 */
#include <string.h>

#include "walker.h"

/* The slot of spec_want_index for addr: the one holding it, or the empty one where it goes. */
static size_t want_slot(const struct ls_walker *w, uint64_t addr)
{
	size_t mask = LS_SPEC_HASH - 1;
	size_t i = (size_t)((addr >> 3) * 0x9E3779B97F4A7C15ull >> 40) & mask;
	while (w->spec_want_index[i] && w->spec_want[w->spec_want_index[i] - 1].addr != addr)
		i = (i + 1) & mask;
	return i;
}

/* Add a range to the next sample's prediction (with age), unless full; its index slot is `slot`. */
static void want_add(struct ls_walker *w, size_t slot, uint64_t addr, size_t len, int age)
{
	if (w->nspec_want == LS_SPEC_RANGES || w->spec_want_bytes + len > LS_SPEC_BYTES)
		return;
	w->spec_want[w->nspec_want++] = (struct ls_spec_range){addr, len, 0, 0, age, w->want_owner, w->want_kind, 0};
	w->spec_want_index[slot] = (uint16_t)w->nspec_want;
	w->spec_want_bytes += len;
}

/* Remember that a walk read [addr, addr + len) for the next sample's first batch. */
void ls_batch_want(struct ls_walker *w, uint64_t addr, size_t len)
{
	if (len == 0 || len > LS_SPEC_BYTES)
		return;
	size_t slot = want_slot(w, addr);
	if (!w->spec_want_index[slot]) {
		want_add(w, slot, addr, len, 0);
		return;
	}
	struct ls_spec_range *r = &w->spec_want[w->spec_want_index[slot] - 1];
	if (r->owner != w->want_owner)
		r->owner = 0; /* read by several threads: shared (stackbatch.c) */
	if (len > r->len && w->spec_want_bytes + (len - r->len) <= LS_SPEC_BYTES) {
		w->spec_want_bytes += len - r->len;
		r->len = len;
	}
}

void ls_batch_keep(struct ls_spec_range *r)
{
	r->kept = 1;
}

/* The next sample's prediction: what this sample's walks read, and what was predicted for this
 * sample, read fine and not needed, for up to LS_SPEC_KEEP samples (a frame that comes and goes,
 * such as a short call at the top of a busy stack, is then read in the batch when it is back);
 * then, as they were, the ranges this sample kept unread (ls_batch_keep: a lean sample's code
 * headers and names, which age only in the samples that read them), after every range a walk of
 * this sample read. */
size_t ls_batch_next(struct ls_walker *w)
{
	for (size_t i = 0; i < w->nspec_pred; i++) {
		const struct ls_spec_range *r = &w->spec_ranges[i];
		if (!r->kept && (!r->ok || r->age + 1 >= LS_SPEC_KEEP))
			continue;
		size_t slot = want_slot(w, r->addr);
		if (!w->spec_want_index[slot]) {
			w->want_owner = r->owner, w->want_kind = r->kind;
			want_add(w, slot, r->addr, r->len, r->kept ? r->age : r->age + 1);
			continue;
		}
		if (r->kept)
			continue; /* a walk read it: as it read it */
		/* read again: keep the longest length of the last LS_SPEC_KEEP samples, so that the top of
		 * a stack that moves up and down in its newest chunk stays within what the batch reads
		 * (a batch copy one byte short is no use: the whole stack is read again) */
		struct ls_spec_range *want = &w->spec_want[w->spec_want_index[slot] - 1];
		if (r->len > want->len && r->age + 1 < LS_SPEC_KEEP && w->spec_want_bytes + (r->len - want->len) <= LS_SPEC_BYTES) {
			w->spec_want_bytes += r->len - want->len;
			want->len = r->len;
		}
	}
	size_t npred = w->nspec_want;
	memcpy(w->spec_ranges, w->spec_want, npred * sizeof(*w->spec_ranges));
	memset(w->spec_want_index, 0, sizeof(w->spec_want_index));
	w->nspec_pred = npred;
	w->nspec_ranges = 0;
	w->nspec_want = 0;
	w->spec_want_bytes = 0;
	w->spec_cursor = 0;
	w->want_owner = 0, w->want_kind = LS_WANT_OTHER;
	return npred;
}

/* This sample's first-batch copy of [addr, addr + len), or NULL; *held (when not NULL) = how many
 * bytes from addr on the range it came from holds (those bytes, no more, follow the copy). The
 * search starts where the last one found its range: walks read in the order they read last time,
 * which is the batch's order. */
static const uint8_t *find_in(const struct ls_spec_range *ranges, size_t lo, size_t hi, size_t *cursor,
			      const uint8_t *bytes, uint64_t addr, size_t len, size_t *held)
{
	size_t n = hi - lo, i = *cursor >= lo && *cursor < hi ? *cursor - lo : 0;
	for (size_t k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
		const struct ls_spec_range *r = &ranges[lo + i];
		if (r->ok && addr >= r->addr && addr - r->addr <= r->len && len <= r->len - (addr - r->addr)) {
			*cursor = lo + i;
			if (held)
				*held = r->len - (size_t)(addr - r->addr);
			return bytes + r->local + (addr - r->addr);
		}
	}
	return NULL;
}

static const uint8_t *batch_find(struct ls_walker *w, uint64_t addr, size_t len, size_t *held)
{
	if (w->own_serve) {
		const uint8_t *have = w->own_hi > w->own_lo ? find_in(w->own_ranges, w->own_lo, w->own_hi, &w->own_cursor,
								       w->own_bytes, addr, len, held)
							  : NULL;
		if (!have && w->own_shared_hi > w->own_shared_lo)
			have = find_in(w->own_ranges, w->own_shared_lo, w->own_shared_hi, &w->own_shared_cursor,
				       w->own_bytes, addr, len, held);
		return have;
	}
	if (w->nspec_ranges == 0)
		return NULL;
	return find_in(w->spec_ranges, 0, w->nspec_ranges, &w->spec_cursor, w->spec_bytes, addr, len, held);
}

const uint8_t *ls_batch_find(struct ls_walker *w, uint64_t addr, size_t len, size_t *held)
{
	return w->spec_serve ? batch_find(w, addr, len, held) : NULL;
}

const uint8_t *ls_batch_held(struct ls_walker *w, uint64_t addr, size_t len)
{
	return w->served_at_start ? batch_find(w, addr, len, NULL) : NULL;
}

/* A walk's read of len bytes at addr, remembered for the next sample (predict bytes, >= len): the
 * batch's copy, or NULL, which ends serving from the batch for the rest of the attempt. */
static const uint8_t *batch_lookup(struct ls_walker *w, uint64_t addr, size_t len, size_t predict)
{
	ls_batch_want(w, addr, predict > len ? predict : len);
	const uint8_t *have = ls_batch_find(w, addr, len, NULL);
	if (!have)
		w->spec_serve = 0;
	return have;
}

const uint8_t *ls_walker_batch_bytes(struct ls_walker *w, uint64_t addr, size_t len)
{
	return batch_lookup(w, addr, len, len);
}

int ls_walker_read(struct ls_walker *w, uint64_t addr, void *dst, size_t len, size_t predict)
{
	const uint8_t *have = batch_lookup(w, addr, len, predict);
	if (!have)
		return ls_proc_read(w->ctx.proc, addr, dst, len);
	memcpy(dst, have, len);
	return 0;
}

int ls_walker_readv(struct ls_walker *w, const struct ls_remote_iov *iov, size_t n, int *status)
{
	struct ls_remote_iov rest[256];
	size_t which[256];
	int rest_status[256];
	for (size_t done = 0; done < n;) {
		size_t k = 0, i = done;
		for (; i < n && k < 256; i++) {
			ls_batch_want(w, iov[i].addr, iov[i].len);
			const uint8_t *have = ls_batch_find(w, iov[i].addr, iov[i].len, NULL);
			if (have) {
				memcpy(iov[i].dst, have, iov[i].len);
				status[i] = 0;
				continue;
			}
			which[k] = i;
			rest[k++] = iov[i];
		}
		if (k)
			w->spec_serve = 0;
		int rc = ls_proc_readv(w->ctx.proc, rest, k, rest_status);
		if (rc)
			return rc;
		for (size_t j = 0; j < k; j++)
			status[which[j]] = rest_status[j];
		done = i;
	}
	return 0;
}

int ls_walker_read_fresh(struct ls_walker *w, uint64_t addr, void *dst, size_t len)
{
	w->spec_serve = 0;
	return ls_proc_read(w->ctx.proc, addr, dst, len);
}
