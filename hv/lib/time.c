// SPDX-License-Identifier: BSD-2-Clause
/* Timebase conversions; see vireo/time.h. */
#include <vireo/time.h>

static uint64_t timebase_hz = 10000000; /* QEMU virt's, until time_init says otherwise */

void time_init(uint64_t hz)
{
	if (hz)
		timebase_hz = hz;
}

uint64_t time_timebase_hz(void)
{
	return timebase_hz;
}

/* Split value into whole multiples of div and the rest, so no product overflows:
 * (q * div + r) * mul / div = q * mul + r * mul / div, with r * mul < 2^64. */
uint64_t time_scale_down(uint64_t value, uint64_t mul, uint64_t div)
{
	return value / div * mul + value % div * mul / div;
}

uint64_t time_scale_up(uint64_t value, uint64_t mul, uint64_t div)
{
	uint64_t rest = value % div * mul;

	return value / div * mul + rest / div + (rest % div != 0);
}

uint64_t time_us_to_ticks(uint64_t us)
{
	return time_scale_up(us, timebase_hz, TIME_US_PER_S);
}

uint64_t time_ticks_to_ns(uint64_t ticks)
{
	return time_scale_down(ticks, TIME_NS_PER_S, timebase_hz);
}
