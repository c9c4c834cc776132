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
 * its top (and a little beyond, for frames pushed between the state's read and the cframe word's),
 * each older chunk as the chunk map says it follows, then the frames outside the chunks, code
 * headers and names the thread's last walk read (ls_spec_range.owner), then the code epoch. The
 * walk is served from that batch alone (own_serve): its bytes are never older than what points to
 * them. Nothing here is trusted: a chunk map entry or a prediction that no longer holds only means
 * the walk misses the batch there and reads afresh, as it would without it.
 *
 * Of a group of threads, all chunks are read before any other range, so that no code header is
 * read before another thread's frames point to it. It does not walk, and does not decide when a
 * thread is walked from its own batch (threads.c).
 */
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "ls_error.h"
#include "walker.h"

#define OWN_TOP_MARGIN 4096u /* read past the newest chunk's top: frames pushed after the state */
#define OWN_CHAINS_MAX 64    /* older chunks predicted for one thread */

static size_t motion_slot(uint64_t tstate)
{
	return (size_t)((tstate >> 4) % LS_MOTION_MAP);
}

int ls_motion_moving(const struct ls_walker *w, uint64_t tstate)
{
	size_t s = motion_slot(tstate);
	return tstate && w->motion[s].tstate == tstate && w->motion[s].hold > 0;
}

void ls_motion_note(struct ls_walker *w, uint64_t tstate, uint64_t chunk, int missed)
{
	if (!tstate)
		return;
	size_t s = motion_slot(tstate);
	int mine = w->motion[s].tstate == tstate;
	if (missed || (mine && w->motion[s].hold > 0 && w->motion[s].chunk != chunk)) {
		w->motion[s].tstate = tstate;
		w->motion[s].hold = LS_MOTION_HOLD;
		w->motion[s].chunk = chunk;
		return;
	}
	if (mine && w->motion[s].hold > 0)
		w->motion[s].hold--;
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

/* Add a range to own_ranges (unless full): 0, or LS_ERR_NOMEM when it does not fit. */
static int own_add(struct ls_walker *w, uint64_t addr, size_t len, uint64_t owner, int kind)
{
	if (w->nown == LS_OWN_RANGES || len == 0 || len > LS_SPEC_BYTES - w->own_bytes_used)
		return LS_ERR_NOMEM;
	w->own_ranges[w->nown++] = (struct ls_spec_range){addr, len, w->own_bytes_used, 0, 0, owner, kind};
	w->own_bytes_used += len;
	return 0;
}

/* The ranges of one thread's own batch, appended to own_ranges: its chunks from the newest on, then
 * what its last walk read beyond them. 0, or LS_ERR_NOMEM when they do not all fit (none added). */
static int own_ranges_of(struct ls_walker *w, uint64_t tstate, const uint8_t *ts, size_t *nchunks)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	size_t undo = w->nown, undo_bytes = w->own_bytes_used;
	uint64_t chunk = ls_get_u64(ts, l->ts_datastack_chunk), top = ls_get_u64(ts, l->ts_datastack_chunk + 8);
	uint64_t previous = 0;
	const uint64_t *size = chunk_map_find(w, chunk, &previous);
	uint64_t cap = size && *size > LS_CHUNK_FIRST_READ && *size <= LS_SPEC_BYTES / 4 ? *size : LS_CHUNK_FIRST_READ;
	uint64_t len = top > chunk && top - chunk <= cap ? top - chunk + OWN_TOP_MARGIN : cap;
	len = len < cap ? (len + 7) & ~7ull : cap;
	int rc = own_add(w, chunk, (size_t)len, tstate, LS_WANT_NEWEST);
	*nchunks = 1;
	for (int k = 0; !rc && size && previous && k < OWN_CHAINS_MAX; k++) {
		uint64_t at = previous;
		size = chunk_map_find(w, at, &previous);
		if (!size || *size < (uint64_t)l->chunk_data || *size > LS_SPEC_BYTES / 4 || at % 8)
			break;
		rc = own_add(w, at, (size_t)*size, tstate, LS_WANT_CHUNK);
		(*nchunks)++;
	}
	for (size_t i = 0; !rc && i < w->nspec_pred; i++) {
		const struct ls_spec_range *r = &w->spec_ranges[i];
		if (r->owner == tstate && r->kind == LS_WANT_OTHER)
			rc = own_add(w, r->addr, r->len, tstate, LS_WANT_OTHER);
	}
	if (rc) {
		w->nown = undo;
		w->own_bytes_used = undo_bytes;
	}
	return rc;
}

