// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI STA (steal-time accounting) from VS-mode. The boot hart checks the
 * errors of sbi_steal_time_set_shmem and that a new record comes zeroed,
 * then starts hart 1 and both spin, each with its own record, for SPIN_MS.
 * Both records must follow the sequence protocol (even when read, never
 * going back). With bootargs "contended" (the integration test runs the
 * VM's two vCPUs on one hart) each must then show steal time -- at least a
 * fifth of the spin; with "alone" (a hart each) at most NOISE_MS. Last, with
 * its record turned off, the boot hart's record must not be written any more
 * (hart 1 still spins), and with hart 1 stopped a fresh record must show no
 * steal time.
 */
#include "fdt.h"
#include "fdt_chosen.h"
#include "guest.h"
#include "sbi_v3.h"

const char guest_name[] = "sta";

#define SPIN_MS		    400
#define NOISE_MS	    5
#define WAIT_MS		    5000
#define STACK_SIZE	    (8 * KIB)
#define DEFAULT_TIMEBASE_HZ 10000000
#define OUTSIDE_RAM	    0x1000UL
#define NS_PER_MS	    1000000UL

struct sta_record {
	uint32_t sequence;
	uint32_t flags;
	uint64_t steal;
	uint8_t preempted;
	uint8_t pad[47];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct sta_record) == 64, "the record is 64 bytes");

enum expectation { EXPECT_ANY, EXPECT_CONTENDED, EXPECT_ALONE };

static struct fdt_cpus cpus;
static unsigned long boot_hartid, other_hartid;
static enum expectation expect;
static struct sta_record records[2];
static struct sta_record scratch[2];
static struct hart_boot other_boot;
static uint8_t other_stack[STACK_SIZE] __attribute__((aligned(16)));

/* What hart 1 reports back. */
static volatile bool other_up, other_go, other_stop, other_done;
static volatile long other_error;
static volatile bool other_protocol_ok = true;

static uint64_t ms_to_ticks(uint64_t ms)
{
	return ms * (cpus.timebase_hz ? cpus.timebase_hz : DEFAULT_TIMEBASE_HZ) / 1000;
}

static struct sbiret set_shmem(unsigned long lo, unsigned long hi, unsigned long flags)
{
	return sbi_call3(SBI_EXT_STA, SBI_STA_SET_SHMEM, lo, hi, flags);
}

/* The specification's reader: sequence, steal, sequence again; retry while odd or moved. */
static uint64_t read_steal(const volatile struct sta_record *r, uint32_t *sequence)
{
	uint32_t before, after;
	uint64_t steal;

	do {
		before = __atomic_load_n(&r->sequence, __ATOMIC_ACQUIRE);
		steal = __atomic_load_n(&r->steal, __ATOMIC_ACQUIRE);
		after = __atomic_load_n(&r->sequence, __ATOMIC_ACQUIRE);
	} while ((before & 1) || before != after);
	*sequence = after;
	return steal;
}

/* Spin for ms, reading the record all along: steal never goes back, flags stay 0. */
static bool spin_watching(const volatile struct sta_record *r, uint64_t ms)
{
	uint64_t end = csr_read(time) + ms_to_ticks(ms), last = 0;
	uint32_t last_seq = 0, seq;
	bool ok = true;

	while (csr_read(time) < end) {
		uint64_t steal = read_steal(r, &seq);

		if (steal < last || seq < last_seq || r->flags != 0)
			ok = false;
		last = steal;
		last_seq = seq;
	}
	return ok;
}

static void other_main(unsigned long hartid, void *arg)
{
	struct sta_record *r = arg;
	struct sbiret ret = set_shmem((unsigned long)r, 0, 0);

	(void)hartid;
	other_error = ret.error;
	other_up = true;
	while (!other_go)
		cpu_relax();
	/* Spin (reading its record) until told to stop; then return, which stops the hart. */
	while (!other_stop)
		if (!spin_watching(r, 10))
			other_protocol_ok = false;
	other_done = true;
}

