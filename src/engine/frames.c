/* frames.c - walk one thread's Python frames, bounded and validated (see walker.h).
 *
 * Three steps per thread:
 *  1. 3.11+: copy the thread's data-stack chunks (one read per chunk), so that the frames that
 *     live there are parsed from our copy; a frame in a chunk the thread pushed after its state
 *     was read is copied with that chunk (copy_chunk_holding); generator frames and 3.12+ C-stack
 *     entry frames are read one by one.
 *  2. Follow the frame chain from the innermost frame: <=3.10 PyFrameObject.f_back, 3.11+
 *     _PyInterpreterFrame.previous; skip shim/C-entry frames by their owner; refuse cycles,
 *     unknown owners and frames of the wrong type; stop at LS_MAX_DEPTH.
 *  3. Read the headers of every distinct code object in one batched read (those another thread of
 *     the same sample read moments ago are taken from its read, and those only frames of the
 *     sample's batch name from the batch, even after a fresh read), resolve them through
 *     the validated code cache, check each instruction position against its code object, and
 *     compute the line.
 * Its reads of chunks, frames and code headers go through ls_walker_read/readv (threads.c), which
 * serve them from the sample's first batch when it holds them. It does not read thread states or
 * OS facts (threads.c).
 */
#define _GNU_SOURCE /* clock_gettime */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "clock.h"
#include "fields.h"
#include "ls_error.h"
#include "pyobj.h"
#include "walker.h"

#define CHUNK_FIRST_READ LS_CHUNK_FIRST_READ
/* CO_GENERATOR | CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR, the same from 3.8 on */
#define CO_ANY_GENERATOR 0x3A0
#define CHUNK_MAX_COUNT 4096
#define FRAME_MAX_SIZE 512

#define reserve ls_array_reserve

/* ls_walker_read of len bytes at addr; *from_batch: whether the batch served them, so that they
 * are of its moment (a read it missed ends serving, and is fresh). */
static int read_noting_batch(struct ls_walker *w, uint64_t addr, void *dst, size_t len, int *from_batch)
{
	int serving = w->spec_serve;
	int rc = ls_walker_read(w, addr, dst, len, len);
	*from_batch = serving && w->spec_serve;
	return rc;
}

/* --- step 1: data-stack chunks --------------------------------------------------------------- */

/* Copy the thread's data-stack chunks, newest first. Of the newest only the used part is read (up
 * to datastack_top: every frame lies below it), from the sample's batch when it was prefetched; of
 * the older ones, which are full, everything (their headers give their size). Each chunk's previous
 * chunk and size go to the chunk map (stackbatch.c), its reads are remembered as chunks. */
static int copy_chunks_of(struct ls_walker *w, const struct ls_stack_start *start);

static int copy_chunks(struct ls_walker *w, const struct ls_stack_start *start)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	int rc = copy_chunks_of(w, start);
	w->want_kind = LS_WANT_OTHER;
	for (size_t i = 0; i < w->nchunks; i++) {
		const struct ls_chunk_copy *c = &w->chunks[i];
		const uint8_t *have = c->held ? c->held : w->chunk_bytes + c->local;
		ls_chunk_map_note(w, c->remote, ls_get_u64(have, l->chunk_previous), ls_get_u64(have, l->chunk_size));
	}
	return rc;
}

static int copy_chunks_of(struct ls_walker *w, const struct ls_stack_start *start)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	uint64_t chunk = start->datastack;
	size_t used = 0;
	w->nchunks = 0;
	for (int n = 0; chunk && n < CHUNK_MAX_COUNT; n++) {
		if (chunk % 8)
			return LS_ERR_TORN;
		if (reserve((void **)&w->chunk_bytes, &w->chunk_cap, used + CHUNK_FIRST_READ, 1))
			return LS_ERR_NOMEM;
		uint8_t *dst = w->chunk_bytes + used;
		uint64_t size; /* bytes of this chunk we hold */
		int rc = 0, served = 0;
		w->want_kind = n == 0 ? LS_WANT_NEWEST : LS_WANT_CHUNK;
		if (n == 0 && start->first_chunk) {
			/* already read: walked where it lies, not copied (a 50-deep stack is ~7 KB) */
			size = start->first_chunk_len;
			if (size < (uint64_t)l->chunk_data)
				return LS_ERR_TORN;
			if (reserve((void **)&w->chunks, &w->chunks_cap, 1, sizeof(*w->chunks)))
				return LS_ERR_NOMEM;
			w->chunks[w->nchunks++] = (struct ls_chunk_copy){chunk, size, 0, start->first_chunk, size};
			chunk = ls_get_u64(start->first_chunk, l->chunk_previous);
			continue;
		} else if (n == 0 && start->datastack_top > chunk + 24 && start->datastack_top - chunk <= CHUNK_FIRST_READ) {
			size = (start->datastack_top - chunk + 7) & ~7ull;
			rc = read_noting_batch(w, chunk, dst, (size_t)size, &served);
		} else {
			rc = read_noting_batch(w, chunk, dst, CHUNK_FIRST_READ, &served);
			size = CHUNK_FIRST_READ;
			if (rc == 0) {
				uint64_t declared = ls_get_u64(dst, l->chunk_size);
				if (declared < (uint64_t)l->chunk_data || declared > LS_CHUNK_BYTES_MAX)
					return LS_ERR_TORN;
				if (declared > CHUNK_FIRST_READ) {
					if (used + declared > LS_CHUNK_BYTES_MAX)
						return LS_ERR_TORN;
					if (reserve((void **)&w->chunk_bytes, &w->chunk_cap, used + (size_t)declared, 1))
						return LS_ERR_NOMEM;
					dst = w->chunk_bytes + used;
					rc = ls_walker_read_fresh(w, chunk + CHUNK_FIRST_READ, dst + CHUNK_FIRST_READ,
								  (size_t)(declared - CHUNK_FIRST_READ));
				}
				size = declared > CHUNK_FIRST_READ ? declared : size;
			}
		}
		if (rc)
			return rc;
		if (size < (uint64_t)l->chunk_data)
			return LS_ERR_TORN;
		if (reserve((void **)&w->chunks, &w->chunks_cap, w->nchunks + 1, sizeof(*w->chunks)))
			return LS_ERR_NOMEM;
		/* what the batch served is of its moment; the rest of a chunk larger than that is not */
		uint64_t fresh_from = !served ? 0 : size < CHUNK_FIRST_READ ? size : CHUNK_FIRST_READ;
		w->chunks[w->nchunks++] = (struct ls_chunk_copy){chunk, size, used, NULL, fresh_from};
		used += (size_t)size;
		chunk = ls_get_u64(w->chunk_bytes + w->chunks[w->nchunks - 1].local, l->chunk_previous);
	}
	return 0;
}

