/* SPDX-License-Identifier: BSD-2-Clause */
/* The device tree each VM boots with, describing exactly what it gets. Host-testable. */
#ifndef VIREO_VM_FDT_H
#define VIREO_VM_FDT_H

#include <vireo/types.h>

struct vm_fdt_params {
	const char *name;
	unsigned nvcpus;
	const char *isa; /* what the guest's harts really offer (cpu_guest_derive) */
	unsigned cbom_block_size, cboz_block_size; /* 0: no such property */
	const char *mmu_type;			   /* e.g. "riscv,sv48" */
	uint64_t timebase_hz;
	uint64_t ram_base, ram_size;
	const char *bootargs;
	bool has_initrd;
	uint64_t initrd_start, initrd_end;
	unsigned virtio_mask; /* bit i: a virtio-mmio device in slot i */
	bool testdev;
	/* Guest AIA: an IMSIC with this many identities and an APLIC in MSI mode instead
	 * of the PLIC (0: the PLIC). */
	unsigned imsic_num_ids;
	bool rtc;		 /* the Goldfish RTC at VM_RTC_BASE */
	bool genid;		 /* the VM Generation ID at VM_GENID_BASE */
	const uint8_t *rng_seed; /* /chosen/rng-seed, NULL: none */
	size_t rng_seed_len;
	const uint8_t *kaslr_seed;	/* /chosen/kaslr-seed (8 bytes), NULL: none */
	const char *hypervisor_version; /* /hypervisor's version, NULL: left out */
};

/* Build the DTB into buf. Returns its size, or a negative libfdt error. */
int vm_fdt_build(void *buf, size_t size, const struct vm_fdt_params *p);

#endif