/* ---------------------------------------------------------------- checks */

static const char *expect_error(const char *what, struct sbiret ret, long error)
{
	if (ret.error != error)
		return test_why("%s returned %ld, want %ld", what, ret.error, error);
	if (ret.value != 0)
		return test_why("%s: value %ld, want 0", what, ret.value);
	return NULL;
}

static const char *check_errors(void)
{
	unsigned long rec = (unsigned long)&scratch[0];
	const char *why = NULL;

	why = expect_error("flags 1", set_shmem(rec, 0, 1), SBI_ERR_INVALID_PARAM);
	if (!why)
		why = expect_error("disable with flags", set_shmem(~0UL, ~0UL, 2),
				   SBI_ERR_INVALID_PARAM);
	if (!why)
		why = expect_error("32-byte aligned", set_shmem(rec + 32, 0, 0),
				   SBI_ERR_INVALID_PARAM);
	if (!why)
		why =
		    expect_error("lo all-ones, hi 0", set_shmem(~0UL, 0, 0), SBI_ERR_INVALID_PARAM);
	if (!why)
		why = expect_error("outside RAM", set_shmem(OUTSIDE_RAM, 0, 0),
				   SBI_ERR_INVALID_ADDRESS);
	if (!why)
		why = expect_error("hi 1", set_shmem(rec, 1, 0), SBI_ERR_INVALID_ADDRESS);
	if (!why)
		why = expect_error("disable", set_shmem(~0UL, ~0UL, 0), SBI_SUCCESS);
	return why;
}

static const char *check_zeroed(void)
{
	struct sta_record *r = &records[0];
	const uint8_t *bytes = (const uint8_t *)r;
	struct sbiret ret;
	uint32_t seq;

	memset(r, 0xff, sizeof(*r));
	ret = set_shmem((unsigned long)r, 0, 0);
	if (ret.error)
		return test_why("set_shmem returned %ld", ret.error);
	/* Vireo may have written it since (a schedule-in): sequence even, steal whatever it
	 * is; flags, preempted (it runs) and the padding zero. */
	(void)read_steal(r, &seq);
	if (seq & 1)
		return test_why("sequence %u is odd", seq);
	for (unsigned i = 4; i < sizeof(*r); i++) {
		bool steal_byte = i >= 8 && i < 16;

		if (!steal_byte && bytes[i] != 0)
			return test_why("byte %u of the record is 0x%x, want 0", i, bytes[i]);
	}
	return NULL;
}

static const char *start_other(void)
{
	uint64_t end;

	other_boot =
	    (struct hart_boot){(unsigned long)&other_stack[STACK_SIZE], other_main, &records[1]};
	if (hart_boot_start(other_hartid, &other_boot).error)
		return test_why("hart_start(%lu) failed", other_hartid);
	end = csr_read(time) + ms_to_ticks(WAIT_MS);
	while (!other_up)
		if (csr_read(time) > end)
			return test_why("hart %lu did not come up", other_hartid);
	if (other_error)
		return test_why("hart %lu: set_shmem returned %ld", other_hartid, other_error);
	other_go = true;
	return NULL;
}

static const char *stop_other(void)
{
	uint64_t end = csr_read(time) + ms_to_ticks(WAIT_MS);

	other_stop = true;
	for (;;) {
		struct sbiret ret = sbi_hart_get_status(other_hartid);
		if (other_done && !ret.error && ret.value == SBI_HSM_STOPPED)
			return NULL;
		if (csr_read(time) > end)
			return test_why("hart %lu did not stop", other_hartid);
		cpu_relax();
	}
}

