/* linetable.c - decode CPython line tables into sorted address ranges (see linetable.h).
 *
 * Three formats are understood: the 3.8/3.9 co_lnotab, the 3.10 co_linetable of PEP 626 and the
 * 3.11+ location table. Each decoder walks the table once and appends half-open [start, end)
 * ranges with their line (or LS_LINE_NONE) to a struct ls_line_ranges; adjacent ranges that carry
 * the same line are merged, and empty ranges are dropped. ls_line_ranges_lookup() then answers a
 * sample by binary search.
 *
 * What it does not do: it reads no remote memory (the caller copies the table), it does not keep
 * columns or end lines (the 3.11+ extra bytes are checked and skipped), and it does not know the
 * code length, so the last lnotab range is open-ended (UINT32_MAX). The table is hostile input:
 * every loop is bounded by its length, every byte is read through a bounds check, lines are
 * computed in 64 bits and a line that leaves the int32 range is an error, and anything a CPython
 * compiler would not have written (a truncated pair, varint or entry, an extra byte with bit 7
 * set, a varint wider than 32 bits) is LS_ERR_BAD_LINETABLE. On well-formed tables the result
 * agrees with CPython's PyCode_Addr2Line at every offset (tests/unit/test_linetable.py).
 */
#include "linetable.h"

#include <stdint.h>
#include <stdlib.h>

#include "ls_error.h"

#define LS_LINETABLE_310_NO_LINE (-128) /* 3.10 line delta meaning "no line" */
#define LS_LOCATION_NO_COLUMNS 13        /* 3.11+ entry codes (Objects/locations.md) */
#define LS_LOCATION_LONG 14
#define LS_LOCATION_NONE 15
#define LS_VARINT_MAX_GROUPS 6           /* 6 groups of 6 bits hold any 32-bit value */

/* Make room for one more range. Capacity doubles, starting at 16. */
static int ls_line_ranges_grow(struct ls_line_ranges *ranges)
{
	size_t cap;
	struct ls_line_range *items;

	if (ranges->len < ranges->cap)
		return 0;
	cap = ranges->cap ? ranges->cap * 2 : 16;
	if (cap < ranges->cap || cap > SIZE_MAX / sizeof(*items))
		return LS_ERR_NOMEM;
	items = realloc(ranges->items, cap * sizeof(*items));
	if (!items)
		return LS_ERR_NOMEM;
	ranges->items = items;
	ranges->cap = cap;
	return 0;
}

/* Append [start, end) -> line. An empty range is dropped; a range that continues the previous
 * one (appended by this decode, i.e. at index >= base) with the same line extends it. The caller
 * guarantees start <= end <= UINT32_MAX and that line fits in an int32. */
static int ls_line_ranges_push(struct ls_line_ranges *ranges, size_t base, uint64_t start, uint64_t end,
			       int64_t line)
{
	struct ls_line_range *last;
	int err;

	if (end <= start)
		return 0;
	if (ranges->len > base) {
		last = &ranges->items[ranges->len - 1];
		if (last->end == start && last->line == line) {
			last->end = (uint32_t)end;
			return 0;
		}
	}
	err = ls_line_ranges_grow(ranges);
	if (err)
		return err;
	ranges->items[ranges->len].start = (uint32_t)start;
	ranges->items[ranges->len].end = (uint32_t)end;
	ranges->items[ranges->len].line = (int32_t)line;
	ranges->len++;
	return 0;
}

/* line += delta, refusing a result outside int32. |delta| < 2^32 and line starts in int32, so the
 * int64 sum cannot overflow. */
static int ls_line_advance(int64_t *line, int64_t delta)
{
	int64_t next = *line + delta;

	if (next < INT32_MIN || next > INT32_MAX)
		return LS_ERR_BAD_LINETABLE;
	*line = next;
	return 0;
}

/* addr += delta, refusing an address past UINT32_MAX. */
static int ls_addr_advance(uint64_t *addr, uint64_t delta)
{
	if (delta > UINT32_MAX - *addr)
		return LS_ERR_BAD_LINETABLE;
	*addr += delta;
	return 0;
}

