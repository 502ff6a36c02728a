/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Placing guest kernels in guest RAM: a RISC-V Linux Image (boot header
 * checked), an ELF64 executable, or a flat binary. Host-testable: it works
 * on a buffer that stands for guest RAM.
 */
#ifndef VIREO_LOADER_H
#define VIREO_LOADER_H

#include <vireo/guest_mem.h>
#include <vireo/types.h>

enum kernel_kind { KERNEL_LINUX_IMAGE, KERNEL_ELF, KERNEL_FLAT };

struct loaded_kernel {
	enum kernel_kind kind;
	gpa_t entry;
	gpa_t start, end; /* guest-physical range the kernel occupies, bss included */
};

/* Guest RAM: one guest-physical range [base, base + size), held in `mem`'s runs. */
struct guest_ram {
	const struct guest_mem *mem;
	gpa_t base;
	uint64_t size;
};

/* Returns 0, or -VIREO_EINVAL with *why naming the problem. */
int loader_load_kernel(const struct guest_ram *ram, const void *image, size_t size,
		       struct loaded_kernel *out, const char **why);
const char *loader_kind_name(enum kernel_kind kind);

#endif
