// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hart's side of the debugger (vireo/vcpu_arch_debug.h): satp, the
 * guest's interrupt enables during a single step, and hstatus.VTVM with the
 * emulation of what it traps (privileged spec, "Hypervisor Status Register":
 * with VTVM=1, VS-mode's satp accesses and sfence.vma/sinval.vma raise
 * virtual-instruction exceptions).
 */
#include <vireo/vcpu_arch_debug.h>
#include "csr.h"

#define OP_SYSTEM	0x73
#define CSR_SATP_NUM	0x180
#define FUNCT7_SFENCE	0x09
#define FUNCT7_SINVAL	0x0b
#define SATP_ASID_SHIFT 44
#define SATP_ASID_MASK	0xffffUL

uint64_t vcpu_arch_guest_satp(const struct vcpu_arch *a, bool loaded)
{
	return loaded ? csr_read(vsatp) : a->vs.vsatp;
}

unsigned long vcpu_arch_mask_irqs(struct vcpu_arch *a, bool loaded)
{
	unsigned long old;

	if (!loaded) {
		old = a->vs.vsie;
		a->vs.vsie = 0;
		return old;
	}
	old = csr_read(vsie);
	csr_write(vsie, 0);
	return old;
}

void vcpu_arch_unmask_irqs(struct vcpu_arch *a, bool loaded, unsigned long saved)
{
	if (!loaded) {
		if (!a->vs.vsie)
			a->vs.vsie = saved;
		return;
	}
	if (!csr_read(vsie))
		csr_write(vsie, saved);
}

void vcpu_arch_trap_satp(struct vcpu_arch *a, bool on)
{
	if (on)
		a->gprs.hstatus |= HSTATUS_VTVM;
	else
		a->gprs.hstatus &= ~HSTATUS_VTVM;
}

static unsigned long field(uint32_t insn, unsigned lo, unsigned count)
{
	return (insn >> lo) & ((1UL << count) - 1);
}

/* csrrw/csrrs/csrrc and their immediate forms on satp. */
static void emulate_csr(struct vcpu_arch *a, uint32_t insn, bool *written)
{
	unsigned funct3 = (unsigned)field(insn, 12, 3);
	unsigned rd = (unsigned)field(insn, 7, 5), rs1 = (unsigned)field(insn, 15, 5);
	unsigned long src = funct3 & 4 ? rs1 : vcpu_arch_get_reg(a, rs1);
	unsigned long old = csr_read(vsatp), value = old;

	switch (funct3 & 3) {
	case 1: /* csrrw: always writes */
		value = src;
		*written = true;
		break;
	case 2: /* csrrs: writes unless rs1/uimm is 0 */
		value = old | src;
		*written = rs1 != 0;
		break;
	default: /* csrrc */
		value = old & ~src;
		*written = rs1 != 0;
		break;
	}
	/* The hart keeps satp legal: a mode it lacks leaves the CSR as it was (WARL). */
	if (*written)
		csr_write(vsatp, value);
	vcpu_arch_set_reg(a, rd, old);
}

bool vcpu_arch_emulate_vm_insn(struct vcpu_arch *a, uint32_t insn, bool *satp_written)
{
	unsigned funct3 = (unsigned)field(insn, 12, 3);

	*satp_written = false;
	if ((insn & 0x7f) != OP_SYSTEM || !(a->gprs.hstatus & HSTATUS_SPVP))
		return false;
	if (funct3 == 0) {
		unsigned long funct7 = field(insn, 25, 7);

		if ((funct7 != FUNCT7_SFENCE && funct7 != FUNCT7_SINVAL) || field(insn, 7, 5))
			return false;
		/* hfence.vvma from HS acts on the VS-stage of the loaded guest's VMID, as the
		 * guest's own sfence.vma would (its ASID is masked to what satp holds). */
		unsigned long va = vcpu_arch_get_reg(a, (unsigned)field(insn, 15, 5));
		unsigned long asid = vcpu_arch_get_reg(a, (unsigned)field(insn, 20, 5));
		bool by_va = field(insn, 15, 5) != 0, by_asid = field(insn, 20, 5) != 0;

		if (by_va && by_asid)
			hfence_vvma_addr_asid(va, asid & SATP_ASID_MASK);
		else if (by_va)
			hfence_vvma_addr(va);
		else if (by_asid)
			hfence_vvma_asid(asid & SATP_ASID_MASK);
		else
			hfence_vvma_all();
	} else if (funct3 != 4 && field(insn, 20, 12) == CSR_SATP_NUM) {
		emulate_csr(a, insn, satp_written);
	} else {
		return false;
	}
	vcpu_arch_skip_insn(a, 4);
	return true;
}
