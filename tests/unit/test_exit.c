// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the exit dispatch (hv/core/exit.c, vcpu_handle_exit) with
 * hand-made exits, as arch/riscv would classify them. The VM's MMIO bus is
 * the real one (hv/core/mmio_bus.c) with a fake device on it, and the load
 * extension is the real insn_load_extend; SBI, vm_stop, the diagnostics and
 * exception injection are recording fakes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/exit.h>
#include <vireo/log.h>
#include <vireo/sbi.h>
#include <vireo/sched.h>
#include <vireo/hart.h>
#include <vireo/vm.h>
#include <vireo/vm_cow.h>
#include <vireo/vm_mem.h>

#define DEV_BASE 0x10000000UL
#define DEV_SIZE 0x1000UL
#define PC	 0x80001000UL
#define REG_T0	 5
#define REG_A3	 13
#define REG_S11	 27
#define GARBAGE	 0x5a5a5a5a5a5a5a5aUL /* what a register holds before a load */

/* ---------------------------------------------------------------- fakes */

static struct {
	/* sbi_handle_ecall */
	unsigned ecalls;
	struct vcpu *ecall_vcpu;
	enum vcpu_action ecall_action; /* scripted answer */
	/* vm_stop */
	unsigned stops;
	struct vm *stop_vm;
	int stop_status;
	const char *stop_why;
	/* vcpu_dump, printk, vcpu_arch_describe_exit */
	unsigned dumps;
	unsigned printks;
	char printk_line[512];
	unsigned describes;
	/* vcpu_aia_csr */
	unsigned aia_csrs;
	bool aia_csr_handled; /* scripted answer */
	/* vcpu_arch_inject_exception */
	unsigned injections;
	enum vcpu_exception inject_exc;
	unsigned long inject_tval;
	/* sbi_pmu_emulate_counter_read */
	unsigned pmu_reads;
	uint32_t pmu_insn;
	bool pmu_from_user;
	bool pmu_emulates; /* scripted answer */
	/* what the fast path looks at */
	unsigned pending_irqs;	      /* hart_pending_irqs */
	bool fast_eid;		      /* sbi_call_is_fast */
	unsigned long post_request;   /* sbi_handle_ecall posts this to the vCPU */
	unsigned classifies;	      /* vcpu_arch_classify_slow */
	bool timer_dirty;	      /* sched_timer_is_dirty */
	bool alone;		      /* sched_vcpu_alone */
	unsigned catches, caught_why; /* vm_catch */
	unsigned debug_faults, debug_breaks, debug_insns; /* vm_debug hooks */
	bool debug_emulates;				  /* vm_debug_virtual_insn's answer */
	unsigned acks, refreshes;			  /* hart_ack_ipi, vcpu_refresh_entry */
	bool read_moves_timer;				  /* dev_read calls sched_timer_changed */
	/* vm_cow_fault */
	unsigned cow_faults;
	uint64_t cow_gpa;
	bool cow_takes, cow_stops; /* scripted answers */
} fake;

static struct hart the_hart;

struct hart *this_hart(void)
{
	return &the_hart;
}

unsigned hart_pending_irqs(void)
{
	return fake.pending_irqs;
}

enum vcpu_action vm_catch(struct vcpu *v, unsigned why)
{
	(void)v;
	fake.catches++;
	fake.caught_why = why;
	return VCPU_YIELD;
}

enum vcpu_action vm_debug_fault(struct vcpu *v)
{
	(void)v;
	fake.debug_faults++;
	return VCPU_YIELD;
}

enum vcpu_action vm_debug_breakpoint(struct vcpu *v)
{
	(void)v;
	fake.debug_breaks++;
	return VCPU_YIELD;
}

bool vm_debug_virtual_insn(struct vcpu *v)
{
	(void)v;
	fake.debug_insns++;
	return fake.debug_emulates;
}

bool sched_vcpu_alone(const struct vcpu *v)
{
	(void)v;
	return fake.alone;
}

void hart_ack_ipi(void)
{
	fake.acks++;
	fake.pending_irqs &= ~HART_IRQ_IPI;
}

void vcpu_refresh_entry(struct vcpu *v)
{
	fake.refreshes++;
	v->requests = 0;
}

void sched_timer_changed(void)
{
	fake.timer_dirty = true;
}

bool sched_timer_is_dirty(void)
{
	return fake.timer_dirty;
}

unsigned long vcpu_pending_requests(const struct vcpu *v)
{
	return v->requests;
}

/* What arch's classification says about a guest-page fault in the fast path. */
static struct vcpu_exit scripted_exit;

void vcpu_arch_classify_slow(struct vcpu_arch *a, struct vcpu_exit *e)
{
	(void)a;
	fake.classifies++;
	*e = scripted_exit;
}

bool sbi_call_is_fast(unsigned long eid, unsigned long fid)
{
	(void)eid;
	(void)fid;
	return fake.fast_eid;
}

/* The device: records every access and answers from its script. */
static struct {
	unsigned reads, writes;
	uint64_t offset;
	unsigned width;
	uint64_t written;
	uint64_t read_value; /* what a read returns */
	int error;	     /* what every access returns */
} dev;

enum vcpu_action sbi_handle_ecall(struct vcpu *v)
{
	fake.ecalls++;
	fake.ecall_vcpu = v;
	v->requests |= fake.post_request;
	return fake.ecall_action;
}

bool vcpu_aia_csr(struct vcpu *v)
{
	(void)v;
	fake.aia_csrs++;
	return fake.aia_csr_handled;
}

bool sbi_pmu_emulate_counter_read(struct vcpu *v, uint32_t insn, bool from_user)
{
	(void)v;
	fake.pmu_reads++;
	fake.pmu_insn = insn;
	fake.pmu_from_user = from_user;
	return fake.pmu_emulates;
}

void vm_stop(struct vm *vm, int status, const char *why)
{
	fake.stops++;
	fake.stop_vm = vm;
	fake.stop_status = status;
	fake.stop_why = why;
	vm->state = VM_STOPPING;
}

bool vm_cow_fault(struct vcpu *v, uint64_t gpa, bool *stopped)
{
	assert_non_null(v);
	fake.cow_faults++;
	fake.cow_gpa = gpa;
	*stopped = fake.cow_takes && fake.cow_stops;
	if (*stopped)
		vm_stop(v->vm, VM_STATUS_MEMORY, "cow");
	return fake.cow_takes;
}

