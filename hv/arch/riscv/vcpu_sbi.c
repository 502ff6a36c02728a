// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hart's side of the SBI extensions beyond v2.0 (see vireo/vcpu_arch_sbi.h):
 * probing what FWFT and the PMU can offer, the guest's access to the cycle
 * and instret counters, henvcfg features, entering and leaving SSE handlers,
 * and reading guest memory with the fault the guest would take.
 */
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/vcpu_arch_sbi.h>
#include "csr.h"

#define HENVCFG_ADUE	    (1UL << 61)
#define HENVCFG_PMM	    (3UL << 32)
#define HENVCFG_PMM_PMLEN7  (2UL << 32)
#define HENVCFG_PMM_PMLEN16 (3UL << 32)

/* ---------------------------------------------------------------- probes */

/* Does henvcfg keep `value` in the field `mask`? (WARL: what does not stick reads back
 * otherwise; M-mode may also hold a feature off through menvcfg.) */
static bool henvcfg_holds(unsigned long mask, unsigned long value)
{
	unsigned long old = csr_read(henvcfg);
	bool ok;

	csr_write(henvcfg, (old & ~mask) | value);
	ok = (csr_read(henvcfg) & mask) == value;
	csr_write(henvcfg, old);
	return ok;
}

static uint64_t probe_buffer[2];

static void misaligned_load(void *arg)
{
	unsigned long v;

	__asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"((uintptr_t)arg + 1) : "memory");
	(void)v;
}

static void read_cycle(void *arg)
{
	*(unsigned long *)arg = csr_read(cycle);
}

static void read_instret(void *arg)
{
	*(unsigned long *)arg = csr_read(instret);
}

void cpu_probe_sbi(void)
{
	unsigned long v;

	/* A misaligned load reaches HS-mode only if M-mode delegates the exception; if the
	 * hart handles it, or M-mode emulates it (OpenSBI v1.1 does), nothing traps here. */
	cpu_features.fwft_misaligned_deleg =
	    hart_guarded_probe(misaligned_load, probe_buffer) == EXC_LOAD_MISALIGNED;
	cpu_features.fwft_svadu = henvcfg_holds(HENVCFG_ADUE, HENVCFG_ADUE);
	cpu_features.fwft_pmlen7 = henvcfg_holds(HENVCFG_PMM, HENVCFG_PMM_PMLEN7);
	cpu_features.fwft_pmlen16 = henvcfg_holds(HENVCFG_PMM, HENVCFG_PMM_PMLEN16);
	/* mcounteren decides whether HS-mode may read them. */
	cpu_features.pmu_cycle = hart_guarded_probe(read_cycle, &v) == -1;
	cpu_features.pmu_instret = hart_guarded_probe(read_instret, &v) == -1;
}

/* ---------------------------------------------------------------- PMU */

uint64_t vcpu_arch_read_counter(unsigned counter)
{
	return counter == VCPU_COUNTER_INSTRET ? csr_read(instret) : csr_read(cycle);
}

/* hcounteren's CY and IR are bits 0 and 2: the counter numbers. */
void vcpu_arch_counter_direct(struct vcpu_arch *a, unsigned counter, bool direct, bool loaded)
{
	unsigned long bit = BIT(counter) & (HCOUNTEREN_CY | HCOUNTEREN_IR);

	if (direct)
		a->hcfg.hcounteren |= bit;
	else
		a->hcfg.hcounteren &= ~bit;
	if (loaded)
		csr_write(hcounteren, a->hcfg.hcounteren);
}

/* scounteren is not banked by the H extension: while the guest is loaded, the CSR is the
 * one its VS-mode writes. */
bool vcpu_arch_user_counter_allowed(struct vcpu_arch *a, unsigned counter)
{
	(void)a;
	return (csr_read(scounteren) & BIT(counter)) != 0;
}

/* ---------------------------------------------------------------- FWFT */

static void update_envcfg(struct vcpu_arch *a, unsigned long mask, unsigned long bits, bool loaded)
{
	a->hcfg.henvcfg = (a->hcfg.henvcfg & ~mask) | bits;
	if (loaded)
		csr_write(henvcfg, a->hcfg.henvcfg);
}

void vcpu_arch_set_pte_ad_hw(struct vcpu_arch *a, bool on, bool loaded)
{
	update_envcfg(a, HENVCFG_ADUE, on ? HENVCFG_ADUE : 0, loaded);
}

void vcpu_arch_set_pointer_masking(struct vcpu_arch *a, unsigned pmlen, bool loaded)
{
	unsigned long pmm = pmlen == 16 ? HENVCFG_PMM_PMLEN16 : pmlen == 7 ? HENVCFG_PMM_PMLEN7 : 0;

	update_envcfg(a, HENVCFG_PMM, pmm, loaded);
}

