// SPDX-License-Identifier: BSD-2-Clause
/* SBI TIME (set_timer): the deadline goes to the vCPU timer (vireo/vcpu_timer.h). */
#include <vireo/sbi.h>

static void time_handler(struct sbi_call *call)
{
	if (call->fid != 0)
		return;
	vcpu_timer_set(call->vcpu, call->args[0]);
	sbi_pmu_count(call->vcpu, SBI_PMU_FW_SET_TIMER);
	call->error = SBI_SUCCESS;
}

const struct sbi_ext sbi_ext_time = {SBI_EXT_TIME, SBI_EXT_TIME, "time", time_handler};
