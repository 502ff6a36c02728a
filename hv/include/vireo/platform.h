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
	unsigned irq; /* PLIC source, 0 if none */
	bool present;
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
