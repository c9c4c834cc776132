/* test_layout.c - unit tests for the per-version layouts (layout.c, layout_tables.c,
 * layout_debug.c).
 *
 * Checks the built-in rows against values measured independently in the reference brief
 * (shared/reference/cpython-internals.md section 3.2), that every row's kinds match
 * ls_layout_set_version_rules(), that the rows are self-consistent, and the _Py_DebugOffsets
 * parser: a block captured from a live CPython 3.13.0 (tests/data/debug_offsets_3.13.0.bin,
 * made by `python3 tools/gen_layouts.py --capture-debug-offsets`) must give the built-in 3.13
 * row in every offset both ways have; corrupt, out-of-range, unknown-version, free-threaded and
 * truncated blocks are refused with the right code; a hand-made 3.14 block parses. It does not
 * touch a live process.
 *
 * The fixture directory is LS_TEST_DATA_DIR (environment variable, else the macro of that name,
 * else "tests/data" relative to the working directory). Prints "N passed, N failed" and exits
 * non-zero if anything failed. Uses a local CHECK macro (no shared harness needed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "ls_error.h"

#ifndef LS_TEST_DATA_DIR
#define LS_TEST_DATA_DIR "tests/data"
#endif

static int ls_test_passed, ls_test_failed;

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (cond) {                                                                    \
			ls_test_passed++;                                                      \
		} else {                                                                       \
			ls_test_failed++;                                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                                         \
	do {                                                                                   \
		long long ls_a_ = (long long)(a), ls_b_ = (long long)(b);                      \
		if (ls_a_ == ls_b_) {                                                          \
			ls_test_passed++;                                                      \
		} else {                                                                       \
			ls_test_failed++;                                                      \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n",    \
				__FILE__, __LINE__, #a, ls_a_, #b, ls_b_);                     \
		}                                                                              \
	} while (0)

/* Every int32 offset field of struct ls_layout, for comparing two layouts. */
#define F(name) {#name, offsetof(struct ls_layout, name)}
static const struct {
	const char *name;
	size_t off;
} fields[] = {
	F(rt_size), F(rt_interp_head), F(rt_tstate_current), F(rt_finalizing),
	F(is_size), F(is_next), F(is_threads_head), F(is_id), F(is_gil_pointer), F(is_gil_holder),
	F(is_gil_locked),
	F(ts_size), F(ts_next), F(ts_interp), F(ts_frame), F(cf_current_frame), F(ts_thread_id),
	F(ts_native_tid), F(ts_datastack_chunk),
	F(chunk_previous), F(chunk_size), F(chunk_data),
	F(fr_size), F(fr_back), F(fr_code), F(fr_lasti), F(fr_owner), F(fr_is_entry), F(fr_state),
	F(co_size), F(co_filename), F(co_name), F(co_qualname), F(co_firstlineno), F(co_linetable),
	F(co_code_adaptive), F(co_firsttraceable), F(co_code), F(co_ob_size),
	F(ob_type), F(bytes_size), F(bytes_sval), F(str_length), F(str_state), F(str_ascii_size),
	F(str_compact_size),
};
#undef F
#define NFIELDS (sizeof fields / sizeof fields[0])

static int32_t field_get(const struct ls_layout *l, size_t i)
{
	int32_t v;

	memcpy(&v, (const unsigned char *)l + fields[i].off, sizeof v);
	return v;
}

static void put_u64(uint8_t *block, size_t pos, uint64_t v)
{
	memcpy(block + pos, &v, sizeof v);
}

/* --- built-in rows ------------------------------------------------------------------------ */

/* Values measured in the reference brief, section 3.2 (-2 = not listed there). */
struct expect {
	int minor;
	int32_t rt_interp_head, rt_tstate_current, is_threads_head, is_id, is_gil_pointer, ts_frame,
		cf_current_frame, ts_thread_id, ts_native_tid, ts_datastack_chunk, ts_size, fr_back,
		fr_code, fr_lasti, fr_owner, fr_size, co_filename, co_firstlineno, co_linetable,
		co_code, co_firsttraceable, co_code_adaptive, co_size, str_ascii_size,
		str_compact_size, rt_size;
};

