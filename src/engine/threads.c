/* threads.c - walk interpreters and thread states; per thread GIL, kernel tid and OS state.
 *
 * _PyRuntime.interpreters.head -> interp->next ...; interp's thread list -> tstate->next ...
 * Each thread state is read whole in one call; its stack is walked by frames.c and retried (the
 * thread state read again) when the walk finds the stack changed under it.
 * Steady state, one system call per sample: with one interpreter, the next sample reads in one
 * batch the runtime and interpreter fields, every thread state the previous sample found and every
 * range the previous sample's walks read beyond them (stack starts, data-stack chunks, frames
 * outside them, code headers: ls_walker_read). Ranges close together are read as one span. Then
 * every link is checked as the slow path would, and the walks take their bytes from the batch
 * while these are of one moment (a thread whose top or stack missed the batch reads afresh).
 * GIL: 3.8-3.11 _PyRuntime.gilstate.tstate_current; 3.12 the _gil_runtime_state that
 * interp->ceval.gil points to; 3.13+ the interpreter's embedded _gil (holder valid while locked).
 * Kernel tid: native_thread_id from 3.11; before that read from glibc's struct pthread at an
 * offset discovered once per session (the offset where the main thread's struct holds the pid).
 */
#define _GNU_SOURCE /* clock_gettime */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "clock.h"
#include "fields.h"
#include "ls_error.h"
#include "walker.h"

#define TSTATE_MAX_SIZE 4096
#define PTHREAD_SCAN_BYTES 2048

static int read_u64_at(struct ls_walker *w, uint64_t base, int32_t off, uint64_t *out)
{
	if (off < 0)
		return LS_ERR_INVALID_ARG;
	return ls_proc_read_u64(w->ctx.proc, base + (uint64_t)off, out);
}

struct interp_fields {
	uint64_t next, threads_head, id, gil_holder; /* gil_holder: the tstate holding the GIL, or 0 */
};

/* The raw words of one interpreter's fields, as a batch reads them. */
struct interp_words {
	uint64_t next, head, id, a, b, gil_struct[3];
	size_t first, count, gil_at; /* where in the batch */
};

/* Append the reads of interpreter `interp`'s fields to iov; returns the new count. */
static size_t interp_iovs(struct ls_walker *w, uint64_t interp, struct interp_words *r, struct ls_remote_iov *iov,
			  size_t n)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	r->first = n;
	r->id = 0;
	iov[n++] = (struct ls_remote_iov){interp + (uint64_t)l->is_next, &r->next, 8};
	iov[n++] = (struct ls_remote_iov){interp + (uint64_t)l->is_threads_head, &r->head, 8};
	if (l->is_id >= 0)
		iov[n++] = (struct ls_remote_iov){interp + (uint64_t)l->is_id, &r->id, 8};
	r->gil_at = n;
	switch (l->gil_kind) {
	case LS_GIL_RUNTIME_TSTATE_CURRENT:
		iov[n++] = (struct ls_remote_iov){w->ctx.target->facts.runtime_addr + (uint64_t)l->rt_tstate_current, &r->a, 8};
		break;
	case LS_GIL_INTERP_POINTER:
		iov[n++] = (struct ls_remote_iov){interp + (uint64_t)l->is_gil_pointer, &r->a, 8};
		break;
	case LS_GIL_INTERP_EMBEDDED:
		iov[n++] = (struct ls_remote_iov){interp + (uint64_t)l->is_gil_holder, &r->a, 8};
		iov[n++] = (struct ls_remote_iov){interp + (uint64_t)l->is_gil_locked, &r->b, 8};
		break;
	}
	r->count = n - r->first;
	return n;
}

/* 3.12: the holder from a _gil_runtime_state read as words (holder and locked by layout offset). */
static uint64_t holder_in_gil_struct(const struct ls_layout *l, const uint64_t *words)
{
	if (l->is_gil_holder < 0 || l->is_gil_locked < 0 || l->is_gil_holder > 16 || l->is_gil_locked > 16)
		return 0;
	uint64_t holder = words[l->is_gil_holder / 8];
	uint32_t locked;
	memcpy(&locked, (const uint8_t *)words + l->is_gil_locked, 4);
	return locked ? holder : 0;
}

/* Turn the words of a batch into fields. `gil_ready` tells whether r->gil_struct already holds the
 * 3.12 GIL struct that r->a points to (read in the same batch); if not it is read now. */
static int interp_finish(struct ls_walker *w, struct interp_words *r, const int *status, int gil_ready,
			 struct interp_fields *out)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	for (size_t i = r->first; i < r->gil_at; i++)
		if (status[i])
			return status[i];
	out->next = r->next;
	out->threads_head = r->head;
	out->id = r->id;
	out->gil_holder = 0;
	for (size_t i = r->gil_at; i < r->first + r->count; i++)
		if (status[i])
			return 0; /* the GIL is a nicety: the stacks matter more */
	if (l->gil_kind == LS_GIL_RUNTIME_TSTATE_CURRENT) {
		out->gil_holder = r->a;
	} else if (l->gil_kind == LS_GIL_INTERP_EMBEDDED) {
		out->gil_holder = (uint32_t)r->b ? r->a : 0;
	} else if (r->a && r->a % 8 == 0) {
		if (!gil_ready && ls_proc_read(w->ctx.proc, r->a, r->gil_struct, sizeof(r->gil_struct)) != 0)
			return 0;
		w->spec_gil = r->a;
		out->gil_holder = holder_in_gil_struct(l, r->gil_struct);
	}
	return 0;
}

