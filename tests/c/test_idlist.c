/* test_idlist.c - C tests of idlist.h: stored id lists parsed (well-formed, spaces, limits) and
 * refused (every truncation and a byte flipped at every position of a valid list, values past
 * 2^32, no room), dense renumbering in value order, gather, and integers written as JSON at the
 * extremes of each width. Runs under ASan and UBSan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idlist.h"
#include "ls_error.h"
#include "testing.h"

static int parse(const char *text, uint32_t *out, size_t cap, size_t *n)
{
	*n = 0;
	return ls_idlist_parse(text, strlen(text), out, cap, n);
}

static void test_idlist__parse(void)
{
	uint32_t v[8];
	size_t n;
	CHECK_EQ_INT(parse("[12,7,3]", v, 8, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK(v[0] == 12 && v[1] == 7 && v[2] == 3);
	CHECK_EQ_INT(parse(" [ 1 , 2 ] ", v, 8, &n), 0);
	CHECK(n == 2 && v[0] == 1 && v[1] == 2);
	CHECK_EQ_INT(parse("[]", v, 8, &n), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(parse("[4294967295]", v, 8, &n), 0);
	CHECK(n == 1 && v[0] == UINT32_MAX);
	const char *bad[] = {"", "[", "]", "[1,]", "[,1]", "[1 2]", "[-1]", "[1.5]", "[4294967296]",
			     "[99999999999999999999999]", "[1]x", "1,2", "[1,,2]", "[\"1\"]", "[[1]]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CHECK_EQ_INT(parse(bad[i], v, 8, &n), LS_ERR_INVALID_ARG);
		CHECK_EQ_INT(n, 0);
	}
	CHECK_EQ_INT(parse("[1,2,3]", v, 2, &n), LS_ERR_NOMEM);
	CHECK_EQ_INT(n, 0);
	/* appends after what is there */
	n = 0;
	CHECK_EQ_INT(ls_idlist_parse("[5]", 3, v, 8, &n), 0);
	CHECK_EQ_INT(ls_idlist_parse("[6,7]", 5, v, 8, &n), 0);
	CHECK(n == 3 && v[0] == 5 && v[2] == 7);
}

static void test_idlist__damaged_text_is_refused_or_parsed_within_bounds(void)
{
	const char *good = "[120,7,33,0,4]";
	size_t len = strlen(good);
	char text[32];
	uint32_t v[16];
	for (size_t cut = 0; cut < len; cut++) {
		size_t n = 0;
		CHECK_EQ_INT(ls_idlist_parse(good, cut, v, 16, &n), LS_ERR_INVALID_ARG);
	}
	for (size_t at = 0; at < len; at++)
		for (int byte = 0; byte < 256; byte++) {
			memcpy(text, good, len);
			text[at] = (char)byte;
			size_t n = 0;
			int rc = ls_idlist_parse(text, len, v, 16, &n);
			CHECK(rc == 0 || rc == LS_ERR_INVALID_ARG);
			CHECK(rc != 0 || n <= 8);
		}
}

