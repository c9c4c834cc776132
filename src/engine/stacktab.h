/* stacktab.h - interning of frames and stacks.
 *
 * A frame is (function id, line): a line of a function, the unit of line-level profiles. A stack is
 * a sequence of frame ids, LEAF FIRST (the innermost frame at index 0, as the walker produces it).
 * Both get dense, stable ids, like strings and functions (strtab.h, functab.h), so a window stores
 * a stack as one integer and a profile of days holds each distinct stack once.
 */
#ifndef LS_STACKTAB_H
#define LS_STACKTAB_H

#include <stddef.h>
#include <stdint.h>

struct ls_frame_key {
	uint32_t function_id;
	int32_t line; /* -1 = no line */
};

struct ls_frametab {
	struct ls_frame_key *items;
	uint32_t len;
	size_t cap;
	uint32_t *slots; /* id + 1, 0 = empty */
	uint32_t nslots;
};

struct ls_stacktab {
	uint32_t *frames;        /* all stacks' frame ids, back to back */
	size_t frames_len, frames_cap;
	uint64_t *offsets;       /* stack id -> start in frames; offsets[len] = frames_len */
	uint32_t len;
	size_t cap;              /* of offsets, which holds len + 1 entries */
	uint32_t *slots;         /* id + 1, 0 = empty */
	uint32_t nslots;
};

int ls_frametab_init(struct ls_frametab *tab);
void ls_frametab_release(struct ls_frametab *tab);
/* >= 0 id, or LS_ERR_NOMEM */
int64_t ls_frametab_intern(struct ls_frametab *tab, uint32_t function_id, int32_t line);
const struct ls_frame_key *ls_frametab_get(const struct ls_frametab *tab, uint32_t id);

int ls_stacktab_init(struct ls_stacktab *tab);
void ls_stacktab_release(struct ls_stacktab *tab);
/* The id of the stack frames[0..n) (leaf first), adding it if new; >= 0 or LS_ERR_NOMEM. */
int64_t ls_stacktab_intern(struct ls_stacktab *tab, const uint32_t *frames, size_t n);
/* The frames of stack id (borrowed until the next intern), *n its depth; NULL for a bad id. */
const uint32_t *ls_stacktab_get(const struct ls_stacktab *tab, uint32_t id, size_t *n);

#endif
