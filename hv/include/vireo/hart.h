/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-hart state. Every physical hart has one `struct hart`, reached through
 * `tp` while the hypervisor runs (the world switch saves the guest's tp and
 * restores ours on every exit).
 */
#ifndef VIREO_HART_H
#define VIREO_HART_H

#include <vireo/types.h>

#define VIREO_MAX_HARTS 16
#define HART_STACK_SIZE (16 * KIB)

/* Requests one hart posts to another, then kicks it with an IPI. */
#define HART_REQ_RESCHED    (1UL << 0) /* look at the run queue again */
#define HART_REQ_HALT	    (1UL << 1) /* the system is going down: stop */
#define HART_REQ_KICK	    (1UL << 2) /* leave the guest and re-evaluate its state */
#define HART_REQ_GVMA_FLUSH (1UL << 3) /* a VMID was recycled: flush G-stage TLB entries */

/* Flush this hart's G-stage TLB (all VMIDs). */
void hart_flush_gstage_tlb(void);
/* Flush this hart's G-stage TLB entries of one VMID. */
void hart_flush_gstage_vmid(unsigned vmid);
/* Stop this hart for good (used by panic and by halt requests). */
NORETURN void hart_halt(void);

struct vcpu;

struct hart {
	unsigned index;	      /* logical index: 0 .. hart_count() - 1 */
	unsigned long hartid; /* the platform's hart id */
	uintptr_t stack_top;
	volatile bool online;
	unsigned long requests; /* HART_REQ_*, set atomically by other harts */
	struct vcpu *current;	/* vCPU loaded on this hart, or NULL */
	void *sched;		/* the scheduler's per-hart state */

	/* Trap guard: a probe that may fault records the cause instead of panicking. */
	volatile bool guard_active;
	volatile unsigned long guard_cause;

	uint64_t waited; /* instret counted while waiting in wfi (written by this hart only) */
};

#ifdef VIREO_HOST_TEST
/* Host unit tests say which hart "we" are. */
struct hart *this_hart(void);
#else
static inline struct hart *this_hart(void)
{
	struct hart *h;

	__asm__("mv %0, tp" : "=r"(h));
	return h;
}
#endif

/* Registered by the boot code; 0 .. count-1 in DT order. */
unsigned hart_count(void);
struct hart *hart_by_index(unsigned index);
struct hart *hart_by_hartid(unsigned long hartid);

/* Set up the boot hart's struct (called first thing from C on the boot hart). */
void hart_boot_init(unsigned long boot_hartid);
/* Register a hart found in the device tree. Returns its struct or NULL when full. */
struct hart *hart_register(unsigned long hartid);
/* Start every registered hart other than the boot hart through SBI HSM. */
void hart_start_secondaries(void (*entry)(struct hart *));
/* Post a request to a hart and interrupt it. */
void hart_request(struct hart *target, unsigned long request);
/* Take (and clear) the pending requests of this hart. */
unsigned long hart_take_requests(void);

/* Host interrupts, as the scheduler sees them (arch hides the CSRs). */
#define HART_IRQ_IPI   (1u << 0)
#define HART_IRQ_TIMER (1u << 1)
#define HART_IRQ_EXT   (1u << 2)
/* Which host interrupts are pending on this hart now. */
unsigned hart_pending_irqs(void);
/* instret counted while the harts waited for interrupts, all harts together: under
 * QEMU's -icount the machine's clock, which the waiting advances; 0 where Vireo cannot
 * read instret. For benchmarks that count only the instructions of work. */
uint64_t hart_waited(void);
/* This hart's instret as HS-mode reads it; 0 where it cannot. For counts of the
 * instructions a path of Vireo's takes (sandbox stats). */
uint64_t hart_instret(void);
/* Clear this hart's IPI. */
void hart_ack_ipi(void);
/* Program this hart's timer to fire at `deadline` (time CSR units); UINT64_MAX = never. */
void hart_set_timer(uint64_t deadline);
uint64_t hart_time(void);
/* Sleep until any host interrupt is pending (interrupts stay masked: no handler runs). */
void hart_wait_for_interrupt(void);
/* Sleep about `ticks`, or until a host interrupt: how a hart waits for another one. On an
 * emulator that runs one hart at a time (QEMU -icount), a spinning hart would keep the
 * other from ever running; wfi hands it the CPU. Leaves the host timer to be set again. */
void hart_pause(uint64_t ticks);

/* Run `probe` with the trap guard armed; returns the trap cause or -1 when no trap. */
long hart_guarded_probe(void (*probe)(void *arg), void *arg);
/* The same, inline, around code of the caller's (a hot probe): between begin and end
 * a fault of this hart is noted and the faulting instruction skipped; end returns
 * the cause or -1. The fault is this hart's own and precise, so program order (a
 * compiler barrier) is all the ordering the trap handler needs. */
static inline void hart_guard_begin(struct hart *h)
{
	h->guard_cause = (unsigned long)-1;
	h->guard_active = true;
	__asm__ volatile("" ::: "memory");
}

static inline long hart_guard_end(struct hart *h)
{
	__asm__ volatile("" ::: "memory");
	h->guard_active = false;
	return (long)h->guard_cause;
}

#endif
