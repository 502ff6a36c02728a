// SPDX-License-Identifier: BSD-2-Clause
/* The per-hart loop: run vCPUs, take host interrupts, sleep when idle. */
#include <vireo/devtimer.h>
#include <vireo/hart.h>
#include <vireo/host_irq.h>
#include <vireo/log.h>
#include <vireo/panic.h>
#include <vireo/power.h>
#include <vireo/sbi.h>
#include <vireo/sched.h>
#include <vireo/spinlock.h>
#include <vireo/time.h>
#include <vireo/vcpu.h>
#include <vireo/vireo.h>
#include <vireo/vm_console.h>
#include <vireo/vm.h>

/* See sched_step: 0 lets a vCPU alone on its hart wait in wfi natively. */
#ifndef SCHED_WFI_ALWAYS_EXITS
#define SCHED_WFI_ALWAYS_EXITS 1
#endif

struct sched_hart {
	spinlock_t lock; /* the list: other harts attach vCPUs here */
	struct vcpu *vcpus;
	struct vcpu *cursor; /* round-robin position */
	unsigned count;	     /* vCPUs on the list */
	unsigned assigned;   /* vCPUs placed here, attached or about to be */
	uint64_t slice_end;
	bool timer_dirty;
	bool slicing;		/* the host timer carries slice_end */
	bool idle;		/* asleep with nothing to run */
	unsigned nr_runnable;	/* as of its last pick: what balancing compares */
} __attribute__((aligned(64))); /* a line each: harts write their own; this_sched shifts */

static struct sched_hart sched_harts[VIREO_MAX_HARTS];

static struct sched_hart *this_sched(void)
{
	return &sched_harts[this_hart()->index];
}

unsigned vireo_online_harts(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < hart_count(); i++)
		n += hart_by_index(i)->online;
	return n;
}

/* Affinity masks name harts by their id (as QEMU numbers its CPUs). */
static bool hart_allowed(unsigned long affinity, const struct hart *h)
{
	return !affinity || (h->hartid < 64 && (affinity & BIT(h->hartid)));
}

struct hart *sched_pick_hart(unsigned long affinity)
{
	struct hart *best = NULL;

	for (unsigned i = 0; i < hart_count(); i++) {
		struct hart *h = hart_by_index(i);
		if (!h->online || !hart_allowed(affinity, h))
			continue;
		if (!best || sched_harts[i].assigned < sched_harts[best->index].assigned)
			best = h;
	}
	if (best)
		__atomic_fetch_add(&sched_harts[best->index].assigned, 1, __ATOMIC_RELAXED);
	return best;
}

void sched_attach(struct vcpu *v)
{
	struct sched_hart *sh = &sched_harts[v->hart->index];

	spin_lock(&sh->lock);
	v->next_on_hart = sh->vcpus;
	sh->vcpus = v;
	sh->count++;
	__atomic_store_n(&sh->timer_dirty, true, __ATOMIC_RELEASE);
	spin_unlock(&sh->lock);
	vcpu_kick(v);
}

void sched_timer_changed(void)
{
	this_sched()->timer_dirty = true;
}

bool sched_timer_is_dirty(void)
{
	return __atomic_load_n(&this_sched()->timer_dirty, __ATOMIC_RELAXED);
}

static void unload_current(void)
{
	struct hart *h = this_hart();

	if (h->current) {
		sbi_vcpu_sched_out(h->current); /* steal time starts if it is still runnable */
		vcpu_arch_put(&h->current->arch);
		/* Its state is in memory from here (vm_pause waits for this). */
		__atomic_store_n(&h->current->loaded, false, __ATOMIC_RELEASE);
		h->current = NULL;
	}
}

static void load(struct vcpu *v)
{
	struct hart *h = this_hart();

	/* Its IMSIC file into a free guest interrupt file of this hart, if there is one (also
	 * when it stays: another vCPU may have left one free). */
	if (h->current == v) {
		vcpu_aia_load(v);
		return;
	}
	unload_current();
	__atomic_store_n(&v->loaded, true, __ATOMIC_RELAXED);
	vcpu_arch_load(&v->arch);
	h->current = v;
	vcpu_aia_load(v);
	sbi_vcpu_sched_in(v); /* its steal-time record is written here */
}

