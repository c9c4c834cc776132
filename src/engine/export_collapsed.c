/* export_collapsed.c - folded stacks for flamegraph.pl, inferno and speedscope.
 *
 * One line per distinct (thread, stack): `thread;frame;...;frame count`, root first, the thread's
 * name as the root frame, each frame `qualname (file:line)` - or `qualname (file)` when lines are
 * off or unknown (then the lines of a function merge into one frame) - and an integer count: the
 * number of samples, or with the wall or cpu weight the time in integer NANOSECONDS (exact, so the
 * counts add up to the profile's totals; flamegraph.pl --countname=ns labels them). Lines are built
 * as text, sorted bytewise and equal ones summed, so the output is deterministic and each stack
 * appears once; lines whose count is 0 are left out. In names, files and thread names `;`, `%`,
 * CR and LF are written %3B, %25, %0D and %0A (decode with any %XX decoder), and a blank before
 * digits ending a stack becomes %20 (or %09...), so both flamegraph.pl's
 * `^(.*)\s+?(\d+(?:\.\d*)?)$` and speedscope's `^(.*) (\d+)$` read exactly our count. Threads of
 * the same name share their lines. It does not write differential (two-count) lines.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_common.h"
#include "ls_error.h"

struct folded_line {
	const char *text; /* into the text buffer, set once it stops growing */
	size_t off, len;
	uint64_t count;
};

static int add_escaped(struct ls_buf *b, const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *esc = NULL;
		switch (s[i]) {
		case ';':
			esc = "%3B";
			break;
		case '%':
			esc = "%25";
			break;
		case '\n':
			esc = "%0A";
			break;
		case '\r':
			esc = "%0D";
			break;
		default:
			continue;
		}
		int rc = ls_buf_add(b, s + start, i - start);
		if (rc || (rc = ls_buf_add(b, esc, 3)))
			return rc;
		start = i + 1;
	}
	return ls_buf_add(b, s + start, len - start);
}

/* A stack text b[off..) that ends in blank + digits would lose those digits to the count when
 * read back: escape that blank. */
static int guard_tail(struct ls_buf *b, size_t off)
{
	size_t end = b->len, i = end;
	while (i > off && ((b->data[i - 1] >= '0' && b->data[i - 1] <= '9') || b->data[i - 1] == '.'))
		i--;
	if (i == end || i == off || b->data[i] < '0' || b->data[i] > '9')
		return 0;
	char blank = b->data[i - 1];
	if (blank != ' ' && blank != '\t' && blank != '\v' && blank != '\f')
		return 0;
	size_t tail_len = end - i;
	char *tail = malloc(tail_len);
	if (!tail)
		return LS_ERR_NOMEM;
	memcpy(tail, b->data + i, tail_len);
	b->len = i - 1;
	int rc = ls_buf_printf(b, "%%%02X", (unsigned)(unsigned char)blank);
	if (!rc)
		rc = ls_buf_add(b, tail, tail_len);
	free(tail);
	return rc;
}

static int add_frame(struct ls_buf *b, const struct ls_profile *p, uint32_t frame_id, int lines)
{
	const struct ls_frame_key *fr = &p->frames.items[frame_id];
	const struct ls_function *fn = &p->functions.items[fr->function_id];
	size_t name_len, file_len;
	const char *name = ls_export_str(p, fn->name_id, &name_len);
	const char *file = ls_export_str(p, fn->file_id, &file_len);
	int rc = add_escaped(b, name, name_len);
	if (rc || file_len == 0)
		return rc;
	if ((rc = ls_buf_add(b, " (", 2)) || (rc = add_escaped(b, file, file_len)))
		return rc;
	if (lines && fr->line >= 0 && (rc = ls_buf_printf(b, ":%d", (int)fr->line)))
		return rc;
	return ls_buf_add_byte(b, ')');
}

static int line_cmp(const void *a, const void *b)
{
	const struct folded_line *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->text, y->text, n);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int write_collapsed(const struct ls_profile *p, const struct ls_export_options *o, struct ls_buf *out)
{
	struct ls_export_row *rows = NULL;
	struct folded_line *lines = NULL;
	struct ls_buf text = {0};
	size_t nrows = 0, nlines = 0;
	int rc = ls_export_check(p);
	if (rc || (rc = ls_export_rows_collect(p, 0, &rows, &nrows)))
		goto fail;
	if (nrows && !(lines = malloc(nrows * sizeof(*lines)))) {
		rc = LS_ERR_NOMEM;
		goto fail;
	}
	for (size_t r = 0; r < nrows; r++) {
		uint64_t count = ls_weights_pick(&rows[r].w, o->weight);
		if (count == 0)
			continue;
		size_t depth, off = text.len, tname_len;
		const uint32_t *frames = ls_stacktab_get(&p->stacks, rows[r].stack, &depth);
		const char *tname = ls_export_str(p, p->threads[rows[r].thread].name_id, &tname_len);
		if ((rc = add_escaped(&text, tname, tname_len)))
			goto fail;
		for (size_t k = depth; k-- > 0;)
			if ((rc = ls_buf_add_byte(&text, ';')) || (rc = add_frame(&text, p, frames[k], o->lines)))
				goto fail;
		if ((rc = guard_tail(&text, off)))
			goto fail;
		lines[nlines++] = (struct folded_line){NULL, off, text.len - off, count};
	}
	for (size_t i = 0; i < nlines; i++)
		lines[i].text = text.data + lines[i].off;
	if (nlines)
		qsort(lines, nlines, sizeof(*lines), line_cmp);
	for (size_t i = 0; i < nlines;) {
		uint64_t count = lines[i].count;
		size_t j = i + 1;
		while (j < nlines && line_cmp(&lines[i], &lines[j]) == 0)
			count += lines[j++].count;
		if ((rc = ls_buf_add(out, lines[i].text, lines[i].len)) ||
		    (rc = ls_buf_printf(out, " %llu\n", (unsigned long long)count)))
			goto fail;
		i = j;
	}
	if (!out->data)
		rc = ls_buf_reserve(out, 0); /* an empty profile is an empty (but present) text */
fail:
	free(rows);
	free(lines);
	ls_buf_release(&text);
	return rc;
}

const struct ls_exporter ls_export_collapsed = {"collapsed", write_collapsed};
