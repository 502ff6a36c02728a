/* SPDX-License-Identifier: BSD-2-Clause */
/* What the harts of this machine can do, probed once at boot. */
#ifndef VIREO_CPU_H
#define VIREO_CPU_H

#include <vireo/types.h>

struct cpu_features {
	bool h;	   /* H extension: everything else below needs it */
	bool sstc; /* stimecmp/vstimecmp usable (henvcfg.STCE sticks) */
	bool sv39x4, sv48x4, sv57x4;
	unsigned vmid_bits;
	bool isa_has_f, isa_has_d, isa_has_c;
	char isa[128]; /* riscv,isa of the boot hart, as the device tree says */
};

extern struct cpu_features cpu_features;

/* True if the single-letter extension `ext` appears in an ISA string like "rv64imafdch_zicsr". */
bool cpu_isa_has_letter(const char *isa, char ext);
/* True if the multi-letter extension (e.g. "sstc") appears in the ISA string. */
bool cpu_isa_has_ext(const char *isa, const char *ext);

/* Probe H (from the ISA string, confirmed by a guarded CSR read) and, if present,
 * the G-stage modes, VMID width and Sstc. Never touches an H CSR without H. */
void cpu_probe(const char *isa);
/* Per-hart H setup (hedeleg, hideleg, hcounteren, henvcfg defaults). */
void cpu_init_hart(void);

#endif