static int read_interp(struct ls_walker *w, uint64_t interp, struct interp_fields *out)
{
	struct ls_remote_iov iov[8];
	int status[8];
	struct interp_words r;
	size_t n = interp_iovs(w, interp, &r, iov, 0);
	int rc = ls_proc_readv(w->ctx.proc, iov, n, status);
	return rc ? rc : interp_finish(w, &r, status, 0, out);
}

/* <=3.10: find where glibc's struct pthread keeps the kernel tid. The main thread's tid is the
 * pid, so candidates are offsets where the main thread's struct holds the pid; the right one also
 * gives a live tid for every other thread. */
static void discover_pthread_tid_offset(struct ls_walker *w, const uint64_t *pthreads, size_t n)
{
	int32_t tids[1024];
	int ntids = ls_proc_list_threads(w->ctx.proc, tids, 1024);
	w->pthread_tid_offset = -2;
	if (ntids <= 0 || n == 0)
		return;
	uint8_t *bufs = malloc(n * PTHREAD_SCAN_BYTES);
	int *ok = calloc(n, sizeof(int));
	if (!bufs || !ok)
		goto out;
	for (size_t i = 0; i < n; i++)
		ok[i] = pthreads[i] && ls_proc_read(w->ctx.proc, pthreads[i], bufs + i * PTHREAD_SCAN_BYTES, PTHREAD_SCAN_BYTES) == 0;
	for (int32_t off = 0; off + 4 <= PTHREAD_SCAN_BYTES; off += 4) {
		int has_pid = 0, all_live = 1;
		for (size_t i = 0; i < n && all_live; i++) {
			if (!ok[i])
				continue;
			int32_t v;
			memcpy(&v, bufs + i * PTHREAD_SCAN_BYTES + off, 4);
			has_pid |= v == w->ctx.proc->pid;
			int live = 0;
			for (int k = 0; k < ntids; k++)
				live |= tids[k] == v;
			all_live &= live;
		}
		if (has_pid && all_live) {
			w->pthread_tid_offset = off;
			break;
		}
	}
out:
	free(bufs);
	free(ok);
}

static int64_t native_tid(struct ls_walker *w, const uint8_t *ts, uint64_t thread_id)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	if (l->ts_native_tid >= 0) {
		int64_t tid = (int64_t)ls_get_u64(ts, l->ts_native_tid);
		return tid > 0 && tid <= INT32_MAX ? tid : -1;
	}
	if (w->pthread_tid_offset < 0 || !thread_id)
		return -1;
	int32_t tid; /* fixed for the thread's life: read in the sample's batch once predicted */
	if (ls_walker_read(w, thread_id + (uint64_t)w->pthread_tid_offset, &tid, 4, 4))
		return -1;
	return tid > 0 ? tid : -1;
}

/* 3.11 to 3.14 declare datastack_top right after datastack_chunk: the first free slot of the
 * newest chunk, so every frame in that chunk lies below it. 0 when there is no such field. */
static uint64_t datastack_top(const struct ls_layout *l, const uint8_t *ts)
{
	if (l->ts_datastack_chunk < 0 || l->ts_datastack_chunk + 16 > l->ts_size)
		return 0;
	return ls_get_u64(ts, l->ts_datastack_chunk + 8);
}

/* How much of the newest chunk to read: up to its top (rounded up to 8), when the top lies in the
 * chunk's first LS_CHUNK_FIRST_READ bytes; else those bytes. */
static size_t chunk_read_len(uint64_t chunk, uint64_t top)
{
	if (top > chunk + 24 && top - chunk <= LS_CHUNK_FIRST_READ)
		return (size_t)((top - chunk + 7) & ~7ull);
	return LS_CHUNK_FIRST_READ;
}

/* <=3.10: the slot of w->base_map for a thread state (direct-mapped). */
static size_t base_map_slot(uint64_t tstate)
{
	return (size_t)((tstate >> 4) % LS_BASE_MAP);
}

/* Where the thread's stack starts. With a prefetch (the cframe word and the first data-stack chunk
 * read in this sample's batch) nothing more is read here. */
static int stack_start(struct ls_walker *w, uint64_t tstate, const uint8_t *ts, const struct ls_prefetch *pf,
		       struct ls_stack_start *out)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	out->top_frame = ls_get_u64(ts, l->ts_frame);
	out->datastack = l->ts_datastack_chunk >= 0 ? ls_get_u64(ts, l->ts_datastack_chunk) : 0;
	out->datastack_top = datastack_top(l, ts);
	out->first_chunk = pf && pf->chunk_ok ? pf->chunk : NULL;
	out->first_chunk_len = pf && pf->chunk_ok ? pf->chunk_len : 0;
	out->top_frame_at = tstate + (uint64_t)l->ts_frame;
	size_t b = base_map_slot(tstate);
	out->known_base = w->base_map[b].tstate == tstate ? w->base_map[b].base : 0;
	if (l->frame_kind == LS_FRAME_VIA_CFRAME && out->top_frame) {
		uint64_t cframe = out->top_frame;
		out->top_frame = 0;
		if (cframe % 8)
			return LS_ERR_TORN;
		if (pf && pf->cframe_ok) {
			out->top_frame = pf->current_frame;
			return 0;
		}
		return read_u64_at(w, cframe, l->cf_current_frame, &out->top_frame);
	}
	return 0;
}

