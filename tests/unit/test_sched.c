// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the per-hart scheduler (hv/core/sched.c) with the real vCPU
 * timer (hv/core/vcpu_timer.c) and timebase conversions (hv/lib/time.c).
 *
 * Everything else is faked here. The harts are several struct hart, and
 * this_hart() is whichever one the test says; they share one clock that the
 * test (and every trip into a guest) advances. A hart's interrupts follow the
 * real rules: its timer is pending once the clock reaches what the scheduler
 * programmed, a request to another hart sends it an IPI, and requests are
 * taken by exchange. vcpu_run_once records which vCPU ran on which hart and
 * answers what the test scripted for that vCPU.
 *
 * sched.c keeps its per-hart state in a file-static array with no reset, so
 * it is compiled into this file (not linked) and every test starts from a
 * fresh scheduler.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../hv/core/sched.c"

#define NHARTS	 4
#define NVMS	 3
#define NVCPUS	 8
#define HARTID0	 4 /* hart ids differ from indices: affinity masks name ids */
#define MAX_RUNS 1024
#define RUN_CAP	 200 /* trips into guests in one sched_step before we call it a hang */

#define MS(n)  time_us_to_ticks(1000ULL * (n))
#define SLICE  time_us_to_ticks(SCHED_SLICE_US)
#define T0     1000000ULL /* the clock at the start of each test */
#define NEVER  UINT64_MAX
#define HID(i) (HARTID0 + (i))

/* ---------------------------------------------------------------- the world */

static struct hart harts[NHARTS];
static unsigned nharts;
static struct hart *cur; /* this_hart() */
static uint64_t now;

/* The interrupt state of each fake hart. */
static struct {
	uint64_t timer; /* what hart_set_timer last programmed */
	unsigned timer_sets;
	bool ipi, ext;
	unsigned wfis;
	uint64_t timer_at_wfi; /* the host timer when the hart went to sleep */
	unsigned halts, gstage_flushes, host_irqs;
} hs[NHARTS];

static struct vm vms[NVMS];
static struct vcpu vcpus[NVCPUS];

/* Per vCPU: what the fakes answer and what they saw. */
static struct {
	enum vcpu_action action; /* what vcpu_run_once returns */
	bool wakeup;		 /* vcpu_has_wakeup_irq answers this (or the timer line) */
	unsigned runs, wakes, starts, loads, puts, detached, kicks;
	/* Its guest interrupt file: the hart index it holds one on (-1: none), releases. */
	int file_hart;
	unsigned releases;
	unsigned sched_ins, sched_outs; /* the SBI hooks (steal time, PMU) */
	bool line_at_run;		/* vcpu_timer_line at the last run */
	int wfi_exits;			/* vcpu_arch_set_wfi_exits: -1 never set */
	uint64_t timer_at_first_run;
} vs[NVCPUS];

/* Which vCPU ran where, in order. */
static struct {
	unsigned hart, vcpu;
} runs[MAX_RUNS];
static unsigned nruns;
static unsigned step_runs;

static uint64_t run_ticks;	       /* how long each trip into a guest takes */
static void (*on_run)(struct vcpu *v); /* a test's hook, called on every trip */
static uint64_t console_due;	       /* vm_console_next_flush */
static unsigned console_ticks;
static uint64_t console_tick_at;
static unsigned kicked_disks;
static jmp_buf halt_jmp;

static unsigned idx(const struct vcpu *v)
{
	assert_true(v >= vcpus && v < vcpus + NVCPUS);
	return (unsigned)(v - vcpus);
}

static unsigned hidx(const struct hart *h)
{
	assert_true(h >= harts && h < harts + NHARTS);
	return (unsigned)(h - harts);
}

/* ---------------------------------------------------------------- fakes: harts */

struct hart *this_hart(void)
{
	return cur;
}

unsigned hart_count(void)
{
	return nharts;
}

struct hart *hart_by_index(unsigned index)
{
	assert_true(index < nharts);
	return &harts[index];
}

void hart_request(struct hart *target, unsigned long request)
{
	__atomic_fetch_or(&target->requests, request, __ATOMIC_SEQ_CST);
	if (target != cur)
		hs[hidx(target)].ipi = true;
}

unsigned long hart_take_requests(void)
{
	return __atomic_exchange_n(&cur->requests, 0, __ATOMIC_SEQ_CST);
}

unsigned hart_pending_irqs(void)
{
	unsigned h = hidx(cur);
	unsigned irqs = 0;

	if (hs[h].ipi)
		irqs |= HART_IRQ_IPI;
	if (now >= hs[h].timer)
		irqs |= HART_IRQ_TIMER;
	if (hs[h].ext)
		irqs |= HART_IRQ_EXT;
	return irqs;
}

void hart_ack_ipi(void)
{
	hs[hidx(cur)].ipi = false;
}

void hart_set_timer(uint64_t deadline)
{
	hs[hidx(cur)].timer = deadline;
	hs[hidx(cur)].timer_sets++;
}

uint64_t hart_time(void)
{
	return now;
}

/* The test advances the clock itself: sleeping only records. */
void hart_wait_for_interrupt(void)
{
	hs[hidx(cur)].wfis++;
	hs[hidx(cur)].timer_at_wfi = hs[hidx(cur)].timer;
}

void hart_halt(void)
{
	hs[hidx(cur)].halts++;
	longjmp(halt_jmp, 1);
}

