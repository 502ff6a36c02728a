/* SPDX-License-Identifier: BSD-2-Clause */
/* The riscv,isa string of the guest's harts, to tell which extensions it may use. */
#ifndef GUEST_FDT_ISA_H
#define GUEST_FDT_ISA_H

#include <vireo/types.h>

/* Copy riscv,isa of the first /cpus/cpu@N node into buf (NUL-terminated, truncated to
 * size); 0, or -1 if the DTB is not valid or no hart has the property. */
int fdt_read_isa(unsigned long dtb, char *buf, size_t size);

/* True if the multi-letter extension ext (e.g. "sstc") is in an ISA string such as
 * "rv64imac_zicsr_sstc"; case does not matter. */
bool isa_has_ext(const char *isa, const char *ext);

/* True if the single-letter extension is listed (before the first '_'). */
bool isa_has_letter(const char *isa, char letter);

#endif
