/* maps.c - parse /proc/PID/maps into an array of mappings (see maps.h).
 *
 * Lines look like "7f1c2a000000-7f1c2a021000 r-xp 00001000 fd:01 1234  /usr/lib/libpython3.12.so".
 * Paths may contain spaces and end in " (deleted)"; we keep the text after the inode as it is.
 */
#define _GNU_SOURCE
#include "maps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "ls_error.h"

static int push(struct ls_maps *maps, const struct ls_mapping *m)
{
	if (ls_array_reserve((void **)&maps->items, &maps->cap, maps->len + 1, sizeof(*maps->items)))
		return LS_ERR_NOMEM;
	maps->items[maps->len++] = *m;
	return 0;
}

static int parse_line(const char *line, size_t len, struct ls_maps *maps)
{
	char buf[4096 + 256];
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, line, len);
	buf[len] = 0;
	struct ls_mapping m = {0};
	unsigned long long start, end, offset, inode;
	int path_at = 0;
	if (sscanf(buf, "%llx-%llx %4s %llx %*s %llu %n", &start, &end, m.perms, &offset, &inode, &path_at) < 5)
		return 0; /* not a mapping line: ignore */
	m.start = start;
	m.end = end;
	m.offset = offset;
	const char *path = path_at > 0 && path_at <= (int)len ? buf + path_at : "";
	m.path = strdup(path);
	if (!m.path)
		return LS_ERR_NOMEM;
	int rc = push(maps, &m);
	if (rc)
		free(m.path);
	return rc;
}

int ls_maps_parse(const char *text, size_t len, struct ls_maps *out)
{
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
		int rc = parse_line(text + pos, line_len, out);
		if (rc)
			return rc;
		pos += line_len + 1;
	}
	return 0;
}

int ls_maps_read(int32_t pid, struct ls_maps *out)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? LS_ERR_NO_PROCESS : (errno == EACCES || errno == EPERM) ? LS_ERR_PERMISSION : LS_ERR_IO;
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 17;
			char *n = realloc(text, cap);
			if (!n) {
				rc = LS_ERR_NOMEM;
				goto out;
			}
			text = n;
		}
		size_t got = fread(text + len, 1, cap - len, f);
		if (got == 0)
			break;
		len += got;
	}
	if (ferror(f)) {
		rc = errno == EACCES || errno == EPERM ? LS_ERR_PERMISSION : LS_ERR_IO;
		goto out;
	}
	rc = ls_maps_parse(text, len, out);
out:
	free(text);
	fclose(f);
	return rc;
}

const struct ls_mapping *ls_maps_find(const struct ls_maps *maps, const char *path, uint64_t offset)
{
	for (size_t i = 0; i < maps->len; i++)
		if (maps->items[i].offset == offset && strcmp(maps->items[i].path, path) == 0)
			return &maps->items[i];
	return NULL;
}

int ls_maps_contains(const struct ls_maps *maps, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < maps->len; i++)
		if (addr >= maps->items[i].start && addr + len <= maps->items[i].end && addr + len >= addr)
			return 1;
	return 0;
}

void ls_maps_release(struct ls_maps *maps)
{
	for (size_t i = 0; i < maps->len; i++)
		free(maps->items[i].path);
	free(maps->items);
	maps->items = NULL;
	maps->len = maps->cap = 0;
}