void hart_flush_gstage_tlb(void)
{
	hs[hidx(cur)].gstage_flushes++;
}

void host_irq_handle(void)
{
	hs[hidx(cur)].host_irqs++;
	hs[hidx(cur)].ext = false;
}

/* The host's interrupts reach it: nothing is polled. */
uint64_t host_irq_poll_deadline(void)
{
	return UINT64_MAX;
}

bool host_irq_poll(uint64_t time)
{
	(void)time;
	return false;
}

void panic(const char *fmt, ...)
{
	fail_msg("panic: %s", fmt);
	abort();
}

/* ---------------------------------------------------------------- fakes: VMs, vCPUs */

void vm_kick_disks(void)
{
	kicked_disks++;
}

uint64_t vm_console_next_flush(void)
{
	return console_due;
}

void vm_console_tick(uint64_t t)
{
	console_ticks++;
	console_tick_at = t;
}

/* The real one may free v and its VM: poison what the scheduler must not touch again. */
void vm_vcpu_detached(struct vcpu *v)
{
	assert_int_equal(v->vm->state, VM_STOPPING);
	assert_ptr_not_equal(cur->current, v);
	vs[idx(v)].detached++;
	v->vm = NULL;
	v->next_on_hart = (struct vcpu *)0x10;
}

/* Guest interrupt files: a vCPU takes one on the hart that loads it and gives it back
 * only on that hart, unloaded (the CSRs of a hart's files are that hart's alone). */
void vcpu_aia_load(struct vcpu *v)
{
	assert_ptr_equal(cur->current, v);
	assert_ptr_equal(v->hart, cur);
	if (vs[idx(v)].file_hart < 0)
		vs[idx(v)].file_hart = (int)hidx(cur);
	assert_int_equal(vs[idx(v)].file_hart, hidx(cur));
}

void vcpu_aia_release(struct vcpu *v)
{
	assert_ptr_not_equal(cur->current, v);
	if (vs[idx(v)].file_hart >= 0)
		assert_int_equal(vs[idx(v)].file_hart, hidx(cur));
	vs[idx(v)].file_hart = -1;
	vs[idx(v)].releases++;
}

void vcpu_kick(struct vcpu *v)
{
	vs[idx(v)].kicks++;
}

bool vcpu_is_loaded(const struct vcpu *v)
{
	return cur->current == v;
}

void vcpu_complete_start(struct vcpu *v)
{
	vs[idx(v)].starts++;
	if (v->hsm == VCPU_START_PENDING)
		v->hsm = VCPU_STARTED;
}

bool vcpu_has_wakeup_irq(struct vcpu *v, bool loaded)
{
	assert_int_equal(loaded, cur->current == v);
	return vs[idx(v)].wakeup || vcpu_timer_line(v);
}

void vcpu_wake(struct vcpu *v)
{
	assert_true(v->waiting);
	vs[idx(v)].wakes++;
	v->waiting = false;
}

void vcpu_arch_load(struct vcpu_arch *a)
{
	struct vcpu *v = container_of(a, struct vcpu, arch);

	/* One vCPU at a time on a hart, and only on the hart it belongs to. */
	assert_null(cur->current);
	assert_ptr_equal(v->hart, cur);
	vs[idx(v)].loads++;
}

void vcpu_arch_set_wfi_exits(struct vcpu_arch *a, bool exits)
{
	vs[idx(container_of(a, struct vcpu, arch))].wfi_exits = exits;
}

void vcpu_arch_put(struct vcpu_arch *a)
{
	struct vcpu *v = container_of(a, struct vcpu, arch);

	assert_ptr_equal(cur->current, v);
	vs[idx(v)].puts++;
}

/* The SBI extensions' hooks: on the hart, while the vCPU's state is live there. */
void sbi_vcpu_sched_in(struct vcpu *v)
{
	assert_ptr_equal(cur->current, v);
	assert_int_equal(vs[idx(v)].sched_ins, vs[idx(v)].loads - 1);
	vs[idx(v)].sched_ins++;
}

void sbi_vcpu_sched_out(struct vcpu *v)
{
	assert_ptr_equal(cur->current, v);
	assert_int_equal(vs[idx(v)].sched_outs, vs[idx(v)].puts);
	vs[idx(v)].sched_outs++;
}

enum vcpu_action vcpu_run_once(struct vcpu *v)
{
	unsigned i = idx(v);

	assert_ptr_equal(v->hart, cur);
	assert_ptr_equal(cur->current, v);
	assert_int_equal(v->vm->state, VM_RUNNING);
	assert_false(v->waiting);
	assert_true(++step_runs <= RUN_CAP);
	if (!vs[i].runs)
		vs[i].timer_at_first_run = hs[hidx(cur)].timer;
	vs[i].runs++;
	vs[i].line_at_run = vcpu_timer_line(v);
	assert_true(nruns < MAX_RUNS);
	runs[nruns].hart = hidx(cur);
	runs[nruns++].vcpu = i;
	now += run_ticks;
	if (on_run)
		on_run(v);
	if (vs[i].action == VCPU_BLOCK)
		v->waiting = true;
	return vs[i].action;
}

void vcpu_arch_set_irq_line(struct vcpu_arch *a, unsigned irq, bool level)
{
	(void)a;
	(void)irq;
	(void)level;
}

void vcpu_arch_set_vstimecmp(struct vcpu_arch *a, uint64_t deadline)
{
	a->vs.vstimecmp = deadline;
}

