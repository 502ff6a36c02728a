// SPDX-License-Identifier: BSD-2-Clause
/*
 * libvireo's reader of sandbox programs' symbols (tools/libvireo/sandbox_elf.c):
 * a small ELF built here, found by name; then every truncation and every
 * corrupted offset of it refused or read within bounds (ASan watches).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_elf.h"

static const char strtab[] = "\0add\0inbox\0vsb_return_stub\0local_label\0undefined";

/* header | symtab (5 symbols) | strtab | 3 section headers: null, symtab, strtab */
static size_t build(uint8_t *img)
{
	Elf64_Ehdr eh = {.e_type = ET_EXEC, .e_machine = EM_RISCV, .e_version = EV_CURRENT};
	Elf64_Sym syms[5] = {
	    {0},
	    {.st_name = 1,
	     .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
	     .st_shndx = 1,
	     .st_value = 0x80000040,
	     .st_size = 4},
	    {.st_name = 5,
	     .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
	     .st_shndx = 1,
	     .st_value = 0x80001000,
	     .st_size = 8192},
	    {.st_name = 11,
	     .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE),
	     .st_shndx = 1,
	     .st_value = 0x800001fc},
	    {.st_name = 27,
	     .st_info = ELF64_ST_INFO(STB_LOCAL, STT_NOTYPE),
	     .st_shndx = 1,
	     .st_value = 0x80000100},
	};
	Elf64_Shdr sh[3] = {{0}};
	size_t at = sizeof(eh);

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	sh[1] = (Elf64_Shdr){.sh_type = SHT_SYMTAB,
			     .sh_offset = at,
			     .sh_size = sizeof(syms),
			     .sh_link = 2,
			     .sh_entsize = sizeof(Elf64_Sym)};
	memcpy(img + at, syms, sizeof(syms));
	at += sizeof(syms);
	sh[2] = (Elf64_Shdr){.sh_type = SHT_STRTAB, .sh_offset = at, .sh_size = sizeof(strtab)};
	memcpy(img + at, strtab, sizeof(strtab));
	at += (sizeof(strtab) + 7) & ~7UL;
	eh.e_shoff = at;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	memcpy(img + at, sh, sizeof(sh));
	memcpy(img, &eh, sizeof(eh));
	return at + sizeof(sh);
}

static void test_symbols(void **state)
{
	uint8_t img[2048];
	size_t len = build(img);
	struct sbelf e;
	const char *why = NULL;
	const struct sbelf_sym *s;

	(void)state;
	assert_int_equal(sbelf_parse(&e, img, len, &why), 0);
	assert_int_equal(e.n, 3); /* add, inbox, the stub; not the local label */
	s = sbelf_find(&e, "inbox");
	assert_non_null(s);
	assert_int_equal(s->addr, 0x80001000);
	assert_int_equal(s->size, 8192);
	assert_non_null(sbelf_find(&e, "vsb_return_stub"));
	assert_null(sbelf_find(&e, "local_label"));
	assert_null(sbelf_find(&e, "nothing"));
	sbelf_free(&e);
}

static void test_refused(void **state)
{
	uint8_t img[2048], bad[2048];
	size_t len = build(img);
	struct sbelf e;
	const char *why = NULL;
	Elf64_Ehdr eh;

	(void)state;
	/* Every truncation: refused (the section headers are at the end). */
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, img, n);
		assert_int_equal(sbelf_parse(&e, copy, n, &why), -1);
		assert_non_null(why);
		free(copy);
	}
	/* Not RISC-V. */
	memcpy(bad, img, len);
	memcpy(&eh, bad, sizeof(eh));
	eh.e_machine = EM_X86_64;
	memcpy(bad, &eh, sizeof(eh));
	assert_int_equal(sbelf_parse(&e, bad, len, &why), -1);
	/* A symbol table that points past the end of the file. */
	memcpy(bad, img, len);
	memcpy(&eh, bad, sizeof(eh));
	{
		Elf64_Shdr sh;
		size_t at = eh.e_shoff + sizeof(sh);

		memcpy(&sh, bad + at, sizeof(sh));
		sh.sh_offset = UINT64_MAX - 8;
		memcpy(bad + at, &sh, sizeof(sh));
	}
	assert_int_equal(sbelf_parse(&e, bad, len, &why), -1);
}

/* Any single corrupted byte: parsed or refused, never read out of bounds. */
static void test_corrupt_bytes(void **state)
{
	uint8_t img[2048];
	size_t len = build(img);

	(void)state;
	for (size_t i = 0; i < len; i++) {
		for (unsigned v = 0; v < 256; v += 51) {
			uint8_t *copy = malloc(len);
			struct sbelf e;
			const char *why = NULL;

			memcpy(copy, img, len);
			copy[i] = (uint8_t)v;
			if (sbelf_parse(&e, copy, len, &why) == 0) {
				for (size_t k = 0; k < e.n; k++)
					assert_true(strlen(e.syms[k].name) > 0);
				sbelf_free(&e);
			}
			free(copy);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_symbols),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_corrupt_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
