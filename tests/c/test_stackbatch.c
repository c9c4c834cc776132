/* test_stackbatch.c - the own batch of a thread whose stack moves (src/engine/stackbatch.c), on a
 * fake process whose memory is a buffer we write and whose reads are logged: which ranges it
 * reads and in what order (the newest chunk first, up to its top or its current frame, then each
 * older one as the chunk map says, then what the thread's last walk read beyond its chunks, and
 * every chunk of every thread before any other range), adjacent chunks joined in one range, a chain too long for the batch cut, what
 * several threads read read once for all, that it stops at a newest chunk that is gone, that a
 * walk served from it reads nothing afresh, a chunk pushed between the state's read and the current
 * frame's read in one range with only the code headers its frames name read again, the reads that
 * stop at the first fault
 * (ls_proc_readv_prefix), and when a thread counts as moving.
 */
#include "fake_process.h"
#include "pyobj.h"
#include "testing.h"

#define CODE_AT (MEM_BASE + 0x300000)

/* A data-stack chunk at addr of `size` bytes after `previous`, noted in the chunk map as a walk
 * would note it. */
static void put_chunk(struct ls_walker *w, uint64_t addr, uint64_t previous, uint64_t size)
{
	const struct ls_layout *l = &target.layout;
	put_u64(addr + (uint64_t)l->chunk_previous, previous);
	put_u64(addr + (uint64_t)l->chunk_size, size);
	ls_chunk_map_note(w, addr, previous, size);
}

/* A thread state at ts whose newest chunk is `chunk`, with its top `used` bytes in. */
static uint8_t *put_tstate(uint64_t ts, uint64_t chunk, uint64_t used)
{
	const struct ls_layout *l = &target.layout;
	put_u64(ts + (uint64_t)l->ts_datastack_chunk, chunk);
	put_u64(ts + (uint64_t)l->ts_datastack_chunk + 8, chunk + used);
	return mem + (ts - MEM_BASE);
}

/* What the thread's last walk read beyond its chunks, as this sample predicts it. */
static void predict(struct ls_walker *w, uint64_t addr, size_t len, uint64_t owner, int kind)
{
	w->spec_ranges[w->nspec_pred++] = (struct ls_spec_range){addr, len, 0, 0, 0, owner, kind, 0};
}

#define TS_A (MEM_BASE + 0x1000)
#define TS_B (MEM_BASE + 0x2000)
#define CHUNK_1 (MEM_BASE + 0x100000) /* the thread's first chunk */
#define CHUNK_2 (MEM_BASE + 0x140000)
#define CHUNK_3 (MEM_BASE + 0x120000) /* the newest */
#define HEADER (CODE_AT + 0x40)

/* The own batch of thread TS_A alone, its state at ts, into *pf (what ls_stack_batch_read returns). */
static int read_own_batch_of_a(struct ls_walker *w, uint8_t *ts, struct ls_prefetch *pf)
{
	uint64_t tstate = TS_A;
	return ls_stack_batch_read(w, &tstate, &ts, &pf, 1);
}

/* Walk TS_A's stack from top_frame, its newest chunk `datastack` used up to datastack_top, served
 * from the own batch read into *pf, as walk_thread would serve it. */
static void walk_from_own_batch(struct ls_walker *w, const struct ls_prefetch *pf, uint64_t top_frame,
				uint64_t datastack, uint64_t datastack_top)
{
	w->spec_serve = w->own_serve = 1;
	w->own_lo = pf->own_lo, w->own_hi = pf->own_hi, w->own_cursor = pf->own_lo;
	struct ls_stack_start start = {0};
	start.top_frame = top_frame;
	start.datastack = datastack;
	start.datastack_top = datastack_top;
	start.first_chunk = pf->chunk;
	start.first_chunk_len = pf->chunk_len;
	struct ls_sample sample = {0};
	uint32_t nframes = 0, flags = 0;
	uint64_t base = 0;
	ls_frames_walk(w, &start, 0, &sample, &nframes, &flags, &base);
	free(sample.threads);
	free(sample.frames);
}

/* The newest chunk up to its top (and a margin), each older chunk as the map chains them, then
 * the thread's own other ranges; not another thread's, nor its older chunks as last predicted. */
