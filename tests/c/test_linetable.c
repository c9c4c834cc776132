/* test_linetable.c - unit tests for src/engine/linetable.c on hand-made tables.
 *
 * Each format gets tables that exercise its corners (lnotab's split jumps and negative deltas,
 * 3.10's "no line" and zero-length pairs, every 3.11+ entry form), malformed tables that must be
 * refused, and lookups at range boundaries. Every table is copied into a heap block of exactly
 * its length before decoding, so under AddressSanitizer a read past the end is a crash, not a
 * silent pass. Parity with CPython on real code objects is tested in tests/unit/test_linetable.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linetable.h"
#include "ls_error.h"
#include "testing.h"

#define NONE LS_LINE_NONE

/* Decode a copy of table[0..len) that lives in a block of exactly len bytes. */
static int decode(enum ls_linetable_kind kind, const uint8_t *table, size_t len, int firstlineno,
		  struct ls_line_ranges *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	if (!copy)
		abort();
	if (len)
		memcpy(copy, table, len);
	err = ls_linetable_decode(kind, copy, len, firstlineno, out);
	free(copy);
	return err;
}

static void check_ranges(const char *file, int line, const struct ls_line_ranges *got,
			 const struct ls_line_range *want, size_t n)
{
	size_t i;

	testing_checks++;
	if (got->len != n) {
		testing_failures++;
		fprintf(stderr, "%s:%d: expected %zu ranges, got %zu\n", file, line, n, got->len);
	}
	for (i = 0; i < n && i < got->len; i++) {
		const struct ls_line_range *g = &got->items[i];

		testing_checks++;
		if (g->start != want[i].start || g->end != want[i].end || g->line != want[i].line) {
			testing_failures++;
			fprintf(stderr, "%s:%d: range %zu is [%u, %u) -> %d, expected [%u, %u) -> %d\n", file,
				line, i, g->start, g->end, g->line, want[i].start, want[i].end, want[i].line);
		}
	}
}

#define CHECK_RANGES(got, ...)                                                                     \
	do {                                                                                       \
		static const struct ls_line_range want_[] = {__VA_ARGS__};                         \
		check_ranges(__FILE__, __LINE__, (got), want_, sizeof(want_) / sizeof(want_[0])); \
	} while (0)

/* Decode and expect LS_ERR_BAD_LINETABLE. */
#define CHECK_BAD(kind, first, ...)                                                    \
	do {                                                                           \
		static const uint8_t table_[] = {__VA_ARGS__};                         \
		struct ls_line_ranges r_ = {0};                                        \
		CHECK_EQ_INT(decode((kind), table_, sizeof(table_), (first), &r_), LS_ERR_BAD_LINETABLE); \
		ls_line_ranges_release(&r_);                                           \
	} while (0)

/* ---- 3.8/3.9 co_lnotab ---------------------------------------------------------------------- */

static void test_linetable__lnotab_basic(void)
{
	static const uint8_t t[] = {6, 1, 8, 2};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_LNOTAB, t, sizeof(t), 10, &r), 0);
	CHECK_RANGES(&r, {0, 6, 10}, {6, 14, 11}, {14, UINT32_MAX, 13});
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 0, 10), 10);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 5, 10), 10);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 6, 10), 11);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 14, 10), 13);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 1000000, 10), 13); /* past the last pair: last line */
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, (int64_t)UINT32_MAX - 1, 10), 13);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, UINT32_MAX, 10), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, -1, 10), 10);
	ls_line_ranges_release(&r);
}

/* Jumps wider than a byte are split into pairs with a zero increment; line increments are signed
 * (0x81 = -127, 0xfe = -2); the resulting equal-line neighbours are merged. */
static void test_linetable__lnotab_split_and_negative(void)
{
	static const uint8_t t[] = {0, 1, 6, 1, 255, 0, 45, 127, 0, 0x81, 4, 0xfe};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_LNOTAB, t, sizeof(t), 1, &r), 0);
	CHECK_RANGES(&r, {0, 6, 2}, {6, 310, 3}, {310, UINT32_MAX, 1});
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 300, 1), 3);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 310, 1), 1);
	ls_line_ranges_release(&r);
}

static void test_linetable__lnotab_empty(void)
{
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(ls_linetable_decode(LS_LINETABLE_LNOTAB, NULL, 0, 7, &r), 0);
	CHECK_RANGES(&r, {0, UINT32_MAX, 7});
	ls_line_ranges_release(&r);
}