void vcpu_dump(const struct vcpu *v)
{
	(void)v;
	fake.dumps++;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	fake.printks++;
	va_start(ap, fmt);
	n = vsnprintf(fake.printk_line, sizeof(fake.printk_line), fmt, ap);
	va_end(ap);
	return n;
}

#define DESCRIPTION "fake cause, scause 99) at sepc X"

void vcpu_arch_describe_exit(const struct vcpu_arch *a, char *buf, size_t size)
{
	(void)a;
	fake.describes++;
	snprintf(buf, size, "%s", DESCRIPTION);
}

const char *vcpu_arch_cause_name(unsigned long cause)
{
	(void)cause;
	return "fake cause";
}

void vcpu_arch_inject_exception(struct vcpu_arch *a, enum vcpu_exception exc, unsigned long tval)
{
	(void)a;
	fake.injections++;
	fake.inject_exc = exc;
	fake.inject_tval = tval;
}

static int dev_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	assert_ptr_equal(opaque, &dev);
	dev.reads++;
	dev.offset = offset;
	dev.width = width;
	*value = dev.read_value;
	if (fake.read_moves_timer)
		sched_timer_changed();
	return dev.error;
}

static int dev_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	assert_ptr_equal(opaque, &dev);
	dev.writes++;
	dev.offset = offset;
	dev.width = width;
	dev.written = value;
	return dev.error;
}

static const struct mmio_ops dev_ops = {.read = dev_read, .write = dev_write};

/* ---------------------------------------------------------------- fixture */

static struct vm vm;
static struct vcpu vcpu;

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	memset(&dev, 0, sizeof(dev));
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	memset(&the_hart, 0, sizeof(the_hart));
	memset(&scripted_exit, 0, sizeof(scripted_exit));
	strcpy(vm.name, "guest");
	vm.state = VM_RUNNING;
	vm.nvcpus = 1;
	vm.vcpus[0] = &vcpu;
	mmio_bus_init(&vm.bus);
	assert_int_equal(mmio_bus_register(&vm.bus, DEV_BASE, DEV_SIZE, &dev_ops, &dev, "dev"), 0);
	vcpu.vm = &vm;
	vcpu.id = 0;
	vcpu.hsm = VCPU_STARTED;
	vcpu.arch.gprs.sepc = PC;
	for (unsigned i = 1; i < 32; i++)
		vcpu.arch.gprs.x[i] = 0x1000 + i;
	return 0;
}

static unsigned long reg(unsigned r)
{
	return vcpu.arch.gprs.x[r];
}

static unsigned long pc(void)
{
	return vcpu.arch.gprs.sepc;
}

static enum vcpu_action handle(struct vcpu_exit e)
{
	vcpu.exit = e;
	return vcpu_handle_exit(&vcpu);
}

static struct vcpu_exit mmio_exit(uint64_t gpa, bool store, unsigned width, bool sign, unsigned r,
				  unsigned length)
{
	return (struct vcpu_exit){
	    .kind = VCPU_EXIT_GUEST_ACCESS,
	    .gpa = gpa,
	    .gva = 0xffffffc000000000UL + gpa,
	    .access_type = store ? VCPU_ACCESS_STORE : VCPU_ACCESS_LOAD,
	    .is_store = store,
	    .decoded = true,
	    .access = {.is_store = store,
		       .sign_extend = sign,
		       .width = (uint8_t)width,
		       .reg = (uint8_t)r,
		       .length = (uint8_t)length},
	};
}

/* The VM was stopped as faulted, with a diagnostic, and the guest's state left alone. */
static void assert_vm_faulted(enum vcpu_action action, unsigned long expected_pc)
{
	assert_int_equal(action, VCPU_VM_ENDED);
	assert_int_equal(fake.stops, 1);
	assert_ptr_equal(fake.stop_vm, &vm);
	assert_int_equal(fake.stop_status, VM_STATUS_FAULT);
	assert_non_null(fake.stop_why);
	assert_int_equal(vm.state, VM_STOPPING);
	/* The diagnostic names the VM, the vCPU and the trap... */
	assert_int_equal(fake.dumps, 1);
	assert_int_equal(fake.describes, 1);
	assert_true(fake.printks >= 1);
	assert_non_null(strstr(fake.printk_line, "'guest'"));
	assert_non_null(strstr(fake.printk_line, DESCRIPTION));
	assert_non_null(strstr(fake.printk_line, fake.stop_why));
	/* ...and the guest gets nothing: no exception, no step past the instruction. */
	assert_int_equal(fake.injections, 0);
	assert_int_equal(pc(), expected_pc);
}

/* ---------------------------------------------------------------- SBI, interrupts */

static void test_ecall_goes_to_sbi(void **state)
{
	static const enum vcpu_action actions[] = {VCPU_CONTINUE, VCPU_BLOCK, VCPU_YIELD,
						   VCPU_STOPPED_NOW, VCPU_VM_ENDED};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(actions); i++) {
		fake.ecall_action = actions[i];
		assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_ECALL}), actions[i]);
		assert_int_equal(fake.ecalls, i + 1);
		assert_ptr_equal(fake.ecall_vcpu, &vcpu);
	}
	/* SBI moves pc itself: the dispatch does not. */
	assert_int_equal(pc(), PC);
	assert_int_equal(dev.reads + dev.writes, 0);
	assert_int_equal(fake.stops, 0);
	assert_int_equal(fake.injections, 0);
}

static void test_interrupt_does_nothing(void **state)
{
	(void)state;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_INTERRUPT}), VCPU_CONTINUE);
	assert_int_equal(pc(), PC);
	assert_int_equal(fake.ecalls + fake.stops + fake.injections, 0);
	assert_int_equal(dev.reads + dev.writes, 0);
}

/* ---------------------------------------------------------------- MMIO */