/* 3.11+: a frame in the newest chunk past the part we copied (the stack grew after the copy):
 * the rest of the chunk up to that frame and CHUNK_EXTEND_MARGIN beyond is read in one call and
 * joined to the copy (at most CHUNK_EXTENSIONS times an attempt, then the attempt is torn).
 * Frame by frame, a stack that moves would cost a read per frame, and the target a lock of its
 * memory map per read: what slows a target that maps and unmaps chunks all the time. The bytes
 * are newer than the frame that pointed there, as everywhere, and the batch serves no more of the
 * attempt (what they point to must not come from the older batch). LS_ERR_READ when addr is not
 * such a frame (the caller reads it alone). */
#define CHUNK_EXTEND_MARGIN 4096u
#define CHUNK_EXTENSIONS 2
static int extend_newest_chunk(struct ls_walker *w, uint64_t addr, size_t size)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	struct ls_chunk_copy *c = &w->chunks[0];
	const uint8_t *have = c->held ? c->held : w->chunk_bytes + c->local;
	uint64_t declared = ls_get_u64(have, l->chunk_size);
	if (addr < c->remote + (uint64_t)l->chunk_data || declared > LS_CHUNK_BYTES_MAX || addr - c->remote >= declared ||
	    addr - c->remote < c->size)
		return LS_ERR_READ;
	if (addr - c->remote + size > declared || w->chunk_extensions++ >= CHUNK_EXTENSIONS)
		return LS_ERR_TORN;
	uint64_t want = addr - c->remote + size + CHUNK_EXTEND_MARGIN;
	want = want < declared ? (want + 7) & ~7ull : declared;
	int in_place = have == w->newest_chunk; /* a second extension: reserve() may move it */
	if (reserve((void **)&w->newest_chunk, &w->newest_chunk_cap, (size_t)want, 1))
		return LS_ERR_NOMEM;
	if (!in_place)
		memcpy(w->newest_chunk, have, (size_t)c->size);
	int rc = ls_walker_read_fresh(w, c->remote + c->size, w->newest_chunk + c->size, (size_t)(want - c->size));
	if (rc)
		return ls_error_is_recoverable(rc) ? LS_ERR_TORN : rc;
	c->held = w->newest_chunk;
	if (c->fresh_from > c->size)
		c->fresh_from = c->size;
	c->size = want;
	return 0;
}

/* 3.11+: a frame in no chunk we copied and not in the batch, in a chunk the chunk map knows: one
 * the thread pushed between the reads of its state and of its current frame, or one its chain did
 * not lead to. That chunk is copied in one read from its start up to the end of the frame, and
 * joins the chunk copies, which serve the frames below it in the chunk. Read frame by frame, each
 * would be a call, and a take of the target's memory-map lock. Like extend_newest_chunk, a fresh
 * read: the batch serves no more of the attempt. LS_ERR_READ when the map knows no such chunk
 * (generator frames, 3.12+ entry frames on the C stack) or the chunk is gone: the caller reads the
 * frame alone. */
