// SPDX-License-Identifier: BSD-2-Clause
/*
 * The debugger (core/ctl_debug.c on core/vm_debug.c, with the real page-table
 * walk, successors and guest memory): every request's checks, breakpoints
 * planted and hidden, waiting ones planted by a satp write, stops of the
 * whole VM, single steps and what they leave behind, detach. The hart
 * (vcpu_arch_*) and the rest of core are fakes that record what was asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/cpu.h>
#include <vireo/ctl_debug.h>
#include <vireo/guest_pt.h>
#include <vireo/insn_flow.h>
#include <vireo/log.h>
#include <vireo/vcpu_arch_debug.h>
#include <vireo/vm.h>

#define RAM_GPA	 0x80000000ULL
#define RAM_SIZE (1u << 20)
#define CODE	 0x80001000ULL /* where the test's instructions are */
#define STVEC	 0x80002000ULL
#define TABLES	 0x80010000ULL /* the guest's Sv39 tables */
#define HIGH	 0xffffffc000000000ULL
#define SIE_ALL	 0x222UL
#define VTVM	 (1UL << 20)

#define EBREAK2 0x9002
#define C_NOP	0x0001
#define ADDI	0x00150513u /* addi a0, a0, 1 */
#define BEQ_16	0x00000863u /* beq x0, x0, +16 */
#define WFI	0x10500073u
#define SATP_W	0x18051073u /* csrw satp, a0 */

/* ---------------------------------------------------------------- fakes */

struct guest_cpu cpu_guest = {.isa = "rv64imafdc", .fp = true};

static struct {
	struct vm vm;
	struct vcpu vcpus[2];
	uint8_t ram[RAM_SIZE];
	uint8_t snapshot[RAM_SIZE];
	int refs;
	bool parked;
	unsigned pauses, resumes, kicks, fences, catches, injections;
	unsigned events;
	struct ctl_dbg_stop last;
	bool exc_breakpoint_caught[2];
} fake;