static void test_stackbatch__reads_the_chain_the_state_names(void)
{
	struct ls_walker w;
	fake_walker(&w);
	put_chunk(&w, CHUNK_1, 0, 16384);
	put_chunk(&w, CHUNK_2, CHUNK_1, 16384);
	put_chunk(&w, CHUNK_3, CHUNK_2, 16384);
	uint8_t *ts = put_tstate(TS_A, CHUNK_3, 1000);
	predict(&w, HEADER, 64, TS_A, LS_WANT_OTHER);
	predict(&w, HEADER + 0x1000, 64, TS_B, LS_WANT_OTHER); /* another thread's */
	predict(&w, CHUNK_2 + 0x8000, 16384, TS_A, LS_WANT_CHUNK); /* a chunk as the last walk found it */
	struct ls_prefetch pf = {0};
	CHECK_EQ_INT(read_own_batch_of_a(&w, ts, &pf), 0);
	CHECK_EQ_INT(ncalls, 1);
	CHECK_EQ_INT(pf.own, 1);
	CHECK_EQ_INT(pf.from_batch, 1);
	CHECK_EQ_INT(pf.chunk_ok, 1);
	CHECK_EQ_INT(pf.own_hi - pf.own_lo, 4);
	const struct ls_spec_range *r = &w.own_ranges[pf.own_lo];
	CHECK(r[0].addr == CHUNK_3 && r[0].kind == LS_WANT_NEWEST && r[0].len >= 1000 && r[0].len <= 16384);
	CHECK(r[1].addr == CHUNK_2 && r[1].len == 16384 && r[1].kind == LS_WANT_CHUNK);
	CHECK(r[2].addr == CHUNK_1 && r[2].len == 16384);
	CHECK(r[3].addr == HEADER && r[3].kind == LS_WANT_OTHER);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(r[i].ok, 1);
	CHECK(pf.chunk == w.own_bytes + r[0].local && pf.chunk_len == r[0].len);
	CHECK(memcmp(pf.chunk, mem + (CHUNK_3 - MEM_BASE), pf.chunk_len) == 0);
	ls_walker_release(&w);
}

/* The newest chunk's range ends where the walk can need it: at its top, or past the current frame
 * when frames were pushed between the state's read and the cframe word's (the current frame's
 * fields in), and a margin past the top only when the current frame is not known to be in it. */
static void test_stackbatch__the_newest_chunk_ends_at_the_current_frame(void)
{
	static const struct {
		int minor, cframe_ok;
		uint64_t current; /* offset into the chunk (3.13: in the thread state; 3.12: the cframe word) */
		uint64_t expect;  /* the newest chunk's range, bytes (0: used + 4096) */
	} cases[] = {
		{13, 0, 600, 1000},                /* below the top: the top */
		{12, 1, 600, 1000},
		{12, 1, 1400, 0},                  /* 1400 + fr_size, filled in below */
		{12, 0, 1400, 1000 + 4096},        /* the cframe word unread: the margin */
		{12, 1, 16384 + 64, 1000 + 4096},  /* outside the chunk */
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct ls_walker w;
		fake_walker(&w);
		target.layout = *ls_layout_builtin(cases[c].minor);
		const struct ls_layout *l = &target.layout;
		put_chunk(&w, CHUNK_1, 0, 16384);
		uint8_t *ts = put_tstate(TS_A, CHUNK_1, 1000);
		struct ls_prefetch pf = {0};
		if (l->frame_kind == LS_FRAME_DIRECT) {
			put_u64(TS_A + (uint64_t)l->ts_frame, CHUNK_1 + cases[c].current);
		} else {
			pf.cframe_ok = cases[c].cframe_ok;
			pf.current_frame = CHUNK_1 + cases[c].current;
		}
		uint64_t expect = cases[c].expect ? cases[c].expect : cases[c].current + (uint64_t)l->fr_size;
		CHECK_EQ_INT(read_own_batch_of_a(&w, ts, &pf), 0);
		CHECK_EQ_INT(pf.own, 1);
		const struct ls_spec_range *r = &w.own_ranges[pf.own_lo];
		CHECK(r[0].addr == CHUNK_1 && r[0].kind == LS_WANT_NEWEST);
		CHECK_EQ_INT((int)r[0].len, (int)((expect + 7) & ~7ull));
		ls_walker_release(&w);
	}
	target.layout = *ls_layout_builtin(13);
}