#define CHUNK_FILLS 4
static int copy_chunk_holding(struct ls_walker *w, uint64_t addr, size_t size)
{
	if (w->ctx.target->layout.frame_kind == LS_FRAME_OBJECT || w->chunk_fills >= CHUNK_FILLS ||
	    ls_batch_find(w, addr, size, NULL))
		return LS_ERR_READ;
	uint64_t start = ls_chunk_map_holding(w, addr, size);
	if (!start)
		return LS_ERR_READ;
	for (size_t i = 0; i < w->nchunks; i++)
		if (w->chunks[i].remote == start)
			return LS_ERR_READ; /* a frame across the end of a copy: the copy would serve no more */
	w->chunk_fills++;
	size_t used = 0;
	for (size_t i = 0; i < w->nchunks; i++)
		if (!w->chunks[i].held && w->chunks[i].local + w->chunks[i].size > used)
			used = w->chunks[i].local + (size_t)w->chunks[i].size;
	uint64_t len = addr + size - start;
	if (reserve((void **)&w->chunk_bytes, &w->chunk_cap, used + (size_t)len, 1) ||
	    reserve((void **)&w->chunks, &w->chunks_cap, w->nchunks + 1, sizeof(*w->chunks)))
		return LS_ERR_NOMEM;
	int rc = ls_walker_read_fresh(w, start, w->chunk_bytes + used, (size_t)len);
	if (rc)
		return ls_error_is_recoverable(rc) ? LS_ERR_READ : rc;
	w->chunks[w->nchunks++] = (struct ls_chunk_copy){start, len, used, NULL, 0};
	return 0;
}

/* The bytes of the frame at addr: from a chunk copy or the page cache, else read into buf.
 * *fresh: whether they were read after the batch stopped serving the walk (<= 3.10: always). */
static int frame_bytes(struct ls_walker *w, uint64_t addr, size_t size, uint8_t *buf, const uint8_t **out, int *fresh)
{
	*fresh = 1;
	if (w->ctx.target->layout.frame_kind == LS_FRAME_OBJECT) {
		int rc = ls_frame_pages_bytes(w, addr, size, out);
		if (rc != LS_ERR_READ)
			return rc; /* LS_ERR_READ: it crosses a page, or its page could not be read: read it alone */
	}
	const struct ls_layout *l = &w->ctx.target->layout;
	for (size_t i = 0; i < w->nchunks; i++) {
		const struct ls_chunk_copy *c = &w->chunks[i];
		uint64_t data_start = c->remote + (uint64_t)l->chunk_data;
		if (addr >= data_start && addr - c->remote <= c->size && size <= c->size - (addr - c->remote)) {
			*out = (c->held ? c->held : w->chunk_bytes + c->local) + (addr - c->remote);
			*fresh = addr - c->remote + size > c->fresh_from;
			return 0;
		}
	}
	if (w->nchunks > 0) {
		int rc = extend_newest_chunk(w, addr, size);
		if (rc == LS_ERR_READ)
			rc = copy_chunk_holding(w, addr, size);
		if (rc != LS_ERR_READ)
			return rc ? rc : frame_bytes(w, addr, size, buf, out, fresh);
	}
	int from_batch;
	int rc = read_noting_batch(w, addr, buf, size, &from_batch);
	*fresh = !from_batch || w->ctx.target->layout.frame_kind == LS_FRAME_OBJECT;
	*out = buf;
	return rc;
}

/* --- step 2: the chain ----------------------------------------------------------------------- */

/* The chunk copy that holds the frame at addr, or -1. */
static int chunk_of(const struct ls_walker *w, uint64_t addr)
{
	int64_t data = w->ctx.target->layout.chunk_data;
	for (size_t i = 0; i < w->nchunks; i++) {
		const struct ls_chunk_copy *c = &w->chunks[i];
		if (addr >= c->remote + (uint64_t)data && addr - c->remote < c->size)
			return (int)i;
	}
	return -1;
}

/* 1 if addr was already visited in this walk (a cycle), else remembers it. The slots used are
 * listed in w->visited_used so that clearing costs the depth, not the set's size. */
static int seen(struct ls_walker *w, size_t depth, uint64_t addr)
{
	uint32_t mask = LS_VISITED_SLOTS - 1;
	uint32_t i = (uint32_t)((addr >> 3) * 0x9E3779B97F4A7C15ull >> 40) & mask;
	for (; w->visited[i]; i = (i + 1) & mask)
		if (w->visited[i] == addr)
			return 1;
	w->visited[i] = addr;
	w->visited_used[depth] = i;
	return 0;
}

static void forget_visited(struct ls_walker *w, size_t depth)
{
	for (size_t k = 0; k < depth; k++)
		w->visited[w->visited_used[k]] = 0;
}

/* 3.11+: whether a chain that ended (previous == NULL) at a frame owned by `owner` reached the
 * thread's base. From 3.12 every thread's stack starts at an entry frame on the C stack (owner
 * CSTACK, or INTERPRETER in 3.14: >= owner_skip_min); in 3.11 at a frame the thread owns. A chain
 * that ends at a generator's frame was cut short: the generator yielded while we walked and its
 * `previous` was cleared, so what we read is only the top of the stack. An empty chain is whole. */
static int base_frame(const struct ls_layout *l, int owner)
{
	if (owner < 0)
		return 1;
	return l->owner_skip_min ? owner >= l->owner_skip_min : owner == 0;
}

