/* linetable.h - decode CPython line tables into sorted address ranges.
 *
 * Pure functions over bytes we copied out of the target: co_lnotab (3.8, 3.9), the 3.10
 * co_linetable (PEP 626) and the 3.11+ location table (Objects/locations.md). A table is
 * decoded once per code object into an array of half-open ranges [start, end) -> line, sorted by
 * start, so a sample looks its line up by binary search. The input is hostile (it came from
 * another process's memory): every loop is bounded by the table's length and malformed tables
 * are reported, never read past.
 *
 * Units: `start` and `end` are in the unit the walker computes from the frame, which is bytes for
 * LNOTAB and 310 (3.10's f_lasti is an instruction index: the walker multiplies it by 2) and
 * code units (2 bytes) for LOCATIONS.
 */
#ifndef LS_LINETABLE_H
#define LS_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

#define LS_LINE_NONE (-1) /* an instruction with no line (compiler-generated) */

struct ls_line_range {
	uint32_t start, end; /* half open */
	int32_t line;        /* LS_LINE_NONE when the instruction has no line */
};

/* Owned array of ranges. Invariant: ranges are sorted by start and do not overlap; ranges that
 * only carried a line change (empty) are not stored. */
struct ls_line_ranges {
	struct ls_line_range *items;
	size_t len, cap;
};

#define LS_LINETABLE_MAX_BYTES (1u << 20) /* tables larger than 1 MiB are refused */

/* Decode `table` (len bytes) of kind `kind` for a code object whose first line is `firstlineno`.
 * Appends the ranges to *out (which the caller initialised to zero or cleared).
 * Returns 0, LS_ERR_NOMEM, or LS_ERR_BAD_LINETABLE when the table is malformed (truncated
 * varint, extra bytes missing, too long); on error *out holds what was decoded before the fault. */
int ls_linetable_decode(enum ls_linetable_kind kind, const uint8_t *table, size_t len, int firstlineno,
			struct ls_line_ranges *out);

/* The line for position `pos` (units as above). A negative pos (a frame that has not started)
 * answers firstlineno; a pos outside every range answers LS_LINE_NONE. */
int ls_line_ranges_lookup(const struct ls_line_ranges *ranges, int64_t pos, int firstlineno);

void ls_line_ranges_release(struct ls_line_ranges *ranges);

#endif