static void test_mmio_load_extends(void **state)
{
	static const struct {
		unsigned width;
		bool sign;
		uint64_t device; /* what the device returns (bits above the width included) */
		uint64_t expect; /* what the register must hold */
	} cases[] = {
	    {1, true, 0x80, 0xffffffffffffff80UL},	 /* lb */
	    {1, true, 0x7f, 0x7f},			 /* lb, positive */
	    {1, false, 0x80, 0x80},			 /* lbu */
	    {1, false, 0xffffff81, 0x81},		 /* lbu: only the low byte counts */
	    {2, true, 0x8001, 0xffffffffffff8001UL},	 /* lh */
	    {2, false, 0x8001, 0x8001},			 /* lhu */
	    {2, true, 0x12347ffe, 0x7ffe},		 /* lh, positive, junk above */
	    {4, true, 0x80000001, 0xffffffff80000001UL}, /* lw / c.lw */
	    {4, false, 0x80000001, 0x80000001},		 /* lwu */
	    {4, true, 0xabcd00007fffffffUL, 0x7fffffff}, /* lw, positive, junk above */
	    {8, false, 0x8000000000000001UL, 0x8000000000000001UL}, /* ld */
	};
	static const unsigned lengths[] = {4, 2};

	(void)state;
	for (unsigned l = 0; l < ARRAY_SIZE(lengths); l++) {
		for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
			uint64_t offset = 0x40 + 8 * i;
			unsigned reads = dev.reads;

			vcpu.arch.gprs.sepc = PC;
			vcpu.arch.gprs.x[REG_A3] = GARBAGE;
			dev.read_value = cases[i].device;
			assert_int_equal(handle(mmio_exit(DEV_BASE + offset, false, cases[i].width,
							  cases[i].sign, REG_A3, lengths[l])),
					 VCPU_CONTINUE);
			assert_int_equal(dev.reads, reads + 1);
			assert_int_equal(dev.offset, offset);
			assert_int_equal(dev.width, cases[i].width);
			assert_int_equal(reg(REG_A3), cases[i].expect);
			assert_int_equal(pc(), PC + lengths[l]);
		}
	}
	assert_int_equal(dev.writes, 0);
	assert_int_equal(fake.stops, 0);
	assert_int_equal(fake.injections, 0);
}

/* The load goes to the register the instruction names, and no other changes. */
static void test_mmio_load_right_register(void **state)
{
	static const unsigned regs[] = {1, REG_T0, REG_A0, REG_S11, 31};
	struct vcpu_gprs before;

	(void)state;
	dev.read_value = 0xc0ffee;
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++) {
		before = vcpu.arch.gprs;
		assert_int_equal(handle(mmio_exit(DEV_BASE, false, 4, false, regs[i], 4)),
				 VCPU_CONTINUE);
		for (unsigned r = 0; r < 32; r++)
			assert_int_equal(reg(r), r == regs[i] ? 0xc0ffee : before.x[r]);
		assert_int_equal(pc(), before.sepc + 4);
	}
}

static void test_mmio_load_into_x0(void **state)
{
	struct vcpu_gprs before;

	(void)state;
	dev.read_value = 0xffffffffffffffffUL;
	before = vcpu.arch.gprs;
	assert_int_equal(handle(mmio_exit(DEV_BASE + 8, false, 8, false, 0, 2)), VCPU_CONTINUE);
	/* The device still sees the read (it may have side effects)... */
	assert_int_equal(dev.reads, 1);
	assert_int_equal(dev.offset, 8);
	/* ...but no register changes, and the guest moves on. */
	assert_memory_equal(vcpu.arch.gprs.x, before.x, sizeof(before.x));
	assert_int_equal(pc(), PC + 2);
}

static void test_mmio_store(void **state)
{
	static const struct {
		unsigned width;
		uint64_t expect;
	} cases[] = {
	    {1, 0x0d},
	    {2, 0xf00d},
	    {4, 0xcafef00d},
	    {8, 0xdeadbeefcafef00dUL},
	};
	struct vcpu_gprs before;

	(void)state;
	vcpu.arch.gprs.x[REG_S11] = 0xdeadbeefcafef00dUL;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		before = vcpu.arch.gprs;
		assert_int_equal(handle(mmio_exit(DEV_BASE + 0x100, true, cases[i].width, false,
						  REG_S11, i % 2 ? 2 : 4)),
				 VCPU_CONTINUE);
		assert_int_equal(dev.writes, i + 1);
		assert_int_equal(dev.offset, 0x100);
		assert_int_equal(dev.width, cases[i].width);
		assert_int_equal(dev.written, cases[i].expect);
		/* A store changes no register. */
		assert_memory_equal(vcpu.arch.gprs.x, before.x, sizeof(before.x));
		assert_int_equal(pc(), before.sepc + (i % 2 ? 2 : 4));
	}
	assert_int_equal(dev.reads, 0);
}

/* A store from x0 writes 0, whatever the unused slot x[0] holds. */
static void test_mmio_store_x0(void **state)
{
	(void)state;
	vcpu.arch.gprs.x[0] = GARBAGE;
	assert_int_equal(handle(mmio_exit(DEV_BASE, true, 8, false, 0, 4)), VCPU_CONTINUE);
	assert_int_equal(dev.writes, 1);
	assert_int_equal(dev.written, 0);
}

static void test_mmio_unmapped_stops_vm(void **state)
{
	static const uint64_t gpas[] = {DEV_BASE - 1, DEV_BASE + DEV_SIZE, 0, 0x80000000UL};

	(void)state;
	for (unsigned i = 0; i < 2 * ARRAY_SIZE(gpas); i++) {
		bool store = i >= ARRAY_SIZE(gpas);
		const char *why;

		setup(NULL);
		vcpu.arch.gprs.x[REG_A3] = GARBAGE;
		assert_vm_faulted(
		    handle(mmio_exit(gpas[i % ARRAY_SIZE(gpas)], store, 4, !store, REG_A3, 4)), PC);
		assert_int_equal(reg(REG_A3), GARBAGE);
		assert_int_equal(dev.reads + dev.writes, 0);
		assert_int_equal(vcpu.exit_kinds[VCPU_EXIT_GUEST_ACCESS], 1);
		why = fake.stop_why;
		/* The diagnostic says it was nobody's address, not a device's refusal. */
		setup(NULL);
		dev.error = -VIREO_EINVAL;
		assert_vm_faulted(handle(mmio_exit(DEV_BASE, store, 4, !store, REG_A3, 4)), PC);
		assert_string_not_equal(fake.stop_why, why);
	}
}