static int chain(struct ls_walker *w, uint64_t frame, size_t *count, int *truncated)
{
	const struct ls_target *t = w->ctx.target;
	const struct ls_layout *l = &t->layout;
	const int objects = l->frame_kind == LS_FRAME_OBJECT;
	/* <=3.10 frame objects: read up to f_lasti only (they are large); 3.11+: the whole frame */
	size_t size = objects ? (size_t)l->fr_lasti + 4 : (size_t)l->fr_size;
	if (size > FRAME_MAX_SIZE || size < 16)
		return LS_ERR_UNSUPPORTED_VERSION;
	uint8_t buf[FRAME_MAX_SIZE];
	size_t n = 0, visited = 0;
	int rc = 0;
	int last_owner = -1; /* 3.11+: the owner of the last frame visited */
	uint8_t skipped = 0; /* a shim on the data stack was skipped since the last frame kept */
	while (frame) {
		if (visited >= LS_MAX_DEPTH) {
			*truncated = 1;
			break;
		}
		if (frame % 8 || seen(w, visited, frame))
			goto torn;
		visited++;
		const uint8_t *f;
		int fresh;
		rc = frame_bytes(w, frame, size, buf, &f, &fresh);
		if (rc)
			goto out;
		uint64_t previous = ls_get_u64(f, l->fr_back);
		struct ls_raw_frame raw = {0};
		if (objects) {
			if (t->facts.frame_type_addr && ls_get_u64(f, l->ob_type) != t->facts.frame_type_addr)
				goto torn;
			raw.code = ls_get_u64(f, l->fr_code);
			raw.instr = (uint64_t)(int64_t)ls_get_i32(f, l->fr_lasti);
		} else {
			uint8_t owner = f[l->fr_owner];
			last_owner = owner;
			if (l->owner_skip_min && owner >= l->owner_skip_min) {
				if (owner > l->owner_skip_min + 1)
					goto torn; /* not an owner CPython has */
				skipped |= chunk_of(w, frame) >= 0; /* a shim on the data stack (3.13's __init__ calls) */
				frame = previous;
				continue;
			}
			if (owner == l->owner_torn || owner > 3)
				goto torn;
			raw.code = ls_get_u64(f, l->fr_code) & l->code_tag_mask;
			raw.instr = ls_get_u64(f, l->fr_lasti);
			raw.is_generator = owner == 1;
		}
		if (!raw.code || raw.code % 8)
			goto torn;
		raw.addr = frame;
		raw.fresh = (uint8_t)fresh;
		raw.after_skip = skipped;
		skipped = 0;
		if (reserve((void **)&w->raw, &w->raw_cap, n + 1, sizeof(*w->raw))) {
			rc = LS_ERR_NOMEM;
			goto out;
		}
		w->raw[n++] = raw;
		frame = previous;
	}
	if (!*truncated && !objects && !base_frame(l, last_owner))
		goto torn;
	goto out;
torn:
	rc = LS_ERR_TORN;
out:
	forget_visited(w, visited);
	*count = n;
	w->nraw = objects ? n : 0; /* what a retry reads again with the thread state */
	return rc;
}

/* --- step 3: code objects and lines ---------------------------------------------------------- */

static size_t index_of(const uint64_t *addrs, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addrs[i] == addr)
			return i;
	return n;
}

/* Copy [addr, addr + len) from the batch into dst although serving stopped (ls_batch_held), for
 * what only frames of the batch point to; remembered for the next sample's batch as any read.
 * 1 when the batch held it. */
static int batch_held(struct ls_walker *w, uint64_t addr, void *dst, size_t len)
{
	ls_batch_want(w, addr, len);
	const uint8_t *have = ls_batch_held(w, addr, len);
	if (have)
		memcpy(dst, have, len);
	return have != NULL;
}

/* Collect the distinct code addresses of raw[0..n) and read their headers in one batch, except
 * those another thread of this sample read in the last LS_CODE_MEMO_NS (w->memo_*), which are
 * copied from there. The memo lives for one sample (ls_threads_walk empties it) and at most that
 * long: a code object freed and its address reused by another within it would be misnamed, so the
 * window is kept to the time a sample of many threads takes.
 *
 * The code epoch spares most reads on 3.12 and 3.13.0. These count every code object they make
 * (a u32, the next co_version). A header read after the count was E (the previous sample's)
 * is stamped E in the cache. When this sample's count, read after every frame of its batch, is
 * still E, no code object was made between the header's read and the frames' read. So the object
 * at that address is still the one whose header we read, and its header is taken from the cache.
 * This holds only for walks that took all their bytes from the batch (w->spec_serve).
 *
 * A lean sample (w->code_lean, a recording's samples between two that prove identity: code_check.c)
 * takes a code object resolved over code_aged_ns ago, the same at every read since and proven less
 * than code_check_every_ns ago, from the cache unread (code_trusted 2); code_all_aged tells the
 * next sample whether every one was long-lived. */
