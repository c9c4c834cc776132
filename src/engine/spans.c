/* spans.c - one process_vm_readv of many ranges, with ranges that lie close together read as one
 * span (see walker.h ls_walker_readv_spans).
 *
 * Each range of a process_vm_readv costs about as much as a few KiB of copying (the kernel looks
 * up, pins and releases its pages one range at a time), so a sample's batch of a dozen ranges, or
 * the <= 3.10 re-check of one small range per frame, is cheaper as a few spans.
 */
#include <string.h>

#include "array.h"
#include "ls_error.h"
#include "walker.h"

#define MERGE_GAP 1024 /* ranges closer than this are read as one span (w->merge_gap when set) */
#define MERGE_SPAN_MAX (64u * 1024)

struct addr_index {
	uint64_t addr;
	size_t index;
};

static int compare_addr_index(const struct addr_index *x, const struct addr_index *y)
{
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Sort by (addr, index): insertion sort for a dozen ranges (a sample's usual batch), else a
 * Shell sort with the same comparison inline (a batch of a hundred ranges, as a stack of many
 * functions makes, is sorted at every sample: qsort's calls through a pointer cost microseconds). */
static void sort_small(struct addr_index *a, size_t n)
{
	static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4};
	for (size_t g = 0; n > 16 && g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		size_t gap = gaps[g];
		for (size_t i = gap; i < n; i++) {
			struct addr_index v = a[i];
			size_t j = i;
			for (; j >= gap && compare_addr_index(&a[j - gap], &v) > 0; j -= gap)
				a[j] = a[j - gap];
			a[j] = v;
		}
	}
	for (size_t i = 1; i < n; i++) {
		struct addr_index v = a[i];
		size_t j = i;
		for (; j > 0 && compare_addr_index(&a[j - 1], &v) > 0; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

/* order[0..n) = the indices of iov sorted by address (sort is scratch of n entries). */
static void sort_by_addr(size_t *order, struct addr_index *sort, size_t n, const struct ls_remote_iov *iov)
{
	for (size_t i = 0; i < n; i++)
		sort[i] = (struct addr_index){iov[i].addr, i};
	sort_small(sort, n);
	for (size_t i = 0; i < n; i++)
		order[i] = sort[i].index;
}

/* The run of order[i..j) whose ranges overlap or lie within `gap` of each other: returns j, and
 * the span they make in *start, *end. */
static size_t span_of(const struct ls_remote_iov *iov, const size_t *order, size_t n, size_t i, uint64_t gap,
		      uint64_t *start, uint64_t *end)
{
	*start = iov[order[i]].addr;
	*end = *start + iov[order[i]].len;
	size_t j = i + 1;
	if (*end < *start || *end > UINT64_MAX - gap)
		return j; /* a bogus range stays alone */
	for (; j < n; j++) {
		const struct ls_remote_iov *r = &iov[order[j]];
		uint64_t r_end = r->addr + r->len;
		if (r_end < r->addr || r->addr > *end + gap)
			break;
		uint64_t new_end = r_end > *end ? r_end : *end;
		if (new_end - *start > MERGE_SPAN_MAX)
			break;
		*end = new_end;
	}
	return j;
}

static int reserve_scratch(struct ls_walker *w, size_t n)
{
	if (n <= w->merge_cap)
		return 0;
	if (ls_array_resize((void **)&w->merge_iov, n, sizeof(*w->merge_iov)) ||
	    ls_array_resize((void **)&w->merge_status, n, sizeof(*w->merge_status)) ||
	    ls_array_resize((void **)&w->merge_order, n, sizeof(*w->merge_order)) ||
	    ls_array_resize((void **)&w->merge_sort, n, sizeof(struct addr_index)) ||
	    ls_array_resize((void **)&w->merge_issue, n, sizeof(*w->merge_issue)) ||
	    ls_array_resize((void **)&w->merge_status_issued, n, sizeof(*w->merge_status_issued)))
		return LS_ERR_NOMEM;
	w->merge_cap = n;
	return 0;
}

int ls_walker_readv_spans(struct ls_walker *w, const struct ls_remote_iov *iov, size_t n, size_t head, size_t tail,
			  int stop_at_fault, int *status)
{
	int (*readv)(struct ls_proc *, const struct ls_remote_iov *, size_t, int *) =
		stop_at_fault ? ls_proc_readv_prefix : ls_proc_readv;
	uint64_t gap = w->merge_gap ? w->merge_gap : MERGE_GAP;
	if (head + tail > n)
		return LS_ERR_INVALID_ARG;
	if (reserve_scratch(w, n))
		return LS_ERR_NOMEM;
	const struct ls_remote_iov *body = iov + head, *tail_iov = iov + (n - tail);
	int *body_status = status + head, *tail_status = status + (n - tail);
	size_t nb = n - head - tail;
	size_t *order = w->merge_order;
	for (size_t i = 0; i < nb; i++)
		order[i] = i;
	sort_by_addr(order, w->merge_sort, nb, body);
	size_t nspans = 0, bytes = 0;
	uint64_t start, end;
	for (size_t i = 0, j; i < nb; i = j, nspans++) {
		j = span_of(body, order, nb, i, gap, &start, &end);
		if (j - i > 1)
			bytes += (size_t)(end - start);
	}
	if (nspans == nb)
		return readv(w->ctx.proc, iov, n, status); /* nothing merged: as given */
	if (ls_array_reserve((void **)&w->merge_bytes, &w->merge_bytes_cap, bytes, 1))
		return LS_ERR_NOMEM;
	struct ls_remote_iov *spans = w->merge_iov;
	size_t s = 0, local = 0;
	for (size_t i = 0, j; i < nb; i = j) {
		j = span_of(body, order, nb, i, gap, &start, &end);
		if (j - i == 1) {
			spans[s++] = body[order[i]]; /* alone: read in place */
		} else {
			spans[s++] = (struct ls_remote_iov){start, w->merge_bytes + local, (size_t)(end - start)};
			local += (size_t)(end - start);
		}
	}
	/* the kernel copies ranges in the order given, and that order matters to a moving stack (a
	 * thread's top before its frames): spans go in the order of their first range in iov */
	struct addr_index *first = w->merge_sort;
	s = 0;
	for (size_t i = 0, j; i < nb; i = j, s++) {
		j = span_of(body, order, nb, i, gap, &start, &end);
		size_t min = order[i];
		for (size_t k = i + 1; k < j; k++)
			min = order[k] < min ? order[k] : min;
		first[s] = (struct addr_index){min, s};
	}
	sort_small(first, s);
	struct ls_remote_iov *issue = w->merge_issue;
	int *issued = w->merge_status_issued;
	memcpy(issue, iov, head * sizeof(*issue));
	for (size_t k = 0; k < s; k++)
		issue[head + k] = spans[first[k].index];
	memcpy(issue + head + s, tail_iov, tail * sizeof(*issue));
	int rc = readv(w->ctx.proc, issue, head + s + tail, issued);
	if (rc)
		return rc;
	memcpy(status, issued, head * sizeof(*status));
	for (size_t k = 0; k < s; k++)
		w->merge_status[first[k].index] = issued[head + k];
	memcpy(tail_status, issued + head + s, tail * sizeof(*status));
	/* hand each range its bytes; those of a failed span are read again one by one */
	size_t nretry = 0;
	s = 0;
	for (size_t i = 0, j; i < nb; i = j, s++) {
		j = span_of(body, order, nb, i, gap, &start, &end);
		for (size_t k = i; k < j; k++) {
			const struct ls_remote_iov *r = &body[order[k]];
			if (j - i == 1)
				body_status[order[k]] = w->merge_status[s];
			else if (w->merge_status[s] == 0) {
				memcpy(r->dst, (const uint8_t *)spans[s].dst + (r->addr - start), r->len);
				body_status[order[k]] = 0;
			} else
				order[nretry++] = order[k]; /* nretry <= k: order[k] is not needed again */
		}
	}
	if (nretry == 0)
		return 0;
	if (stop_at_fault) {
		for (size_t k = 0; k < nretry; k++)
			body_status[order[k]] = LS_ERR_READ;
		return 0;
	}
	for (size_t k = 0; k < tail; k++)
		tail_status[k] = LS_ERR_READ; /* no longer read after everything else */
	for (size_t k = 0; k < nretry; k++)
		spans[k] = body[order[k]];
	rc = ls_proc_readv(w->ctx.proc, spans, nretry, w->merge_status);
	if (rc)
		return rc;
	for (size_t k = 0; k < nretry; k++)
		body_status[order[k]] = w->merge_status[k];
	return 0;
}
