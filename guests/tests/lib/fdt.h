/* SPDX-License-Identifier: BSD-2-Clause */
/* Just enough device-tree reading for the test guests: the harts under /cpus. */
#ifndef GUEST_FDT_H
#define GUEST_FDT_H

#include <vireo/types.h>

#define FDT_MAX_CPUS 16

struct fdt_cpus {
	unsigned long hartid[FDT_MAX_CPUS];
	unsigned int count;   /* usable harts listed in hartid[] */
	bool truncated;	      /* the DTB lists more than FDT_MAX_CPUS */
	uint32_t timebase_hz; /* /cpus/timebase-frequency, 0 if absent */
};

/* Fill *out from the DTB at dtb; returns 0, or -1 if it is not a valid DTB. */
int fdt_read_cpus(unsigned long dtb, struct fdt_cpus *out);

#endif
