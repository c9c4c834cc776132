/* test_walker.c - the frame walker's own reads, on a fake process whose memory is a buffer we
 * write: the newest data-stack chunk extended twice in one attempt (its copy moves when it
 * grows), serving from the sample's batch ending at a fresh read, a batch lookup whose length is
 * that of the range it came from, and the <= 3.10 chain's re-check, which must not take a frame
 * that returned (it keeps its links) for a caller. Run under ASan/UBSan by scripts/test.sh, where a copy out of
 * a freed or foreign buffer is an error.
 */
#include "array.h"
#include "fake_process.h"
#include "testing.h"

#define CODE_AT (MEM_BASE + 0x200000)

/* A thread-owned frame at addr, called from `previous`, running the code object at CODE_AT. */
static void put_frame(uint64_t addr, uint64_t previous)
{
	const struct ls_layout *l = &target.layout;
	put_u64(addr + (uint64_t)l->fr_back, previous);
	put_u64(addr + (uint64_t)l->fr_code, CODE_AT);
	mem[addr - MEM_BASE + (uint64_t)l->fr_owner] = 0;
}

static int walk(struct ls_walker *w, const struct ls_stack_start *start)
{
	struct ls_sample sample = {0};
	uint32_t nframes = 0, flags = 0;
	uint64_t base = 0;
	int rc = ls_frames_walk(w, start, 0, &sample, &nframes, &flags, &base);
	free(sample.threads);
	free(sample.frames);
	return rc;
}

/* The top frame lies past the copied part of its chunk and its caller further still: the copy is
 * extended twice, and the second time its buffer grows (and may move) under the copy it extends. */
static void test_walker__second_extension_keeps_the_copy(void)
{
	struct ls_walker w;
	fake_walker(&w);
	const struct ls_layout *l = &target.layout;
	uint64_t chunk = MEM_BASE + 0x100000;
	put_u64(chunk + (uint64_t)l->chunk_previous, 0);
	put_u64(chunk + (uint64_t)l->chunk_size, 1u << 20);
	put_frame(chunk + 0x1000, chunk + 0x5000); /* a link up the chunk: torn, or hostile */
	put_frame(chunk + 0x5000, 0);
	struct ls_stack_start start = {0};
	start.top_frame = chunk + 0x1000;
	start.datastack = chunk;
	start.datastack_top = chunk + 64;
	int rc = walk(&w, &start);
	CHECK(rc == 0 || ls_error_is_recoverable(rc));
	CHECK(w.newest_chunk_cap >= 0x5000);
	CHECK(w.newest_chunk != NULL && memcmp(w.newest_chunk, mem + (chunk - MEM_BASE), 0x5000) == 0);
	ls_walker_release(&w);
}

/* A walk that starts from the batch's copy of its chunk and reads the rest of the chunk afresh is
 * served from the batch no more: what the fresh bytes point to must not come from older bytes. */
static void test_walker__fresh_chunk_read_ends_serving(void)
{
	struct ls_walker w;
	fake_walker(&w);
	const struct ls_layout *l = &target.layout;
	uint64_t chunk = MEM_BASE + 0x100000;
	put_u64(chunk + (uint64_t)l->chunk_size, 16384);
	put_frame(chunk + 0x1000, 0);
	static uint8_t batch_copy[64];
	memcpy(batch_copy, mem + (chunk - MEM_BASE), sizeof(batch_copy));
	w.spec_serve = 1;
	struct ls_stack_start start = {0};
	start.top_frame = chunk + 0x1000;
	start.datastack = chunk;
	start.datastack_top = chunk + 64;
	start.first_chunk = batch_copy;
	start.first_chunk_len = sizeof(batch_copy);
	walk(&w, &start);
	CHECK_EQ_INT(w.spec_serve, 0);
	ls_walker_release(&w);
}

/* Two ranges of the batch overlap (a stale prediction beside a new chunk): what a lookup hands on
 * is the range it found, with that range's length, never another range's. */
static void test_walker__batch_find_length_is_its_ranges(void)
{
	struct ls_walker w;
	fake_walker(&w);
	uint64_t other = MEM_BASE + 0x100000, chunk = other + 8;
	w.spec_bytes = calloc(1, LS_SPEC_BYTES);
	w.spec_ranges[0] = (struct ls_spec_range){chunk, 128, LS_SPEC_BYTES - 128, 1, 0, 0, LS_WANT_OTHER, 0};
	w.spec_ranges[1] = (struct ls_spec_range){other, 16384, 0, 1, 0, 0, LS_WANT_OTHER, 0};
	w.nspec_ranges = 2;
	w.spec_serve = 1;
	for (size_t cursor = 0; cursor < 2; cursor++) {
		w.spec_cursor = cursor;
		size_t held = 0;
		const uint8_t *have = ls_batch_find(&w, chunk, 64, &held);
		const struct ls_spec_range *r = &w.spec_ranges[w.spec_cursor];
		CHECK(have != NULL);
		CHECK(have == w.spec_bytes + r->local + (chunk - r->addr));
		CHECK_EQ_INT(held, r->len - (chunk - r->addr));
		CHECK(have + held <= w.spec_bytes + LS_SPEC_BYTES);
	}
	w.spec_serve = 0;
	CHECK(ls_batch_find(&w, chunk, 64, NULL) == NULL);
	ls_walker_release(&w);
}

