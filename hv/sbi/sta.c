// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI STA (steal-time accounting, EID 0x535441, SBI v2.0): each vCPU may name
 * a 64-byte record in its RAM where Vireo reports how long the vCPU was
 * runnable but not running, in nanoseconds.
 *
 * What counts as stolen: the time from the moment a runnable vCPU leaves its
 * hart (another vCPU got the hart at the end of its slice, or the hart ran
 * something else first) or, while off the hart, is woken (its interrupt came
 * while it waited in wfi or HSM suspend), until it is loaded on a hart again.
 * A vCPU that waits (wfi, suspend, stopped) is idle, not robbed. Time Vireo
 * spends handling the vCPU's own exits is not counted: the vCPU stays loaded.
 *
 * The record (all little-endian): sequence (u32, offset 0), flags (u32, 4,
 * always 0), steal (u64, 8), preempted (u8, 16), zeros to 64. It is written
 * on the vCPU's own hart each time the vCPU goes onto it (sequence made odd,
 * steal and preempted = 0 written, sequence made even again) and when it is
 * taken off while runnable (preempted = 1: the "MAY" of the specification).
 * Steal counts from 0 each time the record is set, as the record is zeroed.
 * Nothing is written while the VM is not runnable (SUSP, stopped harts).
 *
 * The record must be 64-byte aligned and wholly in guest RAM; a hart reset
 * (HSM hart_start) turns reporting off, a non-retentive resume does not.
 */
#include <vireo/string.h>
#include <vireo/time.h>
#include <vireo/vm.h>
#include "sbi_ext.h"

#define SBI_STA_SET_SHMEM 0

#define STA_RECORD_SIZE	  64
#define STA_OFF_SEQUENCE  0
#define STA_OFF_STEAL	  8
#define STA_OFF_PREEMPTED 16
#define SBI_SHMEM_DISABLE (~0UL)

/* Sequence odd, the fields, sequence even; the fences order the stores for a reader
 * on another hart (the guest reads the record without taking any lock). */
static void write_record(struct sbi_sta_vcpu *s, bool preempted)
{
	uint32_t *sequence = (uint32_t *)(s->record + STA_OFF_SEQUENCE);
	uint64_t *steal = (uint64_t *)(s->record + STA_OFF_STEAL);
	uint8_t *flag = s->record + STA_OFF_PREEMPTED;

	__atomic_store_n(sequence, ++s->sequence, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(steal, s->steal_ns, __ATOMIC_RELAXED);
	__atomic_store_n(flag, preempted, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(sequence, ++s->sequence, __ATOMIC_RELAXED);
}

void sbi_sta_sched_in(struct vcpu *v, uint64_t now)
{
	struct sbi_sta_vcpu *s = &v->sbi.sta;

	if (s->ready) {
		s->ready = false;
		if (now > s->ready_since)
			s->steal_ns += time_ticks_to_ns(now - s->ready_since);
	}
	if (s->record)
		write_record(s, false);
}

void sbi_sta_sched_out(struct vcpu *v, uint64_t now, bool runnable)
{
	struct sbi_sta_vcpu *s = &v->sbi.sta;

	if (!runnable)
		return;
	s->ready = true;
	s->ready_since = now;
	if (s->record)
		write_record(s, true);
}

void sbi_sta_ready(struct vcpu *v, uint64_t now)
{
	struct sbi_sta_vcpu *s = &v->sbi.sta;

	if (s->ready)
		return;
	s->ready = true;
	s->ready_since = now;
}

void sbi_sta_reset(struct vcpu *v)
{
	v->sbi.sta = (struct sbi_sta_vcpu){0};
}

static void sta_set_shmem(struct sbi_call *call)
{
	struct sbi_sta_vcpu *s = &call->vcpu->sbi.sta;
	unsigned long lo = call->args[0], hi = call->args[1], flags = call->args[2];
	uint8_t *record;

	call->value = 0;
	if (flags != 0) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (lo == SBI_SHMEM_DISABLE && hi == SBI_SHMEM_DISABLE) {
		s->record = NULL;
		call->error = SBI_SUCCESS;
		return;
	}
	if (!IS_ALIGNED(lo, STA_RECORD_SIZE)) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	record = sbi_shmem(call->vcpu, lo, hi, STA_RECORD_SIZE);
	if (!record) {
		call->error = SBI_ERR_INVALID_ADDRESS;
		return;
	}
	memset(record, 0, STA_RECORD_SIZE);
	s->record = record;
	s->record_gpa = lo;
	s->sequence = 0;
	s->steal_ns = 0;
	call->error = SBI_SUCCESS;
}

static void sta_handler(struct sbi_call *call)
{
	if (call->fid == SBI_STA_SET_SHMEM)
		sta_set_shmem(call);
}

const struct sbi_ext sbi_ext_sta = {SBI_EXT_STA, SBI_EXT_STA, "sta", sta_handler};