/* The ranges a thread's stack walk starts from, as the thread state ts names them: 3.11/3.12 the
 * current frame's word in the C-stack cframe (into pf->current_frame), and 3.11+ (with_chunk) the
 * used part of the newest data-stack chunk plus `margin` bytes (at most LS_CHUNK_FIRST_READ, into
 * chunk_buf).
 * Appends them to iov (at most 2) and returns how many; kind[j] is START_CFRAME or START_CHUNK. */
enum { START_CFRAME, START_CHUNK };

static size_t start_iovs(const struct ls_walker *w, const uint8_t *ts, struct ls_prefetch *pf, uint8_t *chunk_buf,
			 size_t margin, int with_chunk, struct ls_remote_iov *iov, int *kind)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	uint64_t frame = ls_get_u64(ts, l->ts_frame);
	uint64_t chunk = l->ts_datastack_chunk >= 0 ? ls_get_u64(ts, l->ts_datastack_chunk) : 0;
	size_t k = 0;
	pf->cframe_ok = pf->chunk_ok = 0;
	pf->chunk = chunk_buf;
	if (l->frame_kind == LS_FRAME_VIA_CFRAME && frame && frame % 8 == 0) {
		iov[k] = (struct ls_remote_iov){frame + (uint64_t)l->cf_current_frame, &pf->current_frame, 8};
		kind[k++] = START_CFRAME;
	}
	if (with_chunk && chunk && chunk % 8 == 0) {
		size_t len = chunk_read_len(chunk, datastack_top(l, ts)) + margin;
		pf->chunk_len = len < LS_CHUNK_FIRST_READ ? len : LS_CHUNK_FIRST_READ;
		iov[k] = (struct ls_remote_iov){chunk, chunk_buf, pf->chunk_len};
		kind[k++] = START_CHUNK;
	}
	return k;
}

/* After one read of a thread state afresh (into fresh, status fresh_status) followed by its start
 * ranges as the older copy ts named them (start_iovs): what of them holds for the fresh state. The
 * cframe word holds if the fresh state names the same cframe; the chunk if it names the same chunk
 * with its top within what was read. ts becomes the fresh state, so that the walk starts from one
 * moment: the state, then what it points to. */
static void settle_fresh(const struct ls_walker *w, uint8_t *ts, const uint8_t *fresh, int fresh_status,
			 struct ls_prefetch *pf, const int *kind, const int *status, size_t m)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	if (fresh_status)
		return; /* the thread ended meanwhile: its walk finds out with the old copy */
	for (size_t j = 0; j < m; j++) {
		if (status[j])
			continue;
		if (kind[j] == START_CFRAME) {
			pf->cframe_ok = ls_get_u64(fresh, l->ts_frame) == ls_get_u64(ts, l->ts_frame);
		} else {
			uint64_t chunk = ls_get_u64(ts, l->ts_datastack_chunk);
			size_t need = chunk_read_len(chunk, datastack_top(l, fresh));
			/* all of what was read is handed on, not only the used part the state names: it was
			 * read after the state and the cframe word, so the frames pushed meanwhile are in it */
			pf->chunk_ok = ls_get_u64(fresh, l->ts_datastack_chunk) == chunk && need <= pf->chunk_len;
		}
	}
	memcpy(ts, fresh, (size_t)l->ts_size);
}

/* How far past a thread's last known top its newest chunk is read when the state is read afresh
 * in the same call: a running thread pushes and pops a frame every ~100 ns, a few dozen frames of
 * ~100 bytes in the microseconds between two reads, and a frame past the copy costs the whole
 * attempt (frames.c frame_bytes). Bytes are cheap beside another attempt: the whole 16 KiB. */
#define START_MARGIN LS_CHUNK_FIRST_READ

/* For threads first .. first+LS_PREFETCH_THREADS of the list, the ranges their stack walks start
 * from (start_iovs); w->prefetch[i - first] holds thread i's. When this sample's first batch holds
 * all of a thread's, they are taken from there (one moment with its thread state). A thread whose
 * stack moves (ls_motion_moving) takes its cframe word from the first batch and the rest from its
 * own batch, read after it (stackbatch.c), all such threads in one call. Otherwise the thread
 * state is read again, followed by its ranges, all threads in one call: a stack that moves is then
 * walked from a thread state and a top of one moment, rather than from a thread state of the batch
 * and a top read microseconds later (whose frames could lie beyond the chunk copy). */