uint64_t vcpu_arch_sstc_deadline(struct vcpu_arch *a, bool loaded)
{
	(void)loaded;
	return a->vs.vstimecmp;
}

uint64_t vcpu_arch_guest_time(const struct vcpu_arch *a)
{
	(void)a;
	return now;
}

/* Guest time is host time + htimedelta (a restored VM's clock); no wrap in these tests. */
uint64_t vcpu_arch_host_deadline(const struct vcpu_arch *a, uint64_t guest_deadline)
{
	if (guest_deadline == UINT64_MAX)
		return UINT64_MAX;
	return guest_deadline - (uint64_t)a->hcfg.htimedelta;
}

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
	(void)state;
	memset(sched_harts, 0, sizeof(sched_harts));
	memset(harts, 0, sizeof(harts));
	memset(hs, 0, sizeof(hs));
	memset(vms, 0, sizeof(vms));
	memset(vcpus, 0, sizeof(vcpus));
	memset(vs, 0, sizeof(vs));
	for (unsigned i = 0; i < NVCPUS; i++)
		vs[i].file_hart = -1;
	nruns = step_runs = 0;
	nharts = 2;
	now = T0;
	run_ticks = MS(1);
	on_run = NULL;
	console_due = NEVER;
	console_ticks = kicked_disks = 0;
	console_tick_at = 0;
	for (unsigned i = 0; i < NHARTS; i++) {
		harts[i].index = i;
		harts[i].hartid = HID(i);
		harts[i].online = true;
		hs[i].timer = NEVER;
	}
	for (unsigned i = 0; i < NVMS; i++) {
		vms[i].id = i + 1;
		vms[i].state = VM_RUNNING;
	}
	cur = &harts[0];
	return 0;
}

/* vCPU i of VM vm: started, no timer, and every trip into it ends with VCPU_CONTINUE. */
static struct vcpu *mk_vcpu(unsigned i, unsigned vm)
{
	struct vcpu *v = &vcpus[i];
	struct vm *m = &vms[vm];

	v->vm = m;
	v->id = m->nvcpus;
	m->vcpus[m->nvcpus++] = v;
	m->attached_vcpus++;
	v->hsm = VCPU_STARTED;
	vcpu_timer_reset(v, false);
	v->arch.vs.vstimecmp = NEVER;
	vs[i].action = VCPU_CONTINUE;
	return v;
}

/* Put vCPU i on hart h, as vm_create and vm_start do (placed by sched_pick_hart,
 * here told which hart it may use). */
static struct vcpu *attach(unsigned i, unsigned vm, unsigned h)
{
	struct vcpu *v = mk_vcpu(i, vm);

	v->hart = sched_pick_hart(BIT(HID(h)));
	assert_ptr_equal(v->hart, &harts[h]);
	sched_attach(v);
	assert_int_equal(vs[i].kicks, 1);
	return v;
}

static void step_on(unsigned h)
{
	cur = &harts[h];
	step_runs = 0;
	sched_step();
}

/* One step on hart h; returns the vCPU that ran (only one may, and on h), or -1. */
static int step_who(unsigned h)
{
	unsigned from = nruns;
	int who = -1;

	step_on(h);
	for (unsigned r = from; r < nruns; r++) {
		if (who < 0)
			who = (int)runs[r].vcpu;
		assert_int_equal(runs[r].vcpu, who);
		assert_int_equal(runs[r].hart, h);
	}
	return who;
}

/* sched_pick_hart, as a hart index. */
static unsigned pick_index(unsigned long affinity)
{
	struct hart *h = sched_pick_hart(affinity);

	assert_non_null(h);
	return hidx(h);
}

/* ---------------------------------------------------------------- round robin, slices */

static void test_round_robin_with_slices(void **state)
{
	int order[9];
	unsigned counted[NVCPUS] = {0};

	(void)state;
	nharts = 1;
	for (unsigned i = 0; i < 3; i++)
		attach(i, 0, 0);
	for (unsigned s = 0; s < ARRAY_SIZE(order); s++) {
		unsigned from = nruns;
		uint64_t start = now;

		order[s] = step_who(0);
		assert_true(order[s] >= 0);
		/* Each got its whole slice, no more: 10 trips of 1 ms. */
		assert_int_equal(nruns - from, SLICE / MS(1));
		assert_int_equal(now - start, SLICE);
		counted[order[s]]++;
	}
	/* Every vCPU in turn, the same turn every round. */
	assert_int_not_equal(order[0], order[1]);
	assert_int_not_equal(order[1], order[2]);
	assert_int_not_equal(order[0], order[2]);
	for (unsigned s = 3; s < ARRAY_SIZE(order); s++)
		assert_int_equal(order[s], order[s - 3]);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(counted[i], 3);
	/* Changing vCPUs saved the old one's state each time; the SBI hooks saw each. */
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(vs[i].loads, 3);
		assert_int_equal(vs[i].sched_ins, vs[i].loads);
		assert_int_equal(vs[i].sched_outs, vs[i].puts);
	}
}

/* An interrupt in the middle of a slice: the same vCPU goes on to the end of
 * its slice (not a fresh one), then the next vCPU runs. */
static int ext_at_run;

static void ext_irq_hook(struct vcpu *v)
{
	(void)v;
	if (nruns == (unsigned)ext_at_run)
		hs[hidx(cur)].ext = true;
}

