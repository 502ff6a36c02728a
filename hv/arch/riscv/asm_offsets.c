// SPDX-License-Identifier: BSD-2-Clause
/*
 * Struct offsets for the assembly files, generated from the C definitions so
 * that they cannot drift apart. The Makefile compiles this to assembly and
 * turns every "@@OFFSET NAME value" marker into a #define in asm_offsets.h.
 */
#include <vireo/hart.h>
#include <vireo/trap.h>
#include <vireo/vcpu_arch.h>
#include "csr.h"

#define DEFINE(sym, val)	  __asm__ volatile("\n@@OFFSET " #sym " %0" ::"i"(val))
#define OFFSET(sym, type, member) DEFINE(sym, offsetof(type, member))

void asm_offsets(void);
void asm_offsets(void)
{
	DEFINE(HART_STACK_SIZE_ASM, HART_STACK_SIZE);
	DEFINE(VCPU_ARCH_CAUSE_ECALL_VS_ASM, VCPU_ARCH_CAUSE_ECALL_VS);
	DEFINE(VCPU_ARCH_CAUSE_LOAD_GPF_ASM, EXC_LOAD_GUEST_PAGE_FAULT);
	DEFINE(VCPU_ARCH_CAUSE_STORE_GPF_ASM, EXC_STORE_GUEST_PAGE_FAULT);
	DEFINE(VCPU_ARCH_CAUSE_HOST_IPI_ASM, VCPU_ARCH_CAUSE_HOST_IPI);
	OFFSET(HART_STACK_TOP, struct hart, stack_top);

	DEFINE(TRAP_FRAME_SIZE, sizeof(struct trap_frame));
	OFFSET(TRAP_FRAME_SEPC, struct trap_frame, sepc);
	OFFSET(TRAP_FRAME_SSTATUS, struct trap_frame, sstatus);
	OFFSET(TRAP_FRAME_SCAUSE, struct trap_frame, scause);
	OFFSET(TRAP_FRAME_STVAL, struct trap_frame, stval);

	OFFSET(VCPU_GPRS_X, struct vcpu_arch, gprs.x);
	OFFSET(VCPU_GPRS_SEPC, struct vcpu_arch, gprs.sepc);
	OFFSET(VCPU_GPRS_SSTATUS, struct vcpu_arch, gprs.sstatus);
	OFFSET(VCPU_GPRS_HSTATUS, struct vcpu_arch, gprs.hstatus);

	OFFSET(VCPU_HOST_RA, struct vcpu_arch, host.ra);
	OFFSET(VCPU_HOST_SP, struct vcpu_arch, host.sp);
	OFFSET(VCPU_HOST_GP, struct vcpu_arch, host.gp);
	OFFSET(VCPU_HOST_TP, struct vcpu_arch, host.tp);
	OFFSET(VCPU_HOST_S, struct vcpu_arch, host.s);
	OFFSET(VCPU_HOST_SSTATUS, struct vcpu_arch, host.sstatus);
	OFFSET(VCPU_HOST_HSTATUS, struct vcpu_arch, host.hstatus);
	OFFSET(VCPU_HOST_STVEC, struct vcpu_arch, host.stvec);
	OFFSET(VCPU_HOST_SSCRATCH, struct vcpu_arch, host.sscratch);

	OFFSET(VCPU_EXIT_SCAUSE, struct vcpu_arch, exit.scause);
	OFFSET(VCPU_EXIT_STVAL, struct vcpu_arch, exit.stval);
	OFFSET(VCPU_EXIT_HTVAL, struct vcpu_arch, exit.htval);
	OFFSET(VCPU_EXIT_HTINST, struct vcpu_arch, exit.htinst);

	OFFSET(VCPU_FP_F, struct vcpu_arch, fp.f);
	OFFSET(VCPU_FP_FCSR, struct vcpu_arch, fp.fcsr);

	OFFSET(VCPU_V_VSTART, struct vcpu_arch, vec.vstart);
	OFFSET(VCPU_V_VL, struct vcpu_arch, vec.vl);
	OFFSET(VCPU_V_VTYPE, struct vcpu_arch, vec.vtype);
	OFFSET(VCPU_V_VCSR, struct vcpu_arch, vec.vcsr);
	OFFSET(VCPU_V_REGS, struct vcpu_arch, vec.regs);
}