static int prefetch_stacks(struct ls_walker *w, size_t first, size_t n)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	size_t size = (size_t)l->ts_size;
	n = n - first < LS_PREFETCH_THREADS ? n - first : LS_PREFETCH_THREADS;
	w->nown = 0;
	w->own_bytes_used = 0;
	if (l->frame_kind == LS_FRAME_OBJECT || n == 0)
		return 0;
	if (!w->prefetch_bytes) {
		w->prefetch_bytes = malloc((size_t)LS_PREFETCH_THREADS * (LS_CHUNK_FIRST_READ + TSTATE_MAX_SIZE));
		if (!w->prefetch_bytes)
			return LS_ERR_NOMEM;
	}
	uint8_t *fresh_states = w->prefetch_bytes + (size_t)LS_PREFETCH_THREADS * LS_CHUNK_FIRST_READ;
	struct ls_remote_iov iov[3 * LS_PREFETCH_THREADS];
	int status[3 * LS_PREFETCH_THREADS], kind[3 * LS_PREFETCH_THREADS];
	size_t at[LS_PREFETCH_THREADS], count[LS_PREFETCH_THREADS]; /* thread i's ranges in iov */
	int fresh[LS_PREFETCH_THREADS];                               /* thread i's start is read again */
	uint64_t own_tstate[LS_PREFETCH_THREADS];
	uint8_t *own_ts[LS_PREFETCH_THREADS];
	struct ls_prefetch *own_pf[LS_PREFETCH_THREADS];
	size_t nown = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t tstate = w->tstate_addrs[first + i];
		uint8_t *ts = w->tstate_bytes + (first + i) * size;
		struct ls_prefetch *pf = &w->prefetch[i];
		uint8_t *chunk_buf = w->prefetch_bytes + i * LS_CHUNK_FIRST_READ;
		struct ls_remote_iov start[2];
		int start_kind[2];
		size_t m = start_iovs(w, ts, pf, chunk_buf, 0, 1, start, start_kind);
		const uint8_t *have[2] = {NULL, NULL};
		size_t held[2] = {0, 0};
		pf->from_batch = 1;
		pf->own = 0;
		fresh[i] = 0;
		for (size_t j = 0; j < m; j++)
			pf->from_batch &= (have[j] = ls_batch_find(w, start[j].addr, start[j].len, &held[j])) != NULL;
		int cframe_ready = 1; /* its cframe word (if it has one) is in the first batch */
		w->want_owner = tstate;
		for (size_t j = 0; j < m; j++) {
			/* next time read a little more of a chunk, in case the stack grew by a frame or two
			 * (each byte costs too: a chunk is copied at ~3 GB/s, from another CPU's cache) */
			size_t more = (start[j].len + 511 + 256) & ~(size_t)255;
			w->want_kind = start_kind[j] == START_CFRAME ? LS_WANT_CFRAME : LS_WANT_NEWEST;
			ls_batch_want(w, start[j].addr, start_kind[j] == START_CFRAME ? start[j].len
						    : more < LS_CHUNK_FIRST_READ ? more : LS_CHUNK_FIRST_READ);
			if (start_kind[j] == START_CFRAME && have[j]) {
				memcpy(&pf->current_frame, have[j], 8);
				pf->cframe_ok = 1;
			}
			cframe_ready &= start_kind[j] != START_CFRAME || have[j] != NULL;
			if (pf->from_batch && start_kind[j] == START_CHUNK) {
				pf->chunk = have[j]; /* the batch outlives the sample's walks: no copy */
				pf->chunk_ok = 1;
				/* and all the batch holds of it: frames pushed after the state was read
				 * are in it when they fit (frames.c takes none past it) */
				pf->chunk_len = held[j] < LS_CHUNK_FIRST_READ ? held[j] : LS_CHUNK_FIRST_READ;
			}
		}
		w->want_owner = 0;
		w->want_kind = LS_WANT_OTHER;
		if (pf->from_batch || m == 0)
			continue;
		pf->from_batch = 0;
		if (cframe_ready && ls_motion_moving(w, tstate)) {
			own_tstate[nown] = tstate;
			own_ts[nown] = ts;
			own_pf[nown++] = pf;
		} else {
			fresh[i] = 1;
		}
	}
	int rc = nown ? ls_stack_batch_read(w, own_tstate, own_ts, own_pf, nown) : 0;
	if (rc)
		return rc;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct ls_prefetch *pf = &w->prefetch[i];
		count[i] = 0;
		if (!fresh[i] && (pf->from_batch || pf->own))
			continue; /* served by a batch, or nothing to start from (the walk finds out) */
		uint8_t *ts = w->tstate_bytes + (first + i) * size;
		at[i] = k;
		iov[k] = (struct ls_remote_iov){w->tstate_addrs[first + i], fresh_states + i * size, size};
		kind[k++] = -1;
		count[i] = 1 + start_iovs(w, ts, pf, w->prefetch_bytes + i * LS_CHUNK_FIRST_READ, START_MARGIN, 1, iov + k,
					  kind + k);
		k += count[i] - 1;
	}
	rc = k ? ls_proc_readv(w->ctx.proc, iov, k, status) : 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (count[i])
			settle_fresh(w, w->tstate_bytes + (first + i) * size, fresh_states + i * size, status[at[i]],
				     &w->prefetch[i], kind + at[i] + 1, status + at[i] + 1, count[i] - 1);
	return 0;
}

/* Before a 3.11+ thread's next attempt: its thread state afresh (into ts) and, in the same call,
 * the ranges its stack starts from as the last attempt's copy named them (with a margin), into
 * *pf (chunk bytes in w->retry_chunk). A thread whose stack moves (own) reads only its cframe word
 * with the state, and the rest in its own batch, one more call (stackbatch.c). */
