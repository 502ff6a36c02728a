// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest runs its own Sv39 page tables (design pitfall 4): a hypervisor
 * must keep working once the guest's satp is on. The guest identity-maps RAM
 * with a gigapage, maps its image again at a high address with megapages,
 * runs its tests from that high alias (trap vector included) and maps 4 KiB
 * pages on demand from its own page-fault handler.
 */
#include "guest.h"
#include "sv39.h"

const char guest_name[] = "paging";

/* Nothing is mapped here until the fault handler maps it. */
#define DEMAND_BASE    0xffffffd000000000UL
#define DEMAND_PAGES   4
#define DEMAND_PATTERN 0x5a5a0000c3c3c3c3UL

extern char __image_start[];

static const char *check_enable(void)
{
	unsigned long satp = sv39_enable();

	if (!satp)
		return test_why("satp reads 0x%lx: no Sv39, or no page for the tables",
				csr_read(satp));
	printf("paging: Sv39 on, satp=0x%lx, image also at 0x%lx\n", satp,
	       sv39_high(__image_start));
	return NULL;
}

static const char *check_high_pc(void)
{
	uintptr_t pc;

	__asm__ volatile("auipc %0, 0" : "=r"(pc));
	printf("paging: running at pc 0x%lx\n", pc);
	if (!sv39_is_high(pc))
		return test_why("pc 0x%lx is not in the high alias", pc);
	return NULL;
}

static volatile uint64_t alias_word;

/* Same physical word through both mappings, in both directions. */
static const char *check_aliases(void)
{
	volatile uint64_t *high = (volatile uint64_t *)sv39_high(&alias_word);
	volatile uint64_t *low = (volatile uint64_t *)sv39_phys(&alias_word);

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
	page = sv39_alloc_page();
	if (!page || !sv39_map(va, (uintptr_t)page, SV39_LEVEL_4K, PTE_KERNEL_RW))
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
	if (!sv39_is_high(faults.handler_pc))
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
		return test_why("load after the fault read 0x%lx, want 0x%lx", v,
				demand_value(addr));
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

/* Runs at the high alias, and takes its page faults there too. */
static void high_half(void)
{
	unsigned long old_stvec = csr_read(stvec);

	test_run("paging.high-pc", check_high_pc);
	test_run("paging.alias", check_aliases);
	csr_write(stvec, sv39_high(trap_vector));
	trap_set_hook(demand_fault_hook);
	test_run("paging.load-fault", check_load_fault);
	test_run("paging.store-fault", check_store_fault);
	trap_set_hook(NULL);
	csr_write(stvec, old_stvec);
}

static const char *check_disable(void)
{
	sv39_disable();
	if (csr_read(satp) != 0)
		return test_why("satp still 0x%lx", csr_read(satp));
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	(void)hartid;
	(void)dtb;
	if (test_run("paging.enable", check_enable))
		sv39_call_high(high_half);
	test_run("paging.disable", check_disable);
	test_report("paging", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
