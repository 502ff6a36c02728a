// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI HSM: the boot hart starts every other hart the DTB lists, each says
 * hello on its own stack, the boot hart checks hart_get_status while they are
 * up, lets them stop and checks that they did.
 */
#include "fdt.h"
#include "guest.h"

const char guest_name[] = "smp";

#define SECONDARY_STACK_SIZE (8 * KIB)
#define WAIT_SECONDS	     5
#define DEFAULT_TIMEBASE_HZ  10000000 /* QEMU virt, if the DTB does not say */

#define SBI_ERR_INVALID_PARAM	  (-3)
#define SBI_ERR_ALREADY_AVAILABLE (-6)

struct hart_slot {
	unsigned long hartid;
	struct hart_boot boot;
	volatile unsigned long reported_id; /* written by the hart itself */
	volatile bool up;
};

static struct fdt_cpus cpus;
static unsigned long boot_hartid;
static struct hart_slot slots[FDT_MAX_CPUS];
static uint8_t stacks[FDT_MAX_CPUS][SECONDARY_STACK_SIZE] __attribute__((aligned(16)));
static volatile bool release_harts;

static void secondary_main(unsigned long hartid, void *arg)
{
	struct hart_slot *slot = arg;

	printf("smp: hart %lu is up\n", hartid);
	slot->reported_id = hartid;
	__atomic_store_n(&slot->up, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&release_harts, __ATOMIC_ACQUIRE))
		cpu_relax();
	/* Returning makes crt0 call sbi_hart_stop(). */
}

static bool is_secondary(unsigned int i)
{
	return cpus.hartid[i] != boot_hartid;
}

static uint64_t deadline(void)
{
	uint64_t hz = cpus.timebase_hz ? cpus.timebase_hz : DEFAULT_TIMEBASE_HZ;

	return csr_read(time) + WAIT_SECONDS * hz;
}

static const char *check_dtb(void)
{
	bool boot_listed = false;

	for (unsigned int i = 0; i < cpus.count; i++)
		boot_listed |= !is_secondary(i);
	printf("smp: %u hart(s) in the DTB, boot hart %lu\n", cpus.count, boot_hartid);
	if (cpus.truncated)
		return test_why("more than %d harts in the DTB", FDT_MAX_CPUS);
	if (!boot_listed)
		return test_why("boot hart %lu is not in the DTB", boot_hartid);
	return NULL;
}

/* Bad requests must get the errors the SBI spec defines. */
static const char *check_hsm_errors(void)
{
	struct sbiret ret = hart_boot_start(boot_hartid, &slots[0].boot);

	if (ret.error != SBI_ERR_ALREADY_AVAILABLE)
		return test_why("hart_start(boot hart) returned %ld, want %d", ret.error,
				SBI_ERR_ALREADY_AVAILABLE);
	ret = sbi_hart_start(0xfffff, (unsigned long)trap_vector, 0);
	if (ret.error != SBI_ERR_INVALID_PARAM)
		return test_why("hart_start(0xfffff) returned %ld, want %d", ret.error,
				SBI_ERR_INVALID_PARAM);
	ret = sbi_hart_get_status(boot_hartid);
	if (ret.error || ret.value != SBI_HSM_STARTED)
		return test_why("get_status(boot hart) = %ld/%ld", ret.error, ret.value);
	return NULL;
}

static const char *start_one(unsigned int i)
{
	struct hart_slot *slot = &slots[i];
	struct sbiret ret = sbi_hart_get_status(slot->hartid);

	if (ret.error || ret.value != SBI_HSM_STOPPED)
		return test_why("hart %lu: status %ld/%ld before start, want STOPPED", slot->hartid,
				ret.error, ret.value);
	slot->boot.stack_top = (unsigned long)&stacks[i][SECONDARY_STACK_SIZE];
	slot->boot.entry = secondary_main;
	slot->boot.arg = slot;
	ret = hart_boot_start(slot->hartid, &slot->boot);
	if (ret.error)
		return test_why("hart_start(%lu) returned %ld", slot->hartid, ret.error);
	return NULL;
}

static const char *wait_up(unsigned int i)
{
	struct hart_slot *slot = &slots[i];
	uint64_t end = deadline();

	while (!__atomic_load_n(&slot->up, __ATOMIC_ACQUIRE)) {
		if (csr_read(time) > end)
			return test_why("hart %lu did not come up in %d s", slot->hartid,
					WAIT_SECONDS);
		cpu_relax();
	}
	if (slot->reported_id != slot->hartid)
		return test_why("hart %lu came up with a0 = %lu", slot->hartid, slot->reported_id);
	return NULL;
}

static const char *check_start(void)
{
	const char *why = NULL;

	for (unsigned int i = 0; i < cpus.count && !why; i++) {
		slots[i].hartid = cpus.hartid[i];
		if (is_secondary(i))
			why = start_one(i);
	}
	for (unsigned int i = 0; i < cpus.count && !why; i++) {
		if (is_secondary(i))
			why = wait_up(i);
	}
	return why;
}

static const char *check_started(void)
{
	for (unsigned int i = 0; i < cpus.count; i++) {
		struct sbiret ret = sbi_hart_get_status(cpus.hartid[i]);

		if (ret.error || ret.value != SBI_HSM_STARTED)
			return test_why("hart %lu: status %ld/%ld, want STARTED", cpus.hartid[i],
					ret.error, ret.value);
	}
	return NULL;
}

static const char *wait_stopped(unsigned long hartid)
{
	uint64_t end = deadline();
	struct sbiret ret;

	for (;;) {
		ret = sbi_hart_get_status(hartid);
		if (!ret.error && ret.value == SBI_HSM_STOPPED)
			return NULL;
		if (csr_read(time) > end)
			return test_why("hart %lu: status %ld/%ld after %d s, want STOPPED", hartid,
					ret.error, ret.value, WAIT_SECONDS);
		cpu_relax();
	}
}

static const char *check_stop(void)
{
	const char *why = NULL;

	__atomic_store_n(&release_harts, true, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < cpus.count && !why; i++) {
		if (is_secondary(i))
			why = wait_stopped(cpus.hartid[i]);
	}
	return why;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	boot_hartid = hartid;
	if (fdt_read_cpus(dtb, &cpus) < 0) {
		test_report("smp", test_why("no valid DTB at 0x%lx", dtb));
		return GUEST_STATUS_FAIL;
	}
	if (test_run("smp.dtb", check_dtb) && test_run("smp.hsm-errors", check_hsm_errors) &&
	    test_run("smp.start", check_start))
		test_run("smp.status", check_started);
	/* Let any hart that did come up stop, even after a failure. */
	test_run("smp.stop", check_stop);
	test_report("smp", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
