/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The symbols of a sandbox program's ELF image, by name: what the host calls
 * (functions) and fills (VSB_BUFFERs). The file is untrusted input: every
 * offset and size is checked against the image before use.
 */
#ifndef VIREO_LIB_SANDBOX_ELF_H
#define VIREO_LIB_SANDBOX_ELF_H

#include <stddef.h>
#include <stdint.h>

struct sbelf_sym {
	char *name;
	uint64_t addr, size;
};

struct sbelf {
	struct sbelf_sym *syms;
	size_t n;
};

/* Parse an ELF64 little-endian RISC-V image (len bytes): 0, or -1 with why (a sentence). */
int sbelf_parse(struct sbelf *e, const uint8_t *img, size_t len, const char **why);
const struct sbelf_sym *sbelf_find(const struct sbelf *e, const char *name);
void sbelf_free(struct sbelf *e);

#endif