/* Caught exits go to the host instead of their usual fate: nothing stopped, nothing
 * injected, the vCPU yields with the VM paused (vm_catch). */
static void test_catches(void **state)
{
	vm.catch = VM_CATCH_FAULT;
	assert_int_equal(handle(mmio_exit(0x40000000, false, 4, true, REG_A3, 4)), VCPU_YIELD);
	assert_int_equal(fake.catches, 1);
	assert_int_equal(fake.caught_why, VM_CATCH_FAULT);
	assert_int_equal(fake.stops, 0);
	/* Illegal instructions: caught only when asked, after the PMU had its look. */
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_ILLEGAL, .insn = 0xffffffffu}),
			 VCPU_CONTINUE);
	assert_int_equal(fake.injections, 1);
	vm.catch = VM_CATCH_ILLEGAL;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_ILLEGAL, .insn = 0xffffffffu}),
			 VCPU_YIELD);
	assert_int_equal(fake.caught_why, VM_CATCH_ILLEGAL);
	assert_int_equal(fake.injections, 1);
	/* A breakpoint caught; one that arrives after the catch ended is the guest's. */
	vm.catch = VM_CATCH_BREAKPOINT;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_BREAKPOINT}), VCPU_YIELD);
	assert_int_equal(fake.caught_why, VM_CATCH_BREAKPOINT);
	vm.catch = 0;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_BREAKPOINT}), VCPU_CONTINUE);
	assert_int_equal(fake.inject_exc, VCPU_EXC_BREAKPOINT);
	assert_int_equal(fake.inject_tval, PC);
	assert_int_equal(fake.catches, 3);
	setup(state);
	assert_vm_faulted(handle(mmio_exit(0x40000000, false, 4, true, REG_A3, 4)), PC);
}

/* An attached debugger: breakpoints and faults go to it, after the host's catches; a
 * virtual instruction it watches (a satp write) is its to carry out. */
static void test_debugger_hooks(void **state)
{
	vm.debug.attached = true;
	assert_int_equal(handle(mmio_exit(0x40000000, false, 4, true, REG_A3, 4)), VCPU_YIELD);
	assert_int_equal(fake.debug_faults, 1);
	assert_int_equal(fake.stops, 0);
	vm.catch = VM_CATCH_FAULT;
	assert_int_equal(handle(mmio_exit(0x40000000, false, 4, true, REG_A3, 4)), VCPU_YIELD);
	assert_int_equal(fake.catches, 1);
	assert_int_equal(fake.debug_faults, 1);
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_BREAKPOINT}), VCPU_YIELD);
	assert_int_equal(fake.debug_breaks, 1);
	assert_int_equal(fake.catches, 1);
	fake.debug_emulates = true;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_ILLEGAL, .insn = 0x18051073}),
			 VCPU_CONTINUE);
	assert_int_equal(fake.injections, 0);
	fake.debug_emulates = false;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_ILLEGAL, .insn = 0xffffffffu}),
			 VCPU_CONTINUE);
	assert_int_equal(fake.debug_insns, 2);
	assert_int_equal(fake.injections, 1);
	vm.debug.attached = false;
	vm.catch = 0;
	setup(state);
}

static void test_mmio_undecodable_stops_vm(void **state)
{
	struct vcpu_exit e = mmio_exit(DEV_BASE, false, 4, true, REG_A3, 4);

	(void)state;
	e.decoded = false;
	vcpu.arch.gprs.x[REG_A3] = GARBAGE;
	assert_vm_faulted(handle(e), PC);
	assert_int_equal(reg(REG_A3), GARBAGE);
	/* Without knowing the width or the register, the device must not be touched. */
	assert_int_equal(dev.reads + dev.writes, 0);

	setup(NULL);
	e = mmio_exit(DEV_BASE, true, 4, false, REG_A3, 4);
	e.decoded = false;
	assert_vm_faulted(handle(e), PC);
	assert_int_equal(dev.reads + dev.writes, 0);
}

static void test_mmio_device_error_stops_vm(void **state)
{
	(void)state;
	dev.error = -VIREO_EINVAL;
	dev.read_value = 0x1234;
	vcpu.arch.gprs.x[REG_A3] = GARBAGE;
	assert_vm_faulted(handle(mmio_exit(DEV_BASE + 4, false, 4, false, REG_A3, 4)), PC);
	assert_int_equal(dev.reads, 1);
	/* A failed load leaves the register alone. */
	assert_int_equal(reg(REG_A3), GARBAGE);

	setup(NULL);
	dev.error = -VIREO_EINVAL;
	assert_vm_faulted(handle(mmio_exit(DEV_BASE + 4, true, 4, false, REG_A3, 2)), PC);
	assert_int_equal(dev.writes, 1);
}

/* A store the device wants again (-VIREO_EBUSY: it did part of the work) is executed
 * again by the guest: the VM goes on, sepc stays on the store. */
static void test_mmio_store_busy_is_retried(void **state)
{
	(void)state;
	dev.error = -VIREO_EBUSY;
	assert_int_equal(handle(mmio_exit(DEV_BASE + 4, true, 4, false, REG_A3, 4)), VCPU_CONTINUE);
	assert_int_equal(dev.writes, 1);
	assert_int_equal(pc(), PC);
	assert_int_equal(fake.stops, 0);
	dev.error = 0;
	assert_int_equal(handle(mmio_exit(DEV_BASE + 4, true, 4, false, REG_A3, 4)), VCPU_CONTINUE);
	assert_int_equal(dev.writes, 2);
	assert_int_equal(pc(), PC + 4);
}

/* An access that starts in the device's range and runs past its end. */
static void test_mmio_straddling_end_stops_vm(void **state)
{
	(void)state;
	assert_vm_faulted(handle(mmio_exit(DEV_BASE + DEV_SIZE - 2, false, 4, false, REG_A3, 4)),
			  PC);
	assert_int_equal(dev.reads + dev.writes, 0);
}

/* ---------------------------------------------------------------- page-table walks */

