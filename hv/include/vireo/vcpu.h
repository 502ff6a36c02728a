/* SPDX-License-Identifier: BSD-2-Clause */
/* A virtual hart: its architectural state, its SBI HSM state, where it runs. */
#ifndef VIREO_VCPU_H
#define VIREO_VCPU_H

#include <vireo/spinlock.h>
#include <vireo/types.h>
#include <vireo/vcpu_arch.h>

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

#define VCPU_EXIT_CAUSES 32

struct vcpu {
	struct vcpu_arch arch; /* first: the world switch is handed &vcpu->arch */
	struct vm *vm;
	unsigned id;	   /* the guest's hart id */
	struct hart *hart; /* the physical hart this vCPU is pinned to */
	struct vcpu *next_on_hart;

	spinlock_t lock; /* HSM state and start parameters */
	enum vcpu_hsm_state hsm;
	unsigned long start_addr, start_opaque;
	bool start_requested; /* hart_start posted by another vCPU */
	bool waiting;	      /* in wfi / retentive suspend */
	bool resume_nonretentive;

	uint64_t timer_deadline; /* SBI set_timer without Sstc; UINT64_MAX = none */
	bool timer_pending;	 /* that deadline passed: VSTIP is up until the next set_timer */
	bool ext_applied, timer_applied;	      /* the levels last written to hvip */
	unsigned long ext_irq;			      /* VSEIP level from the virtual PLIC */
	unsigned long posted_ssip;		      /* a virtual IPI waiting to be injected */
	uint32_t fence_i_pending, vvma_flush_pending; /* 32-bit: RV64 has no byte AMOs */
	bool in_guest; /* between entry and exit right now (remote fences wait on it) */

	uint64_t exits;
	uint64_t exit_causes[VCPU_EXIT_CAUSES];
	uint64_t irq_exits;
	uint64_t migrations; /* times it moved to another hart */
};

/* One trip into the guest and the handling of the exit that ends it (on v's hart). */
enum vcpu_action vcpu_run_once(struct vcpu *v);
/* START_PENDING -> STARTED: reset to the start address given to hart_start. */
void vcpu_complete_start(struct vcpu *v);
/* A waiting (wfi/suspended) vCPU whose interrupt arrived becomes runnable. */
void vcpu_wake(struct vcpu *v);
/* Kick the hart running or hosting this vCPU so it notices new state. */
void vcpu_kick(struct vcpu *v);
/* Post a virtual interrupt (IRQ_VS_*) / withdraw a level one. */
void vcpu_set_ext_irq(struct vcpu *v, bool level);
void vcpu_post_ipi(struct vcpu *v);
/* True if the vCPU has an interrupt pending that its vsie enables (wfi wake-up). */
bool vcpu_has_wakeup_irq(struct vcpu *v, bool loaded);
/* Handle the exit recorded in v->arch.exit. */
enum vcpu_action vcpu_handle_exit(struct vcpu *v);
/* Reset to the boot state at `entry` with a0/a1. */
void vcpu_reset(struct vcpu *v, unsigned long entry, unsigned long a0, unsigned long a1);
/* A short name for an exception cause number (for diagnostics and statistics). */
const char *vcpu_exit_cause_name(unsigned long cause);
const char *vcpu_exit_cause_id(unsigned long cause);
/* Print a diagnostic of this vCPU (exit CSRs, GPRs). */
void vcpu_dump(const struct vcpu *v);

#endif
