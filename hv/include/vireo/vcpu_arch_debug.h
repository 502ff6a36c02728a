/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the debugger (core/vm_debug.c) needs from the hart
 * (arch/riscv/vcpu_debug.c): the guest's satp, holding its interrupts off
 * for one single step, and watching its satp writes (hstatus.VTVM) so that
 * a breakpoint at an address the guest has not mapped yet is planted as soon
 * as it is. `loaded`: the vCPU's CSRs are live on this hart (else its saved
 * copies are used). No CSR name leaves arch.
 */
#ifndef VIREO_VCPU_ARCH_DEBUG_H
#define VIREO_VCPU_ARCH_DEBUG_H

#include <vireo/types.h>
#include <vireo/vcpu_arch.h>

/* The guest's satp (VS-mode's: the hardware's vsatp). */
uint64_t vcpu_arch_guest_satp(const struct vcpu_arch *a, bool loaded);

/*
 * Hold the guest's interrupts off (its sie reads 0 to the hart) and return what
 * its sie was; unmask puts that back, unless the guest wrote a sie of its own
 * meanwhile (the stepped instruction was a write of sie), which then stays.
 */
unsigned long vcpu_arch_mask_irqs(struct vcpu_arch *a, bool loaded);
void vcpu_arch_unmask_irqs(struct vcpu_arch *a, bool loaded, unsigned long saved);

/* From the vCPU's next entry, its accesses to satp and its sfence.vma trap to Vireo as
 * virtual instructions (or not): vcpu_arch_emulate_vm_insn then carries them out. */
void vcpu_arch_trap_satp(struct vcpu_arch *a, bool on);

/*
 * Carry out, for the loaded vCPU, an instruction that trapped because of
 * vcpu_arch_trap_satp: a CSR instruction on satp, sfence.vma or sinval.vma
 * (in VS-mode). True if it was one of them (pc has moved past it; *satp_written
 * says whether satp may have changed), false for anything else (untouched).
 */
bool vcpu_arch_emulate_vm_insn(struct vcpu_arch *a, uint32_t insn, bool *satp_written);

#endif
