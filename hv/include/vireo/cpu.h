/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the harts of this machine can do, probed once at boot, and what a
 * guest's harts get from that (struct guest_cpu): the ISA string its device
 * tree advertises is derived by the same code, from the same facts, as the
 * CSR settings that make each advertised extension work in VS-mode, so the
 * two cannot drift apart.
 */
#ifndef VIREO_CPU_H
#define VIREO_CPU_H

#include <vireo/types.h>

#define CPU_ISA_MAX 256

struct cpu_features {
	bool h;	   /* H extension: everything else below needs it */
	bool sstc; /* stimecmp/vstimecmp usable (henvcfg.STCE sticks) */
	bool sv39x4, sv48x4, sv57x4;
	unsigned vmid_bits;
	bool isa_has_f, isa_has_d, isa_has_c;
	bool vector;	     /* V: sstatus.VS sticks and vlenb reads */
	unsigned long vlenb; /* bytes in one vector register */
	bool senvcfg;	     /* the senvcfg CSR exists (privileged spec 1.12) */
	bool sstateen;	     /* Smstateen: sstateen0 exists */
	bool svpbmt;	     /* henvcfg.PBMTE sticks */
	bool zicbom, zicboz;
	bool ssaia;	 /* Ssaia: the IMSIC CSRs (siselect, sireg, stopei; vs* for guests) */
	unsigned geilen; /* guest interrupt files per hart (hgeie's writable bits) */
	unsigned cbom_block_size, cboz_block_size; /* from the device tree; 0 = unknown */
	char isa[CPU_ISA_MAX]; /* riscv,isa of the boot hart, as the device tree says */
	/* What the SBI FWFT and PMU extensions can offer guests (cpu_probe_sbi). */
	bool fwft_misaligned_deleg; /* misaligned loads trap to HS-mode: M-mode delegates them */
	bool fwft_svadu;	    /* henvcfg.ADUE sticks: A/D bits updated by the hart */
	bool fwft_pmlen7, fwft_pmlen16; /* henvcfg.PMM holds pointer masking with PMLEN 7 / 16 */
	bool pmu_cycle, pmu_instret;	/* HS-mode can read the cycle / instret counter */
};

extern struct cpu_features cpu_features;

/* What a guest's hart is given. */
struct guest_cpu {
	char isa[CPU_ISA_MAX];	  /* its riscv,isa: only what works in VS-mode */
	unsigned long henvcfg;	  /* enables for what it lists (STCE, PBMTE, CBIE/CBCFE/CBZE) */
	unsigned long hcounteren; /* counters its VS/VU-mode may read */
	bool fp, vector;	  /* state saved and restored per vCPU */
	unsigned cbom_block_size, cboz_block_size;
};

extern struct guest_cpu cpu_guest;

/* True if the single-letter extension `ext` appears in an ISA string like "rv64imafdch_zicsr". */
bool cpu_isa_has_letter(const char *isa, char ext);
/* True if the multi-letter extension (e.g. "sstc") appears in the ISA string. */
bool cpu_isa_has_ext(const char *isa, const char *ext);

/*
 * Derive a guest's hart from the host's ISA string and probed features: an
 * extension is advertised only if it works in VS-mode as Vireo sets it up
 * (its enable bits are in g->henvcfg / g->hcounteren, its state is saved),
 * and dropped otherwise (H itself, and whatever Vireo does not know). Pure.
 */
void cpu_guest_derive(const char *host_isa, const struct cpu_features *f, struct guest_cpu *g);

/* Probe H (from the ISA string, confirmed by a guarded CSR read) and, if present,
 * the G-stage modes, VMID width, Sstc, V, envcfg fields; then derive cpu_guest.
 * Never touches an H CSR without H. */
void cpu_probe(const char *isa, unsigned cbom_block_size, unsigned cboz_block_size);
/* Probe the FWFT and PMU features above (arch/riscv/vcpu_sbi.c; cpu_probe calls it once
 * H is known to be there). */
void cpu_probe_sbi(void);
/* Per-hart H setup (hedeleg, hideleg, hcounteren, henvcfg defaults). */
void cpu_init_hart(void);

#endif
