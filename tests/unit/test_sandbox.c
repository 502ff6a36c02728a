// SPDX-License-Identifier: BSD-2-Clause
/*
 * Sandboxes (core/sandbox.c) and their ops (core/ctl_sandbox.c), on the real
 * G-stage tables and guest memory, against one fake VM: the guest's SBI
 * calls, catches and the time budget as its hart would make them, the ops as
 * the control plane would run them. What the "hardware" does (a store sets a
 * G-stage dirty bit) the test does by hand. Every op in a wrong state or with
 * a wrong shape gets its error and changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/ctl.h>
#include <vireo/ctl_sandbox.h>
#include <vireo/devtimer.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/sandbox.h>
#include <vireo/sched.h>
#include <vireo/time.h>
#include <vireo/vm.h>

#define RAM_BASE   0x80000000UL
#define RAM_SIZE   (2 * MIB)
#define RETURN_PC  0x80000100UL
#define FN_PC	   0x80000200UL
#define NAME_GPA   0x80001000UL
#define EXTRA_GPA  0x40000000UL
#define MAX_EVENTS 8

/* ---------------------------------------------------------------- fakes */

struct event {
	uint16_t type;
	unsigned vm;
	uint8_t data[CTL_EVENT_MAX];
	uint32_t len;
};

static struct {
	struct vm vm;
	struct vcpu vcpu;
	uint8_t *ram;
	struct event events[MAX_EVENTS];
	unsigned nevents;
	uint64_t now;
	struct devtimer *timer; /* the one armed */
	uint64_t armed;		/* its deadline */
	unsigned timer_changes, flushes, pauses, resumes, stop_requests, logs;
	bool delegated_nothing;
	bool parked; /* its hart has put the vCPU away (the VM is paused too) */
	int refs;
	long pages_out; /* page_alloc minus page_free */
} fake;

static struct hart the_hart = {.online = true};

struct hart *this_hart(void)
{
	return &the_hart;
}

unsigned hart_count(void)
{
	return 1;
}

struct hart *hart_by_index(unsigned index)
{
	assert_int_equal(index, 0);
	return &the_hart;
}

void hart_request(struct hart *target, unsigned long request)
{
	(void)target;
	(void)request;
	fail_msg("only this hart: nothing to ask of another");
}

void hart_pause(uint64_t ticks)
{
	fake.now += ticks;
}

uint64_t hart_instret(void)
{
	return 0;
}

uint64_t hart_time(void)
{
	return fake.now;
}

void hart_flush_gstage_tlb(void)
{
	fake.flushes++;
}

void sched_timer_changed(void)
{
	fake.timer_changes++;
}

void ctl_event(uint16_t event, unsigned vm_id, const void *data, uint32_t len)
{
	struct event *e = &fake.events[fake.nevents++ % MAX_EVENTS];

	assert_true(len <= CTL_EVENT_MAX);
	e->type = event;
	e->vm = vm_id;
	e->len = len;
	memcpy(e->data, data, len);
}

void devtimer_init(struct devtimer *t, devtimer_fn expire)
{
	t->deadline = DEVTIMER_NEVER;
	t->expire = expire;
}

bool devtimer_arm(struct devtimer *t, uint64_t deadline)
{
	fake.timer = t;
	fake.armed = deadline;
	t->deadline = deadline;
	return true;
}

void devtimer_remove(struct devtimer *t)
{
	if (fake.timer == t)
		fake.timer = NULL;
}

void vcpu_make_request(struct vcpu *v, unsigned long requests)
{
	assert_ptr_equal(v, &fake.vcpu);
	assert_int_equal(requests, VCPU_REQ_STOP);
	fake.stop_requests++;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
	fake.logs++;
}

void *page_alloc(size_t npages, size_t align)
{
	void *p = aligned_alloc(align, npages * PAGE_SIZE);

	assert_non_null(p);
	memset(p, 0, npages * PAGE_SIZE);
	fake.pages_out += (long)npages;
	return p;
}

void page_free(void *addr, size_t npages)
{
	fake.pages_out -= (long)npages;
	free(addr);
}

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *ptr)
{
	free(ptr);
}

struct vm *vm_find(unsigned id)
{
	if (id != fake.vm.id)
		return NULL;
	fake.refs++;
	return &fake.vm;
}

void vm_put(struct vm *vm)
{
	assert_ptr_equal(vm, &fake.vm);
	fake.refs--;
}