bool cpu_isa_has_letter(const char *isa, char ext)
{
	return strchr(isa + 4, ext) != NULL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

struct vm *vm_find(unsigned id)
{
	if (id != 1)
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
	vm_debug_hold(vm);
	fake.parked = true;
	return 0;
}

void vm_resume(struct vm *vm)
{
	fake.resumes++;
	vm_debug_release(vm);
	vm->paused = false;
	fake.parked = false;
}

void vcpu_kick(struct vcpu *v)
{
	(void)v;
	fake.kicks++;
}

void vcpu_make_request(struct vcpu *v, unsigned long requests)
{
	(void)v;
	if (requests & VCPU_REQ_FENCE_I)
		fake.fences++;
}

void vcpu_complete_start(struct vcpu *v)
{
	v->hsm = VCPU_STARTED;
}

void ctl_event(uint16_t event, unsigned vm_id, const void *data, uint32_t len)
{
	assert_int_equal(event, CTL_EVENT_DBG_STOP);
	assert_int_equal(vm_id, 1);
	assert_int_equal(len, sizeof(fake.last));
	memcpy(&fake.last, data, len);
	fake.events++;
}

enum vcpu_action vm_catch(struct vcpu *v, unsigned why)
{
	(void)v;
	assert_int_equal(why, VM_CATCH_BREAKPOINT);
	fake.catches++;
	return VCPU_YIELD;
}

void vcpu_arch_get_regs(const struct vcpu_arch *a, struct ctl_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->x[0] = a->gprs.sepc;
	for (unsigned i = 1; i < 32; i++)
		r->x[i] = a->gprs.x[i];
	r->sie = a->vs.vsie;
	r->stvec = a->vs.vstvec;
	r->sepc = a->vs.vsepc;
	r->satp = a->vs.vsatp;
}

void vcpu_arch_set_catch(struct vcpu_arch *a, bool breakpoints, bool illegal)
{
	(void)illegal;
	a->hcfg.hedeleg = breakpoints ? 0 : 1;
}

void vcpu_arch_inject_exception(struct vcpu_arch *a, enum vcpu_exception exc, unsigned long tval)
{
	assert_int_equal(exc, VCPU_EXC_BREAKPOINT);
	assert_int_equal(tval, a->gprs.sepc);
	fake.injections++;
	a->gprs.sepc = a->vs.vstvec;
}

uint64_t vcpu_arch_guest_satp(const struct vcpu_arch *a, bool loaded)
{
	(void)loaded;
	return a->vs.vsatp;
}

unsigned long vcpu_arch_mask_irqs(struct vcpu_arch *a, bool loaded)
{
	unsigned long old = a->vs.vsie;

	(void)loaded;
	a->vs.vsie = 0;
	return old;
}

void vcpu_arch_unmask_irqs(struct vcpu_arch *a, bool loaded, unsigned long saved)
{
	(void)loaded;
	if (!a->vs.vsie)
		a->vs.vsie = saved;
}

void vcpu_arch_trap_satp(struct vcpu_arch *a, bool on)
{
	a->gprs.hstatus = on ? a->gprs.hstatus | VTVM : a->gprs.hstatus & ~VTVM;
}

bool vcpu_arch_emulate_vm_insn(struct vcpu_arch *a, uint32_t insn, bool *satp_written)
{
	*satp_written = false;
	if (insn != SATP_W)
		return false;
	a->vs.vsatp = a->gprs.x[REG_A0];
	*satp_written = true;
	a->gprs.sepc += 4;
	return true;
}

/* ---------------------------------------------------------------- helpers */

static void put16(uint64_t gpa, uint16_t v)
{
	memcpy(fake.ram + (gpa - RAM_GPA), &v, 2);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(fake.ram + (gpa - RAM_GPA), &v, 4);
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(fake.ram + (gpa - RAM_GPA), &v, 8);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, fake.ram + (gpa - RAM_GPA), 2);
	return v;
}

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	assert_int_equal(guest_mem_add_run(&fake.vm.mem, RAM_GPA, RAM_SIZE, fake.ram), 0);
	fake.vm.id = 1;
	fake.vm.state = VM_RUNNING;
	fake.vm.nvcpus = 2;
	strcpy(fake.vm.name, "dbg");
	for (unsigned i = 0; i < 2; i++) {
		struct vcpu *v = &fake.vcpus[i];

		fake.vm.vcpus[i] = v;
		v->vm = &fake.vm;
		v->id = i;
		v->hsm = VCPU_STARTED;
		v->arch.gprs.sepc = CODE;
		v->arch.vs.vstvec = STVEC;
		v->arch.vs.vsie = SIE_ALL;
		v->arch.hcfg.hedeleg = 1;
	}
	/* Code: c.nop, addi, beq +16, wfi; the trap vector another c.nop. */
	put16(CODE, C_NOP);
	put32(CODE + 2, ADDI);
	put32(CODE + 6, BEQ_16);
	put32(CODE + 10, WFI);
	put16(STVEC, C_NOP);
	memcpy(fake.snapshot, fake.ram, RAM_SIZE);
	return 0;
}

/* One request through the op table: its result, the reply in out. */
static int call(uint16_t op, const void *args, uint32_t len, uint8_t *out, uint32_t *out_len)
{
	static uint8_t reply[CTL_REPLY_MAX];
	struct ctl_call c = {.op = op, .args = args, .len = len, .out = reply};

	for (unsigned i = 0; i < ctl_debug_op_count; i++) {
		if (ctl_debug_ops[i].op != op)
			continue;
		int r = ctl_debug_ops[i].handler(&c);

		assert_int_equal(fake.refs, 0);
		assert_true(c.out_len <= CTL_REPLY_MAX);
		if (out)
			memcpy(out, reply, c.out_len);
		if (out_len)
			*out_len = c.out_len;
		return r;
	}
	fail_msg("no op %#x", op);
	return 0;
}

struct __attribute__((packed)) vcpu_va {
	uint32_t vm, vcpu;
	uint64_t va;
};

struct __attribute__((packed)) mem_args {
	uint32_t vm, vcpu, len, zero;
	uint64_t va;
	uint8_t bytes[64];
};

