// SPDX-License-Identifier: BSD-2-Clause
/*
 * Why did the guest leave? Dispatch on scause: ecalls to SBI, guest page
 * faults to the MMIO bus, virtual instructions (wfi) to the scheduler. What
 * Vireo cannot handle stops that VM, never the hypervisor.
 */
#include <vireo/insn.h>
#include <vireo/log.h>
#include <vireo/sbi.h>
#include <vireo/vcpu.h>
#include <vireo/vm.h>
#include "csr.h"

#define INSN_WFI 0x10500073u

const char *vcpu_exit_cause_name(unsigned long cause)
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

	if (cause < ARRAY_SIZE(names) && names[cause])
		return names[cause];
	return "unknown exception";
}

/* Short identifiers for statistics lines (no spaces). */
const char *vcpu_exit_cause_id(unsigned long cause)
{
	switch (cause) {
	case EXC_ECALL_VS:
		return "sbi";
	case EXC_LOAD_GUEST_PAGE_FAULT:
		return "mmio_load";
	case EXC_STORE_GUEST_PAGE_FAULT:
		return "mmio_store";
	case EXC_INST_GUEST_PAGE_FAULT:
		return "fetch_fault";
	case EXC_VIRTUAL_INSTRUCTION:
		return "virtual_insn";
	default:
		return "other";
	}
}

/* Stop the VM with a diagnostic naming everything needed to debug the guest. */
static enum vcpu_action vm_fault(struct vcpu *v, const char *what, unsigned long gpa)
{
	const struct vcpu_exit_info *e = &v->arch.exit;

	printk("vireo: VM '%s' vCPU %u: %s (%s, scause %lu) at sepc %#lx, stval %#lx, "
	       "GPA %#lx, htval %#lx, htinst %#lx; stopping the VM\n",
	       v->vm->name, v->id, what, vcpu_exit_cause_name(e->scause), e->scause,
	       v->arch.gprs.sepc, e->stval, gpa, e->htval, e->htinst);
	vcpu_dump(v);
	vm_stop(v->vm, VM_STATUS_FAULT, what);
	return VCPU_VM_ENDED;
}

static int decode_access(struct vcpu *v, struct insn_mmio *acc)
{
	uint32_t insn;

	if (insn_decode_htinst(v->arch.exit.htinst, acc) == 0)
		return 0;
	/* htinst is often 0 in QEMU: read the instruction the way the guest sees it. */
	if (vcpu_arch_fetch_insn(&v->arch, v->arch.gprs.sepc, &insn) != 0)
		return -VIREO_EFAULT;
	return insn_decode_mmio(insn, acc);
}

static enum vcpu_action handle_guest_page_fault(struct vcpu *v, bool is_store)
{
	const struct vcpu_exit_info *e = &v->arch.exit;
	unsigned long gpa = (e->htval << 2) | (e->stval & 3);
	struct insn_mmio acc;
	uint64_t value = 0;

	if (!mmio_bus_find(&v->vm->bus, gpa, 1))
		return vm_fault(v, "access to unmapped guest-physical address", gpa);
	if (decode_access(v, &acc) != 0 || acc.is_store != is_store)
		return vm_fault(v, "MMIO access by an instruction Vireo cannot decode", gpa);
	if (is_store) {
		value = acc.reg ? v->arch.gprs.x[acc.reg] : 0;
		if (mmio_bus_write(&v->vm->bus, gpa, acc.width, insn_load_extend(&acc, value)))
			return vm_fault(v, "MMIO store rejected by the device", gpa);
	} else {
		if (mmio_bus_read(&v->vm->bus, gpa, acc.width, &value))
			return vm_fault(v, "MMIO load rejected by the device", gpa);
		if (acc.reg)
			v->arch.gprs.x[acc.reg] = insn_load_extend(&acc, value);
	}
	v->arch.gprs.sepc += acc.length;
	return VCPU_CONTINUE;
}

static enum vcpu_action handle_virtual_insn(struct vcpu *v)
{
	uint32_t insn = (uint32_t)v->arch.exit.stval;

	if (insn == 0 && vcpu_arch_fetch_insn(&v->arch, v->arch.gprs.sepc, &insn) != 0)
		return vm_fault(v, "cannot read the trapping instruction", 0);
	if (insn == INSN_WFI) {
		v->arch.gprs.sepc += 4;
		v->waiting = true;
		return VCPU_BLOCK;
	}
	/* Anything else VS-mode may not do is, to the guest, an illegal instruction. */
	vcpu_arch_inject_exception(&v->arch, EXC_ILLEGAL_INSN, insn);
	return VCPU_CONTINUE;
}

enum vcpu_action vcpu_handle_exit(struct vcpu *v)
{
	unsigned long cause = v->arch.exit.scause;

	if (cause & CAUSE_INTERRUPT) {
		/* A host interrupt: the hart loop services it before re-entering. */
		v->irq_exits++;
		return VCPU_CONTINUE;
	}
	if (cause < VCPU_EXIT_CAUSES)
		v->exit_causes[cause]++;
	switch (cause) {
	case EXC_ECALL_VS:
		return sbi_handle_ecall(v);
	case EXC_LOAD_GUEST_PAGE_FAULT:
		return handle_guest_page_fault(v, false);
	case EXC_STORE_GUEST_PAGE_FAULT:
		return handle_guest_page_fault(v, true);
	case EXC_VIRTUAL_INSTRUCTION:
		return handle_virtual_insn(v);
	case EXC_INST_GUEST_PAGE_FAULT:
		return vm_fault(v, "instruction fetch from outside guest RAM",
				(v->arch.exit.htval << 2) | (v->arch.exit.stval & 3));
	default:
		return vm_fault(v, "unexpected exception from the guest", 0);
	}
}