bool vm_is_parked(const struct vm *vm)
{
	return vm->paused && fake.parked;
}

int vm_pause(struct vm *vm)
{
	fake.pauses++;
	vm->paused = true;
	fake.parked = true;
	return 0;
}

void vm_resume(struct vm *vm)
{
	fake.resumes++;
	vm->paused = false;
	fake.parked = false;
}

void *vm_gpa_to_hva(struct vm *vm, gpa_t gpa, uint64_t len)
{
	return guest_mem_ptr(&vm->mem, gpa, len);
}

void vcpu_arch_snapshot(const struct vcpu_arch *a, struct vcpu_arch_snapshot *s)
{
	s->gprs = a->gprs;
	s->vs = a->vs;
	s->fp = a->fp;
}

void vcpu_arch_restore(struct vcpu_arch *a, const struct vcpu_arch_snapshot *s)
{
	a->gprs = s->gprs;
	a->vs = s->vs;
	a->fp = s->fp;
}

void vcpu_arch_delegate_nothing(struct vcpu_arch *a)
{
	(void)a;
	fake.delegated_nothing = true;
}

static void *gs_alloc(void *ctx, size_t npages, size_t align)
{
	void *p = aligned_alloc(align, npages * PAGE_SIZE);

	(void)ctx;
	assert_non_null(p);
	memset(p, 0, npages * PAGE_SIZE);
	return p;
}

static void gs_free(void *ctx, void *p, size_t npages)
{
	(void)ctx;
	(void)npages;
	free(p);
}

/* ---------------------------------------------------------------- helpers */

static struct vcpu_arch *arch(void)
{
	return &fake.vcpu.arch;
}

static uint64_t reg(unsigned r)
{
	return vcpu_arch_get_reg(arch(), r);
}

static const struct event *last_event(void)
{
	assert_true(fake.nevents > 0);
	return &fake.events[(fake.nevents - 1) % MAX_EVENTS];
}

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.now = 1000;
	fake.ram = aligned_alloc(2 * MIB, RAM_SIZE);
	assert_non_null(fake.ram);
	memset(fake.ram, 0, RAM_SIZE);
	fake.vm.id = 3;
	fake.vm.state = VM_RUNNING;
	fake.vm.nvcpus = 1;
	fake.vm.vcpus[0] = &fake.vcpu;
	fake.vm.ram_base = RAM_BASE;
	fake.vm.ram_size = RAM_SIZE;
	fake.vm.config.sandbox = true;
	fake.vcpu.vm = &fake.vm;
	assert_int_equal(guest_mem_add_run(&fake.vm.mem, RAM_BASE, RAM_SIZE, fake.ram), 0);
	assert_int_equal(gstage_init(&fake.vm.gstage, GSTAGE_SV39X4, gs_alloc, gs_free, NULL), 0);
	assert_int_equal(
	    gstage_map(&fake.vm.gstage, RAM_BASE, (uintptr_t)fake.ram, RAM_SIZE, GSTAGE_PERM_RWX),
	    0);
	assert_int_equal(sandbox_create(&fake.vm), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sandbox_destroy(&fake.vm);
	assert_null(fake.vm.sandbox);
	assert_int_equal(fake.pages_out, 0);
	assert_int_equal(fake.refs, 0);
	gstage_destroy(&fake.vm.gstage);
	free(fake.ram);
	return 0;
}

/* An op through the table, as the control plane runs it: result, reply in out. */
static int op(uint16_t code, const void *args, uint32_t len, uint8_t *out, uint32_t *out_len)
{
	static uint8_t reply[CTL_REPLY_MAX];
	struct ctl_call c = {.op = code, .args = args, .len = len, .out = reply};
	int r = -VIREO_ENOSYS;

	for (unsigned i = 0; i < ctl_sandbox_op_count; i++)
		if (ctl_sandbox_ops[i].op == code)
			r = ctl_sandbox_ops[i].handler(&c);
	if (out && c.out_len)
		memcpy(out, reply, c.out_len);
	if (out_len)
		*out_len = c.out_len;
	return r;
}

/* The hart parks the vCPU after its exit. */
static void park(void)
{
	assert_true(fake.vm.paused);
	fake.parked = true;
}