static void test_pt_walk_injects_access_fault(void **state)
{
	static const struct {
		enum vcpu_access type;
		enum vcpu_exception exc;
	} cases[] = {
	    {VCPU_ACCESS_LOAD, VCPU_EXC_LOAD_ACCESS},
	    {VCPU_ACCESS_STORE, VCPU_EXC_STORE_ACCESS},
	    {VCPU_ACCESS_FETCH, VCPU_EXC_FETCH_ACCESS},
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		/* The walk hit the device's range: it must not be read or written. */
		struct vcpu_exit e = mmio_exit(DEV_BASE + 0x10, cases[i].type == VCPU_ACCESS_STORE,
					       8, false, REG_A3, 4);
		unsigned long gva = 0xffffffd000001000UL + i * 0x1000;

		e.kind = VCPU_EXIT_PT_WALK;
		e.gva = gva;
		e.access_type = cases[i].type;
		vcpu.arch.gprs.x[REG_A3] = GARBAGE;
		assert_int_equal(handle(e), VCPU_CONTINUE);
		assert_int_equal(fake.injections, i + 1);
		assert_int_equal(fake.inject_exc, cases[i].exc);
		assert_int_equal(fake.inject_tval, gva);
		assert_int_equal(pc(), PC);
		assert_int_equal(reg(REG_A3), GARBAGE);
	}
	assert_int_equal(dev.reads + dev.writes, 0);
	assert_int_equal(fake.stops, 0);
	assert_int_equal(vcpu.exit_kinds[VCPU_EXIT_PT_WALK], 3);
	/* The SBI PMU counts the load and store access faults (there is no fetch event). */
	assert_int_equal(vcpu.sbi.pmu.fw_events[SBI_PMU_FW_ACCESS_LOAD], 1);
	assert_int_equal(vcpu.sbi.pmu.fw_events[SBI_PMU_FW_ACCESS_STORE], 1);
}

/* ---------------------------------------------------------------- wfi, illegal */

#define INSN_WFI 0x10500073u

static void test_wfi_vs_mode_blocks(void **state)
{
	(void)state;
	assert_false(vcpu.waiting);
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_WFI, .insn = INSN_WFI}),
			 VCPU_BLOCK);
	assert_true(vcpu.waiting);
	assert_int_equal(pc(), PC + 4);
	assert_int_equal(fake.injections, 0);
	assert_int_equal(fake.stops, 0);
}

static void test_wfi_vu_mode_is_illegal(void **state)
{
	(void)state;
	assert_int_equal(
	    handle((struct vcpu_exit){.kind = VCPU_EXIT_WFI, .insn = INSN_WFI, .from_user = true}),
	    VCPU_CONTINUE);
	assert_int_equal(fake.injections, 1);
	assert_int_equal(fake.inject_exc, VCPU_EXC_ILLEGAL_INSN);
	assert_int_equal(fake.inject_tval, INSN_WFI);
	assert_false(vcpu.waiting);
	assert_int_equal(pc(), PC);
	assert_int_equal(fake.stops, 0);
}

static void test_illegal_injects(void **state)
{
	static const uint32_t insns[] = {0x14002573u /* csrr a0, sscratch */, 0x12000073u,
					 0xffffffffu};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(insns); i++) {
		assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_ILLEGAL,
							   .insn = insns[i],
							   .from_user = i == 1}),
				 VCPU_CONTINUE);
		assert_int_equal(fake.injections, i + 1);
		assert_int_equal(fake.inject_exc, VCPU_EXC_ILLEGAL_INSN);
		assert_int_equal(fake.inject_tval, insns[i]);
		assert_int_equal(pc(), PC);
		/* The SBI PMU saw it first (and did not want it), and counted it. */
		assert_int_equal(fake.pmu_reads, i + 1);
		assert_int_equal(fake.pmu_insn, insns[i]);
		assert_int_equal(fake.pmu_from_user, i == 1);
		assert_int_equal(vcpu.sbi.pmu.fw_events[SBI_PMU_FW_ILLEGAL_INSN], i + 1);
	}
	assert_int_equal(fake.stops, 0);
	assert_false(vcpu.waiting);
}

/* A trapped CSR access: the vCPU's software IMSIC file takes it, or it is illegal. */
static void test_csr_to_aia_or_illegal(void **state)
{
	const uint32_t insn = 0x15c01573u; /* csrrw a0, stopei, zero */

	(void)state;
	fake.aia_csr_handled = true;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_CSR, .insn = insn}),
			 VCPU_CONTINUE);
	assert_int_equal(fake.aia_csrs, 1);
	assert_int_equal(fake.injections, 0);
	fake.aia_csr_handled = false;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_CSR, .insn = insn}),
			 VCPU_CONTINUE);
	assert_int_equal(fake.aia_csrs, 2);
	assert_int_equal(fake.injections, 1);
	assert_int_equal(fake.inject_exc, VCPU_EXC_ILLEGAL_INSN);
	assert_int_equal(fake.inject_tval, insn);
}

/* A read of a counter the guest's SBI PMU virtualises: answered, nothing injected. */
static void test_illegal_counter_read_emulated(void **state)
{
	(void)state;
	fake.pmu_emulates = true;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_ILLEGAL, .insn = 0xc0002573u}),
			 VCPU_CONTINUE);
	assert_int_equal(fake.pmu_reads, 1);
	assert_int_equal(fake.injections, 0);
	assert_int_equal(vcpu.sbi.pmu.fw_events[SBI_PMU_FW_ILLEGAL_INSN], 1);
	assert_int_equal(fake.stops, 0);
}

/* A counter read that arrives as a CSR exit (the AIA classification) is the PMU's too. */
static void test_csr_counter_read_emulated(void **state)
{
	(void)state;
	fake.aia_csr_handled = false;
	fake.pmu_emulates = true;
	assert_int_equal(handle((struct vcpu_exit){.kind = VCPU_EXIT_CSR, .insn = 0xc0002573u}),
			 VCPU_CONTINUE);
	assert_int_equal(fake.aia_csrs, 1);
	assert_int_equal(fake.pmu_reads, 1);
	assert_int_equal(fake.injections, 0);
}

/* ---------------------------------------------------------------- fatal exits */

