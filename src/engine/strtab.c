/* strtab.c - string interning with an open-addressing hash of ids (see strtab.h).
 *
 * FNV-1a hashing, linear probing, the slot array doubled at 50% load. Strings are copied once
 * into their own allocation; nothing is ever removed.
 */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "ls_error.h"

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int rehash(struct ls_strtab *tab, uint32_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return LS_ERR_NOMEM;
	for (uint32_t id = 0; id < tab->len; id++) {
		uint32_t i = (uint32_t)hash_bytes(tab->strings[id], tab->lengths[id]) & (nslots - 1);
		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = id + 1;
	}
	free(tab->slots);
	tab->slots = slots;
	tab->nslots = nslots;
	return 0;
}

int ls_strtab_init(struct ls_strtab *tab)
{
	memset(tab, 0, sizeof(*tab));
	if (rehash(tab, 256))
		return LS_ERR_NOMEM;
	int64_t empty = ls_strtab_intern(tab, "", 0);
	return empty == 0 ? 0 : LS_ERR_NOMEM;
}

void ls_strtab_release(struct ls_strtab *tab)
{
	for (uint32_t i = 0; i < tab->len; i++)
		free(tab->strings[i]);
	free(tab->strings);
	free(tab->lengths);
	free(tab->slots);
	memset(tab, 0, sizeof(*tab));
}

int64_t ls_strtab_intern(struct ls_strtab *tab, const char *s, size_t len)
{
	if (len > UINT32_MAX - 1)
		return LS_ERR_INVALID_ARG;
	uint32_t mask = tab->nslots - 1;
	uint32_t i = (uint32_t)hash_bytes(s, len) & mask;
	for (; tab->slots[i]; i = (i + 1) & mask) {
		uint32_t id = tab->slots[i] - 1;
		if (tab->lengths[id] == len && memcmp(tab->strings[id], s, len) == 0)
			return id;
	}
	if (tab->len == UINT32_MAX - 1)
		return LS_ERR_NOMEM;
	if (tab->len == tab->cap) {
		size_t ncap = tab->cap ? tab->cap * 2 : 256;
		if (ls_array_resize((void **)&tab->strings, ncap, sizeof(*tab->strings)) ||
		    ls_array_resize((void **)&tab->lengths, ncap, sizeof(*tab->lengths)))
			return LS_ERR_NOMEM;
		tab->cap = ncap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return LS_ERR_NOMEM;
	memcpy(copy, s, len);
	copy[len] = 0;
	uint32_t id = tab->len++;
	tab->strings[id] = copy;
	tab->lengths[id] = (uint32_t)len;
	tab->slots[i] = id + 1;
	if ((uint64_t)tab->len * 2 > tab->nslots && rehash(tab, tab->nslots * 2))
		return LS_ERR_NOMEM; /* the string is in; only the table could not grow */
	return id;
}

const char *ls_strtab_get(const struct ls_strtab *tab, uint32_t id, size_t *len)
{
	if (id >= tab->len)
		return NULL;
	if (len)
		*len = tab->lengths[id];
	return tab->strings[id];
}
