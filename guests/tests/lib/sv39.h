/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A guest's own Sv39 page tables, built in its .bss: RAM identity-mapped with
 * a gigapage, the image mapped again at a high alias with megapages, and
 * anything else mapped on request (tables come from a small page pool).
 */
#ifndef GUEST_SV39_H
#define GUEST_SV39_H

#include <vireo/types.h>

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
/* A and D preset: hardware that does not manage them would otherwise fault. */
#define PTE_KERNEL_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define PTE_KERNEL_RW  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

#define SV39_LEVEL_1G 2
#define SV39_LEVEL_2M 1
#define SV39_LEVEL_4K 0

/* The high alias: VM_RAM_BASE appears here, at the same offsets. */
#define SV39_HIGH_BASE 0xffffffc000000000UL

/* Map one leaf at a level, adding tables on the way; false if out of pages or in conflict. */
bool sv39_map(uintptr_t va, uintptr_t pa, int level, unsigned long flags);
/* A zeroed page from the pool, by its physical (= identity) address; NULL when empty. */
void *sv39_alloc_page(void);

/* Identity-map RAM, map the image's high alias, turn Sv39 on. Returns satp, 0 on failure. */
unsigned long sv39_enable(void);
void sv39_disable(void);

/* Address conversions that work both from low and from high-alias code. */
uintptr_t sv39_phys(const volatile void *p);
uintptr_t sv39_high(const volatile void *p);
bool sv39_is_high(uintptr_t va); /* inside the image's high alias */

/* Call fn at its high alias: everything pc-relative it computes is then high too. */
void sv39_call_high(void (*fn)(void));

#endif
