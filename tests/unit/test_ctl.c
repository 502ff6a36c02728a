// SPDX-License-Identifier: BSD-2-Clause
/*
 * The control plane (core/ctl.c, core/ctl_vm.c) on the real channel core:
 * requests in as LINK_REQUEST frames, replies out as LINK_REPLY, against
 * two fake VMs. Every malformed request gets its error and changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/chan.h>
#include <vireo/ctl.h>
#include <vireo/ctl_debug.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/sandbox.h>
#include <vireo/string.h>
#include <vireo/vireo.h>
#include <vireo/vm.h>
#include <vireo/vx.h>

#define RAM_GPA	 0x80000000UL
#define RAM_SIZE (64 * 1024)
#define NVMS	 2

/* ---------------------------------------------------------------- fakes */

static struct {
	struct vm vms[NVMS];
	struct vcpu vcpus[NVMS][2];
	uint8_t ram[NVMS][RAM_SIZE];
	int refs[NVMS];
	unsigned pauses, resumes, stops;
	int stop_status;
	bool pause_fails;
	struct ctl_regs regs_set;
	unsigned regs_sets;
	unsigned catch_set;
} fake;

static struct vm *fake_vm(unsigned id)
{
	return id >= 1 && id <= NVMS ? &fake.vms[id - 1] : NULL;
}

struct vm *vm_find(unsigned id)
{
	struct vm *vm = fake_vm(id);

	if (vm && vm->state != VM_DEAD) {
		fake.refs[id - 1]++;
		return vm;
	}
	return NULL;
}

void vm_put(struct vm *vm)
{
	fake.refs[vm->id - 1]--;
	assert_true(fake.refs[vm->id - 1] >= 0);
}

void vm_for_each(void (*fn)(struct vm *vm, void *ctx), void *ctx)
{
	for (unsigned i = 0; i < NVMS; i++)
		if (fake.vms[i].state != VM_DEAD)
			fn(&fake.vms[i], ctx);
}

int vm_pause(struct vm *vm)
{
	fake.pauses++;
	if (fake.pause_fails)
		return -VIREO_EBUSY;
	vm->paused = true;
	return 0;
}

void vm_resume(struct vm *vm)
{
	fake.resumes++;
	vm->paused = false;
}

bool vm_is_parked(const struct vm *vm)
{
	return vm->paused;
}

/* The debugger's ops have a test of their own (test_ctl_debug.c): none here. */
const struct ctl_op_entry ctl_debug_ops[] = {{0, "none", NULL}};
const unsigned ctl_debug_op_count = 0;

int vm_set_catch(struct vm *vm, unsigned catch)
{
	if (catch & ~VM_CATCH_ALL)
		return -VIREO_EINVAL;
	vm->catch = catch;
	fake.catch_set++;
	return 0;
}

void vm_stop(struct vm *vm, int status, const char *why)
{
	(void)why;
	fake.stops++;
	fake.stop_status = status;
	vm->state = VM_STOPPING;
}

/* The sandbox ops and their core are test_sandbox.c's: none here. */
const struct ctl_op_entry ctl_sandbox_ops[1];
const unsigned ctl_sandbox_op_count = 0;

void sandbox_written(struct vm *vm, gpa_t gpa, uint64_t len)
{
	(void)vm;
	(void)gpa;
	(void)len;
}

unsigned vm_alive_count(void)
{
	return NVMS;
}

unsigned vireo_online_harts(void)
{
	return 2;
}

size_t mm_free_pages(void)
{
	return 100;
}

size_t mm_total_pages(void)
{
	return 1000;
}

void vcpu_arch_get_regs(const struct vcpu_arch *a, struct ctl_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->x[0] = a->gprs.sepc;
	for (unsigned i = 1; i < 32; i++)
		r->x[i] = a->gprs.x[i];
}

void vcpu_arch_set_regs(struct vcpu_arch *a, const struct ctl_regs *r)
{
	fake.regs_set = *r;
	fake.regs_sets++;
	a->gprs.sepc = r->x[0];
}

/* The hypervisor's strlcpy (hv/lib/string.c would replace the C library's memcpy). */
size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t k = n < size - 1 ? n : size - 1;

		memcpy(dst, src, k);
		dst[k] = 0;
	}
	return n;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

/* ---------------------------------------------------------------- the transport */

static struct {
	uint8_t out[256 * 1024];
	size_t len;
	size_t room;
} wire;

static size_t t_room(void *ctx)
{
	(void)ctx;
	return wire.room;
}

