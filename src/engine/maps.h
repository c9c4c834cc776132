/* maps.h - the memory map of a live process (/proc/PID/maps), parsed. */
#ifndef LS_MAPS_H
#define LS_MAPS_H

#include <stddef.h>
#include <stdint.h>

struct ls_mapping {
	uint64_t start, end, offset;
	char perms[5];
	char *path; /* owned; "" for anonymous mappings */
};

struct ls_maps {
	struct ls_mapping *items;
	size_t len, cap;
};

/* Read and parse /proc/PID/maps. 0, LS_ERR_PERMISSION, LS_ERR_NO_PROCESS, LS_ERR_NOMEM. */
int ls_maps_read(int32_t pid, struct ls_maps *out);
/* Parse the text of a maps file (for tests). */
int ls_maps_parse(const char *text, size_t len, struct ls_maps *out);
/* The first mapping of `path` at file offset `offset` (page-rounded), or NULL. */
const struct ls_mapping *ls_maps_find(const struct ls_maps *maps, const char *path, uint64_t offset);
/* 1 if [addr, addr+len) lies in one mapping. */
int ls_maps_contains(const struct ls_maps *maps, uint64_t addr, uint64_t len);
void ls_maps_release(struct ls_maps *maps);

#endif
