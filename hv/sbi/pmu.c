// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI PMU (performance monitoring unit, EID 0x504D55, SBI v3.0 functions).
 *
 * Counters, per vCPU (counter_idx: what counter_get_info says):
 *   0      hardware, the cycle CSR (0xc00), 64 bits: event CPU_CYCLES only
 *   2      hardware, the instret CSR (0xc02), 64 bits: event INSTRUCTIONS only
 *   1, 3-8 firmware counters (64 bits), for the firmware events below
 * (0 and 2 are where Linux expects the fixed counters; the gap is filled
 * with a firmware counter so that the indices are contiguous.)
 *
 * The hardware counters. The cycle and instret CSRs count for the whole hart
 * and only M-mode can stop, inhibit or write them (mcountinhibit, mcycle),
 * which OpenSBI v1.1 does not do for HS-mode. Vireo virtualises them
 * instead: while a guest has one configured (counter_config_matching until
 * a stop with RESET), its reads of that CSR trap (hcounteren bit clear, a
 * virtual-instruction exit) and Vireo answers with the counter's value:
 * started, it advances with the hart's own counter while the vCPU is loaded
 * on a hart, and only then -- time on other vCPUs is not counted, the
 * exits Vireo handles for it are; stopped, it holds still; start's initial
 * value sets it. A VU-mode read still needs the guest's scounteren bit, else
 * it is the illegal instruction it would be on hardware. While no counter is
 * configured the guest reads the hart's counter directly, as before (fast,
 * and not virtualised). The filter flags (SET_VUINH .. SET_MINH) are hints
 * the specification lets an implementation ignore: Vireo cannot filter by
 * privilege and ignores them. There is no overflow interrupt (no Sscofpmf).
 *
 * Firmware events Vireo counts (type 15 codes), per vCPU:
 *   ACCESS_LOAD/STORE (2, 3)   access faults Vireo injected (page-table walks
 *                              outside RAM, legacy hart-mask reads)
 *   ILLEGAL_INSN (4)           virtual-instruction exits Vireo handled
 *                              (emulated counter reads, reflected insns)
 *   SET_TIMER (5)              SBI set_timer calls, legacy included
 *   IPI_SENT/RECEIVED (6, 7)   one per target hart of send_ipi
 *   FENCE_I_*, SFENCE_VMA_*, SFENCE_VMA_ASID_* (8..13): one per target of a
 *                              remote fence (counted when it is asked for)
 * Not counted, so no counter matches them: MISALIGNED_LOAD/STORE (0, 1:
 * delegated to the guest, Vireo never sees them), the HFENCE events (14..21:
 * no nested virtualisation), implementation-specific and platform events.
 * event_data must be 0 for every event offered.
 *
 * Functions: num_counters, counter_get_info, counter_config_matching,
 * counter_start, counter_stop, counter_fw_read, counter_fw_read_hi (0 on
 * RV64, as the specification says), event_get_info (at most 65536 entries
 * a call: more is SBI_ERR_FAILED). snapshot_set_shmem is NOT_SUPPORTED (it
 * is optional); the snapshot flags of start and stop are therefore NO_SHMEM.
 *
 * A set of counters (base, mask) naming a counter that does not exist is
 * INVALID_PARAM, and so is starting a counter with no event configured.
 * counter_stop stops what is started and, with RESET, unconfigures every
 * counter of the set, started or not; it reports ALREADY_STOPPED when one
 * of them was not started. counter_config_matching picks the first counter
 * of the set that is free (not configured); SKIP_MATCH takes the first
 * counter of the set if it is not started and can count the event.
 */
#include <vireo/cpu.h>
#include <vireo/vcpu_arch_sbi.h>
#include <vireo/vm.h>
#include "sbi_ext.h"

enum {
	SBI_PMU_NUM_COUNTERS = 0,
	SBI_PMU_COUNTER_GET_INFO = 1,
	SBI_PMU_COUNTER_CFG_MATCH = 2,
	SBI_PMU_COUNTER_START = 3,
	SBI_PMU_COUNTER_STOP = 4,
	SBI_PMU_COUNTER_FW_READ = 5,
	SBI_PMU_COUNTER_FW_READ_HI = 6,
	SBI_PMU_SNAPSHOT_SET_SHMEM = 7,
	SBI_PMU_EVENT_GET_INFO = 8,
};