/* ---------------------------------------------------------------- SSE */

/* What privilege the guest resumes in: on an exit with V=1, hstatus.SPVP and sstatus.SPP
 * both hold it, and sret obeys sstatus.SPP. Keep them equal. */
static void set_guest_privilege(struct vcpu_arch *a, bool supervisor)
{
	if (supervisor) {
		a->gprs.sstatus |= SSTATUS_SPP;
		a->gprs.hstatus |= HSTATUS_SPVP;
	} else {
		a->gprs.sstatus &= ~SSTATUS_SPP;
		a->gprs.hstatus &= ~HSTATUS_SPVP;
	}
}

void vcpu_arch_sse_enter(struct vcpu_arch *a, unsigned long entry_pc, unsigned long *flags,
			 unsigned long *sepc)
{
	unsigned long vsstatus = csr_read(vsstatus);
	bool from_s = (a->gprs.hstatus & HSTATUS_SPVP) != 0;

	/* The guest has no H extension, Zicfilp or Ssdbltrp: flags 2..5 stay zero. */
	*flags = ((vsstatus & SSTATUS_SPP) ? VCPU_SSE_FLAG_SPP : 0) |
		 ((vsstatus & SSTATUS_SPIE) ? VCPU_SSE_FLAG_SPIE : 0);
	*sepc = csr_read(vsepc);
	csr_write(vsepc, a->gprs.sepc);
	vsstatus &= ~(SSTATUS_SPP | SSTATUS_SPIE);
	if (from_s)
		vsstatus |= SSTATUS_SPP;
	if (vsstatus & SSTATUS_SIE)
		vsstatus |= SSTATUS_SPIE;
	vsstatus &= ~SSTATUS_SIE;
	csr_write(vsstatus, vsstatus);
	a->gprs.sepc = entry_pc;
	set_guest_privilege(a, true);
}

void vcpu_arch_sse_resume(struct vcpu_arch *a, unsigned long flags, unsigned long sepc)
{
	unsigned long vsstatus = csr_read(vsstatus);

	a->gprs.sepc = csr_read(vsepc);
	set_guest_privilege(a, (vsstatus & SSTATUS_SPP) != 0);
	vsstatus &= ~SSTATUS_SIE;
	if (vsstatus & SSTATUS_SPIE)
		vsstatus |= SSTATUS_SIE;
	vsstatus &= ~(SSTATUS_SPIE | SSTATUS_SPP);
	if (flags & VCPU_SSE_FLAG_SPIE)
		vsstatus |= SSTATUS_SPIE;
	if (flags & VCPU_SSE_FLAG_SPP)
		vsstatus |= SSTATUS_SPP;
	csr_write(vsstatus, vsstatus);
	csr_write(vsepc, sepc);
}

/* ---------------------------------------------------------------- guest memory */

struct byte_probe {
	unsigned long addr;
	unsigned long value;
};

static void hlv_bu_probe(void *arg)
{
	struct byte_probe *p = arg;
	unsigned long v;

	__asm__ volatile(".option push\n.option arch, +h\nhlv.bu %0, (%1)\n.option pop"
			 : "=&r"(v)
			 : "r"(p->addr)
			 : "memory");
	p->value = v;
}

enum vcpu_guest_fault vcpu_arch_read_guest(struct vcpu_arch *a, unsigned long va, void *buf,
					   size_t len, unsigned long *fault_va)
{
	unsigned long saved = csr_read(hstatus);
	uint8_t *out = buf;
	enum vcpu_guest_fault fault = VCPU_GUEST_OK;

	/* The access is made at the privilege the guest trapped from (hstatus.SPVP). */
	csr_write(hstatus, (saved & ~HSTATUS_SPVP) | (a->gprs.hstatus & HSTATUS_SPVP));
	for (size_t i = 0; i < len; i++) {
		struct byte_probe p = {.addr = va + i};
		long cause = hart_guarded_probe(hlv_bu_probe, &p);

		if (cause != -1) {
			/* A guest-page fault is the G-stage's: no RAM at that guest-physical
			 * address, which the guest would see as an access fault. */
			fault = cause == EXC_LOAD_PAGE_FAULT ? VCPU_GUEST_PAGE_FAULT
							     : VCPU_GUEST_ACCESS_FAULT;
			*fault_va = va + i;
			break;
		}
		out[i] = (uint8_t)p.value;
	}
	csr_write(hstatus, saved);
	return fault;
}

/* ---------------------------------------------------------------- interrupt lines */

bool vcpu_arch_irq_line(struct vcpu_arch *a, unsigned irq)
{
	(void)a;
	return (csr_read(hvip) & BIT(irq)) != 0;
}
