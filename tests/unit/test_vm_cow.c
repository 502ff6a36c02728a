// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of forks' copy-on-write RAM (hv/core/vm_cow.c) over the real G-stage
 * tables (hv/arch/riscv/gstage.c) and guest memory (hv/core/guest_mem.c). A
 * template with 4 MiB of RAM (two 2 MiB superpages) is forked; the tests check
 * what each fork, the template and the devices (guest_mem) see, what is copied
 * and charged, the limit, the remote flush, and that every page comes back.
 * Pages come from a counting fake of the page pool; harts, vm_stop and the log
 * are fakes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/sched.h>
#include <vireo/time.h>
#include <vireo/vm.h>
#include <vireo/vm_cow.h>
#include <vireo/vm_mem.h>

#define RAM_BASE 0x80000000UL
#define RAM_SIZE (4 * MIB)

/* ---------------------------------------------------------------- fakes */

static struct {
	long pages;	/* pages handed out and not back */
	long budget;	/* page_alloc calls that may still succeed; < 0: any */
	unsigned stops; /* vm_stop */
	int stop_status;
	struct vm *stop_vm;
	unsigned kicks; /* vcpu_kick */
	unsigned local_flushes, requests, pauses;
	uint64_t released; /* vm_mem_release */
	uint64_t now;
	unsigned warns;
} fake;

static struct hart harts[2];
static struct hart *cur = &harts[0];
static struct vm *pause_clears; /* hart_pause: "hart 1" flushes this VM meanwhile */

struct hart *this_hart(void)
{
	return cur;
}

unsigned hart_count(void)
{
	return 2;
}

struct hart *hart_by_index(unsigned index)
{
	return &harts[index];
}

void hart_request(struct hart *target, unsigned long request)
{
	(void)target;
	(void)request;
	fake.requests++;
}

void hart_flush_gstage_vmid(unsigned vmid)
{
	(void)vmid;
	fake.local_flushes++;
}

uint64_t hart_time(void)
{
	return fake.now;
}

void hart_pause(uint64_t ticks)
{
	fake.now += ticks;
	fake.pauses++;
	if (pause_clears)
		__atomic_fetch_and(&pause_clears->gstage_stale, ~BIT(1), __ATOMIC_SEQ_CST);
}

uint64_t time_us_to_ticks(uint64_t us)
{
	return us * 10;
}

void sched_timer_changed(void)
{
}

void vcpu_kick(struct vcpu *v)
{
	(void)v;
	fake.kicks++;
}

void vm_stop(struct vm *vm, int status, const char *why)
{
	(void)why;
	fake.stops++;
	fake.stop_status = status;
	fake.stop_vm = vm;
}

bool vm_is_parked(const struct vm *vm)
{
	return vm->paused;
}

void vm_mem_release(uint64_t bytes)
{
	fake.released += bytes;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)fmt;
	if (level == LOG_WARN)
		fake.warns++;
}

/* Every allocation, so that a run given back page by page is freed once all of it is. */
static struct alloc {
	uint8_t *p;
	size_t npages, back;
} allocs[4096];
static unsigned nallocs;

void *page_alloc(size_t npages, size_t align)
{
	uint8_t *p;

	if (fake.budget == 0)
		return NULL;
	if (fake.budget > 0)
		fake.budget--;
	p = aligned_alloc(align < PAGE_SIZE ? PAGE_SIZE : align, npages * PAGE_SIZE);
	assert_non_null(p);
	assert_true(nallocs < 4096);
	memset(p, 0, npages * PAGE_SIZE);
	allocs[nallocs++] = (struct alloc){p, npages, 0};
	fake.pages += (long)npages;
	return p;
}

/* Whole allocations or pages of one (a copy-on-write run comes back page by page). */
void page_free(void *addr, size_t npages)
{
	uint8_t *a = addr;

	for (unsigned i = 0; i < nallocs; i++) {
		struct alloc *x = &allocs[i];

		if (x->p && a >= x->p && a + npages * PAGE_SIZE <= x->p + x->npages * PAGE_SIZE) {
			assert_int_equal((a - x->p) % PAGE_SIZE, 0);
			x->back += npages;
			assert_true(x->back <= x->npages);
			fake.pages -= (long)npages;
			if (x->back == x->npages) {
				free(x->p);
				x->p = NULL;
			}
			return;
		}
	}
	fail_msg("page_free of %p: never allocated", addr);
}

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *ptr)
{
	free(ptr);
}

/* ---------------------------------------------------------------- fixtures */

static struct vm tmpl, fork_a, fork_b;
static struct vcpu vcpu_a, vcpu_b;

