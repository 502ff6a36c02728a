// SPDX-License-Identifier: BSD-2-Clause
/* Snapshots of VMs; see vireo/vm_snapshot.h. */
#include <vireo/printf.h>
#include <vireo/vm.h>
#include <vireo/vm_snapshot.h>

int vm_snapshot_apply(struct vm *vm, char *why, size_t size)
{
	(void)vm;
	vireo_snprintf(why, size, "snapshots are not supported yet");
	return -VIREO_ENOSYS;
}
