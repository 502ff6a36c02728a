// SPDX-License-Identifier: BSD-2-Clause
/* SBI wrappers only the SBI v2.0 test guests need. */
#include "sbi_v2.h"

struct sbiret sbi_hart_suspend(unsigned long type, unsigned long resume_addr, unsigned long opaque)
{
	return sbi_call(SBI_EXT_HSM, SBI_HSM_HART_SUSPEND, type, resume_addr, opaque, 0, 0, 0);
}
