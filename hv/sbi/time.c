// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI TIME (set_timer). The deadline is absolute, in guest time (= host
 * time: htimedelta is 0). With Sstc it goes straight into vstimecmp; without,
 * the hart's scheduler multiplexes it onto the host timer and raises VSTIP.
 * Either way a new deadline withdraws a pending timer interrupt.
 */
#include <vireo/cpu.h>
#include <vireo/sbi.h>
#include <vireo/sched.h>

void sbi_time_set_timer(struct vcpu *v, uint64_t deadline)
{
	if (cpu_features.sstc) {
		vcpu_arch_set_vstimecmp(&v->arch, deadline);
	} else {
		v->timer_pending = false;
		v->timer_deadline = deadline;
		if (deadline <= vcpu_arch_guest_time(&v->arch)) {
			v->timer_pending = true;
			v->timer_deadline = UINT64_MAX;
		}
	}
	sched_timer_changed();
}

static void time_handler(struct sbi_call *call)
{
	if (call->fid != 0)
		return;
	sbi_time_set_timer(call->vcpu, call->args[0]);
	call->error = SBI_SUCCESS;
}

const struct sbi_ext sbi_ext_time = {SBI_EXT_TIME, SBI_EXT_TIME, "time", time_handler};
