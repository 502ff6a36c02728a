// SPDX-License-Identifier: BSD-2-Clause
/* The agent's clock_sync_from_rtc() on the host: the unit test must never set the host's
 * wall clock (the real one reads /dev/rtc0 and calls clock_settime). */
#include "clock_sync.h"

long clock_sync_from_rtc(void)
{
	return 0;
}