static const struct expect expected[] = {
	{8, 32, 1368, 8, 16, -1, 24, -1, 176, -1, -1, 264, 24, 32, 104, -1, 368, 104, 40, 120, 48,
	 -1, -1, 176, 48, 72, 1464},
	{9, 32, 568, 8, 24, -1, 24, -1, 176, -1, -1, 264, 24, 32, 104, -1, 368, 104, 40, 120, 48, -1,
	 -1, 176, 48, 72, 656},
	{10, 32, 568, 8, 24, -1, 24, -1, 176, -1, -1, 280, 24, 32, 96, -1, 360, 104, 40, 120, 48, -1,
	 -1, 176, 48, 72, 672},
	{11, 40, 576, 16, 48, -1, 56, 8, 152, 160, 296, 360, 48, 32, 56, 69, 80, 112, 72, 136, -1,
	 168, 184, 192, 48, 72, 166688},
	{12, 40, -1, 72, 8, 384, 56, 0, 136, 144, 232, 288, 8, 0, 56, 70, 80, 112, 68, 136, -1, 176,
	 192, 200, 40, 56, 459944},
	{13, 632, -1, 7344, 7272, 16, 72, -1, 152, 160, 232, 304, 8, 0, 56, 70, 80, 112, 68, 136, -1,
	 184, 200, 208, 40, 56, 283320},
};

static void test_builtin_reference_values(void)
{
	CHECK_EQ(ls_layout_builtin_count, 6);
	for (size_t i = 0; i < ls_layout_builtin_count; i++)
		CHECK_EQ(ls_layout_builtin_minors[i], 8 + (int)i);
	CHECK(ls_layout_builtin(7) == NULL);
	CHECK(ls_layout_builtin(14) == NULL);
	CHECK(ls_layout_builtin(-1) == NULL);

	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
		const struct expect *e = &expected[i];
		const struct ls_layout *l = ls_layout_builtin(e->minor);

		CHECK(l != NULL);
		if (l == NULL)
			continue;
		CHECK_EQ(l->minor, e->minor);
		CHECK_EQ(l->hexversion, 0x03000000u | ((uint32_t)e->minor << 16));
		CHECK_EQ(l->rt_interp_head, e->rt_interp_head);
		CHECK_EQ(l->rt_tstate_current, e->rt_tstate_current);
		CHECK_EQ(l->is_threads_head, e->is_threads_head);
		CHECK_EQ(l->is_id, e->is_id);
		CHECK_EQ(l->is_gil_pointer, e->is_gil_pointer);
		CHECK_EQ(l->ts_frame, e->ts_frame);
		CHECK_EQ(l->cf_current_frame, e->cf_current_frame);
		CHECK_EQ(l->ts_thread_id, e->ts_thread_id);
		CHECK_EQ(l->ts_native_tid, e->ts_native_tid);
		CHECK_EQ(l->ts_datastack_chunk, e->ts_datastack_chunk);
		CHECK_EQ(l->ts_size, e->ts_size);
		CHECK_EQ(l->ts_next, 8);
		CHECK_EQ(l->ts_interp, 16);
		CHECK_EQ(l->fr_back, e->fr_back);
		CHECK_EQ(l->fr_code, e->fr_code);
		CHECK_EQ(l->fr_lasti, e->fr_lasti);
		CHECK_EQ(l->fr_owner, e->fr_owner);
		CHECK_EQ(l->fr_size, e->fr_size);
		CHECK_EQ(l->co_filename, e->co_filename);
		CHECK_EQ(l->co_name, e->co_filename + 8);
		CHECK_EQ(l->co_firstlineno, e->co_firstlineno);
		CHECK_EQ(l->co_linetable, e->co_linetable);
		CHECK_EQ(l->co_code, e->co_code);
		CHECK_EQ(l->co_firsttraceable, e->co_firsttraceable);
		CHECK_EQ(l->co_code_adaptive, e->co_code_adaptive);
		CHECK_EQ(l->co_size, e->co_size);
		CHECK_EQ(l->co_qualname, e->minor >= 11 ? 128 : -1);
		CHECK_EQ(l->co_ob_size, e->minor >= 11 ? 16 : -1);
		CHECK_EQ(l->str_ascii_size, e->str_ascii_size);
		CHECK_EQ(l->str_compact_size, e->str_compact_size);
		CHECK_EQ(l->str_length, 16);
		CHECK_EQ(l->str_state, 32);
		CHECK_EQ(l->bytes_size, 16);
		CHECK_EQ(l->bytes_sval, 32);
		CHECK_EQ(l->ob_type, 8);
		CHECK_EQ(l->rt_size, e->rt_size);
		CHECK_EQ(l->fr_is_entry, e->minor == 11 ? 68 : -1);
		/* f_executing (3.8/3.9) and f_state (3.10), a byte each; no such byte from 3.11 */
		CHECK_EQ(l->fr_state, e->minor <= 9 ? 116 : e->minor == 10 ? 108 : -1);
	}
	/* the GIL: 3.12 through the pointer (inside _gil_runtime_state), 3.13 within the interpreter */
	CHECK_EQ(ls_layout_builtin(12)->is_gil_holder, 8);
	CHECK_EQ(ls_layout_builtin(12)->is_gil_locked, 16);
	CHECK_EQ(ls_layout_builtin(13)->is_gil_holder, 7760);
	CHECK_EQ(ls_layout_builtin(13)->is_gil_locked, 7768);
	CHECK_EQ(ls_layout_builtin(11)->is_gil_holder, -1);
	for (int m = 11; m <= 13; m++) {
		CHECK_EQ(ls_layout_builtin(m)->chunk_previous, 0);
		CHECK_EQ(ls_layout_builtin(m)->chunk_size, 8);
		CHECK_EQ(ls_layout_builtin(m)->chunk_data, 24);
	}
}

