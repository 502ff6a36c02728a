// SPDX-License-Identifier: BSD-2-Clause
/* SBI IPI (send_ipi): a virtual supervisor software interrupt on each target. */
#include <vireo/sbi.h>
#include <vireo/vm.h>

void sbi_ipi_post(struct vcpu *from, struct vcpu *target)
{
	sbi_pmu_count(from, SBI_PMU_FW_IPI_SENT);
	sbi_pmu_count(target, SBI_PMU_FW_IPI_RECEIVED);
	vcpu_post_ipi(target);
}

static void post_ipi(struct vcpu *target, void *ctx)
{
	sbi_ipi_post(ctx, target);
}

static void ipi_handler(struct sbi_call *call)
{
	if (call->fid != 0)
		return;
	call->error =
	    sbi_for_each_hart(call->vcpu->vm, call->args[0], call->args[1], post_ipi, call->vcpu);
}

const struct sbi_ext sbi_ext_ipi = {SBI_EXT_IPI, SBI_EXT_IPI, "ipi", ipi_handler};