static void t_write(void *ctx, const void *bytes, size_t n)
{
	(void)ctx;
	assert_true(n <= wire.room && wire.len + n <= sizeof(wire.out));
	memcpy(wire.out + wire.len, bytes, n);
	wire.len += n;
	wire.room -= n;
}

static void t_flush(void *ctx)
{
	(void)ctx;
}

static const struct chan_link_ops t_ops = {t_room, t_write, t_flush};
static struct chan_link link;

/* ---------------------------------------------------------------- helpers */

static void host_send(uint16_t type, const void *payload, uint32_t len)
{
	uint8_t frame[VX_HDR_SIZE + 2048];

	vx_put_hdr(frame, type, 0, len);
	memcpy(frame + VX_HDR_SIZE, payload, len);
	chan_link_receive(&link, frame, VX_HDR_SIZE + len);
}

struct reply {
	uint32_t id;
	int32_t result;
	const uint8_t *data;
	uint32_t len;
};

/* The next frame on the wire must be a reply; take it. */
static struct reply take_reply(void)
{
	static uint8_t copy[CTL_REPLY_MAX + 16];
	struct reply r;
	uint32_t len;

	assert_true(wire.len >= VX_HDR_SIZE);
	len = vx_get_u32(wire.out);
	assert_int_equal(vx_get_u16(wire.out + 4), LINK_REPLY);
	assert_true(len >= 8 && wire.len >= VX_HDR_SIZE + len);
	memcpy(copy, wire.out + VX_HDR_SIZE, len);
	memmove(wire.out, wire.out + VX_HDR_SIZE + len, wire.len - VX_HDR_SIZE - len);
	wire.len -= VX_HDR_SIZE + len;
	r.id = vx_get_u32(copy);
	r.result = (int32_t)vx_get_u32(copy + 4);
	r.data = copy + 8;
	r.len = len - 8;
	return r;
}

static struct reply request(uint32_t id, uint16_t op, const void *args, uint32_t len)
{
	uint8_t b[VX_CONTROL_MAX + 64];

	vx_put_u32(b, id);
	vx_put_u16(b + 4, op);
	vx_put_u16(b + 6, 0);
	if (len)
		memcpy(b + 8, args, len);
	host_send(LINK_REQUEST, b, 8 + len);
	return take_reply();
}

static int result_of(uint16_t op, const void *args, uint32_t len)
{
	struct reply r = request(7, op, args, len);

	assert_int_equal(r.id, 7);
	return r.result;
}

static uint32_t args_vm(uint8_t *b, uint32_t vm, uint32_t second)
{
	ctl_put_u32(b, vm);
	ctl_put_u32(b + 4, second);
	return 8;
}

static int setup(void **state)
{
	uint8_t hello[8];

	(void)state;
	memset(&fake, 0, sizeof(fake));
	memset(&wire, 0, sizeof(wire));
	wire.room = sizeof(wire.out);
	for (unsigned i = 0; i < NVMS; i++) {
		struct vm *vm = &fake.vms[i];

		vm->id = i + 1;
		vm->state = VM_RUNNING;
		vm->nvcpus = 2;
		vm->ram_base = RAM_GPA;
		vm->ram_size = RAM_SIZE;
		snprintf(vm->name, sizeof(vm->name), "vm%u", i + 1);
		assert_int_equal(guest_mem_add_run(&vm->mem, RAM_GPA, RAM_SIZE, fake.ram[i]), 0);
		for (unsigned c = 0; c < 2; c++) {
			fake.vcpus[i][c].vm = vm;
			fake.vcpus[i][c].arch.gprs.sepc = 0x80001000 + c;
			fake.vcpus[i][c].arch.gprs.x[27] = 0x1100 + i * 16 + c;
			vm->vcpus[c] = &fake.vcpus[i][c];
		}
	}
	chan_link_init(&link, &t_ops, NULL);
	ctl_attach(&link);
	chan_link_up(&link);
	wire.len = 0; /* Vireo's hello */
	wire.room = sizeof(wire.out);
	vx_put_u32(hello, VX_PROTOCOL_VER);
	vx_put_u32(hello + 4, 0);
	host_send(LINK_HELLO, hello, 8);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NVMS; i++)
		assert_int_equal(fake.refs[i], 0);
	assert_true(ctl_idle());
	return 0;
}

/* ---------------------------------------------------------------- tests */