int ls_stack_batch_read(struct ls_walker *w, const uint64_t *tstates, uint8_t *const *ts, struct ls_prefetch *const *pf,
			size_t n)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	if (l->ts_datastack_chunk < 0 || l->ts_datastack_chunk + 16 > l->ts_size)
		return 0;
	if (!w->own_bytes && !(w->own_bytes = malloc(LS_SPEC_BYTES)))
		return LS_ERR_NOMEM;
	size_t first = w->nown, chunks_of[LS_OWN_RANGES];
	size_t nthreads = 0;
	for (size_t i = 0; i < n; i++) {
		pf[i]->own = 0;
		uint64_t chunk = ls_get_u64(ts[i], l->ts_datastack_chunk);
		if (!chunk || chunk % 8)
			continue;
		size_t lo = w->nown, nchunks;
		if (own_ranges_of(w, tstates[i], ts[i], &nchunks))
			continue; /* full: this thread takes the first batch's path */
		pf[i]->own = 1;
		pf[i]->own_lo = lo;
		pf[i]->own_hi = w->nown;
		chunks_of[nthreads++] = nchunks;
	}
	size_t count = w->nown - first;
	if (count == 0)
		return 0;
	/* every chunk of every thread first, then the rest, then the code epoch */
	struct ls_remote_iov iov[LS_OWN_RANGES + 1];
	size_t which[LS_OWN_RANGES];
	int status[LS_OWN_RANGES + 1];
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t t = 0;
		for (size_t i = 0; i < n; i++) {
			if (!pf[i]->own)
				continue;
			size_t split = pf[i]->own_lo + chunks_of[t++];
			size_t from = pass ? split : pf[i]->own_lo, to = pass ? pf[i]->own_hi : split;
			for (size_t j = from; j < to; j++) {
				struct ls_spec_range *r = &w->own_ranges[j];
				which[k] = j;
				iov[k++] = (struct ls_remote_iov){r->addr, w->own_bytes + r->local, r->len};
			}
		}
	}
	uint32_t epoch = 0;
	uint64_t epoch_at = ls_code_epoch_addr(w);
	size_t tail = 0;
	if (epoch_at)
		iov[k++] = (struct ls_remote_iov){epoch_at, &epoch, sizeof(epoch)}, tail = 1;
	int rc = ls_walker_readv_spans(w, iov, k, 0, tail, nthreads == 1, status);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			pf[i]->own = 0;
		w->nown = first;
		return ls_error_is_recoverable(rc) ? 0 : rc;
	}
	for (size_t j = 0; j < count; j++)
		w->own_ranges[which[j]].ok = status[j] == 0;
	if (epoch_at)
		w->code_epoch = status[k - 1] == 0 ? epoch : 0; /* read after every frame of this batch */
	for (size_t i = 0; i < n; i++) {
		if (!pf[i]->own)
			continue;
		const struct ls_spec_range *newest = &w->own_ranges[pf[i]->own_lo];
		pf[i]->chunk_ok = newest->ok;
		pf[i]->chunk = w->own_bytes + newest->local;
		pf[i]->chunk_len = newest->len;
		pf[i]->from_batch = 1;
		w->own_batches++;
	}
	return 0;
}