static void test_slice_survives_interrupt(void **state)
{
	int first, second, third;
	uint64_t start = now;

	(void)state;
	nharts = 1;
	attach(0, 0, 0);
	attach(1, 0, 0);
	ext_at_run = 3;
	on_run = ext_irq_hook;
	first = step_who(0);
	assert_int_equal(nruns, 3); /* the interrupt ended the run loop after 3 ms */
	second = step_who(0);
	assert_int_equal(hs[0].host_irqs, 1);
	assert_int_equal(kicked_disks, 1);
	assert_int_equal(second, first);
	assert_int_equal(now - start, SLICE); /* the rest of the slice, not a new one */
	assert_int_equal(vs[first].loads, 1);
	third = step_who(0);
	assert_int_not_equal(third, first);
	assert_int_equal(nruns, 2 * SLICE / MS(1));
}

/* A vCPU that blocks gives the hart away at once; the other runs alone, unsliced. */
static void test_block_gives_hart_away(void **state)
{
	(void)state;
	nharts = 1;
	attach(0, 0, 0);
	attach(1, 0, 0);
	vs[1].action = VCPU_BLOCK; /* vCPU 1 is the head of the list: it runs first */
	assert_int_equal(step_who(0), 1);
	assert_int_equal(nruns, 1);
	assert_true(vcpus[1].waiting);
	vs[0].action = VCPU_BLOCK;
	assert_int_equal(step_who(0), 0);
	assert_int_equal(vs[0].timer_at_first_run, NEVER); /* alone: no slice timer */
	assert_int_equal(vs[1].wakes, 0);
	/* Nothing left: the hart sleeps. */
	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].wfis, 1);
}

/* wfi exits, alone (SCHED_WFI_ALWAYS_EXITS, QEMU 7.2) or not; never waits in the hart
 * of a vCPU that shares it. */
static void test_wfi_exits_only_with_company(void **state)
{
	(void)state;
	nharts = 1;
	attach(0, 0, 0);
	vs[0].wfi_exits = -1;
	vs[0].action = VCPU_YIELD; /* one trip a step */
	assert_int_equal(step_who(0), 0);
	assert_int_equal(vs[0].wfi_exits, SCHED_WFI_ALWAYS_EXITS);
	attach(1, 0, 0);
	vs[1].action = VCPU_YIELD;
	vs[0].wfi_exits = vs[1].wfi_exits = -1;
	for (unsigned s = 0; s < 2; s++) {
		int who = step_who(0);

		assert_true(who >= 0);
		assert_int_equal(vs[who].wfi_exits, 1);
	}
	/* Even one that is not runnable counts (it may be started at any time). */
	vcpus[1].hsm = VCPU_STOPPED;
	vs[0].wfi_exits = -1;
	assert_int_equal(step_who(0), 0);
	assert_int_equal(vs[0].wfi_exits, 1);
}

/* Slicing starts when a second vCPU becomes runnable next to one that ran alone
 * (with no slice timer) and keeps the hart: it gets a fresh slice, on the host timer. */
static void wake_1_hook(struct vcpu *v)
{
	(void)v;
	if (nruns == 4) {
		vs[1].wakeup = true;
		hart_request(cur, HART_REQ_KICK);
	}
}

static void test_slice_timer_armed_when_slicing_starts(void **state)
{
	uint64_t start;

	(void)state;
	nharts = 1;
	attach(0, 0, 0);
	attach(1, 0, 0); /* the head of the list: runs first */
	vs[1].action = VCPU_BLOCK;
	assert_int_equal(step_who(0), 1);
	/* vCPU 0 runs alone, unsliced, until vCPU 1 wakes (at 4 ms, inside the old slice). */
	on_run = wake_1_hook;
	assert_int_equal(step_who(0), 0);
	assert_int_equal(nruns, 4);
	assert_int_equal(vs[0].timer_at_first_run, NEVER);
	assert_int_equal(vs[1].wakes, 0);

	on_run = NULL;
	start = now;
	assert_int_equal(step_who(0), 0);
	assert_int_equal(vs[1].wakes, 1);
	assert_int_equal(hs[0].timer, start + SLICE);
	assert_int_equal(now, start + SLICE);
	vs[1].action = VCPU_CONTINUE;
	assert_int_equal(step_who(0), 1);
	assert_int_equal(now, start + 2 * SLICE);
}

/* ---------------------------------------------------------------- waiting, idle, timers */

static void test_waiting_vcpu_skipped_until_wakeup(void **state)
{
	(void)state;
	nharts = 1;
	attach(0, 0, 0)->waiting = true;
	attach(1, 0, 0);
	vs[1].action = VCPU_YIELD;
	for (unsigned s = 0; s < 3; s++)
		assert_int_equal(step_who(0), 1);
	assert_int_equal(vs[0].runs, 0);
	assert_int_equal(vs[0].wakes, 0);
	assert_true(vcpus[0].waiting);

	vs[0].wakeup = true;
	/* Both runnable now; vCPU 0 gets its turn and was woken on the way. */
	assert_int_equal(step_who(0), 0);
	assert_int_equal(vs[0].wakes, 1);
	assert_false(vcpus[0].waiting);
}

