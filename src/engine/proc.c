/* proc.c - the back-end-independent half of proc.h: counting, recording and saving images.
 *
 * Every read goes through ls_proc_read/ls_proc_readv here, which count calls and bytes and, when a
 * recorder is attached, keep a copy of the bytes read. ls_image_save() sorts and merges the
 * recorded ranges and writes them with the target's facts in the image format that
 * proc_image.c reads back (described there).
 */
#define _POSIX_C_SOURCE 200809L
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_format.h"
#include "array.h"
#include "ls_error.h"
#include "target.h"

struct recorded_range {
	uint64_t addr;
	size_t len;
	size_t data_offset; /* into recorder->data */
	size_t order;       /* recording order, so later reads win on overlap */
};

struct ls_image_recorder {
	struct recorded_range *ranges;
	size_t nranges, cap_ranges;
	uint8_t *data;
	size_t data_len, data_cap;
	int32_t *tids;
	size_t ntids;
	struct image_thread *threads;
	size_t nthreads, cap_threads;
};

#define grow ls_array_reserve

static void recorder_add_memory(struct ls_image_recorder *r, uint64_t addr, const void *src, size_t len)
{
	/* recording is best effort: on allocation failure the image simply lacks this range */
	if (grow((void **)&r->ranges, &r->cap_ranges, r->nranges + 1, sizeof(*r->ranges)) ||
	    grow((void **)&r->data, &r->data_cap, r->data_len + len, 1))
		return;
	memcpy(r->data + r->data_len, src, len);
	r->ranges[r->nranges] = (struct recorded_range){addr, len, r->data_len, r->nranges};
	r->nranges++;
	r->data_len += len;
}

static void recorder_add_thread(struct ls_image_recorder *r, int32_t tid, const struct ls_os_thread *info)
{
	for (size_t i = 0; i < r->nthreads; i++) {
		if (r->threads[i].tid == tid) {
			r->threads[i].info = *info;
			return;
		}
	}
	if (grow((void **)&r->threads, &r->cap_threads, r->nthreads + 1, sizeof(*r->threads)))
		return;
	r->threads[r->nthreads].tid = tid;
	r->threads[r->nthreads].info = *info;
	r->nthreads++;
}

static void recorder_free(struct ls_image_recorder *r)
{
	if (!r)
		return;
	free(r->ranges);
	free(r->data);
	free(r->tids);
	free(r->threads);
	free(r);
}

int ls_proc_start_recording(struct ls_proc *proc)
{
	if (proc->recorder)
		return 0;
	proc->recorder = calloc(1, sizeof(*proc->recorder));
	return proc->recorder ? 0 : LS_ERR_NOMEM;
}

void ls_proc_free(struct ls_proc *proc)
{
	if (!proc)
		return;
	recorder_free(proc->recorder);
	proc->recorder = NULL;
	proc->ops->free(proc);
}

int ls_proc_read(struct ls_proc *proc, uint64_t addr, void *dst, size_t len)
{
	proc->stats.read_calls++;
	int rc = proc->ops->read(proc, addr, dst, len);
	if (rc) {
		proc->stats.read_failures++;
		return rc;
	}
	proc->stats.read_bytes += len;
	if (proc->recorder)
		recorder_add_memory(proc->recorder, addr, dst, len);
	return 0;
}

int ls_proc_readv(struct ls_proc *proc, const struct ls_remote_iov *iov, size_t n, int *status)
{
	if (n == 0)
		return 0;
	int rc = proc->ops->readv(proc, iov, n, status);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (status[i]) {
			proc->stats.read_failures++;
			continue;
		}
		proc->stats.read_bytes += iov[i].len;
		if (proc->recorder)
			recorder_add_memory(proc->recorder, iov[i].addr, iov[i].dst, iov[i].len);
	}
	return 0;
}

int ls_proc_readv_prefix(struct ls_proc *proc, const struct ls_remote_iov *iov, size_t n, int *status)
{
	if (n == 0)
		return 0;
	int rc = proc->ops->readv_prefix ? proc->ops->readv_prefix(proc, iov, n, status)
					 : proc->ops->readv(proc, iov, n, status);
	if (rc)
		return rc;
	int stopped = 0;
	for (size_t i = 0; i < n; i++) {
		if (stopped || status[i]) {
			proc->stats.read_failures += !stopped; /* the one that failed, not those never read */
			status[i] = stopped ? LS_ERR_READ : status[i];
			stopped = 1;
			continue;
		}
		proc->stats.read_bytes += iov[i].len;
		if (proc->recorder)
			recorder_add_memory(proc->recorder, iov[i].addr, iov[i].dst, iov[i].len);
	}
	return 0;
}

int ls_proc_read_u64(struct ls_proc *proc, uint64_t addr, uint64_t *out)
{
	uint8_t b[8];
	int rc = ls_proc_read(proc, addr, b, sizeof(b));
	if (rc)
		return rc;
	memcpy(out, b, sizeof(b));
	return 0;
}

int ls_proc_list_threads(struct ls_proc *proc, int32_t *tids, size_t cap)
{
	int n = proc->ops->list_threads(proc, tids, cap);
	if (n >= 0 && proc->recorder) {
		int32_t *copy = malloc((size_t)(n ? n : 1) * sizeof(*copy));
		if (copy) {
			memcpy(copy, tids, (size_t)n * sizeof(*copy));
			free(proc->recorder->tids);
			proc->recorder->tids = copy;
			proc->recorder->ntids = (size_t)n;
		}
	}
	return n;
}

