/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Wall-clock time from the harts' time counter: one reading of a real-time
 * clock (ns since 1970, UTC) paired with the counter value at that moment.
 * From then on "now" is counter arithmetic, and a wall-clock deadline can be
 * turned back into a counter value for a timer. Pure, host-testable.
 */
#ifndef VIREO_WALLCLOCK_H
#define VIREO_WALLCLOCK_H

#include <vireo/types.h>

#define WALLCLOCK_NS_PER_SEC 1000000000ULL

struct wallclock {
	uint64_t base_ns;    /* wall-clock time at base_ticks */
	uint64_t base_ticks; /* the time counter then */
	uint64_t hz;	     /* the counter's frequency (timebase); 1 Hz .. 4 GHz */
};

/* Wall-clock ns at this counter value (before base_ticks: earlier, down to 0). */
uint64_t wallclock_ns(const struct wallclock *w, uint64_t ticks);
/* The counter value at which the wall clock reads ns (saturating at both ends). */
uint64_t wallclock_ticks(const struct wallclock *w, uint64_t ns);

/* A civil UTC date and time, for log lines. */
struct wallclock_date {
	unsigned year, month, day, hour, min, sec;
};
void wallclock_date(uint64_t ns, struct wallclock_date *d);

#endif