static void test_builtin_kinds_match_rules(void)
{
	for (size_t i = 0; i < ls_layout_builtin_count; i++) {
		const struct ls_layout *row = ls_layout_builtin(ls_layout_builtin_minors[i]);
		struct ls_layout l = *row;

		/* scribble over the kinds, then let the rules set them again */
		l.minor = 0;
		l.frame_kind = 0;
		l.lasti_kind = 0;
		l.linetable_kind = 0;
		l.gil_kind = 0;
		l.owner_skip_min = 0x77;
		l.owner_torn = 0x77;
		l.code_tag_mask = 0;
		ls_layout_set_version_rules(&l, row->hexversion);
		CHECK_EQ(l.hexversion, row->hexversion);
		CHECK_EQ(l.minor, row->minor);
		CHECK_EQ(l.frame_kind, row->frame_kind);
		CHECK_EQ(l.lasti_kind, row->lasti_kind);
		CHECK_EQ(l.linetable_kind, row->linetable_kind);
		CHECK_EQ(l.gil_kind, row->gil_kind);
		CHECK_EQ(l.owner_skip_min, row->owner_skip_min);
		CHECK_EQ(l.owner_torn, row->owner_torn);
		CHECK(l.code_tag_mask == row->code_tag_mask);
		for (size_t k = 0; k < NFIELDS; k++)
			CHECK_EQ(field_get(&l, k), field_get(row, k));
		CHECK_EQ(row->from_debug_offsets, 0);
		CHECK_EQ(row->free_threaded, 0);
		CHECK_EQ(row->hexversion & 0xffff, 0);
	}
}

/* Every present offset lies inside its struct. */
static void test_builtin_self_consistent(void)
{
	for (size_t i = 0; i < ls_layout_builtin_count; i++) {
		const struct ls_layout *l = ls_layout_builtin(ls_layout_builtin_minors[i]);
		const int32_t rt[] = {l->rt_interp_head, l->rt_tstate_current, l->rt_finalizing};
		const int32_t is[] = {l->is_next, l->is_threads_head, l->is_id, l->is_gil_pointer};
		const int32_t ts[] = {l->ts_next, l->ts_interp, l->ts_frame, l->ts_thread_id,
				      l->ts_native_tid, l->ts_datastack_chunk};
		const int32_t fr[] = {l->fr_back, l->fr_code, l->fr_lasti, l->fr_owner, l->fr_is_entry, l->fr_state};
		const int32_t co[] = {l->co_filename, l->co_name, l->co_qualname, l->co_firstlineno,
				      l->co_linetable, l->co_code_adaptive, l->co_firsttraceable,
				      l->co_code, l->co_ob_size};

		for (size_t k = 0; k < sizeof rt / sizeof rt[0]; k++)
			CHECK(rt[k] >= -1 && rt[k] < l->rt_size);
		for (size_t k = 0; k < sizeof is / sizeof is[0]; k++)
			CHECK(is[k] >= -1 && is[k] < l->is_size);
		if (l->gil_kind == LS_GIL_INTERP_EMBEDDED) {
			CHECK(l->is_gil_holder > 0 && l->is_gil_holder < l->is_size);
			CHECK(l->is_gil_locked > 0 && l->is_gil_locked < l->is_size);
		}
		for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++)
			CHECK(ts[k] >= -1 && ts[k] < l->ts_size);
		for (size_t k = 0; k < sizeof fr / sizeof fr[0]; k++)
			CHECK(fr[k] >= -1 && fr[k] < l->fr_size);
		for (size_t k = 0; k < sizeof co / sizeof co[0]; k++)
			CHECK(co[k] >= -1 && co[k] < l->co_size);
		CHECK(l->str_compact_size > l->str_ascii_size);
	}
}

