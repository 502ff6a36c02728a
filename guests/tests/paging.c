// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest runs its own Sv39 page tables (design pitfall 4): a hypervisor
 * must keep working once the guest's satp is on. The guest identity-maps RAM
 * with a gigapage, maps its image again at a high address with megapages,
 * runs its tests from that high alias (trap vector included) and maps 4 KiB
 * pages on demand from its own page-fault handler.
 */
#include "guest.h"

const char guest_name[] = "paging";

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
/* A and D preset: hardware that does not manage them would otherwise fault. */
#define PTE_KERNEL_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define PTE_KERNEL_RW  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define PTE_PPN_SHIFT  10

#define PT_ENTRIES 512
#define MEGAPAGE   (2 * MIB)

/* VM_RAM_BASE appears here too; the same offsets as the low addresses. */
#define HIGH_BASE 0xffffffc000000000UL
/* Nothing is mapped here until the fault handler maps it. */
#define DEMAND_BASE    0xffffffd000000000UL
#define DEMAND_PAGES   4
#define DEMAND_PATTERN 0x5a5a0000c3c3c3c3UL

#define POOL_PAGES 8

typedef uint64_t pte_t;

static pte_t root_table[PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t page_pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static unsigned int pool_used;

extern char __image_start[], __image_end[];

/* Pointers taken while running at the high alias are high; PTEs and satp want physical. */
static uintptr_t virt_to_phys(const volatile void *p)
{
	uintptr_t va = (uintptr_t)p;

	return va >= HIGH_BASE ? va - HIGH_BASE + VM_RAM_BASE : va;
}

static uintptr_t to_high(const volatile void *p)
{
	return virt_to_phys(p) - VM_RAM_BASE + HIGH_BASE;
}

static bool is_high(uintptr_t va)
{
	return va >= to_high(__image_start) && va < to_high(__image_end);
}

/* Table pages are used through the identity map, which stays on until the end. */
static pte_t *alloc_table_page(void)
{
	pte_t *page;

	if (pool_used == POOL_PAGES)
		return NULL;
	page = (pte_t *)virt_to_phys(page_pool[pool_used++]);
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

/* Map one leaf at level 2 (1 GiB), 1 (2 MiB) or 0 (4 KiB), adding tables as needed. */
static bool map_leaf(uintptr_t va, uintptr_t pa, int level, unsigned long flags)
{
	pte_t *table = (pte_t *)virt_to_phys(root_table);

	for (int l = 2; l > level; l--) {
		pte_t *pte = &table[vpn(va, l)];

		if (!(*pte & PTE_V)) {
			pte_t *next = alloc_table_page();

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
	uintptr_t start = ALIGN_DOWN((uintptr_t)__image_start, MEGAPAGE);
	uintptr_t end = ALIGN_UP((uintptr_t)__image_end, MEGAPAGE);

	for (uintptr_t pa = start; pa < end; pa += MEGAPAGE) {
		if (!map_leaf(pa - VM_RAM_BASE + HIGH_BASE, pa, 1, PTE_KERNEL_RWX))
			return false;
	}
	return true;
}

static const char *enable_paging(void)
{
	unsigned long satp = SATP_MODE_SV39 | (virt_to_phys(root_table) >> PAGE_SHIFT);

	if (!map_leaf(VM_RAM_BASE, VM_RAM_BASE, 2, PTE_KERNEL_RWX) || !map_high_alias())
		return test_why("building the page tables failed");
	csr_write(satp, satp);
	sfence_vma_all();
	if (csr_read(satp) != satp)
		return test_why("satp reads 0x%lx after writing 0x%lx: no Sv39?", csr_read(satp),
				satp);
	printf("paging: Sv39 on, satp=0x%lx, image also at 0x%lx\n", satp, to_high(__image_start));
	return NULL;
}

static const char *check_high_pc(void)
{
	uintptr_t pc;

	__asm__ volatile("auipc %0, 0" : "=r"(pc));
	printf("paging: running at pc 0x%lx\n", pc);
	if (!is_high(pc))
		return test_why("pc 0x%lx is not in the high alias", pc);
	return NULL;
}

static volatile uint64_t alias_word;

/* Same physical word through both mappings, in both directions. */
static const char *check_aliases(void)
{
	volatile uint64_t *high = (volatile uint64_t *)to_high(&alias_word);
	volatile uint64_t *low = (volatile uint64_t *)virt_to_phys(&alias_word);

	if ((uintptr_t)high == (uintptr_t)low)
		return test_why("alias addresses are equal (0x%lx)", (uintptr_t)low);
	*high = 0x1122334455667788UL;
	if (*low != 0x1122334455667788UL)
		return test_why("wrote via 0x%lx, read 0x%lx via 0x%lx", (uintptr_t)high, *low,
				(uintptr_t)low);
	*low = 0x8877665544332211UL;
	if (*high != 0x8877665544332211UL)
		return test_why("wrote via 0x%lx, read 0x%lx via 0x%lx", (uintptr_t)low, *high,
				(uintptr_t)high);
	return NULL;
}

struct fault_log {
	unsigned long count;
	unsigned long scause;
	unsigned long stval;
	uintptr_t handler_pc;
	uintptr_t page_pa; /* physical page the handler mapped */
};

static volatile struct fault_log faults;

static uint64_t demand_value(uintptr_t va)
{
	return DEMAND_PATTERN ^ va;
}

/* Fill a fresh page so that each word tells which virtual address it was mapped at. */
static void fill_demand_page(uint64_t *page, uintptr_t va)
{
	for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
		page[i] = demand_value(va + 8 * i);
}

static bool demand_fault_hook(struct trap_frame *tf)
{
	uintptr_t va = ALIGN_DOWN(tf->stval, PAGE_SIZE);
	uint64_t *page;

	if (tf->scause != CAUSE_LOAD_PAGE_FAULT && tf->scause != CAUSE_STORE_PAGE_FAULT)
		return false;
	if (tf->stval < DEMAND_BASE || tf->stval >= DEMAND_BASE + DEMAND_PAGES * PAGE_SIZE)
		return false;
	__asm__ volatile("auipc %0, 0" : "=r"(faults.handler_pc));
	faults.count++;
	faults.scause = tf->scause;
	faults.stval = tf->stval;
	page = (uint64_t *)alloc_table_page();
	if (!page || !map_leaf(va, (uintptr_t)page, 0, PTE_KERNEL_RW))
		return false;
	fill_demand_page(page, va);
	faults.page_pa = (uintptr_t)page;
	/* The old "invalid" answer may be cached for this address. */
	sfence_vma_addr(va);
	return true; /* sepc unchanged: the access runs again */
}

static const char *check_fault(unsigned long cause, uintptr_t addr)
{
	if (faults.count != 1)
		return test_why("%lu page faults, want 1", faults.count);
	if (faults.scause != cause)
		return test_why("scause %lu, want %lu", faults.scause, cause);
	if (faults.stval != addr)
		return test_why("stval 0x%lx, want 0x%lx", faults.stval, addr);
	if (!is_high(faults.handler_pc))
		return test_why("handler ran at 0x%lx, not at the high alias", faults.handler_pc);
	return NULL;
}

static const char *check_load_fault(void)
{
	uintptr_t addr = DEMAND_BASE + 0x18;
	const char *why;
	uint64_t v;

	faults.count = 0;
	v = *(volatile uint64_t *)addr;
	why = check_fault(CAUSE_LOAD_PAGE_FAULT, addr);
	if (why)
		return why;
	if (v != demand_value(addr))
		return test_why("load after the fault read 0x%lx, want 0x%lx", v, demand_value(addr));
	return NULL;
}

static const char *check_store_fault(void)
{
	uintptr_t addr = DEMAND_BASE + PAGE_SIZE + 0x20;
	uint64_t want = 0xfeedfacecafebeefUL;
	const char *why;
	uint64_t low;

	faults.count = 0;
	*(volatile uint64_t *)addr = want;
	why = check_fault(CAUSE_STORE_PAGE_FAULT, addr);
	if (why)
		return why;
	low = *(volatile uint64_t *)(faults.page_pa + 0x20);
	if (low != want)
		return test_why("stored 0x%lx, the physical page holds 0x%lx", want, low);
	return NULL;
}

/* Runs at the high alias: every pc-relative address it computes is high. */
static void high_half(void)
{
	unsigned long old_stvec = csr_read(stvec);

	test_run("paging.high-pc", check_high_pc);
	test_run("paging.alias", check_aliases);
	csr_write(stvec, to_high(trap_vector));
	trap_set_hook(demand_fault_hook);
	test_run("paging.load-fault", check_load_fault);
	test_run("paging.store-fault", check_store_fault);
	trap_set_hook(NULL);
	csr_write(stvec, old_stvec);
}

static void call_at_high_alias(void (*fn)(void))
{
	void (*high)(void) = (void (*)(void))to_high(fn);

	high();
}

static const char *disable_paging(void)
{
	csr_write(satp, 0);
	sfence_vma_all();
	if (csr_read(satp) != 0)
		return test_why("satp still 0x%lx", csr_read(satp));
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	(void)hartid;
	(void)dtb;
	if (test_run("paging.enable", enable_paging))
		call_at_high_alias(high_half);
	test_run("paging.disable", disable_paging);
	test_report("paging", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