static int reread_start(struct ls_walker *w, uint64_t tstate, uint8_t *ts, struct ls_prefetch *pf, int own)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	if (!w->retry_chunk && !(w->retry_chunk = malloc(LS_CHUNK_FIRST_READ + TSTATE_MAX_SIZE)))
		return LS_ERR_NOMEM;
	uint8_t *fresh = w->retry_chunk + LS_CHUNK_FIRST_READ;
	struct ls_remote_iov iov[3];
	int status[3], kind[3];
	iov[0] = (struct ls_remote_iov){tstate, fresh, (size_t)l->ts_size};
	size_t m = start_iovs(w, ts, pf, w->retry_chunk, START_MARGIN, !own, iov + 1, kind + 1);
	pf->from_batch = 0;
	pf->own = 0;
	int rc = ls_proc_readv(w->ctx.proc, iov, 1 + m, status);
	if (rc)
		return rc;
	if (status[0])
		return status[0];
	settle_fresh(w, ts, fresh, 0, pf, kind + 1, status + 1, m);
	if (own && (pf->cframe_ok || l->frame_kind != LS_FRAME_VIA_CFRAME)) {
		uint8_t *own_ts = ts;
		return ls_stack_batch_read(w, &tstate, &own_ts, &pf, 1);
	}
	return 0;
}

static int push_thread(struct ls_sample *s, struct ls_thread **out)
{
	if (ls_array_reserve((void **)&s->threads, &s->cap_threads, (size_t)s->nthreads + 1, sizeof(*s->threads)))
		return LS_ERR_NOMEM;
	*out = &s->threads[s->nthreads++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

/* Serve the walk's next attempt from pf's batch: the thread's own batch when it has one, else the
 * first batch (pf NULL: <=3.10, the first batch while its thread states are of it). */
static void serve_from(struct ls_walker *w, const struct ls_prefetch *pf, int attempt)
{
	w->own_serve = pf && pf->own && pf->from_batch;
	if (w->own_serve) {
		w->spec_serve = 1;
		w->own_lo = pf->own_lo;
		w->own_hi = pf->own_hi;
		w->own_cursor = pf->own_lo;
		w->own_shared_lo = w->own_shared_cursor = pf->shared_lo;
		w->own_shared_hi = pf->shared_hi;
	} else {
		w->spec_serve = attempt > 0 ? 0 : pf ? pf->from_batch : w->nspec_ranges > 0;
	}
}

/* The attempts of walk_thread. */
static int walk_attempts(struct ls_walker *w, uint64_t tstate, uint8_t *ts, const struct ls_prefetch *pf,
			 struct ls_sample *sample, struct ls_thread *th)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	const int retries = l->frame_kind == LS_FRAME_OBJECT ? LS_WALK_RETRIES_HEAP : LS_WALK_RETRIES;
	struct ls_prefetch retry = {0};
	th->first_frame = sample->nframes;
	th->nframes = 0;
	for (int attempt = 0;; attempt++) {
		int last = attempt == retries;
		int rc = 0;
		/* the first batch serves a thread's first attempt only while everything it read came from
		 * there: bytes that something older points to must not be older (a retry reads the
		 * thread state again; a read the batch missed makes the rest fresh too); a thread's own
		 * batch serves any attempt it was read for, after that attempt's thread state */
		if (attempt == 0) {
			/* <=3.10 has no prefetch: its thread state is of the batch when the batch was read */
			serve_from(w, pf, 0);
			ls_frame_pages_clear(w); /* pages an earlier walk read are not of this moment */
		} else {
			w->spec_serve = 0;
			w->own_serve = 0;
			sample->retried_threads += attempt == 1;
			sample->nframes = th->first_frame; /* drop the previous attempt's frames */
			th->nframes = 0;
			th->flags &= ~(uint32_t)(LS_THREAD_TRUNCATED | LS_THREAD_TOP_MISSING);
			if (l->frame_kind == LS_FRAME_OBJECT) {
				rc = ls_frames_reread_start(w, tstate, ts, (size_t)l->ts_size);
			} else {
				rc = reread_start(w, tstate, ts, &retry, ls_motion_moving(w, tstate) || (pf && pf->own));
				if (!rc)
					serve_from(w, &retry, attempt);
			}
		}
		struct ls_stack_start start = {0};
		const struct ls_prefetch *use = attempt == 0 ? pf : l->frame_kind == LS_FRAME_OBJECT ? NULL : &retry;
		if (!rc && use && use->own && !use->chunk_ok)
			rc = LS_ERR_READ; /* its own batch found the newest chunk gone: the stack moved below it */
		if (!rc)
			rc = stack_start(w, tstate, ts, use, &start);
		if (!rc)
			rc = ls_frames_walk(w, &start, last, sample, &th->nframes, &th->flags, &th->base_frame);
		if (rc == 0) {
			if (l->frame_kind == LS_FRAME_OBJECT && th->base_frame) {
				size_t b = base_map_slot(tstate);
				w->base_map[b].tstate = tstate;
				w->base_map[b].base = th->base_frame;
			}
			return 0;
		}
		if (!ls_error_is_recoverable(rc))
			return rc;
		if (last) {
			th->nframes = sample->nframes - th->first_frame; /* what the last attempt kept */
			th->flags |= LS_THREAD_TORN;
			if (!(th->flags & LS_THREAD_TOP_MISSING))
				th->flags |= LS_THREAD_TRUNCATED;
			sample->torn_threads++;
			return 0;
		}
	}
}

/* Walk the stack of the thread state `ts` (already read), re-reading it and retrying while the
 * stack changes under us; the last attempt keeps what it could read and flags the thread. The
 * ranges the walk reads are remembered as this thread's (w->want_owner), and on 3.11+ whether its
 * stack moves (stackbatch.c). */
static int walk_thread(struct ls_walker *w, uint64_t tstate, uint8_t *ts, const struct ls_prefetch *pf,
		       struct ls_sample *sample, struct ls_thread *th)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	uint64_t chunk = l->ts_datastack_chunk >= 0 ? ls_get_u64(ts, l->ts_datastack_chunk) : 0;
	w->want_owner = tstate;
	w->want_kind = LS_WANT_OTHER;
	int rc = walk_attempts(w, tstate, ts, pf, sample, th);
	w->want_owner = 0;
	w->spec_serve = 0;
	w->served_at_start = 0;
	w->own_serve = 0;
	if (l->frame_kind != LS_FRAME_OBJECT && l->ts_datastack_chunk >= 0 && !w->ctx.proc->frozen)
		ls_motion_note(w, tstate, chunk);
	return rc;
}