static void test_version_rules(void)
{
	struct ls_layout l;

	memset(&l, 0, sizeof l);
	ls_layout_set_version_rules(&l, 0x030E00F0); /* 3.14.0 */
	CHECK_EQ(l.minor, 14);
	CHECK_EQ(l.hexversion, 0x030E00F0);
	CHECK_EQ(l.frame_kind, LS_FRAME_DIRECT);
	CHECK_EQ(l.lasti_kind, LS_LASTI_INSTR_PTR);
	CHECK_EQ(l.linetable_kind, LS_LINETABLE_LOCATIONS);
	CHECK_EQ(l.gil_kind, LS_GIL_INTERP_EMBEDDED);
	CHECK_EQ(l.owner_skip_min, 3);
	CHECK_EQ(l.owner_torn, 2);
	CHECK(l.code_tag_mask == ~(uint64_t)3);

	ls_layout_set_version_rules(&l, 0x030D00F0);
	CHECK(l.code_tag_mask == ~(uint64_t)0);
	ls_layout_set_version_rules(&l, 0x030C01F0);
	CHECK_EQ(l.frame_kind, LS_FRAME_VIA_CFRAME);
	CHECK_EQ(l.gil_kind, LS_GIL_INTERP_POINTER);
	CHECK_EQ(l.owner_skip_min, 3);
	ls_layout_set_version_rules(&l, 0x030B07F0);
	CHECK_EQ(l.owner_skip_min, 0);
	CHECK_EQ(l.owner_torn, 2);
	CHECK_EQ(l.lasti_kind, LS_LASTI_PREV_INSTR);
	ls_layout_set_version_rules(&l, 0x030A0DF0);
	CHECK_EQ(l.owner_torn, 0xff);
	CHECK_EQ(l.lasti_kind, LS_LASTI_INDEX);
	CHECK_EQ(l.linetable_kind, LS_LINETABLE_310);
	CHECK_EQ(l.frame_kind, LS_FRAME_OBJECT);
	ls_layout_set_version_rules(&l, 0x030812F0);
	CHECK_EQ(l.lasti_kind, LS_LASTI_BYTE);
	CHECK_EQ(l.linetable_kind, LS_LINETABLE_LNOTAB);
	CHECK_EQ(l.gil_kind, LS_GIL_RUNTIME_TSTATE_CURRENT);
}

/* --- _Py_DebugOffsets ------------------------------------------------------------------------ */

static uint8_t block313[2048];
static size_t block313_len;

static int load_block313(void)
{
	const char *dir = getenv("LS_TEST_DATA_DIR");
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/debug_offsets_3.13.0.bin", dir ? dir : LS_TEST_DATA_DIR);
	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "cannot open %s (set LS_TEST_DATA_DIR)\n", path);
		return -1;
	}
	block313_len = fread(block313, 1, sizeof block313, f);
	fclose(f);
	return 0;
}

