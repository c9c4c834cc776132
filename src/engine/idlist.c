/* idlist.c - stored id lists parsed, renumbered densely, gathered and written as JSON (idlist.h). */
#include "idlist.h"

#include <stdlib.h>
#include <string.h>

#include "ls_error.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_spaces(const char *text, size_t len, size_t i)
{
	while (i < len && is_space(text[i]))
		i++;
	return i;
}

int ls_idlist_parse(const char *text, size_t len, uint32_t *out, size_t cap, size_t *n)
{
	size_t i = skip_spaces(text, len, 0), count = *n;
	if (i == len || text[i] != '[')
		return LS_ERR_INVALID_ARG;
	i = skip_spaces(text, len, i + 1);
	if (i < len && text[i] == ']')
		return skip_spaces(text, len, i + 1) == len ? 0 : LS_ERR_INVALID_ARG;
	for (;;) {
		if (i == len || text[i] < '0' || text[i] > '9')
			return LS_ERR_INVALID_ARG;
		uint64_t value = 0;
		while (i < len && text[i] >= '0' && text[i] <= '9') {
			value = value * 10 + (uint64_t)(text[i++] - '0');
			if (value > UINT32_MAX)
				return LS_ERR_INVALID_ARG;
		}
		if (count == cap)
			return LS_ERR_NOMEM;
		out[count++] = (uint32_t)value;
		i = skip_spaces(text, len, i);
		if (i < len && text[i] == ',') {
			i = skip_spaces(text, len, i + 1);
			continue;
		}
		if (i < len && text[i] == ']' && skip_spaces(text, len, i + 1) == len) {
			*n = count;
			return 0;
		}
		return LS_ERR_INVALID_ARG;
	}
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The position of value in sorted[0..n) (it is there). */
static uint32_t position(const uint32_t *sorted, size_t n, uint32_t value)
{
	size_t lo = 0, hi = n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid] <= value)
			lo = mid;
		else
			hi = mid;
	}
	return (uint32_t)lo;
}

/* Ids up to this many times their count (plus a constant) are renumbered through a table indexed
 * by value, in linear time; sparser ones by sorting. */
#define LS_IDLIST_DENSE_FACTOR 16
#define LS_IDLIST_DENSE_SLACK 65536

static int renumber_dense(const uint32_t *ids, size_t n, uint32_t max, uint32_t *distinct, size_t *n_distinct,
			  uint32_t *renumbered)
{
	uint32_t *slot = calloc((size_t)max + 1, sizeof(*slot)); /* value -> position + 1 */
	if (!slot)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		slot[ids[i]] = 1;
	size_t d = 0;
	for (size_t v = 0; v <= max; v++)
		if (slot[v]) {
			distinct[d] = (uint32_t)v;
			slot[v] = (uint32_t)++d;
		}
	for (size_t i = 0; i < n; i++)
		renumbered[i] = slot[ids[i]] - 1;
	*n_distinct = d;
	free(slot);
	return 0;
}

int ls_idlist_renumber(const uint32_t *ids, size_t n, uint32_t *distinct, size_t *n_distinct,
		       uint32_t *renumbered)
{
	uint32_t max = 0;
	for (size_t i = 0; i < n; i++)
		max = ids[i] > max ? ids[i] : max;
	if (n && (uint64_t)max <= (uint64_t)n * LS_IDLIST_DENSE_FACTOR + LS_IDLIST_DENSE_SLACK)
		return renumber_dense(ids, n, max, distinct, n_distinct, renumbered);
	if (n)
		memcpy(distinct, ids, n * sizeof(*ids));
	qsort(distinct, n, sizeof(*distinct), compare_u32);
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		if (d == 0 || distinct[d - 1] != distinct[i])
			distinct[d++] = distinct[i];
	*n_distinct = d;
	for (size_t i = 0; i < n; i++)
		renumbered[i] = position(distinct, d, ids[i]);
	return 0;
}

int ls_idlist_gather(const int32_t *index, size_t n, const int32_t *table, size_t table_len, int32_t fallback,
		     int32_t *out)
{
	for (size_t i = 0; i < n; i++) {
		if (index[i] < 0) {
			out[i] = fallback;
			continue;
		}
		if ((size_t)index[i] >= table_len)
			return LS_ERR_INVALID_ARG;
		out[i] = table[index[i]];
	}
	return 0;
}

size_t ls_idlist_json_size(size_t n)
{
	return 2 + n * 21; /* "-" and 19 digits or 20 digits, and a comma, per value */
}

/* Write the digits of v backwards from end; returns where they start. */
static char *digits(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

size_t ls_idlist_json(const void *values, size_t n, int width, int is_signed, char *out)
{
	char *p = out, buf[24];
	*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		uint64_t magnitude;
		int negative = 0;
		if (width == 4) {
			uint32_t u;
			memcpy(&u, (const char *)values + i * 4, 4);
			int32_t s = (int32_t)u;
			negative = is_signed && s < 0;
			magnitude = negative ? (uint64_t)(-(int64_t)s) : is_signed ? (uint64_t)s : u;
		} else {
			uint64_t u;
			memcpy(&u, (const char *)values + i * 8, 8);
			negative = is_signed && (u >> 63);
			magnitude = negative ? ~u + 1 : u;
		}
		if (i)
			*p++ = ',';
		if (negative)
			*p++ = '-';
		char *start = digits(magnitude, buf + sizeof(buf));
		size_t len = (size_t)(buf + sizeof(buf) - start);
		memcpy(p, start, len);
		p += len;
	}
	*p++ = ']';
	return (size_t)(p - out);
}
