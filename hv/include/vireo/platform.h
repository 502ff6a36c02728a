/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host machine, as its device tree describes it. Parsed once at boot
 * with libfdt; host-testable against DTBs made with dtc.
 */
#ifndef VIREO_PLATFORM_H
#define VIREO_PLATFORM_H

#include <vireo/hart.h>
#include <vireo/mm.h>
#include <vireo/types.h>

#define PLATFORM_MAX_RAM      8
#define PLATFORM_MAX_RESERVED 16
#define PLATFORM_MAX_VIRTIO   16
#define PLATFORM_ISA_MAX      256

struct platform_mmio {
	uint64_t base, size;
	unsigned irq; /* interrupt source (PLIC or APLIC), 0 if none */
	unsigned
	    irq_type; /* its trigger from a second "interrupts" cell (PLATFORM_IRQ_*), 0 if none */
	bool present;
};

/* Trigger types in a two-cell "interrupts" specifier (the Linux/DT binding's values). */
#define PLATFORM_IRQ_EDGE_RISING  1
#define PLATFORM_IRQ_EDGE_FALLING 2
#define PLATFORM_IRQ_LEVEL_HIGH	  4
#define PLATFORM_IRQ_LEVEL_LOW	  8

/* The APLIC interrupt domain that delivers to supervisor level (riscv,aplic); the
 * machine-level domain is firmware's (OpenSBI disables its node). */
struct platform_aplic {
	bool present;
	uint64_t base, size;
	unsigned nsources; /* riscv,num-sources: sources 1..nsources */
	bool msi; /* msi-parent: it forwards by MSIs to the IMSICs, else delivers directly */
	int idc[VIREO_MAX_HARTS]; /* direct delivery: each hart's IDC (DT order), -1 if none */
};

/* The supervisor-level IMSICs (riscv,imsics): every hart's S-level interrupt file and,
 * behind it in the same stride, its guest interrupt files. */
struct platform_imsic {
	bool present;
	unsigned num_ids;	   /* riscv,num-ids: identities 1..num_ids */
	unsigned guest_index_bits; /* riscv,guest-index-bits: up to 2^bits - 1 guest files */
	unsigned hart_index_bits, group_index_bits, group_index_shift;
	uint64_t file[VIREO_MAX_HARTS];	      /* each hart's S-level file (DT order), 0 if none */
	unsigned hart_index[VIREO_MAX_HARTS]; /* the hart index an APLIC's MSIs name it by */
};

struct platform {
	struct mem_range ram[PLATFORM_MAX_RAM];
	unsigned nram;
	struct mem_range reserved[PLATFORM_MAX_RESERVED]; /* /reserved-memory and /memreserve/ */
	unsigned nreserved;

	unsigned long hartids[VIREO_MAX_HARTS]; /* enabled harts, in DT order */
	unsigned nharts;
	unsigned harts_skipped;	    /* enabled harts beyond VIREO_MAX_HARTS */
	char isa[PLATFORM_ISA_MAX]; /* riscv,isa of the first hart */
	unsigned cbom_block_size;   /* its riscv,cbom-block-size, 0 if none */
	unsigned cboz_block_size;
	uint64_t timebase_hz;

	struct platform_mmio uart;
	unsigned uart_reg_shift, uart_io_width;
	struct platform_mmio plic;
	unsigned plic_ndev;
	int plic_s_context[VIREO_MAX_HARTS]; /* the S-mode context of each hart, -1 if none */
	struct platform_aplic aplic;
	struct platform_imsic imsic;
	struct platform_mmio virtio[PLATFORM_MAX_VIRTIO];
	unsigned nvirtio;
	struct platform_mmio finisher; /* sifive,test0: power off with a status */
	struct platform_mmio rtc;      /* google,goldfish-rtc: the wall clock */

	/* /chosen/rng-seed: secret entropy from the boot loader, inside the DTB
	 * (vm_seed_init consumes it and wipes it there). NULL if there is none. */
	const uint8_t *rng_seed;
	uint32_t rng_seed_len;

	bool has_initrd;
	struct mem_range initrd;
};

/* Fill *plat from the DTB. Returns 0, or a negative error with *why set. */
int platform_parse(const void *fdt, struct platform *plat, const char **why);

uint64_t platform_ram_size(const struct platform *plat);

#endif
