// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI PMU from VS-mode: the counters Vireo reports, firmware counters that
 * count exactly the events the guest causes (set_timer, IPIs and fences to
 * itself, emulated counter reads, a legacy hart mask Vireo cannot read), and
 * the cycle and instret counters virtualised: started with an initial value
 * they read from it, stopped they hold still. Plus every error the calls
 * have, and event_get_info.
 */
#include "fdt.h"
#include "guest.h"
#include "sbi_v3.h"

const char guest_name[] = "pmu";

#define NUM_COUNTERS 9
#define ALL_COUNTERS ((1UL << NUM_COUNTERS) - 1)
#define CSR_CYCLE    0xc00
#define WIDTH_64     (63UL << 12)
#define OUTSIDE_RAM  0x1000UL
#define N_EVENTS     5
#define CYCLES_SLACK 100000000UL /* reads after a start: near the initial value */

static unsigned long boot_hartid;

static struct sbiret pmu(unsigned long fid, unsigned long a0, unsigned long a1, unsigned long a2,
			 unsigned long a3, unsigned long a4)
{
	return sbi_call5(SBI_EXT_PMU, fid, a0, a1, a2, a3, a4);
}

/* Configure a counter for the event over all counters; the index or -1. */
static long match(unsigned long flags, unsigned long event)
{
	struct sbiret ret = pmu(SBI_PMU_COUNTER_CFG_MATCH, 0, ALL_COUNTERS, flags, event, 0);

	return ret.error ? -1 : ret.value;
}

static unsigned long fw_read(unsigned long idx)
{
	return (unsigned long)pmu(SBI_PMU_COUNTER_FW_READ, idx, 0, 0, 0, 0).value;
}

static struct sbiret stop_reset(unsigned long idx)
{
	return pmu(SBI_PMU_COUNTER_STOP, idx, 1, SBI_PMU_STOP_RESET, 0, 0);
}

#define EXPECT(what, ret, err)                                                                     \
	do {                                                                                       \
		long e_ = (ret).error;                                                             \
		if (e_ != (err))                                                                   \
			return test_why("%s returned %ld, want %ld", what, e_, (long)(err));       \
	} while (0)

/* ---------------------------------------------------------------- counters */

static const char *check_counters(void)
{
	struct sbiret ret = pmu(SBI_PMU_NUM_COUNTERS, 0, 0, 0, 0, 0);

	if (ret.error || ret.value != NUM_COUNTERS)
		return test_why("num_counters = %ld/%ld, want 0/%d", ret.error, ret.value,
				NUM_COUNTERS);
	for (unsigned long idx = 0; idx < NUM_COUNTERS; idx++) {
		unsigned long want = idx == 0 || idx == 2 ? WIDTH_64 | (CSR_CYCLE + idx)
							  : SBI_PMU_INFO_FIRMWARE | WIDTH_64;

		ret = pmu(SBI_PMU_COUNTER_GET_INFO, idx, 0, 0, 0, 0);
		if (ret.error || (unsigned long)ret.value != want)
			return test_why("get_info(%lu) = %ld/0x%lx, want 0/0x%lx", idx, ret.error,
					ret.value, want);
	}
	EXPECT("get_info(9)", pmu(SBI_PMU_COUNTER_GET_INFO, 9, 0, 0, 0, 0), SBI_ERR_INVALID_PARAM);
	EXPECT("snapshot_set_shmem", pmu(SBI_PMU_SNAPSHOT_SET_SHMEM, 0x80000000, 0, 0, 0, 0),
	       SBI_ERR_NOT_SUPPORTED);
	return NULL;
}

/* ---------------------------------------------------------------- firmware events */

static volatile unsigned long soft_irqs;
static volatile unsigned long access_faults, access_fault_tval;

static bool trap_hook(struct trap_frame *tf)
{
	if (tf->scause == (CAUSE_INTERRUPT | IRQ_S_SOFT)) {
		csr_clear(sip, SIP_SSIP);
		soft_irqs = soft_irqs + 1;
		return true;
	}
	if (tf->scause == CAUSE_LOAD_ACCESS) {
		/* A legacy call whose hart mask Vireo could not read: skip the ecall. */
		access_faults = access_faults + 1;
		access_fault_tval = tf->stval;
		tf->sepc += 4;
		return true;
	}
	return false;
}

