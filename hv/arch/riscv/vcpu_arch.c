// SPDX-License-Identifier: BSD-2-Clause
/* The architectural side of a vCPU: reset state, CSR load/save, injection. */
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/snap_io.h>
#include <vireo/string.h>
#include <vireo/vcpu_arch.h>
#include "csr.h"

void vcpu_fp_save(struct vcpu_arch *a);
void vcpu_fp_restore(struct vcpu_arch *a);
void vcpu_vector_save(struct vcpu_arch *a);
void vcpu_vector_restore(struct vcpu_arch *a);

static size_t vector_bytes(void)
{
	return 32 * cpu_features.vlenb;
}

int vcpu_arch_init(struct vcpu_arch *a)
{
	memset(a, 0, sizeof(*a));
	if (!cpu_guest.vector)
		return 0;
	a->vec.regs = kzalloc(vector_bytes());
	return a->vec.regs ? 0 : -VIREO_ENOMEM;
}

void vcpu_arch_destroy(struct vcpu_arch *a)
{
	if (a->vec.regs)
		kfree(a->vec.regs);
	a->vec.regs = NULL;
}

/* Exceptions the guest handles itself, without Vireo seeing them. */
#define HEDELEG_GUEST                                                                              \
	(BIT(EXC_INST_MISALIGNED) | BIT(EXC_ILLEGAL_INSN) | BIT(EXC_BREAKPOINT) |                  \
	 BIT(EXC_LOAD_MISALIGNED) | BIT(EXC_STORE_MISALIGNED) | BIT(EXC_ECALL_U) |                 \
	 BIT(EXC_INST_PAGE_FAULT) | BIT(EXC_LOAD_PAGE_FAULT) | BIT(EXC_STORE_PAGE_FAULT))
/* VS interrupts go to the guest's handler (hvip injects them). */
#define HIDELEG_GUEST (MIP_VSSIP | MIP_VSTIP | MIP_VSEIP)

void vcpu_arch_reset(struct vcpu_arch *a, unsigned long entry, unsigned long a0, unsigned long a1,
		     unsigned long hgatp, bool sstc)
{
	unsigned long vgein = a->gprs.hstatus & HSTATUS_VGEIN;

	memset(&a->gprs, 0, sizeof(a->gprs));
	memset(&a->vs, 0, sizeof(a->vs));
	memset(&a->fp, 0, sizeof(a->fp));
	if (a->vec.regs)
		memset(a->vec.regs, 0, vector_bytes());
	a->vec.vstart = a->vec.vl = a->vec.vtype = a->vec.vcsr = 0;
	a->gprs.x[10] = a0;
	a->gprs.x[11] = a1;
	a->gprs.sepc = entry;
	/* sret lands in VS-mode (SPV=1, SPP=S); wfi traps so the hart can be reused (VTW,
	 * until the scheduler says the vCPU has the hart to itself).
	 * FS and VS: the HS-level half of the two-level enable; the guest's vsstatus
	 * decides its own half. */
	a->gprs.sstatus = SSTATUS_SPP | (cpu_guest.fp ? SSTATUS_FS_INITIAL : 0) |
			  (cpu_guest.vector ? SSTATUS_VS_INITIAL : 0);
	/* VGEIN stays: the guest interrupt file belongs to the vCPU, not to its boot state. */
	a->gprs.hstatus = HSTATUS_SPV | HSTATUS_SPVP | HSTATUS_VTW | HSTATUS_VSXL_64 | vgein;
	a->vs.vstimecmp = UINT64_MAX;
	/* What firmware leaves a fresh hart with (OpenSBI opens every counter to U-mode):
	 * Linux relies on it for the vDSO's rdtime and sets scounteren itself only in
	 * its SBI PMU driver. The CSR keeps the bits it implements. */
	a->vs.scounteren = UINT32_MAX;
	a->hcfg.hedeleg = HEDELEG_GUEST;
	a->hcfg.hideleg = HIDELEG_GUEST;
	/* What the guest's riscv,isa lists is what these enable (see cpu_guest_derive). */
	a->hcfg.hcounteren = cpu_guest.hcounteren;
	a->hcfg.henvcfg = cpu_guest.henvcfg & (sstc ? ~0UL : ~HENVCFG_STCE);
	a->hcfg.hgatp = hgatp;
	/* htimedelta stays: 0 (guest time is host time) from the zeroed vCPU, or what a
	 * snapshot set for the whole VM, which a hart started or reset must share. */
}

