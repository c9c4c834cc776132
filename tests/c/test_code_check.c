/* test_code_check.c - proving code identity every few samples (src/engine/code_check.c), on a
 * fake process (fake_process.h) holding one thread's stack, its code objects and their strings: a
 * lean walk takes a long-lived code object from the cache without reading its header or name, but
 * reads a young one, and one whose last proof is older than the interval; the next proving walk
 * finds a code object made in its place; when a sample proves identity (ls_code_check_plan: its
 * interval passed, the last sample met a young code object, or a stale entry was found in the last
 * LS_CODE_STRICT_NS); and a lean sample's own batch leaves the predicted headers and names out and
 * keeps them, after the walks' ranges, for the next.
 */
#define _GNU_SOURCE /* clock_gettime */
#include "clock.h"
#include "fake_process.h"
#include "pyobj.h"
#include "testing.h"

#define CHUNK (MEM_BASE + 0x100000)
#define CODE (MEM_BASE + 0x300000)
#define NAME_ALPHA (MEM_BASE + 0x301000)
#define NAME_BRAVO (MEM_BASE + 0x302000)
#define FILENAME (MEM_BASE + 0x303000)
#define LINETABLE (MEM_BASE + 0x304000)
#define TS (MEM_BASE + 0x1000)
#define EVERY_NS 8000000ull
#define MS 1000000ull
#define HOUR_NS (3600000 * MS) /* an interval no slow run of these tests outlasts */

/* A compact ASCII str holding text at addr. */
static void put_str(uint64_t addr, const char *text)
{
	const struct ls_layout *l = &target.layout;
	size_t n = strlen(text);
	put_u64(addr + (uint64_t)l->str_length, n);
	put_u64(addr + (uint64_t)l->str_length + 8, 0x5eed + n); /* the cached hash */
	uint32_t state = (1u << 2) | (1u << 5) | (1u << 6); /* kind 1, compact, ascii */
	memcpy(mem + (addr - MEM_BASE) + l->str_state, &state, sizeof(state));
	memcpy(mem + (addr - MEM_BASE) + l->str_ascii_size, text, n + 1);
}

/* The code object at code: shown name `name` (a str), file FILENAME, an empty line table. */
static void put_code(uint64_t code, uint64_t name)
{
	const struct ls_layout *l = &target.layout;
	put_u64(code + (uint64_t)l->co_filename, FILENAME);
	put_u64(code + (uint64_t)l->co_name, name);
	put_u64(code + (uint64_t)l->co_qualname, name);
	put_u64(code + (uint64_t)l->co_linetable, LINETABLE);
	put_u64(code + (uint64_t)l->co_ob_size, 16);
	put_u64(code + (uint64_t)l->co_firstlineno, 1);
	put_str(FILENAME, "app.py");
	put_u64(LINETABLE + (uint64_t)l->bytes_size, 0);
}

/* One thread's stack in CHUNK: a frame of `code` on the C-stack entry frame the chain ends at. */
static void put_stack(uint64_t code)
{
	const struct ls_layout *l = &target.layout;
	const uint64_t entry = CHUNK + (uint64_t)l->chunk_data, inner = entry + 0x200;
	put_u64(CHUNK + (uint64_t)l->chunk_size, 16384);
	put_u64(inner + (uint64_t)l->fr_back, entry);
	put_u64(inner + (uint64_t)l->fr_code, code);
	put_u64(inner + (uint64_t)l->fr_lasti, code + (uint64_t)l->co_code_adaptive + 4);
	put_u64(entry + (uint64_t)l->fr_code, code);
	put_u64(entry + (uint64_t)l->fr_lasti, code + (uint64_t)l->co_code_adaptive);
	mem[entry - MEM_BASE + (uint64_t)l->fr_owner] = (uint8_t)l->owner_skip_min;
}

#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

static size_t reads_of(uint64_t addr, size_t from)
{
	size_t n = 0;
	for (size_t i = from; i < nlog; i++)
		n += log_addr[i] == addr;
	return n;
}

/* Walk the stack put_stack made, lean or proving; returns the name shown for its frame (or "").
 * *header_reads and *name_reads: how often this walk read the code header and the name. */