static int read_code_headers(struct ls_walker *w, size_t n, size_t *ncodes)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	size_t co_size = (size_t)l->co_size;
	size_t k = 0, memo_cap = LS_CODE_MEMO;
	/* small stacks are the common case: a linear scan over few distinct codes beats hashing;
	 * for deep recursion the same few code objects repeat, so k stays small there too */
	for (size_t i = 0; i < n; i++) {
		size_t at = index_of(w->code_addrs, k, w->raw[i].code);
		if (at < k) {
			w->code_from_batch[at] &= !w->raw[i].fresh;
			continue;
		}
		if (k == w->code_cap) {
			size_t ncap = w->code_cap ? w->code_cap * 2 : 64;
			if (ls_array_resize((void **)&w->code_addrs, ncap, sizeof(*w->code_addrs)) ||
			    ls_array_resize((void **)&w->code_raw, ncap, co_size) ||
			    ls_array_resize((void **)&w->code_headers, ncap, sizeof(*w->code_headers)) ||
			    ls_array_resize((void **)&w->code_status, ncap, sizeof(*w->code_status)) ||
			    ls_array_resize((void **)&w->code_trusted, ncap, sizeof(*w->code_trusted)) ||
			    ls_array_resize((void **)&w->code_from_batch, ncap, sizeof(*w->code_from_batch)) ||
			    ls_array_resize((void **)&w->name_probe, ncap, LS_STR_PROBE) ||
			    ls_array_resize((void **)&w->code_memo, ncap, sizeof(*w->code_memo)))
				return LS_ERR_NOMEM;
			w->code_cap = ncap;
		}
		w->code_from_batch[k] = !w->raw[i].fresh;
		w->code_addrs[k++] = w->raw[i].code;
	}
	if (co_size > LS_CODE_MAX_SIZE)
		w->nmemo = 0, memo_cap = 0; /* a layout we cannot keep headers of: read them all */
	else if (!w->memo_raw && !(w->memo_raw = malloc((size_t)LS_CODE_MEMO * LS_CODE_MAX_SIZE)))
		return LS_ERR_NOMEM;
	if (w->nmemo && ls_clock_ns(CLOCK_MONOTONIC) - w->memo_since_ns > LS_CODE_MEMO_NS)
		w->nmemo = 0;
	struct ls_remote_iov iov[256];
	size_t slot[256];
	uint64_t now = w->code_check_every_ns ? ls_clock_ns(CLOCK_MONOTONIC) : 0;
	for (size_t done = 0; done < k;) {
		size_t batch = 0, i = done;
		for (; i < k && batch < 256; i++) {
			int of_batch = w->spec_serve || (w->served_at_start && w->code_from_batch[i]);
			uint32_t epoch = of_batch ? w->code_epoch : 0;
			const struct ls_code_entry *e = ls_code_cache_epoch_entry(&w->code_cache, w->code_addrs[i], epoch);
			const struct ls_code_entry *aged =
				now ? ls_code_cache_aged_entry(&w->code_cache, w->code_addrs[i], now, w->code_aged_ns) : NULL;
			w->code_all_aged &= aged != NULL;
			int proven_lately = aged && now >= aged->proven_ns && now - aged->proven_ns < w->code_check_every_ns;
			w->code_trusted[i] = e ? 1 : w->code_lean && proven_lately ? 2 : 0;
			w->code_memo[i] = LS_CODE_MEMO;
			if (w->code_trusted[i]) {
				e = e ? e : aged;
				w->code_headers[i] = e->header;
				w->code_status[i] = 0;
				if (w->code_trusted[i] == 1)
					w->code_epoch_hits++;
				else
					w->code_age_hits++;
				continue;
			}
			size_t m = index_of(w->memo_addrs, w->nmemo, w->code_addrs[i]);
			if (m < w->nmemo) {
				w->code_from_batch[i] = 0; /* another walk's header, of another moment */
				w->code_memo[i] = (uint32_t)m;
				memcpy(w->code_raw + i * co_size, w->memo_raw + m * co_size, co_size);
				w->code_status[i] = 0;
				continue;
			}
			if (of_batch && !w->spec_serve && batch_held(w, w->code_addrs[i], w->code_raw + i * co_size, co_size)) {
				w->code_status[i] = 0;
				continue;
			}
			w->code_from_batch[i] = 0; /* its header is read now: so is its name (print_names) */
			slot[batch] = i;
			iov[batch++] = (struct ls_remote_iov){w->code_addrs[i], w->code_raw + i * co_size, co_size};
		}
		int status[256];
		int rc = batch ? ls_walker_readv(w, iov, batch, status) : 0;
		if (rc)
			return rc;
		for (size_t b = 0; b < batch; b++)
			w->code_status[slot[b]] = status[b];
		for (size_t b = 0; b < batch && w->nmemo < memo_cap; b++) {
			if (status[b])
				continue;
			if (w->nmemo == 0)
				w->memo_since_ns = ls_clock_ns(CLOCK_MONOTONIC);
			w->memo_addrs[w->nmemo] = w->code_addrs[slot[b]];
			w->memo_print[w->nmemo] = 0;
			w->code_memo[slot[b]] = (uint32_t)w->nmemo;
			memcpy(w->memo_raw + w->nmemo * co_size, w->code_raw + slot[b] * co_size, co_size);
			w->nmemo++;
		}
		done = i;
	}
	*ncodes = k;
	return 0;
}

