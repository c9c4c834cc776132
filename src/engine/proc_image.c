/* proc_image.c - the recorded-image back end of proc.h.
 *
 * Replays a memory image written by ls_image_save() (format in image_format.h): reads are served
 * from the sorted regions by binary search and fail like a live read would when the range was not
 * recorded; thread lists and OS facts come from the image. The parser treats the file as hostile
 * (it is the fuzzer's input): every length is checked against what is left before it is used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_format.h"
#include "ls_error.h"
#include "proc.h"
#include "target.h"

struct region {
	uint64_t addr;
	uint32_t len;
	const uint8_t *bytes; /* into proc_image.data */
};

struct proc_image {
	struct ls_proc base;
	uint8_t *data; /* the whole file, owned */
	size_t len;
	struct region *regions;
	uint32_t nregions;
	int32_t *tids;
	uint32_t ntids;
	struct image_thread *threads;
	uint32_t nthreads;
};

struct cursor {
	const uint8_t *p, *end;
	int bad;
};

static const uint8_t *take(struct cursor *c, size_t len)
{
	if (c->bad || (size_t)(c->end - c->p) < len) {
		c->bad = 1;
		return NULL;
	}
	const uint8_t *r = c->p;
	c->p += len;
	return r;
}

static uint32_t take_u32(struct cursor *c)
{
	const uint8_t *b = take(c, 4);
	return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
}

static uint64_t take_u64(struct cursor *c)
{
	uint64_t lo = take_u32(c);
	return lo | (uint64_t)take_u32(c) << 32;
}

