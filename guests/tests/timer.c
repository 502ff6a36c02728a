// SPDX-License-Identifier: BSD-2-Clause
/*
 * The virtual supervisor timer: an interrupt set with SBI set_timer arrives
 * after its deadline and not before, wakes a wfi, is withdrawn by a new
 * deadline in the future and never comes for UINT64_MAX. If the DTB's
 * riscv,isa lists Sstc, writing stimecmp directly must work too. The bounds
 * on lateness are generous: this checks behaviour, not latency.
 */
#include "fdt.h"
#include "fdt_isa.h"
#include "guest.h"
#include "sbi_v2.h"

const char guest_name[] = "timer";

#define DEFAULT_TIMEBASE_HZ 10000000 /* QEMU virt, if the DTB does not say */
#define ROUNDS		    5
#define DELTA_MS	    10	 /* first deadline; later rounds add a little */
#define LATE_MS		    2000 /* "arrived" means within this after the deadline */
#define QUIET_MS	    50	 /* how long "nothing arrives" is watched */
#define STACK_SIZE	    (8 * KIB)

static struct fdt_cpus cpus;
static unsigned long boot_hartid;
static bool has_sstc;

static volatile unsigned long timer_irqs;
static volatile uint64_t fired_at; /* time read first thing in the handler */
static volatile unsigned long soft_irqs;

/* A hart that interrupts the boot hart's wfi if the timer never does. */
static struct hart_boot watchdog_boot;
static uint8_t watchdog_stack[STACK_SIZE] __attribute__((aligned(16)));
static volatile uint64_t watchdog_at; /* 0: disarmed */
static volatile bool watchdog_running, watchdog_stop;

static uint64_t now(void)
{
	return csr_read(time);
}

static uint64_t ms_to_ticks(uint64_t ms)
{
	return ms * (cpus.timebase_hz ? cpus.timebase_hz : DEFAULT_TIMEBASE_HZ) / 1000;
}

static uint64_t ticks_to_us(uint64_t ticks)
{
	return ticks * 1000000 / (cpus.timebase_hz ? cpus.timebase_hz : DEFAULT_TIMEBASE_HZ);
}

/* The timer interrupt is taken once: the handler masks it, the test then re-arms. */
static bool irq_hook(struct trap_frame *tf)
{
	if (tf->scause == (CAUSE_INTERRUPT | IRQ_S_TIMER)) {
		fired_at = now();
		timer_irqs = timer_irqs + 1;
		csr_clear(sie, SIE_STIE);
		return true;
	}
	if (tf->scause == (CAUSE_INTERRUPT | IRQ_S_SOFT)) {
		csr_clear(sip, SIP_SSIP);
		soft_irqs = soft_irqs + 1;
		return true;
	}
	return false;
}

/* stimecmp is CSR 0x14d; the assembler of the guest toolchain may lack the name. */
static void stimecmp_write(uint64_t deadline)
{
	csr_write(0x14d, deadline);
}

static uint64_t stimecmp_read(void)
{
	return csr_read(0x14d);
}

static void set_deadline(uint64_t deadline, bool direct)
{
	if (direct)
		stimecmp_write(deadline);
	else
		sbi_set_timer(deadline);
}

static bool stip(void)
{
	return (csr_read(sip) & SIP_STIP) != 0;
}

/* ---------------------------------------------------------------- watchdog */

static void watchdog_main(unsigned long hartid, void *arg)
{
	(void)arg;
	(void)hartid;
	__atomic_store_n(&watchdog_running, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&watchdog_stop, __ATOMIC_ACQUIRE)) {
		uint64_t at = watchdog_at;

		if (at && now() > at) {
			watchdog_at = 0;
			sbi_send_ipi(1, boot_hartid);
		}
		cpu_relax();
	}
}

/* Start the watchdog on any other hart of the VM; without one, a dead wfi just hangs. */
static void watchdog_start(void)
{
	uint64_t end;

	for (unsigned i = 0; i < cpus.count; i++) {
		if (cpus.hartid[i] == boot_hartid)
			continue;
		watchdog_boot.stack_top = (unsigned long)&watchdog_stack[STACK_SIZE];
		watchdog_boot.entry = watchdog_main;
		if (hart_boot_start(cpus.hartid[i], &watchdog_boot).error)
			continue;
		end = now() + ms_to_ticks(LATE_MS);
		while (!__atomic_load_n(&watchdog_running, __ATOMIC_ACQUIRE) && now() < end)
			cpu_relax();
		printf("timer: watchdog on hart %lu\n", cpus.hartid[i]);
		return;
	}
	printf("timer: no other hart: wfi tests run without a watchdog\n");
}

/* ---------------------------------------------------------------- checks */

