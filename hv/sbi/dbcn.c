// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI DBCN (debug console). Buffers are guest-physical; each must lie wholly
 * in the VM's RAM or the call fails with SBI_ERR_INVALID_PARAM and nothing
 * is touched.
 */
#include <vireo/sbi.h>
#include <vireo/vm.h>

#define SBI_DBCN_WRITE	    0
#define SBI_DBCN_READ	    1
#define SBI_DBCN_WRITE_BYTE 2

static uint8_t *guest_buffer(struct sbi_call *call)
{
	/* On RV64 base_addr_lo holds the whole address; base_addr_hi must be 0. */
	if (call->args[2] != 0)
		return NULL;
	return vm_gpa_to_hva(call->vcpu->vm, call->args[1], call->args[0]);
}

/* The buffer of a write or read: NULL (with the call answered) if there is nothing to do. */
static uint8_t *checked_buffer(struct sbi_call *call)
{
	uint8_t *buf;

	call->error = SBI_SUCCESS;
	call->value = 0;
	if (call->args[0] == 0)
		return NULL;
	buf = guest_buffer(call);
	if (!buf)
		call->error = SBI_ERR_INVALID_PARAM;
	return buf;
}

static void dbcn_write(struct sbi_call *call)
{
	uint8_t *buf = checked_buffer(call);

	if (!buf)
		return;
	vm_console_write(&call->vcpu->vm->console, buf, call->args[0]);
	call->error = SBI_SUCCESS;
	call->value = call->args[0];
}

static void dbcn_read(struct sbi_call *call)
{
	uint8_t *buf = checked_buffer(call);
	unsigned long n = 0;

	if (!buf)
		return;
	while (n < call->args[0]) {
		int c = sbi_console_getchar(call->vcpu->vm);
		if (c < 0)
			break;
		buf[n++] = (uint8_t)c;
	}
	call->error = SBI_SUCCESS;
	call->value = n;
}

static void dbcn_handler(struct sbi_call *call)
{
	switch (call->fid) {
	case SBI_DBCN_WRITE:
		dbcn_write(call);
		break;
	case SBI_DBCN_READ:
		dbcn_read(call);
		break;
	case SBI_DBCN_WRITE_BYTE:
		vm_console_putc(&call->vcpu->vm->console, (uint8_t)call->args[0]);
		call->error = SBI_SUCCESS;
		call->value = 0;
		break;
	default:
		break;
	}
}

const struct sbi_ext sbi_ext_dbcn = {SBI_EXT_DBCN, SBI_EXT_DBCN, "dbcn", dbcn_handler};
