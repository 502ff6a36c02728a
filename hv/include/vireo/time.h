/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Time in Vireo is counted in ticks of the platform's timebase (the `time`
 * CSR; its rate is the device tree's timebase-frequency). Boards run it at
 * anything from 32768 Hz to tens of MHz, so conversions never divide the
 * rate first: 10 us at 32768 Hz is 1 tick, not 0. Durations round up, so a
 * wait is never shorter than asked. Pure: unit-tested on the host.
 */
#ifndef VIREO_TIME_H
#define VIREO_TIME_H

#include <vireo/types.h>

#define TIME_US_PER_S 1000000ULL
#define TIME_NS_PER_S 1000000000ULL

/* The timebase in Hz, set once at boot (before any conversion). */
void time_init(uint64_t timebase_hz);
uint64_t time_timebase_hz(void);

/* value * mul / div, rounded up, without overflowing for any value whose result
 * fits (mul and div at most 2^32). div must not be 0. */
uint64_t time_scale_up(uint64_t value, uint64_t mul, uint64_t div);
/* value * mul / div, rounded down (same limits). */
uint64_t time_scale_down(uint64_t value, uint64_t mul, uint64_t div);

/* Microseconds to timebase ticks (rounded up: at least 1 for any non-zero duration). */
uint64_t time_us_to_ticks(uint64_t us);
/* Timebase ticks to nanoseconds (rounded down). */
uint64_t time_ticks_to_ns(uint64_t ticks);

#endif
