// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI RFENCE. A remote sfence.vma of a guest becomes an hfence.vvma of the
 * whole VMID on each target vCPU before it next runs (flushing more than
 * asked is allowed). Targets that are inside the guest right now are kicked
 * out and waited for, so the fence is done when the call returns. The
 * HFENCE functions are for nested hypervisors, which Vireo does not offer.
 */
#include <vireo/hart.h>
#include <vireo/sbi.h>
#include <vireo/sched.h>
#include <vireo/time.h>
#include <vireo/vm.h>

#define RFENCE_PAUSE_US 5 /* how long a waiting hart sleeps before it looks again */

#define SBI_RFENCE_FENCE_I	   0
#define SBI_RFENCE_SFENCE_VMA	   1
#define SBI_RFENCE_SFENCE_VMA_ASID 2

void sbi_rfence_request(struct vcpu *target, bool fence_i)
{
	vcpu_make_request(target, fence_i ? VCPU_REQ_FENCE_I : VCPU_REQ_HFENCE_VVMA);
}

static void request_fence_i(struct vcpu *target, void *ctx)
{
	(void)ctx;
	sbi_rfence_request(target, true);
}

static void request_vvma(struct vcpu *target, void *ctx)
{
	(void)ctx;
	sbi_rfence_request(target, false);
}

static void wait_done(struct vcpu *target, void *ctx)
{
	struct vcpu *self = ctx;

	if (target == self)
		return;
	/* It applies the fence on its way back into the guest; once out, it is safe. The
	 * kick is on its way: pause rather than spin, so an emulator that runs one hart
	 * at a time gets to run the target. */
	while (__atomic_load_n(&target->in_guest, __ATOMIC_ACQUIRE) &&
	       (vcpu_pending_requests(target) & VCPU_REQ_FENCES)) {
		hart_pause(time_us_to_ticks(RFENCE_PAUSE_US));
		/* The pause borrowed the host timer: the scheduler sets it again. */
		sched_timer_changed();
	}
}

static void rfence_handler(struct sbi_call *call)
{
	struct vm *vm = call->vcpu->vm;
	unsigned long mask = call->args[0], base = call->args[1];

	switch (call->fid) {
	case SBI_RFENCE_FENCE_I:
		call->error = sbi_for_each_hart(vm, mask, base, request_fence_i, NULL);
		break;
	case SBI_RFENCE_SFENCE_VMA:
	case SBI_RFENCE_SFENCE_VMA_ASID:
		call->error = sbi_for_each_hart(vm, mask, base, request_vvma, NULL);
		break;
	default:
		return; /* the HFENCE functions and beyond: not supported */
	}
	if (call->error == SBI_SUCCESS)
		sbi_for_each_hart(vm, mask, base, wait_done, call->vcpu);
}

const struct sbi_ext sbi_ext_rfence = {SBI_EXT_RFENCE, SBI_EXT_RFENCE, "rfence", rfence_handler};