static void test_debug_313_matches_builtin(void)
{
	struct ls_layout l;
	const struct ls_layout *row = ls_layout_builtin(13);
	char why[256] = "unset";
	int rc, compared = 0;

	CHECK(block313_len >= 600);
	rc = ls_layout_from_debug_offsets(&l, block313, block313_len, why, sizeof why);
	CHECK_EQ(rc, LS_OK);
	if (rc != LS_OK) {
		fprintf(stderr, "  why: %s\n", why);
		return;
	}
	CHECK_EQ(why[0], '\0');
	CHECK_EQ(l.hexversion, 0x030D00F0);
	CHECK_EQ(l.minor, 13);
	CHECK_EQ(l.from_debug_offsets, 1);
	CHECK_EQ(l.free_threaded, 0);
	CHECK_EQ(l.frame_kind, row->frame_kind);
	CHECK_EQ(l.lasti_kind, row->lasti_kind);
	CHECK_EQ(l.linetable_kind, row->linetable_kind);
	CHECK_EQ(l.gil_kind, row->gil_kind);
	CHECK_EQ(l.owner_skip_min, row->owner_skip_min);
	CHECK_EQ(l.owner_torn, row->owner_torn);
	CHECK(l.code_tag_mask == row->code_tag_mask);
	for (size_t i = 0; i < NFIELDS; i++) {
		int32_t a = field_get(&l, i), b = field_get(row, i);

		if (a == -1 || b == -1)
			continue;
		compared++;
		if (a != b)
			fprintf(stderr, "  %s: debug offsets %" PRId32 ", built-in %" PRId32 "\n",
				fields[i].name, a, b);
		CHECK_EQ(a, b);
	}
	/* everything but co_firsttraceable (not exported) and the pre-3.13 fields */
	CHECK_EQ(compared, 40);
	CHECK_EQ(l.co_firsttraceable, -1);
	/* and the values the reference brief read from a live 3.13.0 (section 2.4) */
	CHECK_EQ(l.rt_interp_head, 632);
	CHECK_EQ(l.is_threads_head, 7344);
	CHECK_EQ(l.is_gil_pointer, 16);
	CHECK_EQ(l.is_gil_holder, 7760);
	CHECK_EQ(l.is_gil_locked, 7768);
	CHECK_EQ(l.ts_frame, 72);
	CHECK_EQ(l.fr_owner, 70);
	CHECK_EQ(l.co_code_adaptive, 200);
	CHECK_EQ(l.str_ascii_size, 40);
}

/* Parse `block` and expect `want`; *out must stay untouched on failure and `why` must say
 * something containing `why_has`. */
static void expect_refusal(const uint8_t *block, size_t len, int want, const char *why_has)
{
	struct ls_layout l, pristine;
	char why[256];
	int rc;

	memset(&l, 0x5a, sizeof l);
	pristine = l;
	rc = ls_layout_from_debug_offsets(&l, block, len, why, sizeof why);
	CHECK_EQ(rc, want);
	CHECK(memcmp(&l, &pristine, sizeof l) == 0);
	CHECK(strstr(why, why_has) != NULL);
	if (strstr(why, why_has) == NULL)
		fprintf(stderr, "  why was \"%s\", expected it to mention \"%s\"\n", why, why_has);
}