static void test_idlist__renumber(void)
{
	uint32_t ids[] = {40, 7, 40, 1000000, 7, 0};
	uint32_t distinct[6], renumbered[6];
	size_t d;
	CHECK_EQ_INT(ls_idlist_renumber(ids, 6, distinct, &d, renumbered), 0);
	CHECK_EQ_INT(d, 4);
	CHECK(distinct[0] == 0 && distinct[1] == 7 && distinct[2] == 40 && distinct[3] == 1000000);
	uint32_t want[] = {2, 1, 2, 3, 1, 0};
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(renumbered[i], want[i]);
	CHECK_EQ_INT(ls_idlist_renumber(ids, 0, distinct, &d, renumbered), 0);
	CHECK_EQ_INT(d, 0);
	/* sparse values (past the table's reach) take the sorting way, to the same result */
	uint32_t sparse[] = {UINT32_MAX, 5, UINT32_MAX, 3000000000u};
	CHECK_EQ_INT(ls_idlist_renumber(sparse, 4, distinct, &d, renumbered), 0);
	CHECK_EQ_INT(d, 3);
	CHECK(distinct[0] == 5 && distinct[1] == 3000000000u && distinct[2] == UINT32_MAX);
	CHECK(renumbered[0] == 2 && renumbered[1] == 0 && renumbered[2] == 2 && renumbered[3] == 1);
	/* random: renumbered ids map back to the originals */
	srand(7);
	for (int round = 0; round < 50; round++) {
		size_t n = (size_t)(rand() % 300);
		uint32_t *x = malloc((n + 1) * 4), *dd = malloc((n + 1) * 4), *r = malloc((n + 1) * 4);
		for (size_t i = 0; i < n; i++)
			x[i] = (uint32_t)rand() % 50 * (round % 2 ? 1000u : 100000000u);
		CHECK_EQ_INT(ls_idlist_renumber(x, n, dd, &d, r), 0);
		for (size_t i = 0; i < n; i++)
			CHECK(r[i] < d && dd[r[i]] == x[i]);
		for (size_t i = 1; i < d; i++)
			CHECK(dd[i - 1] < dd[i]);
		free(x);
		free(dd);
		free(r);
	}
}

static void test_idlist__gather(void)
{
	int32_t table[] = {10, -1, 30};
	int32_t index[] = {2, -1, 0, 1};
	int32_t out[4];
	CHECK_EQ_INT(ls_idlist_gather(index, 4, table, 3, -7, out), 0);
	CHECK(out[0] == 30 && out[1] == -7 && out[2] == 10 && out[3] == -1);
	int32_t past[] = {3};
	CHECK_EQ_INT(ls_idlist_gather(past, 1, table, 3, 0, out), LS_ERR_INVALID_ARG);
}

static void check_json(const void *values, size_t n, int width, int is_signed, const char *want)
{
	char buf[256];
	CHECK(ls_idlist_json_size(n) <= sizeof(buf));
	size_t len = ls_idlist_json(values, n, width, is_signed, buf);
	buf[len] = 0;
	if (strcmp(buf, want) != 0) {
		fprintf(stderr, "json: got %s want %s\n", buf, want);
		CHECK(0);
	}
}

static void test_idlist__json(void)
{
	int32_t s32[] = {0, -1, INT32_MIN, INT32_MAX, 42};
	check_json(s32, 5, 4, 1, "[0,-1,-2147483648,2147483647,42]");
	uint32_t u32[] = {UINT32_MAX, 0, 10};
	check_json(u32, 3, 4, 0, "[4294967295,0,10]");
	int64_t s64[] = {INT64_MIN, INT64_MAX, -10};
	check_json(s64, 3, 8, 1, "[-9223372036854775808,9223372036854775807,-10]");
	uint64_t u64[] = {UINT64_MAX, 1000000000000ull};
	check_json(u64, 2, 8, 0, "[18446744073709551615,1000000000000]");
	check_json(u64, 0, 8, 0, "[]");
	/* the size bound holds for the longest values */
	uint64_t longest[8];
	for (int i = 0; i < 8; i++)
		longest[i] = (uint64_t)INT64_MIN;
	char buf[256];
	CHECK(ls_idlist_json(longest, 8, 8, 1, buf) <= ls_idlist_json_size(8));
	CHECK(ls_idlist_json(longest, 8, 8, 0, buf) <= ls_idlist_json_size(8));
}

int main(void)
{
	RUN_TEST(test_idlist__parse);
	RUN_TEST(test_idlist__damaged_text_is_refused_or_parsed_within_bounds);
	RUN_TEST(test_idlist__renumber);
	RUN_TEST(test_idlist__gather);
	RUN_TEST(test_idlist__json);
	return testing_done();
}