static const char *walk(struct ls_walker *w, int lean, uint64_t name, size_t *header_reads, size_t *name_reads)
{
	static char shown[64];
	const struct ls_layout *l = &target.layout;
	w->code_lean = lean;
	w->nmemo = 0; /* a new sample: no header another thread of it read (ls_threads_walk) */
	w->code_sample_ns = ls_clock_ns(CLOCK_MONOTONIC); /* as ls_code_check_plan sets it */
	size_t from = nlog;
	struct ls_stack_start start = {0};
	start.top_frame = CHUNK + (uint64_t)l->chunk_data + 0x200;
	start.datastack = CHUNK;
	start.datastack_top = start.top_frame + 0x200;
	struct ls_sample sample = {0};
	uint32_t nframes = 0, flags = 0;
	uint64_t base = 0;
	int rc = ls_frames_walk(w, &start, 0, &sample, &nframes, &flags, &base);
	shown[0] = 0;
	if (rc == 0 && nframes == 1) {
		const struct ls_function *fn = ls_functab_get(w->ctx.functions, sample.frames[0].function_id);
		size_t len;
		const char *text = fn ? ls_strtab_get(w->ctx.strings, fn->name_id, &len) : NULL;
		if (text && len < sizeof(shown))
			memcpy(shown, text, len + 1);
	}
	*header_reads = reads_of(CODE, from);
	*name_reads = reads_of(name, from);
	free(sample.threads);
	free(sample.frames);
	return shown;
}

static struct ls_strtab strings;
static struct ls_functab functions;

/* A walker on a fresh fake process holding a thread's stack of CODE ("alpha"), with its own tables. */
static void code_walker(struct ls_walker *w)
{
	fake_walker(w);
	CHECK_EQ_INT(ls_strtab_init(&strings), 0);
	CHECK_EQ_INT(ls_functab_init(&functions), 0);
	w->ctx.strings = &strings;
	w->ctx.functions = &functions;
	w->code_check_every_ns = HOUR_NS;
	put_code(CODE, NAME_ALPHA);
	put_str(NAME_ALPHA, "alpha");
	put_stack(CODE);
}

static void release_code_walker(struct ls_walker *w)
{
	ls_walker_release(w);
	ls_strtab_release(&strings);
	ls_functab_release(&functions);
}

/* A lean walk takes a long-lived code object from the cache: no header, no name read. A young one
 * (resolved less than code_aged_ns ago) is read even in a lean walk. */
static void test_code_check__a_lean_walk_reads_only_young_code_objects(void)
{
	struct ls_walker w;
	code_walker(&w);
	size_t headers, names;
	CHECK_STR(walk(&w, 0, NAME_ALPHA, &headers, &names), "alpha");
	CHECK(headers == 1 && names == 2); /* the name's probe, then its text for the new entry */
	w.code_all_aged = 1; /* as ls_code_check_plan leaves it at a sample's start */
	CHECK_STR(walk(&w, 1, NAME_ALPHA, &headers, &names), "alpha"); /* young: read */
	CHECK(headers == 1 && names == 1);
	CHECK_EQ_INT(w.code_all_aged, 0);
	CHECK_EQ_INT(w.code_age_hits, 0);
	w.code_aged_ns = 0; /* every code object now counts as long-lived */
	w.code_all_aged = 1;
	CHECK_STR(walk(&w, 1, NAME_ALPHA, &headers, &names), "alpha");
	CHECK(headers == 0 && names == 0);
	CHECK_EQ_INT(w.code_age_hits, 1);
	CHECK_EQ_INT(w.code_all_aged, 1);
	CHECK_STR(walk(&w, 0, NAME_ALPHA, &headers, &names), "alpha"); /* proving: read again */
	CHECK(headers == 1 && names == 1);
	release_code_walker(&w);
}

/* A code object made where a long-lived one was (another name): lean walks do not see it (the
 * window the interval bounds), the next proving walk does, finds the entry stale, and the entry
 * it makes is young again. */
