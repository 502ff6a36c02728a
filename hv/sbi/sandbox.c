// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Vireo sandbox extension (EID 0x0A49524F, in the SBI specification's
 * firmware-specific space: 0x0A000000 | the low 24 bits of Vireo's
 * implementation ID): how a sandbox's program talks to the host program
 * that drives it (vireo/ctl_sandbox.h, docs/sandbox.md). Only sandbox VMs
 * have it; elsewhere every call is SBI_ERR_NOT_SUPPORTED and probing it
 * answers 0. The work is core's (core/sandbox.c); this file decodes.
 */
#include <vireo/hart.h>
#include <vireo/sandbox.h>
#include <vireo/sbi.h>

static void sandbox_handler(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;

	if (!sandbox_sbi_available(v))
		return; /* SBI_ERR_NOT_SUPPORTED */
	call->value = 0;
	switch (call->fid) {
	case SBI_SANDBOX_READY:
		call->error = sandbox_ready(v, call->args[0], call->args[1], &call->action);
		break;
	case SBI_SANDBOX_RETURN:
		call->error = sandbox_return(v, call->args[0], &call->action);
		break;
	case SBI_SANDBOX_HOSTCALL:
		call->error = sandbox_hostcall(v, call->args[0], call->args[1], &call->args[2],
					       &call->action);
		break;
	case SBI_SANDBOX_WAITED:
		call->error = SBI_SUCCESS;
		call->value = hart_waited();
		break;
	default:
		break; /* SBI_ERR_NOT_SUPPORTED */
	}
}

const struct sbi_ext sbi_ext_sandbox = {SBI_EXT_VIREO_SANDBOX, SBI_EXT_VIREO_SANDBOX, "sandbox",
					sandbox_handler};