#define CFG_FLAG_SKIP_MATCH  BIT(0)
#define CFG_FLAG_CLEAR_VALUE BIT(1)
#define CFG_FLAG_AUTO_START  BIT(2)
#define CFG_FLAGS_VALID	     0xffUL /* bits 3..7: filter hints, ignored */

#define START_SET_INIT_VALUE	BIT(0)
#define START_INIT_SNAPSHOT	BIT(1)
#define STOP_FLAG_RESET		BIT(0)
#define STOP_FLAG_TAKE_SNAPSHOT BIT(1)

#define EVENT_TYPE(idx)	   ((idx) >> 16)
#define EVENT_CODE(idx)	   ((idx)&0xffff)
#define EVENT_IDX_BITS	   0xfffffUL
#define EVENT_TYPE_HW	   0x0
#define EVENT_TYPE_FW	   0xf
#define HW_CPU_CYCLES	   1
#define HW_INSTRUCTIONS	   2
#define EVENT_CYCLES	   ((EVENT_TYPE_HW << 16) | HW_CPU_CYCLES)
#define EVENT_INSTRUCTIONS ((EVENT_TYPE_HW << 16) | HW_INSTRUCTIONS)

#define CSR_CYCLE	 0xc00
#define COUNTER_WIDTH	 63UL /* one less than the bits: 64-bit counters */
#define INFO_WIDTH_SHIFT 12
#define INFO_TYPE_FW	 (1UL << 63)

/* The firmware events counted (see above). */
#define FW_EVENTS_COUNTED                                                                          \
	(BIT(SBI_PMU_FW_ACCESS_LOAD) | BIT(SBI_PMU_FW_ACCESS_STORE) |                              \
	 BIT(SBI_PMU_FW_ILLEGAL_INSN) | BIT(SBI_PMU_FW_SET_TIMER) | BIT(SBI_PMU_FW_IPI_SENT) |     \
	 BIT(SBI_PMU_FW_IPI_RECEIVED) | BIT(SBI_PMU_FW_FENCE_I_SENT) |                             \
	 BIT(SBI_PMU_FW_FENCE_I_RECEIVED) | BIT(SBI_PMU_FW_SFENCE_VMA_SENT) |                      \
	 BIT(SBI_PMU_FW_SFENCE_VMA_RECEIVED) | BIT(SBI_PMU_FW_SFENCE_VMA_ASID_SENT) |              \
	 BIT(SBI_PMU_FW_SFENCE_VMA_ASID_RECEIVED))

_Static_assert(SBI_PMU_FW_SFENCE_VMA_ASID_RECEIVED < SBI_PMU_FW_EVENTS, "PMU tally size");

static bool is_hw_counter(unsigned idx)
{
	return idx == VCPU_COUNTER_CYCLE || idx == VCPU_COUNTER_INSTRET;
}

static bool event_supported(unsigned long event_idx, uint64_t event_data)
{
	if (event_idx & ~EVENT_IDX_BITS || event_data != 0)
		return false;
	if (event_idx == EVENT_CYCLES)
		return cpu_features.pmu_cycle;
	if (event_idx == EVENT_INSTRUCTIONS)
		return cpu_features.pmu_instret;
	return EVENT_TYPE(event_idx) == EVENT_TYPE_FW && EVENT_CODE(event_idx) < 64 &&
	       (FW_EVENTS_COUNTED & BIT(EVENT_CODE(event_idx)));
}

static bool can_count(unsigned idx, unsigned long event_idx, uint64_t event_data)
{
	if (!event_supported(event_idx, event_data))
		return false;
	if (idx == VCPU_COUNTER_CYCLE)
		return event_idx == EVENT_CYCLES;
	if (idx == VCPU_COUNTER_INSTRET)
		return event_idx == EVENT_INSTRUCTIONS;
	return EVENT_TYPE(event_idx) == EVENT_TYPE_FW;
}

/* What the counter's source reads now: the hart's counter or the event tally. */
static uint64_t source(struct vcpu *v, unsigned idx)
{
	const struct sbi_pmu_counter *c = &v->sbi.pmu.ctr[idx];

	if (is_hw_counter(idx))
		return vcpu_arch_read_counter(idx);
	return __atomic_load_n(&v->sbi.pmu.fw_events[EVENT_CODE(c->event_idx)], __ATOMIC_RELAXED);
}