static void *gs_alloc(void *ctx, size_t npages, size_t align)
{
	(void)ctx;
	return page_alloc(npages, align);
}

static void gs_free(void *ctx, void *p, size_t npages)
{
	(void)ctx;
	page_free(p, npages);
}

static uint64_t pattern(uint64_t gpa)
{
	return gpa * 0x9e3779b97f4a7c15ULL;
}

static void make_vm(struct vm *vm, const char *name, uint64_t mem_limit)
{
	memset(vm, 0, sizeof(*vm));
	strcpy(vm->name, name);
	vm->state = VM_RUNNING;
	vm->vmid = 1;
	vm->config.mem_limit = mem_limit;
	assert_int_equal(gstage_init(&vm->gstage, GSTAGE_SV39X4, gs_alloc, gs_free, NULL), 0);
}

static int setup(void **state)
{
	uint8_t *ram;

	(void)state;
	memset(&fake, 0, sizeof(fake));
	memset(allocs, 0, sizeof(allocs));
	nallocs = 0;
	fake.budget = -1;
	fake.now = 1000;
	pause_clears = NULL;
	cur = &harts[0];
	harts[0].index = 0;
	harts[1].index = 1;
	make_vm(&tmpl, "tmpl", 0);
	ram = page_alloc(RAM_SIZE / PAGE_SIZE, 2 * MIB);
	for (uint64_t off = 0; off < RAM_SIZE; off += 8)
		*(uint64_t *)(ram + off) = pattern(RAM_BASE + off);
	tmpl.ram_base = RAM_BASE;
	tmpl.ram_size = RAM_SIZE;
	assert_int_equal(guest_mem_add_run(&tmpl.mem, RAM_BASE, RAM_SIZE, ram), 0);
	assert_int_equal(
	    gstage_map(&tmpl.gstage, RAM_BASE, (uintptr_t)ram, RAM_SIZE, GSTAGE_PERM_RWX), 0);
	tmpl.paused = true;
	make_vm(&fork_a, "fork-a", 0);
	make_vm(&fork_b, "fork-b", 0);
	vcpu_a.vm = &fork_a;
	vcpu_b.vm = &fork_b;
	return 0;
}

static void attach(struct vm *fork)
{
	assert_int_equal(vm_cow_can_fork(&tmpl), 0);
	assert_int_equal(vm_cow_attach(fork, &tmpl), 0);
}

/* As vm_free ends a fork. */
static void end_fork(struct vm *fork)
{
	vm_cow_detach(fork);
	gstage_destroy(&fork->gstage);
	assert_null(fork->cow);
}

static void end_template(void)
{
	gstage_destroy(&tmpl.gstage);
	vm_ram_put(tmpl.shared);
}

/* Every page came back (the forks' roots too, whether they were used or not). */
static void all_back(void)
{
	gstage_destroy(&fork_a.gstage);
	gstage_destroy(&fork_b.gstage);
	assert_int_equal(fake.pages, 0);
}

static uint64_t read_as(struct vm *vm, uint64_t gpa)
{
	uint64_t v = 0;

	assert_true(guest_mem_read(&vm->mem, gpa, &v, sizeof(v)));
	return v;
}

/* What the guest's G-stage says of gpa. */
static paddr_t leaf(struct vm *vm, uint64_t gpa, unsigned *perms)
{
	paddr_t hpa = 0;

	assert_true(gstage_translate(&vm->gstage, gpa, &hpa, perms));
	return hpa;
}

/* The guest stores v at gpa: the fault first if its leaf is read-only, then the store. */
static void guest_store(struct vcpu *vcpu, uint64_t gpa, uint64_t v)
{
	unsigned perms;
	bool stopped = true;

	leaf(vcpu->vm, gpa, &perms);
	if (!(perms & GSTAGE_PERM_W)) {
		assert_true(vm_cow_fault(vcpu, gpa, &stopped));
		assert_false(stopped);
	}
	*(uint64_t *)(uintptr_t)leaf(vcpu->vm, gpa, &perms) = v;
	assert_true(perms & GSTAGE_PERM_W);
}

/* ---------------------------------------------------------------- tests */

/* A fork maps the template's RAM read and execute only and reads what it holds; the
 * template is sealed: it reads, but neither it nor its devices write any more. */
