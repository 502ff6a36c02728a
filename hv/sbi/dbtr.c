// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI DBTR (debug triggers, EID 0x44425452, SBI v3.0), with no triggers.
 *
 * The hart's triggers (Sdtrig: tselect, tdata1..3) are M-mode CSRs. Vireo
 * runs in HS-mode and OpenSBI v1.1 below it has no DBTR extension, so there
 * is no way for Vireo to program a trigger, for itself or for a guest:
 * trig_max is 0 on every vCPU. The extension is still there, complete, so a
 * guest learns that from num_triggers rather than from a missing extension:
 *  - num_triggers: 0 for any trig_tdata1;
 *  - set_shmem: the usual checks (flags 0, XLEN/8 alignment: INVALID_PARAM;
 *    all-ones disables). The area is trig_max * XLEN/2 = 0 bytes; Vireo asks
 *    that it at least start in guest RAM (INVALID_ADDRESS otherwise);
 *  - read/install/update_triggers: NO_SHMEM without the shared memory, else
 *    BAD_RANGE (no index is below trig_max), value 0;
 *  - uninstall/enable/disable_triggers: an empty mask succeeds, any trigger
 *    index is >= trig_max: INVALID_PARAM.
 * The shared memory setting is per vCPU and a hart reset clears it.
 */
#include <vireo/vm.h>
#include "sbi_ext.h"

enum {
	SBI_DBTR_NUM_TRIGGERS = 0,
	SBI_DBTR_SET_SHMEM = 1,
	SBI_DBTR_READ_TRIGGERS = 2,
	SBI_DBTR_INSTALL_TRIGGERS = 3,
	SBI_DBTR_UPDATE_TRIGGERS = 4,
	SBI_DBTR_UNINSTALL_TRIGGERS = 5,
	SBI_DBTR_ENABLE_TRIGGERS = 6,
	SBI_DBTR_DISABLE_TRIGGERS = 7,
};

#define DBTR_TRIG_MAX	  0UL
#define SBI_SHMEM_DISABLE (~0UL)

static void dbtr_set_shmem(struct sbi_call *call)
{
	unsigned long lo = call->args[0], hi = call->args[1], flags = call->args[2];

	if (flags != 0) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (lo == SBI_SHMEM_DISABLE && hi == SBI_SHMEM_DISABLE) {
		call->vcpu->sbi.dbtr.shmem = false;
		call->error = SBI_SUCCESS;
		return;
	}
	if (!IS_ALIGNED(lo, sizeof(unsigned long))) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	/* trig_max * (XLEN / 2) bytes, at least its first byte in RAM. */
	if (!sbi_shmem(call->vcpu, lo, hi, MAX(DBTR_TRIG_MAX * sizeof(unsigned long) * 4, 1))) {
		call->error = SBI_ERR_INVALID_ADDRESS;
		return;
	}
	call->vcpu->sbi.dbtr.shmem = true;
	call->error = SBI_SUCCESS;
}

/* read, install and update need the shared memory; every index is out of range. */
static void shmem_range_call(struct sbi_call *call)
{
	call->value = 0;
	call->error = call->vcpu->sbi.dbtr.shmem ? SBI_ERR_BAD_RANGE : SBI_ERR_NO_SHMEM;
}

/* uninstall, enable, disable: (trig_idx_base, trig_idx_mask). */
static void mask_call(struct sbi_call *call)
{
	call->error = call->args[1] == 0 ? SBI_SUCCESS : SBI_ERR_INVALID_PARAM;
}

void sbi_dbtr_reset(struct vcpu *v)
{
	v->sbi.dbtr = (struct sbi_dbtr_vcpu){0};
}

static void dbtr_handler(struct sbi_call *call)
{
	switch (call->fid) {
	case SBI_DBTR_NUM_TRIGGERS:
		call->error = SBI_SUCCESS;
		call->value = DBTR_TRIG_MAX;
		break;
	case SBI_DBTR_SET_SHMEM:
		dbtr_set_shmem(call);
		break;
	case SBI_DBTR_READ_TRIGGERS:
	case SBI_DBTR_INSTALL_TRIGGERS:
	case SBI_DBTR_UPDATE_TRIGGERS:
		shmem_range_call(call);
		break;
	case SBI_DBTR_UNINSTALL_TRIGGERS:
	case SBI_DBTR_ENABLE_TRIGGERS:
	case SBI_DBTR_DISABLE_TRIGGERS:
		mask_call(call);
		break;
	default:
		break;
	}
}

const struct sbi_ext sbi_ext_dbtr = {SBI_EXT_DBTR, SBI_EXT_DBTR, "dbtr", dbtr_handler};
