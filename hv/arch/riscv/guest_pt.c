// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest's page tables walked in software (vireo/guest_pt.h): the
 * privileged spec's translation process for Sv39, Sv48 and Sv57, without
 * the permission checks a debugger does not want.
 */
#include <vireo/guest_pt.h>

#define SATP_MODE_SHIFT 60
#define SATP_PPN_MASK	((1ULL << 44) - 1)

#define PTE_V	      (1ULL << 0)
#define PTE_R	      (1ULL << 1)
#define PTE_W	      (1ULL << 2)
#define PTE_X	      (1ULL << 3)
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK  ((1ULL << 44) - 1)
#define PTE_RESERVED  (0x7fULL << 54) /* bits 60:54 */
#define PTE_PBMT      (3ULL << 61)
#define PTE_N	      (1ULL << 63)

#define PAGE_SHIFT_4K 12
#define VPN_BITS      9
#define NAPOT_BITS    4 /* Svnapot: the only size defined is 64 KiB, ppn[3:0] = 1000 */

static unsigned levels_of(unsigned mode)
{
	switch (mode) {
	case GUEST_PT_SV39:
		return 3;
	case GUEST_PT_SV48:
		return 4;
	case GUEST_PT_SV57:
		return 5;
	default:
		return 0;
	}
}

/* Bits 63..(va_bits - 1) must all be equal (the address is sign-extended). */
static bool canonical(uint64_t va, unsigned va_bits)
{
	int64_t top = (int64_t)va >> (va_bits - 1);

	return top == 0 || top == -1;
}

/* A PTE the spec reserves: a page fault whatever it would have pointed to. */
static bool reserved_encoding(uint64_t pte, bool leaf, unsigned level)
{
	if (pte & PTE_RESERVED)
		return true;
	if ((pte & PTE_W) && !(pte & PTE_R))
		return true;
	if ((pte & PTE_PBMT) == PTE_PBMT)
		return true;
	if (!leaf)
		return (pte & (PTE_PBMT | PTE_N)) != 0;
	if (pte & PTE_N) {
		uint64_t ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;

		return level != 0 || (ppn & ((1u << NAPOT_BITS) - 1)) != (1u << (NAPOT_BITS - 1));
	}
	return false;
}

int guest_pt_translate(uint64_t satp, uint64_t va, guest_pt_read_fn read, void *ctx,
		       struct guest_pt_walk *out)
{
	unsigned mode = (unsigned)(satp >> SATP_MODE_SHIFT);
	unsigned levels = levels_of(mode);
	uint64_t table = (satp & SATP_PPN_MASK) << PAGE_SHIFT_4K;

	if (mode == GUEST_PT_BARE) {
		*out = (struct guest_pt_walk){.gpa = va, .page_size = 1ULL << PAGE_SHIFT_4K};
		return 0;
	}
	if (!levels)
		return -VIREO_EINVAL;
	if (!canonical(va, PAGE_SHIFT_4K + VPN_BITS * levels))
		return -VIREO_EFAULT;
	for (unsigned i = levels; i-- > 0;) {
		unsigned shift = PAGE_SHIFT_4K + VPN_BITS * i;
		uint64_t vpn = (va >> shift) & ((1u << VPN_BITS) - 1);
		uint64_t pte, ppn, size;
		bool leaf;

		if (!read(ctx, table + vpn * 8, &pte) || !(pte & PTE_V))
			return -VIREO_EFAULT;
		leaf = (pte & (PTE_R | PTE_X)) != 0;
		if (reserved_encoding(pte, leaf, i))
			return -VIREO_EFAULT;
		ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;
		if (!leaf) {
			table = ppn << PAGE_SHIFT_4K;
			continue;
		}
		/* A superpage's low PPN fields must be zero: they come from the address. */
		size = 1ULL << shift;
		if (ppn & ((size >> PAGE_SHIFT_4K) - 1))
			return -VIREO_EFAULT;
		if (pte & PTE_N) {
			size = 1ULL << (PAGE_SHIFT_4K + NAPOT_BITS);
			ppn &= ~((1ULL << NAPOT_BITS) - 1);
		}
		out->gpa = (ppn << PAGE_SHIFT_4K) | (va & (size - 1));
		out->page_size = size;
		out->pte = pte;
		out->level = i;
		return 0;
	}
	/* A pointer at level 0: there is no level below. */
	return -VIREO_EFAULT;
}
