/* pyobj.c - str and bytes objects read from the target (see pyobj.h).
 *
 * One read usually suffices: the header and the first bytes of the payload are read together; a
 * longer payload costs a second read. The str state word gives kind (bits 2-4), compact (bit 5)
 * and ascii (bit 6) in every default build from 3.8 to 3.14.
 */
#include "pyobj.h"

#include <stdlib.h>
#include <string.h>

#include "ls_error.h"

#define FIRST_READ 320 /* header plus a typical name, in one system call */

static int64_t get_i64(const uint8_t *p)
{
	int64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static size_t put_utf8(uint32_t c, char *dst)
{
	if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		c = 0xFFFD;
	if (c < 0x80) {
		dst[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		dst[0] = (char)(0xC0 | (c >> 6));
		dst[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		dst[0] = (char)(0xE0 | (c >> 12));
		dst[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		dst[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	dst[0] = (char)(0xF0 | (c >> 18));
	dst[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	dst[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	dst[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

size_t ls_ucs_to_utf8(const uint8_t *src, size_t n, int kind, char *dst, size_t cap)
{
	size_t out = 0;
	for (size_t i = 0; i < n && out + 5 <= cap; i++) {
		uint32_t c;
		if (kind == 1) {
			c = src[i];
		} else if (kind == 2) {
			uint16_t u;
			memcpy(&u, src + 2 * i, 2);
			c = u;
		} else {
			memcpy(&c, src + 4 * i, 4);
		}
		out += put_utf8(c, dst + out);
	}
	dst[out] = 0;
	return out;
}

int ls_pystr_read(struct ls_proc *proc, const struct ls_layout *layout, uint64_t addr, char *buf, size_t cap,
		  size_t *len)
{
	uint8_t head[FIRST_READ];
	size_t have = sizeof(head);
	if (addr == 0 || addr % 8 != 0)
		return LS_ERR_BAD_STRING;
	if (ls_proc_read(proc, addr, head, have) != 0) {
		/* the object may end just before an unmapped page: read only the larger header */
		have = (size_t)layout->str_compact_size;
		int rc = ls_proc_read(proc, addr, head, have);
		if (rc)
			return rc;
	}
	int64_t length = get_i64(head + layout->str_length);
	uint32_t state = get_u32(head + layout->str_state);
	int kind = (int)((state >> 2) & 7), compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	if (length < 0 || length > LS_STR_MAX_CHARS || !compact || (kind != 1 && kind != 2 && kind != 4) ||
	    (ascii && kind != 1) || cap < (size_t)length * 4 + 1)
		return LS_ERR_BAD_STRING;
	size_t data_off = (size_t)(ascii ? layout->str_ascii_size : layout->str_compact_size);
	size_t nbytes = (size_t)length * (size_t)kind;
	uint8_t stack[FIRST_READ];
	uint8_t *heap = NULL;
	const uint8_t *data;
	if (data_off + nbytes <= have) {
		data = head + data_off;
	} else {
		uint8_t *dst = nbytes <= sizeof(stack) ? stack : (heap = malloc(nbytes));
		if (!dst)
			return LS_ERR_NOMEM;
		int rc = ls_proc_read(proc, addr + data_off, dst, nbytes);
		if (rc) {
			free(heap);
			return rc;
		}
		data = dst;
	}
	if (ascii) {
		for (int64_t i = 0; i < length; i++) {
			if (data[i] >= 0x80) {
				free(heap);
				return LS_ERR_BAD_STRING; /* marked ASCII but is not: torn or not a str */
			}
		}
	}
	*len = ls_ucs_to_utf8(data, (size_t)length, kind, buf, cap);
	free(heap);
	return 0;
}

size_t ls_pystr_probe_len(const struct ls_layout *layout, uint64_t addr)
{
	size_t to_page_end = 4096 - (size_t)(addr & 4095);
	size_t header = (size_t)layout->str_ascii_size;
	size_t n = to_page_end < LS_STR_PROBE ? to_page_end : LS_STR_PROBE;
	return n < header ? header : n;
}

/* Mix n bytes into h, 8 at a time (a multiply-xorshift per word; the tail zero-padded). */
static uint64_t mix_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t word = 0;
		memcpy(&word, p + i, n - i < 8 ? n - i : 8);
		h = (h ^ word) * 0x9E3779B97F4A7C15ull;
		h ^= h >> 29;
	}
	return (h ^ n) * 0xBF58476D1CE4E5B9ull;
}

uint64_t ls_pystr_fingerprint(const struct ls_layout *layout, const uint8_t *probe, size_t n)
{
	size_t header = (size_t)layout->str_ascii_size;
	if (n < header || (size_t)layout->str_state + 4 > header || (size_t)layout->str_length + 16 > header)
		return 0;
	int64_t length = get_i64(probe + layout->str_length);
	uint32_t state = get_u32(probe + layout->str_state);
	int kind = (int)((state >> 2) & 7), compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	uint64_t h = 0xcbf29ce484222325ull;
	h = mix_bytes(h, probe + layout->str_length, 16); /* length and cached hash */
	h = mix_bytes(h, (const uint8_t *)&state, sizeof(state));
	if (compact && length > 0 && (kind == 1 || kind == 2 || kind == 4)) {
		size_t off = (size_t)(ascii ? layout->str_ascii_size : layout->str_compact_size);
		size_t bytes = (size_t)length <= LS_STR_PROBE ? (size_t)length * (size_t)kind : LS_STR_PROBE;
		if (off < n)
			h = mix_bytes(h, probe + off, bytes < n - off ? bytes : n - off);
	}
	return h ? h : 1;
}

int ls_pybytes_read(struct ls_proc *proc, const struct ls_layout *layout, uint64_t addr, size_t max_len,
		    uint8_t **out, size_t *len)
{
	uint8_t head[FIRST_READ];
	size_t have = sizeof(head);
	if (addr == 0 || addr % 8 != 0)
		return LS_ERR_BAD_STRING;
	if (ls_proc_read(proc, addr, head, have) != 0) {
		have = (size_t)layout->bytes_sval;
		int rc = ls_proc_read(proc, addr, head, have);
		if (rc)
			return rc;
	}
	int64_t size = get_i64(head + layout->bytes_size);
	if (size < 0 || (uint64_t)size > max_len)
		return LS_ERR_BAD_STRING;
	uint8_t *buf = malloc((size_t)size + 1);
	if (!buf)
		return LS_ERR_NOMEM;
	size_t off = (size_t)layout->bytes_sval;
	if (off + (size_t)size <= have) {
		memcpy(buf, head + off, (size_t)size);
	} else {
		int rc = ls_proc_read(proc, addr + off, buf, (size_t)size);
		if (rc) {
			free(buf);
			return rc;
		}
	}
	*out = buf;
	*len = (size_t)size;
	return 0;
}