static void test_info_and_list(void **state)
{
	struct reply r;

	(void)state;
	r = request(1, CTL_OP_INFO, NULL, 0);
	assert_int_equal(r.result, 0);
	assert_int_equal(r.len, sizeof(struct ctl_info));
	assert_int_equal(ctl_get_u32(r.data), CTL_VERSION);
	assert_int_equal(ctl_get_u32(r.data + 4), 2);
	assert_int_equal(ctl_get_u64(r.data + 16), 100 * PAGE_SIZE);
	fake.vms[0].paused = true;
	r = request(2, CTL_OP_VM_LIST, NULL, 0);
	assert_int_equal(r.id, 2);
	assert_int_equal(r.result, 2);
	assert_int_equal(r.len, 2 * sizeof(struct ctl_vm_entry));
	assert_int_equal(ctl_get_u32(r.data), 1);
	assert_int_equal(ctl_get_u32(r.data + 4), CTL_VM_PAUSED);
	assert_int_equal(ctl_get_u32(r.data + 56 + 4), CTL_VM_RUNNING);
	assert_string_equal((const char *)r.data + 56 + 24, "vm2");
}

static void test_pause_regs_resume(void **state)
{
	uint8_t b[8 + CTL_REGS_SIZE];
	struct ctl_regs regs;
	struct reply r;

	(void)state;
	args_vm(b, 1, 0);
	assert_int_equal(result_of(CTL_OP_VCPU_GET_REGS, b, 8), -VIREO_EBUSY);
	assert_int_equal(result_of(CTL_OP_VM_PAUSE, b, 4), 0);
	assert_int_equal(result_of(CTL_OP_VM_PAUSE, b, 4), 0); /* again: already parked */
	assert_int_equal(fake.pauses, 1);
	args_vm(b, 1, 1);
	r = request(3, CTL_OP_VCPU_GET_REGS, b, 8);
	assert_int_equal(r.result, 0);
	assert_int_equal(r.len, CTL_REGS_SIZE);
	memcpy(&regs, r.data, sizeof(regs));
	assert_int_equal(regs.x[0], 0x80001001);
	assert_int_equal(regs.x[27], 0x1101);
	regs.x[0] = 0x80002000;
	memcpy(b + 8, &regs, sizeof(regs));
	assert_int_equal(result_of(CTL_OP_VCPU_SET_REGS, b, sizeof(b)), 0);
	assert_int_equal(fake.vcpus[0][1].arch.gprs.sepc, 0x80002000);
	/* Wrong lengths and a vCPU that does not exist change nothing. */
	assert_int_equal(result_of(CTL_OP_VCPU_SET_REGS, b, sizeof(b) - 1), -VIREO_EINVAL);
	args_vm(b, 1, 2);
	assert_int_equal(result_of(CTL_OP_VCPU_GET_REGS, b, 8), -VIREO_ENOENT);
	assert_int_equal(result_of(CTL_OP_VCPU_SET_REGS, b, sizeof(b)), -VIREO_ENOENT);
	assert_int_equal(fake.regs_sets, 1);
	assert_int_equal(result_of(CTL_OP_VM_RESUME, b, 4), 0);
	assert_false(fake.vms[0].paused);
	fake.pause_fails = true;
	assert_int_equal(result_of(CTL_OP_VM_PAUSE, b, 4), -VIREO_EBUSY);
}

static void test_memory(void **state)
{
	uint8_t b[16 + 64];
	struct reply r;

	(void)state;
	fake.ram[1][100] = 0xab;
	ctl_put_u32(b, 2);
	ctl_put_u32(b + 4, 4);
	ctl_put_u64(b + 8, RAM_GPA + 100);
	r = request(4, CTL_OP_MEM_READ, b, 16);
	assert_int_equal(r.result, 0);
	assert_int_equal(r.len, 4);
	assert_int_equal(r.data[0], 0xab);
	memcpy(b + 16, "\1\2\3\4", 4);
	assert_int_equal(result_of(CTL_OP_MEM_WRITE, b, 20), 0);
	assert_int_equal(fake.ram[1][103], 4);
	assert_int_equal(fake.ram[0][103], 0);
	/* Out of RAM, across its end, wrapping, too long, empty, lengths that disagree. */
	static const struct {
		uint64_t gpa;
		uint32_t len;
		int want;
	} cases[] = {
	    {RAM_GPA - 1, 2, -VIREO_EFAULT},	{RAM_GPA + RAM_SIZE - 2, 4, -VIREO_EFAULT},
	    {UINT64_MAX - 1, 4, -VIREO_EFAULT}, {RAM_GPA, CTL_REPLY_MAX + 1, -VIREO_EINVAL},
	    {RAM_GPA, 0, -VIREO_EINVAL},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_put_u32(b + 4, cases[i].len);
		ctl_put_u64(b + 8, cases[i].gpa);
		assert_int_equal(result_of(CTL_OP_MEM_READ, b, 16), cases[i].want);
	}
	ctl_put_u32(b + 4, 5);
	ctl_put_u64(b + 8, RAM_GPA);
	assert_int_equal(result_of(CTL_OP_MEM_WRITE, b, 20), -VIREO_EINVAL);
	assert_int_equal(result_of(CTL_OP_MEM_WRITE, b, 15), -VIREO_EINVAL);
	assert_int_equal(fake.ram[1][0], 0);
}

