// SPDX-License-Identifier: BSD-2-Clause
/*
 * The control plane's sandbox ops (0x04xx, vireo/ctl_sandbox.h): each checks
 * the shape of its arguments and hands them to core/sandbox.c, which checks
 * their meaning against the sandbox's state.
 */
#include <vireo/ctl.h>
#include <vireo/ctl_sandbox.h>
#include <vireo/sandbox.h>
#include <vireo/string.h>
#include <vireo/vm.h>

/* The VM named by the first u32, held, if the arguments are `need` bytes long. */
static struct vm *arg_vm(const struct ctl_call *c, uint32_t need, int *err)
{
	return ctl_arg_vm(c, need, false, err);
}

static int op_open(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 4, &err);
	struct ctl_sandbox_info info;

	if (!vm)
		return err;
	err = sandbox_open(vm, &info);
	if (!err) {
		memcpy(c->out, &info, sizeof(info)); /* Vireo is little-endian, like the wire */
		c->out_len = sizeof(info);
	}
	vm_put(vm);
	return err;
}

static int op_call(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, CTL_SANDBOX_CALL_SIZE, &err);
	struct ctl_sandbox_call call;

	if (!vm)
		return err;
	memcpy(&call, c->args, sizeof(call));
	err = call.flags & ~CTL_SANDBOX_CALL_RESET ? -VIREO_EINVAL : sandbox_call(vm, &call);
	vm_put(vm);
	return err;
}

static int op_answer(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 24, &err);

	if (!vm)
		return err;
	err = ctl_get_u32(c->args + 4) ? -VIREO_EINVAL
				       : sandbox_answer(vm, (int64_t)ctl_get_u64(c->args + 8),
							ctl_get_u64(c->args + 16));
	vm_put(vm);
	return err;
}

static int op_continue(struct ctl_call *c)
{
	int err;
	struct vm *vm;
	struct ctl_sandbox_continue cont;
	uint64_t regs[31];
	bool with_regs;

	if (c->len < CTL_SANDBOX_CONTINUE_SIZE)
		return -VIREO_EINVAL;
	memcpy(&cont, c->args, sizeof(cont));
	with_regs = cont.flags & CTL_SANDBOX_CONTINUE_REGS;
	vm = arg_vm(c, CTL_SANDBOX_CONTINUE_SIZE + (with_regs ? sizeof(regs) : 0), &err);
	if (!vm)
		return err;
	if (with_regs)
		memcpy(regs, c->args + CTL_SANDBOX_CONTINUE_SIZE, sizeof(regs));
	err = cont.flags & ~(CTL_SANDBOX_CONTINUE_PC | CTL_SANDBOX_CONTINUE_REGS |
			     CTL_SANDBOX_CONTINUE_BUDGET)
		  ? -VIREO_EINVAL
		  : sandbox_continue(vm, &cont, with_regs ? regs : NULL);
	vm_put(vm);
	return err;
}

static int op_reset(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 8, &err);
	uint32_t flags, unmapped = 0;

	if (!vm)
		return err;
	flags = ctl_get_u32(c->args + 4);
	err = flags & ~CTL_SANDBOX_RESET_FULL ? -VIREO_EINVAL : sandbox_reset(vm, flags, &unmapped);
	if (err >= 0) {
		ctl_put_u32(c->out, (uint32_t)err);
		ctl_put_u32(c->out + 4, unmapped);
		c->out_len = 8;
	}
	vm_put(vm);
	return err;
}

static int op_map(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 24, &err);

	if (!vm)
		return err;
	err = sandbox_map(vm, ctl_get_u64(c->args + 8), ctl_get_u64(c->args + 16),
			  ctl_get_u32(c->args + 4));
	vm_put(vm);
	return err;
}

static int op_read(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 16, &err);
	uint32_t len;

	if (!vm)
		return err;
	len = ctl_get_u32(c->args + 4);
	err = sandbox_read(vm, ctl_get_u64(c->args + 8), c->out, len);
	if (!err)
		c->out_len = len;
	vm_put(vm);
	return err;
}

static int op_write(struct ctl_call *c)
{
	int err;
	struct vm *vm;
	uint32_t len;

	if (c->len < 16)
		return -VIREO_EINVAL;
	len = ctl_get_u32(c->args + 4);
	if (len != c->len - 16)
		return -VIREO_EINVAL;
	vm = arg_vm(c, c->len, &err);
	if (!vm)
		return err;
	err = sandbox_write(vm, ctl_get_u64(c->args + 8), c->args + 16, len);
	vm_put(vm);
	return err;
}

static int op_stats(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 4, &err);
	struct ctl_sandbox_stats s;

	if (!vm)
		return err;
	err = sandbox_stats(vm, &s);
	if (!err) {
		memcpy(c->out, &s, sizeof(s)); /* Vireo is little-endian, like the wire */
		c->out_len = sizeof(s);
	}
	vm_put(vm);
	return err;
}

const struct ctl_op_entry ctl_sandbox_ops[] = {
    {CTL_OP_SANDBOX_OPEN, "sandbox-open", op_open},
    {CTL_OP_SANDBOX_CALL, "sandbox-call", op_call},
    {CTL_OP_SANDBOX_ANSWER, "sandbox-answer", op_answer},
    {CTL_OP_SANDBOX_CONTINUE, "sandbox-continue", op_continue},
    {CTL_OP_SANDBOX_RESET, "sandbox-reset", op_reset},
    {CTL_OP_SANDBOX_MAP, "sandbox-map", op_map},
    {CTL_OP_SANDBOX_READ, "sandbox-read", op_read},
    {CTL_OP_SANDBOX_WRITE, "sandbox-write", op_write},
    {CTL_OP_SANDBOX_STATS, "sandbox-stats", op_stats},
};
const unsigned ctl_sandbox_op_count = ARRAY_SIZE(ctl_sandbox_ops);
