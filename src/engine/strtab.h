/* strtab.h - string interning: each distinct UTF-8 string gets a small stable id.
 *
 * Ids are dense (0, 1, 2, ...) and never change or get reused while the table lives, so other
 * tables (functions, frames, stacks) and exports can refer to strings by id. Id 0 is always "".
 */
#ifndef LS_STRTAB_H
#define LS_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct ls_strtab {
	char **strings;     /* owned, NUL terminated; strings[id] */
	uint32_t *lengths;
	uint32_t len;
	size_t cap;
	uint32_t *slots;    /* open addressing: id + 1, 0 = empty */
	uint32_t nslots;    /* power of two */
};

int ls_strtab_init(struct ls_strtab *tab);
void ls_strtab_release(struct ls_strtab *tab);
/* The id of `s` (len bytes, need not be NUL terminated), adding it if new. 0.. or LS_ERR_NOMEM. */
int64_t ls_strtab_intern(struct ls_strtab *tab, const char *s, size_t len);
/* The string of an id (borrowed, valid while the table lives), or NULL for an unknown id. */
const char *ls_strtab_get(const struct ls_strtab *tab, uint32_t id, size_t *len);

#endif
