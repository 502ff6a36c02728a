// SPDX-License-Identifier: BSD-2-Clause
/* SBI IPI (send_ipi): a virtual supervisor software interrupt on each target. */
#include <vireo/sbi.h>
#include <vireo/vm.h>

static void post_ipi(struct vcpu *target, void *ctx)
{
	(void)ctx;
	vcpu_post_ipi(target);
}

static void ipi_handler(struct sbi_call *call)
{
	if (call->fid != 0)
		return;
	call->error =
	    sbi_for_each_hart(call->vcpu->vm, call->args[0], call->args[1], post_ipi, NULL);
}

const struct sbi_ext sbi_ext_ipi = {SBI_EXT_IPI, SBI_EXT_IPI, "ipi", ipi_handler};
