/* array.h - growing the engine's dynamic arrays, in one place.
 *
 * Every table, window and scratch buffer of the engine is a pointer, a length and a capacity that
 * doubles when full. These functions are the only place that grows one.
 */
#ifndef LS_ARRAY_H
#define LS_ARRAY_H

#include <stddef.h>

/* The slow half of ls_array_reserve: grow *items to hold `need` items. */
int ls_array_grow(void **items, size_t *cap, size_t need, size_t item_size);

/* Make *items (capacity *cap items of item_size bytes) hold at least `need` items, doubling from
 * 16. Returns 0, or LS_ERR_NOMEM with *items and *cap unchanged. Inline: the frame walk calls it
 * once per frame, and it almost never grows anything. */
static inline int ls_array_reserve(void **items, size_t *cap, size_t need, size_t item_size)
{
	if (need <= *cap && *items)
		return 0;
	return ls_array_grow(items, cap, need, item_size);
}

/* Reallocate *items to exactly cap items (for arrays that share one capacity). Returns 0, or
 * LS_ERR_NOMEM with *items unchanged. */
int ls_array_resize(void **items, size_t cap, size_t item_size);

#endif