static void test_fatal_kinds_stop_vm(void **state)
{
	static const enum vcpu_exit_kind kinds[] = {VCPU_EXIT_FETCH, VCPU_EXIT_UNREADABLE,
						    VCPU_EXIT_UNKNOWN};
	const char *whys[ARRAY_SIZE(kinds)];

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++) {
		setup(NULL);
		assert_vm_faulted(
		    handle((struct vcpu_exit){.kind = kinds[i], .gpa = DEV_BASE, .insn = INSN_WFI}),
		    PC);
		assert_int_equal(dev.reads + dev.writes, 0);
		assert_int_equal(fake.ecalls, 0);
		assert_int_equal(vcpu.exit_kinds[kinds[i]], 1);
		whys[i] = fake.stop_why;
	}
	/* Each says what went wrong in its own words. */
	assert_string_not_equal(whys[0], whys[1]);
	assert_string_not_equal(whys[1], whys[2]);
	assert_string_not_equal(whys[0], whys[2]);
}

/* A kind arch never produces is not counted out of bounds, and stops the VM. */
static void test_out_of_range_kind(void **state)
{
	uint64_t exits_before;

	(void)state;
	vcpu.exits = 7;
	vcpu.migrations = 9;
	exits_before = vcpu.exits;
	assert_vm_faulted(handle((struct vcpu_exit){.kind = (enum vcpu_exit_kind)VCPU_EXIT_KINDS}),
			  PC);
	for (unsigned k = 0; k < VCPU_EXIT_KINDS; k++)
		assert_int_equal(vcpu.exit_kinds[k], 0);
	assert_int_equal(vcpu.exits, exits_before);
	assert_int_equal(vcpu.migrations, 9);
}

/* ---------------------------------------------------------------- statistics */

static void test_exit_kinds_counted(void **state)
{
	static const struct {
		enum vcpu_exit_kind kind;
		unsigned times;
	} plan[] = {
	    {VCPU_EXIT_INTERRUPT, 5}, {VCPU_EXIT_ECALL, 3}, {VCPU_EXIT_GUEST_ACCESS, 4},
	    {VCPU_EXIT_PT_WALK, 2},   {VCPU_EXIT_WFI, 6},   {VCPU_EXIT_ILLEGAL, 1},
	    {VCPU_EXIT_CSR, 2},
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(plan); i++) {
		for (unsigned n = 0; n < plan[i].times; n++) {
			struct vcpu_exit e = mmio_exit(DEV_BASE, false, 4, false, REG_A3, 4);

			e.kind = plan[i].kind;
			handle(e);
		}
	}
	for (unsigned i = 0; i < ARRAY_SIZE(plan); i++)
		assert_int_equal(vcpu.exit_kinds[plan[i].kind], plan[i].times);
	assert_int_equal(vcpu.exit_kinds[VCPU_EXIT_FETCH], 0);
	assert_int_equal(vcpu.exit_kinds[VCPU_EXIT_UNREADABLE], 0);
	assert_int_equal(vcpu.exit_kinds[VCPU_EXIT_UNKNOWN], 0);
	assert_int_equal(fake.ecalls, 3);
	assert_int_equal(dev.reads, 4);
	assert_int_equal(fake.stops, 0);
}

static void test_kind_names(void **state)
{
	(void)state;
	for (unsigned k = 0; k < VCPU_EXIT_KINDS; k++) {
		const char *id = vcpu_exit_kind_id((enum vcpu_exit_kind)k);
		const char *name = vcpu_exit_kind_name((enum vcpu_exit_kind)k);

		assert_non_null(id);
		assert_non_null(name);
		/* Identifiers go into statistics lines: one word each, all different. */
		assert_null(strchr(id, ' '));
		for (unsigned j = 0; j < k; j++)
			assert_string_not_equal(id, vcpu_exit_kind_id((enum vcpu_exit_kind)j));
	}
	assert_string_equal(vcpu_exit_kind_id(VCPU_EXIT_ECALL), "sbi");
	assert_string_equal(vcpu_exit_kind_id(VCPU_EXIT_GUEST_ACCESS), "mmio");
	assert_string_equal(vcpu_exit_kind_id((enum vcpu_exit_kind)(VCPU_EXIT_KINDS + 5)), "other");
	assert_non_null(vcpu_exit_kind_name((enum vcpu_exit_kind)(VCPU_EXIT_KINDS + 5)));
}

/* ---------------------------------------------------------------- the fast path */

static void test_fast_path_answers(void **state)
{
	(void)state;
	vcpu.arch.exit.scause = VCPU_ARCH_CAUSE_ECALL_VS;
	fake.fast_eid = true;
	assert_int_equal(vcpu_fast_exit(&vcpu.arch), 1);
	assert_int_equal(fake.ecalls, 1);
	assert_ptr_equal(fake.ecall_vcpu, &vcpu);
	assert_int_equal(vcpu.exits, 1);
	assert_int_equal(vcpu.exit_kinds[VCPU_EXIT_ECALL], 1);
	assert_false(vcpu.exit_answered);
}

/* Not one of the fast calls: the ordinary way, untouched. */
static void test_fast_path_declines(void **state)
{
	(void)state;
	vcpu.arch.exit.scause = VCPU_ARCH_CAUSE_ECALL_VS;
	fake.fast_eid = false;
	assert_int_equal(vcpu_fast_exit(&vcpu.arch), 0);
	assert_int_equal(fake.ecalls, 0);
	assert_int_equal(vcpu.exits, 0);
	assert_false(vcpu.exit_answered);
}

/* The scheduler has work (a host interrupt, a request to the hart or the vCPU, the
 * hart's timer to reprogram): the call is answered once, then the ordinary way. */
static void test_fast_path_work_pending(void **state)
{
	static const struct {
		unsigned irqs;
		unsigned long hart_requests, vcpu_requests;
		bool timer_dirty;
	} cases[] = {
	    {HART_IRQ_TIMER, 0, 0, false},
	    {0, HART_REQ_KICK, 0, false},
	    {0, 0, VCPU_REQ_IPI, false},
	    {0, 0, 0, true},
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		setup(NULL);
		vcpu.arch.exit.scause = VCPU_ARCH_CAUSE_ECALL_VS;
		fake.fast_eid = true;
		fake.pending_irqs = cases[i].irqs;
		the_hart.requests = cases[i].hart_requests;
		vcpu.requests = cases[i].vcpu_requests;
		fake.timer_dirty = cases[i].timer_dirty;
		assert_int_equal(vcpu_fast_exit(&vcpu.arch), 0);
		assert_int_equal(fake.ecalls, 1);
		assert_true(vcpu.exit_answered);
		vcpu.exit.kind = VCPU_EXIT_ECALL;
		assert_int_equal(vcpu_handle_exit(&vcpu), VCPU_CONTINUE);
		assert_int_equal(fake.ecalls, 1);
	}
}