static void test_idle_sleeps_until_earliest_deadline(void **state)
{
	struct vcpu *a, *b, *c;

	(void)state;
	nharts = 1;
	a = attach(0, 0, 0);
	b = attach(1, 0, 0);
	c = attach(2, 1, 0);
	a->waiting = b->waiting = c->waiting = true;
	vcpu_timer_set(a, now + MS(5));
	vcpu_timer_set(b, now + MS(3));
	/* c uses Sstc; its deadline counts only while it waits. */
	vcpu_timer_reset(c, true);
	vcpu_timer_set(c, now + MS(4));
	console_due = now + MS(7);

	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].wfis, 1);
	assert_int_equal(hs[0].timer_at_wfi, T0 + MS(3));

	/* An earlier console flush or Sstc deadline brings the timer forward. */
	vcpu_timer_set(b, NEVER);
	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].timer_at_wfi, T0 + MS(4));
	console_due = now + MS(1);
	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].timer_at_wfi, T0 + MS(1));
	assert_int_equal(hs[0].wfis, 3);

	/* No deadline at all: sleep with the timer off. */
	console_due = NEVER;
	vcpu_timer_set(a, NEVER);
	vcpu_timer_set(c, NEVER);
	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].timer_at_wfi, NEVER);
}

static void test_timer_deadline_raises_line(void **state)
{
	struct vcpu *a, *b;

	(void)state;
	nharts = 1;
	a = attach(0, 0, 0);
	b = attach(1, 0, 0);
	a->waiting = b->waiting = true;
	vs[0].action = VCPU_BLOCK;
	vcpu_timer_set(a, T0 + MS(2));
	vcpu_timer_set(b, T0 + MS(50));

	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].timer_at_wfi, T0 + MS(2));
	/* Woken early by something else: the deadline has not passed, nothing happens. */
	now = T0 + MS(1);
	hs[0].ipi = true;
	assert_int_equal(step_who(0), -1);
	assert_false(vcpu_timer_line(a));
	assert_int_equal(console_ticks, 0);

	/* The host timer fires: a's line goes up, a wakes and runs with it up. */
	now = T0 + MS(2);
	assert_int_equal(step_who(0), 0);
	assert_true(vcpu_timer_line(a));
	assert_true(vs[0].line_at_run);
	assert_int_equal(vs[0].wakes, 1);
	assert_int_equal(console_ticks, 1);
	assert_int_equal(console_tick_at, T0 + MS(2));
	/* b's deadline is still ahead: untouched, and the host timer now carries it. */
	assert_false(vcpu_timer_line(b));
	assert_int_equal(vs[1].runs, 0);
	assert_int_equal(vs[0].timer_at_first_run, T0 + MS(50));
}

/* A restored VM's clock is ahead of the host's (htimedelta): its deadlines are in guest
 * time, and the host timer is armed at the host time they come. */
static void test_timer_deadline_of_a_restored_clock(void **state)
{
	struct vcpu *a;

	(void)state;
	nharts = 1;
	a = attach(0, 0, 0);
	a->arch.hcfg.htimedelta = (int64_t)MS(100);
	a->waiting = true;
	vs[0].action = VCPU_BLOCK;
	vcpu_timer_set(a, T0 + MS(102));

	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].timer_at_wfi, T0 + MS(2));
	now = T0 + MS(1);
	hs[0].ipi = true;
	assert_int_equal(step_who(0), -1);
	assert_false(vcpu_timer_line(a));
	now = T0 + MS(2);
	assert_int_equal(step_who(0), 0);
	assert_true(vcpu_timer_line(a));
}

/* A device timer (an RTC alarm) is one more deadline: an idle hart sleeps until it, and
 * the timer interrupt runs it. */
static unsigned devtimer_calls;
static uint64_t devtimer_called_at;

static uint64_t device_expired(struct devtimer *t, uint64_t at)
{
	(void)t;
	devtimer_calls++;
	devtimer_called_at = at;
	return NEVER;
}

static void test_device_timer_wakes_an_idle_hart(void **state)
{
	struct devtimer t;

	(void)state;
	nharts = 1;
	devtimer_calls = 0;
	devtimer_init(&t, device_expired);
	devtimer_arm(&t, T0 + MS(4));
	console_due = now + MS(9);
	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].timer_at_wfi, T0 + MS(4));
	assert_int_equal(devtimer_calls, 0);
	now = T0 + MS(4);
	assert_int_equal(step_who(0), -1);
	assert_int_equal(devtimer_calls, 1);
	assert_int_equal(devtimer_called_at, T0 + MS(4));
	/* Done with: the hart sleeps until the next deadline there is. */
	assert_int_equal(hs[0].timer_at_wfi, T0 + MS(9));
	devtimer_remove(&t);
}

/* ---------------------------------------------------------------- host interrupts, requests */

static void test_host_requests(void **state)
{
	(void)state;
	nharts = 1;
	hs[0].ext = true;
	hart_request(&harts[0], HART_REQ_GVMA_FLUSH);
	step_on(0);
	assert_int_equal(hs[0].host_irqs, 1);
	assert_int_equal(kicked_disks, 1);
	assert_int_equal(hs[0].gstage_flushes, 1);
	assert_int_equal(harts[0].requests, 0);

	hart_request(&harts[0], HART_REQ_HALT);
	if (!setjmp(halt_jmp))
		step_on(0);
	assert_int_equal(hs[0].halts, 1);
}

static void test_start_pending_completes(void **state)
{
	struct vcpu *v;

	(void)state;
	nharts = 1;
	v = attach(0, 0, 0);
	v->hsm = VCPU_START_PENDING;
	vs[0].action = VCPU_YIELD;
	assert_int_equal(step_who(0), 0);
	assert_int_equal(vs[0].starts, 1);
	/* Stopped vCPUs do not run. */
	v->hsm = VCPU_STOPPED;
	assert_int_equal(step_who(0), -1);
}

