/* export_callgrind.c - the callgrind format, for KCachegrind and callgrind_annotate.
 *
 * All threads merge into one part (callgrind_annotate reads only the first part). The header
 * (creator, pid, cmd, positions: line, a desc with the period, event descriptions) comes before
 * `events: samples wall_us cpu_us`, where callgrind_annotate stops reading it. Times are integer
 * MICROSECONDS: each distinct stack's wall and cpu nanoseconds are rounded once, and every cost in
 * the file is a sum of those per-stack values, so self costs, call costs and `totals:` stay
 * exactly consistent (at most 0.5 us of rounding per distinct stack).
 *
 * For each function, in id order: `fl=`/`fn=`, its self cost per line (the leaf frame's line; the
 * first line when lines are off), then its calls: `cfl=`/`cfn=`, `calls=<samples> <callee's
 * first line>`, `<call line> <inclusive cost>`. A call (caller, call line, callee) is counted in
 * a stack only where the callee is entered for the first time from the root: deeper recursive
 * re-entries add no call, so an edge counts at most once per sample and a called function's
 * inclusive cost (the sum of its incoming calls, as callgrind_annotate computes it) counts each
 * sample once, never more than the total. For functions that are not recursive, incoming = self
 * + outgoing holds exactly. calls= is the number of samples (at least 1: callgrind_annotate
 * reads calls=0 as self cost). Names are compressed: each `(id) name` is defined once in the
 * whole file, files (fl/cfl) in one id space and functions (fn/cfn) in another. A name another
 * function shares gets " [file:first_line]" (KCachegrind merges by name and file basename);
 * empty names are written "???", control characters as blanks. Samples with an empty stack are
 * left out (export_common.h). No object (ob=) or address positions are written.
 */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "export.h"
#include "export_common.h"
#include "ls_error.h"

#define NEVENTS 3

struct self_cost {
	uint32_t function;
	int32_t line;
	uint64_t cost[NEVENTS];
};

struct call_cost {
	uint32_t caller;
	int32_t line; /* call site line in the caller */
	uint32_t callee;
	uint64_t calls;
	uint64_t cost[NEVENTS];
};

struct callgrind_writer {
	const struct ls_profile *p;
	uint8_t *file_defined; /* per string id */
	uint8_t *fn_defined;   /* per function id */
	uint8_t *ambiguous;
	struct ls_buf name;
};

static int self_cmp(const void *a, const void *b)
{
	const struct self_cost *x = a, *y = b;
	if (x->function != y->function)
		return x->function < y->function ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int call_cmp(const void *a, const void *b)
{
	const struct call_cost *x = a, *y = b;
	if (x->caller != y->caller)
		return x->caller < y->caller ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->callee < y->callee ? -1 : x->callee > y->callee;
}

static int32_t line_or_zero(int32_t line)
{
	return line > 0 ? line : 0;
}

static uint64_t ns_to_us(uint64_t ns)
{
	return ns / 1000 + (ns % 1000 >= 500);
}

/* `text` as a callgrind name: "???" when empty, control characters as blanks. */
static int add_name(struct ls_buf *out, const char *text, size_t len)
{
	if (len == 0)
		return ls_buf_add_str(out, "???");
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] >= 0x20)
			continue;
		int rc = ls_buf_add(out, text + start, i - start);
		if (rc || (rc = ls_buf_add_byte(out, ' ')))
			return rc;
		start = i + 1;
	}
	return ls_buf_add(out, text + start, len - start);
}

/* `<key>=(id)` plus the name the first time this id is written. */
/* Append v in decimal, then `end` (a separator) - ls_buf_printf is too slow for millions of lines. */
static int add_u64(struct ls_buf *out, uint64_t v, char end)
{
	char digits[24];
	size_t i = sizeof(digits);
	digits[--i] = end;
	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return ls_buf_add(out, digits + i, sizeof(digits) - i);
}

/* `key=(id)` */
static int add_id(struct ls_buf *out, const char *key, uint32_t id)
{
	int rc = ls_buf_add_str(out, key);
	if (!rc)
		rc = ls_buf_add(out, "=(", 2);
	return rc ? rc : add_u64(out, id, ')');
}