static void test_code_check__a_proving_walk_finds_a_code_object_made_in_its_place(void)
{
	struct ls_walker w;
	code_walker(&w);
	size_t headers, names;
	CHECK_STR(walk(&w, 0, NAME_ALPHA, &headers, &names), "alpha");
	w.code_aged_ns = 0;
	put_str(NAME_BRAVO, "bravo");
	put_code(CODE, NAME_BRAVO);
	CHECK_STR(walk(&w, 1, NAME_BRAVO, &headers, &names), "alpha");
	CHECK(headers == 0 && names == 0);
	CHECK_STR(walk(&w, 0, NAME_BRAVO, &headers, &names), "bravo");
	CHECK(headers == 1 && names == 2);
	CHECK_EQ_INT(w.code_cache.stale, 1);
	w.code_aged_ns = 1000 * MS;
	CHECK_STR(walk(&w, 1, NAME_BRAVO, &headers, &names), "bravo");
	CHECK(headers == 1 && names == 1); /* the new object is young: read */
	release_code_walker(&w);
}

/* A code object that was off the stacks for a while (a function the program calls now and then)
 * has no recent proof: a lean walk reads it, which proves it again for the next interval. So no
 * walk takes unread an object replaced longer than the interval ago. */
static void test_code_check__a_lean_walk_reads_what_was_proven_too_long_ago(void)
{
	struct ls_walker w;
	code_walker(&w);
	size_t headers, names;
	CHECK_STR(walk(&w, 0, NAME_ALPHA, &headers, &names), "alpha");
	w.code_aged_ns = 0;
	w.code_check_every_ns = 1; /* every proof is already too old */
	CHECK_STR(walk(&w, 1, NAME_ALPHA, &headers, &names), "alpha");
	CHECK(headers == 1 && names == 1);
	CHECK_EQ_INT(w.code_age_hits, 0);
	w.code_check_every_ns = HOUR_NS; /* that read proved it: taken unread now */
	CHECK_STR(walk(&w, 1, NAME_ALPHA, &headers, &names), "alpha");
	CHECK(headers == 0 && names == 0);
	CHECK_EQ_INT(w.code_age_hits, 1);
	put_str(NAME_BRAVO, "bravo"); /* replaced; its last proof grows old */
	put_code(CODE, NAME_BRAVO);
	w.code_check_every_ns = 1;
	CHECK_STR(walk(&w, 1, NAME_BRAVO, &headers, &names), "bravo");
	CHECK_EQ_INT(w.code_cache.stale, 1);
	release_code_walker(&w);
}

/* When a sample proves identity: never lean without an interval; with one, once it has passed since
 * the last proving sample, and whenever the last sample met a young code object; and for
 * LS_CODE_STRICT_NS after a stale entry was found. */
static void test_code_check__when_a_sample_proves_identity(void)
{
	struct ls_walker w;
	fake_walker(&w);
	const uint64_t t0 = 1000000 * MS;
	ls_code_check_plan(&w, t0);
	CHECK_EQ_INT(w.code_lean, 0); /* no interval */
	ls_code_check_plan(&w, t0);
	CHECK_EQ_INT(w.code_lean, 0);
	w.code_check_every_ns = EVERY_NS; /* code_all_aged is 1 from here on: no walk clears it */
	ls_code_check_plan(&w, t0 + 1 * MS);
	CHECK_EQ_INT(w.code_lean, 1);
	ls_code_check_plan(&w, t0 + 7 * MS);
	CHECK_EQ_INT(w.code_lean, 1);
	ls_code_check_plan(&w, t0 + 8 * MS);
	CHECK_EQ_INT(w.code_lean, 0);
	ls_code_check_plan(&w, t0 + 9 * MS);
	CHECK_EQ_INT(w.code_lean, 1);
	w.code_all_aged = 0; /* that sample met a young code object */
	ls_code_check_plan(&w, t0 + 10 * MS);
	CHECK_EQ_INT(w.code_lean, 0);
	ls_code_check_plan(&w, t0 + 11 * MS);
	CHECK_EQ_INT(w.code_lean, 1);
	w.code_cache.stale++; /* that sample found a code object replaced */
	const uint64_t t1 = t0 + 12 * MS;
	ls_code_check_plan(&w, t1);
	CHECK_EQ_INT(w.code_lean, 0);
	ls_code_check_plan(&w, t1 + 1 * MS);
	CHECK_EQ_INT(w.code_lean, 0);
	ls_code_check_plan(&w, t1 + LS_CODE_STRICT_NS - 1 * MS);
	CHECK_EQ_INT(w.code_lean, 0);
	ls_code_check_plan(&w, t1 + LS_CODE_STRICT_NS);
	CHECK_EQ_INT(w.code_lean, 1); /* the last sample proved it 1 ms ago */
	ls_code_check_plan(&w, t1 + LS_CODE_STRICT_NS + EVERY_NS);
	CHECK_EQ_INT(w.code_lean, 0);
	ls_walker_release(&w);
}

