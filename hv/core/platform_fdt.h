/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers the host device tree parser shares between its files (core-internal). */
#ifndef VIREO_CORE_PLATFORM_FDT_H
#define VIREO_CORE_PLATFORM_FDT_H

#include <vireo/platform.h>

/* The idx-th (address, size) pair of a node's "reg", using its parent's cell sizes. */
bool platform_reg_entry(const void *fdt, int node, int idx, uint64_t *base, uint64_t *size);
/* No "status", or "okay"/"ok". */
bool platform_node_enabled(const void *fdt, int node);
uint32_t platform_prop_u32(const void *fdt, int node, const char *name, uint32_t fallback);
/* Hart id of the cpu node that owns the interrupt controller with this phandle. */
bool platform_intc_hartid(const void *fdt, uint32_t phandle, unsigned long *hartid);

/*
 * If `node` is an APLIC or IMSIC node, record it when it is the supervisor-level one
 * (the machine-level ones are firmware's) and return true; otherwise false. Needs the
 * harts (plat->hartids) parsed first.
 */
bool platform_parse_aia_node(const void *fdt, int node, struct platform *plat);

#endif
