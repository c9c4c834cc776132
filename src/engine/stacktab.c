/* stacktab.c - frame and stack interning, open-addressing hashes over dense arrays (see stacktab.h). */
#include "stacktab.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "ls_error.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h * 0xBF58476D1CE4E5B9ull;
}

static int grow_slots(uint32_t **slots, uint32_t *nslots, uint32_t len, uint32_t (*hash_of)(const void *, uint32_t),
		      const void *tab)
{
	uint32_t n = *nslots ? *nslots * 2 : 256;
	uint32_t *s = calloc(n, sizeof(*s));
	if (!s)
		return LS_ERR_NOMEM;
	for (uint32_t id = 0; id < len; id++) {
		uint32_t i = hash_of(tab, id) & (n - 1);
		while (s[i])
			i = (i + 1) & (n - 1);
		s[i] = id + 1;
	}
	free(*slots);
	*slots = s;
	*nslots = n;
	return 0;
}

/* --- frames ---------------------------------------------------------------------------------- */

static uint32_t frame_hash(uint32_t function_id, int32_t line)
{
	return (uint32_t)(mix(mix(0, function_id), (uint32_t)line) >> 32);
}

static uint32_t frame_hash_of(const void *tab, uint32_t id)
{
	const struct ls_frame_key *k = &((const struct ls_frametab *)tab)->items[id];
	return frame_hash(k->function_id, k->line);
}

int ls_frametab_init(struct ls_frametab *tab)
{
	memset(tab, 0, sizeof(*tab));
	return grow_slots(&tab->slots, &tab->nslots, 0, frame_hash_of, tab);
}

void ls_frametab_release(struct ls_frametab *tab)
{
	free(tab->items);
	free(tab->slots);
	memset(tab, 0, sizeof(*tab));
}

int64_t ls_frametab_intern(struct ls_frametab *tab, uint32_t function_id, int32_t line)
{
	uint32_t mask = tab->nslots - 1, i = frame_hash(function_id, line) & mask;
	for (; tab->slots[i]; i = (i + 1) & mask) {
		const struct ls_frame_key *k = &tab->items[tab->slots[i] - 1];
		if (k->function_id == function_id && k->line == line)
			return tab->slots[i] - 1;
	}
	if (ls_array_reserve((void **)&tab->items, &tab->cap, (size_t)tab->len + 1, sizeof(*tab->items)))
		return LS_ERR_NOMEM;
	uint32_t id = tab->len++;
	tab->items[id] = (struct ls_frame_key){function_id, line};
	tab->slots[i] = id + 1;
	if ((uint64_t)tab->len * 2 > tab->nslots && grow_slots(&tab->slots, &tab->nslots, tab->len, frame_hash_of, tab))
		return LS_ERR_NOMEM;
	return id;
}

const struct ls_frame_key *ls_frametab_get(const struct ls_frametab *tab, uint32_t id)
{
	return id < tab->len ? &tab->items[id] : NULL;
}

/* --- stacks ---------------------------------------------------------------------------------- */

static uint32_t stack_hash(const uint32_t *frames, size_t n)
{
	uint64_t h = n;
	for (size_t i = 0; i < n; i++)
		h = mix(h, frames[i]);
	return (uint32_t)(h >> 32);
}

static uint32_t stack_hash_of(const void *tab, uint32_t id)
{
	const struct ls_stacktab *t = tab;
	return stack_hash(t->frames + t->offsets[id], (size_t)(t->offsets[id + 1] - t->offsets[id]));
}

int ls_stacktab_init(struct ls_stacktab *tab)
{
	memset(tab, 0, sizeof(*tab));
	if (ls_array_reserve((void **)&tab->offsets, &tab->cap, 1, sizeof(*tab->offsets)))
		return LS_ERR_NOMEM;
	tab->offsets[0] = 0;
	return grow_slots(&tab->slots, &tab->nslots, 0, stack_hash_of, tab);
}

void ls_stacktab_release(struct ls_stacktab *tab)
{
	free(tab->frames);
	free(tab->offsets);
	free(tab->slots);
	memset(tab, 0, sizeof(*tab));
}

int64_t ls_stacktab_intern(struct ls_stacktab *tab, const uint32_t *frames, size_t n)
{
	uint32_t mask = tab->nslots - 1, i = stack_hash(frames, n) & mask;
	for (; tab->slots[i]; i = (i + 1) & mask) {
		uint32_t id = tab->slots[i] - 1;
		size_t len = (size_t)(tab->offsets[id + 1] - tab->offsets[id]);
		if (len == n && memcmp(tab->frames + tab->offsets[id], frames, n * sizeof(*frames)) == 0)
			return id;
	}
	if (ls_array_reserve((void **)&tab->offsets, &tab->cap, (size_t)tab->len + 2, sizeof(*tab->offsets)) ||
	    ls_array_reserve((void **)&tab->frames, &tab->frames_cap, tab->frames_len + n, sizeof(*tab->frames)))
		return LS_ERR_NOMEM;
	if (n)
		memcpy(tab->frames + tab->frames_len, frames, n * sizeof(*frames));
	tab->frames_len += n;
	uint32_t id = tab->len++;
	tab->offsets[tab->len] = tab->frames_len;
	tab->slots[i] = id + 1;
	if ((uint64_t)tab->len * 2 > tab->nslots && grow_slots(&tab->slots, &tab->nslots, tab->len, stack_hash_of, tab))
		return LS_ERR_NOMEM;
	return id;
}

const uint32_t *ls_stacktab_get(const struct ls_stacktab *tab, uint32_t id, size_t *n)
{
	if (id >= tab->len)
		return NULL;
	*n = (size_t)(tab->offsets[id + 1] - tab->offsets[id]);
	return tab->frames + tab->offsets[id];
}
