/* target.c - find the CPython runtime in a live process and decide how to read it.
 *
 * Discovery, once per attach: /proc/PID/maps -> the ELF file that defines _PyRuntime (a mapped
 * libpython3.X*.so, else the executable, which covers static builds) -> its load bias -> the
 * addresses of _PyRuntime, PyCode_Type and PyFrame_Type -> the exact version (the
 * _Py_DebugOffsets header from 3.13, Py_Version from 3.11, else the version string that
 * Py_GetVersion() leaves in .bss) -> the layout (built-in table, or the debug offsets from 3.13).
 *
 * It does not walk threads or frames (threads.c, frames.c) and does not keep the ELF files open.
 */
#define _GNU_SOURCE
#include "target.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_file.h"
#include "ls_error.h"
#include "maps.h"
#include "strutil.h"

#define DEBUG_OFFSETS_READ 2048          /* bytes of _PyRuntime holding _Py_DebugOffsets */
#define BSS_SCAN_MAX (32u << 20)          /* bound for the version-string scan */

static void say(char *why, size_t len, const char *fmt, const char *a, const char *b)
{
	if (why && len)
		snprintf(why, len, fmt, a ? a : "", b ? b : "");
}

uint32_t ls_version_parse(const char *text, size_t len)
{
	size_t i = 0;
	unsigned parts[3] = {0, 0, 0};
	for (int k = 0; k < 3; k++) {
		if (i >= len || !isdigit((unsigned char)text[i]))
			return 0;
		unsigned v = 0;
		while (i < len && isdigit((unsigned char)text[i]) && v < 1000)
			v = v * 10 + (unsigned)(text[i++] - '0');
		if (v > 255)
			return 0;
		parts[k] = v;
		if (k < 2) {
			if (i >= len || text[i] != '.')
				return 0;
			i++;
		}
	}
	unsigned level = 0xF, serial = 0;
	if (i < len && isalpha((unsigned char)text[i])) {
		if (len - i >= 2 && text[i] == 'r' && text[i + 1] == 'c') {
			level = 0xC;
			i += 2;
		} else if (text[i] == 'a') {
			level = 0xA;
			i++;
		} else if (text[i] == 'b') {
			level = 0xB;
			i++;
		} else {
			return 0;
		}
		while (i < len && isdigit((unsigned char)text[i]) && serial < 16)
			serial = serial * 10 + (unsigned)(text[i++] - '0');
		if (serial > 15)
			return 0;
	}
	if (parts[0] < 2 || parts[0] > 3)
		return 0;
	return parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | level << 4 | serial;
}

void ls_version_format(uint32_t hexversion, char *buf, size_t len)
{
	unsigned level = (hexversion >> 4) & 0xf, serial = hexversion & 0xf;
	const char *tag = level == 0xA ? "a" : level == 0xB ? "b" : level == 0xC ? "rc" : "";
	if (*tag)
		snprintf(buf, len, "%u.%u.%u%s%u", hexversion >> 24, (hexversion >> 16) & 0xff, (hexversion >> 8) & 0xff,
			 tag, serial);
	else
		snprintf(buf, len, "%u.%u.%u", hexversion >> 24, (hexversion >> 16) & 0xff, (hexversion >> 8) & 0xff);
}

/* "libpython3.12.so.1.0", "libpython3.13t.so": the basename starts with libpython<digit>. */
static int is_libpython(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return strncmp(base, "libpython", 9) == 0 && isdigit((unsigned char)base[9]) && strstr(base, ".so");
}

/* Minor version named by a path ("libpython3.9.so", "/usr/bin/python3.10"), or -1. */
static int minor_from_path(const char *path, int *major)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *p = strstr(base, "python");
	if (!p || !isdigit((unsigned char)p[6]) || p[7] != '.' || !isdigit((unsigned char)p[8]))
		return -1;
	*major = p[6] - '0';
	return (int)strtol(p + 8, NULL, 10);
}

static void open_path(char *dst, size_t len, int32_t pid, const char *mapped)
{
	snprintf(dst, len, "/proc/%d/root%s", (int)pid, mapped);
}

/* Search [addr, addr+size) of the target (its .bss) for the buffer Py_GetVersion() fills at
 * start-up: "3.8.18 (default, ...". 0 if it is not there (yet). */
static uint32_t version_in_memory(struct ls_proc *proc, uint64_t addr, uint64_t size, int want_major, int want_minor)
{
	if (!addr || !size)
		return 0;
	if (size > BSS_SCAN_MAX)
		size = BSS_SCAN_MAX;
	char *buf = malloc(size);
	if (!buf)
		return 0;
	uint32_t found = 0;
	if (ls_proc_read(proc, addr, buf, size) == 0) {
		for (size_t i = 0; i + 8 < size && !found; i++) {
			if (buf[i] != '2' && buf[i] != '3')
				continue;
			if (i > 0 && buf[i - 1] != 0)
				continue; /* the buffer starts the string */
			const char *paren = memchr(buf + i, '(', size - i < 40 ? size - i : 40);
			if (!paren || paren[-1] != ' ')
				continue;
			uint32_t v = ls_version_parse(buf + i, (size_t)(paren - 1 - (buf + i)));
			if (v && (want_major < 0 || (int)(v >> 24) == want_major) &&
			    (want_minor < 0 || (int)((v >> 16) & 0xff) == want_minor))
				found = v;
		}
	}
	free(buf);
	return found;
}