static const char *check_set_timer(void)
{
	long idx = match(SBI_PMU_CFG_CLEAR_VALUE, SBI_PMU_EVENT_FW(SBI_PMU_FW_SET_TIMER));
	struct sbiret ret;

	if (idx < 0)
		return test_why("no counter for SET_TIMER");
	if (idx == 0 || idx == 2)
		return test_why("SET_TIMER configured on hardware counter %ld", idx);
	/* Not started: nothing counted. */
	sbi_set_timer(UINT64_MAX);
	if (fw_read(idx) != 0)
		return test_why("a counter not started counted");
	EXPECT("start", pmu(SBI_PMU_COUNTER_START, idx, 1, SBI_PMU_START_SET_INIT, 1000, 0), 0);
	for (unsigned i = 0; i < N_EVENTS; i++)
		sbi_set_timer(UINT64_MAX);
	if (fw_read(idx) != 1000 + N_EVENTS)
		return test_why("after %d set_timer: %lu, want %d", N_EVENTS, fw_read(idx),
				1000 + N_EVENTS);
	ret = pmu(SBI_PMU_COUNTER_FW_READ_HI, idx, 0, 0, 0, 0);
	if (ret.error || ret.value != 0)
		return test_why("fw_read_hi = %ld/%ld, want 0/0 on RV64", ret.error, ret.value);
	EXPECT("stop", pmu(SBI_PMU_COUNTER_STOP, idx, 1, 0, 0, 0), 0);
	sbi_set_timer(UINT64_MAX);
	if (fw_read(idx) != 1000 + N_EVENTS)
		return test_why("a stopped counter counted");
	EXPECT("stop again", pmu(SBI_PMU_COUNTER_STOP, idx, 1, 0, 0, 0), SBI_ERR_ALREADY_STOPPED);
	EXPECT("stop with reset", stop_reset(idx), SBI_ERR_ALREADY_STOPPED);
	EXPECT("start unconfigured", pmu(SBI_PMU_COUNTER_START, idx, 1, 0, 0, 0),
	       SBI_ERR_INVALID_PARAM);
	return NULL;
}

static const char *check_ipis_and_fences(void)
{
	long sent = match(SBI_PMU_CFG_CLEAR_VALUE | SBI_PMU_CFG_AUTO_START,
			  SBI_PMU_EVENT_FW(SBI_PMU_FW_IPI_SENT));
	long received = match(SBI_PMU_CFG_CLEAR_VALUE | SBI_PMU_CFG_AUTO_START,
			      SBI_PMU_EVENT_FW(SBI_PMU_FW_IPI_RECEIVED));
	long fence_rx = match(SBI_PMU_CFG_CLEAR_VALUE | SBI_PMU_CFG_AUTO_START,
			      SBI_PMU_EVENT_FW(SBI_PMU_FW_FENCE_I_RECEIVED));
	const char *why = NULL;

	if (sent < 0 || received < 0 || fence_rx < 0)
		return test_why("no counter for the IPI and fence events");
	csr_set(sie, SIE_SSIE);
	csr_set(sstatus, SSTATUS_SIE);
	for (unsigned i = 0; i < N_EVENTS; i++) {
		unsigned long before = soft_irqs;
		sbi_send_ipi(1, boot_hartid);
		while (soft_irqs == before)
			cpu_relax();
		sbi_call3(SBI_EXT_RFENCE, SBI_RFENCE_FENCE_I, 1, boot_hartid, 0);
	}
	csr_clear(sstatus, SSTATUS_SIE);
	csr_clear(sie, SIE_SSIE);
	if (fw_read(sent) != N_EVENTS || fw_read(received) != N_EVENTS ||
	    fw_read(fence_rx) != N_EVENTS)
		why = test_why("IPIs sent %lu, received %lu, fence.i received %lu; want %d each",
			       fw_read(sent), fw_read(received), fw_read(fence_rx), N_EVENTS);
	stop_reset(sent);
	stop_reset(received);
	stop_reset(fence_rx);
	return why;
}

/* A legacy IPI whose hart mask is not in RAM: Vireo redirects the access fault to the
 * guest and counts it. */
static const char *check_access_fault(void)
{
	long idx = match(SBI_PMU_CFG_CLEAR_VALUE | SBI_PMU_CFG_AUTO_START,
			 SBI_PMU_EVENT_FW(SBI_PMU_FW_ACCESS_LOAD));
	const char *why = NULL;

	if (idx < 0)
		return test_why("no counter for ACCESS_LOAD");
	sbi_call3(SBI_LEGACY_SEND_IPI, 0, OUTSIDE_RAM, 0, 0);
	if (access_faults != 1 || access_fault_tval != OUTSIDE_RAM)
		why = test_why("%lu access faults (stval 0x%lx), want 1 at 0x%lx", access_faults,
			       access_fault_tval, OUTSIDE_RAM);
	else if (fw_read(idx) != 1)
		why = test_why("ACCESS_LOAD counted %lu, want 1", fw_read(idx));
	stop_reset(idx);
	return why;
}