/* Did exactly one interrupt come, at or after the deadline and not absurdly late? */
static const char *judge(const char *what, unsigned round, unsigned long irqs_before,
			 uint64_t deadline, uint64_t *worst)
{
	uint64_t at = fired_at;

	if (timer_irqs == irqs_before)
		return test_why("%s round %u: no timer interrupt within %d ms of the deadline",
				what, round, LATE_MS);
	if (timer_irqs != irqs_before + 1)
		return test_why("%s round %u: %lu interrupts, want 1", what, round,
				timer_irqs - irqs_before);
	if (at < deadline)
		return test_why("%s round %u: interrupt %lu us before the deadline", what, round,
				(unsigned long)ticks_to_us(deadline - at));
	if (at - deadline > ms_to_ticks(LATE_MS))
		return test_why("%s round %u: interrupt %lu us after the deadline", what, round,
				(unsigned long)ticks_to_us(at - deadline));
	*worst = MAX(*worst, at - deadline);
	return NULL;
}

enum wait_how {
	WAIT_SPIN,	 /* sstatus.SIE on, spin */
	WAIT_WFI,	 /* sstatus.SIE on, wfi */
	WAIT_WFI_MASKED, /* sstatus.SIE off, wfi; the interrupt is taken in a window after it */
};

/* Only the wfi tests want the watchdog's IPI; a stale one must not end a spin early. */
static void irqs_on(enum wait_how how)
{
	csr_clear(sip, SIP_SSIP);
	csr_set(sie, SIE_STIE | (how == WAIT_SPIN ? 0 : SIE_SSIE));
	if (how != WAIT_WFI_MASKED)
		csr_set(sstatus, SSTATUS_SIE);
}

static void irqs_off(void)
{
	csr_clear(sstatus, SSTATUS_SIE);
	csr_clear(sie, SIE_STIE | SIE_SSIE);
	csr_clear(sip, SIP_SSIP);
}

static void wait_once(enum wait_how how)
{
	if (how == WAIT_SPIN) {
		cpu_relax();
		return;
	}
	__asm__ volatile("wfi");
	/* wfi with sstatus.SIE off wakes on a pending, sie-enabled interrupt without taking
	 * it: open a window for it. */
	if (how == WAIT_WFI_MASKED) {
		csr_set(sstatus, SSTATUS_SIE);
		csr_clear(sstatus, SSTATUS_SIE);
	}
}

/* One deadline, taken as an interrupt while spinning or in wfi. */
static const char *one_interrupt(const char *what, unsigned round, enum wait_how how, bool direct,
				 uint64_t *worst)
{
	unsigned long before = timer_irqs, soft_before = soft_irqs;
	uint64_t deadline = now() + ms_to_ticks(DELTA_MS + 3 * round);
	uint64_t limit = deadline + ms_to_ticks(LATE_MS);
	const char *why;

	set_deadline(deadline, direct);
	if (how != WAIT_SPIN)
		watchdog_at = limit;
	irqs_on(how);
	while (timer_irqs == before && soft_irqs == soft_before && now() <= limit)
		wait_once(how);
	irqs_off();
	watchdog_at = 0;
	why = judge(what, round, before, deadline, worst);
	if (!why && soft_irqs != soft_before)
		why = test_why("%s round %u: the watchdog had to end the wfi", what, round);
	set_deadline(UINT64_MAX, direct);
	return why;
}

static const char *rounds_of(const char *what, enum wait_how how, bool direct)
{
	uint64_t worst = 0;

	for (unsigned r = 0; r < ROUNDS; r++) {
		const char *why = one_interrupt(what, r, how, direct, &worst);

		if (why)
			return why;
	}
	printf("%s: %d interrupts, latest %lu us after its deadline\n", what, ROUNDS,
	       (unsigned long)ticks_to_us(worst));
	return NULL;
}

static const char *check_spin(void)
{
	return rounds_of("timer.irq", WAIT_SPIN, false);
}

static const char *check_wfi(void)
{
	return rounds_of("timer.wfi", WAIT_WFI, false);
}

static const char *check_wfi_masked(void)
{
	return rounds_of("timer.wfi-masked", WAIT_WFI_MASKED, false);
}

static void spin_ms(uint64_t ms)
{
	uint64_t end = now() + ms_to_ticks(ms);

	while (now() < end)
		cpu_relax();
}

/* Unmask the timer interrupt for up to ms; true if it was taken. */
static bool taken_within(uint64_t ms)
{
	unsigned long before = timer_irqs;
	uint64_t end;

	csr_set(sie, SIE_STIE);
	csr_set(sstatus, SSTATUS_SIE);
	end = now() + ms_to_ticks(ms);
	while (timer_irqs == before && now() < end)
		cpu_relax();
	csr_clear(sstatus, SSTATUS_SIE);
	csr_clear(sie, SIE_STIE);
	return timer_irqs != before;
}

/*
 * A deadline that has passed leaves the interrupt pending while masked; a new deadline in the
 * future withdraws it. The pending state is observed by unmasking the interrupt, because a
 * VS-mode read of sip.STIP may not show it (QEMU 7.2 shows only SSIP through vsip); the
 * read must still give 0 once the interrupt is withdrawn.
 */
