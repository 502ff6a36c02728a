// SPDX-License-Identifier: BSD-2-Clause
/* Sv39 page tables for the test guests; see sv39.h. */
#include "sv39.h"
#include "guest.h"

#define PT_ENTRIES    512
#define PTE_PPN_SHIFT 10
#define MEGAPAGE      (2 * MIB)
#define POOL_PAGES    8

typedef uint64_t pte_t;

static pte_t root_table[PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t page_pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static unsigned int pool_used;

extern char __image_start[], __image_end[];

/* Pointers taken while running at the high alias are high; PTEs and satp want physical. */
uintptr_t sv39_phys(const volatile void *p)
{
	uintptr_t va = (uintptr_t)p;

	return va >= SV39_HIGH_BASE ? va - SV39_HIGH_BASE + VM_RAM_BASE : va;
}

uintptr_t sv39_high(const volatile void *p)
{
	return sv39_phys(p) - VM_RAM_BASE + SV39_HIGH_BASE;
}

bool sv39_is_high(uintptr_t va)
{
	return va >= sv39_high(__image_start) && va < sv39_high(__image_end);
}

/* Pool pages are used through the identity map, which stays on while Sv39 is. */
void *sv39_alloc_page(void)
{
	void *page;

	if (pool_used == POOL_PAGES)
		return NULL;
	page = (void *)sv39_phys(page_pool[pool_used++]);
	memset(page, 0, PAGE_SIZE);
	return page;
}

static pte_t make_pte(uintptr_t pa, unsigned long flags)
{
	return ((pa >> PAGE_SHIFT) << PTE_PPN_SHIFT) | flags;
}

static pte_t *pte_table(pte_t pte)
{
	return (pte_t *)((pte >> PTE_PPN_SHIFT) << PAGE_SHIFT);
}

static unsigned int vpn(uintptr_t va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * level)) & (PT_ENTRIES - 1);
}

bool sv39_map(uintptr_t va, uintptr_t pa, int level, unsigned long flags)
{
	pte_t *table = (pte_t *)sv39_phys(root_table);

	for (int l = SV39_LEVEL_1G; l > level; l--) {
		pte_t *pte = &table[vpn(va, l)];

		if (!(*pte & PTE_V)) {
			pte_t *next = sv39_alloc_page();

			if (!next)
				return false;
			*pte = make_pte((uintptr_t)next, PTE_V);
		} else if (*pte & (PTE_R | PTE_W | PTE_X)) {
			return false; /* a bigger leaf is already there */
		}
		table = pte_table(*pte);
	}
	table[vpn(va, level)] = make_pte(pa, flags);
	return true;
}

static bool map_high_alias(void)
{
	uintptr_t start = ALIGN_DOWN(sv39_phys(__image_start), MEGAPAGE);
	uintptr_t end = ALIGN_UP(sv39_phys(__image_end), MEGAPAGE);

	for (uintptr_t pa = start; pa < end; pa += MEGAPAGE) {
		if (!sv39_map(pa - VM_RAM_BASE + SV39_HIGH_BASE, pa, SV39_LEVEL_2M, PTE_KERNEL_RWX))
			return false;
	}
	return true;
}

unsigned long sv39_enable(void)
{
	unsigned long satp = SATP_MODE_SV39 | (sv39_phys(root_table) >> PAGE_SHIFT);

	if (!sv39_map(VM_RAM_BASE, VM_RAM_BASE, SV39_LEVEL_1G, PTE_KERNEL_RWX) || !map_high_alias())
		return 0;
	csr_write(satp, satp);
	sfence_vma_all();
	/* An unsupported mode leaves satp unchanged. */
	return csr_read(satp) == satp ? satp : 0;
}

void sv39_disable(void)
{
	csr_write(satp, 0);
	sfence_vma_all();
}

void sv39_call_high(void (*fn)(void))
{
	void (*high)(void) = (void (*)(void))sv39_high(fn);

	high();
}
