/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ending the machine. On QEMU virt the "sifive,test0" finisher lets the exit
 * status reach QEMU's own exit code, so a VM's status can become the status
 * of the whole run; without it, SBI SRST is used (status is lost).
 */
#ifndef VIREO_POWER_H
#define VIREO_POWER_H

#include <vireo/types.h>

/* Exit status of QEMU when Vireo panics. */
#define POWER_STATUS_PANIC 125

void power_init(uintptr_t finisher_base);
NORETURN void power_off(int status);

#endif
