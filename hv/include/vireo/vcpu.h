/* SPDX-License-Identifier: BSD-2-Clause */
/* A virtual hart: its architectural state, its SBI HSM state, where it runs. */
#ifndef VIREO_VCPU_H
#define VIREO_VCPU_H

#include <vireo/sbi_state.h>
#include <vireo/spinlock.h>
#include <vireo/types.h>
#include <vireo/vcpu_aia.h>
#include <vireo/vcpu_arch.h>
#include <vireo/vcpu_exit.h>
#include <vireo/vcpu_timer.h>

struct vm;
struct hart;

/* SBI HSM states (the numbers are the spec's hart_get_status values). */
enum vcpu_hsm_state {
	VCPU_STARTED = 0,
	VCPU_STOPPED = 1,
	VCPU_START_PENDING = 2,
	VCPU_STOP_PENDING = 3,
	VCPU_SUSPENDED = 4,
	VCPU_SUSPEND_PENDING = 5,
	VCPU_RESUME_PENDING = 6,
};

/* What the exit handler wants the scheduler to do next. */
enum vcpu_action {
	VCPU_CONTINUE,	  /* re-enter the guest */
	VCPU_BLOCK,	  /* wfi or suspend: wait for an interrupt */
	VCPU_YIELD,	  /* let others run */
	VCPU_STOPPED_NOW, /* HSM stop: off the run queue until hart_start */
	VCPU_VM_ENDED,	  /* the VM is going away */
};

/*
 * Requests other harts (or this one) post to a vCPU, taken in one atomic
 * exchange on its way into the guest (the shape of KVM's vcpu requests).
 * Posting kicks the vCPU's hart so a running guest comes out to take them.
 */
#define VCPU_REQ_IPI	     BIT(0) /* raise the guest's software interrupt (an edge) */
#define VCPU_REQ_FENCE_I     BIT(1) /* SBI remote fence.i */
#define VCPU_REQ_HFENCE_VVMA BIT(2) /* SBI remote sfence.vma: flush the VS-stage TLB */
#define VCPU_REQ_FENCES	     (VCPU_REQ_FENCE_I | VCPU_REQ_HFENCE_VVMA)
#define VCPU_REQ_SSE	     BIT(3) /* SBI SSE: an event may be ready to run (sbi_sse_deliver) */
/* Stop where it is: instead of entering the guest again it is caught (vm_catch with
 * VM_CATCH_STOP), even out of a wfi. A sandbox's time budget asks for it. */
#define VCPU_REQ_STOP BIT(4)

struct vcpu {
	struct vcpu_arch arch; /* first: the world switch is handed &vcpu->arch */
	struct vm *vm;
	unsigned id;	   /* the guest's hart id */
	struct hart *hart; /* the physical hart this vCPU is on */
	struct vcpu *next_on_hart;

	spinlock_t lock; /* HSM state and start parameters */
	enum vcpu_hsm_state hsm;
	unsigned long start_addr, start_opaque;
	bool waiting; /* in wfi / retentive suspend */
	bool resume_nonretentive;

	struct vcpu_timer timer;
	struct vcpu_aia aia;	/* its IMSIC file, with guest AIA */
	unsigned long requests; /* VCPU_REQ_*, atomically */
	unsigned long ext_irq;	/* VSEIP level from the virtual PLIC */
	bool ext_applied;	/* the level last written to the guest's interrupt lines */
	bool in_guest;		/* between entry and exit right now (remote fences wait on it) */
	bool loaded;		/* its CSR state is live on its hart (sched.c; atomic) */

	struct vcpu_exit exit; /* the last exit, classified */
	bool exit_classified;  /* the fast path classified the last exit already */
	bool exit_answered;    /* ...and handled it: `answer` is what it came to */
	enum vcpu_action answer;
	uint64_t exits;
	uint64_t exit_kinds[VCPU_EXIT_KINDS];
	uint64_t migrations; /* times it moved to another hart */

	struct sbi_vcpu_state sbi; /* the SBI extensions' per-hart state (only hv/sbi/ uses it) */
};

/* One trip into the guest and the handling of the exit that ends it (on v's hart). */
enum vcpu_action vcpu_run_once(struct vcpu *v);
/* What others posted since the guest was entered, made live before it goes back in:
 * interrupt lines, IPIs and fences (the fast path's share of vcpu_run_once; requests
 * that change guest registers stay posted for the ordinary way). */
void vcpu_refresh_entry(struct vcpu *v);
/* START_PENDING -> STARTED: reset to the start address given to hart_start. */
void vcpu_complete_start(struct vcpu *v);
/* A waiting (wfi/suspended) vCPU whose interrupt arrived becomes runnable. */
void vcpu_wake(struct vcpu *v);
/* Kick the hart running or hosting this vCPU so it notices new state. */
void vcpu_kick(struct vcpu *v);
/* Post VCPU_REQ_* bits and kick the vCPU. */
void vcpu_make_request(struct vcpu *v, unsigned long requests);
/* Requests posted and not yet taken. */
unsigned long vcpu_pending_requests(const struct vcpu *v);
/* The virtual interrupt controller's output for this vCPU (a level). */
void vcpu_set_ext_irq(struct vcpu *v, bool level);
/* A virtual IPI (an edge: it stays pending until the guest clears it). */
void vcpu_post_ipi(struct vcpu *v);
/* True if the vCPU has an interrupt pending that its vsie enables (wfi wake-up). */
bool vcpu_has_wakeup_irq(struct vcpu *v, bool loaded);
/* Reset to the boot state at `entry` with a0/a1. */
void vcpu_reset(struct vcpu *v, unsigned long entry, unsigned long a0, unsigned long a1);
/* Print a diagnostic of this vCPU (exit, GPRs). */
void vcpu_dump(const struct vcpu *v);
/* True while this vCPU's state is live on the hart we run on. */
bool vcpu_is_loaded(const struct vcpu *v);

#endif
