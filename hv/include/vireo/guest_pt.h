/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest's own page tables, walked in software: a guest-virtual address
 * through the guest's satp (Bare, Sv39, Sv48, Sv57) to a guest-physical one,
 * for the debugger (core/vm_debug.c), which reads and writes memory and
 * plants breakpoints by the addresses a guest's symbols have.
 *
 * The walk is the privileged spec's "Virtual Address Translation Process"
 * (Supervisor-Level ISA, sections 10.3 and 10.6 to 10.8), as a debugger needs
 * it: any valid leaf translates, whatever its R/W/X/U bits and the guest's
 * SUM/MXR say (a debugger reads code and user pages alike), and A/D bits are
 * neither checked nor set. Everything the spec calls a page fault (invalid or
 * reserved encodings, a misaligned superpage, a non-canonical address, too
 * many levels) fails the walk. The tables are guest memory: every PTE is
 * read through the caller's function, which says whether the guest-physical
 * address is RAM. Pure logic: host-tested and fuzzed.
 */
#ifndef VIREO_GUEST_PT_H
#define VIREO_GUEST_PT_H

#include <vireo/types.h>

/* satp.MODE values (RV64). */
#define GUEST_PT_BARE 0
#define GUEST_PT_SV39 8
#define GUEST_PT_SV48 9
#define GUEST_PT_SV57 10

/* Read the 8-byte PTE at a guest-physical address; false if that is not RAM. */
typedef bool (*guest_pt_read_fn)(void *ctx, uint64_t gpa, uint64_t *pte);

struct guest_pt_walk {
	uint64_t gpa;	    /* where the address lands */
	uint64_t page_size; /* bytes mapped by the leaf (4 KiB, 64 KiB NAPOT, 2 MiB, ...) */
	uint64_t pte;	    /* the leaf PTE (0 for Bare) */
	unsigned level;	    /* the leaf's level: 0 for a 4 KiB page */
};

/*
 * Translate va through the tables satp names. Returns 0 and fills *out, or
 * -VIREO_EFAULT when the guest would take a page fault (or its tables are not
 * in RAM), -VIREO_EINVAL for a satp mode that is not one of the four.
 */
int guest_pt_translate(uint64_t satp, uint64_t va, guest_pt_read_fn read, void *ctx,
		       struct guest_pt_walk *out);

#endif
