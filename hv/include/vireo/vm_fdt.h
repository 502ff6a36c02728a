/* SPDX-License-Identifier: BSD-2-Clause */
/* The device tree each VM boots with, describing exactly what it gets. Host-testable. */
#ifndef VIREO_VM_FDT_H
#define VIREO_VM_FDT_H

#include <vireo/types.h>

struct vm_fdt_params {
	const char *name;
	unsigned nvcpus;
	const char *isa;      /* what the guest's harts really offer (see vm_fdt_guest_isa) */
	const char *mmu_type; /* e.g. "riscv,sv48" */
	uint64_t timebase_hz;
	uint64_t ram_base, ram_size;
	const char *bootargs;
	bool has_initrd;
	uint64_t initrd_start, initrd_end;
	unsigned virtio_mask; /* bit i: a virtio-mmio device in slot i */
	bool testdev;
};

/* Build the DTB into buf. Returns its size, or a negative libfdt error. */
int vm_fdt_build(void *buf, size_t size, const struct vm_fdt_params *p);
/* The host ISA string minus what a guest does not get (H) or cannot use
 * (Sstc when the hypervisor could not enable it for guests). */
void vm_fdt_guest_isa(const char *host_isa, bool sstc, char *out, size_t size);

#endif
