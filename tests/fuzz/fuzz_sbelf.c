// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for libvireo's reader of sandbox programs' symbols
 * (tools/libvireo/sandbox_elf.c): the input is a whole ELF file from whoever
 * wrote it. It parses or is refused; every symbol found has a name that
 * looks itself up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_elf.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbelf e;
	const char *why = NULL;

	if (sbelf_parse(&e, data, size, &why) != 0) {
		FUZZ_CHECK(why && *why);
		return 0;
	}
	for (size_t i = 0; i < e.n; i++) {
		FUZZ_CHECK(e.syms[i].name[0] != '\0');
		FUZZ_CHECK(sbelf_find(&e, e.syms[i].name) != NULL);
	}
	sbelf_free(&e);
	return 0;
}
