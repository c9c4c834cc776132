/* functab.c - function interning, an open-addressing hash over (name, file, line) (see functab.h). */
#include "functab.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "ls_error.h"

static uint32_t hash_fn(const struct ls_function *fn)
{
	uint64_t h = fn->name_id * 0x9E3779B97F4A7C15ull;
	h ^= (h >> 29) + fn->file_id * 0xBF58476D1CE4E5B9ull;
	h ^= (h >> 31) + (uint32_t)fn->first_line * 0x94D049BB133111EBull;
	return (uint32_t)(h ^ (h >> 32));
}

static int same(const struct ls_function *a, const struct ls_function *b)
{
	return a->name_id == b->name_id && a->file_id == b->file_id && a->first_line == b->first_line;
}

static int rehash(struct ls_functab *tab, uint32_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return LS_ERR_NOMEM;
	for (uint32_t id = 0; id < tab->len; id++) {
		uint32_t i = hash_fn(&tab->items[id]) & (nslots - 1);
		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = id + 1;
	}
	free(tab->slots);
	tab->slots = slots;
	tab->nslots = nslots;
	return 0;
}

int ls_functab_init(struct ls_functab *tab)
{
	memset(tab, 0, sizeof(*tab));
	return rehash(tab, 256);
}

void ls_functab_release(struct ls_functab *tab)
{
	free(tab->items);
	free(tab->slots);
	memset(tab, 0, sizeof(*tab));
}

int64_t ls_functab_intern(struct ls_functab *tab, const struct ls_function *fn)
{
	uint32_t mask = tab->nslots - 1, i = hash_fn(fn) & mask;
	for (; tab->slots[i]; i = (i + 1) & mask)
		if (same(&tab->items[tab->slots[i] - 1], fn))
			return tab->slots[i] - 1;
	if (ls_array_reserve((void **)&tab->items, &tab->cap, (size_t)tab->len + 1, sizeof(*tab->items)))
		return LS_ERR_NOMEM;
	uint32_t id = tab->len++;
	tab->items[id] = *fn;
	tab->slots[i] = id + 1;
	if ((uint64_t)tab->len * 2 > tab->nslots && rehash(tab, tab->nslots * 2))
		return LS_ERR_NOMEM;
	return id;
}

const struct ls_function *ls_functab_get(const struct ls_functab *tab, uint32_t id)
{
	return id < tab->len ? &tab->items[id] : NULL;
}