static void test_attach_shares_and_seals(void **state)
{
	unsigned perms;
	uint64_t one = 1;

	(void)state;
	attach(&fork_a);
	assert_non_null(tmpl.shared);
	assert_int_equal(tmpl.shared->refs, 2);
	assert_int_equal(fork_a.ram_base, RAM_BASE);
	assert_int_equal(fork_a.ram_size, RAM_SIZE);
	for (uint64_t off = 0; off < RAM_SIZE; off += 64 * KIB) {
		assert_int_equal(leaf(&fork_a, RAM_BASE + off, &perms),
				 (uintptr_t)tmpl.mem.runs[0].host + off);
		assert_int_equal(perms, GSTAGE_PERM_R | GSTAGE_PERM_X);
		assert_int_equal(read_as(&fork_a, RAM_BASE + off), pattern(RAM_BASE + off));
		assert_int_equal(read_as(&tmpl, RAM_BASE + off), pattern(RAM_BASE + off));
		leaf(&tmpl, RAM_BASE + off, &perms);
		assert_int_equal(perms, GSTAGE_PERM_R | GSTAGE_PERM_X);
	}
	assert_false(guest_mem_write(&tmpl.mem, RAM_BASE, &one, sizeof(one)));
	assert_null(guest_mem_ptr(&tmpl.mem, RAM_BASE, 8));
	assert_int_equal(read_as(&tmpl, RAM_BASE), pattern(RAM_BASE));
	/* The template's G-stage changed: every hart flushes it before running it. */
	assert_int_equal(fake.requests, 2);
	attach(&fork_b);
	assert_int_equal(tmpl.shared->refs, 3);
	assert_int_equal(fake.requests, 2);
	end_fork(&fork_a);
	end_fork(&fork_b);
	end_template();
	all_back();
}

/* A store copies the page; the other fork and the template still read the pattern; a
 * second store to it copies nothing; the superpage's split is charged. */
static void test_store_copies_once(void **state)
{
	const uint64_t gpa = RAM_BASE + 3 * MIB + 5 * PAGE_SIZE + 16;
	bool stopped;
	unsigned perms;

	(void)state;
	attach(&fork_a);
	attach(&fork_b);
	guest_store(&vcpu_a, gpa, 0xaaaa);
	assert_int_equal(fork_a.cow->copies, 1);
	assert_int_equal(fork_a.cow->used, 2 * PAGE_SIZE); /* the copy and a split table */
	assert_int_equal(read_as(&fork_a, gpa), 0xaaaa);
	assert_int_equal(read_as(&fork_a, gpa + 8), pattern(gpa + 8));
	assert_int_equal(read_as(&fork_b, gpa), pattern(gpa));
	assert_int_equal(read_as(&tmpl, gpa), pattern(gpa));
	/* Its neighbours still share. */
	leaf(&fork_a, gpa + PAGE_SIZE, &perms);
	assert_int_equal(perms, GSTAGE_PERM_R | GSTAGE_PERM_X);
	/* Copied already (another vCPU's fault was first): retried, nothing copied. */
	assert_true(vm_cow_fault(&vcpu_a, gpa, &stopped));
	assert_false(stopped);
	assert_int_equal(fork_a.cow->copies, 1);
	/* Outside RAM: the guest's fault, not ours. */
	assert_false(vm_cow_fault(&vcpu_a, RAM_BASE + RAM_SIZE, &stopped));
	assert_false(vm_cow_fault(&vcpu_a, RAM_BASE - 8, &stopped));
	guest_store(&vcpu_b, gpa, 0xbbbb);
	assert_int_equal(read_as(&fork_a, gpa), 0xaaaa);
	assert_int_equal(read_as(&fork_b, gpa), 0xbbbb);
	assert_int_equal(read_as(&tmpl, gpa), pattern(gpa));
	end_fork(&fork_a);
	end_fork(&fork_b);
	end_template();
	all_back();
	assert_int_equal(fake.stops, 0);
}

/* A device's write (guest_mem) copies every page it touches first, across a superpage
 * boundary too; the template's RAM stays as it was. */
static void test_device_write(void **state)
{
	const uint64_t gpa = RAM_BASE + 2 * MIB - PAGE_SIZE - 8;
	uint8_t buf[PAGE_SIZE + 16];

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	attach(&fork_a);
	assert_true(guest_mem_write(&fork_a.mem, gpa, buf, sizeof(buf)));
	assert_int_equal(fork_a.cow->copies, 3);
	assert_int_equal(read_as(&fork_a, gpa), 0x5a5a5a5a5a5a5a5aULL);
	assert_int_equal(read_as(&fork_a, gpa - 8), pattern(gpa - 8));
	assert_int_equal(read_as(&fork_a, gpa + sizeof(buf)), pattern(gpa + sizeof(buf)));
	assert_int_equal(read_as(&tmpl, gpa), pattern(gpa));
	/* Not all RAM: nothing copied, nothing written. */
	assert_false(guest_mem_write(&fork_a.mem, RAM_BASE + RAM_SIZE - 8, buf, 16));
	assert_int_equal(fork_a.cow->copies, 3);
	end_fork(&fork_a);
	end_template();
	all_back();
}