static void os_facts(struct ls_walker *w, struct ls_thread *th)
{
	struct ls_os_thread os;
	if (th->native_id <= 0 || ls_proc_thread_info(w->ctx.proc, (int32_t)th->native_id, &os) != 0)
		return;
	th->flags |= LS_THREAD_HAS_OS_INFO;
	if (os.state == 'R')
		th->flags |= LS_THREAD_ON_CPU;
	if (os.has_cpu_time) {
		th->flags |= LS_THREAD_HAS_CPU_TIME;
		th->cpu_ns = os.cpu_ns;
	}
	memcpy(th->name, os.name, sizeof(th->name));
}

/* Read the thread states of one interpreter whole, in list order (bounded), into
 * w->tstate_bytes (ts_size each) and w->tstate_addrs. */
static int read_tstates(struct ls_walker *w, uint64_t head, size_t *n)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	size_t size = (size_t)l->ts_size;
	uint64_t ts = head;
	*n = 0;
	while (ts && *n < LS_MAX_THREADS) {
		if (ts % 8)
			return LS_ERR_TORN;
		for (size_t k = 0; k < *n; k++)
			if (w->tstate_addrs[k] == ts)
				return 0; /* a cycle: the list changed while we followed it */
		if (*n == w->tstate_cap) {
			size_t cap = w->tstate_cap ? w->tstate_cap * 2 : 16;
			if (ls_array_resize((void **)&w->tstate_addrs, cap, sizeof(*w->tstate_addrs)) ||
			    ls_array_resize((void **)&w->tstate_bytes, cap, size))
				return LS_ERR_NOMEM;
			w->tstate_cap = cap;
		}
		uint8_t *dst = w->tstate_bytes + *n * size;
		int rc = ls_proc_read(w->ctx.proc, ts, dst, size);
		if (rc)
			return ls_error_is_recoverable(rc) ? 0 : rc; /* a thread ended: keep those before it */
		w->tstate_addrs[(*n)++] = ts;
		ts = ls_get_u64(dst, l->ts_next);
	}
	return 0;
}

/* Walk the n thread states in w->tstate_bytes (all of one interpreter) into the sample. */
static int walk_tstates(struct ls_walker *w, const struct interp_fields *in, size_t n, struct ls_sample *sample)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	size_t size = (size_t)l->ts_size;
	if (l->ts_native_tid < 0 && w->pthread_tid_offset == -1) {
		uint64_t *pthreads = calloc(n ? n : 1, sizeof(*pthreads));
		if (!pthreads)
			return LS_ERR_NOMEM;
		for (size_t i = 0; i < n; i++)
			pthreads[i] = ls_get_u64(w->tstate_bytes + i * size, l->ts_thread_id);
		discover_pthread_tid_offset(w, pthreads, n);
		free(pthreads);
	}
	int rc;
	for (size_t i = 0; i < n; i++) {
		w->spec_serve = 1; /* for prefetch_stacks; walk_thread decides per thread */
		if (i % LS_PREFETCH_THREADS == 0 && (rc = prefetch_stacks(w, i, n)) != 0)
			return rc;
		uint8_t *ts = w->tstate_bytes + i * size;
		struct ls_thread *th;
		rc = push_thread(sample, &th);
		if (rc)
			return rc;
		th->thread_id = ls_get_u64(ts, l->ts_thread_id);
		th->interp_id = (int64_t)in->id;
		th->native_id = native_tid(w, ts, th->thread_id);
		if (in->gil_holder && in->gil_holder == w->tstate_addrs[i])
			th->flags |= LS_THREAD_HOLDS_GIL;
		const struct ls_prefetch *pf = l->frame_kind != LS_FRAME_OBJECT ? &w->prefetch[i % LS_PREFETCH_THREADS] : NULL;
		rc = walk_thread(w, w->tstate_addrs[i], ts, pf, sample, th);
		if (rc)
			return rc;
		if (w->os_info)
			os_facts(w, th);
	}
	return 0;
}

