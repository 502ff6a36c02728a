// SPDX-License-Identifier: BSD-2-Clause
/* The vCPU timer, hardware (Sstc) or software; see vireo/vcpu_timer.h. */
#include <vireo/sched.h>
#include <vireo/vcpu.h>
#include <vireo/vcpu_timer.h>

void vcpu_timer_reset(struct vcpu *v, bool hw)
{
	v->timer = (struct vcpu_timer){.hw = hw, .deadline = UINT64_MAX};
}

void vcpu_timer_set(struct vcpu *v, uint64_t deadline)
{
	struct vcpu_timer *t = &v->timer;

	if (t->hw) {
		/* The hardware raises it; the host timer only matters once the vCPU
		 * waits in wfi, and the scheduler computes it then. */
		vcpu_arch_set_vstimecmp(&v->arch, deadline);
		return;
	}
	t->pending = deadline <= vcpu_arch_guest_time(&v->arch);
	t->deadline = t->pending ? UINT64_MAX : deadline;
	sched_timer_changed();
}

void vcpu_timer_expire(struct vcpu *v, uint64_t now)
{
	struct vcpu_timer *t = &v->timer;

	if (t->deadline != UINT64_MAX && vcpu_arch_host_deadline(&v->arch, t->deadline) <= now) {
		t->deadline = UINT64_MAX;
		t->pending = true;
	}
}

uint64_t vcpu_timer_next_event(struct vcpu *v, bool loaded)
{
	/* An Sstc deadline needs the host timer only to wake a vCPU from wfi: a running
	 * guest gets its timer from the hardware, and a runnable one gets it when its
	 * turn comes. (Counting those would storm: a guest with interrupts off keeps
	 * its past deadline pending.) */
	if (v->timer.hw)
		return v->waiting ? vcpu_arch_sstc_deadline(&v->arch, loaded) : UINT64_MAX;
	return vcpu_arch_host_deadline(&v->arch, v->timer.deadline);
}

bool vcpu_timer_line(const struct vcpu *v)
{
	return !v->timer.hw && v->timer.pending;
}

void vcpu_timer_apply(struct vcpu *v)
{
	struct vcpu_timer *t = &v->timer;

	if (t->hw || t->pending == t->applied)
		return;
	vcpu_arch_set_irq_line(&v->arch, VCPU_IRQ_TIMER, t->pending);
	t->applied = t->pending;
}