/* The counter's value now (for a hardware one: the vCPU is loaded on this hart). */
static uint64_t counter_value(struct vcpu *v, unsigned idx)
{
	const struct sbi_pmu_counter *c = &v->sbi.pmu.ctr[idx];

	return c->started ? c->value + (source(v, idx) - c->mark) : c->value;
}

static void counter_start(struct vcpu *v, unsigned idx)
{
	struct sbi_pmu_counter *c = &v->sbi.pmu.ctr[idx];

	c->mark = source(v, idx);
	c->started = true;
}

static void counter_stop(struct vcpu *v, unsigned idx)
{
	struct sbi_pmu_counter *c = &v->sbi.pmu.ctr[idx];

	c->value = counter_value(v, idx);
	c->started = false;
}

static void counter_configure(struct vcpu *v, unsigned idx, unsigned long event_idx)
{
	v->sbi.pmu.ctr[idx].event_idx = (uint32_t)event_idx;
	if (is_hw_counter(idx))
		vcpu_arch_counter_direct(&v->arch, idx, false, true);
}

static void counter_unconfigure(struct vcpu *v, unsigned idx)
{
	v->sbi.pmu.ctr[idx].event_idx = 0;
	if (is_hw_counter(idx))
		vcpu_arch_counter_direct(&v->arch, idx, true, true);
}

/* The counters of a set (base, mask) as a mask of indices; false if one does not exist. */
static bool counter_set(unsigned long base, unsigned long mask, unsigned long *set)
{
	*set = 0;
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(mask & BIT(bit)))
			continue;
		if (base + bit < base || base + bit >= SBI_PMU_COUNTERS)
			return false;
		*set |= BIT(base + bit);
	}
	return true;
}

static void pmu_get_info(struct sbi_call *call)
{
	unsigned long idx = call->args[0];

	if (idx >= SBI_PMU_COUNTERS) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	call->error = SBI_SUCCESS;
	if (is_hw_counter(idx))
		call->value = (COUNTER_WIDTH << INFO_WIDTH_SHIFT) | (CSR_CYCLE + idx);
	else
		call->value = INFO_TYPE_FW | (COUNTER_WIDTH << INFO_WIDTH_SHIFT);
}

static void pmu_config_matching(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;
	unsigned long flags = call->args[2], event_idx = call->args[3];
	uint64_t event_data = call->args[4];
	unsigned long set;
	int pick = -1;

	if ((flags & ~CFG_FLAGS_VALID) || !counter_set(call->args[0], call->args[1], &set)) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	for (unsigned idx = 0; idx < SBI_PMU_COUNTERS && pick < 0; idx++) {
		const struct sbi_pmu_counter *c = &v->sbi.pmu.ctr[idx];

		if (!(set & BIT(idx)))
			continue;
		if (flags & CFG_FLAG_SKIP_MATCH) {
			if (!c->started && can_count(idx, event_idx, event_data))
				pick = (int)idx;
			break; /* the first counter of the set, or none */
		}
		if (!c->started && !c->event_idx && can_count(idx, event_idx, event_data))
			pick = (int)idx;
	}
	if (pick < 0) {
		call->error = SBI_ERR_NOT_SUPPORTED;
		return;
	}
	counter_configure(v, (unsigned)pick, event_idx);
	if (flags & CFG_FLAG_CLEAR_VALUE)
		v->sbi.pmu.ctr[pick].value = 0;
	if (flags & CFG_FLAG_AUTO_START)
		counter_start(v, (unsigned)pick);
	call->error = SBI_SUCCESS;
	call->value = (unsigned long)pick;
}

static void pmu_start(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;
	unsigned long flags = call->args[2];
	uint64_t initial = call->args[3];
	unsigned long set;

	if ((flags & ~(START_SET_INIT_VALUE | START_INIT_SNAPSHOT)) ||
	    !counter_set(call->args[0], call->args[1], &set)) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	for (unsigned idx = 0; idx < SBI_PMU_COUNTERS; idx++)
		if ((set & BIT(idx)) && !v->sbi.pmu.ctr[idx].event_idx) {
			call->error = SBI_ERR_INVALID_PARAM; /* nothing to count */
			return;
		}
	if (flags & START_INIT_SNAPSHOT) {
		call->error = SBI_ERR_NO_SHMEM; /* no snapshot memory: not supported */
		return;
	}
	for (unsigned idx = 0; idx < SBI_PMU_COUNTERS; idx++)
		if ((set & BIT(idx)) && v->sbi.pmu.ctr[idx].started) {
			call->error = SBI_ERR_ALREADY_STARTED;
			return;
		}
	for (unsigned idx = 0; idx < SBI_PMU_COUNTERS; idx++) {
		if (!(set & BIT(idx)))
			continue;
		if (flags & START_SET_INIT_VALUE)
			v->sbi.pmu.ctr[idx].value = initial;
		counter_start(v, idx);
	}
	call->error = SBI_SUCCESS;
}