/* The guest's READY, then the host's OPEN: an idle sandbox with its snapshot. */
static void ready_and_open(void)
{
	enum vcpu_action action = VCPU_CONTINUE;
	struct ctl_sandbox_info info;
	uint32_t vm = fake.vm.id, n;

	arch()->gprs.x[REG_SP] = RAM_BASE + 0x10000;
	assert_int_equal(sandbox_ready(&fake.vcpu, RETURN_PC, 1, &action), 0);
	assert_int_equal(action, VCPU_YIELD);
	park();
	assert_int_equal(op(CTL_OP_SANDBOX_OPEN, &vm, 4, (uint8_t *)&info, &n), 0);
	assert_int_equal(n, sizeof(info));
	assert_int_equal(info.state, CTL_SANDBOX_IDLE);
}

static int call(uint64_t pc, uint64_t budget_us, uint32_t flags, uint64_t a0, uint64_t a1)
{
	struct ctl_sandbox_call c = {
	    .vm = fake.vm.id, .flags = flags, .pc = pc, .budget_us = budget_us, .args = {a0, a1}};

	return op(CTL_OP_SANDBOX_CALL, &c, sizeof(c), NULL, NULL);
}

/* What the hardware does on a guest store: the byte, and the G-stage leaf's D bit. */
static void guest_store(gpa_t gpa, uint8_t value)
{
	paddr_t hpa;

	assert_true(gstage_translate(&fake.vm.gstage, gpa, &hpa, NULL));
	*(uint8_t *)(uintptr_t)hpa = value;
	/* The D bit a store sets: software's way is the same bit. */
	gstage_set_dirty(&fake.vm.gstage, gpa);
}

static uint8_t guest_byte(gpa_t gpa)
{
	return fake.ram[gpa - RAM_BASE];
}

/* ---------------------------------------------------------------- tests */

static void test_ready(void **state)
{
	enum vcpu_action action = VCPU_CONTINUE;
	struct ctl_sandbox_ready r;

	(void)state;
	assert_true(sandbox_sbi_available(&fake.vcpu));
	/* Nothing to return from, no host call before it is ready. */
	assert_int_equal(sandbox_return(&fake.vcpu, 1, &action), -10);
	assert_int_equal(action, VCPU_CONTINUE);
	assert_int_equal(sandbox_ready(&fake.vcpu, RETURN_PC, 1, &action), 0);
	assert_int_equal(action, VCPU_YIELD);
	assert_int_equal(fake.vm.catch, VM_CATCH_ALL);
	assert_true(fake.delegated_nothing);
	assert_int_equal(last_event()->type, CTL_EVENT_SANDBOX_READY);
	assert_int_equal(last_event()->vm, 3);
	assert_int_equal(last_event()->len, sizeof(r));
	memcpy(&r, last_event()->data, sizeof(r));
	assert_int_equal(r.ram_base, RAM_BASE);
	assert_int_equal(r.ram_size, RAM_SIZE);
	assert_int_equal(r.return_pc, RETURN_PC);
	assert_int_equal(r.sdk_version, 1);
	/* Once. */
	action = VCPU_CONTINUE;
	assert_int_equal(sandbox_ready(&fake.vcpu, 0, 1, &action), -10);
	assert_int_equal(action, VCPU_CONTINUE);
	assert_int_equal(fake.nevents, 1);
}

static void test_ops_before_ready(void **state)
{
	uint32_t vm = 3, args[2] = {3, 0};
	enum vcpu_action action;

	(void)state;
	assert_int_equal(op(CTL_OP_SANDBOX_OPEN, &vm, 4, NULL, NULL), -VIREO_EBUSY);
	assert_int_equal(call(FN_PC, 0, 0, 0, 0), -VIREO_EBUSY);
	assert_int_equal(op(CTL_OP_SANDBOX_RESET, args, 8, NULL, NULL), -VIREO_EBUSY);
	/* Ready but not opened: no snapshot to call from or reset to. */
	assert_int_equal(sandbox_ready(&fake.vcpu, RETURN_PC, 1, &action), 0);
	assert_int_equal(call(FN_PC, 0, 0, 0, 0), -VIREO_EINVAL);
	assert_int_equal(op(CTL_OP_SANDBOX_RESET, args, 8, NULL, NULL), -VIREO_EINVAL);
	assert_int_equal(fake.resumes, 0);
}

