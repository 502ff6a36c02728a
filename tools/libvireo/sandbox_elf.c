// SPDX-License-Identifier: BSD-2-Clause
/* Symbols of a sandbox program's ELF image; see sandbox_elf.h. */
#include <elf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_elf.h"

#define SBELF_MAX_SYMS 65536

/* [off, off + n) lies within len. */
static int within(uint64_t off, uint64_t n, size_t len)
{
	return off <= len && n <= len - off;
}

static int add(struct sbelf *e, const char *name, size_t name_len, uint64_t addr, uint64_t size)
{
	struct sbelf_sym *s = realloc(e->syms, (e->n + 1) * sizeof(*s));

	if (!s)
		return -1;
	e->syms = s;
	s = &e->syms[e->n];
	s->name = strndup(name, name_len);
	if (!s->name)
		return -1;
	s->addr = addr;
	s->size = size;
	e->n++;
	return 0;
}

/* Functions, objects, and global labels of assembly (the SDK's return stub). */
static bool wanted(const Elf64_Sym *s)
{
	unsigned type = ELF64_ST_TYPE(s->st_info);

	if (s->st_shndx == SHN_UNDEF)
		return false;
	return type == STT_FUNC || type == STT_OBJECT ||
	       (type == STT_NOTYPE && ELF64_ST_BIND(s->st_info) == STB_GLOBAL);
}

/* The named functions and objects of one symbol table, its strings at [str, str+slen). */
static int read_symtab(struct sbelf *e, const uint8_t *img, size_t len, const Elf64_Shdr *sym,
		       const Elf64_Shdr *str, const char **why)
{
	uint64_t count = sym->sh_size / sizeof(Elf64_Sym);

	if (!within(sym->sh_offset, sym->sh_size, len) ||
	    !within(str->sh_offset, str->sh_size, len) || count > SBELF_MAX_SYMS) {
		*why = "its symbol table lies outside the file";
		return -1;
	}
	for (uint64_t i = 0; i < count; i++) {
		Elf64_Sym s;
		const char *name;
		size_t max;

		memcpy(&s, img + sym->sh_offset + i * sizeof(s), sizeof(s));
		if (!wanted(&s) || s.st_name >= str->sh_size)
			continue;
		name = (const char *)img + str->sh_offset + s.st_name;
		max = str->sh_size - s.st_name;
		if (!memchr(name, '\0', max) || !*name)
			continue;
		if (add(e, name, strnlen(name, max), s.st_value, s.st_size) != 0) {
			*why = "out of memory";
			return -1;
		}
	}
	return 0;
}

int sbelf_parse(struct sbelf *e, const uint8_t *img, size_t len, const char **why)
{
	Elf64_Ehdr eh;

	memset(e, 0, sizeof(*e));
	if (len < sizeof(eh) || memcmp(img, ELFMAG, SELFMAG) != 0) {
		*why = "it is no ELF file";
		return -1;
	}
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_RISCV) {
		*why = "it is no 64-bit little-endian RISC-V ELF file";
		return -1;
	}
	if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    !within(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), len)) {
		*why = "its section headers lie outside the file";
		return -1;
	}
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh, str;

		memcpy(&sh, img + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (sh.sh_link >= eh.e_shnum) {
			*why = "its symbol table has no strings";
			sbelf_free(e); /* what an earlier table gave */
			return -1;
		}
		memcpy(&str, img + eh.e_shoff + sh.sh_link * sizeof(str), sizeof(str));
		if (read_symtab(e, img, len, &sh, &str, why) != 0) {
			sbelf_free(e);
			return -1;
		}
	}
	if (!e->n) {
		*why = "it has no symbols (stripped?)";
		return -1;
	}
	return 0;
}

const struct sbelf_sym *sbelf_find(const struct sbelf *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->syms[i].name, name) == 0)
			return &e->syms[i];
	return NULL;
}

void sbelf_free(struct sbelf *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->syms[i].name);
	free(e->syms);
	memset(e, 0, sizeof(*e));
}
