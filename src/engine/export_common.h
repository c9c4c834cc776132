/* export_common.h - what the export writers share: a consistency check of the profile, records
 * summed by (thread, stack), and the display names of functions.
 *
 * Private to the export_<format>.c files (static inline, so each writer stays one file over the
 * profile's interned tables). Rows are the records summed by (thread, stack) - or by stack alone
 * when a format merges threads - sorted by ids, so every writer is deterministic. Records whose
 * stack is empty are left out of the rows: a sample with no Python frame has no function to carry
 * its cost in any format, so all formats leave it out alike and their totals agree.
 */
#ifndef LS_EXPORT_COMMON_H
#define LS_EXPORT_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "ls_error.h"

struct ls_export_row {
	uint32_t thread, stack; /* thread is 0 when threads were merged */
	struct ls_weights w;
};

/* 0 when every id in the profile refers to an existing entry, else LS_ERR_INVALID_ARG; the
 * writers index the tables without further checks after it. */
static inline int ls_export_check(const struct ls_profile *p)
{
	for (uint32_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].name_id >= p->strings.len)
			return LS_ERR_INVALID_ARG;
	for (uint32_t i = 0; i < p->functions.len; i++)
		if (p->functions.items[i].name_id >= p->strings.len || p->functions.items[i].file_id >= p->strings.len)
			return LS_ERR_INVALID_ARG;
	for (uint32_t i = 0; i < p->frames.len; i++)
		if (p->frames.items[i].function_id >= p->functions.len)
			return LS_ERR_INVALID_ARG;
	for (size_t i = 0; i < p->stacks.frames_len; i++)
		if (p->stacks.frames[i] >= p->frames.len)
			return LS_ERR_INVALID_ARG;
	for (size_t i = 0; i < p->nrecords; i++)
		if (p->records[i].thread >= p->nthreads || p->records[i].stack >= p->stacks.len)
			return LS_ERR_INVALID_ARG;
	return 0;
}

/* The string of a checked id ("" never NULL). */
static inline const char *ls_export_str(const struct ls_profile *p, uint32_t id, size_t *len)
{
	size_t n = 0;
	const char *s = ls_strtab_get(&p->strings, id, &n);
	if (!s) {
		s = "";
		n = 0;
	}
	if (len)
		*len = n;
	return s;
}

static inline void ls_weights_add(struct ls_weights *a, const struct ls_weights *b)
{
	a->samples += b->samples;
	a->wall_ns += b->wall_ns;
	a->cpu_ns += b->cpu_ns;
	a->on_cpu += b->on_cpu;
	a->gil += b->gil;
}

/* The value of one weight (export.h); LS_WEIGHT_SAMPLES gives the sample count. */
static inline uint64_t ls_weights_pick(const struct ls_weights *w, enum ls_export_weight weight)
{
	switch (weight) {
	case LS_WEIGHT_WALL:
		return w->wall_ns;
	case LS_WEIGHT_CPU:
		return w->cpu_ns;
	default:
		return w->samples;
	}
}

static inline int ls_export_row_cmp(const void *a, const void *b)
{
	const struct ls_export_row *x = a, *y = b;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return 0;
}

/* The records of a checked profile summed by (thread, stack), or by stack alone when
 * merge_threads, sorted by (thread, stack); empty stacks are left out. *rows is malloc'ed (NULL
 * when there are none) and the caller frees it. 0 or LS_ERR_NOMEM. */
static inline int ls_export_rows_collect(const struct ls_profile *p, int merge_threads, struct ls_export_row **rows,
					 size_t *nrows)
{
	*rows = NULL;
	*nrows = 0;
	if (p->nrecords == 0)
		return 0;
	struct ls_export_row *r = malloc(p->nrecords * sizeof(*r));
	if (!r)
		return LS_ERR_NOMEM;
	size_t n = 0;
	for (size_t i = 0; i < p->nrecords; i++) {
		const struct ls_record *rec = &p->records[i];
		size_t depth = 0;
		if (!ls_stacktab_get(&p->stacks, rec->stack, &depth) || depth == 0)
			continue;
		r[n++] = (struct ls_export_row){merge_threads ? 0 : rec->thread, rec->stack, rec->w};
	}
	if (n == 0) {
		free(r);
		return 0;
	}
	qsort(r, n, sizeof(*r), ls_export_row_cmp);
	size_t out = 0;
	for (size_t i = 1; i < n; i++) {
		if (ls_export_row_cmp(&r[out], &r[i]) == 0)
			ls_weights_add(&r[out].w, &r[i].w);
		else
			r[++out] = r[i];
	}
	*rows = r;
	*nrows = out + 1;
	return 0;
}

/* ambiguous[f] = 1 for each function whose qualified name another function of the profile shares
 * (interned strings: the same name has the same id). Formats that identify a function by its
 * name alone (pprof's default view, KCachegrind's name + file basename) show those as
 * "name [file:first_line]" (ls_export_display_name). *ambiguous is malloc'ed; 0 or LS_ERR_NOMEM. */
static inline int ls_export_ambiguous_names(const struct ls_profile *p, uint8_t **ambiguous)
{
	*ambiguous = NULL;
	uint32_t *count = calloc(p->strings.len ? p->strings.len : 1, sizeof(*count));
	uint8_t *amb = calloc(p->functions.len ? p->functions.len : 1, 1);
	if (!count || !amb) {
		free(count);
		free(amb);
		return LS_ERR_NOMEM;
	}
	for (uint32_t f = 0; f < p->functions.len; f++)
		count[p->functions.items[f].name_id]++;
	for (uint32_t f = 0; f < p->functions.len; f++)
		amb[f] = count[p->functions.items[f].name_id] > 1;
	free(count);
	*ambiguous = amb;
	return 0;
}

/* Append the display name of function f: its qualified name, followed by " [file:first_line]"
 * when it is ambiguous (" [file]" without a first line). */
static inline int ls_export_display_name(struct ls_buf *b, const struct ls_profile *p, uint32_t f, int ambiguous)
{
	const struct ls_function *fn = &p->functions.items[f];
	size_t len;
	const char *name = ls_export_str(p, fn->name_id, &len);
	int rc = ls_buf_add(b, name, len);
	if (rc || !ambiguous)
		return rc;
	const char *file = ls_export_str(p, fn->file_id, &len);
	if ((rc = ls_buf_add_str(b, " [")) || (rc = ls_buf_add(b, file, len)))
		return rc;
	if (fn->first_line >= 0 && (rc = ls_buf_printf(b, ":%d", (int)fn->first_line)))
		return rc;
	return ls_buf_add_byte(b, ']');
}

#endif
