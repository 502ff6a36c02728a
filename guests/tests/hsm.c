// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI HSM suspend and restart. The boot hart starts every other hart; each
 * does a retentive hart_suspend and is woken by an IPI (the ecall returns
 * 0), then a non-retentive suspend and is woken by an IPI (it restarts at
 * the resume address with a0 = hart id, a1 = opaque), then stops. The boot
 * hart follows each step with hart_get_status, then starts the stopped harts
 * once more. Every wait has a timeout on `time`, so a bug is a FAIL line.
 */
#include "fdt.h"
#include "fdt_isa.h"
#include "guest.h"
#include "sbi_v2.h"

const char guest_name[] = "hsm";

#define STACK_SIZE	    (8 * KIB)
#define WAIT_MS		    5000
#define STILL_MS	    20 /* a suspended hart must stay suspended this long unwoken */
#define DEFAULT_TIMEBASE_HZ 10000000

/* What a secondary hart has reached; the boot hart waits on these. */
enum phase {
	PH_NONE,
	PH_UP,		    /* running secondary_main */
	PH_RET_RESUMED,	    /* retentive suspend returned */
	PH_NONRET_RETURNED, /* non-retentive suspend returned: a failure */
	PH_NONRET_RESUMED,  /* restarted at the resume address */
	PH_AGAIN,	    /* running after the second hart_start */
};

struct slot {
	unsigned long hartid;
	struct hart_boot boot, resume, again;
	volatile enum phase phase;
	volatile long ret_error, nonret_error;
	volatile unsigned long seen_hartid;
	void *volatile seen_arg;
	volatile bool release; /* the boot hart lets it go on */
	/* Non-retentive resume keeps the wake-up: sip as found at the resume address,
	 * and the Sstc deadline armed before the suspend and found after it. */
	volatile unsigned long resume_sip, armed_stimecmp, resume_stimecmp;
};

static bool has_sstc;

static struct fdt_cpus cpus;
static unsigned long boot_hartid;
static struct slot slots[FDT_MAX_CPUS];
static unsigned nslots;
static uint8_t stacks[FDT_MAX_CPUS][STACK_SIZE] __attribute__((aligned(16)));

extern char _secondary_start[];

static uint64_t ms_to_ticks(uint64_t ms)
{
	return ms * (cpus.timebase_hz ? cpus.timebase_hz : DEFAULT_TIMEBASE_HZ) / 1000;
}

static void set_phase(struct slot *s, enum phase p)
{
	__atomic_store_n(&s->phase, p, __ATOMIC_RELEASE);
}

static void wait_release(struct slot *s)
{
	while (!__atomic_load_n(&s->release, __ATOMIC_ACQUIRE))
		cpu_relax();
	s->release = false;
}

/* ---------------------------------------------------------------- secondaries */

/* At the resume address (via crt0's _secondary_start, with a1 = &slot->resume). */
static void resumed_main(unsigned long hartid, void *arg)
{
	struct slot *s = arg;

	s->seen_hartid = hartid;
	s->seen_arg = arg;
	s->resume_sip = csr_read(sip);
	if (has_sstc)
		s->resume_stimecmp = csr_read(stimecmp);
	csr_clear(sip, SIP_SSIP); /* the waking IPI: still pending, as on OpenSBI */
	set_phase(s, PH_NONRET_RESUMED);
	wait_release(s);
	/* Returning stops the hart. */
}

static void secondary_main(unsigned long hartid, void *arg)
{
	struct slot *s = arg;
	struct sbiret ret;

	s->seen_hartid = hartid;
	/* Wake on a software interrupt without taking it: sie.SSIE on, sstatus.SIE off. */
	csr_clear(sip, SIP_SSIP);
	csr_set(sie, SIE_SSIE);
	set_phase(s, PH_UP);
	wait_release(s);
	ret = sbi_hart_suspend(SBI_HSM_SUSPEND_RETENTIVE, 0, 0);
	s->ret_error = ret.error;
	csr_clear(sip, SIP_SSIP);
	set_phase(s, PH_RET_RESUMED);
	wait_release(s);
	/* A deadline far ahead (its interrupt stays masked): it must survive the suspend. */
	if (has_sstc) {
		s->armed_stimecmp = csr_read(time) + ms_to_ticks(100000);
		csr_write(stimecmp, s->armed_stimecmp);
	}
	ret = sbi_hart_suspend(SBI_HSM_SUSPEND_NON_RETENTIVE, (unsigned long)_secondary_start,
			       (unsigned long)&s->resume);
	/* Only a failed non-retentive suspend comes back here. */
	s->nonret_error = ret.error;
	set_phase(s, PH_NONRET_RETURNED);
}