static void test_debug_refusals(void)
{
	uint8_t b[sizeof block313];
	char tiny[8];
	struct ls_layout l;

	/* corrupt cookie */
	memcpy(b, block313, sizeof b);
	b[0] = 'X';
	expect_refusal(b, block313_len, LS_ERR_NO_DEBUG_OFFSETS, "xdebugpy");
	memcpy(b, block313, sizeof b);
	b[7] = '\0';
	expect_refusal(b, block313_len, LS_ERR_NO_DEBUG_OFFSETS, "cookie");
	expect_refusal(block313, 16, LS_ERR_NO_DEBUG_OFFSETS, "too few");

	/* offsets out of range: thread_state.current_frame (at 184) = sizeof(PyThreadState) */
	memcpy(b, block313, sizeof b);
	put_u64(b, 184, 304);
	expect_refusal(b, block313_len, LS_ERR_BAD_DEBUG_OFFSETS, "thread_state.current_frame");
	/* a pointer 4 bytes before the end of its struct does not fit either */
	memcpy(b, block313, sizeof b);
	put_u64(b, 280, 204); /* code_object.filename in a 208-byte code object */
	expect_refusal(b, block313_len, LS_ERR_BAD_DEBUG_OFFSETS, "code_object.filename");
	/* a huge value */
	memcpy(b, block313, sizeof b);
	put_u64(b, 40, UINT64_MAX);
	expect_refusal(b, block313_len, LS_ERR_BAD_DEBUG_OFFSETS, "runtime_state.interpreters_head");
	/* implausible sizes */
	memcpy(b, block313, sizeof b);
	put_u64(b, 224, 8);
	expect_refusal(b, block313_len, LS_ERR_BAD_DEBUG_OFFSETS, "interpreter_frame.size");
	memcpy(b, block313, sizeof b);
	put_u64(b, 152, 0);
	expect_refusal(b, block313_len, LS_ERR_BAD_DEBUG_OFFSETS, "thread_state.size");
	memcpy(b, block313, sizeof b);
	put_u64(b, 560, 400);
	expect_refusal(b, block313_len, LS_ERR_BAD_DEBUG_OFFSETS, "asciiobject_size");
	/* truncated */
	expect_refusal(block313, 300, LS_ERR_BAD_DEBUG_OFFSETS, "truncated");

	/* unknown minor versions */
	memcpy(b, block313, sizeof b);
	put_u64(b, 8, 0x030F00F0);
	{
		char why[256];

		CHECK_EQ(ls_layout_from_debug_offsets(&l, b, block313_len, why, sizeof why),
			 LS_ERR_UNSUPPORTED_VERSION);
		CHECK(strcmp(why, "CPython 3.15.0 debug offsets layout is not known to this loopscope") ==
		      0);
	}
	put_u64(b, 8, 0x030F00A2);
	expect_refusal(b, block313_len, LS_ERR_UNSUPPORTED_VERSION, "3.15.0a2");
	put_u64(b, 8, 0x040000F0);
	expect_refusal(b, block313_len, LS_ERR_BAD_DEBUG_OFFSETS, "4.0.0");
	put_u64(b, 8, 0x030C01F0);
	expect_refusal(b, block313_len, LS_ERR_BAD_DEBUG_OFFSETS, "3.12.1");
	put_u64(b, 8, 0x030D00A1); /* a 3.13 alpha */
	expect_refusal(b, block313_len, LS_ERR_UNSUPPORTED_VERSION, "pre-release");
	put_u64(b, 8, 0x030D00C2); /* release candidates are fine */
	CHECK_EQ(ls_layout_from_debug_offsets(&l, b, block313_len, NULL, 0), LS_OK);
	CHECK_EQ(l.hexversion, 0x030D00C2);
	put_u64(b, 8, 0x030D05F0); /* 3.13.5 reads with the same layout */
	CHECK_EQ(ls_layout_from_debug_offsets(&l, b, block313_len, NULL, 0), LS_OK);

	/* free-threaded */
	memcpy(b, block313, sizeof b);
	put_u64(b, 16, 1);
	expect_refusal(b, block313_len, LS_ERR_UNSUPPORTED_VERSION, "free-threaded");
	put_u64(b, 16, 7);
	expect_refusal(b, block313_len, LS_ERR_BAD_DEBUG_OFFSETS, "free_threaded");

	/* bad arguments; a NULL or zero-length why is fine */
	CHECK_EQ(ls_layout_from_debug_offsets(NULL, block313, block313_len, NULL, 0),
		 LS_ERR_INVALID_ARG);
	CHECK_EQ(ls_layout_from_debug_offsets(&l, NULL, 0, tiny, sizeof tiny), LS_ERR_INVALID_ARG);
	CHECK_EQ(tiny[sizeof tiny - 1], '\0'); /* truncated but terminated */
}

/* Byte positions in 3.14's _Py_DebugOffsets, counted by hand from the 3.14 struct
 * (Include/internal/pycore_debug_offsets.h: 3.13's groups plus threads_main,
 * code_object_generation, tlbc_generation, stackpointer, tlbc_index, co_tlbc and set_object;
 * type_object keeps tp_repr). The reference brief's [D] positions agree up to pyobject; for
 * bytes/unicode/gc it assumes tp_repr was dropped and is 8 lower. */
enum {
	P14_RT_SIZE = 24, P14_RT_FINALIZING = 32, P14_RT_INTERP_HEAD = 40,
	P14_IS_SIZE = 48, P14_IS_ID = 56, P14_IS_NEXT = 64, P14_IS_THREADS_HEAD = 72,
	P14_IS_CEVAL_GIL = 120, P14_IS_GIL_LOCKED = 144, P14_IS_GIL_HOLDER = 152,
	P14_TS_SIZE = 176, P14_TS_NEXT = 192, P14_TS_INTERP = 200, P14_TS_CURRENT_FRAME = 208,
	P14_TS_THREAD_ID = 216, P14_TS_NATIVE_TID = 224, P14_TS_DATASTACK = 232,
	P14_FR_SIZE = 248, P14_FR_PREVIOUS = 256, P14_FR_EXECUTABLE = 264, P14_FR_INSTR_PTR = 272,
	P14_FR_OWNER = 288,
	P14_CO_SIZE = 312, P14_CO_FILENAME = 320, P14_CO_NAME = 328, P14_CO_QUALNAME = 336,
	P14_CO_LINETABLE = 344, P14_CO_FIRSTLINENO = 352, P14_CO_ADAPTIVE = 384,
	P14_OB_SIZE = 400, P14_OB_TYPE = 408,
	P14_BY_SIZE = 592, P14_BY_OB_SIZE = 600, P14_BY_OB_SVAL = 608,
	P14_STR_SIZE = 616, P14_STR_STATE = 624, P14_STR_LENGTH = 632, P14_STR_ASCII = 640,
	P14_BLOCK = 760,
};