static int attach(void)
{
	uint32_t vm = 1;

	return call(CTL_OP_DBG_ATTACH, &vm, 4, NULL, NULL);
}

static int brk(bool set, uint32_t vcpu, uint64_t va)
{
	struct vcpu_va a = {1, vcpu, va};

	return call(set ? CTL_OP_DBG_BREAK_SET : CTL_OP_DBG_BREAK_CLEAR, &a, sizeof(a), NULL, NULL);
}

static int step(uint32_t vcpu)
{
	uint32_t a[2] = {1, vcpu};

	return call(CTL_OP_DBG_STEP, a, sizeof(a), NULL, NULL);
}

static int mem(bool write, uint64_t va, void *buf, uint32_t len)
{
	struct mem_args a = {1, 0, len, 0, va, {0}};
	uint32_t got = 0;
	int r;

	if (write)
		memcpy(a.bytes, buf, len);
	r = call(write ? CTL_OP_DBG_MEM_WRITE : CTL_OP_DBG_MEM_READ, &a,
		 (uint32_t)(24 + (write ? len : 0)), write ? NULL : buf, &got);
	if (!write && r > 0)
		assert_int_equal(got, r);
	return r;
}

static void pause_vm(void)
{
	fake.vm.paused = true;
	fake.parked = true;
}

/* v's exit at its pc was an ebreak. */
static enum vcpu_action hit(unsigned vcpu)
{
	struct vcpu *v = &fake.vcpus[vcpu];

	v->exit = (struct vcpu_exit){.kind = VCPU_EXIT_BREAKPOINT, .cause = 3};
	return vm_debug_breakpoint(v);
}

/* ---------------------------------------------------------------- tests */

static void test_bad_requests(void **state)
{
	struct vcpu_va a = {1, 0, CODE};
	struct mem_args m = {1, 0, 8, 0, CODE, {0}};
	uint32_t two[2] = {1, 7}, nine = 9;

	(void)state;
	pause_vm();
	/* Before attaching, nothing about breakpoints or steps. */
	assert_int_equal(brk(true, 0, CODE), -VIREO_EINVAL);
	assert_int_equal(step(0), -VIREO_EINVAL);
	assert_int_equal(call(CTL_OP_DBG_ATTACH, &nine, 4, NULL, NULL), -VIREO_ENOENT);
	assert_int_equal(call(CTL_OP_DBG_ATTACH, &a, 5, NULL, NULL), -VIREO_EINVAL);
	assert_int_equal(attach(), 0);
	assert_int_equal(attach(), -VIREO_EBUSY);
	assert_int_equal(call(CTL_OP_DBG_BREAK_SET, &a, sizeof(a) - 1, NULL, NULL), -VIREO_EINVAL);
	assert_int_equal(call(CTL_OP_DBG_STEP, two, 8, NULL, NULL), -VIREO_ENOENT);
	assert_int_equal(brk(true, 0, CODE + 1), -VIREO_EINVAL); /* odd */
	assert_int_equal(brk(true, 0, 0x10000000), 1);		 /* no RAM there (yet): it waits */
	assert_true(fake.vcpus[0].arch.gprs.hstatus & VTVM);
	assert_int_equal(brk(false, 0, 0x10000000), 0);
	assert_false(fake.vcpus[0].arch.gprs.hstatus & VTVM);
	assert_int_equal(brk(false, 0, CODE), -VIREO_ENOENT);
	/* Memory: length 0, too long, the reserved word, a write of the wrong length. */
	m.len = 0;
	assert_int_equal(call(CTL_OP_DBG_MEM_READ, &m, 24, NULL, NULL), -VIREO_EINVAL);
	m.len = CTL_REPLY_MAX + 1;
	assert_int_equal(call(CTL_OP_DBG_MEM_READ, &m, 24, NULL, NULL), -VIREO_EINVAL);
	m.len = 8;
	m.zero = 1;
	assert_int_equal(call(CTL_OP_DBG_MEM_READ, &m, 24, NULL, NULL), -VIREO_EINVAL);
	m.zero = 0;
	assert_int_equal(call(CTL_OP_DBG_MEM_WRITE, &m, 24 + 7, NULL, NULL), -VIREO_EINVAL);
	assert_int_equal(call(CTL_OP_DBG_MEM_READ, &m, 23, NULL, NULL), -VIREO_EINVAL);
	m.va = 0x10000000;
	assert_int_equal(call(CTL_OP_DBG_MEM_READ, &m, 24, NULL, NULL), -VIREO_EFAULT);
	/* A running VM's memory and breakpoints wait for it to be parked. */
	fake.parked = false;
	assert_int_equal(brk(true, 0, CODE), -VIREO_EBUSY);
	assert_int_equal(step(0), -VIREO_EBUSY);
	m.va = CODE;
	assert_int_equal(call(CTL_OP_DBG_MEM_READ, &m, 24, NULL, NULL), -VIREO_EBUSY);
	fake.parked = true;
	/* A VM that is going away is no VM to debug. */
	fake.vm.state = VM_STOPPING;
	assert_int_equal(brk(true, 0, CODE), -VIREO_EINVAL);
	fake.vm.state = VM_RUNNING;
	assert_int_equal(fake.events, 0);
	assert_memory_equal(fake.ram, fake.snapshot, RAM_SIZE);
}