static int add_file_ref(struct callgrind_writer *w, struct ls_buf *out, const char *key, uint32_t file_id)
{
	int rc = add_id(out, key, file_id + 1);
	if (rc || w->file_defined[file_id])
		return rc ? rc : ls_buf_add_byte(out, '\n');
	w->file_defined[file_id] = 1;
	size_t len;
	const char *file = ls_export_str(w->p, file_id, &len);
	if ((rc = ls_buf_add_byte(out, ' ')) || (rc = add_name(out, file, len)))
		return rc;
	return ls_buf_add_byte(out, '\n');
}

static int add_fn_ref(struct callgrind_writer *w, struct ls_buf *out, const char *key, uint32_t f)
{
	int rc = add_id(out, key, f + 1);
	if (rc || w->fn_defined[f])
		return rc ? rc : ls_buf_add_byte(out, '\n');
	w->fn_defined[f] = 1;
	w->name.len = 0;
	if ((rc = ls_export_display_name(&w->name, w->p, f, w->ambiguous[f])) || (rc = ls_buf_add_byte(out, ' ')) ||
	    (rc = add_name(out, w->name.data, w->name.len)))
		return rc;
	return ls_buf_add_byte(out, '\n');
}

/* `line cost...` (line >= 0) */
static int add_costs(struct ls_buf *out, int32_t line, const uint64_t *cost)
{
	int rc = add_u64(out, (uint64_t)line, ' ');
	for (int e = 0; !rc && e < NEVENTS; e++)
		rc = add_u64(out, cost[e], e + 1 < NEVENTS ? ' ' : '\n');
	return rc;
}

static int write_header(const struct ls_profile *p, struct ls_buf *out)
{
	int rc = ls_buf_add_str(out, "# callgrind format\nversion: 1\ncreator: loopscope 0.1.0\n");
	if (!rc && p->meta.pid > 0)
		rc = ls_buf_printf(out, "pid: %d\n", (int)p->meta.pid);
	if (!rc && p->meta.command[0] &&
	    !((rc = ls_buf_add_str(out, "cmd: ")) || (rc = add_name(out, p->meta.command, strlen(p->meta.command)))))
		rc = ls_buf_add_byte(out, '\n');
	if (!rc && p->meta.period_ns)
		rc = ls_buf_printf(out, "desc: Sampling period: %llu ns\n", (unsigned long long)p->meta.period_ns);
	if (!rc)
		rc = ls_buf_add_str(out, "positions: line\n"
					 "event: samples : Samples\n"
					 "event: wall_us : Wall-clock time (microseconds)\n"
					 "event: cpu_us : CPU time (microseconds)\n"
					 "events: samples wall_us cpu_us\n");
	return rc;
}