int ls_target_refresh_version(struct ls_proc *proc, struct ls_target *t)
{
	if (t->facts.version_exact)
		return 1;
	uint32_t known = t->facts.hexversion;
	uint32_t v = version_in_memory(proc, t->facts.bss_addr, t->facts.bss_size, (int)(known >> 24),
				       (int)((known >> 16) & 0xff));
	if (!v)
		return 0;
	t->facts.hexversion = v;
	t->layout.hexversion = v;
	ls_version_format(v, t->facts.version, sizeof(t->facts.version));
	t->facts.version_exact = 1;
	return 1;
}

static int choose_from_debug_offsets(struct ls_proc *proc, struct ls_target *t, char *why, size_t why_len)
{
	uint8_t block[DEBUG_OFFSETS_READ];
	int rc = ls_proc_read(proc, t->facts.runtime_addr, block, sizeof(block));
	if (rc)
		return rc;
	rc = ls_layout_from_debug_offsets(&t->layout, block, sizeof(block), why, why_len);
	if (rc)
		return rc;
	ls_layout_set_version_rules(&t->layout, t->facts.hexversion);
	/* _co_firsttraceable, co_version and co_framesize are not among the debug offsets: take them
	 * from our own table for this minor version, but only when the code object is laid out as
	 * that table says */
	const struct ls_layout *known = ls_layout_builtin((int)((t->facts.hexversion >> 16) & 0xff));
	if (known && known->co_size == t->layout.co_size && known->co_code_adaptive == t->layout.co_code_adaptive &&
	    known->co_linetable == t->layout.co_linetable) {
		t->layout.co_firsttraceable = known->co_firsttraceable;
		t->layout.co_version = known->co_version;
		t->layout.co_framesize = known->co_framesize;
		t->layout.co_flags = known->co_flags;
	}
	return 0;
}

int ls_target_choose_layout(struct ls_proc *proc, struct ls_target *t, char *why, size_t why_len)
{
	uint32_t v = t->facts.hexversion;
	int major = (int)(v >> 24), minor = (int)((v >> 16) & 0xff);
	if (major == 3 && minor >= 13)
		return choose_from_debug_offsets(proc, t, why, why_len);
	const struct ls_layout *builtin = major == 3 ? ls_layout_builtin(minor) : NULL;
	if (!builtin) {
		say(why, why_len, "unsupported CPython %s (loopscope reads CPython 3.8 to 3.14)%s", t->facts.version, NULL);
		return LS_ERR_UNSUPPORTED_VERSION;
	}
	t->layout = *builtin;
	ls_layout_set_version_rules(&t->layout, v);
	return 0;
}

/* Read a word to learn whether we may read the target at all, and map the answer. */
static int probe_read(struct ls_proc *proc, uint64_t addr)
{
	uint64_t word;
	return ls_proc_read_u64(proc, addr, &word);
}

struct candidate {
	char mapped[LS_BINARY_PATH_MAX]; /* the path as it appears in maps */
	char open[LS_BINARY_PATH_MAX + 64];
};

static int list_candidates(const struct ls_maps *maps, int32_t pid, struct candidate *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < maps->len && n < cap; i++) {
		const char *p = maps->items[i].path;
		if (maps->items[i].offset != 0 || !is_libpython(p))
			continue;
		int dup = 0;
		for (size_t k = 0; k < n; k++)
			dup |= strcmp(out[k].mapped, p) == 0;
		if (dup)
			continue;
		ls_copy_str(out[n].mapped, sizeof(out[n].mapped), p);
		open_path(out[n].open, sizeof(out[n].open), pid, p);
		n++;
	}
	char exe_link[64], exe[LS_BINARY_PATH_MAX];
	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", (int)pid);
	ssize_t len = readlink(exe_link, exe, sizeof(exe) - 1);
	if (len > 0 && n < cap) {
		exe[len] = 0;
		ls_copy_str(out[n].mapped, sizeof(out[n].mapped), exe);
		ls_copy_str(out[n].open, sizeof(out[n].open), exe_link);
		n++;
	}
	return (int)n;
}

static int process_state(int32_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *close = strrchr(buf, ')');
	return close && close[1] == ' ' ? close[2] : 0;
}