/* Where the target counts the code objects it made (3.12: a global; 3.13.0: in the
 * interpreter), or 0. Only for one interpreter: 3.13's count is per interpreter. */
uint64_t ls_code_epoch_addr(const struct ls_walker *w)
{
	const struct ls_target *t = w->ctx.target;
	if (t->facts.code_epoch_addr && t->layout.minor == 12)
		return t->facts.code_epoch_addr;
	if (t->layout.is_code_epoch > 0 && w->spec_interp)
		return w->spec_interp + (uint64_t)t->layout.is_code_epoch;
	return 0;
}

/* Whether the fast path can tell the thread list unchanged without the interpreter's fields: every
 * thread state's `prev` (the word before `next` in every CPython) still names the one before it
 * and the first one's is still NULL, so no thread was put before it (CPython puts a new one at the
 * head) and none left (its neighbours' links change); the first one's `interp` is still ours; and
 * the GIL holder is read elsewhere (3.8-3.11 in the runtime, 3.12 in the GIL struct the interpreter points
 * to, which does not move). The interpreter's id is the one the slow path read. */
static int lean_thread_list(const struct ls_walker *w)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	return l->frame_kind != LS_FRAME_OBJECT && l->ts_next == 8 && l->ts_interp > 0 && l->ts_interp + 8 <= l->ts_size &&
	       (l->gil_kind == LS_GIL_RUNTIME_TSTATE_CURRENT || (l->gil_kind == LS_GIL_INTERP_POINTER && w->spec_gil));
}

/* The fast path: read the runtime's interpreter head, the interpreter's fields (and its 3.12 GIL
 * struct) and every thread state the previous sample found, all in one batched read, then check
 * that every link still points where it did. Returns 1 and fills *in and w->tstate_* when it
 * holds, 0 when the caller must walk the slow way. A lean thread list (lean_thread_list) reads
 * the GIL holder instead of the interpreter's fields: a range fewer, in a target whose memory map
 * is busy a take of its lock fewer. So is the head, read only every LS_HEAD_EVERY_NS: it changes
 * when an interpreter is made or ends (the thread states' links and `interp` tell when ours ends),
 * so a new subinterpreter's threads show up within 10 ms; at 100 Hz every sample reads it. */
