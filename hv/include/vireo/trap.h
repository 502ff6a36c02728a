/* SPDX-License-Identifier: BSD-2-Clause */
/* Traps taken while the hypervisor itself runs (HS-mode, V=0). */
#ifndef VIREO_TRAP_H
#define VIREO_TRAP_H

#include <vireo/types.h>

/* Saved by the HS trap vector on the hart's stack: x1..x31 then CSRs. */
struct trap_frame {
	unsigned long regs[32]; /* regs[0] unused (x0) */
	unsigned long sepc;
	unsigned long sstatus;
	unsigned long scause;
	unsigned long stval;
};

void trap_init_hart(void);
void trap_dump_frame(const struct trap_frame *frame);
/* Dump the hypervisor CSRs of this hart (for panics and diagnostics). */
void trap_dump_csrs(void);

#endif