/* The newest chunk is gone (the stack returned below it): its thread's walk is told so, and with
 * one thread in the batch nothing after it is read. */
static void test_stackbatch__stops_at_a_newest_chunk_that_is_gone(void)
{
	struct ls_walker w;
	fake_walker(&w);
	uint64_t gone = MEM_BASE + MEM_SIZE + 0x10000; /* outside the fake memory: unreadable */
	put_chunk(&w, CHUNK_1, 0, 16384);
	ls_chunk_map_note(&w, gone, CHUNK_1, 16384);
	uint8_t *ts = put_tstate(TS_A, gone, 1000);
	predict(&w, HEADER, 64, TS_A, LS_WANT_OTHER);
	struct ls_prefetch pf = {0};
	CHECK_EQ_INT(read_own_batch_of_a(&w, ts, &pf), 0);
	CHECK_EQ_INT(pf.own, 1);
	CHECK_EQ_INT(pf.chunk_ok, 0);
	for (size_t i = pf.own_lo; i < pf.own_hi; i++)
		CHECK_EQ_INT(w.own_ranges[i].ok, 0);
	ls_walker_release(&w);
}

/* Two moving threads in one batch: every chunk of both before any other range of either, so that
 * no code header is read before a frame of the other thread that points to it. */
static void test_stackbatch__chunks_of_every_thread_come_first(void)
{
	struct ls_walker w;
	fake_walker(&w);
	uint64_t chunk_b = MEM_BASE + 0x180000;
	put_chunk(&w, CHUNK_1, 0, 16384);
	put_chunk(&w, CHUNK_3, CHUNK_1, 16384);
	put_chunk(&w, chunk_b, 0, 16384);
	uint8_t *ts[2] = {put_tstate(TS_A, CHUNK_3, 200), put_tstate(TS_B, chunk_b, 200)};
	predict(&w, HEADER, 64, TS_A, LS_WANT_OTHER);
	predict(&w, HEADER + 0x20000, 64, TS_B, LS_WANT_OTHER); /* far apart: not one span */
	struct ls_prefetch pf[2] = {{0}, {0}};
	struct ls_prefetch *pfp[2] = {&pf[0], &pf[1]};
	uint64_t tstates[2] = {TS_A, TS_B};
	CHECK_EQ_INT(ls_stack_batch_read(&w, tstates, ts, pfp, 2), 0);
	CHECK_EQ_INT(pf[0].own + pf[1].own, 2);
	CHECK_EQ_INT(nlog, 5);
	size_t last_chunk = 0, first_other = nlog;
	for (size_t i = 0; i < nlog; i++) {
		int is_chunk = log_addr[i] == CHUNK_1 || log_addr[i] == CHUNK_3 || log_addr[i] == chunk_b;
		if (is_chunk)
			last_chunk = i;
		else if (first_other == nlog)
			first_other = i;
	}
	CHECK(last_chunk < first_other);
	ls_walker_release(&w);
}

/* A walk served from the own batch (as threads.c walk_thread serves it) reads nothing afresh: its
 * older chunk comes from the batch. */
static void test_stackbatch__a_walk_is_served_from_it(void)
{
	struct ls_walker w;
	fake_walker(&w);
	const struct ls_layout *l = &target.layout;
	put_chunk(&w, CHUNK_1, 0, 16384);
	put_chunk(&w, CHUNK_3, CHUNK_1, 16384);
	uint64_t outer = CHUNK_1 + (uint64_t)l->chunk_data, inner = CHUNK_3 + (uint64_t)l->chunk_data;
	put_u64(inner + (uint64_t)l->fr_back, outer);
	put_u64(outer + (uint64_t)l->fr_back, 0);
	uint8_t *ts = put_tstate(TS_A, CHUNK_3, (uint64_t)l->chunk_data + 128);
	struct ls_prefetch pf = {0};
	CHECK_EQ_INT(read_own_batch_of_a(&w, ts, &pf), 0);
	size_t reads = nlog;
	walk_from_own_batch(&w, &pf, inner, CHUNK_3, inner + 128);
	int chunk_read_afresh = 0;
	for (size_t i = reads; i < nlog; i++)
		chunk_read_afresh |= log_addr[i] == CHUNK_1 || log_addr[i] == CHUNK_3;
	CHECK_EQ_INT(chunk_read_afresh, 0);
	CHECK_EQ_INT(w.nchunks, 2); /* both chunks copied, from the batch */
	ls_walker_release(&w);
}