static void test_call_and_return(void **state)
{
	enum vcpu_action action = VCPU_CONTINUE;
	uint64_t result;

	(void)state;
	ready_and_open();
	arch()->gprs.x[5] = 0x5555; /* t0, changed after the snapshot: a call restores it */
	assert_int_equal(call(FN_PC, 0, 0, 11, 22), 0);
	assert_false(fake.vm.paused);
	assert_int_equal(vcpu_arch_pc(arch()), FN_PC);
	assert_int_equal(reg(REG_RA), RETURN_PC);
	assert_int_equal(reg(REG_A0), 11);
	assert_int_equal(reg(REG_A0 + 1), 22);
	assert_int_equal(reg(REG_A0 + 2), 0);
	assert_int_equal(reg(REG_SP), RAM_BASE + 0x10000);
	assert_int_equal(reg(5), 0);
	/* One call at a time. */
	assert_int_equal(call(FN_PC, 0, 0, 1, 2), -VIREO_EBUSY);
	assert_int_equal(sandbox_return(&fake.vcpu, 33, &action), 0);
	assert_int_equal(action, VCPU_YIELD);
	assert_int_equal(last_event()->type, CTL_EVENT_SANDBOX_RETURN);
	memcpy(&result, last_event()->data, 8);
	assert_int_equal(result, 33);
	park();
	assert_int_equal(call(FN_PC, 0, 0, 1, 2), 0);
}

static void test_hostcall(void **state)
{
	enum vcpu_action action = VCPU_CONTINUE;
	const uint64_t args[4] = {1, 2, 3, 4};
	struct ctl_sandbox_hostcall h;
	uint8_t answer[24] = {3};
	int64_t err = -7;
	uint64_t value = 99;

	(void)state;
	ready_and_open();
	memcpy(fake.ram + (NAME_GPA - RAM_BASE), "mul", 3);
	assert_int_equal(call(FN_PC, 0, 0, 0, 0), 0);
	/* Answered by Vireo itself: a bad length, a name outside RAM. */
	assert_int_equal(sandbox_hostcall(&fake.vcpu, NAME_GPA, 0, args, &action), -3);
	assert_int_equal(sandbox_hostcall(&fake.vcpu, NAME_GPA, 65, args, &action), -3);
	assert_int_equal(sandbox_hostcall(&fake.vcpu, RAM_BASE + RAM_SIZE - 2, 3, args, &action),
			 -5);
	assert_int_equal(sandbox_hostcall(&fake.vcpu, 0x1000, 3, args, &action), -5);
	assert_int_equal(action, VCPU_CONTINUE);
	assert_int_equal(fake.nevents, 1); /* READY only */
	/* To the host: it fails until answered. */
	assert_int_equal(sandbox_hostcall(&fake.vcpu, NAME_GPA, 3, args, &action), -1);
	assert_int_equal(action, VCPU_YIELD);
	assert_int_equal(last_event()->type, CTL_EVENT_SANDBOX_HOSTCALL);
	assert_int_equal(last_event()->len, sizeof(h) + 3);
	memcpy(&h, last_event()->data, sizeof(h));
	assert_int_equal(h.name_len, 3);
	assert_int_equal(h.args[3], 4);
	assert_memory_equal(last_event()->data + sizeof(h), "mul", 3);
	/* Before the hart parked it, the answer waits for it. */
	memcpy(answer + 8, &err, 8);
	memcpy(answer + 16, &value, 8);
	assert_int_equal(op(CTL_OP_SANDBOX_ANSWER, answer, 24, NULL, NULL), 0);
	assert_int_equal(fake.pauses, 1);
	assert_int_equal(reg(REG_A0), (uint64_t)-7);
	assert_int_equal(reg(REG_A0 + 1), 99);
	assert_false(fake.vm.paused);
	/* No second answer, no answer to a sandbox that is not in a host call. */
	fake.vm.paused = true;
	park();
	assert_int_equal(op(CTL_OP_SANDBOX_ANSWER, answer, 24, NULL, NULL), -VIREO_EBUSY);
	answer[4] = 1;
	assert_int_equal(op(CTL_OP_SANDBOX_ANSWER, answer, 24, NULL, NULL), -VIREO_EINVAL);
	assert_int_equal(op(CTL_OP_SANDBOX_ANSWER, answer, 23, NULL, NULL), -VIREO_EINVAL);
}

static void caught_event(struct ctl_sandbox_caught *c)
{
	assert_int_equal(last_event()->type, CTL_EVENT_SANDBOX_CAUGHT);
	assert_int_equal(last_event()->len, sizeof(*c));
	memcpy(c, last_event()->data, sizeof(*c));
}

