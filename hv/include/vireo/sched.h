/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The scheduler. Every vCPU is pinned to one physical hart; each hart
 * round-robins over its runnable vCPUs with a time slice, and sleeps in wfi
 * when none can run. One VM on one hart is just the smallest case.
 */
#ifndef VIREO_SCHED_H
#define VIREO_SCHED_H

#include <vireo/types.h>

struct vcpu;
struct hart;

#define SCHED_SLICE_US 10000

/* Choose a hart for a new vCPU (fewest vCPUs among those allowed by the mask; 0 = any). */
struct hart *sched_pick_hart(unsigned long affinity);
/* Put the vCPU on its hart's list (v->hart must be set). */
void sched_attach(struct vcpu *v);
/* Timer deadlines of a vCPU on this hart changed: recompute the host timer. */
void sched_timer_changed(void);
/* Whether this hart's timer waits to be recomputed: the world switch's fast path
 * must then go back through the scheduler, which reprograms it. */
bool sched_timer_is_dirty(void);
/* If this hart's loaded vCPU belongs to a paused VM, save its state to memory (hart
 * loop only: never while a vCPU's exit is being handled). */
void sched_park_current(void);
/* v is loaded here and no other vCPU shares the hart: a kick can only be for v. */
bool sched_vcpu_alone(const struct vcpu *v);
/* One round of this hart's loop: host interrupts, reaping, picking and running a
 * vCPU until it blocks or something needs the hart (or sleeping when none can run). */
void sched_step(void);

#endif