static void test_malformed(void **state)
{
	uint8_t b[16] = {0};
	struct reply r;

	(void)state;
	assert_int_equal(result_of(0x7777, NULL, 0), -VIREO_ENOSYS);
	assert_int_equal(result_of(CTL_OP_VM_PAUSE, b, 3), -VIREO_EINVAL);
	ctl_put_u32(b, 3);
	assert_int_equal(result_of(CTL_OP_VM_PAUSE, b, 4), -VIREO_ENOENT);
	assert_int_equal(fake.pauses, 0);
	/* A request with flags, and one too short for an op: EINVAL for its id. */
	vx_put_u32(b, 9);
	vx_put_u16(b + 4, CTL_OP_INFO);
	vx_put_u16(b + 6, 1);
	host_send(LINK_REQUEST, b, 8);
	r = take_reply();
	assert_int_equal(r.id, 9);
	assert_int_equal(r.result, -VIREO_EINVAL);
	host_send(LINK_REQUEST, b, 5);
	r = take_reply();
	assert_int_equal(r.id, 9);
	assert_int_equal(r.result, -VIREO_EINVAL);
}

static void test_stop(void **state)
{
	uint8_t b[8];

	(void)state;
	args_vm(b, 2, (uint32_t)-5);
	assert_int_equal(result_of(CTL_OP_VM_STOP, b, 8), 0);
	assert_int_equal(fake.stop_status, -5);
	assert_int_equal(result_of(CTL_OP_VM_STOP, b, 8), -VIREO_EINVAL);
	assert_int_equal(fake.stops, 1);
}

static void test_catch(void **state)
{
	uint8_t b[8];

	(void)state;
	args_vm(b, 1, CTL_CATCH_FAULT | CTL_CATCH_BREAKPOINT);
	assert_int_equal(result_of(CTL_OP_VM_CATCH, b, 8), 0);
	assert_int_equal(fake.vms[0].catch, VM_CATCH_FAULT | VM_CATCH_BREAKPOINT);
	args_vm(b, 1, 0x80);
	assert_int_equal(result_of(CTL_OP_VM_CATCH, b, 8), -VIREO_EINVAL);
	assert_int_equal(result_of(CTL_OP_VM_CATCH, b, 4), -VIREO_EINVAL);
	fake.vms[1].state = VM_STOPPING;
	args_vm(b, 2, CTL_CATCH_FAULT);
	assert_int_equal(result_of(CTL_OP_VM_CATCH, b, 8), -VIREO_EINVAL);
	assert_int_equal(fake.catch_set, 1);
}

/* Replies wait for room on the link and go out whole, in order. */
static void test_replies_wait_for_room(void **state)
{
	uint8_t b[8] = {0};
	struct reply r;

	(void)state;
	wire.room = 10;
	for (uint32_t id = 1; id <= 3; id++) {
		vx_put_u32(b, id);
		vx_put_u16(b + 4, CTL_OP_INFO);
		host_send(LINK_REQUEST, b, 8);
	}
	assert_int_equal(wire.len, 0);
	wire.room = sizeof(wire.out);
	chan_link_pump(&link);
	for (uint32_t id = 1; id <= 3; id++) {
		r = take_reply();
		assert_int_equal(r.id, id);
		assert_int_equal(r.result, 0);
	}
	assert_true(chan_link_flushed(&link));
}

/* Events go out as LINK_EVENT: event, 0, vm, data. */
static void test_event(void **state)
{
	(void)state;
	ctl_event(0x0301, 2, "abc", 3);
	assert_int_equal(wire.len, VX_HDR_SIZE + 11);
	assert_int_equal(vx_get_u16(wire.out + 4), LINK_EVENT);
	assert_int_equal(vx_get_u16(wire.out + 8), 0x0301);
	assert_int_equal(vx_get_u32(wire.out + 12), 2);
	assert_memory_equal(wire.out + 16, "abc", 3);
	wire.len = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_info_and_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pause_regs_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replies_wait_for_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event, setup, teardown),
	};

	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