/* Code object k's name fingerprint from its probe (read with `status`), or its frames torn. */
static void take_name_print(struct ls_walker *w, size_t k, int status, const void *probe, size_t len)
{
	uint64_t print = status ? 0 : ls_pystr_fingerprint(&w->ctx.target->layout, probe, len);
	if (!print) {
		w->code_status[k] = status ? status : LS_ERR_TORN;
		return;
	}
	w->code_headers[k].name_print = print;
	size_t m = w->code_memo[k];
	if (m < w->nmemo)
		w->memo_print[m] = print;
}

/* Where a header's fields cannot prove which code object it is (<= 3.11, or a 3.12+ count that
 * wrapped), fingerprint the name it shows (ls_pystr_fingerprint) into code_headers[i].name_print,
 * which the cache compares too: a code object made where a freed one was, with its name, file and
 * line table where the old one's were, is then told apart by its name's text and hash. Names
 * another thread of this sample printed come from the memo. A name that cannot be read makes its
 * code object's frames torn, as an unreadable header does. */
static int print_names(struct ls_walker *w, size_t ncodes)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	uint64_t runtime = w->ctx.target->facts.runtime_addr, runtime_end = runtime + (uint64_t)(l->rt_size > 0 ? l->rt_size : 0);
	struct ls_remote_iov iov[256];
	size_t slot[256];
	int status[256];
	for (size_t done = 0; done < ncodes;) {
		size_t batch = 0, i = done;
		for (; i < ncodes && batch < 256; i++) {
			struct ls_code_header *h = &w->code_headers[i];
			if (w->code_status[i] || w->code_trusted[i] || !ls_code_header_needs_name_print(l, h))
				continue;
			size_t m = w->code_memo[i];
			if (m < w->nmemo && w->memo_print[m]) {
				h->name_print = w->memo_print[m];
				continue;
			}
			uint64_t at = ls_code_header_shown_name(h);
			if (at % 8) {
				w->code_status[i] = LS_ERR_TORN;
				continue;
			}
			if (at >= runtime && at < runtime_end) {
				h->name_print = 1; /* a static str inside _PyRuntime ("<module>", "__init__"): never freed */
				continue;
			}
			uint8_t *probe = w->name_probe + i * LS_STR_PROBE;
			size_t len = ls_pystr_probe_len(l, at);
			if (!w->spec_serve && w->served_at_start && w->code_from_batch[i] && batch_held(w, at, probe, len)) {
				take_name_print(w, i, 0, probe, len);
				continue;
			}
			slot[batch] = i;
			iov[batch++] = (struct ls_remote_iov){at, probe, len};
		}
		int rc = batch ? ls_walker_readv(w, iov, batch, status) : 0;
		if (rc)
			return rc;
		for (size_t b = 0; b < batch; b++)
			take_name_print(w, slot[b], status[b], iov[b].dst, iov[b].len);
		done = i;
	}
	return 0;
}

/* Whether `code`, one of code_addrs[0..ncodes), has a header read fine with a generator's flags. */
static int is_generator_code(const struct ls_walker *w, size_t ncodes, uint64_t code)
{
	size_t c = index_of(w->code_addrs, ncodes, code);
	return c < ncodes && !w->code_status[c] && w->code_headers[c].flags > 0 &&
	       (w->code_headers[c].flags & CO_ANY_GENERATOR);
}

/* 3.11+: how many frames from the top of raw[0..n) to drop because the chain is spliced. CPython
 * pushes a frame where the frame below it on the data stack ends (that frame + its co_framesize
 * words); generators' frames live in the generator and C-stack shims on the C stack, neither takes
 * data-stack space. So each frame in a chunk must start exactly where the next frame down the chain
 * that is in the same chunk ends, unless a shim on the data stack lies between (3.13's __init__
 * calls). They do not when the chunk was copied while the thread returned below some frame and
 * called again: the stale frames above then hang off a new frame of another size (e.g.
 * `randint > rec`). Nor can a frame of a generator's code that the thread owns lie below another:
 * the thread owns it only while it makes the generator (RETURN_GENERATOR), at the top; below
 * something it is the stale bytes of that moment. The frames above the lowest such link are
 * dropped: the rest was the thread's stack. */
static size_t spliced_top(struct ls_walker *w, size_t n, size_t ncodes)
{
	if (w->ctx.target->layout.frame_kind == LS_FRAME_OBJECT || w->nchunks == 0 || n < 2)
		return 0;
	size_t below = 0; /* the last frame in a chunk, from the bottom */
	int below_chunk = -1;
	uint8_t gap = 0; /* a data-stack shim lies between it and the frame looked at */
	for (size_t i = n; i-- > 0;) {
		const struct ls_raw_frame *f = &w->raw[i];
		if (i > 0 && !f->is_generator && is_generator_code(w, ncodes, f->code))
			return i + 1;
		int k = f->is_generator ? -1 : chunk_of(w, f->addr);
		if (k >= 0 && k == below_chunk && !gap) {
			size_t c = index_of(w->code_addrs, ncodes, w->raw[below].code);
			if (c < ncodes && !w->code_status[c] && w->code_headers[c].frame_words &&
			    f->addr != w->raw[below].addr + 8ull * w->code_headers[c].frame_words)
				return i + 1;
		}
		if (k >= 0) {
			below = i;
			below_chunk = k;
			gap = f->after_skip;
		} else {
			gap |= f->after_skip;
		}
	}
	return 0;
}