static void take_str(struct cursor *c, char *dst, size_t cap)
{
	uint32_t len = take_u32(c);
	if (len > LS_IMAGE_MAX_STRING) {
		c->bad = 1;
		return;
	}
	const uint8_t *s = take(c, len);
	if (!s)
		return;
	size_t n = len < cap - 1 ? len : cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

static const struct region *find_region(const struct proc_image *img, uint64_t addr)
{
	size_t lo = 0, hi = img->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (img->regions[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct region *r = &img->regions[lo - 1];
	return addr - r->addr < r->len ? r : NULL;
}

static int image_read(struct ls_proc *base, uint64_t addr, void *dst, size_t len)
{
	const struct proc_image *img = (const struct proc_image *)base;
	if (len == 0)
		return 0;
	const struct region *r = find_region(img, addr);
	if (!r || len > r->len - (addr - r->addr))
		return LS_ERR_READ;
	memcpy(dst, r->bytes + (addr - r->addr), len);
	return 0;
}

static int image_readv(struct ls_proc *base, const struct ls_remote_iov *iov, size_t n, int *status)
{
	base->stats.read_calls++;
	for (size_t i = 0; i < n; i++)
		status[i] = image_read(base, iov[i].addr, iov[i].dst, iov[i].len);
	return 0;
}

static int image_list_threads(struct ls_proc *base, int32_t *tids, size_t cap)
{
	const struct proc_image *img = (const struct proc_image *)base;
	size_t n = img->ntids < cap ? img->ntids : cap;
	memcpy(tids, img->tids, n * sizeof(*tids));
	return (int)n;
}

static int image_thread_info(struct ls_proc *base, int32_t tid, struct ls_os_thread *out)
{
	const struct proc_image *img = (const struct proc_image *)base;
	for (uint32_t i = 0; i < img->nthreads; i++) {
		if (img->threads[i].tid == tid) {
			*out = img->threads[i].info;
			return 0;
		}
	}
	return LS_ERR_IO;
}

static void image_free(struct ls_proc *base)
{
	struct proc_image *img = (struct proc_image *)base;
	free(img->data);
	free(img->regions);
	free(img->tids);
	free(img->threads);
	free(img);
}

static const struct ls_proc_ops image_ops = {
	.read = image_read,
	.readv = image_readv,
	.list_threads = image_list_threads,
	.thread_info = image_thread_info,
	.free = image_free,
};

static int parse(struct proc_image *img, struct ls_target_facts *facts)
{
	struct cursor c = {img->data, img->data + img->len, 0};
	const uint8_t *magic = take(&c, LS_IMAGE_MAGIC_LEN);
	if (!magic || memcmp(magic, LS_IMAGE_MAGIC, LS_IMAGE_MAGIC_LEN) != 0)
		return LS_ERR_BAD_IMAGE;
	memset(facts, 0, sizeof(*facts));
	facts->pid = (int32_t)take_u32(&c);
	facts->hexversion = take_u32(&c);
	facts->runtime_addr = take_u64(&c);
	facts->code_type_addr = take_u64(&c);
	facts->frame_type_addr = take_u64(&c);
	take_str(&c, facts->version, sizeof(facts->version));
	take_str(&c, facts->binary, sizeof(facts->binary));

	img->ntids = take_u32(&c);
	if (c.bad || img->ntids > LS_IMAGE_MAX_THREADS || img->ntids > (size_t)(c.end - c.p) / 4)
		return LS_ERR_BAD_IMAGE;
	img->tids = malloc((img->ntids + 1) * sizeof(*img->tids));
	if (!img->tids)
		return LS_ERR_NOMEM;
	for (uint32_t i = 0; i < img->ntids; i++)
		img->tids[i] = (int32_t)take_u32(&c);

	img->nthreads = take_u32(&c);
	const size_t thread_record = 4 + 2 + 8 + LS_THREAD_NAME_MAX;
	if (c.bad || img->nthreads > LS_IMAGE_MAX_THREADS || img->nthreads > (size_t)(c.end - c.p) / thread_record)
		return LS_ERR_BAD_IMAGE;
	img->threads = calloc(img->nthreads + 1, sizeof(*img->threads));
	if (!img->threads)
		return LS_ERR_NOMEM;
	for (uint32_t i = 0; i < img->nthreads; i++) {
		struct image_thread *t = &img->threads[i];
		t->tid = (int32_t)take_u32(&c);
		const uint8_t *flags = take(&c, 2);
		t->info.cpu_ns = take_u64(&c);
		const uint8_t *name = take(&c, LS_THREAD_NAME_MAX);
		if (!flags || !name)
			return LS_ERR_BAD_IMAGE;
		t->info.state = (char)flags[0];
		t->info.has_cpu_time = flags[1] != 0;
		memcpy(t->info.name, name, LS_THREAD_NAME_MAX);
		t->info.name[LS_THREAD_NAME_MAX - 1] = 0;
	}

	img->nregions = take_u32(&c);
	if (c.bad || img->nregions > LS_IMAGE_MAX_REGIONS || img->nregions > (size_t)(c.end - c.p) / 12)
		return LS_ERR_BAD_IMAGE;
	img->regions = malloc((img->nregions + 1) * sizeof(*img->regions));
	if (!img->regions)
		return LS_ERR_NOMEM;
	for (uint32_t i = 0; i < img->nregions; i++) {
		struct region *r = &img->regions[i];
		r->addr = take_u64(&c);
		r->len = take_u32(&c);
		r->bytes = take(&c, r->len);
		if (!r->bytes || r->len == 0 || r->addr + r->len < r->addr)
			return LS_ERR_BAD_IMAGE;
		/* sorted and non-overlapping, so the binary search is right */
		if (i > 0 && r->addr < img->regions[i - 1].addr + img->regions[i - 1].len)
			return LS_ERR_BAD_IMAGE;
	}
	return c.bad ? LS_ERR_BAD_IMAGE : 0;
}

int ls_proc_open_image_bytes(const uint8_t *data, size_t len, struct ls_proc **out,
			     struct ls_target_facts *facts)
{
	struct proc_image *img = calloc(1, sizeof(*img));
	if (!img)
		return LS_ERR_NOMEM;
	img->base.ops = &image_ops;
	img->base.frozen = 1;
	img->data = malloc(len ? len : 1);
	if (!img->data) {
		free(img);
		return LS_ERR_NOMEM;
	}
	memcpy(img->data, data, len);
	img->len = len;
	int rc = parse(img, facts);
	if (rc) {
		image_free(&img->base);
		return rc;
	}
	img->base.pid = facts->pid;
	*out = &img->base;
	return 0;
}

int ls_proc_open_image(const char *path, struct ls_proc **out, struct ls_target_facts *facts)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return LS_ERR_IO;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			uint8_t *n = realloc(buf, cap);
			if (!n) {
				rc = LS_ERR_NOMEM;
				break;
			}
			buf = n;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		rc = LS_ERR_IO;
	fclose(f);
	if (!rc)
		rc = ls_proc_open_image_bytes(buf, len, out, facts);
	free(buf);
	return rc;
}
