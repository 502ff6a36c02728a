// SPDX-License-Identifier: BSD-2-Clause
/*
 * What a kernel on bare hardware would see, it must see under Vireo too:
 *  - its own page-table walk reaching a device (here Vireo's test device,
 *    `testdev=on`) is an access fault of the original access (load, store
 *    or fetch) at the virtual address it was translating, not a load of the
 *    PTE emulated as if it were the instruction's own access;
 *  - wfi in user mode is an illegal instruction with the instruction as
 *    stval, not a wait of the whole vCPU.
 */
#include "guest.h"
#include "sbi_v2.h"
#include "sv39.h"
#include "user.h"

const char guest_name[] = "conform";

#define WALK_VA		 0xc0000000UL /* root index 3: its table is put in the device */
#define SATP_PPN	 ((1UL << 44) - 1)
#define PTE_PPN_SHIFT	 10
#define EXC_INST_ACCESS	 1
#define EXC_ILLEGAL	 2
#define EXC_LOAD_ACCESS	 5
#define EXC_STORE_ACCESS 7
#define INSN_WFI	 0x10500073UL

static volatile unsigned long seen_cause, seen_tval, seen_count;
static volatile unsigned long resume_pc;

/* Record the fault and go on after the access (or to resume_pc for a fetch). */
static bool record_fault(struct trap_frame *tf)
{
	seen_cause = tf->scause;
	seen_tval = tf->stval;
	seen_count++;
	tf->sepc = resume_pc ? resume_pc : tf->sepc + insn_length_at(tf->sepc);
	resume_pc = 0;
	return true;
}

/* Root entry 3 of our own Sv39 tables points at a next-level table inside the test
 * device: a walk for WALK_VA reads its PTE from MMIO. */
static void point_root_at_device(void)
{
	uint64_t *root = (uint64_t *)((csr_read(satp) & SATP_PPN) << PAGE_SHIFT);

	root[WALK_VA >> 30] = ((VM_TESTDEV_BASE >> PAGE_SHIFT) << PTE_PPN_SHIFT) | PTE_V;
	__asm__ volatile("sfence.vma" ::: "memory");
}

static const char *expect(unsigned long cause, unsigned long tval, const char *what)
{
	if (seen_count != 1)
		return test_why("%s: %lu traps, want one (%s)", what, seen_count,
				seen_count ? "" : "the walk's PTE read was emulated as the access");
	if (seen_cause != cause || seen_tval != tval)
		return test_why("%s: scause %lu stval 0x%lx, want %lu at 0x%lx", what, seen_cause,
				seen_tval, cause, tval);
	return NULL;
}

static void jump_to(unsigned long va)
{
	((void (*)(void))va)();
}

static const char *check_walk_into_device(void)
{
	volatile uint64_t *p = (volatile uint64_t *)WALK_VA;
	trap_hook_fn old;
	const char *why;

	if (!sv39_enable())
		return test_why("no Sv39");
	point_root_at_device();
	old = trap_set_hook(record_fault);
	seen_count = 0;
	(void)*p;
	why = expect(EXC_LOAD_ACCESS, WALK_VA, "load");
	if (!why) {
		seen_count = 0;
		*p = 0x1234;
		why = expect(EXC_STORE_ACCESS, WALK_VA, "store");
	}
	if (!why) {
		seen_count = 0;
		__asm__ volatile("lla %0, 1f" : "=r"(resume_pc));
		jump_to(WALK_VA + 8);
		__asm__ volatile("1:");
		why = expect(EXC_INST_ACCESS, WALK_VA + 8, "fetch");
	}
	trap_set_hook(old);
	sv39_disable();
	return why;
}

static unsigned long user_wfi(unsigned long unused)
{
	(void)unused;
	__asm__ volatile("wfi");
	return 0;
}

/* A timer 20 ms ahead stops a wfi that would otherwise wait for ever on a broken
 * hypervisor: then the run ends in an interrupt instead of the illegal instruction. */
static const char *check_user_wfi(void)
{
	struct user_result r;

	sbi_set_timer(csr_read(time) + 200000);
	csr_set(sie, SIE_STIE);
	user_run(user_wfi, 0, &r);
	csr_clear(sie, SIE_STIE);
	sbi_set_timer(~0UL);
	if (r.cause != EXC_ILLEGAL)
		return test_why("wfi in U-mode ended with scause 0x%lx, not an illegal instruction",
				r.cause);
	if (r.tval != INSN_WFI)
		return test_why("illegal wfi: stval 0x%lx, want the instruction 0x%lx", r.tval,
				INSN_WFI);
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	(void)hartid;
	(void)dtb;
	test_run("conform_walk_into_device", check_walk_into_device);
	test_run("conform_user_wfi", check_user_wfi);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
