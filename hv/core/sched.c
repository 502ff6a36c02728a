// SPDX-License-Identifier: BSD-2-Clause
/* The per-hart loop. */
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/panic.h>
#include <vireo/power.h>
#include <vireo/vireo.h>
#include "csr.h"

unsigned vireo_online_harts(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < hart_count(); i++)
		n += hart_by_index(i)->online;
	return n;
}

void vireo_start_vms(void)
{
	log_info("no VMs to run (no boot bundle); powering off");
	power_off(0);
}

void vireo_hart_loop(void)
{
	for (;;) {
		unsigned long req = hart_take_requests();
		if (req & HART_REQ_HALT)
			hart_halt();
		wfi();
		csr_clear(sip, MIP_SSIP);
	}
}