/* A lean sample's own batch reads the thread's chunk and the other ranges its last walk read, but
 * not the code headers and names (LS_WANT_CODE): those stay predicted, as they were, for the next
 * sample, which reads them when it proves identity. */
static void test_code_check__a_lean_own_batch_keeps_code_ranges_for_later(void)
{
	struct ls_walker w;
	fake_walker(&w);
	const struct ls_layout *l = &target.layout;
	const uint64_t other = MEM_BASE + 0x200000, name = MEM_BASE + 0x380000; /* far apart: not one span */
	put_u64(CHUNK + (uint64_t)l->chunk_size, 16384);
	ls_chunk_map_note(&w, CHUNK, 0, 16384);
	put_u64(TS + (uint64_t)l->ts_datastack_chunk, CHUNK);
	put_u64(TS + (uint64_t)l->ts_datastack_chunk + 8, CHUNK + 600);
	for (int lean = 1; lean >= 0; lean--) {
		w.nspec_pred = 0;
		w.spec_ranges[w.nspec_pred++] = (struct ls_spec_range){CODE, (size_t)l->co_size, 0, 0, 2, TS, LS_WANT_CODE, 0};
		w.spec_ranges[w.nspec_pred++] = (struct ls_spec_range){name, 64, 0, 0, 2, TS, LS_WANT_CODE, 0};
		w.spec_ranges[w.nspec_pred++] = (struct ls_spec_range){other, 64, 0, 0, 0, TS, LS_WANT_OTHER, 0};
		w.code_lean = lean;
		w.nown = w.own_bytes_used = 0;
		size_t from = nlog;
		uint64_t tstate = TS;
		uint8_t *ts = mem + (TS - MEM_BASE);
		struct ls_prefetch pf = {0};
		struct ls_prefetch *pfp = &pf;
		CHECK_EQ_INT(ls_stack_batch_read(&w, &tstate, &ts, &pfp, 1), 0);
		CHECK_EQ_INT(pf.own, 1);
		CHECK_EQ_INT(reads_of(CHUNK, from), 1);
		CHECK_EQ_INT(reads_of(other, from), 1);
		CHECK_EQ_INT(reads_of(CODE, from), lean ? 0 : 1);
		CHECK_EQ_INT(reads_of(name, from), lean ? 0 : 1);
		ls_batch_want(&w, other, 64); /* a walk read it */
		size_t npred = ls_batch_next(&w), kept = 0;
		for (size_t i = 0; i < npred; i++) {
			const struct ls_spec_range *r = &w.spec_ranges[i];
			kept += (r->addr == CODE || r->addr == name) && r->kind == LS_WANT_CODE && r->owner == TS &&
				r->age == 2 && i > 0;
		}
		CHECK(npred > 0 && w.spec_ranges[0].addr == other); /* the walks' ranges first */
		CHECK_EQ_INT(kept, lean ? 2 : 0); /* read when proving: a walk that needs them wants them again */
	}
	ls_walker_release(&w);
}

int main(void)
{
	RUN_TEST(test_code_check__a_lean_walk_reads_only_young_code_objects);
	RUN_TEST(test_code_check__a_proving_walk_finds_a_code_object_made_in_its_place);
	RUN_TEST(test_code_check__a_lean_walk_reads_what_was_proven_too_long_ago);
	RUN_TEST(test_code_check__when_a_sample_proves_identity);
	RUN_TEST(test_code_check__a_lean_own_batch_keeps_code_ranges_for_later);
	free(mem);
	return testing_done();
}
