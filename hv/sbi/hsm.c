// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI HSM: the guest starts, stops and suspends its own vCPUs. The state
 * machine and the errors follow the SBI v2.0 specification (and OpenSBI's
 * reading of it: a start while a hart is between states is INVALID_PARAM).
 */
#include <vireo/sbi.h>
#include <vireo/vm.h>

#define SBI_HSM_HART_START	0
#define SBI_HSM_HART_STOP	1
#define SBI_HSM_HART_GET_STATUS 2
#define SBI_HSM_HART_SUSPEND	3

#define SUSPEND_RETENTIVE	 0x00000000UL
#define SUSPEND_NON_RETENTIVE	 0x80000000UL
#define SUSPEND_PLATFORM_RET_MIN 0x10000000UL
#define SUSPEND_PLATFORM_RET_MAX 0x7fffffffUL
#define SUSPEND_PLATFORM_NR_MIN	 0x90000000UL
#define SUSPEND_PLATFORM_NR_MAX	 0xffffffffUL

/* A start address must be guest RAM the vCPU can execute from. */
static bool valid_entry(struct vm *vm, unsigned long addr)
{
	return vm_gpa_to_hva(vm, addr, 4) != NULL;
}

static void hsm_start(struct sbi_call *call)
{
	struct vm *vm = call->vcpu->vm;
	unsigned long hartid = call->args[0];
	struct vcpu *target = vm_vcpu(vm, hartid);

	if (!target) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (!valid_entry(vm, call->args[1])) {
		call->error = SBI_ERR_INVALID_ADDRESS;
		return;
	}
	spin_lock(&target->lock);
	if (target->hsm == VCPU_STOPPED) {
		target->start_addr = call->args[1];
		target->start_opaque = call->args[2];
		target->hsm = VCPU_START_PENDING;
		call->error = SBI_SUCCESS;
	} else if (target->hsm == VCPU_STARTED) {
		call->error = SBI_ERR_ALREADY_AVAILABLE;
	} else {
		call->error = SBI_ERR_INVALID_PARAM;
	}
	spin_unlock(&target->lock);
	if (call->error == SBI_SUCCESS)
		vcpu_kick(target);
}

static void hsm_stop(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;

	spin_lock(&v->lock);
	v->hsm = VCPU_STOPPED;
	spin_unlock(&v->lock);
	/* A successful hart_stop does not return to the guest. */
	call->no_return = true;
	call->action = VCPU_STOPPED_NOW;
}

static void hsm_get_status(struct sbi_call *call)
{
	struct vcpu *target = vm_vcpu(call->vcpu->vm, call->args[0]);

	if (!target) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	call->error = SBI_SUCCESS;
	call->value = __atomic_load_n(&target->hsm, __ATOMIC_ACQUIRE);
}

static bool suspend_type_reserved(unsigned long type)
{
	return (type > SUSPEND_RETENTIVE && type < SUSPEND_PLATFORM_RET_MIN) ||
	       (type > SUSPEND_NON_RETENTIVE && type < SUSPEND_PLATFORM_NR_MIN);
}

static void hsm_suspend(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;
	unsigned long type = (uint32_t)call->args[0]; /* uint32_t in the specification */

	if (suspend_type_reserved(type)) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (type != SUSPEND_RETENTIVE && type != SUSPEND_NON_RETENTIVE) {
		/* Platform-specific states: none here. SBI v2.0: "platform-specific and
		 * unimplemented" is INVALID_PARAM, like a reserved type. */
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (type == SUSPEND_NON_RETENTIVE && !valid_entry(v->vm, call->args[1])) {
		call->error = SBI_ERR_INVALID_ADDRESS;
		return;
	}
	spin_lock(&v->lock);
	v->hsm = VCPU_SUSPENDED;
	v->waiting = true;
	if (type == SUSPEND_NON_RETENTIVE) {
		v->resume_nonretentive = true;
		v->start_addr = call->args[1];
		v->start_opaque = call->args[2];
	}
	spin_unlock(&v->lock);
	/* Retentive: resumes after the ecall with success, like wfi. */
	call->error = SBI_SUCCESS;
	call->action = VCPU_BLOCK;
}

static void hsm_handler(struct sbi_call *call)
{
	switch (call->fid) {
	case SBI_HSM_HART_START:
		hsm_start(call);
		break;
	case SBI_HSM_HART_STOP:
		hsm_stop(call);
		break;
	case SBI_HSM_HART_GET_STATUS:
		hsm_get_status(call);
		break;
	case SBI_HSM_HART_SUSPEND:
		hsm_suspend(call);
		break;
	default:
		break;
	}
}

const struct sbi_ext sbi_ext_hsm = {SBI_EXT_HSM, SBI_EXT_HSM, "hsm", hsm_handler};