/* co_lnotab (3.8, 3.9): (unsigned address increment, signed line increment) byte pairs from
 * (0, firstlineno). An instruction at or after the running address, but before the next, has the
 * running line; the line increment applies once the address has moved past. Ranges in bytes. */
static int ls_lnotab_decode(const uint8_t *table, size_t len, int firstlineno, struct ls_line_ranges *out)
{
	size_t base = out->len, pos;
	uint64_t addr = 0, next;
	int64_t line = firstlineno;
	int err;

	for (pos = 0; pos + 2 <= len; pos += 2) {
		next = addr;
		err = ls_addr_advance(&next, table[pos]);
		if (err)
			return err;
		err = ls_line_ranges_push(out, base, addr, next, line);
		if (err)
			return err;
		addr = next;
		err = ls_line_advance(&line, (int8_t)table[pos + 1]);
		if (err)
			return err;
	}
	if (pos != len)
		return LS_ERR_BAD_LINETABLE; /* odd length: a pair is cut in half */
	return ls_line_ranges_push(out, base, addr, UINT32_MAX, line);
}

/* co_linetable (3.10, PEP 626): (unsigned address delta, signed line delta) byte pairs. Each pair
 * covers [addr, addr + delta); a line delta of -128 marks the range as having no line and leaves
 * the running line alone. Pairs with a zero address delta only move the line. Ranges in bytes. */
static int ls_linetable310_decode(const uint8_t *table, size_t len, int firstlineno,
				  struct ls_line_ranges *out)
{
	size_t base = out->len, pos;
	uint64_t addr = 0, start;
	int64_t line = firstlineno, range_line;
	int8_t ldelta;
	int err;

	for (pos = 0; pos + 2 <= len; pos += 2) {
		start = addr;
		err = ls_addr_advance(&addr, table[pos]);
		if (err)
			return err;
		ldelta = (int8_t)table[pos + 1];
		if (ldelta == LS_LINETABLE_310_NO_LINE) {
			range_line = LS_LINE_NONE;
		} else {
			err = ls_line_advance(&line, ldelta);
			if (err)
				return err;
			range_line = line;
		}
		err = ls_line_ranges_push(out, base, start, addr, range_line);
		if (err)
			return err;
	}
	return pos == len ? 0 : LS_ERR_BAD_LINETABLE;
}

/* One byte of a 3.11+ entry after its first: it must exist and have bit 7 clear (bit 7 marks the
 * start of an entry). */
static int ls_location_byte_read(const uint8_t *table, size_t len, size_t *pos, uint8_t *byte)
{
	if (*pos >= len || (table[*pos] & 0x80))
		return LS_ERR_BAD_LINETABLE;
	*byte = table[(*pos)++];
	return 0;
}

/* An unsigned varint: 6-bit groups, least significant first, 0x40 = more follow. At most
 * LS_VARINT_MAX_GROUPS groups and a value that fits in 32 bits. */
static int ls_varint_read(const uint8_t *table, size_t len, size_t *pos, uint32_t *value)
{
	uint64_t acc = 0;
	unsigned shift = 0, groups;
	uint8_t byte;
	int err;

	for (groups = 0; groups < LS_VARINT_MAX_GROUPS; groups++) {
		err = ls_location_byte_read(table, len, pos, &byte);
		if (err)
			return err;
		acc |= (uint64_t)(byte & 0x3f) << shift;
		shift += 6;
		if (!(byte & 0x40)) {
			if (acc > UINT32_MAX)
				return LS_ERR_BAD_LINETABLE;
			*value = (uint32_t)acc;
			return 0;
		}
	}
	return LS_ERR_BAD_LINETABLE; /* more groups than any 32-bit value needs */
}

/* A signed varint: an unsigned one whose low bit is the sign of the magnitude above it. */
static int ls_varint_read_signed(const uint8_t *table, size_t len, size_t *pos, int64_t *value)
{
	uint32_t raw;
	int err = ls_varint_read(table, len, pos, &raw);

	if (err)
		return err;
	*value = (raw & 1) ? -(int64_t)(raw >> 1) : (int64_t)(raw >> 1);
	return 0;
}

