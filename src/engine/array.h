/* array.h - growing the engine's dynamic arrays, in one place.
 *
 * Every table, window and scratch buffer of the engine is a pointer, a length and a capacity that
 * doubles when full. These two functions are the only place that grows one.
 */
#ifndef LS_ARRAY_H
#define LS_ARRAY_H

#include <stddef.h>

/* Make *items (capacity *cap items of item_size bytes) hold at least `need` items, doubling from
 * 16. Returns 0, or LS_ERR_NOMEM with *items and *cap unchanged. */
int ls_array_reserve(void **items, size_t *cap, size_t need, size_t item_size);

/* Reallocate *items to exactly cap items (for arrays that share one capacity). Returns 0, or
 * LS_ERR_NOMEM with *items unchanged. */
int ls_array_resize(void **items, size_t cap, size_t item_size);

#endif