static void pmu_stop(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;
	unsigned long flags = call->args[2];
	unsigned long set;
	bool already = false;

	if ((flags & ~(STOP_FLAG_RESET | STOP_FLAG_TAKE_SNAPSHOT)) ||
	    !counter_set(call->args[0], call->args[1], &set)) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (flags & STOP_FLAG_TAKE_SNAPSHOT) {
		call->error = SBI_ERR_NO_SHMEM;
		return;
	}
	for (unsigned idx = 0; idx < SBI_PMU_COUNTERS; idx++) {
		if (!(set & BIT(idx)))
			continue;
		if (v->sbi.pmu.ctr[idx].started)
			counter_stop(v, idx);
		else
			already = true;
		if (flags & STOP_FLAG_RESET)
			counter_unconfigure(v, idx);
	}
	call->error = already ? SBI_ERR_ALREADY_STOPPED : SBI_SUCCESS;
}

static void pmu_fw_read(struct sbi_call *call, bool high)
{
	unsigned long idx = call->args[0];

	if (idx >= SBI_PMU_COUNTERS || is_hw_counter(idx)) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	call->error = SBI_SUCCESS;
	/* RV64: the whole value in fw_read; fw_read_hi always returns 0. */
	call->value = high ? 0 : counter_value(call->vcpu, idx);
}

/* Each entry: event_idx (u32), output (u32), event_data (u64); 16 bytes. */
struct event_info {
	uint32_t event_idx;
	uint32_t output;
	uint64_t event_data;
};

_Static_assert(sizeof(struct event_info) == 16, "event info entry");

/* Vireo's limit on the buffer: 1 MiB, 65536 entries, far more than the events that exist.
 * Beyond it the call is SBI_ERR_FAILED, as the specification lets an implementation say
 * of a shared memory range that is outside its own limits; without a limit, one call
 * could keep the hart busy for seconds, walking a buffer as big as the VM's RAM. */
#define EVENT_INFO_MAX_ENTRIES 65536UL

/* The entries are copied in and the outputs out one by one (the guest's buffer may span
 * two host runs of its RAM, and the guest may change it meanwhile). */
static void pmu_event_get_info(struct sbi_call *call)
{
	const struct guest_mem *mem = &call->vcpu->vm->mem;
	unsigned long lo = call->args[0], hi = call->args[1], n = call->args[2];
	unsigned long flags = call->args[3];
	struct event_info e;

	if (flags != 0 || !IS_ALIGNED(lo, sizeof(e))) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	call->error = SBI_SUCCESS;
	if (n == 0)
		return;
	if (n > UINT64_MAX / sizeof(e) || !sbi_shmem_ok(call->vcpu, lo, hi, n * sizeof(e))) {
		call->error = SBI_ERR_INVALID_ADDRESS;
		return;
	}
	if (n > EVENT_INFO_MAX_ENTRIES) {
		call->error = SBI_ERR_FAILED;
		return;
	}
	/* Check every entry first: a reserved bit anywhere writes nothing. */
	for (unsigned long i = 0; i < n; i++) {
		guest_mem_read(mem, lo + i * sizeof(e), &e, sizeof(e));
		if (e.event_idx & ~EVENT_IDX_BITS) {
			call->error = SBI_ERR_INVALID_PARAM;
			return;
		}
	}
	for (unsigned long i = 0; i < n; i++) {
		uint32_t output;

		guest_mem_read(mem, lo + i * sizeof(e), &e, sizeof(e));
		e.event_idx &= EVENT_IDX_BITS;
		/* event_data describes raw (2, 3) and firmware (15) events; the others have none.
		 */
		if (EVENT_TYPE(e.event_idx) != 0x2 && EVENT_TYPE(e.event_idx) != 0x3 &&
		    EVENT_TYPE(e.event_idx) != EVENT_TYPE_FW)
			e.event_data = 0;
		output = event_supported(e.event_idx, e.event_data) ? 1 : 0;
		guest_mem_write(mem, lo + i * sizeof(e) + offsetof(struct event_info, output),
				&output, sizeof(output));
	}
}