/* ---------------------------------------------------------------- push migration */

/* Hart h has nothing to run and sleeps. */
static void idle_hart(unsigned h)
{
	assert_int_equal(step_who(h), -1);
	assert_int_equal(hs[h].wfis, 1);
}

static void test_push_to_idle_hart(void **state)
{
	struct hart *before[3];
	unsigned moved = 0, which = 0;

	(void)state;
	idle_hart(1);
	for (unsigned i = 0; i < 3; i++) {
		before[i] = attach(i, 0, 0)->hart;
		vs[i].action = VCPU_YIELD;
	}
	/* Three runnable on hart 0, none on hart 1: one goes over. */
	step_on(0);
	for (unsigned i = 0; i < 3; i++) {
		if (vcpus[i].hart != before[i]) {
			moved++;
			which = i;
		}
	}
	assert_int_equal(moved, 1);
	assert_ptr_equal(vcpus[which].hart, &harts[1]);
	assert_int_equal(vcpus[which].migrations, 1);
	assert_true(harts[1].requests & HART_REQ_RESCHED);
	assert_true(hs[1].ipi);
	assert_int_equal(vs[which].runs, 0);

	/* Hart 1 wakes up and runs it; hart 0 keeps the other two and runs only those. */
	assert_int_equal(step_who(1), which);
	assert_int_equal(harts[1].requests, 0);
	for (unsigned s = 0; s < 4; s++) {
		int who = step_who(0);
		assert_true(who >= 0);
		assert_int_not_equal(who, which);
	}
	/* Two against one: no more moves (no ping-pong). */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(vcpus[i].migrations, i == which ? 1 : 0);
	/* Placement counts the move: hart 1 has one, hart 0 two. */
	assert_int_equal(pick_index(0), 1);
	assert_int_equal(pick_index(0), 0);
}

static void test_push_never_moves_loaded(void **state)
{
	struct vcpu *a, *b;

	(void)state;
	nharts = 2;
	/* b first, then a: a is at the head of hart 0's list. */
	b = attach(1, 0, 0);
	b->waiting = true;
	a = attach(0, 0, 0);
	vs[0].action = VCPU_YIELD;
	assert_int_equal(step_who(0), 0); /* a runs alone and stays loaded */
	assert_ptr_equal(harts[0].current, a);
	idle_hart(1);

	vs[1].wakeup = true;
	step_on(0);
	/* The loaded one stays even though it comes first; the other one moves. */
	assert_ptr_equal(a->hart, &harts[0]);
	assert_int_equal(a->migrations, 0);
	assert_ptr_equal(b->hart, &harts[1]);
	assert_int_equal(vs[1].loads, 0);
}

static void test_push_respects_affinity(void **state)
{
	(void)state;
	nharts = 3;
	/* VM 0 may use only hart 0 (by hart id), VM 1 harts 0 and 2; harts 1 and 2 idle. */
	vms[0].config.hart_affinity = BIT(HID(0));
	vms[1].config.hart_affinity = BIT(HID(0)) | BIT(HID(2));
	for (unsigned i = 0; i < 3; i++)
		attach(i, 0, 0);
	idle_hart(1);
	idle_hart(2);
	for (unsigned s = 0; s < 6; s++)
		assert_true(step_who(0) >= 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_ptr_equal(vcpus[i].hart, &harts[0]);
		assert_int_equal(vcpus[i].migrations, 0);
	}
	assert_int_equal(harts[1].requests | harts[2].requests, 0);

	/* An unpinned vCPU joins: it is the one that moves. */
	attach(3, 2, 0);
	step_on(0);
	for (unsigned i = 0; i < 3; i++)
		assert_ptr_equal(vcpus[i].hart, &harts[0]);
	assert_ptr_not_equal(vcpus[3].hart, &harts[0]);
	assert_int_equal(vcpus[3].migrations, 1);
}

/* The push takes the vCPU picked to run next; the one still loaded keeps the hart
 * and gets a whole new slice, not the end of its old one. */
static void test_push_then_fresh_slice(void **state)
{
	unsigned from;
	uint64_t start;

	(void)state;
	harts[1].online = false;
	attach(2, 0, 0);
	attach(1, 0, 0);
	attach(0, 0, 0); /* the list: 0, 1, 2 */
	assert_int_equal(step_who(0), 0);
	assert_int_equal(now, T0 + SLICE);

	/* Hart 1 comes up idle; vCPU 1, next in turn, is pushed there. */
	harts[1].online = true;
	idle_hart(1);
	assert_int_equal(step_who(0), -1);
	assert_ptr_equal(vcpus[1].hart, &harts[1]);
	assert_ptr_equal(harts[0].current, &vcpus[0]);

	from = nruns;
	start = now;
	assert_int_equal(step_who(0), 0);
	assert_int_equal(nruns - from, SLICE / MS(1));
	assert_int_equal(now, start + SLICE);
	assert_int_equal(step_who(0), 2);
}

