/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The architectural state of one vCPU and the world switch. arch/riscv owns
 * this layout (its offsets are generated for assembly by asm_offsets.c);
 * core embeds it in struct vcpu and never names a CSR.
 */
#ifndef VIREO_VCPU_ARCH_H
#define VIREO_VCPU_ARCH_H

#include <vireo/types.h>
#include <vireo/vcpu_exit.h>

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

/* VS-level CSRs, saved when another vCPU takes the hart. The H extension does not bank
 * scounteren, senvcfg or sstateen0: VS-mode writes the real ones, so they are kept per
 * vCPU like the vs* CSRs (else one guest's settings leak into another's). */
struct vcpu_vs_csrs {
	unsigned long vsstatus, vsie, vstvec, vsscratch, vsepc, vscause, vstval, vsatp;
	unsigned long vstimecmp;
	unsigned long hvip;
	unsigned long scounteren, senvcfg, sstateen0;
	unsigned long vsiselect; /* Ssaia: the guest's siselect (one CSR per hart) */
	unsigned long hvictl;	 /* Ssaia: how its external interrupt line shows in vstopi */
};

struct vcpu_fp_state {
	uint64_t f[32];
	uint32_t fcsr;
	bool valid; /* f[] holds the guest's registers (saved at least once) */
};

/* V state, saved lazily like FP (only when the guest dirtied it). */
struct vcpu_vector_state {
	unsigned long vstart, vl, vtype, vcsr;
	uint8_t *regs; /* v0..v31: 32 * vlenb bytes, from vcpu_arch_init; NULL without V */
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
	struct vcpu_vector_state vec;
};

/* VS interrupt numbers, as hvip bit positions. */
enum { VCPU_IRQ_SOFT = 2, VCPU_IRQ_TIMER = 6, VCPU_IRQ_EXT = 10 };

/* Register numbers (x0..x31) used by SBI and the exit path. */
enum { REG_RA = 1, REG_SP = 2, REG_A0 = 10, REG_A1 = 11, REG_A6 = 16, REG_A7 = 17 };

/* Exceptions core may hand to the guest's own trap handler. */
enum vcpu_exception {
	VCPU_EXC_ILLEGAL_INSN,
	VCPU_EXC_FETCH_ACCESS,
	VCPU_EXC_LOAD_ACCESS,
	VCPU_EXC_STORE_ACCESS,
	VCPU_EXC_LOAD_PAGE_FAULT, /* a legacy SBI call's hart mask the guest cannot read */
	VCPU_EXC_BREAKPOINT,
};

/* The guest's integer registers; x0 reads 0 and ignores writes. */
static inline unsigned long vcpu_arch_get_reg(const struct vcpu_arch *a, unsigned reg)
{
	return reg && reg < 32 ? a->gprs.x[reg] : 0;
}

static inline void vcpu_arch_set_reg(struct vcpu_arch *a, unsigned reg, unsigned long value)
{
	if (reg && reg < 32)
		a->gprs.x[reg] = value;
}

/* Where the guest resumes; skipping moves past the trapping instruction. */
static inline unsigned long vcpu_arch_pc(const struct vcpu_arch *a)
{
	return a->gprs.sepc;
}

static inline void vcpu_arch_skip_insn(struct vcpu_arch *a, unsigned length)
{
	a->gprs.sepc += length;
}

static inline void vcpu_arch_set_pc(struct vcpu_arch *a, unsigned long pc)
{
	a->gprs.sepc = pc;
}

/* The exits that are not the two hot ones (below). */
void vcpu_arch_classify_slow(struct vcpu_arch *a, struct vcpu_exit *e);

#define VCPU_ARCH_CAUSE_ECALL_VS 10		 /* scause of an ecall from VS-mode */
#define VCPU_ARCH_CAUSE_HOST_IPI (1UL << 63 | 1) /* the hart's own software interrupt */

/* The last exit was an SBI call (without classifying anything else). */
static inline bool vcpu_arch_exit_is_ecall(const struct vcpu_arch *a)
{
	return a->exit.scause == VCPU_ARCH_CAUSE_ECALL_VS;
}

