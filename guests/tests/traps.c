// SPDX-License-Identifier: BSD-2-Clause
/*
 * Exceptions a guest must see in its own stvec handler, with the right
 * scause, sepc and stval: illegal instructions and breakpoints of both
 * lengths, and a misaligned load if the platform traps it at all.
 */
#include "guest.h"

const char guest_name[] = "traps";

struct trap_log {
	unsigned long count;
	unsigned long scause;
	unsigned long sepc;
	unsigned long stval;
	unsigned int length;
};

static volatile struct trap_log seen;

/* Record the trap and step over the instruction by its real length. */
static bool skip_hook(struct trap_frame *tf)
{
	if (tf->scause & CAUSE_INTERRUPT)
		return false;
	seen.count++;
	seen.scause = tf->scause;
	seen.sepc = tf->sepc;
	seen.stval = tf->stval;
	seen.length = insn_length_at(tf->sepc);
	tf->sepc += seen.length;
	return true;
}

/*
 * Each runs one trapping instruction and returns its address. The encodings are
 * spelled out so the assembler cannot compress or expand them.
 */
static unsigned long run_c_unimp(void)
{
	unsigned long pc;

	__asm__ volatile("lla %0, 1f\n1: .insn 2, 0x0000" : "=&r"(pc) : : "memory");
	return pc;
}

/* Major opcode 0b1101011 is reserved in every base ISA. */
#define ILLEGAL32 0x0000006bUL

static unsigned long run_reserved_opcode(void)
{
	unsigned long pc;

	__asm__ volatile("lla %0, 1f\n1: .insn 4, 0x0000006b" : "=&r"(pc) : : "memory");
	return pc;
}

static unsigned long run_ebreak(void)
{
	unsigned long pc;

	__asm__ volatile("lla %0, 1f\n1: .insn 4, 0x00100073" : "=&r"(pc) : : "memory");
	return pc;
}

static unsigned long run_c_ebreak(void)
{
	unsigned long pc;

	__asm__ volatile("lla %0, 1f\n1: .insn 2, 0x9002" : "=&r"(pc) : : "memory");
	return pc;
}

/* What stval may hold: the spec allows zero or, respectively, these. */
enum stval_kind { STVAL_INSN_BITS, STVAL_PC };

struct trap_case {
	const char *name;
	unsigned long (*run)(void);
	unsigned long cause;
	unsigned int length;
	enum stval_kind stval_kind;
	unsigned long insn;
};

static const char *check_stval(const struct trap_case *tc, unsigned long pc)
{
	unsigned long other = tc->stval_kind == STVAL_PC ? pc : tc->insn;

	if (seen.stval != 0 && seen.stval != other)
		return test_why("stval 0x%lx, want 0 or 0x%lx", seen.stval, other);
	return NULL;
}

static const char *check_case(const struct trap_case *tc)
{
	unsigned long pc;

	seen.count = 0;
	pc = tc->run();
	if (seen.count != 1)
		return test_why("%lu traps, want 1", seen.count);
	if (seen.scause != tc->cause)
		return test_why("scause %lu, want %lu", seen.scause, tc->cause);
	if (seen.sepc != pc)
		return test_why("sepc 0x%lx, want 0x%lx", seen.sepc, pc);
	if (seen.length != tc->length)
		return test_why("instruction length %u, want %u", seen.length, tc->length);
	printf("%s: trapped at 0x%lx, scause=%lu stval=0x%lx\n", tc->name, pc, seen.scause,
	       seen.stval);
	return check_stval(tc, pc);
}

static const struct trap_case trap_cases[] = {
    {"traps.illegal-c", run_c_unimp, CAUSE_ILLEGAL_INSN, 2, STVAL_INSN_BITS, 0},
    {"traps.illegal", run_reserved_opcode, CAUSE_ILLEGAL_INSN, 4, STVAL_INSN_BITS, ILLEGAL32},
    {"traps.ebreak", run_ebreak, CAUSE_BREAKPOINT, 4, STVAL_PC, 0},
    {"traps.c-ebreak", run_c_ebreak, CAUSE_BREAKPOINT, 2, STVAL_PC, 0},
};

static uint8_t misaligned_buf[16] __attribute__((aligned(8))) = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
};

/* A misaligned ld: either the platform does it, or the guest sees scause 4. */
static const char *check_misaligned(void)
{
	unsigned long addr = (unsigned long)&misaligned_buf[3];
	unsigned long value = 0;

	seen.count = 0;
	__asm__ volatile("ld %0, 0(%1)" : "+r"(value) : "r"(addr) : "memory");
	if (seen.count == 0) {
		printf("traps: misaligned ld did not trap (handled below the guest)\n");
		if (value != 0xaa99887766554433UL)
			return test_why("misaligned ld read 0x%lx", value);
		return NULL;
	}
	if (seen.scause != CAUSE_MISALIGNED_LOAD)
		return test_why("scause %lu, want %d", seen.scause, CAUSE_MISALIGNED_LOAD);
	if (seen.stval != addr)
		return test_why("stval 0x%lx, want 0x%lx", seen.stval, addr);
	printf("traps: misaligned ld trapped with scause 4, stval=0x%lx\n", seen.stval);
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	(void)hartid;
	(void)dtb;
	trap_set_hook(skip_hook);
	for (size_t i = 0; i < ARRAY_SIZE(trap_cases); i++)
		test_report(trap_cases[i].name, check_case(&trap_cases[i]));
	test_run("traps.misaligned", check_misaligned);
	trap_set_hook(NULL);
	test_report("traps", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