static void again_main(unsigned long hartid, void *arg)
{
	struct slot *s = arg;

	s->seen_hartid = hartid;
	set_phase(s, PH_AGAIN);
}

/* ---------------------------------------------------------------- boot hart */

static const char *wait_status(struct slot *s, long want)
{
	uint64_t end = csr_read(time) + ms_to_ticks(WAIT_MS);
	struct sbiret ret;

	for (;;) {
		ret = sbi_hart_get_status(s->hartid);
		if (!ret.error && ret.value == want)
			return NULL;
		if (csr_read(time) > end)
			return test_why("hart %lu: status %ld/%ld after %d ms, want %ld", s->hartid,
					ret.error, ret.value, WAIT_MS, want);
		cpu_relax();
	}
}

static const char *wait_phase(struct slot *s, enum phase want)
{
	uint64_t end = csr_read(time) + ms_to_ticks(WAIT_MS);

	while (__atomic_load_n(&s->phase, __ATOMIC_ACQUIRE) != want) {
		if (csr_read(time) > end)
			return test_why("hart %lu: in phase %d after %d ms, want %d", s->hartid,
					s->phase, WAIT_MS, want);
		cpu_relax();
	}
	return NULL;
}

static const char *expect_status(struct slot *s, long want)
{
	struct sbiret ret = sbi_hart_get_status(s->hartid);

	if (ret.error || ret.value != want)
		return test_why("hart %lu: status %ld/%ld, want %ld", s->hartid, ret.error,
				ret.value, want);
	return NULL;
}

static void release(struct slot *s)
{
	__atomic_store_n(&s->release, true, __ATOMIC_RELEASE);
}

/* Once suspended, the hart must stay so until the IPI: nothing else may wake it. */
static const char *suspended_until_ipi(struct slot *s, enum phase before)
{
	uint64_t end;
	const char *why = wait_status(s, SBI_HSM_SUSPENDED);
	struct sbiret ret;

	if (why)
		return why;
	end = csr_read(time) + ms_to_ticks(STILL_MS);
	while (csr_read(time) < end)
		cpu_relax();
	if (s->phase != before)
		return test_why("hart %lu woke from suspend without an IPI", s->hartid);
	why = expect_status(s, SBI_HSM_SUSPENDED);
	if (why)
		return why;
	ret = sbi_send_ipi(1, s->hartid);
	if (ret.error)
		return test_why("send_ipi(hart %lu) returned %ld", s->hartid, ret.error);
	return NULL;
}

static const char *start_one(struct slot *s, unsigned i)
{
	const char *why = expect_status(s, SBI_HSM_STOPPED);
	struct sbiret ret;

	if (why)
		return why;
	s->boot = (struct hart_boot){(unsigned long)&stacks[i][STACK_SIZE], secondary_main, s};
	s->resume = (struct hart_boot){(unsigned long)&stacks[i][STACK_SIZE], resumed_main, s};
	ret = hart_boot_start(s->hartid, &s->boot);
	if (ret.error)
		return test_why("hart_start(%lu) returned %ld", s->hartid, ret.error);
	return NULL;
}

/* Run one step on every secondary; stop at the first failure. */
static const char *for_each_slot(const char *(*step)(struct slot *s, unsigned i))
{
	for (unsigned i = 0; i < nslots; i++) {
		const char *why = step(&slots[i], i);

		if (why)
			return why;
	}
	return NULL;
}

static const char *step_start(struct slot *s, unsigned i)
{
	return start_one(s, i);
}

static const char *step_up(struct slot *s, unsigned i)
{
	const char *why = wait_phase(s, PH_UP);

	(void)i;
	if (!why)
		why = expect_status(s, SBI_HSM_STARTED);
	if (!why && s->seen_hartid != s->hartid)
		why = test_why("hart %lu started with a0 = %lu", s->hartid, s->seen_hartid);
	return why;
}

static const char *check_start(void)
{
	const char *why = for_each_slot(step_start);

	return why ? why : for_each_slot(step_up);
}