/* The last exit was the hart's IPI (another hart wants something of this one). */
static inline bool vcpu_arch_exit_is_host_ipi(const struct vcpu_arch *a)
{
	return a->exit.scause == VCPU_ARCH_CAUSE_HOST_IPI;
}

/* Describe the exit in a->exit for core (see vireo/vcpu_exit.h). An SBI call and a
 * host interrupt, the exits that come by the thousand, take a few instructions;
 * only the fields their kind defines are set. */
static inline void vcpu_arch_classify_exit(struct vcpu_arch *a, struct vcpu_exit *e)
{
	unsigned long cause = a->exit.scause;

	e->cause = cause;
	if (cause == VCPU_ARCH_CAUSE_ECALL_VS)
		e->kind = VCPU_EXIT_ECALL;
	else if ((long)cause < 0)
		e->kind = VCPU_EXIT_INTERRUPT;
	else
		vcpu_arch_classify_slow(a, e);
}
/* The trap value of the last exit (the faulting address, or the instruction). */
static inline unsigned long vcpu_arch_exit_tval(const struct vcpu_arch *a)
{
	return a->exit.stval;
}

/* Whether the guest's breakpoints and illegal instructions come to Vireo instead of its
 * own trap handler (from the next load of the vCPU). */
void vcpu_arch_set_catch(struct vcpu_arch *a, bool breakpoints, bool illegal);
/* Whether the guest's wfi (in VS-mode) exits to Vireo or waits in the hart. */
void vcpu_arch_set_wfi_exits(struct vcpu_arch *a, bool exits);

/* Whatever of a vCPU the guest can change, to return to later (a sandbox's snapshot):
 * registers, privilege, its S-level CSRs, FP. Not the vector registers (none of the
 * guests that use this have V on) and not the H configuration (Vireo's own). */
struct vcpu_arch_snapshot {
	struct vcpu_gprs gprs;
	struct vcpu_vs_csrs vs;
	struct vcpu_fp_state fp;
};
/* Of a vCPU that is not loaded (every value in memory). */
void vcpu_arch_snapshot(const struct vcpu_arch *a, struct vcpu_arch_snapshot *s);
void vcpu_arch_restore(struct vcpu_arch *a, const struct vcpu_arch_snapshot *s);
/* Every exception comes to Vireo, none to the guest's own trap handler (a sandbox: what
 * the guest cannot do is the host's to decide); from the next load of the vCPU. */
void vcpu_arch_delegate_nothing(struct vcpu_arch *a);

struct snap_writer;
struct snap_reader;
/* A snapshot's share of a parked vCPU (vireo/vm_snapshot.h): registers, VS CSRs, FP and
 * V. Load goes onto a vCPU just reset: Vireo's own configuration (hstatus, the H CSRs)
 * stays; -VIREO_EINVAL if the state is short or has another vector length. */
void vcpu_arch_state_save(const struct vcpu_arch *a, struct snap_writer *w);
int vcpu_arch_state_load(struct vcpu_arch *a, struct snap_reader *r);

struct ctl_regs;
/* The registers as the guest sees them (vireo/ctl.h), of a vCPU that is not loaded. */
void vcpu_arch_get_regs(const struct vcpu_arch *a, struct ctl_regs *r);
void vcpu_arch_set_regs(struct vcpu_arch *a, const struct ctl_regs *r);
/* Words for an architectural cause number (diagnostics). */
const char *vcpu_arch_cause_name(unsigned long cause);
/* The trap CSRs of the last exit in words, for a diagnostic line:
 * "<cause>, scause N) at sepc X, stval X, GPA X, htval X, htinst X". */
void vcpu_arch_describe_exit(const struct vcpu_arch *a, char *buf, size_t size);

/* Allocate what the vCPU's state needs beyond the struct (vector registers); 0 or
 * -VIREO_ENOMEM. vcpu_arch_destroy frees it. */
int vcpu_arch_init(struct vcpu_arch *a);
void vcpu_arch_destroy(struct vcpu_arch *a);
/* Reset to the boot state: VS-mode, a0 = hartid, a1 = dtb, pc = entry. */
void vcpu_arch_reset(struct vcpu_arch *a, unsigned long entry, unsigned long a0, unsigned long a1,
		     unsigned long hgatp, bool sstc);