static void fp_restore(struct vcpu_arch *a)
{
	if (!cpu_features.isa_has_f)
		return;
	/* Always restore (zeros the first time): another VM's FP values must not leak. */
	csr_set(sstatus, SSTATUS_FS_INITIAL);
	vcpu_fp_restore(a);
	csr_clear(sstatus, SSTATUS_FS);
	if ((a->gprs.sstatus & SSTATUS_FS) != SSTATUS_FS_OFF)
		a->gprs.sstatus = (a->gprs.sstatus & ~SSTATUS_FS) | SSTATUS_FS_CLEAN;
}

void vcpu_arch_resume_at(struct vcpu_arch *a, bool loaded, unsigned long entry, unsigned long a0,
			 unsigned long a1)
{
	a->gprs.sepc = entry;
	a->gprs.x[REG_A0] = a0;
	a->gprs.x[REG_A1] = a1;
	a->gprs.sstatus |= SSTATUS_SPP;
	a->gprs.hstatus |= HSTATUS_SPV | HSTATUS_SPVP;
	if (!loaded) {
		a->vs.vsatp = 0;
		a->vs.vsstatus &= ~SSTATUS_SIE;
		return;
	}
	csr_write(vsatp, 0);
	csr_clear(vsstatus, SSTATUS_SIE);
	hfence_vvma_all();
}

static void vector_restore(struct vcpu_arch *a)
{
	if (!a->vec.regs)
		return;
	/* Always (zeros the first time): another VM's vector values must not leak. */
	csr_set(sstatus, SSTATUS_VS_INITIAL);
	vcpu_vector_restore(a);
	csr_clear(sstatus, SSTATUS_VS);
	if ((a->gprs.sstatus & SSTATUS_VS) != SSTATUS_VS_OFF)
		a->gprs.sstatus = (a->gprs.sstatus & ~SSTATUS_VS) | SSTATUS_VS_CLEAN;
}

static void vector_save(struct vcpu_arch *a)
{
	if (!a->vec.regs || (a->gprs.sstatus & SSTATUS_VS) != SSTATUS_VS_DIRTY)
		return;
	csr_set(sstatus, SSTATUS_VS_INITIAL);
	vcpu_vector_save(a);
	csr_clear(sstatus, SSTATUS_VS);
	a->gprs.sstatus = (a->gprs.sstatus & ~SSTATUS_VS) | SSTATUS_VS_CLEAN;
}

/* The S-level CSRs the H extension does not bank: the guest writes the real ones. */
static void unbanked_load(const struct vcpu_arch *a)
{
	csr_write(scounteren, a->vs.scounteren);
	if (cpu_features.senvcfg)
		csr_write(senvcfg, a->vs.senvcfg);
	if (cpu_features.sstateen)
		csr_write_num(CSR_SSTATEEN0, a->vs.sstateen0);
	if (cpu_features.ssaia) {
		csr_write_num(CSR_VSISELECT, a->vs.vsiselect);
		csr_write_num(CSR_HVICTL, a->vs.hvictl);
	}
}

static void unbanked_put(struct vcpu_arch *a)
{
	a->vs.scounteren = csr_read(scounteren);
	if (cpu_features.senvcfg)
		a->vs.senvcfg = csr_read(senvcfg);
	if (cpu_features.sstateen)
		a->vs.sstateen0 = csr_read_num(CSR_SSTATEEN0);
	if (cpu_features.ssaia) {
		a->vs.vsiselect = csr_read_num(CSR_VSISELECT);
		a->vs.hvictl = csr_read_num(CSR_HVICTL);
	}
}

static void fp_save(struct vcpu_arch *a)
{
	if (!cpu_features.isa_has_f || (a->gprs.sstatus & SSTATUS_FS) != SSTATUS_FS_DIRTY)
		return;
	csr_set(sstatus, SSTATUS_FS_INITIAL);
	vcpu_fp_save(a);
	csr_clear(sstatus, SSTATUS_FS);
	a->gprs.sstatus = (a->gprs.sstatus & ~SSTATUS_FS) | SSTATUS_FS_CLEAN;
	a->fp.valid = true;
}