static void test_catch_and_continue(void **state)
{
	struct ctl_sandbox_caught c;
	struct {
		struct ctl_sandbox_continue c;
		uint64_t x[31];
	} cont = {{.vm = 3}, {0}};

	(void)state;
	ready_and_open();
	assert_int_equal(call(FN_PC, 0, 0, 5, 6), 0);
	/* A load from an address nothing maps. */
	vcpu_arch_set_pc(arch(), FN_PC + 8);
	arch()->gprs.x[15] = 0xabc;
	arch()->exit.stval = 0x1000;
	fake.vcpu.exit =
	    (struct vcpu_exit){.kind = VCPU_EXIT_GUEST_ACCESS, .cause = 21, .gpa = 0x1000};
	assert_int_equal(sandbox_catch(&fake.vcpu, VM_CATCH_FAULT), VCPU_YIELD);
	caught_event(&c);
	assert_int_equal(c.why, CTL_SANDBOX_CATCH_FAULT);
	assert_int_equal(c.cause, 21);
	assert_int_equal(c.pc, FN_PC + 8);
	assert_int_equal(c.x[0], FN_PC + 8);
	assert_int_equal(c.tval, 0x1000);
	assert_int_equal(c.gpa, 0x1000);
	assert_int_equal(c.x[15], 0xabc);
	assert_int_equal(c.x[REG_A0], 5);
	park();
	/* A second call, an answer: not while caught. */
	assert_int_equal(call(FN_PC, 0, 0, 0, 0), -VIREO_EBUSY);
	/* Continue past it with a5 set: pc and registers. */
	cont.c.flags = CTL_SANDBOX_CONTINUE_PC | CTL_SANDBOX_CONTINUE_REGS;
	cont.c.pc = FN_PC + 12;
	for (unsigned i = 0; i < 31; i++)
		cont.x[i] = c.x[i + 1];
	cont.x[15 - 1] = 0xfeed;
	assert_int_equal(op(CTL_OP_SANDBOX_CONTINUE, &cont, sizeof(cont) - 8, NULL, NULL),
			 -VIREO_EINVAL);
	assert_int_equal(op(CTL_OP_SANDBOX_CONTINUE, &cont, sizeof(cont), NULL, NULL), 0);
	assert_int_equal(vcpu_arch_pc(arch()), FN_PC + 12);
	assert_int_equal(reg(15), 0xfeed);
	assert_int_equal(reg(REG_A0), 5);
	assert_false(fake.vm.paused);
	/* Not caught any more (paused by the host, say). */
	fake.vm.paused = true;
	park();
	cont.c.flags = 0;
	assert_int_equal(op(CTL_OP_SANDBOX_CONTINUE, &cont, sizeof(cont.c), NULL, NULL),
			 -VIREO_EBUSY);
	cont.c.flags = 8;
	assert_int_equal(op(CTL_OP_SANDBOX_CONTINUE, &cont, sizeof(cont.c), NULL, NULL),
			 -VIREO_EINVAL);

	/* An illegal instruction and a breakpoint carry theirs. */
	fake.vm.paused = false;
	fake.vcpu.exit = (struct vcpu_exit){.kind = VCPU_EXIT_ILLEGAL, .cause = 2, .insn = 0};
	assert_int_equal(sandbox_catch(&fake.vcpu, VM_CATCH_ILLEGAL), VCPU_YIELD);
	caught_event(&c);
	assert_int_equal(c.why, CTL_SANDBOX_CATCH_ILLEGAL);
	assert_int_equal(c.gpa, 0);
}

/* Hardware without G-stage D updates faults on the first store to a clean page: Vireo
 * sets the bit and the store goes again, no catch. */
static void test_store_to_clean_page(void **state)
{
	(void)state;
	ready_and_open();
	assert_int_equal(call(FN_PC, 0, 0, 0, 0), 0);
	fake.vcpu.exit = (struct vcpu_exit){.kind = VCPU_EXIT_GUEST_ACCESS,
					    .cause = 23,
					    .gpa = RAM_BASE + 0x3008,
					    .is_store = true};
	assert_int_equal(sandbox_catch(&fake.vcpu, VM_CATCH_FAULT), VCPU_CONTINUE);
	assert_int_equal(fake.nevents, 1);
	assert_int_equal(fake.flushes, 2); /* OPEN's, and this one */
	/* Dirty now: the same fault again is a real one. */
	assert_int_equal(sandbox_catch(&fake.vcpu, VM_CATCH_FAULT), VCPU_YIELD);
	assert_int_equal(last_event()->type, CTL_EVENT_SANDBOX_CAUGHT);
}

