// SPDX-License-Identifier: BSD-2-Clause
/*
 * The control plane's core ops (vireo/ctl.h, 0x00xx): the machine, the list
 * of VMs, pausing and resuming one, its vCPUs' registers and its memory by
 * guest-physical address, stopping it.
 */
#include <vireo/ctl.h>
#include <vireo/mm.h>
#include <vireo/sandbox.h>
#include <vireo/string.h>
#include <vireo/vireo.h>
#include <vireo/vm.h>

static int op_info(struct ctl_call *c)
{
	uint8_t *o = c->out;

	ctl_put_u32(o, CTL_VERSION);
	ctl_put_u32(o + 4, vireo_online_harts());
	ctl_put_u32(o + 8, vm_alive_count());
	ctl_put_u32(o + 12, VM_MAX_VCPUS);
	ctl_put_u64(o + 16, (uint64_t)mm_free_pages() * PAGE_SIZE);
	ctl_put_u64(o + 24, (uint64_t)mm_total_pages() * PAGE_SIZE);
	c->out_len = sizeof(struct ctl_info);
	return 0;
}

static uint32_t wire_state(const struct vm *vm)
{
	if (vm->state == VM_CREATED)
		return CTL_VM_CREATED;
	if (vm->state != VM_RUNNING)
		return CTL_VM_STOPPING;
	return __atomic_load_n(&vm->paused, __ATOMIC_ACQUIRE) ? CTL_VM_PAUSED : CTL_VM_RUNNING;
}

static void list_one(struct vm *vm, void *ctx)
{
	struct ctl_call *c = ctx;
	uint8_t *o = c->out + c->out_len;

	if (c->out_len + sizeof(struct ctl_vm_entry) > CTL_REPLY_MAX)
		return;
	memset(o, 0, sizeof(struct ctl_vm_entry));
	ctl_put_u32(o, vm->id);
	ctl_put_u32(o + 4, wire_state(vm));
	ctl_put_u32(o + 8, vm->nvcpus);
	ctl_put_u64(o + 16, vm->ram_size);
	memcpy(o + 24, vm->name, strnlen(vm->name, sizeof(vm->name) - 1));
	c->out_len += sizeof(struct ctl_vm_entry);
}

static int op_vm_list(struct ctl_call *c)
{
	vm_for_each(list_one, c);
	return (int)(c->out_len / sizeof(struct ctl_vm_entry));
}

/* The VM named by the first u32 of the arguments, held; NULL with *err set. */
static struct vm *arg_vm(const struct ctl_call *c, uint32_t need, int *err)
{
	return ctl_arg_vm(c, need, false, err);
}

static int op_vm_pause(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 4, &err);

	if (!vm)
		return err;
	err = vm_is_parked(vm) ? 0 : vm_pause(vm);
	vm_put(vm);
	return err;
}

static int op_vm_resume(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 4, &err);

	if (!vm)
		return err;
	/* A template's RAM is its forks' now (vm_cow.c): it never runs again. */
	if (vm->shared)
		err = ctl_fail(c, -VIREO_EINVAL, "VM %u was forked: it never runs again", vm->id);
	else
		vm_resume(vm);
	vm_put(vm);
	return err;
}

/* The vCPU named by the second u32, of a parked VM. */
static struct vcpu *parked_vcpu(const struct ctl_call *c, struct vm *vm, int *err)
{
	uint32_t id = ctl_get_u32(c->args + 4);

	if (!vm_is_parked(vm)) {
		*err = -VIREO_EBUSY;
		return NULL;
	}
	if (id >= vm->nvcpus) {
		*err = -VIREO_ENOENT;
		return NULL;
	}
	return vm->vcpus[id];
}

static int op_get_regs(struct ctl_call *c)
{
	int err = 0;
	struct vm *vm = arg_vm(c, 8, &err);
	struct vcpu *v;
	struct ctl_regs r;

	if (!vm)
		return err;
	v = parked_vcpu(c, vm, &err);
	if (v) {
		vcpu_arch_get_regs(&v->arch, &r);
		memcpy(c->out, &r, sizeof(r)); /* Vireo is little-endian, like the wire */
		c->out_len = sizeof(r);
	}
	vm_put(vm);
	return err;
}

static int op_set_regs(struct ctl_call *c)
{
	int err = 0;
	struct vm *vm = arg_vm(c, 8 + CTL_REGS_SIZE, &err);
	struct vcpu *v;
	struct ctl_regs r;

	if (!vm)
		return err;
	v = parked_vcpu(c, vm, &err);
	if (v) {
		memcpy(&r, c->args + 8, sizeof(r));
		vcpu_arch_set_regs(&v->arch, &r);
	}
	vm_put(vm);
	return err;
}

static int op_mem_read(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 16, &err);
	uint32_t len;

	if (!vm)
		return err;
	len = ctl_get_u32(c->args + 4);
	err = -VIREO_EINVAL;
	if (len && len <= CTL_REPLY_MAX) {
		err = -VIREO_EFAULT;
		if (guest_mem_read(&vm->mem, ctl_get_u64(c->args + 8), c->out, len)) {
			c->out_len = len;
			err = 0;
		}
	}
	vm_put(vm);
	return err;
}

static int op_mem_write(struct ctl_call *c)
{
	int err;
	struct vm *vm;
	uint32_t len;

	if (c->len < 16)
		return -VIREO_EINVAL;
	len = ctl_get_u32(c->args + 4);
	if (!len || len != c->len - 16)
		return -VIREO_EINVAL;
	vm = arg_vm(c, c->len, &err);
	if (!vm)
		return err;
	err = guest_mem_write(&vm->mem, ctl_get_u64(c->args + 8), c->args + 16, len)
		  ? 0
		  : -VIREO_EFAULT;
	/* A sandbox's reset restores what the host wrote too. */
	if (!err)
		sandbox_written(vm, ctl_get_u64(c->args + 8), len);
	vm_put(vm);
	return err;
}

static int op_vm_stop(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 8, &err);

	if (!vm)
		return err;
	err = vm->state == VM_RUNNING ? 0 : -VIREO_EINVAL;
	if (!err) {
		vm_stop(vm, (int)ctl_get_u32(c->args + 4), "stopped by the host");
		/* A paused VM's vCPUs must run their harts' loops to leave. */
		vm_resume(vm);
	}
	vm_put(vm);
	return err;
}

static int op_vm_catch(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 8, &err);

	if (!vm)
		return err;
	err = vm->state == VM_RUNNING ? vm_set_catch(vm, ctl_get_u32(c->args + 4)) : -VIREO_EINVAL;
	vm_put(vm);
	return err;
}

const struct ctl_op_entry ctl_core_ops[] = {
    {CTL_OP_INFO, "info", op_info},
    {CTL_OP_VM_LIST, "vm-list", op_vm_list},
    {CTL_OP_VM_PAUSE, "vm-pause", op_vm_pause},
    {CTL_OP_VM_RESUME, "vm-resume", op_vm_resume},
    {CTL_OP_VCPU_GET_REGS, "vcpu-get-regs", op_get_regs},
    {CTL_OP_VCPU_SET_REGS, "vcpu-set-regs", op_set_regs},
    {CTL_OP_MEM_READ, "mem-read", op_mem_read},
    {CTL_OP_MEM_WRITE, "mem-write", op_mem_write},
    {CTL_OP_VM_STOP, "vm-stop", op_vm_stop},
    {CTL_OP_VM_CATCH, "vm-catch", op_vm_catch},
};
const unsigned ctl_core_op_count = ARRAY_SIZE(ctl_core_ops);