/* A 3.14.0 block with the [D] values of the reference brief (section 3.2, 3.14.0). */
static void make_block314(uint8_t *b, size_t len)
{
	memset(b, 0, len);
	memcpy(b, "xdebugpy", 8);
	put_u64(b, 8, 0x030E00F0);
	put_u64(b, 16, 0);
	put_u64(b, P14_RT_SIZE, 300000);
	put_u64(b, P14_RT_FINALIZING, 600);
	put_u64(b, P14_RT_INTERP_HEAD, 640);
	put_u64(b, P14_IS_SIZE, 200000);
	put_u64(b, P14_IS_ID, 7300);
	put_u64(b, P14_IS_NEXT, 7290);
	put_u64(b, P14_IS_THREADS_HEAD, 7400);
	put_u64(b, P14_IS_CEVAL_GIL, 16);
	put_u64(b, P14_IS_GIL_LOCKED, 7800);
	put_u64(b, P14_IS_GIL_HOLDER, 7792);
	put_u64(b, P14_TS_SIZE, 336);
	put_u64(b, P14_TS_NEXT, 8);
	put_u64(b, P14_TS_INTERP, 16);
	put_u64(b, P14_TS_CURRENT_FRAME, 72);
	put_u64(b, P14_TS_THREAD_ID, 152);
	put_u64(b, P14_TS_NATIVE_TID, 160);
	put_u64(b, P14_TS_DATASTACK, 232);
	put_u64(b, P14_FR_SIZE, 88);
	put_u64(b, P14_FR_PREVIOUS, 8);
	put_u64(b, P14_FR_EXECUTABLE, 0);
	put_u64(b, P14_FR_INSTR_PTR, 56);
	put_u64(b, P14_FR_OWNER, 74);
	put_u64(b, P14_CO_SIZE, 224);
	put_u64(b, P14_CO_FILENAME, 112);
	put_u64(b, P14_CO_NAME, 120);
	put_u64(b, P14_CO_QUALNAME, 128);
	put_u64(b, P14_CO_LINETABLE, 136);
	put_u64(b, P14_CO_FIRSTLINENO, 68);
	put_u64(b, P14_CO_ADAPTIVE, 208);
	put_u64(b, P14_OB_SIZE, 16);
	put_u64(b, P14_OB_TYPE, 8);
	put_u64(b, P14_BY_SIZE, 33);
	put_u64(b, P14_BY_OB_SIZE, 16);
	put_u64(b, P14_BY_OB_SVAL, 32);
	put_u64(b, P14_STR_SIZE, 64);
	put_u64(b, P14_STR_STATE, 32);
	put_u64(b, P14_STR_LENGTH, 16);
	put_u64(b, P14_STR_ASCII, 40);
}