void vcpu_arch_load(struct vcpu_arch *a)
{
	csr_write(hgatp, a->hcfg.hgatp);
	csr_write(hedeleg, a->hcfg.hedeleg);
	csr_write(hideleg, a->hcfg.hideleg);
	csr_write(hcounteren, a->hcfg.hcounteren);
	csr_write(henvcfg, a->hcfg.henvcfg);
	csr_write(htimedelta, (unsigned long)a->hcfg.htimedelta);
	csr_write(vsstatus, a->vs.vsstatus);
	csr_write(vsie, a->vs.vsie);
	csr_write(vstvec, a->vs.vstvec);
	csr_write(vsscratch, a->vs.vsscratch);
	csr_write(vsepc, a->vs.vsepc);
	csr_write(vscause, a->vs.vscause);
	csr_write(vstval, a->vs.vstval);
	csr_write(vsatp, a->vs.vsatp);
	if (cpu_features.sstc)
		csr_write(vstimecmp, a->vs.vstimecmp);
	csr_write(hvip, a->vs.hvip);
	unbanked_load(a);
	/* VS-stage TLB entries are tagged by VMID and ASID, not by vCPU: another vCPU
	 * of this VM may have left entries here that this one must not see. */
	hfence_vvma_all();
	fp_restore(a);
	vector_restore(a);
}

void vcpu_arch_put(struct vcpu_arch *a)
{
	a->vs.vsstatus = csr_read(vsstatus);
	a->vs.vsie = csr_read(vsie);
	a->vs.vstvec = csr_read(vstvec);
	a->vs.vsscratch = csr_read(vsscratch);
	a->vs.vsepc = csr_read(vsepc);
	a->vs.vscause = csr_read(vscause);
	a->vs.vstval = csr_read(vstval);
	a->vs.vsatp = csr_read(vsatp);
	if (cpu_features.sstc) {
		a->vs.vstimecmp = csr_read(vstimecmp);
		/* Keep the guest's deadline from firing into whoever runs next. */
		csr_write(vstimecmp, UINT64_MAX);
	}
	a->vs.hvip = csr_read(hvip);
	csr_write(hvip, 0);
	unbanked_put(a);
	fp_save(a);
	vector_save(a);
	csr_write(hgatp, 0);
}

void vcpu_arch_set_catch(struct vcpu_arch *a, bool breakpoints, bool illegal)
{
	a->hcfg.hedeleg = HEDELEG_GUEST & ~(breakpoints ? BIT(EXC_BREAKPOINT) : 0) &
			  ~(illegal ? BIT(EXC_ILLEGAL_INSN) : 0);
}

void vcpu_arch_delegate_nothing(struct vcpu_arch *a)
{
	a->hcfg.hedeleg = 0;
}

void vcpu_arch_set_wfi_exits(struct vcpu_arch *a, bool exits)
{
	if (exits)
		a->gprs.hstatus |= HSTATUS_VTW;
	else
		a->gprs.hstatus &= ~HSTATUS_VTW;
}

void vcpu_arch_set_irq_line(struct vcpu_arch *a, unsigned irq, bool level)
{
	(void)a;
	if (level)
		csr_set(hvip, BIT(irq));
	else
		csr_clear(hvip, BIT(irq));
	/* A guest with Ssaia asks vstopi which interrupt it has. For the external one
	 * raised here (no guest file: VGEIN = 0), QEMU 7.2's vstopi reports interrupt 9
	 * exactly while hvictl names it (IID 9, a non-zero priority), whatever hvip says:
	 * so hvictl follows the line, or the guest's handler would find nothing to do
	 * (and loop) or always something (and loop). */
	if (irq == VCPU_IRQ_EXT && cpu_features.ssaia)
		csr_write_num(CSR_HVICTL, level ? HVICTL_IID_SEI | HVICTL_IPRIO_LOWEST : 0);
}

uint64_t vcpu_arch_sstc_deadline(struct vcpu_arch *a, bool loaded)
{
	unsigned long vsie = loaded ? csr_read(vsie) : a->vs.vsie;

	/* A guest that masked its timer (Linux does after each tick when idle) leaves
	 * vstimecmp in the past: that deadline can wake nobody, so it is no deadline. */
	if (!cpu_features.sstc || !(vsie & (1UL << IRQ_S_TIMER)))
		return UINT64_MAX;
	return vcpu_arch_host_deadline(a, loaded ? csr_read(vstimecmp) : a->vs.vstimecmp);
}