static const char *check_unsupported_events(void)
{
	static const unsigned long events[] = {
	    0x00003, /* cache references */
	    0x10000, /* a cache event */
	    0x20000,
	    0x30000,					   /* raw */
	    SBI_PMU_EVENT_FW(SBI_PMU_FW_MISALIGNED_LOAD),  /* the guest's own */
	    SBI_PMU_EVENT_FW(SBI_PMU_FW_HFENCE_GVMA_SENT), /* no nested virtualisation */
	    SBI_PMU_EVENT_FW(0xffff),			   /* platform */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(events); i++) {
		struct sbiret ret =
		    pmu(SBI_PMU_COUNTER_CFG_MATCH, 0, ALL_COUNTERS, 0, events[i], 0);
		if (ret.error != SBI_ERR_NOT_SUPPORTED)
			return test_why("config_matching(0x%lx) returned %ld, want %d", events[i],
					ret.error, SBI_ERR_NOT_SUPPORTED);
	}
	return NULL;
}

static const char *check_errors(void)
{
	long idx;

	EXPECT("config_matching, counter 9", pmu(SBI_PMU_COUNTER_CFG_MATCH, 9, 1, 0, 0xf0005, 0),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("config_matching, flag bit 8",
	       pmu(SBI_PMU_COUNTER_CFG_MATCH, 0, ALL_COUNTERS, 1UL << 8, 0xf0005, 0),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("start, counter 9", pmu(SBI_PMU_COUNTER_START, 9, 1, 0, 0, 0),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("stop, base + bit past the end", pmu(SBI_PMU_COUNTER_STOP, 8, 2, 0, 0, 0),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("fw_read(cycle)", pmu(SBI_PMU_COUNTER_FW_READ, 0, 0, 0, 0, 0),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("fw_read(9)", pmu(SBI_PMU_COUNTER_FW_READ, 9, 0, 0, 0, 0), SBI_ERR_INVALID_PARAM);
	EXPECT("fw_read_hi(instret)", pmu(SBI_PMU_COUNTER_FW_READ_HI, 2, 0, 0, 0, 0),
	       SBI_ERR_INVALID_PARAM);
	idx = match(0, SBI_PMU_EVENT_FW(SBI_PMU_FW_SET_TIMER));
	if (idx < 0)
		return test_why("no counter for SET_TIMER");
	EXPECT("start, reserved flag", pmu(SBI_PMU_COUNTER_START, idx, 1, 4, 0, 0),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("start from a snapshot", pmu(SBI_PMU_COUNTER_START, idx, 1, 2, 0, 0),
	       SBI_ERR_NO_SHMEM);
	EXPECT("start", pmu(SBI_PMU_COUNTER_START, idx, 1, 0, 0, 0), 0);
	EXPECT("start again", pmu(SBI_PMU_COUNTER_START, idx, 1, 0, 0, 0), SBI_ERR_ALREADY_STARTED);
	EXPECT("stop into a snapshot", pmu(SBI_PMU_COUNTER_STOP, idx, 1, 2, 0, 0),
	       SBI_ERR_NO_SHMEM);
	EXPECT("stop with reset", stop_reset(idx), 0);
	return NULL;
}

/* ---------------------------------------------------------------- cycle, instret */

static const char *check_fixed(const char *name, unsigned long event, unsigned long want_idx,
			       unsigned long (*read)(void))
{
	long illegal = match(SBI_PMU_CFG_CLEAR_VALUE | SBI_PMU_CFG_AUTO_START,
			     SBI_PMU_EVENT_FW(SBI_PMU_FW_ILLEGAL_INSN));
	long idx = match(0, event);
	unsigned long a, b, c;

	if (idx < 0 || illegal < 0)
		return test_why("no counter for %s (%ld) or ILLEGAL_INSN (%ld)", name, idx,
				illegal);
	if ((unsigned long)idx != want_idx)
		return test_why("%s on counter %ld, want %lu", name, idx, want_idx);
	EXPECT("start", pmu(SBI_PMU_COUNTER_START, idx, 1, SBI_PMU_START_SET_INIT, 5000, 0), 0);
	a = read();
	b = read();
	if (a < 5000 || a > 5000 + CYCLES_SLACK || b <= a)
		return test_why("%s read %lu then %lu after starting at 5000", name, a, b);
	EXPECT("stop", pmu(SBI_PMU_COUNTER_STOP, idx, 1, 0, 0, 0), 0);
	a = read();
	for (volatile int i = 0; i < 1000; i++)
		;
	b = read();
	if (a != b || a < 5000)
		return test_why("%s stopped: %lu then %lu, want them equal", name, a, b);
	/* Every read was an emulated (virtual-instruction) exit: 4 so far. */
	c = fw_read(illegal);
	if (c != 4)
		return test_why("ILLEGAL_INSN counted %lu emulated reads, want 4", c);
	EXPECT("stop with reset", stop_reset(idx), SBI_ERR_ALREADY_STOPPED);
	stop_reset(illegal);
	/* Unconfigured, the guest reads the hart's own counter again, directly. */
	a = read();
	b = read();
	if (b <= a)
		return test_why("%s after the reset: %lu then %lu", name, a, b);
	return NULL;
}

static unsigned long read_cycle(void)
{
	return csr_read(cycle);
}

static unsigned long read_instret(void)
{
	return csr_read(instret);
}

static const char *check_cycle(void)
{
	return check_fixed("cycle", SBI_PMU_EVENT_CYCLES, 0, read_cycle);
}

static const char *check_instret(void)
{
	return check_fixed("instret", SBI_PMU_EVENT_INSTRUCTIONS, 2, read_instret);
}

/* ---------------------------------------------------------------- event_get_info */

struct event_info {
	uint32_t event_idx;
	uint32_t output;
	uint64_t event_data;
};

static struct event_info infos[6] __attribute__((aligned(16)));

static const char *check_event_info(void)
{
	static const struct {
		uint32_t idx;
		uint64_t data;
		uint32_t want;
	} cases[] = {
	    {SBI_PMU_EVENT_CYCLES, 0, 1},
	    {SBI_PMU_EVENT_INSTRUCTIONS, 0, 1},
	    {SBI_PMU_EVENT_FW(SBI_PMU_FW_SET_TIMER), 0, 1},
	    {SBI_PMU_EVENT_FW(SBI_PMU_FW_SET_TIMER), 3, 0}, /* event_data must be 0 */
	    {SBI_PMU_EVENT_FW(SBI_PMU_FW_MISALIGNED_LOAD), 0, 0},
	    {0x10000, 0, 0},
	};
	struct sbiret ret;

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		infos[i] = (struct event_info){cases[i].idx, 0xdead, cases[i].data};
	ret = pmu(SBI_PMU_EVENT_GET_INFO, (unsigned long)infos, 0, ARRAY_SIZE(cases), 0, 0);
	if (ret.error)
		return test_why("event_get_info returned %ld", ret.error);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		if (infos[i].output != cases[i].want)
			return test_why("event 0x%x: output %u, want %u", cases[i].idx,
					infos[i].output, cases[i].want);
	EXPECT("event_get_info, misaligned",
	       pmu(SBI_PMU_EVENT_GET_INFO, (unsigned long)infos + 8, 0, 1, 0, 0),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("event_get_info, flags",
	       pmu(SBI_PMU_EVENT_GET_INFO, (unsigned long)infos, 0, 1, 1, 0),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("event_get_info, outside RAM", pmu(SBI_PMU_EVENT_GET_INFO, OUTSIDE_RAM, 0, 1, 0, 0),
	       SBI_ERR_INVALID_ADDRESS);
	infos[0].event_idx = 1u << 20;
	EXPECT("event_get_info, reserved bits",
	       pmu(SBI_PMU_EVENT_GET_INFO, (unsigned long)infos, 0, 1, 0, 0),
	       SBI_ERR_INVALID_PARAM);
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	(void)dtb;
	boot_hartid = hartid;
	if (!sbi_probe_extension(SBI_EXT_PMU)) {
		test_report("pmu", test_why("PMU is not offered"));
		return GUEST_STATUS_FAIL;
	}
	trap_set_hook(trap_hook);
	test_run("pmu.counters", check_counters);
	test_run("pmu.set-timer", check_set_timer);
	test_run("pmu.ipi-fence", check_ipis_and_fences);
	test_run("pmu.access-fault", check_access_fault);
	test_run("pmu.unsupported", check_unsupported_events);
	test_run("pmu.errors", check_errors);
	test_run("pmu.cycle", check_cycle);
	test_run("pmu.instret", check_instret);
	test_run("pmu.event-info", check_event_info);
	test_report("pmu", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