static void test_attach_and_detach(void **state)
{
	uint8_t out[8];
	uint32_t vm = 1, len;

	(void)state;
	/* A running VM is paused for the change and runs on. */
	assert_int_equal(call(CTL_OP_DBG_ATTACH, &vm, 4, out, &len), 0);
	assert_int_equal(len, 8);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[4], CTL_DBG_F_FP | CTL_DBG_F_C);
	assert_int_equal(fake.pauses, 1);
	assert_int_equal(fake.resumes, 1);
	assert_false(fake.vm.paused);
	assert_int_equal(fake.vcpus[0].arch.hcfg.hedeleg, 0);
	assert_int_equal(fake.vcpus[1].arch.hcfg.hedeleg, 0);
	pause_vm();
	assert_int_equal(brk(true, 0, CODE), 0);
	assert_int_equal(get16(CODE), EBREAK2);
	assert_int_equal(call(CTL_OP_DBG_DETACH, &vm, 4, NULL, NULL), 0);
	assert_memory_equal(fake.ram, fake.snapshot, RAM_SIZE);
	assert_int_equal(fake.vcpus[0].arch.hcfg.hedeleg, 1);
	assert_true(fake.vm.paused); /* as it was */
	/* A VM held at boot says so. */
	vm_debug_hold_at_start(&fake.vm);
	fake.parked = true;
	assert_int_equal(call(CTL_OP_DBG_ATTACH, &vm, 4, out, &len), 0);
	assert_int_equal(out[4], CTL_DBG_F_FP | CTL_DBG_F_C | CTL_DBG_F_WAITING);
}

