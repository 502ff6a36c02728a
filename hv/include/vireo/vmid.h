/* SPDX-License-Identifier: BSD-2-Clause */
/* VMIDs tag G-stage TLB entries so that VMs need no flush when harts switch between them. */
#ifndef VIREO_VMID_H
#define VIREO_VMID_H

/* A free VMID (>= 1), or 0 when none is left. Every hart flushes it before first use. */
unsigned vmid_alloc(void);
void vmid_free(unsigned vmid);

#endif