bool sbi_pmu_emulate_counter_read(struct vcpu *v, uint32_t insn, bool from_user)
{
	unsigned opcode = insn & 0x7f, rd = (insn >> 7) & 0x1f, funct3 = (insn >> 12) & 7;
	unsigned rs1 = (insn >> 15) & 0x1f, csr = insn >> 20;
	unsigned idx = csr - CSR_CYCLE;

	/* Reads only: csrrs/csrrc with rs1 = x0, csrrsi/csrrci with uimm = 0. A write to
	 * a read-only counter stays the illegal instruction it is. */
	if (opcode != 0x73 || rs1 != 0 ||
	    (funct3 != 2 && funct3 != 3 && funct3 != 6 && funct3 != 7))
		return false;
	if (csr < CSR_CYCLE || !is_hw_counter(idx) || !v->sbi.pmu.ctr[idx].event_idx)
		return false;
	if (from_user && !vcpu_arch_user_counter_allowed(&v->arch, idx))
		return false;
	vcpu_arch_set_reg(&v->arch, rd, counter_value(v, idx));
	vcpu_arch_skip_insn(&v->arch, 4);
	return true;
}

/* A started hardware counter counts while its vCPU is on a hart: fold in what the hart
 * counted when the vCPU leaves, start afresh from the new hart's counter when it comes. */
void sbi_pmu_sched_out(struct vcpu *v)
{
	for (unsigned idx = 0; idx < SBI_PMU_COUNTERS; idx++) {
		struct sbi_pmu_counter *c = &v->sbi.pmu.ctr[idx];
		if (is_hw_counter(idx) && c->started)
			c->value += vcpu_arch_read_counter(idx) - c->mark;
	}
}

void sbi_pmu_sched_in(struct vcpu *v)
{
	for (unsigned idx = 0; idx < SBI_PMU_COUNTERS; idx++) {
		struct sbi_pmu_counter *c = &v->sbi.pmu.ctr[idx];
		if (is_hw_counter(idx) && c->started)
			c->mark = vcpu_arch_read_counter(idx);
	}
}

void sbi_pmu_reset(struct vcpu *v)
{
	/* The hart reset gave the guest direct counter access back (vcpu_arch_reset); the
	 * event tallies are the vCPU's history and stay. */
	for (unsigned idx = 0; idx < SBI_PMU_COUNTERS; idx++)
		v->sbi.pmu.ctr[idx] = (struct sbi_pmu_counter){0};
}

void sbi_pmu_resumed(struct vcpu *v)
{
	/* The resume reset hcounteren: configured hardware counters trap again. */
	for (unsigned idx = 0; idx < SBI_PMU_COUNTERS; idx++)
		if (is_hw_counter(idx) && v->sbi.pmu.ctr[idx].event_idx)
			vcpu_arch_counter_direct(&v->arch, idx, false, vcpu_is_loaded(v));
}

static void pmu_handler(struct sbi_call *call)
{
	switch (call->fid) {
	case SBI_PMU_NUM_COUNTERS:
		call->error = SBI_SUCCESS;
		call->value = SBI_PMU_COUNTERS;
		break;
	case SBI_PMU_COUNTER_GET_INFO:
		pmu_get_info(call);
		break;
	case SBI_PMU_COUNTER_CFG_MATCH:
		pmu_config_matching(call);
		break;
	case SBI_PMU_COUNTER_START:
		pmu_start(call);
		break;
	case SBI_PMU_COUNTER_STOP:
		pmu_stop(call);
		break;
	case SBI_PMU_COUNTER_FW_READ:
		pmu_fw_read(call, false);
		break;
	case SBI_PMU_COUNTER_FW_READ_HI:
		pmu_fw_read(call, true);
		break;
	case SBI_PMU_EVENT_GET_INFO:
		pmu_event_get_info(call);
		break;
	case SBI_PMU_SNAPSHOT_SET_SHMEM: /* optional: not offered */
	default:
		break;
	}
}

const struct sbi_ext sbi_ext_pmu = {SBI_EXT_PMU, SBI_EXT_PMU, "pmu", pmu_handler};
