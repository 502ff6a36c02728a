// SPDX-License-Identifier: BSD-2-Clause
/*
 * A vCPU's registers as the guest sees them, for the control plane
 * (vireo/ctl.h, struct ctl_regs). The vCPU is parked: every value is in
 * struct vcpu_arch, none live on a hart.
 */
#include <vireo/ctl.h>
#include <vireo/vcpu_arch.h>
#include "csr.h"

/* The guest's sip: its VS-level lines (hvip bits 2, 6, 10) at their S positions. */
static uint64_t guest_sip(const struct vcpu_arch *a)
{
	return (a->vs.hvip & (MIP_VSSIP | MIP_VSTIP | MIP_VSEIP)) >> 1;
}

void vcpu_arch_get_regs(const struct vcpu_arch *a, struct ctl_regs *r)
{
	r->x[0] = a->gprs.sepc;
	for (unsigned i = 1; i < 32; i++)
		r->x[i] = a->gprs.x[i];
	for (unsigned i = 0; i < 32; i++)
		r->f[i] = a->fp.valid ? a->fp.f[i] : 0;
	r->fcsr = a->fp.valid ? a->fp.fcsr : 0;
	r->priv = (a->gprs.hstatus & HSTATUS_SPVP) ? 1 : 0;
	r->sstatus = a->vs.vsstatus;
	r->sie = a->vs.vsie;
	r->stvec = a->vs.vstvec;
	r->sscratch = a->vs.vsscratch;
	r->sepc = a->vs.vsepc;
	r->scause = a->vs.vscause;
	r->stval = a->vs.vstval;
	r->sip = guest_sip(a);
	r->satp = a->vs.vsatp;
}

void vcpu_arch_set_regs(struct vcpu_arch *a, const struct ctl_regs *r)
{
	a->gprs.sepc = r->x[0];
	for (unsigned i = 1; i < 32; i++)
		a->gprs.x[i] = r->x[i];
	for (unsigned i = 0; i < 32; i++)
		a->fp.f[i] = r->f[i];
	a->fp.fcsr = (uint32_t)r->fcsr & 0xff; /* frm and fflags: the rest is reserved */
	a->fp.valid = true;
	/* The hardware keeps WARL fields legal when these are loaded back. */
	a->vs.vsstatus = r->sstatus;
	a->vs.vsie = r->sie;
	a->vs.vstvec = r->stvec;
	a->vs.vsscratch = r->sscratch;
	a->vs.vsepc = r->sepc;
	a->vs.vscause = r->scause;
	a->vs.vstval = r->stval;
	a->vs.vsatp = r->satp;
}

void vcpu_arch_snapshot(const struct vcpu_arch *a, struct vcpu_arch_snapshot *s)
{
	s->gprs = a->gprs;
	s->vs = a->vs;
	s->fp = a->fp;
}

void vcpu_arch_restore(struct vcpu_arch *a, const struct vcpu_arch_snapshot *s)
{
	/* VTW is the scheduler's (set at every load), the rest the snapshot's. */
	unsigned long vtw = a->gprs.hstatus & HSTATUS_VTW;

	a->gprs = s->gprs;
	a->gprs.hstatus = (a->gprs.hstatus & ~HSTATUS_VTW) | vtw;
	a->vs = s->vs;
	a->fp = s->fp;
}
