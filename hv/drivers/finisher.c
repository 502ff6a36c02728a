// SPDX-License-Identifier: BSD-2-Clause
/* QEMU's SiFive test finisher ("sifive,test0"): power off with an exit status. */
#include <vireo/power.h>
#include <vireo/sbi_host.h>
#include "csr.h"

#define FINISHER_FAIL 0x3333
#define FINISHER_PASS 0x5555

#define SRST_TYPE_SHUTDOWN	0
#define SRST_REASON_NONE	0
#define SRST_REASON_SYSTEM_FAIL 1

static volatile uint32_t *finisher;

void power_init(uintptr_t finisher_base)
{
	finisher = (volatile uint32_t *)finisher_base;
}

void power_off(int status)
{
	status &= 0xffff;
	if (finisher) {
		*finisher = status ? ((uint32_t)status << 16) | FINISHER_FAIL : FINISHER_PASS;
		__asm__ volatile("fence" ::: "memory");
	}
	sbi_host_system_reset(SRST_TYPE_SHUTDOWN,
			      status ? SRST_REASON_SYSTEM_FAIL : SRST_REASON_NONE);
	for (;;)
		wfi();
}