/* A code object's header as read_code_headers parses it: shown name `name`, no co_version (so its
 * name is probed), a line table, a size. */
static void put_code(uint64_t code, uint64_t name)
{
	const struct ls_layout *l = &target.layout;
	put_u64(code + (uint64_t)l->co_filename, name);
	put_u64(code + (uint64_t)l->co_name, name);
	put_u64(code + (uint64_t)l->co_qualname, name);
	put_u64(code + (uint64_t)l->co_linetable, name + 0x100);
	put_u64(code + (uint64_t)l->co_ob_size, 16);
	put_u64(code + (uint64_t)l->co_firstlineno, 1);
}

/* The thread pushed a chunk (CHUNK_2, which the chunk map knows) between the reads of its state
 * and of its current frame: the frames there are in no copy. Their chunk is read in one range from
 * its start, not frame by frame; the frames below come from the batch's copies. Then only the code
 * object the fresh frames name has its header and name read again: the one that only the batch's
 * frames name is taken from the batch, which read it after them. */
static void test_stackbatch__a_chunk_pushed_meanwhile_is_read_in_one_range(void)
{
	struct ls_walker w;
	fake_walker(&w);
	const struct ls_layout *l = &target.layout;
	const uint64_t data = (uint64_t)l->chunk_data, code_a = CODE_AT, code_b = CODE_AT + 0x1000;
	const uint64_t name_a = CODE_AT + 0x2000, name_b = CODE_AT + 0x3000;
	put_code(code_a, name_a);
	put_code(code_b, name_b);
	put_chunk(&w, CHUNK_1, 0, 16384);
	put_chunk(&w, CHUNK_3, CHUNK_1, 16384);
	put_chunk(&w, CHUNK_2, CHUNK_3, 16384);
	/* innermost first: three frames in CHUNK_2 (code B), one in CHUNK_3 and one in CHUNK_1 (code
	 * A), and the C-stack entry frame the chain ends at */
	const uint64_t at[6] = {CHUNK_2 + data + 0x400, CHUNK_2 + data + 0x200, CHUNK_2 + data, CHUNK_3 + data,
				CHUNK_1 + data + 0x200, CHUNK_1 + data};
	for (size_t i = 0; i < 6; i++) {
		put_u64(at[i] + (uint64_t)l->fr_back, i + 1 < 6 ? at[i + 1] : 0);
		put_u64(at[i] + (uint64_t)l->fr_code, i < 3 ? code_b : code_a);
		mem[at[i] - MEM_BASE + (uint64_t)l->fr_owner] = i == 5 ? (uint8_t)l->owner_skip_min : 0;
	}
	uint8_t *ts = put_tstate(TS_A, CHUNK_3, data + 0x200);
	put_u64(TS_A + (uint64_t)l->ts_frame, at[0]);
	predict(&w, code_a, (size_t)l->co_size, TS_A, LS_WANT_OTHER);
	predict(&w, code_b, (size_t)l->co_size, TS_A, LS_WANT_OTHER);
	predict(&w, name_a, ls_pystr_probe_len(l, name_a), TS_A, LS_WANT_OTHER);
	predict(&w, name_b, ls_pystr_probe_len(l, name_b), TS_A, LS_WANT_OTHER);
	struct ls_prefetch pf = {0};
	CHECK_EQ_INT(read_own_batch_of_a(&w, ts, &pf), 0);
	CHECK_EQ_INT(pf.own, 1);
	size_t reads = nlog;
	walk_from_own_batch(&w, &pf, at[0], CHUNK_3, CHUNK_3 + data + 0x200);
	size_t chunk_2_reads = 0, frame_reads = 0, header_a_reads = 0, header_b_reads = 0, name_a_reads = 0,
	       name_b_reads = 0;
	for (size_t i = reads; i < nlog; i++) {
		chunk_2_reads += log_addr[i] == CHUNK_2;
		frame_reads += log_addr[i] == at[0] || log_addr[i] == at[1] || log_addr[i] == at[2];
		header_a_reads += log_addr[i] == code_a;
		header_b_reads += log_addr[i] == code_b;
		name_a_reads += log_addr[i] == name_a;
		name_b_reads += log_addr[i] == name_b;
	}
	CHECK_EQ_INT(chunk_2_reads, 1);
	CHECK_EQ_INT(frame_reads, 0);
	CHECK_EQ_INT(header_b_reads, 1);
	CHECK_EQ_INT(header_a_reads, 0);
	CHECK_EQ_INT(name_b_reads, 1);
	CHECK_EQ_INT(name_a_reads, 0);
	for (size_t i = 0; i < 5; i++) { /* the whole chain was walked (the entry frame is skipped) */
		CHECK(w.raw[i].addr == at[i]);
		CHECK_EQ_INT(w.raw[i].fresh, i < 3);
	}
	ls_walker_release(&w);
}

