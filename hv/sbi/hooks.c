// SPDX-License-Identifier: BSD-2-Clause
/*
 * The points of a vCPU's life where the SBI extensions act without being
 * called: core calls these (vireo/sbi.h) and they hand each event to the
 * extensions that care. Where they are called from:
 *   sched_in/out  core/sched.c, when a vCPU's state is loaded on / saved from a hart
 *   ready         core/vcpu.c, when a vCPU off its hart is woken
 *   hart_reset    core/vcpu.c, HSM hart_start (START_PENDING -> STARTED)
 *   resumed       core/vcpu.c, a non-retentive resume (HSM suspend or SUSP)
 */
#include <vireo/vm.h>
#include "sbi_ext.h"

/* Runnable: it would run now if it had the hart (not waiting, stopped or ending). */
static bool runnable(const struct vcpu *v)
{
	return v->vm->state == VM_RUNNING && v->hsm == VCPU_STARTED && !v->waiting;
}

void sbi_vcpu_sched_in(struct vcpu *v)
{
	sbi_pmu_sched_in(v);
	sbi_sta_sched_in(v, vcpu_arch_host_time());
}

void sbi_vcpu_sched_out(struct vcpu *v)
{
	sbi_pmu_sched_out(v);
	sbi_sta_sched_out(v, vcpu_arch_host_time(), runnable(v));
}

void sbi_vcpu_ready(struct vcpu *v)
{
	sbi_sta_ready(v, vcpu_arch_host_time());
}

void sbi_vcpu_hart_reset(struct vcpu *v)
{
	sbi_sta_reset(v);
	sbi_pmu_reset(v);
	sbi_fwft_reset(v);
	sbi_sse_reset(v);
	sbi_dbtr_reset(v);
}

void sbi_vcpu_resumed(struct vcpu *v)
{
	sbi_fwft_resumed(v);
	sbi_pmu_resumed(v);
	sbi_susp_resumed(v);
}
