// SPDX-License-Identifier: BSD-2-Clause
/*
 * Classifying an exit: read what the trap CSRs say (saved by the exit vector
 * in a->exit), decode the instruction where it matters, and describe it in a
 * struct vcpu_exit. What to do about it is core's business (core/exit.c);
 * nothing here knows what a VM is made of.
 *
 * QEMU 7.2 leaves htinst 0 on many guest-page faults and stval stale after
 * hlv/hsv traps, so the trapping instruction is read from guest memory at
 * sepc (hlvx) whenever htinst does not describe it.
 */
#include <vireo/cpu.h>
#include <vireo/insn.h>
#include <vireo/printf.h>
#include <vireo/vcpu_arch.h>
#include <vireo/vcpu_exit.h>
#include "csr.h"

#define INSN_WFI 0x10500073u

const char *vcpu_arch_cause_name(unsigned long cause)
{
	static const char *const names[] = {
	    [EXC_INST_MISALIGNED] = "instruction address misaligned",
	    [EXC_INST_ACCESS] = "instruction access fault",
	    [EXC_ILLEGAL_INSN] = "illegal instruction",
	    [EXC_BREAKPOINT] = "breakpoint",
	    [EXC_LOAD_MISALIGNED] = "load address misaligned",
	    [EXC_LOAD_ACCESS] = "load access fault",
	    [EXC_STORE_MISALIGNED] = "store address misaligned",
	    [EXC_STORE_ACCESS] = "store access fault",
	    [EXC_ECALL_U] = "ecall from U/VU-mode",
	    [EXC_ECALL_HS] = "ecall from HS-mode",
	    [EXC_ECALL_VS] = "ecall from VS-mode",
	    [EXC_INST_PAGE_FAULT] = "instruction page fault",
	    [EXC_LOAD_PAGE_FAULT] = "load page fault",
	    [EXC_STORE_PAGE_FAULT] = "store page fault",
	    [EXC_INST_GUEST_PAGE_FAULT] = "instruction guest-page fault",
	    [EXC_LOAD_GUEST_PAGE_FAULT] = "load guest-page fault",
	    [EXC_VIRTUAL_INSTRUCTION] = "virtual instruction",
	    [EXC_STORE_GUEST_PAGE_FAULT] = "store guest-page fault",
	};

	if (cause & CAUSE_INTERRUPT)
		return "interrupt";
	if (cause < ARRAY_SIZE(names) && names[cause])
		return names[cause];
	return "unknown exception";
}

void vcpu_arch_describe_exit(const struct vcpu_arch *a, char *buf, size_t size)
{
	const struct vcpu_exit_info *e = &a->exit;

	vireo_snprintf(
	    buf, size,
	    "%s, scause %lu) at sepc %#lx, stval %#lx, GPA %#lx, htval %#lx, htinst %#lx",
	    vcpu_arch_cause_name(e->scause), e->scause, a->gprs.sepc, e->stval,
	    (e->htval << 2) | (e->stval & 3), e->htval, e->htinst);
}

/* The guest was in VU-mode: on an exit to HS, hstatus.SPVP holds the guest's privilege. */
static bool from_user(const struct vcpu_arch *a)
{
	return !(a->gprs.hstatus & HSTATUS_SPVP);
}

/* Privileged spec, "Trap value registers": the faulting GPA is htval << 2 | stval[1:0]. */
static uint64_t fault_gpa(const struct vcpu_arch *a)
{
	return (a->exit.htval << 2) | (a->exit.stval & 3);
}

/* The access of a load/store guest-page fault, from htinst or from guest memory. */
static bool decode_access(struct vcpu_arch *a, struct insn_mmio *acc)
{
	uint32_t insn;

	if (insn_decode_htinst(a->exit.htinst, acc) == 0)
		return true;
	if (vcpu_arch_fetch_insn(a, a->gprs.sepc, &insn) != 0)
		return false;
	return insn_decode_mmio(insn, acc) == 0;
}

/*
 * The original access a page-table walk served. The spec gives it as the cause,
 * but QEMU 7.2 reports a load guest-page fault whatever the walk was for: the
 * instruction at sepc says what it really was (it is read, never emulated), and
 * when that instruction cannot be read at the very address that faulted, the
 * walk was for fetching it.
 */