static void test_budget(void **state)
{
	struct ctl_sandbox_caught c;
	enum vcpu_action action;
	const uint64_t args[4] = {0};
	uint8_t answer[24] = {3};
	struct ctl_sandbox_continue cont = {.vm = 3};

	(void)state;
	ready_and_open();
	memcpy(fake.ram + (NAME_GPA - RAM_BASE), "f", 1);
	assert_int_equal(call(FN_PC, 100, 0, 0, 0), 0); /* 100 us: 1000 ticks at 10 MHz */
	assert_non_null(fake.timer);
	assert_int_equal(fake.armed, 1000 + 1000);
	assert_true(fake.timer_changes > 0);
	/* Early: nothing. */
	fake.now = 1500;
	assert_int_equal(fake.timer->expire(fake.timer, fake.now), 2000);
	/* A host call at 1600 keeps 400 ticks for later; time in the host does not count. */
	fake.now = 1600;
	assert_int_equal(sandbox_hostcall(&fake.vcpu, NAME_GPA, 1, args, &action), -1);
	assert_int_equal(fake.timer->expire(fake.timer, 5000), DEVTIMER_NEVER);
	assert_int_equal(fake.stop_requests, 0);
	park();
	fake.now = 9000;
	assert_int_equal(op(CTL_OP_SANDBOX_ANSWER, answer, 24, NULL, NULL), 0);
	assert_int_equal(fake.armed, 9400);
	/* A stop asked for too early is no catch. */
	fake.now = 9399;
	assert_int_equal(sandbox_catch(&fake.vcpu, VM_CATCH_STOP), VCPU_CONTINUE);
	/* Due: the timer asks the vCPU to stop, and the stop is a time-out. */
	fake.now = 9400;
	assert_int_equal(fake.timer->expire(fake.timer, fake.now), DEVTIMER_NEVER);
	assert_int_equal(fake.stop_requests, 1);
	assert_int_equal(sandbox_catch(&fake.vcpu, VM_CATCH_STOP), VCPU_YIELD);
	caught_event(&c);
	assert_int_equal(c.why, CTL_SANDBOX_CATCH_TIMEOUT);
	assert_int_equal(c.cause, 0);
	/* Late requests find it stopped. */
	assert_int_equal(sandbox_catch(&fake.vcpu, VM_CATCH_STOP), VCPU_CONTINUE);
	park();
	/* Continued with a fresh budget of 1 us. */
	cont.flags = CTL_SANDBOX_CONTINUE_BUDGET;
	cont.budget_us = 1;
	assert_int_equal(op(CTL_OP_SANDBOX_CONTINUE, &cont, sizeof(cont), NULL, NULL), 0);
	assert_int_equal(fake.armed, 9410);
	/* A call without a budget has none. */
	fake.now = 9500;
	assert_int_equal(sandbox_return(&fake.vcpu, 0, &action), 0);
	park();
	assert_int_equal(call(FN_PC, 0, 0, 0, 0), 0);
	assert_int_equal(fake.timer->expire(fake.timer, 1ULL << 60), DEVTIMER_NEVER);
	assert_int_equal(sandbox_catch(&fake.vcpu, VM_CATCH_STOP), VCPU_CONTINUE);
}