/* Remove vCPUs of stopping VMs from this hart; the last one out frees its VM. */
static void reap_stopped(struct sched_hart *sh)
{
	struct vcpu **link = &sh->vcpus;

	spin_lock(&sh->lock);
	while (*link) {
		struct vcpu *v = *link;
		if (v->vm->state != VM_STOPPING) {
			link = &v->next_on_hart;
			continue;
		}
		*link = v->next_on_hart;
		sh->count--;
		__atomic_fetch_sub(&sh->assigned, 1, __ATOMIC_RELAXED);
		if (sh->cursor == v)
			sh->cursor = NULL;
		if (vcpu_is_loaded(v))
			unload_current();
		vcpu_aia_release(v); /* this hart's guest interrupt file is free again */
		spin_unlock(&sh->lock);
		vm_vcpu_detached(v); /* may free v and its VM */
		spin_lock(&sh->lock);
		link = &sh->vcpus;
	}
	spin_unlock(&sh->lock);
}

/* Software timer deadlines (no Sstc) that have passed raise the guests' timer lines. */
static void expire_timers(struct sched_hart *sh, uint64_t now)
{
	for (struct vcpu *v = sh->vcpus; v; v = v->next_on_hart)
		vcpu_timer_expire(v, now);
}

static bool vcpu_runnable(struct vcpu *v)
{
	if (v->vm->state != VM_RUNNING || vcpu_held(v))
		return false;
	if (v->hsm == VCPU_START_PENDING)
		vcpu_complete_start(v);
	if (v->hsm != VCPU_STARTED && v->hsm != VCPU_SUSPENDED)
		return false;
	if (!v->waiting)
		return true;
	if (vcpu_has_wakeup_irq(v, vcpu_is_loaded(v))) {
		vcpu_wake(v);
		return true;
	}
	return false;
}

/* Next runnable vCPU after the cursor, round-robin; counts the runnable ones. */
static struct vcpu *pick_next(struct sched_hart *sh, unsigned *runnable)
{
	struct vcpu *pick = NULL;
	struct vcpu *start;

	/* Stay with the current vCPU until its slice is over; then move on. */
	if (sh->cursor && hart_time() < sh->slice_end)
		start = sh->cursor;
	else
		start =
		    sh->cursor && sh->cursor->next_on_hart ? sh->cursor->next_on_hart : sh->vcpus;

	*runnable = 0;
	spin_lock(&sh->lock);
	for (struct vcpu *v = start; v;) {
		if (vcpu_runnable(v)) {
			(*runnable)++;
			if (!pick)
				pick = v;
		}
		v = v->next_on_hart ? v->next_on_hart : sh->vcpus;
		if (v == start)
			break;
	}
	spin_unlock(&sh->lock);
	sh->cursor = pick;
	__atomic_store_n(&sh->nr_runnable, *runnable, __ATOMIC_RELAXED);
	return pick;
}

/* Earliest moment something on this hart needs the CPU. */
static uint64_t next_event(struct sched_hart *sh, bool slicing)
{
	uint64_t next = slicing ? sh->slice_end : UINT64_MAX;

	/* A VM's partial console line (a prompt) must not wait for the next interrupt. */
	uint64_t console_due = vm_console_next_flush(); /* not inside MIN: it would run twice */

	next = MIN(next, console_due);
	/* Host devices whose interrupts do not reach Vireo are polled (host_irq.h). */
	uint64_t poll_due = host_irq_poll_deadline();
	next = MIN(next, poll_due);
	uint64_t device_due = devtimer_next(); /* virtual devices' timers (RTC alarms) */
	next = MIN(next, device_due);

	for (struct vcpu *v = sh->vcpus; v; v = v->next_on_hart) {
		/* Nothing wakes a paused VM's vCPU: its deadline, once past, would keep the
		 * timer firing (and starve whatever else runs here). Its resume kicks us. */
		if (vcpu_held(v))
			continue;
		uint64_t due = vcpu_timer_next_event(v, vcpu_is_loaded(v));
		next = MIN(next, due);
	}
	return next;
}

