/* functab.h - function interning: (name, file, first line) -> a small stable id.
 *
 * A "function" is what a profile shows as one entry: a code object's qualified name, its file and
 * its first line, as string ids of a struct ls_strtab. Ids are dense and never reused, like the
 * string table's; many code objects (one per recompilation) may share one function id.
 */
#ifndef LS_FUNCTAB_H
#define LS_FUNCTAB_H

#include <stddef.h>
#include <stdint.h>

struct ls_function {
	uint32_t name_id, file_id;
	int32_t first_line;
};

struct ls_functab {
	struct ls_function *items;
	uint32_t len;
	size_t cap;
	uint32_t *slots; /* id + 1, 0 = empty */
	uint32_t nslots;
};

int ls_functab_init(struct ls_functab *tab);
void ls_functab_release(struct ls_functab *tab);
/* The id of the function, adding it if new; >= 0, or LS_ERR_NOMEM. */
int64_t ls_functab_intern(struct ls_functab *tab, const struct ls_function *fn);
/* Borrowed pointer valid until the next intern, or NULL. */
const struct ls_function *ls_functab_get(const struct ls_functab *tab, uint32_t id);

#endif