/* Chunks mapped one right below the other (as the kernel places them): the newest is read whole
 * and with the one above it in one range, newest first. */
static void test_stackbatch__adjacent_chunks_are_one_range(void)
{
	struct ls_walker w;
	fake_walker(&w);
	uint64_t newest = MEM_BASE + 0x200000, older = newest + 16384;
	put_chunk(&w, CHUNK_1, 0, 16384);
	put_chunk(&w, older, CHUNK_1, 16384);
	put_chunk(&w, newest, older, 16384);
	uint8_t *ts = put_tstate(TS_A, newest, 600);
	struct ls_prefetch pf = {0};
	CHECK_EQ_INT(read_own_batch_of_a(&w, ts, &pf), 0);
	CHECK_EQ_INT(nlog, 2); /* newest + older as one range, then the first chunk */
	CHECK(log_addr[0] == newest && log_addr[1] == CHUNK_1);
	CHECK_EQ_INT(pf.chunk_len, 16384);
	for (size_t i = pf.own_lo; i < pf.own_hi; i++)
		CHECK_EQ_INT(w.own_ranges[i].ok, 1);
	const struct ls_spec_range *r = &w.own_ranges[pf.own_lo + 1];
	CHECK(r->addr == older && memcmp(w.own_bytes + r->local, mem + (older - MEM_BASE), 16384) == 0);
	ls_walker_release(&w);
}

/* A chain longer than the batch holds is cut, not dropped: the newest chunks come from the batch,
 * the rest the walk reads afresh. */
static void test_stackbatch__a_long_chain_is_cut(void)
{
	struct ls_walker w;
	fake_walker(&w);
	uint64_t previous = 0, chunk = 0;
	for (int i = 0; i < 80; i++) { /* 80 x 32 KiB > the 1 MiB batch */
		chunk = MEM_BASE + 0x100000 + (uint64_t)i * 0x8000;
		put_chunk(&w, chunk, previous, 32768);
		previous = chunk;
	}
	uint8_t *ts = put_tstate(TS_A, chunk, 100);
	predict(&w, HEADER, 64, TS_A, LS_WANT_OTHER);
	struct ls_prefetch pf = {0};
	CHECK_EQ_INT(read_own_batch_of_a(&w, ts, &pf), 0);
	CHECK_EQ_INT(pf.own, 1);
	CHECK_EQ_INT(pf.chunk_ok, 1);
	CHECK(pf.own_hi - pf.own_lo > 10 && pf.own_hi - pf.own_lo < 80);
	CHECK(w.own_bytes_used <= LS_SPEC_BYTES);
	ls_walker_release(&w);
}

/* Every thread of the sample moves: a code header two threads read is read once, after both
 * threads' ranges, and either walk finds it there. */
