/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How the toolbox asks init to stop the machine: a signal to PID 1, the same
 * convention as BusyBox's init, so either init understands either toolbox.
 */
#ifndef VIREO_INITCTL_H
#define VIREO_INITCTL_H

#include <signal.h>

#define INITCTL_HALT	 SIGUSR1
#define INITCTL_POWEROFF SIGUSR2
#define INITCTL_REBOOT	 SIGTERM

#endif
