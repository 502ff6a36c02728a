// SPDX-License-Identifier: BSD-2-Clause
/* SBI Base extension (EID 0x10). */
#include <vireo/sbi.h>

#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_GET_IMPL_ID	  1
#define SBI_BASE_GET_IMPL_VERSION 2
#define SBI_BASE_PROBE_EXTENSION  3
#define SBI_BASE_GET_MVENDORID	  4
#define SBI_BASE_GET_MARCHID	  5
#define SBI_BASE_GET_MIMPID	  6

/* Vireo 0.1.0 as major << 16 | minor << 8 | patch. */
#define VIREO_IMPL_VERSION 0x000100UL

static unsigned long host_mvendorid, host_marchid, host_mimpid;

void sbi_base_init(unsigned long mvendorid, unsigned long marchid, unsigned long mimpid)
{
	host_mvendorid = mvendorid;
	host_marchid = marchid;
	host_mimpid = mimpid;
}

static void base_handler(struct sbi_call *call)
{
	call->error = SBI_SUCCESS;
	switch (call->fid) {
	case SBI_BASE_GET_SPEC_VERSION:
		call->value = SBI_SPEC_VERSION;
		break;
	case SBI_BASE_GET_IMPL_ID:
		call->value = SBI_IMPL_ID_VIREO;
		break;
	case SBI_BASE_GET_IMPL_VERSION:
		call->value = VIREO_IMPL_VERSION;
		break;
	case SBI_BASE_PROBE_EXTENSION: {
		const struct sbi_ext *ext =
		    call->args[0] > SBI_EXT_LEGACY_MAX ? sbi_lookup_ext(call->args[0]) : NULL;

		/* Legacy EIDs are probed one by one too; all of 0x00..0x08 are implemented.
		 * Some extensions are only some VMs' (a sandbox's). */
		call->value = call->args[0] <= 0x08 || (ext && sbi_ext_available(ext, call->vcpu));
		break;
	}
	case SBI_BASE_GET_MVENDORID:
		call->value = host_mvendorid;
		break;
	case SBI_BASE_GET_MARCHID:
		call->value = host_marchid;
		break;
	case SBI_BASE_GET_MIMPID:
		call->value = host_mimpid;
		break;
	default:
		call->error = SBI_ERR_NOT_SUPPORTED;
	}
}

const struct sbi_ext sbi_ext_base = {SBI_EXT_BASE, SBI_EXT_BASE, "base", base_handler};
