// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI SUSP (system suspend) from VS-mode. First the refusals: reserved and
 * platform-specific sleep types (INVALID_PARAM), a resume address outside
 * RAM (INVALID_ADDRESS), another hart still running (DENIED). Then the real
 * thing: with its own Sv39 on, sstatus.SIE on and only the timer enabled in
 * sie (due WAKE_MS later), the boot hart suspends the VM to RAM. The call
 * must not return; the hart must come back at the resume address once the
 * timer is due, with a0 = its hart id, a1 = the opaque value, satp = 0 and
 * sstatus.SIE = 0, in HSM state STARTED. The guest then ends from there.
 */
#include "fdt.h"
#include "guest.h"
#include "sbi_v3.h"
#include "sv39.h"

const char guest_name[] = "susp";

#define WAKE_MS		    100
#define WAIT_MS		    5000
#define STACK_SIZE	    (8 * KIB)
#define DEFAULT_TIMEBASE_HZ 10000000
#define OUTSIDE_RAM	    0x1000UL
#define OPAQUE		    0x5a5aa5a5f00dUL

static struct fdt_cpus cpus;
static unsigned long boot_hartid;
static uint64_t deadline;

/* Another hart, running while the boot hart tries to suspend. */
static struct hart_boot other_boot;
static uint8_t other_stack[STACK_SIZE] __attribute__((aligned(16)));
static volatile bool other_up, other_release;

/* What the resume entry saw, before any C code ran. */
unsigned long resume_a0, resume_a1, resume_sstatus, resume_satp;
uint8_t resume_stack[STACK_SIZE] __attribute__((aligned(16)));
void resume_entry(void);
void susp_resumed(void);

/* The resume address: MMU off, registers other than a0/a1 undefined. Record what the
 * specification defines, take a stack and the trap vector, and go on in C. */
__asm__(".text\n"
	".globl resume_entry\n"
	".balign 4\n"
	"resume_entry:\n"
	"	lla	t0, resume_a0\n"
	"	sd	a0, 0(t0)\n"
	"	lla	t0, resume_a1\n"
	"	sd	a1, 0(t0)\n"
	"	csrr	t1, sstatus\n"
	"	lla	t0, resume_sstatus\n"
	"	sd	t1, 0(t0)\n"
	"	csrr	t1, satp\n"
	"	lla	t0, resume_satp\n"
	"	sd	t1, 0(t0)\n"
	"	mv	tp, a0\n"
	"	lla	sp, resume_stack + 8192\n"
	"	lla	t0, trap_vector\n"
	"	csrw	stvec, t0\n"
	"	call	susp_resumed\n"
	"1:	j	1b\n");

_Static_assert(STACK_SIZE == 8192, "resume_entry's stack size");

static uint64_t ms_to_ticks(uint64_t ms)
{
	return ms * (cpus.timebase_hz ? cpus.timebase_hz : DEFAULT_TIMEBASE_HZ) / 1000;
}

static struct sbiret suspend(unsigned long type, unsigned long resume_addr, unsigned long opaque)
{
	return sbi_call3(SBI_EXT_SUSP, SBI_SUSP_SYSTEM_SUSPEND, type, resume_addr, opaque);
}

static const char *refused(const char *what, struct sbiret ret, long error)
{
	if (ret.error != error)
		return test_why("suspend %s returned %ld, want %ld", what, ret.error, error);
	return NULL;
}

static const char *check_bad_args(void)
{
	static const unsigned long types[] = {1, 0x7fffffff, 0x80000000, 0xffffffff};
	unsigned long entry = (unsigned long)resume_entry;
	const char *why = NULL;

	for (unsigned i = 0; i < ARRAY_SIZE(types) && !why; i++)
		why = refused("with a reserved or platform type", suspend(types[i], entry, 0),
			      SBI_ERR_INVALID_PARAM);
	if (!why)
		why = refused("to 0x1000", suspend(SBI_SUSP_TO_RAM, OUTSIDE_RAM, 0),
			      SBI_ERR_INVALID_ADDRESS);
	return why;
}

static void other_main(unsigned long hartid, void *arg)
{
	(void)hartid;
	(void)arg;
	other_up = true;
	while (!other_release)
		cpu_relax();
}