static int position_of(const struct ls_layout *l, const struct ls_raw_frame *raw, const struct ls_code_header *h,
		       int64_t *pos)
{
	switch (l->lasti_kind) {
	case LS_LASTI_BYTE:
		*pos = (int64_t)raw->instr;
		return *pos >= -1 && *pos < (1 << 26) ? 0 : LS_ERR_TORN;
	case LS_LASTI_INDEX:
		*pos = (int64_t)raw->instr;
		if (*pos < -1 || *pos >= (1 << 25))
			return LS_ERR_TORN;
		if (*pos >= 0)
			*pos *= 2; /* the 3.10 table is keyed in bytes */
		return 0;
	case LS_LASTI_PREV_INSTR:
	case LS_LASTI_INSTR_PTR: {
		uint64_t base = raw->code + (uint64_t)l->co_code_adaptive;
		int64_t delta = (int64_t)(raw->instr - base);
		if (delta % 2)
			return LS_ERR_TORN;
		*pos = delta / 2;
		return *pos >= -1 && *pos <= h->code_units ? 0 : LS_ERR_TORN;
	}
	}
	return LS_ERR_TORN;
}

/* <=3.10: whether a whole chain raw[0..n) ends at a frame of generator code, which a thread's
 * stack never does: a generator's frame has an f_back only while it runs. Its f_back was NULL
 * when we read it because the generator had yielded (or was just made) meanwhile: the chain is
 * the top of a stack cut short, which must neither pass as whole nor become the thread's known
 * base (recheck.c). 3.11+ tells the same by the frame's owner (base_frame). A generator
 * driven from C by a thread with no Python frame below it is flagged torn by this rule too, and
 * costs its retries at every sample. */
static int ends_in_generator(const struct ls_walker *w, size_t n, size_t ncodes)
{
	return w->ctx.target->layout.frame_kind == LS_FRAME_OBJECT && n > 0 &&
	       is_generator_code(w, ncodes, w->raw[n - 1].code);
}

/* Resolve raw[0..n) into sample frames (whole: the chain reached its end, not the depth limit).
 * Stops at the first bad frame: *resolved tells how many. */
static int resolve(struct ls_walker *w, size_t n, int whole, struct ls_sample *sample, size_t *resolved)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	size_t ncodes;
	*resolved = 0;
	w->want_kind = LS_WANT_CODE; /* headers and names: a lean sample's batch leaves them out */
	int rc = read_code_headers(w, n, &ncodes);
	if (rc) {
		w->want_kind = LS_WANT_OTHER;
		return rc;
	}
	for (size_t i = 0; i < ncodes; i++) {
		if (w->code_status[i] == 0 && !w->code_trusted[i])
			w->code_status[i] = ls_code_header_parse(&w->ctx, w->code_raw + i * (size_t)l->co_size,
								 &w->code_headers[i]);
	}
	rc = print_names(w, ncodes);
	w->want_kind = LS_WANT_OTHER;
	if (rc)
		return rc;
	int cut = whole && ends_in_generator(w, n, ncodes);
	size_t drop = spliced_top(w, n, ncodes);
	if (drop) {
		memmove(w->raw, w->raw + drop, (n - drop) * sizeof(*w->raw));
		n -= drop;
	}
	/* deep recursion repeats one code object, often at one position: the previous frame's
	 * resolution is reused for the same code (entry stays valid until the next resolve) */
	const struct ls_code_entry *entry = NULL;
	uint64_t entry_code = 0;
	size_t c = 0;
	int64_t line_pos = 0;
	int line = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ls_raw_frame *raw = &w->raw[i];
		if (!entry || raw->code != entry_code) {
			c = index_of(w->code_addrs, ncodes, raw->code);
			if (c >= ncodes || w->code_status[c])
				return c < ncodes && w->code_status[c] != LS_ERR_READ ? w->code_status[c] : LS_ERR_TORN;
		}
		const struct ls_code_header *h = &w->code_headers[c];
		int64_t pos;
		rc = position_of(l, raw, h, &pos);
		if (rc)
			return rc;
		/* a frame still in its prologue is hidden, as CPython's own frame APIs hide it */
		if (!raw->is_generator && h->first_traceable > 0 && pos < h->first_traceable)
			continue;
		if (!entry || raw->code != entry_code) {
			entry = NULL;
			/* a header read in this sample is stamped with the epoch read before it */
			rc = ls_code_resolve(&w->code_cache, &w->ctx, raw->code, h,
					     w->code_trusted[c] == 1   ? w->code_epoch
					     : w->code_trusted[c] == 2 ? LS_CODE_UNREAD
								       : w->code_epoch_prev,
					     w->code_sample_ns, &entry);
			if (rc)
				return rc == LS_ERR_BAD_STRING || rc == LS_ERR_BAD_LINETABLE ? LS_ERR_TORN : rc;
			entry_code = raw->code;
			line_pos = pos;
			line = ls_line_ranges_lookup(&entry->lines, pos, h->first_line);
		} else if (pos != line_pos) {
			line_pos = pos;
			line = ls_line_ranges_lookup(&entry->lines, pos, h->first_line);
		}
		if (reserve((void **)&sample->frames, &sample->cap_frames, (size_t)sample->nframes + 1, sizeof(*sample->frames)))
			return LS_ERR_NOMEM;
		sample->frames[sample->nframes++] = (struct ls_frame){entry->function_id, line};
		*resolved = i + 1;
	}
	return drop || cut ? LS_ERR_TORN : 0; /* the thread is read again, or kept partial */
}