static int read_speculatively(struct ls_walker *w, size_t npred, struct interp_fields *in, size_t *n)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	size_t size = (size_t)l->ts_size, count = w->spec_count;
	if (!w->spec_interp || count == 0 || count > LS_SPEC_THREADS)
		return 0;
	int lean = lean_thread_list(w);
	if (!w->spec_bytes && npred && !(w->spec_bytes = malloc(LS_SPEC_BYTES)))
		return 0;
	struct ls_remote_iov iov[1 + 8 + 1 + LS_SPEC_THREADS + LS_SPEC_RANGES + 1];
	int status[1 + 8 + 1 + LS_SPEC_THREADS + LS_SPEC_RANGES + 1];
	uint64_t head = 0, now = ls_clock_ns(CLOCK_MONOTONIC);
	struct interp_words r;
	size_t k = 0, current_at = SIZE_MAX;
	int with_head = now - w->head_read_ns >= LS_HEAD_EVERY_NS;
	if (with_head)
		iov[k++] = (struct ls_remote_iov){w->ctx.target->facts.runtime_addr + (uint64_t)l->rt_interp_head, &head, 8};
	memset(&r, 0, sizeof(r));
	if (!lean)
		k = interp_iovs(w, w->spec_interp, &r, iov, k);
	else if (l->gil_kind == LS_GIL_RUNTIME_TSTATE_CURRENT) {
		current_at = k;
		iov[k++] = (struct ls_remote_iov){w->ctx.target->facts.runtime_addr + (uint64_t)l->rt_tstate_current, &r.a, 8};
	}
	size_t gil_at = k;
	if (l->gil_kind == LS_GIL_INTERP_POINTER && w->spec_gil)
		iov[k++] = (struct ls_remote_iov){w->spec_gil, r.gil_struct, sizeof(r.gil_struct)};
	size_t ts_at = k;
	for (size_t i = 0; i < count; i++)
		iov[k++] = (struct ls_remote_iov){w->tstate_addrs[i], w->tstate_bytes + i * size, size};
	/* a thread whose stack moves reads only its cframe word here, the rest in its own batch; when
	 * every thread moves, what several of them read goes in the first prefetch group's own batch */
	size_t moving = 0;
	for (size_t i = 0; i < count; i++)
		moving += ls_motion_moving(w, w->tstate_addrs[i]);
	w->own_share = moving == count && count <= LS_PREFETCH_THREADS;
	size_t pred_at = k, local = 0, pred_of[LS_SPEC_RANGES], walked = 0;
	for (size_t i = 0; i < npred; i++) {
		struct ls_spec_range *r = &w->spec_ranges[i];
		r->local = local;
		r->ok = 0;
		if (r->kind == LS_WANT_CODE && w->code_lean) {
			ls_batch_keep(r); /* for the next sample that proves code identity */
			continue;
		}
		if (r->kind != LS_WANT_CFRAME && (r->owner ? ls_motion_moving(w, r->owner) : w->own_share))
			continue;
		local += r->len; /* within LS_SPEC_BYTES: ls_batch_want keeps the total there */
		walked += r->kind != LS_WANT_CFRAME;
		pred_of[k - pred_at] = i;
		iov[k++] = (struct ls_remote_iov){r->addr, w->spec_bytes + r->local, r->len};
	}
	size_t pred_end = k;
	/* the code epoch, read after every frame of the batch (see frames.c read_code_headers); not
	 * when the batch holds no frames (every thread reads its own batch, which reads the epoch) */
	uint32_t epoch = 0;
	uint64_t epoch_at = walked ? ls_code_epoch_addr(w) : 0;
	size_t tail = 0;
	if (epoch_at)
		iov[k++] = (struct ls_remote_iov){epoch_at, &epoch, sizeof(epoch)}, tail = 1;
	if (ls_walker_readv_spans(w, iov, k, 0, tail, 0, status) != 0 || (with_head && (status[0] || head != w->spec_interp)))
		return 0;
	if (with_head)
		w->head_read_ns = now;
	for (size_t i = ts_at; i < pred_at; i++)
		if (status[i])
			return 0;
	for (size_t j = pred_at; j < pred_end; j++)
		w->spec_ranges[pred_of[j - pred_at]].ok = status[j] == 0;
	if (lean) {
		/* every prev link as the list has it: a thread put at the head sets the old head's, one
		 * that ended unlinked itself from its neighbours' (the head's: the next one's prev is NULL) */
		for (size_t i = 0; i < count; i++) {
			const uint8_t *ts = w->tstate_bytes + i * size;
			if (ls_get_u64(ts, l->ts_next - 8) != (i ? w->tstate_addrs[i - 1] : 0))
				return 0;
		}
		if (ls_get_u64(w->tstate_bytes, l->ts_interp) != w->spec_interp)
			return 0; /* the head is no longer ours */
		in->next = 0;
		in->threads_head = w->tstate_addrs[0];
		in->id = w->spec_interp_id;
		in->gil_holder = 0;
		if (current_at < ts_at && status[current_at] == 0)
			in->gil_holder = r.a;
		else if (l->gil_kind == LS_GIL_INTERP_POINTER && gil_at < ts_at && status[gil_at] == 0)
			in->gil_holder = holder_in_gil_struct(l, r.gil_struct);
	} else {
		int gil_ready = gil_at < ts_at && status[gil_at] == 0 && r.a == w->spec_gil;
		if (interp_finish(w, &r, status, gil_ready, in) != 0 || in->next != 0 || in->threads_head != w->tstate_addrs[0])
			return 0;
	}
	for (size_t i = 0; i < count; i++) {
		uint64_t next = ls_get_u64(w->tstate_bytes + i * size, l->ts_next);
		if (next != (i + 1 < count ? w->tstate_addrs[i + 1] : 0))
			return 0; /* a thread started or ended */
	}
	w->nspec_ranges = npred;
	*n = count;
	if (tail && status[k - 1] == 0)
		w->code_epoch = epoch;
	return 1;
}

int ls_threads_walk(struct ls_walker *w, struct ls_sample *sample)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	w->nmemo = 0; /* code headers are shared within one sample only (frames.c) */
	sample->nthreads = 0;
	sample->nframes = 0;
	sample->torn_threads = 0;
	sample->retried_threads = 0;
	if (l->ts_size <= 0 || l->ts_size > TSTATE_MAX_SIZE)
		return LS_ERR_UNSUPPORTED_VERSION;
	size_t npred = ls_batch_next(w);
	w->own_share = 0;
	ls_code_check_plan(w, ls_clock_ns(CLOCK_MONOTONIC));
	w->code_epoch_prev = w->code_epoch;
	w->code_epoch = 0;
	struct interp_fields in;
	size_t n;
	if (read_speculatively(w, npred, &in, &n)) {
		w->spec_hits++;
		return walk_tstates(w, &in, n, sample);
	}
	uint64_t interp = 0;
	int rc = read_u64_at(w, w->ctx.target->facts.runtime_addr, l->rt_interp_head, &interp);
	if (rc)
		return rc;
	if (!interp)
		return LS_ERR_NOT_STARTED;
	uint64_t first = interp;
	w->spec_interp = 0;
	w->head_read_ns = ls_clock_ns(CLOCK_MONOTONIC);
	for (int k = 0; interp && k < LS_MAX_INTERPRETERS; k++) {
		if (interp % 8)
			return LS_ERR_TORN;
		rc = read_interp(w, interp, &in);
		if (!rc)
			rc = read_tstates(w, in.threads_head, &n);
		if (!rc)
			rc = walk_tstates(w, &in, n, sample);
		if (rc)
			return rc;
		if (k == 0 && in.next == 0 && n > 0 && n <= LS_SPEC_THREADS) {
			w->spec_interp = first; /* one interpreter: next time, read it all in one go */
			w->spec_interp_id = in.id;
			w->spec_count = n;
		}
		interp = in.next;
	}
	return sample->nthreads ? 0 : LS_ERR_NOT_STARTED;
}