static void test_reset(void **state)
{
	uint32_t args[2] = {3, 0}, reply[2], n;
	enum vcpu_action action;
	uint8_t w[4 * 4 + 16];

	(void)state;
	fake.ram[0x5000] = 0x55;
	ready_and_open();
	assert_int_equal(call(FN_PC, 0, 0, 0, 0), 0);
	guest_store(RAM_BASE + 0x5000, 1);
	guest_store(RAM_BASE + 0x5001, 2);
	guest_store(RAM_BASE + 0x7fff, 3);
	arch()->gprs.x[REG_SP] = 0x1234;
	/* Reset in the middle of the call (an abort): RUNNING is refused. */
	assert_int_equal(op(CTL_OP_SANDBOX_RESET, args, 8, (uint8_t *)reply, &n), -VIREO_EBUSY);
	assert_int_equal(sandbox_return(&fake.vcpu, 0, &action), 0);
	park();
	/* The host writes a page too (SANDBOX_WRITE): counted. */
	memcpy(w, (uint32_t[]){3, 4}, 8);
	memcpy(w + 8, (uint64_t[]){RAM_BASE + 0x9000}, 8);
	memcpy(w + 16, "abcd", 4);
	assert_int_equal(op(CTL_OP_SANDBOX_WRITE, w, 20, NULL, NULL), 0);
	assert_memory_equal(fake.ram + 0x9000, "abcd", 4);
	/* And behind its back (core MEM_WRITE). */
	fake.ram[0xb000] = 9;
	sandbox_written(&fake.vm, RAM_BASE + 0xb000, 1);

	assert_int_equal(op(CTL_OP_SANDBOX_RESET, args, 8, (uint8_t *)reply, &n), 4);
	assert_int_equal(n, 8);
	assert_int_equal(reply[0], 4);
	assert_int_equal(reply[1], 0);
	assert_int_equal(guest_byte(RAM_BASE + 0x5000), 0x55);
	assert_int_equal(guest_byte(RAM_BASE + 0x5001), 0);
	assert_int_equal(guest_byte(RAM_BASE + 0x7fff), 0);
	assert_int_equal(guest_byte(RAM_BASE + 0x9000), 0);
	assert_int_equal(guest_byte(RAM_BASE + 0xb000), 0);
	assert_int_equal(reg(REG_SP), RAM_BASE + 0x10000);
	/* Nothing written since: nothing to restore. */
	assert_int_equal(op(CTL_OP_SANDBOX_RESET, args, 8, (uint8_t *)reply, &n), 0);
	/* A full one copies all of RAM back. */
	args[1] = CTL_SANDBOX_RESET_FULL;
	fake.ram[0x100] = 7; /* unnoticed by tracking */
	assert_int_equal(op(CTL_OP_SANDBOX_RESET, args, 8, (uint8_t *)reply, &n),
			 (int)(RAM_SIZE / PAGE_SIZE));
	assert_int_equal(fake.ram[0x100], 0);
	args[1] = 2;
	assert_int_equal(op(CTL_OP_SANDBOX_RESET, args, 8, NULL, NULL), -VIREO_EINVAL);
	/* A call that resets first. */
	guest_store(RAM_BASE + 0x5000, 1);
	assert_int_equal(call(FN_PC, 0, CTL_SANDBOX_CALL_RESET, 0, 0), 0);
	assert_int_equal(guest_byte(RAM_BASE + 0x5000), 0x55);
	assert_int_equal(call(FN_PC, 0, 2, 0, 0), -VIREO_EINVAL);
}

static void test_map(void **state)
{
	struct {
		uint32_t vm, perms;
		uint64_t gpa, size;
	} m = {3, 3, EXTRA_GPA, 2 * PAGE_SIZE};
	uint32_t args[2] = {3, 0}, reply[2], n;
	uint8_t rd[16], out[CTL_REPLY_MAX];
	uint8_t wr[16 + 8];
	paddr_t hpa;

	(void)state;
	ready_and_open();
	/* Only while parked in a catch (or idle): a running call cannot be mapped under. */
	assert_int_equal(call(FN_PC, 0, 0, 0, 0), 0);
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), -VIREO_EBUSY);
	fake.vcpu.exit = (struct vcpu_exit){.kind = VCPU_EXIT_GUEST_ACCESS, .gpa = EXTRA_GPA};
	assert_int_equal(sandbox_catch(&fake.vcpu, VM_CATCH_FAULT), VCPU_YIELD);
	park();
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), 0);
	assert_true(gstage_translate(&fake.vm.gstage, EXTRA_GPA + PAGE_SIZE, &hpa, NULL));
	/* Over it again, over RAM, misaligned, without permissions, too much. */
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), -VIREO_EEXIST);
	m.gpa = RAM_BASE;
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), -VIREO_EEXIST);
	m.gpa = EXTRA_GPA + 0x10800;
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), -VIREO_EINVAL);
	m.gpa = EXTRA_GPA + 0x10000;
	m.perms = 0;
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), -VIREO_EINVAL);
	m.perms = 9;
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), -VIREO_EINVAL);
	m.perms = 1;
	m.size = CTL_SANDBOX_EXTRA_BYTES;
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), -VIREO_ENOMEM);
	m.size = ~0xfffULL;
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), -VIREO_EINVAL);
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m) - 1, NULL, NULL), -VIREO_EINVAL);
	/* The host reads and writes it like RAM, within its bounds. */
	memcpy(wr, (uint32_t[]){3, 8}, 8);
	memcpy(wr + 8, (uint64_t[]){EXTRA_GPA + PAGE_SIZE - 4}, 8);
	memcpy(wr + 16, "01234567", 8);
	assert_int_equal(op(CTL_OP_SANDBOX_WRITE, wr, 24, NULL, NULL), 0);
	memcpy(rd, (uint32_t[]){3, 8}, 8);
	memcpy(rd + 8, (uint64_t[]){EXTRA_GPA + PAGE_SIZE - 4}, 8);
	assert_int_equal(op(CTL_OP_SANDBOX_READ, rd, 16, out, &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "01234567", 8);
	memcpy(rd + 8, (uint64_t[]){EXTRA_GPA + 2 * PAGE_SIZE - 4}, 8);
	assert_int_equal(op(CTL_OP_SANDBOX_READ, rd, 16, out, &n), -VIREO_EFAULT);
	memcpy(rd, (uint32_t[]){3, 0}, 8);
	assert_int_equal(op(CTL_OP_SANDBOX_READ, rd, 16, out, &n), -VIREO_EINVAL);
	memcpy(rd, (uint32_t[]){3, 4097}, 8);
	assert_int_equal(op(CTL_OP_SANDBOX_READ, rd, 16, out, &n), -VIREO_EINVAL);
	assert_int_equal(op(CTL_OP_SANDBOX_WRITE, wr, 23, NULL, NULL), -VIREO_EINVAL);
	/* A reset takes it away again. */
	assert_int_equal(op(CTL_OP_SANDBOX_RESET, args, 8, (uint8_t *)reply, &n), 0);
	assert_int_equal(reply[1], 2);
	memcpy(rd, (uint32_t[]){3, 8}, 8);
	memcpy(rd + 8, (uint64_t[]){EXTRA_GPA}, 8);
	assert_int_equal(op(CTL_OP_SANDBOX_READ, rd, 16, out, &n), -VIREO_EFAULT);
	assert_false(gstage_translate(&fake.vm.gstage, EXTRA_GPA, &hpa, NULL));
	/* A mapping left at the end is freed with the sandbox (teardown counts pages). */
	m.gpa = EXTRA_GPA;
	m.size = PAGE_SIZE;
	m.perms = 7;
	assert_int_equal(op(CTL_OP_SANDBOX_MAP, &m, sizeof(m), NULL, NULL), 0);
}

