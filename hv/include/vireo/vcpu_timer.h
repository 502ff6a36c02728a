/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A vCPU's supervisor timer (SBI TIME set_timer, and the legacy call).
 * Deadlines are absolute, in guest time (host time + htimedelta: the two differ
 * only for a VM restored from a snapshot); the scheduler works in host time.
 *
 * Two ways, chosen per vCPU at reset (the shape of KVM's vcpu_timer.c):
 *  - hardware (Sstc): the deadline goes into the guest's vstimecmp and the
 *    hart raises VSTIP itself, with no exit; the host timer only needs the
 *    deadline to wake the vCPU from wfi while it is off the hart;
 *  - software: the hart's scheduler multiplexes the deadline onto the host
 *    timer and drives the guest's VSTIP line when it passes.
 * Either way a new deadline withdraws a pending timer interrupt (SBI v2.0).
 */
#ifndef VIREO_VCPU_TIMER_H
#define VIREO_VCPU_TIMER_H

#include <vireo/types.h>

struct vcpu;

struct vcpu_timer {
	bool hw;	   /* Sstc: vstimecmp holds the deadline */
	uint64_t deadline; /* software: UINT64_MAX = none */
	bool pending;	   /* software: the deadline passed; VSTIP up until the next set */
	bool applied;	   /* software: the level last written to the guest's VSTIP */
};

/* No deadline, nothing pending; `hw` selects the Sstc way. */
void vcpu_timer_reset(struct vcpu *v, bool hw);
/* SBI set_timer: arm `deadline` (UINT64_MAX disarms), withdrawing a pending interrupt. */
void vcpu_timer_set(struct vcpu *v, uint64_t deadline);
/* Software deadlines at or before `now` raise the timer line. */
void vcpu_timer_expire(struct vcpu *v, uint64_t now);
/* When the host timer must fire on this vCPU's behalf (UINT64_MAX: never). `loaded`:
 * the vCPU's state is live on this hart. */
uint64_t vcpu_timer_next_event(struct vcpu *v, bool loaded);
/* The software timer line is up (the hardware one is seen in the CSRs). */
bool vcpu_timer_line(const struct vcpu *v);
/* Before entering the guest: bring the software line into its interrupt-pending bits. */
void vcpu_timer_apply(struct vcpu *v);

#endif