int ls_frames_walk(struct ls_walker *w, const struct ls_stack_start *start, int keep_partial,
		   struct ls_sample *sample, uint32_t *nframes, uint32_t *flags, uint64_t *base_frame)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	uint32_t first = sample->nframes;
	size_t n = 0, resolved = 0;
	int truncated = 0;
	int rc = 0;
	*nframes = 0;
	*base_frame = 0;
	w->nchunks = 0;
	w->chunk_extensions = 0;
	w->chunk_fills = 0;
	w->served_at_start = w->spec_serve;
	if (l->frame_kind != LS_FRAME_OBJECT && start->datastack) {
		rc = copy_chunks(w, start);
		if (rc && !ls_error_is_recoverable(rc))
			return rc;
		if (rc == LS_ERR_READ && !keep_partial)
			return rc; /* a chunk the thread state named is gone: the stack moved, read it again */
		if (rc)
			w->nchunks = 0; /* walk with direct reads instead */
		rc = 0;
	}
	rc = chain(w, start->top_frame, &n, &truncated);
	if (rc && (!keep_partial || !ls_error_is_recoverable(rc)))
		return rc;
	int top_missing = 0;
	if (!rc) {
		/* a chain that fails its re-check may be spliced anywhere above the outer part it
		 * found in place: keep that part on the last attempt, else none of it */
		size_t dropped, held;
		rc = ls_frames_recheck(w, start, &n, &dropped, &held, truncated);
		if (rc && (rc != LS_ERR_TORN || !keep_partial || held >= n))
			return rc;
		if (rc) {
			memmove(w->raw, w->raw + held, (n - held) * sizeof(*w->raw));
			n -= held;
			top_missing = 1;
		}
	}
	int rc2 = resolve(w, n, !truncated, sample, &resolved);
	if (rc2 && (!keep_partial || !ls_error_is_recoverable(rc2))) {
		sample->nframes = first;
		return rc2;
	}
	if (top_missing && rc2)
		sample->nframes = first; /* neither the outer part nor the inner one: keep nothing */
	if (top_missing && !rc2)
		*flags |= LS_THREAD_TOP_MISSING;
	else if (rc || rc2 || truncated)
		*flags |= LS_THREAD_TRUNCATED;
	else if (n > 0)
		*base_frame = w->raw[n - 1].addr;
	*nframes = sample->nframes - first;
	return rc ? rc : rc2;
}

int ls_walker_init(struct ls_walker *w)
{
	memset(w, 0, sizeof(*w));
	w->pthread_tid_offset = -1;
	w->os_info = 1;
	w->code_aged_ns = LS_CODE_AGED_NS;
	w->pages = malloc((size_t)LS_PAGE_CACHE * LS_PAGE_SIZE);
	if (!w->pages)
		return LS_ERR_NOMEM;
	w->visited = calloc(LS_VISITED_SLOTS, sizeof(*w->visited));
	w->visited_used = calloc(LS_MAX_DEPTH, sizeof(*w->visited_used));
	if (!w->visited || !w->visited_used)
		return LS_ERR_NOMEM;
	return ls_code_cache_init(&w->code_cache);
}

void ls_walker_release(struct ls_walker *w)
{
	ls_code_cache_release(&w->code_cache);
	free(w->chunk_bytes);
	free(w->pages);
	free(w->recheck);
	free(w->memo_raw);
	free(w->recheck_iov);
	free(w->recheck_status);
	free(w->prefetch_bytes);
	free(w->retry_chunk);
	free(w->newest_chunk);
	free(w->spec_bytes);
	free(w->own_bytes);
	free(w->merge_iov);
	free(w->merge_status);
	free(w->merge_order);
	free(w->merge_sort);
	free(w->merge_issue);
	free(w->merge_status_issued);
	free(w->merge_bytes);
	free(w->tstate_addrs);
	free(w->tstate_bytes);
	free(w->chunks);
	free(w->raw);
	free(w->visited);
	free(w->visited_used);
	free(w->code_addrs);
	free(w->code_raw);
	free(w->code_headers);
	free(w->code_status);
	free(w->code_trusted);
	free(w->code_from_batch);
	free(w->name_probe);
	free(w->code_memo);
	memset(w, 0, sizeof(*w));
}
