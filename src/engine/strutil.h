/* strutil.h - bounded string copy for fixed-size fields (names, paths, versions). */
#ifndef LS_STRUTIL_H
#define LS_STRUTIL_H

#include <stddef.h>
#include <string.h>

/* Copy src into dst (cap bytes), truncating, always NUL terminated when cap > 0. */
static inline void ls_copy_str(char *dst, size_t cap, const char *src)
{
	if (cap == 0)
		return;
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

#endif
