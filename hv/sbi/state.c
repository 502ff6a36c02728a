// SPDX-License-Identifier: BSD-2-Clause
/*
 * The SBI extensions' state in a snapshot (vireo/sbi.h, vireo/vm_snapshot.h):
 * steal-time records (by guest-physical address, found again in the new VM's
 * RAM), PMU counters, firmware features, software events, debug-trigger and
 * suspend flags. Loading checks what could point outside the guest (the
 * record, an event's runner) and refuses a state where it would.
 */
#include <vireo/snap_io.h>
#include <vireo/string.h>
#include <vireo/vm.h>

#include "sbi_ext.h"

#define SSE_STATE_RUNNING 3
#define STA_RECORD_BYTES  64
#define NO_RUNNER	  UINT32_MAX

static void event_save(const struct sbi_sse_event *e, struct snap_writer *w)
{
	snap_put_u8(w, e->state);
	snap_put_u8(w, e->pending);
	snap_put_u32(w, e->priority);
	snap_put_u64(w, e->config);
	snap_put_u64(w, e->preferred_hart);
	snap_put_u64(w, e->entry_pc);
	snap_put_u64(w, e->entry_arg);
	snap_put_u64(w, e->interrupted_sepc);
	snap_put_u64(w, e->interrupted_flags);
	snap_put_u64(w, e->interrupted_a6);
	snap_put_u64(w, e->interrupted_a7);
	snap_put_u32(w, e->runner ? e->runner->id : NO_RUNNER);
}

/* runner: the vCPU running a global event's handler (NULL for a local event's own). */
static void event_load(struct vm *vm, struct sbi_sse_event *e, bool global, struct snap_reader *r)
{
	uint32_t runner;

	e->state = snap_get_u8(r);
	e->pending = snap_get_bool(r);
	e->priority = snap_get_u32(r);
	e->config = snap_get_u64(r);
	e->preferred_hart = snap_get_u64(r);
	e->entry_pc = snap_get_u64(r);
	e->entry_arg = snap_get_u64(r);
	e->interrupted_sepc = snap_get_u64(r);
	e->interrupted_flags = snap_get_u64(r);
	e->interrupted_a6 = snap_get_u64(r);
	e->interrupted_a7 = snap_get_u64(r);
	runner = snap_get_u32(r);
	e->runner = NULL;
	if (e->state > SSE_STATE_RUNNING)
		r->failed = true;
	if (global && e->state == SSE_STATE_RUNNING) {
		if (runner >= vm->nvcpus)
			r->failed = true;
		else
			e->runner = vm->vcpus[runner];
	}
	if (r->failed)
		memset(e, 0, sizeof(*e));
}

void sbi_vcpu_save(struct vcpu *v, struct snap_writer *w)
{
	const struct sbi_vcpu_state *s = &v->sbi;

	snap_put_u64(w, s->sta.record ? s->sta.record_gpa : UINT64_MAX);
	snap_put_u32(w, s->sta.sequence);
	snap_put_u64(w, s->sta.steal_ns);
	for (unsigned i = 0; i < SBI_PMU_COUNTERS; i++) {
		snap_put_u32(w, s->pmu.ctr[i].event_idx);
		snap_put_u8(w, s->pmu.ctr[i].started);
		snap_put_u64(w, s->pmu.ctr[i].value);
		snap_put_u64(w, s->pmu.ctr[i].mark);
	}
	for (unsigned i = 0; i < SBI_PMU_FW_EVENTS; i++)
		snap_put_u64(w, __atomic_load_n(&s->pmu.fw_events[i], __ATOMIC_RELAXED));
	for (unsigned i = 0; i < SBI_FWFT_LOCAL_FEATURES; i++)
		snap_put_u64(w, s->fwft.value[i]);
	snap_put_u32(w, s->fwft.locked);
	event_save(&s->sse.local, w);
	snap_put_u8(w, s->sse.unmasked);
	snap_put_u8(w, s->dbtr.shmem);
	snap_put_u8(w, s->system_suspended);
}

/* The vCPU's RAM is in place (a restored VM's filled, a fork's shared). */
int sbi_vcpu_load(struct vcpu *v, struct snap_reader *r)
{
	struct sbi_vcpu_state *s = &v->sbi;
	uint64_t record = snap_get_u64(r);

	memset(s, 0, sizeof(*s));
	s->sta.sequence = snap_get_u32(r);
	s->sta.steal_ns = snap_get_u64(r);
	if (record != UINT64_MAX) {
		/* The record lives in the guest's RAM: it must be there in this VM too. */
		s->sta.record = IS_ALIGNED(record, STA_RECORD_BYTES)
				    ? sbi_shmem(v, (unsigned long)record, 0, STA_RECORD_BYTES)
				    : NULL;
		s->sta.record_gpa = record;
		if (!s->sta.record)
			r->failed = true;
	}
	for (unsigned i = 0; i < SBI_PMU_COUNTERS; i++) {
		s->pmu.ctr[i].event_idx = snap_get_u32(r);
		s->pmu.ctr[i].started = snap_get_bool(r);
		s->pmu.ctr[i].value = snap_get_u64(r);
		s->pmu.ctr[i].mark = snap_get_u64(r);
	}
	for (unsigned i = 0; i < SBI_PMU_FW_EVENTS; i++)
		s->pmu.fw_events[i] = snap_get_u64(r);
	for (unsigned i = 0; i < SBI_FWFT_LOCAL_FEATURES; i++)
		s->fwft.value[i] = snap_get_u64(r);
	s->fwft.locked = snap_get_u32(r);
	event_load(v->vm, &s->sse.local, false, r);
	s->sse.unmasked = snap_get_bool(r);
	s->dbtr.shmem = snap_get_bool(r);
	s->system_suspended = snap_get_bool(r);
	if (r->failed) {
		memset(s, 0, sizeof(*s));
		return -VIREO_EINVAL;
	}
	/* What the state configures in the hart (its registers are loaded already). */
	sbi_fwft_resumed(v);
	sbi_pmu_resumed(v);
	return 0;
}

void sbi_vm_save(struct vm *vm, struct snap_writer *w)
{
	spin_lock(&vm->sbi.sse_lock);
	event_save(&vm->sbi.sse_global, w);
	spin_unlock(&vm->sbi.sse_lock);
}

int sbi_vm_load(struct vm *vm, struct snap_reader *r)
{
	spin_lock(&vm->sbi.sse_lock);
	event_load(vm, &vm->sbi.sse_global, true, r);
	spin_unlock(&vm->sbi.sse_lock);
	return r->failed ? -VIREO_EINVAL : 0;
}
