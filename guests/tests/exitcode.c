// SPDX-License-Identifier: BSD-2-Clause
/*
 * Exits with the status its bootargs ask for ("status=N"), so a test can
 * check that a guest's SRST reason becomes the VM's and the run's exit status.
 */
#include "fdt_chosen.h"
#include "guest.h"

const char guest_name[] = "exitcode";

static int requested_status(const char *args)
{
	const char *p = args ? strstr(args, "status=") : NULL;
	int n = 0;

	if (!p)
		return 0;
	for (p += 7; *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (*p - '0');
	return n;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	const char *args = fdt_bootargs(dtb);
	int status = requested_status(args);

	(void)hartid;
	printf("exitcode: bootargs \"%s\", exiting with status %d\n", args ? args : "", status);
	return status;
}
