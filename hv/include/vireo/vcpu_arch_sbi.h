/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the SBI extensions beyond v2.0 need from the hart (arch/riscv/vcpu_sbi.c):
 * the hart's counters and the guest's access to them (PMU), henvcfg features
 * (FWFT), entering and leaving a software-event handler (SSE), and reading
 * guest memory on the guest's behalf with the fault it would take (legacy
 * calls). Functions that take a vcpu_arch act on the vCPU loaded on this
 * hart unless they have a `loaded` argument. No CSR name leaves arch.
 */
#ifndef VIREO_VCPU_ARCH_SBI_H
#define VIREO_VCPU_ARCH_SBI_H

#include <vireo/types.h>
#include <vireo/vcpu_arch.h>

/* ---- PMU: the fixed counters, numbered as the SBI PMU numbers them (CSR - cycle). */
#define VCPU_COUNTER_CYCLE   0
#define VCPU_COUNTER_INSTRET 2

/* This hart's free-running counter (cycle or instret), as HS-mode reads it. */
uint64_t vcpu_arch_read_counter(unsigned counter);
/* Direct: the guest reads the hart's counter itself (hcounteren bit set). Not direct: its
 * reads trap as virtual instructions, for Vireo to emulate. `loaded`: also change the
 * hart's live hcounteren. */
void vcpu_arch_counter_direct(struct vcpu_arch *a, unsigned counter, bool direct, bool loaded);
/* The guest's own scounteren lets its user mode (VU) read this counter. */
bool vcpu_arch_user_counter_allowed(struct vcpu_arch *a, unsigned counter);

/* ---- FWFT: henvcfg features for the guest. `loaded`: also change the live henvcfg. */
/* Hardware updating of A/D bits in the guest's own page tables (Svadu, henvcfg.ADUE). */
void vcpu_arch_set_pte_ad_hw(struct vcpu_arch *a, bool on, bool loaded);
/* Pointer masking for the guest's VS-mode with PMLEN 0, 7 or 16 (Ssnpm, henvcfg.PMM). */
void vcpu_arch_set_pointer_masking(struct vcpu_arch *a, unsigned pmlen, bool loaded);

/* ---- SSE: the interrupted-state flags of the SBI specification (INTERRUPTED_FLAGS). */
#define VCPU_SSE_FLAG_SPP  BIT(0) /* interrupted sstatus.SPP */
#define VCPU_SSE_FLAG_SPIE BIT(1) /* interrupted sstatus.SPIE */

/* Redirect the loaded guest into a software-event handler at entry_pc, in VS-mode with
 * interrupts off: its sepc becomes the interrupted pc, its sstatus.SPP the interrupted
 * privilege, SPIE its SIE. The sepc and flags it had come back in *sepc and *flags.
 * (a6/a7 are the caller's: plain registers.) */
void vcpu_arch_sse_enter(struct vcpu_arch *a, unsigned long entry_pc, unsigned long *flags,
			 unsigned long *sepc);
/* The handler is done: resume at the guest's sepc in the privilege its sstatus.SPP names,
 * SIE = SPIE, then put back SPIE and SPP from `flags` and sepc from `sepc`. */
void vcpu_arch_sse_resume(struct vcpu_arch *a, unsigned long flags, unsigned long sepc);

/* ---- Guest memory read on the guest's behalf. */
enum vcpu_guest_fault {
	VCPU_GUEST_OK = 0,
	VCPU_GUEST_PAGE_FAULT,	 /* the guest's own translation refused: a load page fault */
	VCPU_GUEST_ACCESS_FAULT, /* no memory there: a load access fault */
};
/* Read len bytes at a guest virtual address through the guest's translation, at the
 * privilege it trapped from; on a fault, *fault_va is the address that faulted. */
enum vcpu_guest_fault vcpu_arch_read_guest(struct vcpu_arch *a, unsigned long va, void *buf,
					   size_t len, unsigned long *fault_va);

/* ---- Interrupt lines: is this VS interrupt line (VCPU_IRQ_*) of the loaded vCPU up? */
bool vcpu_arch_irq_line(struct vcpu_arch *a, unsigned irq);

#endif