static int write_callgrind(const struct ls_profile *p, const struct ls_export_options *o, struct ls_buf *out)
{
	struct callgrind_writer w = {.p = p};
	struct ls_export_row *rows = NULL;
	struct self_cost *selfs = NULL;
	struct call_cost *calls = NULL;
	uint32_t *entered = NULL; /* per function: 1 + the row that entered it last */
	size_t nrows = 0, nselfs = 0, ncalls = 0, calls_cap = 0, n = 0, si = 0, ci = 0;
	uint64_t totals[NEVENTS] = {0};
	int rc = ls_export_check(p);
	if (rc || (rc = ls_export_rows_collect(p, 1, &rows, &nrows)) || (rc = ls_export_ambiguous_names(p, &w.ambiguous)))
		goto fail;
	w.file_defined = calloc(p->strings.len ? p->strings.len : 1, 1);
	w.fn_defined = calloc(p->functions.len ? p->functions.len : 1, 1);
	entered = calloc(p->functions.len ? p->functions.len : 1, sizeof(*entered));
	selfs = malloc((nrows ? nrows : 1) * sizeof(*selfs));
	if (!w.file_defined || !w.fn_defined || !entered || !selfs) {
		rc = LS_ERR_NOMEM;
		goto fail;
	}

	for (size_t r = 0; r < nrows; r++) {
		uint64_t cost[NEVENTS] = {rows[r].w.samples, ns_to_us(rows[r].w.wall_ns), ns_to_us(rows[r].w.cpu_ns)};
		if (!cost[0] && !cost[1] && !cost[2])
			continue;
		size_t depth;
		const uint32_t *frames = ls_stacktab_get(&p->stacks, rows[r].stack, &depth);
		const struct ls_frame_key *leaf = &p->frames.items[frames[0]];
		struct self_cost *s = &selfs[nselfs++];
		s->function = leaf->function_id;
		s->line = line_or_zero(o->lines ? leaf->line : p->functions.items[leaf->function_id].first_line);
		for (int e = 0; e < NEVENTS; e++) {
			s->cost[e] = cost[e];
			totals[e] += cost[e];
		}
		/* calls, root to leaf: a callee already entered in this stack is not entered again */
		uint32_t stamp = (uint32_t)r + 1;
		entered[p->frames.items[frames[depth - 1]].function_id] = stamp;
		for (size_t k = depth - 1; k-- > 0;) {
			const struct ls_frame_key *caller = &p->frames.items[frames[k + 1]];
			uint32_t callee = p->frames.items[frames[k]].function_id;
			if (entered[callee] == stamp)
				continue;
			entered[callee] = stamp;
			if ((rc = ls_array_reserve((void **)&calls, &calls_cap, ncalls + 1, sizeof(*calls))))
				goto fail;
			struct call_cost *c = &calls[ncalls++];
			c->caller = caller->function_id;
			c->line = line_or_zero(o->lines ? caller->line : p->functions.items[caller->function_id].first_line);
			c->callee = callee;
			c->calls = cost[0] ? cost[0] : 1;
			memcpy(c->cost, cost, sizeof(cost));
		}
	}
	/* sum equal entries */
	if (nselfs)
		qsort(selfs, nselfs, sizeof(*selfs), self_cmp);
	if (ncalls)
		qsort(calls, ncalls, sizeof(*calls), call_cmp);
	for (size_t i = 0; i < nselfs; i++) {
		if (n && self_cmp(&selfs[n - 1], &selfs[i]) == 0)
			for (int e = 0; e < NEVENTS; e++)
				selfs[n - 1].cost[e] += selfs[i].cost[e];
		else
			selfs[n++] = selfs[i];
	}
	nselfs = n;
	n = 0;
	for (size_t i = 0; i < ncalls; i++) {
		if (n && call_cmp(&calls[n - 1], &calls[i]) == 0) {
			calls[n - 1].calls += calls[i].calls;
			for (int e = 0; e < NEVENTS; e++)
				calls[n - 1].cost[e] += calls[i].cost[e];
		} else {
			calls[n++] = calls[i];
		}
	}
	ncalls = n;

	if ((rc = write_header(p, out)))
		goto fail;
	while (si < nselfs || ci < ncalls) {
		uint32_t f = si < nselfs ? selfs[si].function : UINT32_MAX;
		if (ci < ncalls && calls[ci].caller < f)
			f = calls[ci].caller;
		if ((rc = ls_buf_add_byte(out, '\n')) || (rc = add_file_ref(&w, out, "fl", p->functions.items[f].file_id)) ||
		    (rc = add_fn_ref(&w, out, "fn", f)))
			goto fail;
		for (; si < nselfs && selfs[si].function == f; si++)
			if ((rc = add_costs(out, selfs[si].line, selfs[si].cost)))
				goto fail;
		for (; ci < ncalls && calls[ci].caller == f; ci++) {
			const struct call_cost *c = &calls[ci];
			if ((rc = add_file_ref(&w, out, "cfl", p->functions.items[c->callee].file_id)) ||
			    (rc = add_fn_ref(&w, out, "cfn", c->callee)) ||
			    (rc = ls_buf_add_str(out, "calls=")) || (rc = add_u64(out, c->calls, ' ')) ||
			    (rc = add_u64(out, (uint64_t)line_or_zero(p->functions.items[c->callee].first_line), '\n')) ||
			    (rc = add_costs(out, c->line, c->cost)))
				goto fail;
		}
	}
	rc = ls_buf_printf(out, "\ntotals: %llu %llu %llu\n", (unsigned long long)totals[0], (unsigned long long)totals[1],
			   (unsigned long long)totals[2]);
fail:
	free(rows);
	free(selfs);
	free(calls);
	free(entered);
	free(w.file_defined);
	free(w.fn_defined);
	free(w.ambiguous);
	ls_buf_release(&w.name);
	return rc;
}

const struct ls_exporter ls_export_callgrind = {"callgrind", write_callgrind};
