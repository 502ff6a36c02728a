// SPDX-License-Identifier: BSD-2-Clause
/*
 * The snapshot test guest (tests/integration/test_snapshot_ctl.py): a VM
 * whose whole life is state a snapshot must carry. It fills a stretch of
 * RAM with a pattern, puts a value in an FP register, then ticks forever
 * on timer interrupts taken in wfi (SBI set_timer, sie.STIE, sstatus.SIE).
 * Every tenth tick it says how many ticks it has seen, whether its clock
 * never went backwards, and whether the pattern and the FP register still
 * hold: after a restore or a fork the count must go on from where the
 * snapshot was taken, with everything still "ok".
 */
#include "guest.h"
#include "sbi.h"
#include "sbi_v2.h"

const char guest_name[] = "snap";

#define TICK_TICKS   (10000000 / 50) /* 20 ms at QEMU virt's 10 MHz */
#define PATTERN_U64S (64 * 1024)     /* 512 KiB of RAM */
#define FP_MAGIC     0x4010cafe5eedf00dUL

static uint64_t pattern[PATTERN_U64S];
static volatile unsigned long timer_irqs;

static uint64_t pattern_at(unsigned long i)
{
	return (i * 0x9e3779b97f4a7c15UL) ^ 0x5a5a5a5a5a5a5a5aUL;
}

static bool irq_hook(struct trap_frame *tf)
{
	if (tf->scause != (CAUSE_INTERRUPT | IRQ_S_TIMER))
		return false;
	timer_irqs = timer_irqs + 1;
	sbi_set_timer(csr_read(time) + TICK_TICKS);
	return true;
}

/* f31, written and read with encoded fmv (the guest's -march has no F or D). */
static void fp_put(unsigned long v)
{
	register unsigned long a0 __asm__("a0") = v;

	__asm__ volatile(".word 0xf2050fd3" : : "r"(a0)); /* fmv.d.x f31, a0 */
}

static unsigned long fp_get(void)
{
	register unsigned long a0 __asm__("a0");

	__asm__ volatile(".word 0xe20f8553" : "=r"(a0)); /* fmv.x.d a0, f31 */
	return a0;
}

static bool pattern_ok(void)
{
	for (unsigned long i = 0; i < PATTERN_U64S; i++)
		if (pattern[i] != pattern_at(i))
			return false;
	return true;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	unsigned long seen = 0;
	uint64_t last = csr_read(time);
	bool time_ok = true;

	(void)hartid;
	(void)dtb;
	for (unsigned long i = 0; i < PATTERN_U64S; i++)
		pattern[i] = pattern_at(i);
	csr_set(sstatus, SSTATUS_FS_INITIAL);
	fp_put(FP_MAGIC);
	trap_set_hook(irq_hook);
	printf("snap: pattern at %p, ticking\n", (void *)pattern);
	sbi_set_timer(csr_read(time) + TICK_TICKS);
	csr_set(sie, SIE_STIE);
	csr_set(sstatus, SSTATUS_SIE);
	for (;;) {
		uint64_t now;

		__asm__ volatile("wfi");
		if (timer_irqs == seen)
			continue;
		seen = timer_irqs;
		now = csr_read(time);
		time_ok = time_ok && now >= last;
		last = now;
		if (seen % 10 == 0)
			printf("snap: tick %lu time %s pattern %s fp %s\n", seen,
			       time_ok ? "ok" : "BACKWARDS", pattern_ok() ? "ok" : "CHANGED",
			       fp_get() == FP_MAGIC ? "ok" : "CHANGED");
	}
	return 0;
}