/* A call that posts something for this vCPU (an IPI to itself) is answered once, then
 * the scheduler looks: the ordinary path does not call SBI again. */
static void test_fast_path_answered_then_scheduler(void **state)
{
	(void)state;
	vcpu.arch.exit.scause = VCPU_ARCH_CAUSE_ECALL_VS;
	fake.fast_eid = true;
	fake.post_request = VCPU_REQ_IPI;
	assert_int_equal(vcpu_fast_exit(&vcpu.arch), 0);
	assert_true(vcpu.exit_answered);
	assert_int_equal(fake.ecalls, 1);
	vcpu.exit.kind = VCPU_EXIT_ECALL;
	assert_int_equal(vcpu_handle_exit(&vcpu), VCPU_CONTINUE);
	assert_int_equal(fake.ecalls, 1);
	assert_false(vcpu.exit_answered);
	assert_int_equal(vcpu.exit_kinds[VCPU_EXIT_ECALL], 1);
}

/* An MMIO load answered in the world switch: the device read, the register set, pc on. */
static void test_fast_path_mmio(void **state)
{
	(void)state;
	vcpu.arch.exit.scause = 21; /* a load guest-page fault */
	scripted_exit = (struct vcpu_exit){.kind = VCPU_EXIT_GUEST_ACCESS,
					   .gpa = DEV_BASE + 8,
					   .decoded = true,
					   .access = {false, false, 4, REG_A3, 4}};
	dev.read_value = 0x1234;
	assert_int_equal(vcpu_fast_exit(&vcpu.arch), 1);
	assert_int_equal(dev.reads, 1);
	assert_int_equal(dev.offset, 8);
	assert_int_equal(vcpu.arch.gprs.x[REG_A3], 0x1234);
	assert_int_equal(vcpu.arch.gprs.sepc, PC + 4);
	assert_int_equal(vcpu.exit_kinds[VCPU_EXIT_GUEST_ACCESS], 1);
	assert_false(vcpu.exit_classified || vcpu.exit_answered);
}

/* Another hart's IPI for a vCPU alone on its hart, with only a kick: what was posted
 * is made live and the guest goes back in. */
static void test_fast_path_host_ipi(void **state)
{
	(void)state;
	vcpu.arch.exit.scause = VCPU_ARCH_CAUSE_HOST_IPI;
	fake.alone = true;
	fake.pending_irqs = HART_IRQ_IPI;
	the_hart.requests = HART_REQ_KICK;
	vcpu.requests = VCPU_REQ_IPI;
	assert_int_equal(vcpu_fast_exit(&vcpu.arch), 1);
	assert_int_equal(fake.acks, 1);
	assert_int_equal(fake.refreshes, 1);
	assert_int_equal(the_hart.requests, 0);
	assert_int_equal(vcpu.exit_kinds[VCPU_EXIT_INTERRUPT], 1);
	assert_false(vcpu.exit_answered);
	/* An IPI with no request at all (the kick was taken already) is answered too. */
	fake.pending_irqs = HART_IRQ_IPI;
	assert_int_equal(vcpu_fast_exit(&vcpu.arch), 1);
}

/* The scheduler's business: company on the hart, another interrupt, a request other
 * than a kick, the hart's timer, a VM that pauses or ends. */
static void test_fast_path_host_ipi_declines(void **state)
{
	for (unsigned i = 0; i < 6; i++) {
		setup(state);
		vcpu.arch.exit.scause = VCPU_ARCH_CAUSE_HOST_IPI;
		fake.alone = i != 0;
		fake.pending_irqs = HART_IRQ_IPI | (i == 1 ? HART_IRQ_TIMER : 0);
		the_hart.requests = HART_REQ_KICK | (i == 2 ? HART_REQ_RESCHED : 0);
		fake.timer_dirty = i == 3;
		vm.paused = i == 4;
		vm.state = i == 5 ? VM_STOPPING : VM_RUNNING;
		assert_int_equal(vcpu_fast_exit(&vcpu.arch), 0);
		assert_int_equal(fake.refreshes, 0);
		assert_false(vcpu.exit_answered);
		/* Declined with the requests left for the scheduler. */
		assert_true(the_hart.requests & HART_REQ_KICK);
	}
}

/* A device that moves a deadline during a fast access (an RTC alarm): the access is
 * answered, then the scheduler runs and reprograms the hart's timer. */
static void test_fast_path_mmio_timer_moved(void **state)
{
	(void)state;
	vcpu.arch.exit.scause = 21;
	scripted_exit = (struct vcpu_exit){.kind = VCPU_EXIT_GUEST_ACCESS,
					   .gpa = DEV_BASE,
					   .decoded = true,
					   .access = {false, false, 4, REG_A3, 4}};
	fake.read_moves_timer = true;
	assert_int_equal(vcpu_fast_exit(&vcpu.arch), 0);
	assert_true(vcpu.exit_answered);
	assert_int_equal(dev.reads, 1);
	assert_int_equal(vcpu.arch.gprs.sepc, PC + 4);
	assert_int_equal(vcpu_handle_exit(&vcpu), VCPU_CONTINUE);
	assert_int_equal(dev.reads, 1);
}

/* Not plain MMIO (a wild address, an undecodable access): classified once, and the
 * ordinary way takes that classification without classifying again. */