uint64_t vcpu_arch_host_deadline(const struct vcpu_arch *a, uint64_t guest_deadline)
{
	uint64_t delta = (uint64_t)a->hcfg.htimedelta;

	if (guest_deadline == UINT64_MAX)
		return UINT64_MAX;
	/* A guest clock ahead of the host's (delta > 0): a deadline before the host's
	 * epoch is due now; behind it: one past the host's reach is never. */
	if (a->hcfg.htimedelta >= 0)
		return guest_deadline >= delta ? guest_deadline - delta : 0;
	return guest_deadline - delta < guest_deadline ? UINT64_MAX : guest_deadline - delta;
}

void vcpu_arch_set_time_delta(struct vcpu_arch *a, int64_t delta)
{
	a->hcfg.htimedelta = delta;
}

void vcpu_arch_set_vstimecmp(struct vcpu_arch *a, uint64_t deadline)
{
	a->vs.vstimecmp = deadline;
	csr_write(vstimecmp, deadline);
}

bool vcpu_arch_irq_wakes(struct vcpu_arch *a, bool loaded, unsigned long extra)
{
	unsigned long hvip = loaded ? csr_read(hvip) : a->vs.hvip;
	unsigned long enabled = loaded ? csr_read(vsie) : a->vs.vsie; /* S positions: 1, 5, 9 */
	unsigned long pending = (hvip | extra) & (MIP_VSSIP | MIP_VSTIP | MIP_VSEIP);

	if (csr_read(time) >= vcpu_arch_sstc_deadline(a, loaded))
		pending |= MIP_VSTIP;
	return ((pending >> 1) & enabled) != 0;
}

uint64_t vcpu_arch_guest_time(const struct vcpu_arch *a)
{
	return csr_read(time) + (uint64_t)a->hcfg.htimedelta;
}

uint64_t vcpu_arch_host_time(void)
{
	return csr_read(time);
}

static unsigned long exception_cause(enum vcpu_exception exc)
{
	switch (exc) {
	case VCPU_EXC_FETCH_ACCESS:
		return EXC_INST_ACCESS;
	case VCPU_EXC_LOAD_ACCESS:
		return EXC_LOAD_ACCESS;
	case VCPU_EXC_STORE_ACCESS:
		return EXC_STORE_ACCESS;
	case VCPU_EXC_LOAD_PAGE_FAULT:
		return EXC_LOAD_PAGE_FAULT;
	case VCPU_EXC_BREAKPOINT:
		return EXC_BREAKPOINT;
	default:
		return EXC_ILLEGAL_INSN;
	}
}

/* Emulate a trap into the guest's own handler, as the hart would have done it. */
void vcpu_arch_inject_exception(struct vcpu_arch *a, enum vcpu_exception exc, unsigned long tval)
{
	unsigned long cause = exception_cause(exc);
	unsigned long vsstatus = csr_read(vsstatus);
	bool from_s = (a->gprs.hstatus & HSTATUS_SPVP) != 0;

	csr_write(vsepc, a->gprs.sepc);
	csr_write(vscause, cause);
	csr_write(vstval, tval);
	vsstatus &= ~(SSTATUS_SPP | SSTATUS_SPIE);
	if (from_s)
		vsstatus |= SSTATUS_SPP;
	if (vsstatus & SSTATUS_SIE)
		vsstatus |= SSTATUS_SPIE;
	vsstatus &= ~SSTATUS_SIE;
	csr_write(vsstatus, vsstatus);
	a->gprs.sepc = csr_read(vstvec) & ~3UL;
	/* The handler runs in VS-mode whatever the guest was in (VS or VU). */
	a->gprs.sstatus |= SSTATUS_SPP;
	a->gprs.hstatus |= HSTATUS_SPVP;
}

struct fetch_probe {
	unsigned long addr;
	unsigned long value;
};

/*
 * Run a hypervisor load-as-guest (hlv/hlvx) probe at the guest's privilege: the
 * privilege comes from hstatus.SPVP, which on an exit says what the guest was in.
 * A fault (the guest's page tables say no) is caught by the trap guard.
 */