/* A crowded hart whose vCPUs may use only some of the idle harts. */
static void test_push_to_allowed_idle_hart(void **state)
{
	(void)state;
	nharts = 3;
	/* VM 0 may use harts 0 and 2 (not 1); three runnable on hart 0, harts 1 and 2 idle. */
	vms[0].config.hart_affinity = BIT(HID(0)) | BIT(HID(2));
	for (unsigned i = 0; i < 3; i++)
		attach(i, 0, 0);
	idle_hart(1);
	idle_hart(2);
	for (unsigned s = 0; s < 3; s++)
		step_on(0);
	for (unsigned i = 0; i < 3; i++)
		assert_ptr_not_equal(vcpus[i].hart, &harts[1]);
	assert_int_equal(harts[1].requests, 0);

	/* Hart 1 is idle but not allowed; hart 2, which they may use, gets one. */
	assert_int_equal(vcpus[0].migrations + vcpus[1].migrations + vcpus[2].migrations, 1);
	assert_true(harts[2].requests & HART_REQ_RESCHED);
}

/* A vCPU pushed to a sleeping hart gets its software timer on that hart's host
 * timer before it runs there. */
static void test_pushed_vcpu_keeps_its_timer(void **state)
{
	struct vcpu *moved = NULL;

	(void)state;
	idle_hart(1);
	/* The guests set their timers on hart 0, where they run (SBI set_timer). */
	cur = &harts[0];
	for (unsigned i = 0; i < 2; i++) {
		attach(i, 0, 0);
		vcpu_timer_set(&vcpus[i], T0 + MS(3));
		vs[i].action = VCPU_YIELD;
	}
	step_on(0);
	for (unsigned i = 0; i < 2; i++)
		if (vcpus[i].hart == &harts[1])
			moved = &vcpus[i];
	assert_non_null(moved);

	/* Hart 1 went to sleep with its timer off; the pushed vCPU's deadline must be
	 * on its host timer before the vCPU runs there. */
	assert_int_equal(step_who(1), (int)idx(moved));
	assert_true(vs[idx(moved)].timer_at_first_run <= T0 + MS(3));
	/* So a guest that keeps running gets its timer interrupt at the deadline. */
	vs[idx(moved)].action = VCPU_CONTINUE;
	assert_int_equal(step_who(1), (int)idx(moved));
	assert_true(now <= T0 + MS(4));
	/* Next time in, the guest sees its timer line up (and gives the hart back). */
	vs[idx(moved)].action = VCPU_YIELD;
	assert_int_equal(step_who(1), (int)idx(moved));
	assert_true(vs[idx(moved)].line_at_run);
}

/* ---------------------------------------------------------------- reaping */

static void test_reap_stopping_vm(void **state)
{
	struct vcpu *x1, *y;

	(void)state;
	nharts = 1;
	attach(0, 0, 0);
	x1 = attach(1, 0, 0);
	y = attach(2, 1, 0);
	vs[0].action = vs[1].action = vs[2].action = VCPU_YIELD;
	/* Run until x1 is the one loaded on the hart. */
	while (harts[0].current != x1)
		assert_true(step_who(0) >= 0);

	vms[0].state = VM_STOPPING;
	for (unsigned s = 0; s < 3; s++)
		assert_int_equal(step_who(0), 2);
	assert_int_equal(vs[0].detached, 1);
	assert_int_equal(vs[1].detached, 1);
	assert_int_equal(vs[2].detached, 0);
	/* The loaded one was saved before it went (and the SBI hooks were told). */
	assert_int_equal(vs[1].puts, vs[1].loads);
	assert_int_equal(vs[1].sched_outs, vs[1].puts);
	assert_ptr_equal(harts[0].current, y);

	/* The other VM ends too: the hart is empty and sleeps. */
	vms[1].state = VM_STOPPING;
	assert_int_equal(step_who(0), -1);
	assert_int_equal(vs[2].detached, 1);
	assert_null(harts[0].current);
	assert_int_equal(hs[0].wfis, 1);
	assert_int_equal(step_who(0), -1);
	assert_int_equal(vs[0].detached + vs[1].detached + vs[2].detached, 3);
}

/* A pushed vCPU that ran here gives back its guest interrupt file here, unloaded,
 * before the other hart loads it and gives it one of its own (the fakes check where). */
static void test_push_releases_guest_file_on_old_hart(void **state)
{
	int moved = -1;

	(void)state;
	nharts = 2;
	attach(0, 0, 1);
	vs[0].action = VCPU_YIELD;
	assert_int_equal(step_who(1), 0);
	attach(1, 0, 0);
	attach(2, 0, 0);
	vs[1].action = vs[2].action = VCPU_YIELD;
	/* Two against one: no push; both run on hart 0 (a slice each) and take files there. */
	while (!vs[1].runs || !vs[2].runs)
		assert_true(step_who(0) >= 1);
	assert_int_equal(vs[1].file_hart, 0);
	assert_int_equal(vs[2].file_hart, 0);
	/* Hart 1's vCPU waits: hart 1 sleeps, and hart 0 pushes its unloaded one over. */
	vs[0].action = VCPU_BLOCK;
	assert_int_equal(step_who(1), 0);
	assert_int_equal(step_who(1), -1);
	step_on(0);
	for (unsigned i = 1; i <= 2; i++)
		if (vcpus[i].hart == &harts[1])
			moved = (int)i;
	assert_true(moved > 0);
	assert_int_equal(vs[moved].releases, 1);
	assert_int_equal(vs[moved].file_hart, -1);
	assert_int_equal(step_who(1), moved);
	assert_int_equal(vs[moved].file_hart, 1);
	assert_int_equal(vs[3 - moved].releases, 0);
}