static void handle_host_irqs(struct sched_hart *sh)
{
	unsigned irqs = hart_pending_irqs();

	if (irqs & HART_IRQ_IPI)
		hart_ack_ipi();
	if (irqs & HART_IRQ_TIMER) {
		expire_timers(sh, hart_time());
		vm_console_tick(hart_time());
		devtimer_expire(hart_time());
		hart_set_timer(UINT64_MAX);
		sh->timer_dirty = true;
	}
	if (irqs & HART_IRQ_EXT) {
		host_irq_handle();
		/* A host disk finished something: disks that it turned away may go on. */
		vm_kick_disks();
	}
	if (host_irq_poll(hart_time())) {
		vm_kick_disks();
		sh->timer_dirty = true;
	}
	unsigned long req = hart_take_requests();
	if (req & HART_REQ_HALT)
		hart_halt();
	if (req & HART_REQ_GVMA_FLUSH)
		hart_flush_gstage_tlb();
	/* A vCPU's state changed (a resumed VM's deadlines count again): set the timer anew. */
	if (req & HART_REQ_KICK)
		sh->timer_dirty = true;
}

/* Run v until it blocks, yields, its slice ends or the hart has other work. */
static void run(struct sched_hart *sh, struct vcpu *v, bool slicing)
{
	for (;;) {
		if (sh->timer_dirty) {
			sh->timer_dirty = false;
			hart_set_timer(next_event(sh, slicing));
		}
		enum vcpu_action action = vcpu_run_once(v);
		if (action != VCPU_CONTINUE)
			return;
		if (hart_pending_irqs() ||
		    __atomic_load_n(&this_hart()->requests, __ATOMIC_RELAXED))
			return;
	}
}

static bool may_run_on(const struct vcpu *v, const struct hart *h)
{
	return hart_allowed(v->vm->config.hart_affinity, h);
}

/* A runnable vCPU of ours that is not loaded here (its state is all in memory). */
static struct vcpu *movable_vcpu(struct sched_hart *sh, const struct hart *to)
{
	for (struct vcpu *v = sh->vcpus; v; v = v->next_on_hart)
		if (!vcpu_is_loaded(v) && may_run_on(v, to) && v->vm->state == VM_RUNNING &&
		    v->hsm == VCPU_STARTED && !v->waiting)
			return v;
	return NULL;
}

/* Take v off this hart's list (its lock held). */
static void unlink_vcpu(struct sched_hart *from, struct vcpu *v)
{
	struct vcpu **link;

	spin_assert_held(&from->lock);
	for (link = &from->vcpus; *link != v; link = &(*link)->next_on_hart)
		;
	*link = v->next_on_hart;
	from->count--;
	if (from->cursor == v)
		from->cursor = NULL;
	__atomic_fetch_sub(&from->assigned, 1, __ATOMIC_RELAXED);
}

/* Put v on another hart's list. The two harts' locks are never held together: two
 * harts pushing to each other at once cannot deadlock. */
static void link_vcpu(struct vcpu *v, struct hart *to)
{
	struct sched_hart *dest = &sched_harts[to->index];

	spin_lock(&dest->lock);
	v->next_on_hart = dest->vcpus;
	dest->vcpus = v;
	dest->count++;
	__atomic_fetch_add(&dest->assigned, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&v->hart, to, __ATOMIC_SEQ_CST);
	/* Its timer deadlines are the new hart's to program now (it may be asleep with
	 * its timer off). */
	__atomic_store_n(&dest->timer_dirty, true, __ATOMIC_RELEASE);
	spin_unlock(&dest->lock);
	v->migrations++;
}

/* How busy another hart is: nothing if it sleeps, else its runnable count. */
static unsigned hart_load(unsigned index)
{
	if (__atomic_load_n(&sched_harts[index].idle, __ATOMIC_ACQUIRE))
		return 0;
	return __atomic_load_n(&sched_harts[index].nr_runnable, __ATOMIC_RELAXED);
}

/*
 * Push migration: when another hart has at least two fewer runnable vCPUs
 * than this one (a sleeping hart counts as none), hand it a vCPU that is not
 * loaded here. Only the owner moves its vCPUs, and only unloaded ones, so no
 * live CSR state is ever left behind; the new hart flushes the VS-stage TLB
 * when it loads the vCPU. Each move strictly evens the load: no ping-pong.
 * A guest that never idles cannot keep a hart while another is crowded.
 */
