/* fuzz_linetable.c - libFuzzer target for src/engine/linetable.c.
 *
 * Input: byte 0 picks the kind (value % 3 + 1: 0 lnotab, 1 3.10, 2 locations), bytes 1-4 are
 * firstlineno (int32, little endian), the rest is the table. The target decodes it and abort()s
 * when the result breaks the ranges' invariants: every range non-empty, sorted and disjoint, no
 * two touching neighbours with the same line (they would have been merged); on success the
 * ranges also tile [0, end) without gaps, and an lnotab's last range is open-ended. It then looks
 * up the boundaries of every range (and -1, and past the end) and compares with a linear scan.
 * Sanitizers catch the rest (reads past the table, signed overflow). The seed corpus in
 * corpus/linetable/ holds real tables from 3.8 to 3.13 in this input format.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/engine \
 *       tests/fuzz/fuzz_linetable.c src/engine/linetable.c -o fuzz_linetable
 *   ./fuzz_linetable -max_total_time=300 tests/fuzz/corpus/linetable
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linetable.h"
#include "ls_error.h"

static int scan_lookup(const struct ls_line_ranges *r, int64_t pos, int firstlineno)
{
	size_t i;

	if (pos < 0)
		return firstlineno;
	for (i = 0; i < r->len; i++)
		if (r->items[i].start <= pos && pos < r->items[i].end)
			return r->items[i].line;
	return LS_LINE_NONE;
}

static void check_lookup(const struct ls_line_ranges *r, int64_t pos, int firstlineno)
{
	if (ls_line_ranges_lookup(r, pos, firstlineno) != scan_lookup(r, pos, firstlineno))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_line_ranges r = {0};
	enum ls_linetable_kind kind;
	uint32_t raw;
	int32_t firstlineno;
	size_t i;
	int err;

	if (size < 5)
		return 0;
	kind = (enum ls_linetable_kind)(data[0] % 3 + 1);
	raw = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
	memcpy(&firstlineno, &raw, sizeof(firstlineno)); /* two's complement reinterpretation */
	err = ls_linetable_decode(kind, data + 5, size - 5, firstlineno, &r);
	if (err != 0 && err != LS_ERR_BAD_LINETABLE && err != LS_ERR_NOMEM)
		abort();

	for (i = 0; i < r.len; i++) {
		const struct ls_line_range *cur = &r.items[i];

		if (cur->start >= cur->end)
			abort();
		if (i > 0) {
			const struct ls_line_range *prev = &r.items[i - 1];

			if (prev->end > cur->start)
				abort(); /* unsorted or overlapping */
			if (prev->end == cur->start && prev->line == cur->line)
				abort(); /* should have been merged */
			if (err == 0 && prev->end != cur->start)
				abort(); /* a gap: every decoder tiles its address space */
		}
	}
	if (err == 0 && r.len > 0 && r.items[0].start != 0)
		abort();
	if (err == 0 && kind == LS_LINETABLE_LNOTAB && (r.len == 0 || r.items[r.len - 1].end != UINT32_MAX))
		abort();

	check_lookup(&r, -1, firstlineno);
	check_lookup(&r, INT64_MAX, firstlineno);
	for (i = 0; i < r.len && i < 64; i++) {
		check_lookup(&r, r.items[i].start, firstlineno);
		check_lookup(&r, (int64_t)r.items[i].end - 1, firstlineno);
		check_lookup(&r, r.items[i].end, firstlineno);
	}
	ls_line_ranges_release(&r);
	return 0;
}