/* <= 3.10 re-check: a chain T -> H -> G -> Y -> M (innermost first) as a walk read it, M the
 * thread's known outermost frame, and the thread's top now elsewhere (it went deeper, or moved). */
enum { CHAIN = 5 };
static const uint64_t chain_at[CHAIN] = {MEM_BASE + 0x1000, MEM_BASE + 0x2000, MEM_BASE + 0x3000, MEM_BASE + 0x4000,
					 MEM_BASE + 0x5000};
#define TOP_AT (MEM_BASE + 0x8000)
#define FRAME_RUNNING 0  /* 3.10 f_state FRAME_EXECUTING */
#define FRAME_RETURNED 1 /* 3.10 f_state FRAME_RETURNED */

static void put_chain(struct ls_walker *w, uint64_t top_now, const int *state)
{
	fake_walker(w);
	target.layout = *ls_layout_builtin(10);
	const struct ls_layout *l = &target.layout;
	put_u64(TOP_AT, top_now);
	w->nraw = CHAIN;
	ls_array_reserve((void **)&w->raw, &w->raw_cap, CHAIN, sizeof(*w->raw));
	for (size_t i = 0; i < CHAIN; i++) {
		w->raw[i] = (struct ls_raw_frame){chain_at[i], CODE_AT + 0x100 * i, 0, 0, 0, 0};
		put_u64(chain_at[i] + (uint64_t)l->fr_back, i + 1 < CHAIN ? chain_at[i + 1] : 0);
		put_u64(chain_at[i] + (uint64_t)l->fr_code, CODE_AT + 0x100 * i);
		mem[chain_at[i] - MEM_BASE + (uint64_t)l->fr_state] = (uint8_t)state[i];
	}
}

static int recheck(struct ls_walker *w, size_t *n, size_t *dropped, size_t *held)
{
	struct ls_stack_start start = {0};
	start.top_frame = chain_at[0];
	start.top_frame_at = TOP_AT;
	start.known_base = chain_at[CHAIN - 1];
	*n = CHAIN;
	return ls_frames_recheck(w, &start, n, dropped, held, 0);
}

static void test_walker__recheck_keeps_a_deeper_stack_of_running_frames(void)
{
	struct ls_walker w;
	const int running[CHAIN] = {FRAME_RUNNING, FRAME_RUNNING, FRAME_RUNNING, FRAME_RUNNING, FRAME_RUNNING};
	size_t n, dropped, held;
	put_chain(&w, MEM_BASE + 0x9000, running);
	CHECK_EQ_INT(recheck(&w, &n, &dropped, &held), 0);
	CHECK_EQ_INT(n, CHAIN);
	CHECK_EQ_INT(dropped, 0);
	ls_walker_release(&w);
}

/* H returned while we read and waits as its code's spare frame, f_back and f_code as they were:
 * the links all hold, but the chain through H is no stack of now. */
static void test_walker__recheck_refuses_a_returned_frame(void)
{
	struct ls_walker w;
	const int h_returned[CHAIN] = {FRAME_RUNNING, FRAME_RETURNED, FRAME_RUNNING, FRAME_RUNNING, FRAME_RUNNING};
	size_t n, dropped, held;
	put_chain(&w, MEM_BASE + 0x9000, h_returned);
	CHECK_EQ_INT(recheck(&w, &n, &dropped, &held), LS_ERR_TORN);
	CHECK_EQ_INT(held, 2); /* G -> Y -> M is in place; H is not its caller's callee any more */
	ls_walker_release(&w);
}

/* T's link changed and H returned: the outer part kept starts below H, at G. */
static void test_walker__outer_part_starts_below_a_returned_frame(void)
{
	struct ls_walker w;
	const int h_returned[CHAIN] = {FRAME_RETURNED, FRAME_RETURNED, FRAME_RUNNING, FRAME_RUNNING, FRAME_RUNNING};
	size_t n, dropped, held;
	put_chain(&w, MEM_BASE + 0x9000, h_returned);
	put_u64(chain_at[0] + (uint64_t)target.layout.fr_back, MEM_BASE + 0x7000);
	CHECK_EQ_INT(recheck(&w, &n, &dropped, &held), LS_ERR_TORN);
	CHECK_EQ_INT(held, 2);
	/* with H still running, the part from H down is in place */
	mem[chain_at[1] - MEM_BASE + (uint64_t)target.layout.fr_state] = FRAME_RUNNING;
	CHECK_EQ_INT(recheck(&w, &n, &dropped, &held), LS_ERR_TORN);
	CHECK_EQ_INT(held, 1);
	ls_walker_release(&w);
}

int main(void)
{
	RUN_TEST(test_walker__second_extension_keeps_the_copy);
	RUN_TEST(test_walker__fresh_chunk_read_ends_serving);
	RUN_TEST(test_walker__batch_find_length_is_its_ranges);
	RUN_TEST(test_walker__recheck_keeps_a_deeper_stack_of_running_frames);
	RUN_TEST(test_walker__recheck_refuses_a_returned_frame);
	RUN_TEST(test_walker__outer_part_starts_below_a_returned_frame);
	free(mem);
	return testing_done();
}