/* A pointer a device keeps (a ring): its pages private and host-contiguous, the same
 * pointer when asked again; refused when some of its pages are private apart. */
static void test_contiguous(void **state)
{
	const uint64_t gpa = RAM_BASE + MIB + 100;
	uint8_t *p, *q;
	unsigned perms;

	(void)state;
	attach(&fork_a);
	p = guest_mem_ptr(&fork_a.mem, gpa, 3 * PAGE_SIZE);
	assert_non_null(p);
	assert_int_equal(fork_a.cow->copies, 4);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t g = (gpa & ~(uint64_t)(PAGE_SIZE - 1)) + i * PAGE_SIZE;

		assert_int_equal(leaf(&fork_a, g, &perms), (uintptr_t)p - 100 + i * PAGE_SIZE);
		assert_int_equal(perms, GSTAGE_PERM_RWX);
	}
	assert_int_equal(*(uint64_t *)(p + 4), pattern(gpa + 4));
	q = guest_mem_ptr(&fork_a.mem, gpa + PAGE_SIZE, 8);
	assert_ptr_equal(q, p + PAGE_SIZE);
	/* One page copied by a store, its neighbour not: no pointer over both. */
	guest_store(&vcpu_a, RAM_BASE + 8 * PAGE_SIZE, 1);
	assert_null(guest_mem_ptr(&fork_a.mem, RAM_BASE + 8 * PAGE_SIZE, 2 * PAGE_SIZE));
	assert_non_null(guest_mem_ptr(&fork_a.mem, RAM_BASE + 8 * PAGE_SIZE, PAGE_SIZE));
	/* Two pages copied apart: none either. */
	guest_store(&vcpu_a, RAM_BASE + 10 * PAGE_SIZE, 1);
	guest_store(&vcpu_a, RAM_BASE + 12 * PAGE_SIZE, 1);
	assert_null(guest_mem_ptr(&fork_a.mem, RAM_BASE + 10 * PAGE_SIZE, 3 * PAGE_SIZE));
	end_fork(&fork_a);
	end_template();
	all_back();
}

/* A fork that reaches its limit stops (memory status) and copies nothing more; so does
 * one the page pool cannot serve; the other fork goes on. */
static void test_limit(void **state)
{
	bool stopped = false;
	unsigned n = 0;

	(void)state;
	gstage_destroy(&fork_a.gstage);
	make_vm(&fork_a, "small", 6 * PAGE_SIZE);
	attach(&fork_a);
	attach(&fork_b);
	/* 2 MiB superpages: each first store in one takes a table too. */
	while (!stopped) {
		assert_true(vm_cow_fault(&vcpu_a, RAM_BASE + n * PAGE_SIZE, &stopped));
		n++;
	}
	assert_int_equal(fork_a.cow->copies, 5);
	assert_true(fork_a.cow->used <= fork_a.cow->limit);
	assert_int_equal(fake.stops, 1);
	assert_ptr_equal(fake.stop_vm, &fork_a);
	assert_int_equal(fake.stop_status, VM_STATUS_MEMORY);
	/* A device's write at the limit fails, and nothing is half done. */
	assert_false(guest_mem_write(&fork_a.mem, RAM_BASE + 3 * MIB, &n, sizeof(n)));
	assert_null(guest_mem_ptr(&fork_a.mem, RAM_BASE + 3 * MIB, 8));
	assert_int_equal(fork_a.cow->copies, 5);
	/* The machine is out of pages: the same end for fork B. */
	guest_store(&vcpu_b, RAM_BASE, 7);
	fake.budget = 0;
	assert_true(vm_cow_fault(&vcpu_b, RAM_BASE + 3 * MIB, &stopped));
	assert_true(stopped);
	assert_int_equal(fake.stops, 4);
	fake.budget = -1;
	assert_int_equal(read_as(&fork_b, RAM_BASE), 7);
	end_fork(&fork_a);
	end_fork(&fork_b);
	end_template();
	all_back();
}

/* A copy while the fork has run on another hart: that hart is marked to flush before the
 * fork runs there again; a vCPU inside the guest there is kicked and waited for. */
