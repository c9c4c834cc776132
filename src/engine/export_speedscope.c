/* export_speedscope.c - speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json).
 *
 * shared.frames holds one frame {name, file, line} per (function, line) that a sample uses - or
 * one per function, at its first line, when lines are off - numbered in frame (function) id order.
 * Each thread with samples becomes one "sampled" profile named after the thread: one sample per
 * distinct stack (root first, as speedscope wants), weights in NANOSECONDS - wall-clock time, or
 * CPU time with the cpu weight; the samples weight (0) also gives wall time, as a count would not
 * be in nanoseconds - and endValue is the sum of the weights. Samples of weight 0 are left out; a
 * profile with no sample at all still gets one empty profile, so the file always opens. Strings
 * are escaped for JSON; bytes that are not UTF-8 become U+FFFD. It does not write evented
 * profiles (no timelines here).
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_common.h"
#include "ls_error.h"

/* Length of the well-formed UTF-8 sequence at s (n bytes available), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static int add_json_string(struct ls_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	int rc = ls_buf_add_byte(b, '"');
	size_t start = 0, i = 0;
	while (!rc && i < n) {
		unsigned char c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		size_t len = c >= 0x80 ? utf8_len(s + i, n - i) : 0;
		if (len) {
			i += len;
			continue;
		}
		if ((rc = ls_buf_add(b, s + start, i - start)))
			break;
		if (c == '"' || c == '\\')
			rc = ls_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			rc = ls_buf_add_str(b, "\\n");
		else if (c == '\t')
			rc = ls_buf_add_str(b, "\\t");
		else if (c == '\r')
			rc = ls_buf_add_str(b, "\\r");
		else if (c < 0x20)
			rc = ls_buf_printf(b, "\\u%04x", c);
		else
			rc = ls_buf_add_str(b, "\\ufffd"); /* a byte that starts no UTF-8 sequence */
		start = ++i;
	}
	if (!rc)
		rc = ls_buf_add(b, s + start, n - start);
	return rc ? rc : ls_buf_add_byte(b, '"');
}

static int add_json_id(struct ls_buf *b, const struct ls_profile *p, uint32_t string_id)
{
	size_t len;
	const char *s = ls_export_str(p, string_id, &len);
	return add_json_string(b, s, len);
}

/* The speedscope frame key of a profile frame: the frame id, or the function id without lines. */
static uint32_t frame_key(const struct ls_profile *p, uint32_t frame_id, int lines)
{
	return lines ? frame_id : p->frames.items[frame_id].function_id;
}

static int write_frames(struct ls_buf *out, const struct ls_profile *p, int lines, const int64_t *index, uint32_t nkeys)
{
	int rc = ls_buf_add_str(out, "\"shared\":{\"frames\":[");
	int first = 1;
	for (uint32_t k = 0; !rc && k < nkeys; k++) {
		if (index[k] < 0)
			continue;
		uint32_t f = lines ? p->frames.items[k].function_id : k;
		int32_t line = lines ? p->frames.items[k].line : p->functions.items[f].first_line;
		const struct ls_function *fn = &p->functions.items[f];
		if ((rc = ls_buf_add_str(out, first ? "\n{\"name\":" : ",\n{\"name\":")) || (rc = add_json_id(out, p, fn->name_id)))
			break;
		first = 0;
		size_t file_len;
		ls_export_str(p, fn->file_id, &file_len);
		if (file_len && ((rc = ls_buf_add_str(out, ",\"file\":")) || (rc = add_json_id(out, p, fn->file_id))))
			break;
		if (line >= 0 && (rc = ls_buf_printf(out, ",\"line\":%d", (int)line)))
			break;
		rc = ls_buf_add_byte(out, '}');
	}
	return rc ? rc : ls_buf_add_str(out, "]},\n");
}

