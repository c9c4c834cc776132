/* code.c - code-object validation and the decoded-code cache (see code.h).
 *
 * The cache is an open-addressing table keyed by the remote address. It grows to a bound and is
 * then cleared whole (a program that keeps creating code objects, e.g. with exec, cannot make it
 * grow forever); the function and string ids that entries pointed to stay valid.
 */
#include "code.h"

#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "ls_error.h"
#include "pyobj.h"

#define CACHE_MIN_SLOTS 1024
#define CACHE_MAX_SLOTS (1u << 17)

int ls_code_cache_init(struct ls_code_cache *cache)
{
	memset(cache, 0, sizeof(*cache));
	cache->slots = calloc(CACHE_MIN_SLOTS, sizeof(*cache->slots));
	if (!cache->slots)
		return LS_ERR_NOMEM;
	cache->nslots = CACHE_MIN_SLOTS;
	return 0;
}

static void clear_slots(struct ls_code_entry *slots, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (slots[i].addr)
			ls_line_ranges_release(&slots[i].lines);
}

void ls_code_cache_release(struct ls_code_cache *cache)
{
	if (cache->slots)
		clear_slots(cache->slots, cache->nslots);
	free(cache->slots);
	memset(cache, 0, sizeof(*cache));
}

static uint32_t slot_of(uint64_t addr, uint32_t nslots)
{
	uint64_t h = (addr >> 3) * 0x9E3779B97F4A7C15ull;
	return (uint32_t)(h >> 32) & (nslots - 1);
}

static struct ls_code_entry *find_slot(struct ls_code_cache *cache, uint64_t addr)
{
	uint32_t mask = cache->nslots - 1;
	uint32_t i = slot_of(addr, cache->nslots);
	while (cache->slots[i].addr && cache->slots[i].addr != addr)
		i = (i + 1) & mask;
	return &cache->slots[i];
}

/* Make room for one more entry: grow while allowed, else start over empty. */
static int make_room(struct ls_code_cache *cache)
{
	if ((cache->used + 1) * 2 <= cache->nslots)
		return 0;
	if (cache->nslots >= CACHE_MAX_SLOTS) {
		clear_slots(cache->slots, cache->nslots);
		memset(cache->slots, 0, cache->nslots * sizeof(*cache->slots));
		cache->used = 0;
		return 0;
	}
	uint32_t nslots = cache->nslots * 2;
	struct ls_code_entry *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return LS_ERR_NOMEM;
	struct ls_code_entry *old = cache->slots;
	uint32_t old_n = cache->nslots;
	cache->slots = slots;
	cache->nslots = nslots;
	for (uint32_t i = 0; i < old_n; i++)
		if (old[i].addr)
			*find_slot(cache, old[i].addr) = old[i];
	free(old);
	return 0;
}

int ls_code_header_parse(const struct ls_code_context *ctx, const uint8_t *raw, struct ls_code_header *out)
{
	const struct ls_layout *l = &ctx->target->layout;
	memset(out, 0, sizeof(*out));
	out->type = ls_get_u64(raw, l->ob_type);
	if (ctx->target->facts.code_type_addr && out->type != ctx->target->facts.code_type_addr)
		return LS_ERR_TORN;
	out->filename = ls_get_u64(raw, l->co_filename);
	out->name = ls_get_u64(raw, l->co_name);
	out->qualname = l->co_qualname >= 0 ? ls_get_u64(raw, l->co_qualname) : 0;
	out->linetable = ls_get_u64(raw, l->co_linetable);
	out->first_line = ls_get_i32(raw, l->co_firstlineno);
	out->first_traceable = l->co_firsttraceable >= 0 ? ls_get_i32(raw, l->co_firsttraceable) : -1;
	out->code_units = l->co_ob_size >= 0 ? (int64_t)ls_get_u64(raw, l->co_ob_size) : -1;
	if (l->co_version > 0)
		memcpy(&out->version, raw + l->co_version, sizeof(out->version));
	int32_t words = 0;
	if (l->co_framesize > 0)
		words = ls_get_i32(raw, l->co_framesize);
	else if (l->co_nlocalsplus > 0 && l->co_stacksize > 0 && l->fr_size > 0)
		words = ls_get_i32(raw, l->co_nlocalsplus) + ls_get_i32(raw, l->co_stacksize) + (l->fr_size - 1) / 8;
	out->frame_words = words > 0 && words < (1 << 20) ? (uint32_t)words : 0;
	out->flags = l->co_flags > 0 ? ls_get_i32(raw, l->co_flags) : -1;
	if (!out->filename || !out->name || !out->linetable || out->first_line < 0 ||
	    (l->co_ob_size >= 0 && (out->code_units <= 0 || out->code_units > (1 << 24))))
		return LS_ERR_TORN;
	return 0;
}

int ls_code_header_needs_name_print(const struct ls_layout *layout, const struct ls_code_header *h)
{
	return layout->co_version <= 0 || h->version == 0;
}