/* Location table (3.11+, Objects/locations.md). Each entry starts with a byte 1cccclll: code c,
 * length l+1 code units, then extra bytes that depend on the code: 0-9 short form (one column
 * byte, same line), 10-12 one-line form (line += c - 10, two column bytes), 13 no columns (signed
 * varint line delta), 14 long form (signed varint line delta, then three varints: end line delta,
 * column + 1, end column + 1), 15 no location (no extra bytes, line unchanged, range has no
 * line). Only the line is kept. Ranges in code units. */
static int ls_locations_decode(const uint8_t *table, size_t len, int firstlineno, struct ls_line_ranges *out)
{
	size_t base = out->len, pos = 0;
	uint64_t addr = 0, start;
	int64_t line = firstlineno, delta, range_line;
	uint32_t skipped;
	uint8_t head, byte;
	int code, err, i;

	while (pos < len) {
		head = table[pos++];
		if (!(head & 0x80))
			return LS_ERR_BAD_LINETABLE;
		code = (head >> 3) & 0x0f;
		delta = 0;
		err = 0;
		if (code < 10) { /* short form */
			err = ls_location_byte_read(table, len, &pos, &byte);
		} else if (code < LS_LOCATION_NO_COLUMNS) { /* one-line form */
			delta = code - 10;
			for (i = 0; i < 2 && !err; i++)
				err = ls_location_byte_read(table, len, &pos, &byte);
		} else if (code == LS_LOCATION_NO_COLUMNS) {
			err = ls_varint_read_signed(table, len, &pos, &delta);
		} else if (code == LS_LOCATION_LONG) {
			err = ls_varint_read_signed(table, len, &pos, &delta);
			for (i = 0; i < 3 && !err; i++)
				err = ls_varint_read(table, len, &pos, &skipped);
		}
		if (err)
			return err;
		err = ls_line_advance(&line, delta);
		if (err)
			return err;
		range_line = code == LS_LOCATION_NONE ? LS_LINE_NONE : line;
		start = addr;
		err = ls_addr_advance(&addr, (uint64_t)(head & 0x07) + 1);
		if (err)
			return err;
		err = ls_line_ranges_push(out, base, start, addr, range_line);
		if (err)
			return err;
	}
	return 0;
}

/* Returns LS_ERR_INVALID_ARG for an unknown kind or a NULL out / table (with len > 0), in addition
 * to the codes listed in linetable.h. */
int ls_linetable_decode(enum ls_linetable_kind kind, const uint8_t *table, size_t len, int firstlineno,
			struct ls_line_ranges *out)
{
	if (!out || (!table && len))
		return LS_ERR_INVALID_ARG;
	if (len > LS_LINETABLE_MAX_BYTES)
		return LS_ERR_BAD_LINETABLE;
	switch (kind) {
	case LS_LINETABLE_LNOTAB:
		return ls_lnotab_decode(table, len, firstlineno, out);
	case LS_LINETABLE_310:
		return ls_linetable310_decode(table, len, firstlineno, out);
	case LS_LINETABLE_LOCATIONS:
		return ls_locations_decode(table, len, firstlineno, out);
	}
	return LS_ERR_INVALID_ARG;
}

int ls_line_ranges_lookup(const struct ls_line_ranges *ranges, int64_t pos, int firstlineno)
{
	size_t lo = 0, hi, mid;
	const struct ls_line_range *r;

	if (pos < 0)
		return firstlineno;
	if (!ranges || pos >= UINT32_MAX)
		return LS_LINE_NONE;
	hi = ranges->len;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = &ranges->items[mid];
		if (pos < r->start)
			hi = mid;
		else if (pos >= r->end)
			lo = mid + 1;
		else
			return r->line;
	}
	return LS_LINE_NONE;
}

void ls_line_ranges_release(struct ls_line_ranges *ranges)
{
	if (!ranges)
		return;
	free(ranges->items);
	ranges->items = NULL;
	ranges->len = 0;
	ranges->cap = 0;
}