static void test_breakpoints_are_hidden(void **state)
{
	uint8_t buf[16], want[16];

	(void)state;
	pause_vm();
	assert_int_equal(attach(), 0);
	assert_int_equal(brk(true, 0, CODE + 2), 0);
	assert_int_equal(brk(true, 0, CODE + 2), 0); /* twice is once */
	assert_int_equal(get16(CODE + 2), EBREAK2);
	assert_true(fake.fences > 0);
	/* Reads show the guest's bytes. */
	assert_int_equal(mem(false, CODE, buf, 16), 16);
	assert_memory_equal(buf, fake.snapshot + (CODE - RAM_GPA), 16);
	/* A write over the breakpoint goes under it. */
	for (unsigned i = 0; i < 16; i++)
		want[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(mem(true, CODE, want, 16), 16);
	assert_int_equal(get16(CODE + 2), EBREAK2);
	assert_int_equal(mem(false, CODE, buf, 16), 16);
	assert_memory_equal(buf, want, 16);
	assert_int_equal(brk(false, 0, CODE + 2), 0);
	assert_memory_equal(fake.ram + (CODE - RAM_GPA), want, 16);
	/* A guest that rewrote the code under a breakpoint keeps its code. */
	assert_int_equal(brk(true, 0, CODE + 4), 0);
	put16(CODE + 4, 0x1234);
	assert_int_equal(brk(false, 0, CODE + 4), 0);
	assert_int_equal(get16(CODE + 4), 0x1234);
	/* Reads stop at the end of RAM. */
	assert_int_equal(mem(false, RAM_GPA + RAM_SIZE - 4, buf, 16), 4);
	/* The table has its limit. */
	for (unsigned i = 0; i < VM_DEBUG_SITES; i++)
		assert_int_equal(brk(true, 0, CODE + 0x100 + 2 * i), 0);
	assert_int_equal(brk(true, 0, CODE + 0x100 + 2 * VM_DEBUG_SITES), -VIREO_ENOSPC);
}

/* The guest's Sv39: HIGH + x maps RAM_GPA + x with a gigapage. */
static uint64_t sv39_on(void)
{
	uint64_t satp = 8ULL << 60 | TABLES >> 12;

	put64(TABLES + 8 * ((HIGH >> 30) & 511), (RAM_GPA >> 12) << 10 | 0xf);
	return satp;
}

static void test_through_guest_tables(void **state)
{
	uint64_t satp = sv39_on(), unmapped = HIGH + 0x40000000ULL + 0x3000;
	struct vcpu_va tr = {1, 0, HIGH + (CODE - RAM_GPA) + 2};
	uint8_t out[24];
	uint32_t len;
	uint64_t gpa;

	(void)state;
	pause_vm();
	fake.vcpus[0].arch.vs.vsatp = satp;
	fake.vcpus[1].arch.vs.vsatp = satp;
	assert_int_equal(attach(), 0);
	assert_int_equal(call(CTL_OP_DBG_TRANSLATE, &tr, sizeof(tr), out, &len), 0);
	assert_int_equal(len, 24);
	memcpy(&gpa, out, 8);
	assert_int_equal(gpa, CODE + 2);
	assert_int_equal(brk(true, 0, HIGH + (CODE - RAM_GPA)), 0);
	assert_int_equal(get16(CODE), EBREAK2);
	/* Not mapped yet: it waits, and satp writes are watched on every vCPU. */
	assert_int_equal(brk(true, 0, unmapped), 1);
	assert_true(fake.vcpus[0].arch.gprs.hstatus & VTVM);
	assert_true(fake.vcpus[1].arch.gprs.hstatus & VTVM);
	/* The guest maps it (another gigapage onto RAM) and writes satp. */
	put64(TABLES + 0x1000 + 8 * ((unmapped >> 30) & 511), (RAM_GPA >> 12) << 10 | 0xf);
	fake.vcpus[1].arch.gprs.x[REG_A0] = satp + 1;
	fake.vcpus[1].exit = (struct vcpu_exit){.kind = VCPU_EXIT_ILLEGAL, .insn = SATP_W};
	assert_true(vm_debug_virtual_insn(&fake.vcpus[1]));
	assert_int_equal(get16(RAM_GPA + 0x3000), EBREAK2);
	assert_false(fake.vcpus[1].arch.gprs.hstatus & VTVM);
	/* Another instruction is none of the debugger's business; nor a user's. */
	fake.vcpus[1].exit.insn = ADDI;
	assert_false(vm_debug_virtual_insn(&fake.vcpus[1]));
	/* Cleared while waiting: it never goes in. */
	assert_int_equal(brk(true, 0, unmapped + 0x40000000ULL), 1);
	assert_int_equal(brk(false, 0, unmapped + 0x40000000ULL), 0);
	assert_false(fake.vcpus[0].arch.gprs.hstatus & VTVM);
}

static void test_stops(void **state)
{
	(void)state;
	pause_vm();
	assert_int_equal(attach(), 0);
	assert_int_equal(brk(true, 0, CODE + 2), 0);
	fake.vm.paused = false;
	fake.parked = false;
	/* Both vCPUs meet the breakpoint: the first stops the VM, the second backs off. */
	fake.vcpus[0].arch.gprs.sepc = CODE + 2;
	fake.vcpus[1].arch.gprs.sepc = CODE + 2;
	assert_int_equal(hit(1), VCPU_YIELD);
	assert_true(fake.vm.paused);
	assert_int_equal(fake.events, 1);
	assert_int_equal(fake.last.vcpu, 1);
	assert_int_equal(fake.last.reason, CTL_DBG_BREAKPOINT);
	assert_int_equal(fake.last.pc, CODE + 2);
	assert_int_equal(hit(0), VCPU_YIELD);
	assert_int_equal(fake.events, 1);
	assert_int_equal(fake.vcpus[0].arch.gprs.sepc, CODE + 2);
	/* The guest's own ebreak is the guest's: injected, or the host's catch. */
	fake.vm.paused = false;
	fake.vcpus[0].arch.gprs.sepc = CODE;
	assert_int_equal(hit(0), VCPU_CONTINUE);
	assert_int_equal(fake.injections, 1);
	fake.vm.catch = VM_CATCH_BREAKPOINT;
	fake.vcpus[0].arch.gprs.sepc = CODE;
	assert_int_equal(hit(0), VCPU_YIELD);
	assert_int_equal(fake.catches, 1);
	fake.vm.catch = 0;
	/* A fault stops the VM in the debugger, once. */
	fake.vcpus[0].exit =
	    (struct vcpu_exit){.kind = VCPU_EXIT_GUEST_ACCESS, .cause = 21, .gpa = 0x40000000};
	assert_int_equal(vm_debug_fault(&fake.vcpus[0]), VCPU_YIELD);
	assert_int_equal(fake.last.reason, CTL_DBG_FAULT);
	assert_int_equal(fake.last.gpa, 0x40000000);
	assert_int_equal(fake.last.cause, 21);
	assert_int_equal(vm_debug_fault(&fake.vcpus[1]), VCPU_YIELD);
	assert_int_equal(fake.events, 2);
}

static void test_step(void **state)
{
	struct vcpu *v = &fake.vcpus[0];

	(void)state;
	pause_vm();
	assert_int_equal(attach(), 0);
	/* A branch: sites at both ways and at the trap vector; interrupts held off. */
	v->arch.gprs.sepc = CODE + 6;
	assert_int_equal(step(0), 0);
	assert_int_equal(get16(CODE + 10), EBREAK2);
	assert_int_equal(get16(CODE + 6 + 16), EBREAK2);
	assert_int_equal(get16(STVEC), EBREAK2);
	assert_int_equal(v->arch.vs.vsie, 0);
	assert_false(vcpu_held(v));
	assert_true(vcpu_held(&fake.vcpus[1]));
	/* It went to the target. */
	fake.parked = false;
	v->arch.gprs.sepc = CODE + 6 + 16;
	assert_int_equal(hit(0), VCPU_YIELD);
	assert_int_equal(fake.last.reason, CTL_DBG_STEP);
	assert_int_equal(fake.last.pc, CODE + 22);
	assert_true(vcpu_held(v));
	assert_int_equal(v->arch.vs.vsie, SIE_ALL);
	assert_memory_equal(fake.ram, fake.snapshot, RAM_SIZE);
	/* A step that starts on a breakpoint runs the instruction under it, and the
	 * breakpoint is back afterwards. */
	fake.parked = true;
	assert_int_equal(brk(true, 0, CODE + 2), 0);
	v->arch.gprs.sepc = CODE + 2;
	assert_int_equal(step(0), 0);
	assert_int_equal(get16(CODE + 2), ADDI & 0xffff);
	assert_int_equal(get16(CODE + 6), EBREAK2);
	v->arch.gprs.sepc = CODE + 6;
	assert_int_equal(hit(0), VCPU_YIELD);
	assert_int_equal(get16(CODE + 2), EBREAK2);
	assert_int_equal(get16(CODE + 6), BEQ_16 & 0xffff);
	assert_int_equal(brk(false, 0, CODE + 2), 0);
	/* wfi is stepped over without running. */
	v->arch.gprs.sepc = CODE + 10;
	v->waiting = true;
	assert_int_equal(step(0), 0);
	assert_int_equal(v->arch.gprs.sepc, CODE + 14);
	assert_false(v->waiting);
	assert_null(v->vm->debug.step_vcpu);
	assert_int_equal(fake.last.pc, CODE + 14);
	/* The guest's own ebreak while stepping goes to its handler, where the step ends. */
	put16(CODE + 14, EBREAK2);
	assert_int_equal(step(0), 0);
	assert_int_equal(hit(0), VCPU_CONTINUE);
	assert_int_equal(v->arch.gprs.sepc, STVEC);
	assert_int_equal(hit(0), VCPU_YIELD);
	assert_int_equal(fake.last.reason, CTL_DBG_STEP);
	assert_int_equal(fake.last.pc, STVEC);
	put16(CODE + 14, 0);
	assert_memory_equal(fake.ram, fake.snapshot, RAM_SIZE);
	/* A stopped vCPU cannot be stepped. */
	fake.vcpus[1].hsm = VCPU_STOPPED;
	assert_int_equal(step(1), -VIREO_EBUSY);
}

static void test_step_cut_short(void **state)
{
	struct vcpu *v = &fake.vcpus[0];

	(void)state;
	pause_vm();
	assert_int_equal(attach(), 0);
	v->arch.gprs.sepc = CODE + 2;
	assert_int_equal(step(0), 0);
	/* The host pauses meanwhile (Ctrl-C): the stepped vCPU stops too... */
	fake.parked = false;
	vm_pause(&fake.vm);
	assert_true(vcpu_held(v));
	/* ...and resuming cleans up what the step left. */
	vm_resume(&fake.vm);
	assert_memory_equal(fake.ram, fake.snapshot, RAM_SIZE);
	assert_int_equal(v->arch.vs.vsie, SIE_ALL);
	/* A step's site met after its step was cut short (no clean-up): taken out, and
	 * the guest goes on. */
	pause_vm();
	assert_int_equal(step(0), 0);
	vm_debug_hold(&fake.vm);
	fake.vm.paused = false;
	fake.parked = false;
	fake.vcpus[1].arch.gprs.sepc = CODE + 6;
	assert_int_equal(hit(1), VCPU_CONTINUE);
	assert_int_equal(get16(CODE + 6), BEQ_16 & 0xffff);
	v->arch.gprs.sepc = STVEC;
	assert_int_equal(hit(0), VCPU_CONTINUE); /* the owner: its interrupts come back */
	assert_int_equal(fake.injections, 0);
	assert_int_equal(v->arch.vs.vsie, SIE_ALL);
	assert_memory_equal(fake.ram, fake.snapshot, RAM_SIZE);
	/* A fault in the step ends it as a fault. */
	pause_vm();
	v->arch.gprs.sepc = CODE + 2;
	assert_int_equal(step(0), 0);
	v->exit = (struct vcpu_exit){.kind = VCPU_EXIT_FETCH, .cause = 20, .gpa = 0x1000};
	assert_int_equal(vm_debug_fault(v), VCPU_YIELD);
	assert_int_equal(fake.last.reason, CTL_DBG_FAULT);
	assert_int_equal(fake.last.gpa, 0x1000);
	assert_memory_equal(fake.ram, fake.snapshot, RAM_SIZE);
	/* Detach in the middle of everything leaves the guest as it was. */
	assert_int_equal(brk(true, 0, CODE), 0);
	assert_int_equal(step(0), 0);
	uint32_t vm = 1;
	assert_int_equal(call(CTL_OP_DBG_DETACH, &vm, 4, NULL, NULL), 0);
	assert_memory_equal(fake.ram, fake.snapshot, RAM_SIZE);
	assert_int_equal(v->arch.vs.vsie, SIE_ALL);
	assert_null(fake.vm.debug.step_vcpu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_bad_requests, setup),
	    cmocka_unit_test_setup(test_attach_and_detach, setup),
	    cmocka_unit_test_setup(test_breakpoints_are_hidden, setup),
	    cmocka_unit_test_setup(test_through_guest_tables, setup),
	    cmocka_unit_test_setup(test_stops, setup),
	    cmocka_unit_test_setup(test_step, setup),
	    cmocka_unit_test_setup(test_step_cut_short, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