static const char *step_retentive(struct slot *s, unsigned i)
{
	const char *why;

	(void)i;
	release(s);
	why = suspended_until_ipi(s, PH_UP);
	if (!why)
		why = wait_phase(s, PH_RET_RESUMED);
	if (!why && s->ret_error != 0)
		why = test_why("hart %lu: retentive suspend returned %ld, want 0", s->hartid,
			       s->ret_error);
	if (!why)
		why = expect_status(s, SBI_HSM_STARTED);
	return why;
}

static const char *check_retentive(void)
{
	return for_each_slot(step_retentive);
}

static const char *step_nonretentive(struct slot *s, unsigned i)
{
	const char *why;

	(void)i;
	s->seen_hartid = ~0UL;
	release(s);
	why = suspended_until_ipi(s, PH_RET_RESUMED);
	if (!why)
		why = wait_phase(s, PH_NONRET_RESUMED);
	if (why && s->phase == PH_NONRET_RETURNED)
		return test_why("hart %lu: non-retentive suspend returned %ld", s->hartid,
				s->nonret_error);
	if (!why && s->seen_hartid != s->hartid)
		why = test_why("hart %lu resumed with a0 = %lu", s->hartid, s->seen_hartid);
	if (!why && s->seen_arg != s)
		why = test_why("hart %lu resumed with the wrong opaque value", s->hartid);
	/* The spec defines only a0, a1, satp and SIE at resume, but a kernel relies on
	 * the interrupt that woke it being delivered, and on its timer. */
	if (!why && !(s->resume_sip & SIP_SSIP))
		why = test_why("hart %lu resumed with sip 0x%lx: the waking IPI is gone", s->hartid,
			       s->resume_sip);
	if (!why && has_sstc && s->resume_stimecmp != s->armed_stimecmp)
		why = test_why("hart %lu resumed with stimecmp 0x%lx, armed 0x%lx", s->hartid,
			       s->resume_stimecmp, s->armed_stimecmp);
	if (!why)
		why = expect_status(s, SBI_HSM_STARTED);
	return why;
}

static const char *check_nonretentive(void)
{
	return for_each_slot(step_nonretentive);
}

static const char *step_stop(struct slot *s, unsigned i)
{
	(void)i;
	release(s);
	return wait_status(s, SBI_HSM_STOPPED);
}

static const char *check_stop(void)
{
	return for_each_slot(step_stop);
}

/* A stopped hart starts again, at a new entry, and stops again. */
static const char *step_again(struct slot *s, unsigned i)
{
	struct sbiret ret;
	const char *why;

	s->seen_hartid = ~0UL;
	s->again = (struct hart_boot){(unsigned long)&stacks[i][STACK_SIZE], again_main, s};
	ret = hart_boot_start(s->hartid, &s->again);
	if (ret.error)
		return test_why("second hart_start(%lu) returned %ld", s->hartid, ret.error);
	why = wait_phase(s, PH_AGAIN);
	if (!why && s->seen_hartid != s->hartid)
		why = test_why("hart %lu restarted with a0 = %lu", s->hartid, s->seen_hartid);
	return why ? why : wait_status(s, SBI_HSM_STOPPED);
}

static const char *check_again(void)
{
	return for_each_slot(step_again);
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	char isa[256];

	boot_hartid = hartid;
	has_sstc = fdt_read_isa(dtb, isa, sizeof(isa)) == 0 && isa_has_ext(isa, "sstc");
	if (fdt_read_cpus(dtb, &cpus) < 0) {
		test_report("hsm", test_why("no valid DTB at 0x%lx", dtb));
		return GUEST_STATUS_FAIL;
	}
	for (unsigned i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] != boot_hartid)
			slots[nslots++].hartid = cpus.hartid[i];
	printf("hsm: %u hart(s), boot hart %lu, %u to suspend and restart\n", cpus.count,
	       boot_hartid, nslots);
	if (nslots == 0) {
		test_report("hsm", test_why("the VM needs at least 2 harts"));
		return GUEST_STATUS_FAIL;
	}
	if (test_run("hsm.start", check_start) && test_run("hsm.retentive", check_retentive) &&
	    test_run("hsm.nonretentive", check_nonretentive) && test_run("hsm.stop", check_stop))
		test_run("hsm.restart", check_again);
	test_report("hsm", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