static void push_work(struct sched_hart *sh, unsigned runnable)
{
	struct hart *self = this_hart();
	struct hart *best = NULL;
	struct vcpu *v = NULL;
	unsigned best_load = runnable;

	/* The least loaded hart that one of our vCPUs may go to: a hart no vCPU of ours
	 * is allowed on does not count, however idle it is. */
	spin_lock(&sh->lock);
	for (unsigned i = 0; i < hart_count(); i++) {
		struct hart *to = hart_by_index(i);
		unsigned load = hart_load(i);
		struct vcpu *candidate;

		if (to == self || !to->online || load + 1 >= best_load)
			continue;
		candidate = movable_vcpu(sh, to);
		if (candidate) {
			best = to;
			best_load = load;
			v = candidate;
		}
	}
	if (v)
		unlink_vcpu(sh, v);
	spin_unlock(&sh->lock);
	if (!v)
		return;
	/* Its IMSIC file is one of this hart's guest files: take the state along (the new
	 * hart gives it one of its own when it loads it). Only this hart can read it. */
	vcpu_aia_release(v);
	sched_harts[best->index].idle = false;
	__atomic_fetch_add(&sched_harts[best->index].nr_runnable, 1, __ATOMIC_RELAXED);
	link_vcpu(v, best);
	hart_request(best, HART_REQ_RESCHED);
}

static void sleep_until_work(struct sched_hart *sh)
{
	hart_set_timer(next_event(sh, false));
	sh->timer_dirty = false;
	sh->slicing = false;
	__atomic_store_n(&sh->idle, true, __ATOMIC_RELEASE);
	hart_wait_for_interrupt();
	__atomic_store_n(&sh->idle, false, __ATOMIC_RELEASE);
}

/* A new slice when another vCPU gets the hart, when the last one is used up, or
 * when slicing starts: a vCPU that ran alone until now has no slice timer armed,
 * and a guest spinning on memory would never give the hart back. */
static void update_slice(struct sched_hart *sh, const struct vcpu *v, bool slicing)
{
	if (slicing &&
	    (this_hart()->current != v || !sh->slicing || hart_time() >= sh->slice_end)) {
		sh->slice_end = hart_time() + time_us_to_ticks(SCHED_SLICE_US);
		sh->timer_dirty = true;
	}
	if (slicing != sh->slicing)
		sh->timer_dirty = true;
	sh->slicing = slicing;
}

bool sched_vcpu_alone(const struct vcpu *v)
{
	return this_hart()->current == v &&
	       __atomic_load_n(&this_sched()->count, __ATOMIC_RELAXED) == 1;
}

void sched_park_current(void)
{
	struct vcpu *v = this_hart()->current;

	if (v && vcpu_held(v))
		unload_current();
}

void sched_step(void)
{
	struct sched_hart *sh = this_sched();
	unsigned runnable;
	struct vcpu *v;

	handle_host_irqs(sh);
	sched_park_current();
	reap_stopped(sh);
	v = pick_next(sh, &runnable);
	if (!v) {
		sleep_until_work(sh);
		return;
	}
	if (runnable > 1) {
		push_work(sh, runnable);
		/* If the pick itself went away, choose again (without skipping anyone). */
		if (v->hart != this_hart())
			return;
	}
	update_slice(sh, v, runnable > 1);
	/* A vCPU alone on its hart could wait in wfi in the hart itself (no trip through
	 * the scheduler), but on QEMU 7.2 such a wait can miss its Sstc timer: a guest
	 * looping on 10 ms sleeps hangs within a few hundred. So wfi always exits, and
	 * the scheduler waits with the host timer armed for the vCPU's deadline. */
	vcpu_arch_set_wfi_exits(&v->arch, SCHED_WFI_ALWAYS_EXITS || sh->count > 1);
	load(v);
	run(sh, v, runnable > 1);
}

void vireo_hart_loop(void)
{
	this_sched()->timer_dirty = true;
	for (;;)
		sched_step();
}
