// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI v0.1 legacy calls (EIDs 0x00-0x08). They return only a0, and the IPI
 * and fence calls take a *pointer* (a guest virtual address) to the hart
 * mask. Deprecated, but old kernels and tiny guests still use them.
 *
 * As the specification says (v3.0, "Legacy Extensions"), a fault Vireo takes
 * reading the hart mask on the guest's behalf goes back to the guest, with
 * sepc at the ecall: a load page fault if the guest's page tables refuse the
 * address, a load access fault if there is no RAM behind it. clear_ipi
 * returns 1 if an IPI was pending, else 0.
 */
#include <vireo/sbi.h>
#include <vireo/vcpu_arch_sbi.h>
#include <vireo/vm.h>

#define LEGACY_SET_TIMER	      0x00
#define LEGACY_CONSOLE_PUTCHAR	      0x01
#define LEGACY_CONSOLE_GETCHAR	      0x02
#define LEGACY_CLEAR_IPI	      0x03
#define LEGACY_SEND_IPI		      0x04
#define LEGACY_REMOTE_FENCE_I	      0x05
#define LEGACY_REMOTE_SFENCE_VMA      0x06
#define LEGACY_REMOTE_SFENCE_VMA_ASID 0x07
#define LEGACY_SHUTDOWN		      0x08

enum legacy_op { OP_IPI, OP_FENCE_I, OP_VVMA, OP_VVMA_ASID };

struct op_ctx {
	struct vcpu *from;
	enum legacy_op op;
};

static void apply_op(struct vcpu *target, void *ctx)
{
	struct op_ctx *c = ctx;

	switch (c->op) {
	case OP_IPI:
		sbi_ipi_post(c->from, target);
		break;
	case OP_FENCE_I:
		sbi_rfence_request(c->from, target, SBI_FENCE_I);
		break;
	case OP_VVMA:
		sbi_rfence_request(c->from, target, SBI_FENCE_SFENCE_VMA);
		break;
	default:
		sbi_rfence_request(c->from, target, SBI_FENCE_SFENCE_VMA_ASID);
		break;
	}
}

/* The guest takes the fault Vireo took reading for it; the ecall does not return. */
static void redirect_fault(struct sbi_call *call, enum vcpu_guest_fault fault, unsigned long va)
{
	struct vcpu *v = call->vcpu;

	if (fault == VCPU_GUEST_PAGE_FAULT) {
		vcpu_arch_inject_exception(&v->arch, VCPU_EXC_LOAD_PAGE_FAULT, va);
	} else {
		vcpu_arch_inject_exception(&v->arch, VCPU_EXC_LOAD_ACCESS, va);
		sbi_pmu_count(v, SBI_PMU_FW_ACCESS_LOAD);
	}
	call->no_return = true;
}

/* A NULL mask pointer means every hart. */
static void to_harts(struct sbi_call *call, enum legacy_op op)
{
	struct vcpu *v = call->vcpu;
	struct op_ctx ctx = {v, op};
	enum vcpu_guest_fault fault;
	unsigned long fault_va = 0;
	uint64_t mask;

	if (call->args[0] == 0) {
		call->error = sbi_for_each_hart(v->vm, 0, (unsigned long)-1, apply_op, &ctx);
		return;
	}
	fault = vcpu_arch_read_guest(&v->arch, call->args[0], &mask, sizeof(mask), &fault_va);
	if (fault != VCPU_GUEST_OK) {
		redirect_fault(call, fault, fault_va);
		return;
	}
	call->error = sbi_for_each_hart(v->vm, mask, 0, apply_op, &ctx);
}

/* Take down the guest's software interrupt, posted or raised; 1 if there was one. */
static long clear_ipi(struct vcpu *v)
{
	bool pending = vcpu_arch_irq_line(&v->arch, VCPU_IRQ_SOFT);

	if (__atomic_fetch_and(&v->requests, ~VCPU_REQ_IPI, __ATOMIC_SEQ_CST) & VCPU_REQ_IPI)
		pending = true;
	vcpu_arch_set_irq_line(&v->arch, VCPU_IRQ_SOFT, false);
	return pending ? 1 : 0;
}

static void legacy_handler(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;

	call->legacy = true;
	call->error = SBI_SUCCESS;
	switch (call->eid) {
	case LEGACY_SET_TIMER:
		vcpu_timer_set(v, call->args[0]);
		sbi_pmu_count(v, SBI_PMU_FW_SET_TIMER);
		break;
	case LEGACY_CONSOLE_PUTCHAR:
		vm_console_putc(&v->vm->console, (uint8_t)call->args[0]);
		break;
	case LEGACY_CONSOLE_GETCHAR:
		call->error = sbi_console_getchar(v->vm);
		break;
	case LEGACY_CLEAR_IPI:
		call->error = clear_ipi(v);
		break;
	case LEGACY_SEND_IPI:
		to_harts(call, OP_IPI);
		break;
	case LEGACY_REMOTE_FENCE_I:
		to_harts(call, OP_FENCE_I);
		break;
	case LEGACY_REMOTE_SFENCE_VMA:
		to_harts(call, OP_VVMA);
		break;
	case LEGACY_REMOTE_SFENCE_VMA_ASID:
		to_harts(call, OP_VVMA_ASID);
		break;
	case LEGACY_SHUTDOWN:
		sbi_srst_reset(call, 0, 0);
		break;
	default:
		call->error = SBI_ERR_NOT_SUPPORTED;
		break;
	}
}

const struct sbi_ext sbi_ext_legacy = {SBI_EXT_LEGACY_MIN, SBI_EXT_LEGACY_MAX, "legacy",
				       legacy_handler};