/* Both harts spin; each record must follow the protocol and show what the bootargs say. */
static const char *check_shared(void)
{
	uint64_t steal, other_steal;
	uint32_t seq;
	bool ok;
	const char *why;

	if (cpus.count < 2) {
		printf("sta: one hart only: nothing to share\n");
		return NULL;
	}
	why = start_other();
	if (why)
		return why;
	ok = spin_watching(&records[0], SPIN_MS);
	steal = read_steal(&records[0], &seq);
	other_steal = read_steal(&records[1], &seq);
	printf("sta: steal in %d ms of spinning: hart %lu %lu ms, hart %lu %lu ms\n", SPIN_MS,
	       boot_hartid, (unsigned long)(steal / NS_PER_MS), other_hartid,
	       (unsigned long)(other_steal / NS_PER_MS));
	if (!ok || !other_protocol_ok)
		return test_why("a record went backwards or had flags set");
	if (expect == EXPECT_CONTENDED &&
	    (steal < SPIN_MS / 5 * NS_PER_MS || other_steal < SPIN_MS / 5 * NS_PER_MS))
		return test_why("sharing one hart, both should see steal time");
	if (expect == EXPECT_ALONE &&
	    (steal > NOISE_MS * NS_PER_MS || other_steal > NOISE_MS * NS_PER_MS))
		return test_why("with a hart each, there should be no steal time");
	return NULL;
}

/* Once turned off, the record is the guest's again: Vireo must not write it, even while
 * the vCPU keeps being preempted and scheduled in (hart 1 still spins). */
static const char *check_disable(void)
{
	struct sta_record *r = &records[0];
	const uint8_t *bytes = (const uint8_t *)r;
	struct sbiret ret = set_shmem(~0UL, ~0UL, 0);
	uint64_t end;

	if (ret.error)
		return test_why("disable returned %ld", ret.error);
	memset(r, 0xaa, sizeof(*r));
	end = csr_read(time) + ms_to_ticks(SPIN_MS / 4);
	while (csr_read(time) < end)
		cpu_relax();
	for (unsigned i = 0; i < sizeof(*r); i++)
		if (bytes[i] != 0xaa)
			return test_why("byte %u of a disabled record was written", i);
	return NULL;
}

/* With hart 1 stopped the boot hart runs alone: no steal time. */
static const char *check_alone(void)
{
	uint64_t steal, end;
	uint32_t seq;
	const char *why = cpus.count > 1 ? stop_other() : NULL;
	struct sbiret ret;

	if (why)
		return why;
	ret = set_shmem((unsigned long)&records[0], 0, 0);
	if (ret.error)
		return test_why("set_shmem returned %ld", ret.error);
	end = csr_read(time) + ms_to_ticks(SPIN_MS / 4);
	while (csr_read(time) < end)
		cpu_relax();
	steal = read_steal(&records[0], &seq);
	if (steal > NOISE_MS * NS_PER_MS)
		return test_why("alone, %lu ms of steal time", (unsigned long)(steal / NS_PER_MS));
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	const char *args = fdt_bootargs(dtb);

	boot_hartid = hartid;
	if (fdt_read_cpus(dtb, &cpus) < 0 || cpus.count == 0) {
		test_report("sta", test_why("no valid DTB at 0x%lx", dtb));
		return GUEST_STATUS_FAIL;
	}
	for (unsigned i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] != hartid) {
			other_hartid = cpus.hartid[i];
			break;
		}
	if (args && strstr(args, "contended"))
		expect = EXPECT_CONTENDED;
	else if (args && strstr(args, "alone"))
		expect = EXPECT_ALONE;
	printf("sta: %u hart(s), boot hart %lu, expecting %s\n", cpus.count, hartid,
	       expect == EXPECT_CONTENDED ? "steal time"
	       : expect == EXPECT_ALONE	  ? "no steal time"
					  : "either");
	if (!sbi_probe_extension(SBI_EXT_STA)) {
		test_report("sta", test_why("STA is not offered"));
		return GUEST_STATUS_FAIL;
	}
	test_run("sta.errors", check_errors);
	test_run("sta.zeroed", check_zeroed);
	test_run("sta.shared", check_shared);
	test_run("sta.disable", check_disable);
	test_run("sta.alone", check_alone);
	test_report("sta", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