/* One sampled profile from rows[from..to) (one thread's rows). */
static int write_profile(struct ls_buf *out, const struct ls_profile *p, const struct ls_export_options *o,
			 enum ls_export_weight weight, const int64_t *index, const struct ls_export_row *rows, size_t from,
			 size_t to, uint32_t name_id)
{
	uint64_t total = 0;
	for (size_t r = from; r < to; r++)
		total += ls_weights_pick(&rows[r].w, weight);
	int rc = ls_buf_add_str(out, "{\"type\":\"sampled\",\"name\":");
	if (rc || (rc = add_json_id(out, p, name_id)) ||
	    (rc = ls_buf_printf(out, ",\"unit\":\"nanoseconds\",\"startValue\":0,\"endValue\":%llu,\n\"samples\":[",
				(unsigned long long)total)))
		return rc;
	int first = 1;
	for (size_t r = from; r < to; r++) {
		if (ls_weights_pick(&rows[r].w, weight) == 0)
			continue;
		size_t depth;
		const uint32_t *frames = ls_stacktab_get(&p->stacks, rows[r].stack, &depth);
		if ((rc = ls_buf_add_str(out, first ? "\n[" : ",\n[")))
			return rc;
		first = 0;
		for (size_t k = depth; k-- > 0;)
			if ((rc = ls_buf_printf(out, k + 1 == depth ? "%lld" : ",%lld",
						(long long)index[frame_key(p, frames[k], o->lines)])))
				return rc;
		if ((rc = ls_buf_add_byte(out, ']')))
			return rc;
	}
	if ((rc = ls_buf_add_str(out, "],\n\"weights\":[")))
		return rc;
	first = 1;
	for (size_t r = from; r < to; r++) {
		uint64_t v = ls_weights_pick(&rows[r].w, weight);
		if (v == 0)
			continue;
		if ((rc = ls_buf_printf(out, first ? "%llu" : ",%llu", (unsigned long long)v)))
			return rc;
		first = 0;
	}
	return ls_buf_add_str(out, "]}");
}

static int write_speedscope(const struct ls_profile *p, const struct ls_export_options *o, struct ls_buf *out)
{
	struct ls_export_row *rows = NULL;
	int64_t *index = NULL;
	size_t nrows = 0;
	int64_t next = 0;
	int nprofiles = 0;
	enum ls_export_weight weight = o->weight == LS_WEIGHT_CPU ? LS_WEIGHT_CPU : LS_WEIGHT_WALL;
	uint32_t nkeys = o->lines ? p->frames.len : p->functions.len;
	int rc = ls_export_check(p);
	if (rc || (rc = ls_export_rows_collect(p, 0, &rows, &nrows)))
		goto fail;
	if (!(index = malloc((nkeys ? nkeys : 1) * sizeof(*index)))) {
		rc = LS_ERR_NOMEM;
		goto fail;
	}
	for (uint32_t k = 0; k < nkeys; k++)
		index[k] = -1;
	for (size_t r = 0; r < nrows; r++) {
		if (ls_weights_pick(&rows[r].w, weight) == 0)
			continue;
		size_t depth;
		const uint32_t *frames = ls_stacktab_get(&p->stacks, rows[r].stack, &depth);
		for (size_t k = 0; k < depth; k++)
			index[frame_key(p, frames[k], o->lines)] = 0;
	}
	for (uint32_t k = 0; k < nkeys; k++)
		if (index[k] == 0)
			index[k] = next++;

	if ((rc = ls_buf_add_str(out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n")) ||
	    (rc = ls_buf_add_str(out, "\"exporter\":\"loopscope@0.1.0\",\"name\":")))
		goto fail;
	rc = p->meta.command[0] ? add_json_string(out, p->meta.command, strlen(p->meta.command))
				: ls_buf_add_str(out, "\"loopscope profile\"");
	if (rc || (rc = ls_buf_add_str(out, ",\"activeProfileIndex\":0,\n")) ||
	    (rc = write_frames(out, p, o->lines, index, nkeys)) || (rc = ls_buf_add_str(out, "\"profiles\":[")))
		goto fail;
	for (size_t from = 0; from < nrows;) {
		size_t to = from;
		uint64_t total = 0;
		while (to < nrows && rows[to].thread == rows[from].thread)
			total += ls_weights_pick(&rows[to++].w, weight);
		if (total) {
			if ((nprofiles++ && (rc = ls_buf_add_str(out, ",\n"))) ||
			    (rc = write_profile(out, p, o, weight, index, rows, from, to, p->threads[rows[from].thread].name_id)))
				goto fail;
		}
		from = to;
	}
	if (!nprofiles && (rc = ls_buf_add_str(out, "{\"type\":\"sampled\",\"name\":\"(no samples)\",\"unit\":\"nanoseconds\","
						   "\"startValue\":0,\"endValue\":0,\"samples\":[],\"weights\":[]}")))
		goto fail;
	rc = ls_buf_add_str(out, "]}\n");
fail:
	free(rows);
	free(index);
	return rc;
}

const struct ls_exporter ls_export_speedscope = {"speedscope", write_speedscope};