int ls_proc_thread_info(struct ls_proc *proc, int32_t tid, struct ls_os_thread *out)
{
	int rc = proc->ops->thread_info(proc, tid, out);
	if (rc == 0 && proc->recorder)
		recorder_add_thread(proc->recorder, tid, out);
	return rc;
}

/* --- saving ---------------------------------------------------------------------------------- */

static int compare_ranges(const void *a, const void *b)
{
	const struct recorded_range *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->order < y->order ? -1 : (x->order > y->order);
}

static int put(FILE *f, const void *p, size_t len)
{
	return fwrite(p, 1, len, f) == len ? 0 : LS_ERR_IO;
}

static int put_u32(FILE *f, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	return put(f, b, 4);
}

static int put_u64(FILE *f, uint64_t v)
{
	int rc = put_u32(f, (uint32_t)v);
	return rc ? rc : put_u32(f, (uint32_t)(v >> 32));
}

static int put_str(FILE *f, const char *s)
{
	size_t len = strnlen(s, 0xffff);
	int rc = put_u32(f, (uint32_t)len);
	return rc ? rc : put(f, s, len);
}

static int compare_order(const void *a, const void *b)
{
	const struct recorded_range *x = a, *y = b;
	return x->order < y->order ? -1 : (x->order > y->order);
}

/* Write one merged region: ranges[first..last) all overlap or touch; later recordings win. */
static int put_region(FILE *f, const struct ls_image_recorder *r, const struct recorded_range *ranges,
		      size_t first, size_t last, uint64_t start, uint64_t end)
{
	size_t len = (size_t)(end - start), n = last - first;
	uint8_t *buf = malloc(len ? len : 1);
	struct recorded_range *by_order = malloc(n * sizeof(*by_order));
	int rc = LS_ERR_NOMEM;
	if (!buf || !by_order)
		goto out;
	memcpy(by_order, ranges + first, n * sizeof(*by_order));
	qsort(by_order, n, sizeof(*by_order), compare_order);
	for (size_t i = 0; i < n; i++)
		memcpy(buf + (by_order[i].addr - start), r->data + by_order[i].data_offset, by_order[i].len);
	rc = put_u64(f, start);
	if (!rc)
		rc = put_u32(f, (uint32_t)len);
	if (!rc)
		rc = put(f, buf, len);
out:
	free(buf);
	free(by_order);
	return rc;
}

int ls_image_save(const struct ls_proc *proc, const struct ls_target_facts *facts, const char *path)
{
	const struct ls_image_recorder *r = proc->recorder;
	if (!r)
		return LS_ERR_INVALID_ARG;
	struct recorded_range *ranges = malloc((r->nranges ? r->nranges : 1) * sizeof(*ranges));
	if (!ranges)
		return LS_ERR_NOMEM;
	memcpy(ranges, r->ranges, r->nranges * sizeof(*ranges));
	qsort(ranges, r->nranges, sizeof(*ranges), compare_ranges);

	/* count merged regions first: the count precedes them in the file */
	uint32_t nregions = 0;
	for (size_t i = 0; i < r->nranges;) {
		uint64_t end = ranges[i].addr + ranges[i].len;
		size_t j = i + 1;
		while (j < r->nranges && ranges[j].addr <= end) {
			if (ranges[j].addr + ranges[j].len > end)
				end = ranges[j].addr + ranges[j].len;
			j++;
		}
		nregions++;
		i = j;
	}

	int rc = LS_ERR_IO;
	FILE *f = fopen(path, "wb");
	if (!f)
		goto out;
	rc = put(f, LS_IMAGE_MAGIC, LS_IMAGE_MAGIC_LEN);
	if (!rc) rc = put_u32(f, (uint32_t)facts->pid);
	if (!rc) rc = put_u32(f, facts->hexversion);
	if (!rc) rc = put_u64(f, facts->runtime_addr);
	if (!rc) rc = put_u64(f, facts->code_type_addr);
	if (!rc) rc = put_u64(f, facts->frame_type_addr);
	if (!rc) rc = put_str(f, facts->version);
	if (!rc) rc = put_str(f, facts->binary);
	if (!rc) rc = put_u32(f, (uint32_t)r->ntids);
	for (size_t i = 0; !rc && i < r->ntids; i++)
		rc = put_u32(f, (uint32_t)r->tids[i]);
	if (!rc) rc = put_u32(f, (uint32_t)r->nthreads);
	for (size_t i = 0; !rc && i < r->nthreads; i++) {
		const struct image_thread *t = &r->threads[i];
		uint8_t flags[2] = {(uint8_t)t->info.state, (uint8_t)(t->info.has_cpu_time ? 1 : 0)};
		rc = put_u32(f, (uint32_t)t->tid);
		if (!rc) rc = put(f, flags, 2);
		if (!rc) rc = put_u64(f, t->info.cpu_ns);
		if (!rc) rc = put(f, t->info.name, LS_THREAD_NAME_MAX);
	}
	if (!rc) rc = put_u32(f, nregions);
	for (size_t i = 0; !rc && i < r->nranges;) {
		uint64_t start = ranges[i].addr, end = start + ranges[i].len;
		size_t j = i + 1;
		while (j < r->nranges && ranges[j].addr <= end) {
			if (ranges[j].addr + ranges[j].len > end)
				end = ranges[j].addr + ranges[j].len;
			j++;
		}
		rc = put_region(f, r, ranges, i, j, start, end);
		i = j;
	}
	if (fclose(f) && !rc)
		rc = LS_ERR_IO;
out:
	free(ranges);
	return rc;
}