static void test_fast_path_mmio_declines_once_classified(void **state)
{
	(void)state;
	vcpu.arch.exit.scause = 21;
	scripted_exit = (struct vcpu_exit){.kind = VCPU_EXIT_GUEST_ACCESS,
					   .gpa = 0x40000000,
					   .decoded = true,
					   .access = {false, false, 4, REG_A3, 4}};
	assert_int_equal(vcpu_fast_exit(&vcpu.arch), 0);
	assert_true(vcpu.exit_classified);
	assert_int_equal(fake.classifies, 1);
	assert_int_equal(dev.reads, 0);
	/* A device that refuses stops the VM in the fast path; the answer is kept. */
	setup(NULL);
	vcpu.arch.exit.scause = 21;
	scripted_exit = (struct vcpu_exit){.kind = VCPU_EXIT_GUEST_ACCESS,
					   .gpa = DEV_BASE,
					   .decoded = true,
					   .access = {false, false, 4, REG_A3, 4}};
	dev.error = -1;
	assert_int_equal(vcpu_fast_exit(&vcpu.arch), 0);
	assert_true(vcpu.exit_answered);
	assert_int_equal(vcpu_handle_exit(&vcpu), VCPU_VM_ENDED);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(dev.reads, 1);
}

/* ---------------------------------------------------------------- copy-on-write forks */

/* A fork's store to a shared page, or its page-table walk's A/D update, goes to vm_cow
 * first and is retried (nothing emulated, no step); a load never does; a store it does
 * not take is MMIO as before; a fork at its limit ends; a VM that is no fork never asks. */
static void test_cow_store_fault(void **state)
{
	static struct vm_cow cow;
	struct vcpu_exit walk = {.kind = VCPU_EXIT_PT_WALK,
				 .gpa = 0x80002000,
				 .gva = 0x1000,
				 .access_type = VCPU_ACCESS_LOAD};

	(void)state;
	vm.cow = &cow;
	fake.cow_takes = true;
	assert_int_equal(handle(mmio_exit(0x80001008, true, 8, false, REG_A3, 4)), VCPU_CONTINUE);
	assert_int_equal(fake.cow_faults, 1);
	assert_int_equal(fake.cow_gpa, 0x80001008);
	assert_int_equal(pc(), PC);
	assert_int_equal(handle(walk), VCPU_CONTINUE);
	assert_int_equal(fake.cow_faults, 2);
	assert_int_equal(fake.cow_gpa, 0x80002000);
	assert_int_equal(fake.injections + fake.stops + dev.writes, 0);
	/* A load is never a copy-on-write fault: the device's. */
	handle(mmio_exit(DEV_BASE, false, 4, false, REG_A3, 4));
	assert_int_equal(fake.cow_faults, 2);
	assert_int_equal(dev.reads, 1);
	/* Not a shared page: MMIO. */
	fake.cow_takes = false;
	vcpu.arch.gprs.sepc = PC;
	assert_int_equal(handle(mmio_exit(DEV_BASE + 8, true, 4, false, REG_A3, 4)), VCPU_CONTINUE);
	assert_int_equal(fake.cow_faults, 3);
	assert_int_equal(dev.writes, 1);
	assert_int_equal(pc(), PC + 4);
	/* At its limit: the fork ends, with the memory status. */
	fake.cow_takes = fake.cow_stops = true;
	assert_int_equal(handle(mmio_exit(0x80003000, true, 8, false, REG_A3, 4)), VCPU_VM_ENDED);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.stop_status, VM_STATUS_MEMORY);
	/* No fork: never asked. */
	vm.cow = NULL;
	vm.state = VM_RUNNING;
	handle(mmio_exit(DEV_BASE + 8, true, 4, false, REG_A3, 4));
	assert_int_equal(fake.cow_faults, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_ecall_goes_to_sbi, setup),
	    cmocka_unit_test_setup(test_interrupt_does_nothing, setup),
	    cmocka_unit_test_setup(test_mmio_load_extends, setup),
	    cmocka_unit_test_setup(test_mmio_load_right_register, setup),
	    cmocka_unit_test_setup(test_mmio_load_into_x0, setup),
	    cmocka_unit_test_setup(test_mmio_store, setup),
	    cmocka_unit_test_setup(test_mmio_store_x0, setup),
	    cmocka_unit_test_setup(test_mmio_unmapped_stops_vm, setup),
	    cmocka_unit_test_setup(test_mmio_undecodable_stops_vm, setup),
	    cmocka_unit_test_setup(test_mmio_device_error_stops_vm, setup),
	    cmocka_unit_test_setup(test_mmio_store_busy_is_retried, setup),
	    cmocka_unit_test_setup(test_mmio_straddling_end_stops_vm, setup),
	    cmocka_unit_test_setup(test_pt_walk_injects_access_fault, setup),
	    cmocka_unit_test_setup(test_wfi_vs_mode_blocks, setup),
	    cmocka_unit_test_setup(test_wfi_vu_mode_is_illegal, setup),
	    cmocka_unit_test_setup(test_illegal_injects, setup),
	    cmocka_unit_test_setup(test_csr_to_aia_or_illegal, setup),
	    cmocka_unit_test_setup(test_catches, setup),
	    cmocka_unit_test_setup(test_debugger_hooks, setup),
	    cmocka_unit_test_setup(test_illegal_counter_read_emulated, setup),
	    cmocka_unit_test_setup(test_csr_counter_read_emulated, setup),
	    cmocka_unit_test_setup(test_fatal_kinds_stop_vm, setup),
	    cmocka_unit_test_setup(test_out_of_range_kind, setup),
	    cmocka_unit_test_setup(test_exit_kinds_counted, setup),
	    cmocka_unit_test_setup(test_kind_names, setup),
	    cmocka_unit_test_setup(test_fast_path_answers, setup),
	    cmocka_unit_test_setup(test_fast_path_declines, setup),
	    cmocka_unit_test_setup(test_fast_path_work_pending, setup),
	    cmocka_unit_test_setup(test_fast_path_answered_then_scheduler, setup),
	    cmocka_unit_test_setup(test_fast_path_mmio, setup),
	    cmocka_unit_test_setup(test_fast_path_mmio_declines_once_classified, setup),
	    cmocka_unit_test_setup(test_fast_path_mmio_timer_moved, setup),
	    cmocka_unit_test_setup(test_fast_path_host_ipi, setup),
	    cmocka_unit_test_setup(test_fast_path_host_ipi_declines, setup),
	    cmocka_unit_test_setup(test_cow_store_fault, setup),
	};

	return cmocka_run_group_tests_name("exit", tests, NULL, NULL);
}
