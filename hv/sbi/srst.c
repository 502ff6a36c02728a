// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI SRST: a guest's system reset ends (or reboots) its own VM only. The
 * reason becomes the VM's exit status: none -> 0, system failure -> 1, and
 * vendor reasons VM_EXIT_REASON_STATUS_BASE + n -> n (n < 256), so a test
 * guest can exit with any status, like a process.
 */
#include <vireo/sbi.h>
#include <vireo/vm.h>
#include <vireo/vm_layout.h>

#define SRST_TYPE_SHUTDOWN    0
#define SRST_TYPE_COLD_REBOOT 1
#define SRST_TYPE_WARM_REBOOT 2
#define SRST_REASON_NONE      0
#define SRST_REASON_FAILURE   1

static bool reason_valid(unsigned long reason)
{
	return reason <= SRST_REASON_FAILURE || (reason >= 0xe0000000UL && reason <= 0xffffffffUL);
}

static int reason_status(unsigned long reason)
{
	if (reason == SRST_REASON_NONE)
		return 0;
	if (reason >= VM_EXIT_REASON_STATUS_BASE && reason < VM_EXIT_REASON_STATUS_BASE + 256)
		return (int)(reason - VM_EXIT_REASON_STATUS_BASE);
	return 1;
}

void sbi_srst_reset(struct sbi_call *call, unsigned long type, unsigned long reason)
{
	struct vm *vm = call->vcpu->vm;

	if (type > SRST_TYPE_WARM_REBOOT) {
		/* Reserved types, and vendor ones (0xF0000000+) since Vireo implements none:
		 * SBI v2.0 says "reserved or platform-specific and unimplemented" is
		 * INVALID_PARAM (NOT_SUPPORTED is for implemented types missing a dependency). */
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (!reason_valid(reason)) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (type != SRST_TYPE_SHUTDOWN)
		vm->reboot_requested = true;
	vm_stop(vm, reason_status(reason), type == SRST_TYPE_SHUTDOWN ? "shutdown" : "reboot");
	call->no_return = true;
	call->action = VCPU_VM_ENDED;
}

static void srst_handler(struct sbi_call *call)
{
	if (call->fid != 0)
		return;
	/* Both parameters are uint32_t in the specification: upper bits are ignored. */
	sbi_srst_reset(call, (uint32_t)call->args[0], (uint32_t)call->args[1]);
}

const struct sbi_ext sbi_ext_srst = {SBI_EXT_SRST, SBI_EXT_SRST, "srst", srst_handler};
