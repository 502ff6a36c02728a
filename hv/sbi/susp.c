// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI SUSP (system suspend, EID 0x53555350, SBI v2.0): a guest puts its own
 * VM to sleep. The "system" is the VM; other VMs go on.
 *
 * Only SUSPEND_TO_RAM (0) exists: reserved types (1..0x7fffffff) and
 * platform-specific ones (0x80000000..), of which Vireo implements none, are
 * INVALID_PARAM. The checks, in the order OpenSBI makes them: the type, then
 * the resume address (it must be guest RAM: INVALID_ADDRESS), then the entry
 * criterion that every other vCPU of the VM is STOPPED (DENIED).
 *
 * A successful call does not return. The calling vCPU sleeps like a
 * non-retentive HSM suspend: it is off the run queue until an interrupt that
 * it had enabled in its sie is pending (a timer deadline, its UART, a virtio
 * device through the virtual PLIC), then it resumes at resume_addr in
 * VS-mode with a0 = hart id, a1 = opaque, satp = 0 and sstatus.SIE = 0 (the
 * other registers are reset). STA stops writing while it sleeps (it is not
 * runnable), FWFT values and PMU configurations are kept; the devices are
 * not suspended (a virtio request in flight still completes). While asleep
 * HSM reports the hart SUSPENDED; after the wake-up it is STARTED.
 */
#include <vireo/log.h>
#include <vireo/vm.h>
#include "sbi_ext.h"

#define SBI_SUSP_SYSTEM_SUSPEND 0
#define SBI_SUSP_TO_RAM		0

static bool others_stopped(struct vcpu *self)
{
	struct vm *vm = self->vm;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (v != self && __atomic_load_n(&v->hsm, __ATOMIC_ACQUIRE) != VCPU_STOPPED)
			return false;
	}
	return true;
}

static void system_suspend(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;
	uint32_t type = (uint32_t)call->args[0]; /* uint32_t in the specification */
	unsigned long resume_addr = call->args[1];

	if (type != SBI_SUSP_TO_RAM) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (!vm_gpa_to_hva(v->vm, resume_addr, 4)) {
		call->error = SBI_ERR_INVALID_ADDRESS;
		return;
	}
	/* Only this vCPU can start the others, and it is busy here: no race. */
	if (!others_stopped(v)) {
		call->error = SBI_ERR_DENIED;
		return;
	}
	spin_lock(&v->lock);
	v->hsm = VCPU_SUSPENDED;
	v->waiting = true;
	v->resume_nonretentive = true;
	v->start_addr = resume_addr;
	v->start_opaque = call->args[2];
	v->sbi.system_suspended = true;
	spin_unlock(&v->lock);
	log_info("VM '%s': suspended to RAM by vCPU %u (an interrupt it enabled wakes it)",
		 v->vm->name, v->id);
	call->error = SBI_SUCCESS;
	call->no_return = true;
	call->action = VCPU_BLOCK;
}

void sbi_susp_resumed(struct vcpu *v)
{
	if (!v->sbi.system_suspended)
		return;
	v->sbi.system_suspended = false;
	log_info("VM '%s': resumed from suspend to RAM", v->vm->name);
}

static void susp_handler(struct sbi_call *call)
{
	if (call->fid == SBI_SUSP_SYSTEM_SUSPEND)
		system_suspend(call);
}

const struct sbi_ext sbi_ext_susp = {SBI_EXT_SUSP, SBI_EXT_SUSP, "susp", susp_handler};