static void test_stackbatch__what_threads_share_is_read_once(void)
{
	struct ls_walker w;
	fake_walker(&w);
	uint64_t chunk_b = MEM_BASE + 0x180000;
	put_chunk(&w, CHUNK_3, 0, 16384);
	put_chunk(&w, chunk_b, 0, 16384);
	uint8_t *ts[2] = {put_tstate(TS_A, CHUNK_3, 200), put_tstate(TS_B, chunk_b, 200)};
	predict(&w, HEADER, 64, 0, LS_WANT_OTHER); /* both threads read it: no owner */
	w.own_share = 1;
	struct ls_prefetch pf[2] = {{0}, {0}};
	struct ls_prefetch *pfp[2] = {&pf[0], &pf[1]};
	uint64_t tstates[2] = {TS_A, TS_B};
	CHECK_EQ_INT(ls_stack_batch_read(&w, tstates, ts, pfp, 2), 0);
	CHECK_EQ_INT(nlog, 3);
	CHECK(log_addr[2] == HEADER);
	for (int t = 0; t < 2; t++) {
		CHECK_EQ_INT(pf[t].shared_hi - pf[t].shared_lo, 1);
		w.spec_serve = w.own_serve = 1;
		w.own_lo = pf[t].own_lo, w.own_hi = pf[t].own_hi, w.own_cursor = pf[t].own_lo;
		w.own_shared_lo = w.own_shared_cursor = pf[t].shared_lo, w.own_shared_hi = pf[t].shared_hi;
		CHECK(ls_batch_find(&w, HEADER, 64, NULL) == w.own_bytes + w.own_ranges[pf[t].shared_lo].local);
	}
	ls_walker_release(&w);
}

/* Reads that stop at the first fault: that range and those after it fail, whatever they hold. */
static void test_stackbatch__readv_prefix_stops_at_the_first_fault(void)
{
	struct ls_walker w;
	fake_walker(&w);
	uint8_t a[8], b[8], c[8];
	struct ls_remote_iov iov[3] = {{MEM_BASE, a, 8}, {MEM_BASE + MEM_SIZE, b, 8}, {MEM_BASE + 64, c, 8}};
	int status[3];
	CHECK_EQ_INT(ls_proc_readv_prefix(&fake_proc, iov, 3, status), 0);
	CHECK_EQ_INT(status[0], 0);
	CHECK(status[1] != 0);
	CHECK_EQ_INT(status[2], LS_ERR_READ);
	ls_walker_release(&w);
}

/* A thread moves when its newest chunk changes from one sample to the next, and stays moving while
 * it goes on changing; LS_MOTION_HOLD samples on the same chunk make it steady again. */
static void test_stackbatch__motion(void)
{
	struct ls_walker w;
	fake_walker(&w);
	CHECK_EQ_INT(ls_motion_moving(&w, TS_A), 0);
	ls_motion_note(&w, TS_A, CHUNK_3);
	ls_motion_note(&w, TS_A, CHUNK_3);
	CHECK_EQ_INT(ls_motion_moving(&w, TS_A), 0); /* its stack stays in its chunk */
	ls_motion_note(&w, TS_A, CHUNK_2);
	CHECK_EQ_INT(ls_motion_moving(&w, TS_A), 1);
	CHECK_EQ_INT(ls_motion_moving(&w, TS_B), 0);
	for (int i = 0; i < 3 * LS_MOTION_HOLD; i++)
		ls_motion_note(&w, TS_A, i % 3 ? CHUNK_3 : CHUNK_2); /* the newest chunk keeps changing */
	CHECK_EQ_INT(ls_motion_moving(&w, TS_A), 1);
	ls_motion_note(&w, TS_A, CHUNK_2); /* one more change, then it stays */
	for (int i = 0; i < LS_MOTION_HOLD - 1; i++)
		ls_motion_note(&w, TS_A, CHUNK_2);
	CHECK_EQ_INT(ls_motion_moving(&w, TS_A), 1);
	ls_motion_note(&w, TS_A, CHUNK_2);
	CHECK_EQ_INT(ls_motion_moving(&w, TS_A), 0);
	ls_walker_release(&w);
}

int main(void)
{
	RUN_TEST(test_stackbatch__reads_the_chain_the_state_names);
	RUN_TEST(test_stackbatch__the_newest_chunk_ends_at_the_current_frame);
	RUN_TEST(test_stackbatch__stops_at_a_newest_chunk_that_is_gone);
	RUN_TEST(test_stackbatch__chunks_of_every_thread_come_first);
	RUN_TEST(test_stackbatch__a_walk_is_served_from_it);
	RUN_TEST(test_stackbatch__a_chunk_pushed_meanwhile_is_read_in_one_range);
	RUN_TEST(test_stackbatch__adjacent_chunks_are_one_range);
	RUN_TEST(test_stackbatch__a_long_chain_is_cut);
	RUN_TEST(test_stackbatch__what_threads_share_is_read_once);
	RUN_TEST(test_stackbatch__readv_prefix_stops_at_the_first_fault);
	RUN_TEST(test_stackbatch__motion);
	free(mem);
	return testing_done();
}
