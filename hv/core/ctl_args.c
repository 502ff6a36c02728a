// SPDX-License-Identifier: BSD-2-Clause
/* The argument every VM's control op starts with: the VM, by its id. */
#include <vireo/ctl.h>
#include <vireo/vm.h>

struct vm *ctl_arg_vm(const struct ctl_call *c, uint32_t need, bool more, int *err)
{
	struct vm *vm;

	if (c->len < need || (!more && c->len != need)) {
		*err = -VIREO_EINVAL;
		return NULL;
	}
	vm = vm_find(ctl_get_u32(c->args));
	*err = vm ? 0 : -VIREO_ENOENT;
	return vm;
}