static int guest_access(struct vcpu_arch *a, void (*probe)(void *arg), unsigned long va,
			unsigned long *value)
{
	struct fetch_probe p = {.addr = va, .value = 0};
	unsigned long saved = csr_read(hstatus);
	long cause;

	csr_write(hstatus, (saved & ~HSTATUS_SPVP) | (a->gprs.hstatus & HSTATUS_SPVP));
	cause = hart_guarded_probe(probe, &p);
	csr_write(hstatus, saved);
	if (cause != -1)
		return -VIREO_EFAULT;
	*value = p.value;
	return 0;
}

int vcpu_arch_fetch_insn(struct vcpu_arch *a, unsigned long guest_va, uint32_t *insn)
{
	struct hart *h = this_hart();
	unsigned long saved = csr_read(hstatus), lo = 0, hi = 0;
	/* In the world switch's fast path hstatus is still the guest's exit value: its
	 * SPVP is already the guest's privilege. */
	bool swap = (saved ^ a->gprs.hstatus) & HSTATUS_SPVP;
	long cause;

	if (swap)
		csr_write(hstatus, saved ^ HSTATUS_SPVP);
	/* Both halfwords in one guarded stretch: the second only for a 32-bit instruction
	 * (a 16-bit one may end a page whose successor is unmapped). A fault in the first
	 * skips the second (lo stays 0: not 32-bit). */
	hart_guard_begin(h);
	__asm__ volatile(".option push\n.option arch, +h\n"
			 "hlvx.hu %0, (%2)\n"
			 "andi t0, %0, 3\n"
			 "addi t0, t0, -3\n"
			 "bnez t0, 1f\n"
			 "addi t0, %2, 2\n"
			 "hlvx.hu %1, (t0)\n"
			 "1:\n.option pop"
			 : "+&r"(lo), "+&r"(hi)
			 : "r"(guest_va)
			 : "t0", "memory");
	cause = hart_guard_end(h);
	/* A fault came through HS-mode's own trap, which rewrote hstatus (SPV, GVA): the
	 * guest's exit value must be back before the world switch returns with it. */
	if (swap || cause != -1)
		csr_write(hstatus, saved);
	if (cause != -1)
		return -VIREO_EFAULT;
	*insn = (uint32_t)((uint16_t)lo | ((unsigned long)(uint16_t)hi << 16));
	return 0;
}

static void hlv_d_probe(void *arg)
{
	struct fetch_probe *p = arg;
	unsigned long v;

	__asm__ volatile(".option push\n.option arch, +h\nhlv.d %0, (%1)\n.option pop"
			 : "=&r"(v)
			 : "r"(p->addr)
			 : "memory");
	p->value = v;
}

int vcpu_arch_read_guest_u64(struct vcpu_arch *a, unsigned long guest_va, uint64_t *value)
{
	unsigned long v;

	if (guest_va & 7)
		return -VIREO_EFAULT;
	if (guest_access(a, hlv_d_probe, guest_va, &v))
		return -VIREO_EFAULT;
	*value = v;
	return 0;
}

const char *trap_gpr_name(unsigned reg);

void vcpu_arch_dump(const struct vcpu_arch *a)
{
	printk("  sepc %016lx  scause %016lx  stval %016lx\n", a->gprs.sepc, a->exit.scause,
	       a->exit.stval);
	printk("  htval %015lx  htinst %015lx  hstatus %014lx\n", a->exit.htval, a->exit.htinst,
	       a->gprs.hstatus);
	for (unsigned i = 0; i < 32; i += 4)
		printk("  %-4s %016lx  %-4s %016lx  %-4s %016lx  %-4s %016lx\n", trap_gpr_name(i),
		       i ? a->gprs.x[i] : 0, trap_gpr_name(i + 1), a->gprs.x[i + 1],
		       trap_gpr_name(i + 2), a->gprs.x[i + 2], trap_gpr_name(i + 3),
		       a->gprs.x[i + 3]);
}

void vcpu_arch_set_guest_file(struct vcpu_arch *a, unsigned file)
{
	a->gprs.hstatus = (a->gprs.hstatus & ~HSTATUS_VGEIN) |
			  ((unsigned long)file << HSTATUS_VGEIN_SHIFT & HSTATUS_VGEIN);
}

void vcpu_arch_apply_fences(struct vcpu_arch *a, bool do_fence_i, bool vvma)
{
	(void)a;
	if (do_fence_i)
		fence_i();
	if (vvma)
		hfence_vvma_all();
}

