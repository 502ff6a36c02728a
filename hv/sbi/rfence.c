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

/* The PMU firmware events (sent, received) of each kind of fence. */
static const enum sbi_pmu_fw_event fence_events[][2] = {
    [SBI_FENCE_I] = {SBI_PMU_FW_FENCE_I_SENT, SBI_PMU_FW_FENCE_I_RECEIVED},
    [SBI_FENCE_SFENCE_VMA] = {SBI_PMU_FW_SFENCE_VMA_SENT, SBI_PMU_FW_SFENCE_VMA_RECEIVED},
    [SBI_FENCE_SFENCE_VMA_ASID] = {SBI_PMU_FW_SFENCE_VMA_ASID_SENT,
				   SBI_PMU_FW_SFENCE_VMA_ASID_RECEIVED},
};

void sbi_rfence_request(struct vcpu *from, struct vcpu *target, enum sbi_fence fence)
{
	sbi_pmu_count(from, fence_events[fence][0]);
	sbi_pmu_count(target, fence_events[fence][1]);
	vcpu_make_request(target, fence == SBI_FENCE_I ? VCPU_REQ_FENCE_I : VCPU_REQ_HFENCE_VVMA);
}

struct fence_ctx {
	struct vcpu *from;
	enum sbi_fence fence;
};

static void request_fence(struct vcpu *target, void *ctx)
{
	struct fence_ctx *f = ctx;

	sbi_rfence_request(f->from, target, f->fence);
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
	struct fence_ctx ctx = {.from = call->vcpu};

	switch (call->fid) {
	case SBI_RFENCE_FENCE_I:
		ctx.fence = SBI_FENCE_I;
		break;
	case SBI_RFENCE_SFENCE_VMA:
		ctx.fence = SBI_FENCE_SFENCE_VMA;
		break;
	case SBI_RFENCE_SFENCE_VMA_ASID:
		ctx.fence = SBI_FENCE_SFENCE_VMA_ASID;
		break;
	default:
		return; /* the HFENCE functions and beyond: not supported */
	}
	call->error = sbi_for_each_hart(vm, mask, base, request_fence, &ctx);
	if (call->error == SBI_SUCCESS)
		sbi_for_each_hart(vm, mask, base, wait_done, call->vcpu);
}

const struct sbi_ext sbi_ext_rfence = {SBI_EXT_RFENCE, SBI_EXT_RFENCE, "rfence", rfence_handler};