static void test_linetable__lnotab_malformed(void)
{
	static const uint8_t odd[] = {6, 1, 8};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_LNOTAB, odd, sizeof(odd), 10, &r), LS_ERR_BAD_LINETABLE);
	CHECK_RANGES(&r, {0, 6, 10}); /* what came before the fault */
	ls_line_ranges_release(&r);
	CHECK_BAD(LS_LINETABLE_LNOTAB, 1, 0);
	CHECK_BAD(LS_LINETABLE_LNOTAB, INT32_MAX, 2, 1);    /* line leaves int32 upwards */
	CHECK_BAD(LS_LINETABLE_LNOTAB, INT32_MIN, 2, 0xff); /* and downwards */
}

/* ---- 3.10 co_linetable ---------------------------------------------------------------------- */

/* (0, +1) only moves the line; (4, -128) is a range with no line that leaves the running line
 * alone; (0, -128) is nothing; (254, 0) continues line 5 and merges. */
static void test_linetable__310_basic(void)
{
	static const uint8_t t[] = {0, 1, 6, 0, 4, 0x80, 8, 2, 2, 0xfd, 0, 0x80, 254, 0};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_310, t, sizeof(t), 5, &r), 0);
	CHECK_RANGES(&r, {0, 6, 6}, {6, 10, NONE}, {10, 18, 8}, {18, 274, 5});
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 5, 5), 6);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 6, 5), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 9, 5), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 10, 5), 8);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 273, 5), 5);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 274, 5), NONE); /* past the end */
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, -1, 5), 5);
	ls_line_ranges_release(&r);
}

/* Only zero-length pairs, or nothing: no ranges at all. */
static void test_linetable__310_empty(void)
{
	static const uint8_t t[] = {0, 3, 0, 0x80};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_310, t, sizeof(t), 5, &r), 0);
	CHECK_EQ_INT(r.len, 0);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 0, 5), NONE);
	CHECK_EQ_INT(ls_linetable_decode(LS_LINETABLE_310, NULL, 0, 5, &r), 0);
	CHECK_EQ_INT(r.len, 0);
	ls_line_ranges_release(&r);
}

static void test_linetable__310_malformed(void)
{
	static const uint8_t odd[] = {6, 1, 8};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_310, odd, sizeof(odd), 10, &r), LS_ERR_BAD_LINETABLE);
	CHECK_RANGES(&r, {0, 6, 11});
	ls_line_ranges_release(&r);
	CHECK_BAD(LS_LINETABLE_310, 1, 2);
	CHECK_BAD(LS_LINETABLE_310, INT32_MAX, 2, 1);
	CHECK_BAD(LS_LINETABLE_310, INT32_MIN, 2, 0xff);
	/* -128 is not a line delta, so it cannot overflow */
	CHECK_EQ_INT(decode(LS_LINETABLE_310, (const uint8_t[]){2, 0x80}, 2, INT32_MIN, &r), 0);
	CHECK_RANGES(&r, {0, 2, NONE});
	ls_line_ranges_release(&r);
}

/* ---- 3.11+ location table ------------------------------------------------------------------- */

/* Entry heads are 1cccclll: code c, length l + 1 code units. */
#define LOC(code, units) ((uint8_t)(0x80 | ((code) << 3) | ((units) - 1)))

/* One entry of every form, firstlineno 10. */
static void test_linetable__locations_forms(void)
{
	static const uint8_t t[] = {
		LOC(0, 2), 0x05,                /* short form: same line, one column byte */
		LOC(11, 3), 4, 9,               /* one-line form: line + 1, start and end column */
		LOC(13, 1), 0x07,               /* no columns: signed varint 7 = -3 */
		LOC(15, 8),                     /* no location: no line, running line stays 8 */
		LOC(12, 1), 1, 2,               /* one-line form: line + 2 */
		LOC(14, 4), 0x48, 0x03,         /* long form: signed varint 200 = +100 (two groups), */
		0x00, 0x05, 0x46, 0x01,         /* end line delta 0, column + 1 5, end column + 1 70 */
		LOC(10, 1), 0, 0,               /* one-line form with + 0: merges with the long form */
	};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_LOCATIONS, t, sizeof(t), 10, &r), 0);
	CHECK_RANGES(&r, {0, 2, 10}, {2, 5, 11}, {5, 6, 8}, {6, 14, NONE}, {14, 15, 10}, {15, 20, 110});
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 1, 10), 10);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 2, 10), 11);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 5, 10), 8);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 6, 10), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 13, 10), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 14, 10), 10);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 19, 10), 110);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 20, 10), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, -1, 10), 10);
	ls_line_ranges_release(&r);
}

