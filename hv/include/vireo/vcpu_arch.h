/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The architectural state of one vCPU and the world switch. arch/riscv owns
 * this layout (its offsets are generated for assembly by asm_offsets.c);
 * core embeds it in struct vcpu and never names a CSR.
 */
#ifndef VIREO_VCPU_ARCH_H
#define VIREO_VCPU_ARCH_H

#include <vireo/types.h>

/* Guest registers the world switch saves and restores on every exit. */
struct vcpu_gprs {
	unsigned long x[32]; /* x[0] is never used */
	unsigned long sepc;
	unsigned long sstatus; /* HS sstatus while the guest runs (SPP, FS, ...) */
	unsigned long hstatus;
};

/* The host's callee-saved state while a guest runs on this hart. */
struct vcpu_host_save {
	unsigned long ra, sp, gp, tp;
	unsigned long s[12];
	unsigned long sstatus, hstatus, stvec, sscratch;
};

/* Why the guest left, read by the exit vector. */
struct vcpu_exit_info {
	unsigned long scause;
	unsigned long stval;
	unsigned long htval;
	unsigned long htinst;
};

/* VS-level CSRs, saved when another vCPU takes the hart. */
struct vcpu_vs_csrs {
	unsigned long vsstatus, vsie, vstvec, vsscratch, vsepc, vscause, vstval, vsatp;
	unsigned long vstimecmp;
	unsigned long hvip;
};

struct vcpu_fp_state {
	uint64_t f[32];
	uint32_t fcsr;
	bool valid; /* f[] holds the guest's registers (saved at least once) */
};

/* Per-vCPU configuration of the H extension. */
struct vcpu_hcfg {
	unsigned long hedeleg, hideleg, hcounteren, henvcfg;
	unsigned long hgatp;
	int64_t htimedelta;
};

struct vcpu_arch {
	struct vcpu_gprs gprs; /* must stay first: the exit vector indexes from here */
	struct vcpu_host_save host;
	struct vcpu_exit_info exit;
	struct vcpu_vs_csrs vs;
	struct vcpu_hcfg hcfg;
	struct vcpu_fp_state fp;
	/* Interrupts to inject, as hvip bits, posted by any hart (atomic OR/AND). */
	unsigned long pending_irqs;
};

/* Register numbers in gprs.x[] used by SBI and the exit path. */
enum { REG_RA = 1, REG_SP = 2, REG_A0 = 10, REG_A1 = 11, REG_A6 = 16, REG_A7 = 17 };

/* Reset to the boot state: VS-mode, a0 = hartid, a1 = dtb, pc = entry. */
void vcpu_arch_reset(struct vcpu_arch *a, unsigned long entry, unsigned long a0, unsigned long a1,
		     unsigned long hgatp, bool sstc);
/* Make this vCPU's VS CSRs, FP registers and H config live on this hart. */
void vcpu_arch_load(struct vcpu_arch *a);
/* Save them back before another vCPU takes the hart. */
void vcpu_arch_put(struct vcpu_arch *a);
/* Enter the guest; returns on the next exit with a->exit filled in. */
void vcpu_arch_run(struct vcpu_arch *a);
/* Apply a->pending_irqs to hvip (on the hart the vCPU is loaded on). */
void vcpu_arch_sync_irqs(struct vcpu_arch *a);
/* Post / withdraw an interrupt for a vCPU from any hart (hvip bit numbers). */
void vcpu_arch_post_irq(struct vcpu_arch *a, unsigned irq);
void vcpu_arch_clear_irq(struct vcpu_arch *a, unsigned irq);

/* Inject a synchronous exception into the guest's own trap handler. */
void vcpu_arch_inject_exception(struct vcpu_arch *a, unsigned long cause, unsigned long tval);

/* Guest time (time CSR + htimedelta) and the guest's view of its timer. */
uint64_t vcpu_arch_guest_time(const struct vcpu_arch *a);

/* Read guest memory through the guest's own translation (hlv/hlvx), as the guest
 * would at the given privilege; returns 0 or -VIREO_EFAULT. */
int vcpu_arch_fetch_insn(struct vcpu_arch *a, unsigned long guest_va, uint32_t *insn);

/* Print the GPRs and trap CSRs of the vCPU. */
void vcpu_arch_dump(const struct vcpu_arch *a);

#endif