static int discover_in(struct ls_proc *proc, const struct ls_maps *maps, const struct candidate *c,
		       struct ls_target *out, char *why, size_t why_len)
{
	struct ls_elf elf;
	int rc = ls_elf_open(&elf, c->open);
	if (rc) {
		/* the namespace path may be gone; the plain path is the next best thing */
		rc = ls_elf_open(&elf, c->mapped);
		if (rc)
			return LS_ERR_NOT_PYTHON;
	}
	uint64_t runtime = 0, runtime_size = 0, bias = 0, sym, sym_size;
	int has_runtime = ls_elf_symbol(&elf, "_PyRuntime", &runtime, &runtime_size) == 0 ||
			  ls_elf_section(&elf, ".PyRuntime", &runtime, &runtime_size) == 0;
	int looks_like_python = has_runtime || ls_elf_symbol(&elf, "Py_Initialize", &sym, &sym_size) == 0;
	if (!looks_like_python) {
		rc = LS_ERR_NOT_PYTHON;
		goto out;
	}
	if (ls_elf_load_bias(&elf, maps, c->mapped, &bias) != 0) {
		say(why, why_len, "cannot find where %s is loaded%s", c->mapped, NULL);
		rc = LS_ERR_NOT_PYTHON;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->facts.pid = proc->pid;
	ls_copy_str(out->facts.binary, sizeof(out->facts.binary), c->mapped);
	out->facts.runtime_addr = has_runtime ? runtime + bias : 0;
	if (ls_elf_symbol(&elf, "PyCode_Type", &sym, &sym_size) == 0)
		out->facts.code_type_addr = sym + bias;
	if (ls_elf_symbol(&elf, "PyFrame_Type", &sym, &sym_size) == 0)
		out->facts.frame_type_addr = sym + bias;
	if (ls_elf_symbol(&elf, "_Py_next_func_version", &sym, &sym_size) == 0 && sym_size == 4)
		out->facts.code_epoch_addr = sym + bias;

	/* may we read it at all? (permission is checked on the first read) */
	uint64_t probe_addr = has_runtime ? out->facts.runtime_addr : maps->items[0].start;
	rc = probe_read(proc, probe_addr);
	if (rc && rc != LS_ERR_READ)
		goto out;

	/* the version */
	uint32_t v = 0;
	uint8_t cookie[16];
	if (has_runtime && ls_proc_read(proc, out->facts.runtime_addr, cookie, sizeof(cookie)) == 0 &&
	    memcmp(cookie, "xdebugpy", 8) == 0)
		memcpy(&v, cookie + 8, 4); /* the low half of the u64 version, little endian */
	if (!v && ls_elf_symbol(&elf, "Py_Version", &sym, &sym_size) == 0) {
		uint64_t word;
		if (ls_proc_read_u64(proc, sym + bias, &word) == 0)
			v = (uint32_t)word;
	}
	uint64_t bss, bss_size;
	if (ls_elf_section(&elf, ".bss", &bss, &bss_size) == 0) {
		out->facts.bss_addr = bss + bias;
		out->facts.bss_size = bss_size;
	}
	int major = -1, minor = minor_from_path(c->mapped, &major);
	out->facts.version_exact = v != 0;
	if (!v)
		v = version_in_memory(proc, out->facts.bss_addr, out->facts.bss_size, major, minor);
	if (v)
		out->facts.version_exact = 1;
	else if (minor >= 0)
		v = (uint32_t)major << 24 | (uint32_t)minor << 16 | 0xF0; /* micro unknown until refreshed */
	if (!v) {
		say(why, why_len, "cannot tell which CPython version %s is%s", c->mapped, NULL);
		rc = LS_ERR_UNSUPPORTED_VERSION;
		goto out;
	}
	out->facts.hexversion = v;
	ls_version_format(v, out->facts.version, sizeof(out->facts.version));
	if (!has_runtime || (v >> 24) != 3 || ((v >> 16) & 0xff) < 8) {
		say(why, why_len, "unsupported CPython %s (loopscope reads CPython 3.8 to 3.14)%s", out->facts.version, NULL);
		rc = LS_ERR_UNSUPPORTED_VERSION;
		goto out;
	}
	rc = ls_target_choose_layout(proc, out, why, why_len);
out:
	ls_elf_release(&elf);
	return rc;
}

int ls_target_discover(struct ls_proc *proc, struct ls_target *out, char *why, size_t why_len)
{
	struct ls_maps maps = {0};
	int rc = ls_maps_read(proc->pid, &maps);
	if (rc)
		return rc;
	if (maps.len == 0) {
		/* a zombie, or a kernel thread: neither has memory to read */
		int state = process_state(proc->pid);
		rc = state == 'Z' || state == 'X' || state == 0 ? LS_ERR_PROCESS_EXITED : LS_ERR_NOT_PYTHON;
		goto out;
	}
	struct candidate cands[8];
	int n = list_candidates(&maps, proc->pid, cands, 8);
	rc = LS_ERR_NOT_PYTHON;
	for (int i = 0; i < n; i++) {
		rc = discover_in(proc, &maps, &cands[i], out, why, why_len);
		if (rc != LS_ERR_NOT_PYTHON)
			break;
	}
	if (rc == LS_ERR_READ)
		rc = LS_ERR_NOT_PYTHON;
out:
	ls_maps_release(&maps);
	return rc;
}
