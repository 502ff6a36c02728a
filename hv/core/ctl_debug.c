// SPDX-License-Identifier: BSD-2-Clause
/*
 * The debugger's control requests (vireo/ctl_debug.h, ops 0x03xx): the wire
 * side of core/vm_debug.c. Every argument is checked here (lengths, VM and
 * vCPU ids); what a request may do to the VM is vm_debug's business.
 */
#include <vireo/cpu.h>
#include <vireo/ctl_debug.h>
#include <vireo/guest_pt.h>
#include <vireo/string.h>
#include <vireo/vm.h>

#define VM_ARGS	  4		   /* u32 vm */
#define VCPU_ARGS 8		   /* u32 vm, u32 vcpu */
#define MEM_ARGS  (VCPU_ARGS + 16) /* ..., u32 len, u32 0, u64 va */

/* The VM named by the first u32 (held: vm_put it); NULL with *err set. The arguments
 * are exactly `need` bytes, or at least `need` when `more` is true. */
static struct vm *arg_vm(const struct ctl_call *c, uint32_t need, bool more, int *err)
{
	struct vm *vm = ctl_arg_vm(c, need, more, err);

	if (vm && vm->state != VM_RUNNING) {
		vm_put(vm);
		vm = NULL;
		*err = -VIREO_EINVAL;
	}
	return vm;
}

/* The vCPU named by the second u32; NULL with *err set. */
static struct vcpu *arg_vcpu(const struct ctl_call *c, struct vm *vm, int *err)
{
	uint32_t id = ctl_get_u32(c->args + 4);

	if (id >= vm->nvcpus) {
		*err = -VIREO_ENOENT;
		return NULL;
	}
	return vm->vcpus[id];
}

static int op_attach(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, VM_ARGS, false, &err);
	bool waiting;

	if (!vm)
		return err;
	waiting = vm->debug.waiting;
	err = vm_debug_attach(vm);
	if (!err) {
		uint32_t features = (cpu_guest.fp ? CTL_DBG_F_FP : 0) |
				    (cpu_isa_has_letter(cpu_guest.isa, 'c') ? CTL_DBG_F_C : 0) |
				    (waiting ? CTL_DBG_F_WAITING : 0);

		ctl_put_u32(c->out, vm->nvcpus);
		ctl_put_u32(c->out + 4, features);
		c->out_len = sizeof(struct ctl_dbg_info);
	}
	vm_put(vm);
	return err;
}

static int op_detach(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, VM_ARGS, false, &err);

	if (!vm)
		return err;
	err = vm_debug_detach(vm);
	vm_put(vm);
	return err;
}

/* u32 vm, u32 vcpu, u64 va: a breakpoint set or cleared. */
static int op_break(struct ctl_call *c, bool set)
{
	int err;
	struct vm *vm = arg_vm(c, VCPU_ARGS + 8, false, &err);
	struct vcpu *v;

	if (!vm)
		return err;
	v = arg_vcpu(c, vm, &err);
	if (v) {
		uint64_t va = ctl_get_u64(c->args + VCPU_ARGS);

		err = set ? vm_debug_break_set(vm, v, va) : vm_debug_break_clear(vm, v, va);
	}
	vm_put(vm);
	return err;
}

static int op_break_set(struct ctl_call *c)
{
	return op_break(c, true);
}

static int op_break_clear(struct ctl_call *c)
{
	return op_break(c, false);
}

static int op_step(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, VCPU_ARGS, false, &err);
	struct vcpu *v;

	if (!vm)
		return err;
	v = arg_vcpu(c, vm, &err);
	if (v)
		err = vm_debug_step(vm, v);
	vm_put(vm);
	return err;
}

/* u32 vm, u32 vcpu, u32 len, u32 0, u64 va [, len bytes]. */
static int op_mem(struct ctl_call *c, bool write)
{
	int err;
	struct vm *vm = arg_vm(c, MEM_ARGS, write, &err);
	struct vcpu *v;
	uint32_t len;

	if (!vm)
		return err;
	len = ctl_get_u32(c->args + VCPU_ARGS);
	v = arg_vcpu(c, vm, &err);
	if (v && (!len || ctl_get_u32(c->args + VCPU_ARGS + 4) ||
		  (write ? len != c->len - MEM_ARGS : len > CTL_REPLY_MAX))) {
		v = NULL;
		err = -VIREO_EINVAL;
	}
	if (v) {
		uint64_t va = ctl_get_u64(c->args + VCPU_ARGS + 8);

		/* A write's bytes are the request's own (const): copied out first. */
		if (write)
			memcpy(c->out, c->args + MEM_ARGS, len);
		err = vm_debug_mem(vm, v, va, c->out, len, write);
		if (!write && err > 0)
			c->out_len = (uint32_t)err;
	}
	vm_put(vm);
	return err;
}

static int op_mem_read(struct ctl_call *c)
{
	return op_mem(c, false);
}

static int op_mem_write(struct ctl_call *c)
{
	return op_mem(c, true);
}

static int op_translate(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, VCPU_ARGS + 8, false, &err);
	struct guest_pt_walk w;
	struct vcpu *v;

	if (!vm)
		return err;
	v = arg_vcpu(c, vm, &err);
	if (v)
		err = vm_debug_translate(vm, v, ctl_get_u64(c->args + VCPU_ARGS), &w);
	if (v && !err) {
		ctl_put_u64(c->out, w.gpa);
		ctl_put_u64(c->out + 8, w.page_size);
		ctl_put_u64(c->out + 16, w.pte);
		c->out_len = sizeof(struct ctl_dbg_translation);
	}
	vm_put(vm);
	return err;
}

const struct ctl_op_entry ctl_debug_ops[] = {
    {CTL_OP_DBG_ATTACH, "dbg-attach", op_attach},
    {CTL_OP_DBG_DETACH, "dbg-detach", op_detach},
    {CTL_OP_DBG_BREAK_SET, "dbg-break-set", op_break_set},
    {CTL_OP_DBG_BREAK_CLEAR, "dbg-break-clear", op_break_clear},
    {CTL_OP_DBG_STEP, "dbg-step", op_step},
    {CTL_OP_DBG_MEM_READ, "dbg-mem-read", op_mem_read},
    {CTL_OP_DBG_MEM_WRITE, "dbg-mem-write", op_mem_write},
    {CTL_OP_DBG_TRANSLATE, "dbg-translate", op_translate},
};
const unsigned ctl_debug_op_count = ARRAY_SIZE(ctl_debug_ops);