/* ---------------------------------------------------------------- snapshots */

void vcpu_arch_state_save(const struct vcpu_arch *a, struct snap_writer *w)
{
	const struct vcpu_vs_csrs *vs = &a->vs;

	for (unsigned i = 1; i < 32; i++)
		snap_put_u64(w, a->gprs.x[i]);
	snap_put_u64(w, a->gprs.sepc);
	snap_put_u64(w, a->gprs.sstatus);
	snap_put_u64(w, a->gprs.hstatus);
	snap_put_u64(w, vs->vsstatus);
	snap_put_u64(w, vs->vsie);
	snap_put_u64(w, vs->vstvec);
	snap_put_u64(w, vs->vsscratch);
	snap_put_u64(w, vs->vsepc);
	snap_put_u64(w, vs->vscause);
	snap_put_u64(w, vs->vstval);
	snap_put_u64(w, vs->vsatp);
	snap_put_u64(w, vs->vstimecmp);
	snap_put_u64(w, vs->hvip);
	snap_put_u64(w, vs->scounteren);
	snap_put_u64(w, vs->senvcfg);
	snap_put_u64(w, vs->sstateen0);
	for (unsigned i = 0; i < 32; i++)
		snap_put_u64(w, a->fp.f[i]);
	snap_put_u32(w, a->fp.fcsr);
	snap_put_u8(w, a->fp.valid);
	snap_put_u32(w, a->vec.regs ? (uint32_t)vector_bytes() : 0);
	if (a->vec.regs) {
		snap_put_u64(w, a->vec.vstart);
		snap_put_u64(w, a->vec.vl);
		snap_put_u64(w, a->vec.vtype);
		snap_put_u64(w, a->vec.vcsr);
		snap_put_bytes(w, a->vec.regs, vector_bytes());
	}
}

/* Of a vCPU just reset (vcpu_arch_reset): Vireo's own bits stay as the reset made them;
 * from the state come the guest's registers and where it was (VS or VU: SPP), and the
 * FP/V enables' HS half where this host gives the guest FP/V. */
int vcpu_arch_state_load(struct vcpu_arch *a, struct snap_reader *r)
{
	struct vcpu_vs_csrs *vs = &a->vs;
	unsigned long sstatus, keep = SSTATUS_SPP;
	uint32_t vbytes;

	for (unsigned i = 1; i < 32; i++)
		a->gprs.x[i] = snap_get_u64(r);
	a->gprs.sepc = snap_get_u64(r);
	sstatus = snap_get_u64(r);
	(void)snap_get_u64(r); /* hstatus: all of it is Vireo's to set */
	vs->vsstatus = snap_get_u64(r);
	vs->vsie = snap_get_u64(r);
	vs->vstvec = snap_get_u64(r);
	vs->vsscratch = snap_get_u64(r);
	vs->vsepc = snap_get_u64(r);
	vs->vscause = snap_get_u64(r);
	vs->vstval = snap_get_u64(r);
	vs->vsatp = snap_get_u64(r);
	vs->vstimecmp = snap_get_u64(r);
	vs->hvip = snap_get_u64(r) & (MIP_VSSIP | MIP_VSTIP | MIP_VSEIP);
	vs->scounteren = snap_get_u64(r);
	vs->senvcfg = snap_get_u64(r);
	vs->sstateen0 = snap_get_u64(r);
	for (unsigned i = 0; i < 32; i++)
		a->fp.f[i] = snap_get_u64(r);
	a->fp.fcsr = snap_get_u32(r);
	a->fp.valid = snap_get_bool(r);
	if (cpu_guest.fp)
		keep |= SSTATUS_FS;
	vbytes = snap_get_u32(r);
	if (vbytes != (a->vec.regs ? vector_bytes() : 0))
		r->failed = true; /* another vector length: the registers cannot be had */
	if (vbytes && !r->failed) {
		a->vec.vstart = snap_get_u64(r);
		a->vec.vl = snap_get_u64(r);
		a->vec.vtype = snap_get_u64(r);
		a->vec.vcsr = snap_get_u64(r);
		snap_get_bytes(r, a->vec.regs, vbytes);
		keep |= SSTATUS_VS;
	}
	a->gprs.sstatus = (a->gprs.sstatus & ~keep) | (sstatus & keep);
	return r->failed ? -VIREO_EINVAL : 0;
}