static const char *check_denied(void)
{
	uint64_t end;
	unsigned long other = ~0UL;
	const char *why;

	for (unsigned i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] != boot_hartid)
			other = cpus.hartid[i];
	if (other == ~0UL) {
		printf("susp: one hart only: no DENIED to see\n");
		return NULL;
	}
	other_boot = (struct hart_boot){(unsigned long)&other_stack[STACK_SIZE], other_main, NULL};
	if (hart_boot_start(other, &other_boot).error)
		return test_why("hart_start(%lu) failed", other);
	end = csr_read(time) + ms_to_ticks(WAIT_MS);
	while (!other_up)
		if (csr_read(time) > end)
			return test_why("hart %lu did not come up", other);
	why = refused("with another hart started",
		      suspend(SBI_SUSP_TO_RAM, (unsigned long)resume_entry, 0), SBI_ERR_DENIED);
	other_release = true;
	/* It stops when its function returns: then suspending is allowed. */
	end = csr_read(time) + ms_to_ticks(WAIT_MS);
	for (;;) {
		struct sbiret ret = sbi_hart_get_status(other);
		if (!ret.error && ret.value == SBI_HSM_STOPPED)
			break;
		if (csr_read(time) > end)
			return test_why("hart %lu did not stop", other);
	}
	return why;
}

/* Only comes back on failure: success resumes at resume_entry. */
static const char *check_suspend(void)
{
	struct sbiret ret;

	if (!sv39_enable())
		return test_why("could not turn Sv39 on");
	csr_clear(sip, SIP_SSIP);
	csr_write(sie, SIE_STIE);
	deadline = csr_read(time) + ms_to_ticks(WAKE_MS);
	sbi_set_timer(deadline);
	/* Interrupts on: the resume must turn them off. The deadline is far enough away. */
	csr_set(sstatus, SSTATUS_SIE);
	ret = suspend(SBI_SUSP_TO_RAM, (unsigned long)resume_entry, OPAQUE);
	csr_clear(sstatus, SSTATUS_SIE);
	sv39_disable();
	return test_why("system_suspend returned %ld", ret.error);
}

static const char *check_resumed(void)
{
	struct sbiret ret = sbi_hart_get_status(boot_hartid);

	if (resume_a0 != boot_hartid)
		return test_why("resumed with a0 = %lu, want %lu", resume_a0, boot_hartid);
	if (resume_a1 != OPAQUE)
		return test_why("resumed with a1 = 0x%lx, want 0x%lx", resume_a1, OPAQUE);
	if (resume_satp != 0)
		return test_why("resumed with satp = 0x%lx, want 0", resume_satp);
	if (resume_sstatus & SSTATUS_SIE)
		return test_why("resumed with sstatus.SIE set");
	if (csr_read(time) < deadline)
		return test_why("resumed before the wake-up timer was due");
	if (ret.error || ret.value != SBI_HSM_STARTED)
		return test_why("get_status(self) = %ld/%ld after the resume, want STARTED",
				ret.error, ret.value);
	return NULL;
}

void susp_resumed(void)
{
	sbi_set_timer(UINT64_MAX);
	csr_write(sie, 0);
	printf("susp: resumed at the resume address\n");
	test_report("susp.suspend", NULL); /* it did not return */
	test_run("susp.resume", check_resumed);
	test_report("susp", test_failures() ? "see the failures above" : NULL);
	guest_exit(test_failures() ? GUEST_STATUS_FAIL : 0);
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	boot_hartid = hartid;
	if (fdt_read_cpus(dtb, &cpus) < 0 || cpus.count == 0) {
		test_report("susp", test_why("no valid DTB at 0x%lx", dtb));
		return GUEST_STATUS_FAIL;
	}
	printf("susp: %u hart(s), boot hart %lu\n", cpus.count, hartid);
	if (!sbi_probe_extension(SBI_EXT_SUSP)) {
		test_report("susp", test_why("SUSP is not offered"));
		return GUEST_STATUS_FAIL;
	}
	test_run("susp.bad-args", check_bad_args);
	test_run("susp.denied", check_denied);
	/* On success this does not come back: the guest goes on in susp_resumed. */
	test_run("susp.suspend", check_suspend);
	test_report("susp", "see the failures above");
	return GUEST_STATUS_FAIL;
}