/*
 * SBI HSM non-retentive resume (and SUSP): restart at entry with a0/a1 in VS-mode,
 * with translation (vsatp) and interrupts (vsstatus.SIE) off, as the SBI spec
 * defines; everything else stays, above all the pending interrupts that woke the
 * vCPU and its timer. `loaded`: the vCPU's CSRs are live on this hart.
 */
void vcpu_arch_resume_at(struct vcpu_arch *a, bool loaded, unsigned long entry, unsigned long a0,
			 unsigned long a1);
/* Make this vCPU's VS CSRs, FP registers and H config live on this hart. */
void vcpu_arch_load(struct vcpu_arch *a);
/* Save them back before another vCPU takes the hart. */
void vcpu_arch_put(struct vcpu_arch *a);
/* Enter the guest; returns on the next exit with a->exit filled in. */
void vcpu_arch_run(struct vcpu_arch *a);
/* The following act on the hart the vCPU is loaded on. */
/* Drive one VS interrupt line (VCPU_IRQ_*) of the loaded vCPU. */
void vcpu_arch_set_irq_line(struct vcpu_arch *a, unsigned irq, bool level);
/* Would an interrupt end the vCPU's wfi (pending and enabled in its vsie)? `extra` adds
 * pending lines (BIT(VCPU_IRQ_*)) not yet in hvip; `loaded` says whether to look at the
 * live CSRs of this hart or at the saved copies. */
bool vcpu_arch_irq_wakes(struct vcpu_arch *a, bool loaded, unsigned long extra);
/* The guest's own Sstc deadline (vstimecmp), live or saved; UINT64_MAX without Sstc. */
uint64_t vcpu_arch_sstc_deadline(struct vcpu_arch *a, bool loaded);
/* SBI set_timer with Sstc: write vstimecmp of the loaded vCPU. */
void vcpu_arch_set_vstimecmp(struct vcpu_arch *a, uint64_t deadline);

/* The guest interrupt file the vCPU runs with (hstatus.VGEIN), 0 for none; it takes
 * effect at the next entry. */
void vcpu_arch_set_guest_file(struct vcpu_arch *a, unsigned file);

/* Run fence.i / flush the VS-stage TLB of the loaded vCPU (remote fences). */
void vcpu_arch_apply_fences(struct vcpu_arch *a, bool fence_i, bool vvma);

/* Inject a synchronous exception into the guest's own trap handler (a loaded vCPU). */
void vcpu_arch_inject_exception(struct vcpu_arch *a, enum vcpu_exception exc, unsigned long tval);

/* Guest time (time CSR + htimedelta), and the host's. htimedelta is 0 but for a VM
 * restored from a snapshot, whose clock goes on from where it was saved. */
uint64_t vcpu_arch_guest_time(const struct vcpu_arch *a);
/* The host time at which guest time reaches guest_deadline (UINT64_MAX: never). */
uint64_t vcpu_arch_host_deadline(const struct vcpu_arch *a, uint64_t guest_deadline);
/* Guest time = host time + delta from the next load on (htimedelta; every vCPU of a VM
 * has the same). */
void vcpu_arch_set_time_delta(struct vcpu_arch *a, int64_t delta);
uint64_t vcpu_arch_host_time(void);

/* Read guest memory through the guest's own translation (hlv/hlvx), as the guest
 * would at the given privilege; returns 0 or -VIREO_EFAULT. */
int vcpu_arch_fetch_insn(struct vcpu_arch *a, unsigned long guest_va, uint32_t *insn);

/* Read a 64-bit value at a guest virtual address, through the guest's translation
 * (legacy SBI passes hart masks by pointer); 0 or -VIREO_EFAULT. */
int vcpu_arch_read_guest_u64(struct vcpu_arch *a, unsigned long guest_va, uint64_t *value);

/* Print the GPRs and trap CSRs of the vCPU. */
void vcpu_arch_dump(const struct vcpu_arch *a);

#endif
