/* elf_file.c - symbols, sections and load bias of an ELF64 file (see elf_file.h).
 *
 * Section headers are read from the file (they are not mapped into the process). Symbols are
 * searched linearly in .dynsym and .symtab; that happens once per attach.
 * Load bias: a PT_LOAD segment whose page-rounded file offset matches a mapping of the file gives
 * bias = mapping start - page-rounded p_vaddr (works for PIE, shared objects and ET_EXEC alike).
 */
#define _GNU_SOURCE
#include "elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ls_error.h"

#define PAGE_MASK_4K (~(uint64_t)0xfff)

static int range_ok(const struct ls_elf *elf, uint64_t off, uint64_t len)
{
	return off <= elf->len && len <= elf->len - off;
}

static const Elf64_Ehdr *header(const struct ls_elf *elf)
{
	return (const Elf64_Ehdr *)elf->data;
}

static const Elf64_Shdr *section_at(const struct ls_elf *elf, size_t i)
{
	const Elf64_Ehdr *eh = header(elf);
	if (i >= eh->e_shnum || eh->e_shentsize != sizeof(Elf64_Shdr))
		return NULL;
	uint64_t off = eh->e_shoff + (uint64_t)i * sizeof(Elf64_Shdr);
	if (!range_ok(elf, off, sizeof(Elf64_Shdr)))
		return NULL;
	return (const Elf64_Shdr *)(elf->data + off);
}

static const char *section_name(const struct ls_elf *elf, const Elf64_Shdr *sh)
{
	const Elf64_Shdr *names = section_at(elf, header(elf)->e_shstrndx);
	if (!names || !range_ok(elf, names->sh_offset, names->sh_size) || sh->sh_name >= names->sh_size)
		return NULL;
	const char *s = (const char *)elf->data + names->sh_offset + sh->sh_name;
	if (!memchr(s, 0, names->sh_size - sh->sh_name))
		return NULL;
	return s;
}

int ls_elf_init_bytes(struct ls_elf *elf, const uint8_t *data, size_t len)
{
	elf->data = data;
	elf->len = len;
	if (len < sizeof(Elf64_Ehdr) || memcmp(data, ELFMAG, SELFMAG) != 0)
		return LS_ERR_BAD_ELF;
	if (data[EI_CLASS] != ELFCLASS64 || data[EI_DATA] != ELFDATA2LSB)
		return LS_ERR_BAD_ELF;
	const Elf64_Ehdr *eh = header(elf);
	if ((uintptr_t)data % 8 != 0)
		return LS_ERR_BAD_ELF; /* we cast to the ELF structs: keep them aligned */
	if (eh->e_shoff % 8 != 0 || eh->e_phoff % 8 != 0)
		return LS_ERR_BAD_ELF;
	if (eh->e_phnum && !range_ok(elf, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		return LS_ERR_BAD_ELF;
	return 0;
}

int ls_elf_open(struct ls_elf *elf, const char *path)
{
	memset(elf, 0, sizeof(*elf));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return LS_ERR_IO;
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size <= 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return LS_ERR_BAD_ELF;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return LS_ERR_IO;
	int rc = ls_elf_init_bytes(elf, p, (size_t)st.st_size);
	if (rc) {
		munmap(p, (size_t)st.st_size);
		memset(elf, 0, sizeof(*elf));
	}
	return rc;
}

void ls_elf_release(struct ls_elf *elf)
{
	if (elf->data)
		munmap((void *)elf->data, elf->len);
	elf->data = NULL;
	elf->len = 0;
}

static int search_symtab(const struct ls_elf *elf, uint32_t type, const char *name, uint64_t *value, uint64_t *size)
{
	size_t n = header(elf)->e_shnum;
	for (size_t i = 0; i < n; i++) {
		const Elf64_Shdr *sh = section_at(elf, i);
		if (!sh || sh->sh_type != type || sh->sh_entsize != sizeof(Elf64_Sym))
			continue;
		const Elf64_Shdr *strs = section_at(elf, sh->sh_link);
		if (!strs || !range_ok(elf, sh->sh_offset, sh->sh_size) || !range_ok(elf, strs->sh_offset, strs->sh_size))
			continue;
		if (sh->sh_offset % 8 != 0)
			continue;
		const Elf64_Sym *syms = (const Elf64_Sym *)(elf->data + sh->sh_offset);
		size_t count = sh->sh_size / sizeof(Elf64_Sym);
		const char *strtab = (const char *)elf->data + strs->sh_offset;
		size_t name_len = strlen(name);
		for (size_t k = 0; k < count; k++) {
			uint32_t at = syms[k].st_name;
			if (at >= strs->sh_size || strs->sh_size - at <= name_len)
				continue;
			if (memcmp(strtab + at, name, name_len + 1) != 0)
				continue;
			if (syms[k].st_shndx == SHN_UNDEF)
				continue;
			*value = syms[k].st_value;
			if (size)
				*size = syms[k].st_size;
			return 0;
		}
	}
	return -1;
}

int ls_elf_symbol(const struct ls_elf *elf, const char *name, uint64_t *value, uint64_t *size)
{
	if (search_symtab(elf, SHT_DYNSYM, name, value, size) == 0)
		return 0;
	return search_symtab(elf, SHT_SYMTAB, name, value, size);
}

int ls_elf_section(const struct ls_elf *elf, const char *name, uint64_t *addr, uint64_t *size)
{
	size_t n = header(elf)->e_shnum;
	for (size_t i = 0; i < n; i++) {
		const Elf64_Shdr *sh = section_at(elf, i);
		const char *sn = sh ? section_name(elf, sh) : NULL;
		if (sn && strcmp(sn, name) == 0) {
			*addr = sh->sh_addr;
			*size = sh->sh_size;
			return 0;
		}
	}
	return -1;
}

int ls_elf_load_bias(const struct ls_elf *elf, const struct ls_maps *maps, const char *mapped_path, uint64_t *bias)
{
	const Elf64_Ehdr *eh = header(elf);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return -1;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(elf->data + eh->e_phoff);
	for (size_t i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		const struct ls_mapping *m = ls_maps_find(maps, mapped_path, ph[i].p_offset & PAGE_MASK_4K);
		if (!m)
			continue;
		*bias = m->start - (ph[i].p_vaddr & PAGE_MASK_4K);
		return 0;
	}
	return -1;
}
