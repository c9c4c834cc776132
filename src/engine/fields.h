/* fields.h - scalar fields out of bytes copied from the target: memcpy, so any alignment is safe
 * (the target and the reader are both x86_64, so host order is the target's). */
#ifndef LS_FIELDS_H
#define LS_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t ls_get_u64(const uint8_t *p, size_t off)
{
	uint64_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

static inline int32_t ls_get_i32(const uint8_t *p, size_t off)
{
	int32_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

#endif
