/* array.c - growing dynamic arrays (see array.h). */
#include "array.h"

#include <stdint.h>
#include <stdlib.h>

#include "ls_error.h"

int ls_array_resize(void **items, size_t cap, size_t item_size)
{
	if (item_size && cap > SIZE_MAX / item_size)
		return LS_ERR_NOMEM;
	void *n = realloc(*items, (cap ? cap : 1) * item_size);
	if (!n)
		return LS_ERR_NOMEM;
	*items = n;
	return 0;
}

int ls_array_grow(void **items, size_t *cap, size_t need, size_t item_size)
{
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return LS_ERR_NOMEM;
		ncap *= 2;
	}
	int rc = ls_array_resize(items, ncap, item_size);
	if (!rc)
		*cap = ncap;
	return rc;
}
