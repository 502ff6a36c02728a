// SPDX-License-Identifier: BSD-2-Clause
/* Setting the wall clock from the RTC; see clock_sync.h. */
#include <fcntl.h>
#include <linux/rtc.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "clock_sync.h"

#define DRIFT_S 2 /* the RTC counts whole seconds: less is its rounding */

long clock_sync_from_rtc(void)
{
	struct rtc_time rt;
	struct tm tm = {0};
	struct timespec now, set;
	time_t rtc;
	long drift;
	int fd = open("/dev/rtc0", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (ioctl(fd, RTC_RD_TIME, &rt) != 0) {
		close(fd);
		return 0;
	}
	close(fd);
	tm.tm_sec = rt.tm_sec;
	tm.tm_min = rt.tm_min;
	tm.tm_hour = rt.tm_hour;
	tm.tm_mday = rt.tm_mday;
	tm.tm_mon = rt.tm_mon;
	tm.tm_year = rt.tm_year;
	rtc = timegm(&tm);
	if (rtc == (time_t)-1 || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return 0;
	drift = (long)(rtc - now.tv_sec);
	if (drift > -DRIFT_S && drift < DRIFT_S)
		return 0;
	set = (struct timespec){.tv_sec = rtc, .tv_nsec = 0};
	return clock_settime(CLOCK_REALTIME, &set) == 0 ? drift : 0;
}