uint64_t ls_code_header_shown_name(const struct ls_code_header *h)
{
	return h->qualname ? h->qualname : h->name;
}

static int same_header(const struct ls_code_header *a, const struct ls_code_header *b)
{
	return a->type == b->type && a->filename == b->filename && a->name == b->name &&
	       a->qualname == b->qualname && a->linetable == b->linetable && a->first_line == b->first_line &&
	       a->first_traceable == b->first_traceable && a->code_units == b->code_units &&
	       a->version == b->version && a->name_print == b->name_print && a->frame_words == b->frame_words && a->flags == b->flags;
}

static int intern_str(const struct ls_code_context *ctx, uint64_t addr, uint32_t *id)
{
	static _Thread_local char buf[LS_STR_MAX_UTF8];
	size_t len;
	int rc = ls_pystr_read(ctx->proc, &ctx->target->layout, addr, buf, sizeof(buf), &len);
	if (rc)
		return rc;
	int64_t r = ls_strtab_intern(ctx->strings, buf, len);
	if (r < 0)
		return (int)r;
	*id = (uint32_t)r;
	return 0;
}

/* Decode what an entry holds: names, file, line table. */
static int decode(const struct ls_code_context *ctx, const struct ls_code_header *h, struct ls_code_entry *e)
{
	const struct ls_layout *l = &ctx->target->layout;
	struct ls_function fn = {.first_line = h->first_line};
	int rc = intern_str(ctx, h->qualname ? h->qualname : h->name, &fn.name_id);
	if (!rc)
		rc = intern_str(ctx, h->filename, &fn.file_id);
	if (rc)
		return rc;
	int64_t id = ls_functab_intern(ctx->functions, &fn);
	if (id < 0)
		return (int)id;
	uint8_t *table = NULL;
	size_t table_len = 0;
	rc = ls_pybytes_read(ctx->proc, l, h->linetable, LS_LINETABLE_MAX_BYTES, &table, &table_len);
	if (rc)
		return rc;
	memset(&e->lines, 0, sizeof(e->lines));
	rc = ls_linetable_decode(l->linetable_kind, table, table_len, h->first_line, &e->lines);
	free(table);
	if (rc) {
		ls_line_ranges_release(&e->lines);
		return rc;
	}
	e->function_id = (uint32_t)id;
	e->header = *h;
	return 0;
}

const struct ls_code_entry *ls_code_cache_epoch_entry(struct ls_code_cache *cache, uint64_t addr, uint32_t epoch)
{
	if (!epoch || !cache->nslots || !addr)
		return NULL;
	const struct ls_code_entry *slot = find_slot(cache, addr);
	return slot->addr == addr && slot->epoch == epoch ? slot : NULL;
}

const struct ls_code_entry *ls_code_cache_aged_entry(struct ls_code_cache *cache, uint64_t addr, uint64_t now_ns,
						     uint64_t min_age_ns)
{
	if (!cache->nslots || !addr)
		return NULL;
	const struct ls_code_entry *slot = find_slot(cache, addr);
	return slot->addr == addr && now_ns >= slot->since_ns && now_ns - slot->since_ns >= min_age_ns ? slot : NULL;
}

int ls_code_resolve(struct ls_code_cache *cache, const struct ls_code_context *ctx, uint64_t addr,
		    const struct ls_code_header *h, uint32_t epoch, uint64_t now_ns, const struct ls_code_entry **out)
{
	struct ls_code_entry *slot = find_slot(cache, addr);
	if (slot->addr == addr) {
		if (same_header(&slot->header, h)) {
			cache->hits++;
			if (epoch != LS_CODE_UNREAD) {
				slot->epoch = epoch;
				slot->proven_ns = now_ns;
			}
			*out = slot;
			return 0;
		}
		cache->stale++;
		slot->epoch = 0;             /* never trusted again without a read, */
		slot->since_ns = UINT64_MAX; /* nor for its age */
		struct ls_code_entry fresh = {.addr = addr};
		int rc = decode(ctx, h, &fresh);
		if (rc)
			return rc; /* the stale entry stays; it can never match a fresh header of another object */
		ls_line_ranges_release(&slot->lines);
		fresh.epoch = epoch == LS_CODE_UNREAD ? 0 : epoch;
		fresh.since_ns = fresh.proven_ns = now_ns;
		*slot = fresh;
		*out = slot;
		return 0;
	}
	cache->misses++;
	struct ls_code_entry fresh = {.addr = addr};
	int rc = decode(ctx, h, &fresh);
	if (rc)
		return rc;
	rc = make_room(cache);
	if (rc) {
		ls_line_ranges_release(&fresh.lines);
		return rc;
	}
	slot = find_slot(cache, addr);
	fresh.epoch = epoch == LS_CODE_UNREAD ? 0 : epoch;
	fresh.since_ns = fresh.proven_ns = now_ns;
	*slot = fresh;
	cache->used++;
	*out = slot;
	return 0;
}