/* A no-location entry first; a run of same-line short forms merges into one range. */
static void test_linetable__locations_none_and_merge(void)
{
	static const uint8_t t[] = {LOC(15, 1), LOC(0, 1), 0, LOC(3, 8), 0x11, LOC(9, 1), 0x7f};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_LOCATIONS, t, sizeof(t), 3, &r), 0);
	CHECK_RANGES(&r, {0, 1, NONE}, {1, 11, 3});
	ls_line_ranges_release(&r);
}

/* The widest varint a 32-bit value needs: six groups. 0xffffffff as a signed varint is
 * -0x7fffffff, which takes INT32_MAX to 0. */
static void test_linetable__locations_wide_varint(void)
{
	static const uint8_t t[] = {LOC(13, 1), 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x03};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_LOCATIONS, t, sizeof(t), INT32_MAX, &r), 0);
	CHECK_RANGES(&r, {0, 1, 0});
	ls_line_ranges_release(&r);
}

static void test_linetable__locations_malformed(void)
{
	static const uint8_t after_valid[] = {LOC(0, 1), 0x00, 0x05};
	struct ls_line_ranges r = {0};

	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, 0x05);                      /* no entry marker */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(0, 1));                 /* short form without its byte */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(11, 1), 0x01);          /* one-line form, one column */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(13, 1));                /* no columns, no varint */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(13, 1), 0x41);          /* varint cut after a group */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(13, 1), 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x00);
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(13, 1), 0x40, 0x40, 0x40, 0x40, 0x40, 0x3f); /* > 32 bits */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(14, 1), 0x02, 0x00, 0x01); /* long form, 3 of 4 */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(14, 1));
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(0, 1), 0x80);           /* extra byte with bit 7 */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(13, 1), 0x82);          /* varint byte with bit 7 */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, 1, LOC(12, 1), 0x01, LOC(0, 1)); /* column byte is a head */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, INT32_MAX, LOC(11, 1), 0, 0);  /* line leaves int32 */
	CHECK_BAD(LS_LINETABLE_LOCATIONS, INT32_MIN, LOC(13, 1), 0x03);  /* -1 below INT32_MIN */
	/* an entry after a good one: the good one is kept */
	CHECK_EQ_INT(decode(LS_LINETABLE_LOCATIONS, after_valid, sizeof(after_valid), 4, &r),
		     LS_ERR_BAD_LINETABLE);
	CHECK_RANGES(&r, {0, 1, 4});
	ls_line_ranges_release(&r);
}

/* ---- all kinds -------------------------------------------------------------------------------- */

/* A table of exactly LS_LINETABLE_MAX_BYTES is decoded; one byte more is refused. The address
 * counter cannot pass UINT32_MAX within that size (at most 255 * 2^19 bytes or 8 * 2^20 code
 * units), so its overflow check is not reachable from here. */
static void test_linetable__size_limit(void)
{
	size_t n = LS_LINETABLE_MAX_BYTES, i;
	uint8_t *t = calloc(n + 1, 1);
	struct ls_line_ranges r = {0};
	int kind;

	if (!t)
		abort();
	CHECK_EQ_INT(ls_linetable_decode(LS_LINETABLE_LNOTAB, t, n, 1, &r), 0);
	CHECK_RANGES(&r, {0, UINT32_MAX, 1});
	ls_line_ranges_release(&r);
	for (i = 0; i < n; i += 2) {
		t[i] = LOC(0, 8);
		t[i + 1] = 0;
	}
	CHECK_EQ_INT(ls_linetable_decode(LS_LINETABLE_LOCATIONS, t, n, 1, &r), 0);
	CHECK_RANGES(&r, {0, LS_LINETABLE_MAX_BYTES / 2 * 8, 1});
	ls_line_ranges_release(&r);
	for (kind = LS_LINETABLE_LNOTAB; kind <= LS_LINETABLE_LOCATIONS; kind++) {
		CHECK_EQ_INT(ls_linetable_decode((enum ls_linetable_kind)kind, t, n + 1, 1, &r),
			     LS_ERR_BAD_LINETABLE);
		CHECK_EQ_INT(r.len, 0);
	}
	ls_line_ranges_release(&r);
	free(t);
}

/* Many ranges: the array grows, stays sorted, and every position is found. */
static void test_linetable__many_ranges(void)
{
	enum { N = 5000 };
	uint8_t *t = malloc(2 * N);
	struct ls_line_ranges r = {0};
	size_t i;

	if (!t)
		abort();
	for (i = 0; i < N; i++) {
		t[2 * i] = LOC(13, 2);
		t[2 * i + 1] = 0x02; /* +1 line per entry */
	}
	CHECK_EQ_INT(decode(LS_LINETABLE_LOCATIONS, t, 2 * N, 0, &r), 0);
	CHECK_EQ_INT(r.len, N);
	for (i = 0; i < 2 * N; i++)
		CHECK_EQ_INT(ls_line_ranges_lookup(&r, (int64_t)i, 0), i / 2 + 1);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 2 * N, 0), NONE);
	ls_line_ranges_release(&r);
	free(t);
}

