/* SPDX-License-Identifier: BSD-2-Clause */
/* Top-level glue between boot, the VMs and the per-hart loop. */
#ifndef VIREO_VIREO_H
#define VIREO_VIREO_H

#include <vireo/platform.h>

unsigned vireo_online_harts(void);
/* Create and start the VMs of the boot bundle (boot hart). */
void vireo_start_vms(const struct platform *plat);
/* Every hart ends up here: run vCPUs, or wait for work. Never returns. */
NORETURN void vireo_hart_loop(void);

#endif