static void test_shapes(void **state)
{
	uint32_t bad_vm = 4, vm = 3;
	uint8_t buf[CTL_SANDBOX_CALL_SIZE + 8] = {0};

	(void)state;
	ready_and_open();
	assert_int_equal(op(CTL_OP_SANDBOX_OPEN, &bad_vm, 4, NULL, NULL), -VIREO_ENOENT);
	assert_int_equal(op(CTL_OP_SANDBOX_OPEN, &vm, 3, NULL, NULL), -VIREO_EINVAL);
	assert_int_equal(op(CTL_OP_SANDBOX_OPEN, buf, 0, NULL, NULL), -VIREO_EINVAL);
	memcpy(buf, &vm, 4);
	for (uint16_t code = CTL_OP_SANDBOX_OPEN; code <= CTL_OP_SANDBOX_WRITE; code++) {
		/* Too short for any of them, and too long for each but WRITE. */
		assert_int_equal(op(code, buf, 2, NULL, NULL), -VIREO_EINVAL);
		if (code != CTL_OP_SANDBOX_WRITE)
			assert_int_equal(op(code, buf, sizeof(buf), NULL, NULL), -VIREO_EINVAL);
	}
	assert_int_equal(fake.resumes, 0);
	assert_int_equal(fake.refs, 0);
}

static void test_not_a_sandbox(void **state)
{
	uint32_t vm = 3;

	(void)state;
	sandbox_destroy(&fake.vm);
	assert_int_equal(last_event()->type, CTL_EVENT_SANDBOX_EXIT);
	assert_false(sandbox_sbi_available(&fake.vcpu));
	assert_int_equal(op(CTL_OP_SANDBOX_OPEN, &vm, 4, NULL, NULL), -VIREO_ENOENT);
	sandbox_written(&fake.vm, RAM_BASE, 8);
	fake.vm.nvcpus = 2;
	assert_int_equal(sandbox_create(&fake.vm), -VIREO_EINVAL);
	fake.vm.nvcpus = 1;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_ready),
	    T(test_ops_before_ready),
	    T(test_call_and_return),
	    T(test_hostcall),
	    T(test_catch_and_continue),
	    T(test_store_to_clean_page),
	    T(test_budget),
	    T(test_reset),
	    T(test_map),
	    T(test_shapes),
	    T(test_not_a_sandbox),
	};
#undef T

	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