static void test_linetable__invalid_arguments(void)
{
	static const uint8_t t[] = {2, 1};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(ls_linetable_decode((enum ls_linetable_kind)0, t, sizeof(t), 1, &r), LS_ERR_INVALID_ARG);
	CHECK_EQ_INT(ls_linetable_decode((enum ls_linetable_kind)4, t, sizeof(t), 1, &r), LS_ERR_INVALID_ARG);
	CHECK_EQ_INT(ls_linetable_decode(LS_LINETABLE_310, t, sizeof(t), 1, NULL), LS_ERR_INVALID_ARG);
	CHECK_EQ_INT(ls_linetable_decode(LS_LINETABLE_310, NULL, 2, 1, &r), LS_ERR_INVALID_ARG);
	CHECK_EQ_INT(ls_linetable_decode(LS_LINETABLE_LOCATIONS, NULL, 0, 1, &r), 0);
	CHECK_EQ_INT(r.len, 0);
	ls_line_ranges_release(&r);
}

/* A second decode appends after what is there and never merges into it. */
static void test_linetable__append_does_not_merge(void)
{
	static const uint8_t t[] = {LOC(0, 2), 0};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_LOCATIONS, t, sizeof(t), 9, &r), 0);
	CHECK_EQ_INT(decode(LS_LINETABLE_LOCATIONS, t, sizeof(t), 9, &r), 0);
	CHECK_RANGES(&r, {0, 2, 9}, {0, 2, 9});
	ls_line_ranges_release(&r);
}

/* ---- lookup ------------------------------------------------------------------------------------ */

static void test_linetable__lookup_edges(void)
{
	struct ls_line_range items[] = {{2, 4, 7}, {4, 6, 8}, {10, 12, NONE}, {12, 13, 9}};
	struct ls_line_ranges r = {items, 4, 4};
	struct ls_line_ranges empty = {0};

	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 0, 1), NONE); /* before the first range */
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 2, 1), 7);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 3, 1), 7);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 4, 1), 8);    /* end is exclusive */
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 6, 1), NONE); /* in a gap */
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 9, 1), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 10, 1), NONE); /* a range with no line */
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 12, 1), 9);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, 13, 1), NONE); /* after the last */
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, -1, 1), 1);    /* not started: firstlineno */
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, INT64_MIN, 1), 1);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, UINT32_MAX, 1), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, (int64_t)UINT32_MAX + 3, 1), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&r, INT64_MAX, 1), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&empty, 0, 5), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(&empty, -1, 5), 5);
	CHECK_EQ_INT(ls_line_ranges_lookup(NULL, 0, 5), NONE);
	CHECK_EQ_INT(ls_line_ranges_lookup(NULL, -1, 5), 5);
}

static void test_linetable__release(void)
{
	static const uint8_t t[] = {2, 1};
	struct ls_line_ranges r = {0};

	CHECK_EQ_INT(decode(LS_LINETABLE_LNOTAB, t, sizeof(t), 1, &r), 0);
	ls_line_ranges_release(&r);
	CHECK(r.items == NULL && r.len == 0 && r.cap == 0);
	ls_line_ranges_release(&r); /* twice is harmless */
	ls_line_ranges_release(NULL);
}

int main(void)
{
	RUN_TEST(test_linetable__lnotab_basic);
	RUN_TEST(test_linetable__lnotab_split_and_negative);
	RUN_TEST(test_linetable__lnotab_empty);
	RUN_TEST(test_linetable__lnotab_malformed);
	RUN_TEST(test_linetable__310_basic);
	RUN_TEST(test_linetable__310_empty);
	RUN_TEST(test_linetable__310_malformed);
	RUN_TEST(test_linetable__locations_forms);
	RUN_TEST(test_linetable__locations_none_and_merge);
	RUN_TEST(test_linetable__locations_wide_varint);
	RUN_TEST(test_linetable__locations_malformed);
	RUN_TEST(test_linetable__size_limit);
	RUN_TEST(test_linetable__many_ranges);
	RUN_TEST(test_linetable__invalid_arguments);
	RUN_TEST(test_linetable__append_does_not_merge);
	RUN_TEST(test_linetable__lookup_edges);
	RUN_TEST(test_linetable__release);
	return testing_done();
}
