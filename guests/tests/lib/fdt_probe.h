/* SPDX-License-Identifier: BSD-2-Clause */
/* What RAM and which devices the guest's device tree describes. */
#ifndef GUEST_FDT_PROBE_H
#define GUEST_FDT_PROBE_H

#include <vireo/types.h>

/* The first range of the /memory node; 0, or -1 if the DTB has none or is not valid. */
int fdt_read_memory(unsigned long dtb, uint64_t *base, uint64_t *size);

/* True if any node's "compatible" list contains compat (e.g. "vireo,testdev"). */
bool fdt_has_compatible(unsigned long dtb, const char *compat);

#endif