static void test_remote_flush(void **state)
{
	(void)state;
	attach(&fork_a);
	fork_a.nvcpus = 1;
	fork_a.vcpus[0] = &vcpu_a;
	vcpu_a.hart = &harts[1];
	/* Only this hart so far: a local flush. */
	fork_a.harts_ran = BIT(0);
	guest_store(&vcpu_a, RAM_BASE, 1);
	assert_int_equal(fake.local_flushes, 1);
	assert_int_equal(fork_a.cow->flushes, 0);
	assert_int_equal(fork_a.gstage_stale, 0);
	/* It ran on hart 1 too, and is not in the guest now. */
	fork_a.harts_ran = BIT(0) | BIT(1);
	guest_store(&vcpu_a, RAM_BASE + PAGE_SIZE, 1);
	assert_int_equal(fork_a.cow->flushes, 1);
	assert_int_equal(fork_a.gstage_stale, BIT(1));
	assert_int_equal(fake.kicks + fake.pauses, 0);
	/* In the guest on hart 1: kicked, and waited for until it flushed. */
	vcpu_a.in_guest = true;
	pause_clears = &fork_a;
	guest_store(&vcpu_a, RAM_BASE + 2 * PAGE_SIZE, 1);
	assert_int_equal(fake.kicks, 1);
	assert_int_equal(fake.pauses, 1);
	assert_int_equal(fork_a.gstage_stale, 0);
	/* One that never flushes: a warning after the timeout, and the writer goes on. Its
	 * own hart, marked meanwhile by a writer on that other hart, flushes as it waits
	 * (the two would otherwise wait for each other). */
	pause_clears = NULL;
	fork_a.gstage_stale = BIT(0);
	fake.local_flushes = 0;
	guest_store(&vcpu_a, RAM_BASE + 3 * PAGE_SIZE, 1);
	assert_int_equal(fake.warns, 1);
	assert_int_equal(fork_a.gstage_stale, BIT(1));
	assert_int_equal(fake.local_flushes, 2);
	vcpu_a.in_guest = false;
	fork_a.nvcpus = 0;
	end_fork(&fork_a);
	end_template();
	all_back();
}

/* The RAM outlives its template while a fork uses it, and goes with the last user; what
 * the template left it to hold is released then. */
static void test_ram_lifetime(void **state)
{
	(void)state;
	attach(&fork_a);
	guest_store(&vcpu_a, RAM_BASE, 1);
	assert_int_equal(vm_ram_keep_charge(tmpl.shared, RAM_SIZE), RAM_SIZE);
	end_template();
	assert_int_equal(fake.released, 0);
	assert_true(fake.pages > (long)(RAM_SIZE / PAGE_SIZE));
	assert_int_equal(read_as(&fork_a, RAM_BASE + 8), pattern(RAM_BASE + 8));
	end_fork(&fork_a);
	assert_int_equal(fake.released, RAM_SIZE);
	all_back();
}

/* Only a parked VM, no fork, sandbox, guest AIA or network card, may be forked. */
static void test_can_fork(void **state)
{
	(void)state;
	assert_int_equal(vm_cow_can_fork(&tmpl), 0);
	assert_int_equal(vm_cow_can_fork(NULL), -VIREO_EINVAL);
	tmpl.paused = false;
	assert_int_equal(vm_cow_can_fork(&tmpl), -VIREO_EBUSY);
	tmpl.paused = true;
	tmpl.aia = true;
	assert_int_equal(vm_cow_can_fork(&tmpl), -VIREO_EINVAL);
	tmpl.aia = false;
	tmpl.config.net = true;
	assert_int_equal(vm_cow_can_fork(&tmpl), -VIREO_EINVAL);
	tmpl.config.net = false;
	tmpl.config.sandbox = true;
	assert_int_equal(vm_cow_can_fork(&tmpl), -VIREO_EINVAL);
	tmpl.config.sandbox = false;
	attach(&fork_a);
	fork_a.paused = true;
	assert_int_equal(vm_cow_can_fork(&fork_a), -VIREO_EINVAL);
	assert_int_equal(vm_cow_attach(&fork_b, &fork_a), -VIREO_EINVAL);
	end_fork(&fork_a);
	gstage_destroy(&fork_b.gstage);
	end_template();
	all_back();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_attach_shares_and_seals, setup),
	    cmocka_unit_test_setup(test_store_copies_once, setup),
	    cmocka_unit_test_setup(test_device_write, setup),
	    cmocka_unit_test_setup(test_contiguous, setup),
	    cmocka_unit_test_setup(test_limit, setup),
	    cmocka_unit_test_setup(test_remote_flush, setup),
	    cmocka_unit_test_setup(test_ram_lifetime, setup),
	    cmocka_unit_test_setup(test_can_fork, setup),
	};

	return cmocka_run_group_tests_name("vm_cow", tests, NULL, NULL);
}
