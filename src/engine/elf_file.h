/* elf_file.h - read-only access to an ELF64 file on disk: symbols, sections, load segments.
 *
 * The file is mapped read-only and every offset in it is checked before use, since a file in the
 * target's mount namespace is no more trusted than its memory. Only little-endian ELF64 (x86_64,
 * aarch64) is accepted.
 */
#ifndef LS_ELF_FILE_H
#define LS_ELF_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "maps.h"

struct ls_elf {
	const uint8_t *data; /* the mapped file */
	size_t len;
};

/* Map `path`. 0, LS_ERR_IO (cannot open), LS_ERR_BAD_ELF. */
int ls_elf_open(struct ls_elf *elf, const char *path);
/* Check the bytes of an ELF file already in memory (not owned; for tests and the fuzzer). */
int ls_elf_init_bytes(struct ls_elf *elf, const uint8_t *data, size_t len);
void ls_elf_release(struct ls_elf *elf);

/* Look `name` up in .dynsym, then .symtab. 0 and *value (the link-time address), or -1. */
int ls_elf_symbol(const struct ls_elf *elf, const char *name, uint64_t *value, uint64_t *size);
/* The link-time address and size of section `name`, or -1. */
int ls_elf_section(const struct ls_elf *elf, const char *name, uint64_t *addr, uint64_t *size);
/* The load bias of this file in a process, from its PT_LOAD segments and the process's mappings
 * of `mapped_path`: runtime address = link-time address + bias. 0 or -1. */
int ls_elf_load_bias(const struct ls_elf *elf, const struct ls_maps *maps, const char *mapped_path,
		     uint64_t *bias);

#endif