static const char *clear_round(unsigned r, bool direct)
{
	static const uint64_t past[] = {1, 0};

	set_deadline(now(), direct);
	spin_ms(1);
	if (!taken_within(LATE_MS))
		return test_why("round %u: a passed deadline was not pending when unmasked", r);
	for (unsigned i = 0; i < ARRAY_SIZE(past); i++) {
		uint64_t future = past[i] ? now() + ms_to_ticks(10000) : UINT64_MAX;

		set_deadline(past[i] ? now() : 0, direct);
		spin_ms(1);
		set_deadline(future, direct);
		if (stip())
			return test_why("round %u: deadline 0x%lx left sip.STIP set", r,
					(unsigned long)future);
		if (taken_within(QUIET_MS))
			return test_why("round %u: deadline 0x%lx left the interrupt pending", r,
					(unsigned long)future);
	}
	return NULL;
}

static const char *check_clear(void)
{
	for (unsigned r = 0; r < ROUNDS; r++) {
		const char *why = clear_round(r, false);

		if (why)
			return why;
	}
	return NULL;
}

/* With UINT64_MAX (or a far deadline) and the interrupt enabled, nothing may come. */
static const char *quiet_round(unsigned r, uint64_t deadline)
{
	sbi_set_timer(deadline);
	if (taken_within(QUIET_MS))
		return test_why("round %u: an interrupt came for deadline 0x%lx", r,
				(unsigned long)deadline);
	if (stip())
		return test_why("round %u: sip.STIP set for deadline 0x%lx", r,
				(unsigned long)deadline);
	return NULL;
}

static const char *check_none(void)
{
	for (unsigned r = 0; r < ROUNDS; r++) {
		const char *why = quiet_round(r, UINT64_MAX);

		if (!why)
			why = quiet_round(r, now() + ms_to_ticks(60000));
		if (why)
			return why;
	}
	sbi_set_timer(UINT64_MAX);
	return NULL;
}

/* Informational: can this guest see a pending timer interrupt in sip at all? */
static void probe_stip_visible(void)
{
	bool seen;

	sbi_set_timer(0);
	spin_ms(1);
	seen = stip();
	sbi_set_timer(UINT64_MAX);
	printf("timer: a pending timer interrupt %s in sip.STIP here\n",
	       seen ? "shows" : "does not show");
}

/* Sstc only: the guest's own stimecmp, written without SBI. */
static const char *check_stimecmp(void)
{
	uint64_t probe = now() + ms_to_ticks(1000);
	const char *why;

	stimecmp_write(probe);
	if (stimecmp_read() != probe)
		return test_why("stimecmp reads 0x%lx after writing 0x%lx",
				(unsigned long)stimecmp_read(), (unsigned long)probe);
	why = rounds_of("timer.stimecmp", WAIT_SPIN, true);
	if (!why)
		why = rounds_of("timer.stimecmp-wfi", WAIT_WFI, true);
	if (!why)
		why = rounds_of("timer.stimecmp-wfi-masked", WAIT_WFI_MASKED, true);
	for (unsigned r = 0; r < ROUNDS && !why; r++)
		why = clear_round(r, true);
	stimecmp_write(UINT64_MAX);
	return why;
}

static void read_isa(unsigned long dtb)
{
	static char isa[256];

	if (fdt_read_isa(dtb, isa, sizeof(isa)) < 0) {
		printf("timer: no riscv,isa in the DTB: SBI set_timer only\n");
		return;
	}
	has_sstc = isa_has_ext(isa, "sstc");
	printf("timer: riscv,isa %s: %s\n", isa,
	       has_sstc ? "Sstc, stimecmp tested too" : "no Sstc, SBI set_timer only");
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	boot_hartid = hartid;
	if (fdt_read_cpus(dtb, &cpus) < 0) {
		test_report("timer", test_why("no valid DTB at 0x%lx", dtb));
		return GUEST_STATUS_FAIL;
	}
	printf("timer: timebase %u Hz, %u hart(s)\n", cpus.timebase_hz, cpus.count);
	read_isa(dtb);
	trap_set_hook(irq_hook);
	sbi_set_timer(UINT64_MAX);
	probe_stip_visible();
	watchdog_start();
	test_run("timer.irq", check_spin);
	test_run("timer.wfi", check_wfi);
	test_run("timer.wfi-masked", check_wfi_masked);
	test_run("timer.clear", check_clear);
	test_run("timer.none", check_none);
	if (has_sstc)
		test_run("timer.stimecmp", check_stimecmp);
	__atomic_store_n(&watchdog_stop, true, __ATOMIC_RELEASE);
	if (soft_irqs)
		printf("timer: the watchdog had to interrupt %lu wfi(s)\n", soft_irqs);
	test_report("timer", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