/* ---------------------------------------------------------------- placement */

static void test_pick_hart_balances(void **state)
{
	unsigned count[NHARTS] = {0};

	(void)state;
	nharts = 4;
	harts[3].online = false;
	assert_int_equal(vireo_online_harts(), 3);
	for (unsigned i = 0; i < 9; i++)
		count[pick_index(0)]++;
	assert_int_equal(count[0], 3);
	assert_int_equal(count[1], 3);
	assert_int_equal(count[2], 3);
	assert_int_equal(count[3], 0);
}

static void test_pick_hart_affinity(void **state)
{
	(void)state;
	nharts = 4;
	harts[3].online = false;
	/* Affinity names hart ids, not indices. */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(pick_index(BIT(HID(2))), 2);
	assert_int_equal(pick_index(BIT(HID(1)) | BIT(HID(2))), 1);
	assert_int_equal(pick_index(BIT(HID(1)) | BIT(HID(2))), 1);
	/* Now 2 has three and 1 has two: the unrestricted pick goes to the empty hart 0. */
	assert_int_equal(pick_index(0), 0);
	/* No allowed hart online, or none with such an id: none. */
	assert_null(sched_pick_hart(BIT(HID(3))));
	assert_null(sched_pick_hart(BIT(2)));
	assert_null(sched_pick_hart(BIT(63)));
}

/* Placement counts what reaping took away. */
static void test_pick_hart_after_reap(void **state)
{
	(void)state;
	nharts = 2;
	for (unsigned i = 0; i < 3; i++) {
		struct vcpu *v = mk_vcpu(i, i == 2 ? 1 : 0);

		v->hart = sched_pick_hart(BIT(HID(0)));
		assert_ptr_equal(v->hart, &harts[0]);
		sched_attach(v);
	}
	/* Hart 0 has 3, hart 1 none. */
	assert_int_equal(pick_index(0), 1);
	/* Hart 0 has 3, hart 1 has 1: VM 0 ends, its two vCPUs leave hart 0. */
	vms[0].state = VM_STOPPING;
	vs[2].action = VCPU_YIELD;
	assert_int_equal(step_who(0), 2);
	assert_int_equal(vs[0].detached + vs[1].detached, 2);
	/* 1 against 1: hart 0 first, then hart 1. */
	assert_int_equal(pick_index(0), 0);
	assert_int_equal(pick_index(0), 1);
}

/* A paused VM's vCPU waiting on a deadline that passes does not keep its hart's timer
 * firing (nothing may wake it: it would storm, starving the hart's other vCPUs); once
 * the VM is resumed and the hart kicked, the deadline counts again. */
static void test_paused_deadline_ignored(void **state)
{
	struct vcpu *a;

	(void)state;
	nharts = 1;
	a = attach(0, 0, 0);
	vcpu_timer_reset(a, true);
	a->waiting = true;
	a->arch.vs.vstimecmp = now + MS(2);
	vms[0].paused = true;
	now += MS(5);
	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].timer_at_wfi, NEVER);
	assert_int_equal(vs[0].runs, 0);

	vms[0].paused = false;
	hart_request(&harts[0], HART_REQ_KICK);
	assert_int_equal(step_who(0), -1);
	assert_int_equal(hs[0].timer_at_wfi, T0 + MS(2));
	vs[0].wakeup = true;
	vs[0].action = VCPU_YIELD;
	assert_int_equal(step_who(0), 0);
	assert_false(a->waiting);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_round_robin_with_slices, setup),
	    cmocka_unit_test_setup(test_slice_survives_interrupt, setup),
	    cmocka_unit_test_setup(test_block_gives_hart_away, setup),
	    cmocka_unit_test_setup(test_wfi_exits_only_with_company, setup),
	    cmocka_unit_test_setup(test_slice_timer_armed_when_slicing_starts, setup),
	    cmocka_unit_test_setup(test_waiting_vcpu_skipped_until_wakeup, setup),
	    cmocka_unit_test_setup(test_idle_sleeps_until_earliest_deadline, setup),
	    cmocka_unit_test_setup(test_paused_deadline_ignored, setup),
	    cmocka_unit_test_setup(test_timer_deadline_raises_line, setup),
	    cmocka_unit_test_setup(test_timer_deadline_of_a_restored_clock, setup),
	    cmocka_unit_test_setup(test_device_timer_wakes_an_idle_hart, setup),
	    cmocka_unit_test_setup(test_host_requests, setup),
	    cmocka_unit_test_setup(test_start_pending_completes, setup),
	    cmocka_unit_test_setup(test_push_to_idle_hart, setup),
	    cmocka_unit_test_setup(test_push_never_moves_loaded, setup),
	    cmocka_unit_test_setup(test_push_respects_affinity, setup),
	    cmocka_unit_test_setup(test_push_then_fresh_slice, setup),
	    cmocka_unit_test_setup(test_push_to_allowed_idle_hart, setup),
	    cmocka_unit_test_setup(test_pushed_vcpu_keeps_its_timer, setup),
	    cmocka_unit_test_setup(test_reap_stopping_vm, setup),
	    cmocka_unit_test_setup(test_push_releases_guest_file_on_old_hart, setup),
	    cmocka_unit_test_setup(test_pick_hart_balances, setup),
	    cmocka_unit_test_setup(test_pick_hart_affinity, setup),
	    cmocka_unit_test_setup(test_pick_hart_after_reap, setup),
	};

	return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