static void test_debug_314_handmade(void)
{
	uint8_t b[1024];
	struct ls_layout l;
	char why[256] = "";
	int rc;

	make_block314(b, sizeof b);
	rc = ls_layout_from_debug_offsets(&l, b, sizeof b, why, sizeof why);
	CHECK_EQ(rc, LS_OK);
	if (rc != LS_OK) {
		fprintf(stderr, "  why: %s\n", why);
		return;
	}
	CHECK_EQ(l.hexversion, 0x030E00F0);
	CHECK_EQ(l.minor, 14);
	CHECK_EQ(l.from_debug_offsets, 1);
	CHECK_EQ(l.frame_kind, LS_FRAME_DIRECT);
	CHECK_EQ(l.lasti_kind, LS_LASTI_INSTR_PTR);
	CHECK_EQ(l.gil_kind, LS_GIL_INTERP_EMBEDDED);
	CHECK_EQ(l.owner_skip_min, 3);
	CHECK_EQ(l.owner_torn, 2);
	CHECK(l.code_tag_mask == ~(uint64_t)3);
	CHECK_EQ(l.rt_size, 300000);
	CHECK_EQ(l.rt_finalizing, 600);
	CHECK_EQ(l.rt_interp_head, 640);
	CHECK_EQ(l.rt_tstate_current, -1);
	CHECK_EQ(l.is_size, 200000);
	CHECK_EQ(l.is_id, 7300);
	CHECK_EQ(l.is_next, 7290);
	CHECK_EQ(l.is_threads_head, 7400);
	CHECK_EQ(l.is_gil_pointer, 16);
	CHECK_EQ(l.is_gil_locked, 7800);
	CHECK_EQ(l.is_gil_holder, 7792);
	CHECK_EQ(l.ts_size, 336);
	CHECK_EQ(l.ts_next, 8);
	CHECK_EQ(l.ts_interp, 16);
	CHECK_EQ(l.ts_frame, 72);
	CHECK_EQ(l.cf_current_frame, -1);
	CHECK_EQ(l.ts_thread_id, 152);
	CHECK_EQ(l.ts_native_tid, 160);
	CHECK_EQ(l.ts_datastack_chunk, 232);
	CHECK_EQ(l.chunk_previous, 0);
	CHECK_EQ(l.chunk_size, 8);
	CHECK_EQ(l.chunk_data, 24);
	CHECK_EQ(l.fr_size, 88);
	CHECK_EQ(l.fr_back, 8);
	CHECK_EQ(l.fr_code, 0);
	CHECK_EQ(l.fr_lasti, 56);
	CHECK_EQ(l.fr_owner, 74);
	CHECK_EQ(l.fr_is_entry, -1);
	CHECK_EQ(l.fr_state, -1);
	CHECK_EQ(l.co_size, 224);
	CHECK_EQ(l.co_filename, 112);
	CHECK_EQ(l.co_name, 120);
	CHECK_EQ(l.co_qualname, 128);
	CHECK_EQ(l.co_linetable, 136);
	CHECK_EQ(l.co_firstlineno, 68);
	CHECK_EQ(l.co_code_adaptive, 208);
	CHECK_EQ(l.co_firsttraceable, -1);
	CHECK_EQ(l.co_code, -1);
	CHECK_EQ(l.co_ob_size, 16);
	CHECK_EQ(l.ob_type, 8);
	CHECK_EQ(l.bytes_size, 16);
	CHECK_EQ(l.bytes_sval, 32);
	CHECK_EQ(l.str_state, 32);
	CHECK_EQ(l.str_length, 16);
	CHECK_EQ(l.str_ascii_size, 40);
	CHECK_EQ(l.str_compact_size, 56);

	/* any 3.14 release level parses; the block must be complete */
	put_u64(b, 8, 0x030E00B3);
	CHECK_EQ(ls_layout_from_debug_offsets(&l, b, sizeof b, NULL, 0), LS_OK);
	CHECK_EQ(l.hexversion, 0x030E00B3);
	expect_refusal(b, P14_BLOCK - 1, LS_ERR_BAD_DEBUG_OFFSETS, "truncated");
	CHECK_EQ(ls_layout_from_debug_offsets(&l, b, P14_BLOCK, NULL, 0), LS_OK);

	/* the same values at positions that assume tp_repr was dropped (the reference brief's
	 * bytes/unicode positions) cannot pass for a 3.14 block */
	make_block314(b, sizeof b);
	memset(b + P14_BY_SIZE - 8, 0, 6 * 8);
	put_u64(b, P14_BY_SIZE - 8, 33);
	put_u64(b, P14_BY_OB_SIZE - 8, 16);
	put_u64(b, P14_BY_OB_SVAL - 8, 32);
	memset(b + P14_STR_SIZE - 8, 0, 4 * 8);
	put_u64(b, P14_STR_SIZE - 8, 64);
	put_u64(b, P14_STR_STATE - 8, 32);
	put_u64(b, P14_STR_LENGTH - 8, 16);
	put_u64(b, P14_STR_ASCII - 8, 40);
	expect_refusal(b, sizeof b, LS_ERR_BAD_DEBUG_OFFSETS, "bytes_object");
}

int main(void)
{
	test_builtin_reference_values();
	test_builtin_kinds_match_rules();
	test_builtin_self_consistent();
	test_version_rules();
	if (load_block313() == 0) {
		test_debug_313_matches_builtin();
		test_debug_refusals();
	} else {
		ls_test_failed++;
	}
	test_debug_314_handmade();

	printf("%d passed, %d failed\n", ls_test_passed, ls_test_failed);
	return ls_test_failed == 0 ? 0 : 1;
}
