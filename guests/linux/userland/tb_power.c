// SPDX-License-Identifier: BSD-2-Clause
/*
 * poweroff, reboot, halt [-f]. Normally they ask init (PID 1) to do it, so
 * that it can stop the other processes and sync first; -f calls reboot(2)
 * here and now.
 */
#include <signal.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "initctl.h"
#include "toolbox.h"

static int power(int argc, char **argv, int sig, int cmd)
{
	bool f[128];
	int i = tb_flags(argc, argv, "f", f);

	if (i < 0 || i != argc)
		return tb_error("usage: %s [-f]", tb_name);
	sync();
	if (f['f']) {
		reboot(cmd);
		return tb_perror("reboot");
	}
	if (kill(1, sig) != 0)
		return tb_perror("signalling init");
	return 0;
}

int tb_poweroff(int argc, char **argv)
{
	return power(argc, argv, INITCTL_POWEROFF, RB_POWER_OFF);
}

int tb_reboot(int argc, char **argv)
{
	return power(argc, argv, INITCTL_REBOOT, RB_AUTOBOOT);
}

int tb_halt(int argc, char **argv)
{
	return power(argc, argv, INITCTL_HALT, RB_HALT_SYSTEM);
}