static void walk_access_type(struct vcpu_arch *a, struct vcpu_exit *e)
{
	uint32_t insn;

	if (vcpu_arch_fetch_insn(a, a->gprs.sepc, &insn) != 0) {
		if (e->gva == a->gprs.sepc)
			e->access_type = VCPU_ACCESS_FETCH;
		return;
	}
	switch (insn_access_kind(insn)) {
	case 0:
		e->access_type = VCPU_ACCESS_LOAD;
		break;
	case 1:
		e->access_type = VCPU_ACCESS_STORE;
		break;
	default:
		break;
	}
}

static void classify_guest_page_fault(struct vcpu_arch *a, struct vcpu_exit *e, bool is_store)
{
	unsigned long htinst = a->exit.htinst;

	e->gpa = fault_gpa(a);
	e->gva = a->exit.stval;
	e->access_type = is_store ? VCPU_ACCESS_STORE : VCPU_ACCESS_LOAD;
	/* Pseudo-instructions: the fault is the guest's own page-table walk (an implicit
	 * access), not the instruction at sepc, which must never be emulated as it. */
	if (htinst == INSN_HTINST_PT_WALK_READ || htinst == INSN_HTINST_PT_WALK_WRITE) {
		e->kind = VCPU_EXIT_PT_WALK;
		walk_access_type(a, e);
		return;
	}
	e->kind = VCPU_EXIT_GUEST_ACCESS;
	e->is_store = is_store;
	e->decoded = decode_access(a, &e->access) && e->access.is_store == is_store;
}

static void classify_fetch_fault(struct vcpu_arch *a, struct vcpu_exit *e)
{
	unsigned long htinst = a->exit.htinst;

	e->gpa = fault_gpa(a);
	e->gva = a->exit.stval;
	e->access_type = VCPU_ACCESS_FETCH;
	e->kind = htinst == INSN_HTINST_PT_WALK_READ || htinst == INSN_HTINST_PT_WALK_WRITE
		      ? VCPU_EXIT_PT_WALK
		      : VCPU_EXIT_FETCH;
}

/* stval is not proof of the instruction on QEMU 7.2 (stale after hlv/hsv): read it at sepc. */
static void classify_virtual_insn(struct vcpu_arch *a, struct vcpu_exit *e)
{
	if (vcpu_arch_fetch_insn(a, a->gprs.sepc, &e->insn) != 0) {
		e->kind = VCPU_EXIT_UNREADABLE;
		return;
	}
	if (e->insn == INSN_WFI) {
		e->kind = VCPU_EXIT_WFI;
	} else if (insn_decode_csr(e->insn, &e->csr) == 0) {
		e->kind = VCPU_EXIT_CSR;
		e->csr_select = cpu_features.ssaia ? csr_read_num(CSR_VSISELECT) : 0;
	} else {
		e->kind = VCPU_EXIT_ILLEGAL;
	}
}

_Static_assert(VCPU_ARCH_CAUSE_ECALL_VS == EXC_ECALL_VS, "the fast path's ecall cause");
_Static_assert(VCPU_ARCH_CAUSE_HOST_IPI == (CAUSE_INTERRUPT | IRQ_S_SOFT), "the fast path's IPI");

void vcpu_arch_classify_slow(struct vcpu_arch *a, struct vcpu_exit *e)
{
	unsigned long cause = a->exit.scause;

	/* Only the fields of the kind found are set: core reads no others. */
	e->cause = cause;
	e->from_user = from_user(a);
	if (cause & CAUSE_INTERRUPT) {
		e->kind = VCPU_EXIT_INTERRUPT;
		return;
	}
	switch (cause) {
	case EXC_ECALL_VS:
		e->kind = VCPU_EXIT_ECALL;
		break;
	case EXC_LOAD_GUEST_PAGE_FAULT:
		classify_guest_page_fault(a, e, false);
		break;
	case EXC_STORE_GUEST_PAGE_FAULT:
		classify_guest_page_fault(a, e, true);
		break;
	case EXC_INST_GUEST_PAGE_FAULT:
		classify_fetch_fault(a, e);
		break;
	case EXC_VIRTUAL_INSTRUCTION:
		classify_virtual_insn(a, e);
		break;
	/* These two reach Vireo only while the host catches them (vcpu_arch_set_catch). */
	case EXC_BREAKPOINT:
		e->kind = VCPU_EXIT_BREAKPOINT;
		break;
	case EXC_ILLEGAL_INSN:
		e->kind = VCPU_EXIT_ILLEGAL;
		e->insn = (uint32_t)a->exit.stval; /* the spec's stval: the instruction, or 0 */
		break;
	default:
		e->kind = VCPU_EXIT_UNKNOWN;
		break;
	}
}
