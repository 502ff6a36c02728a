/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timers for virtual devices (an RTC alarm): a deadline on the harts' time
 * counter and a function to call when it passes. The scheduler folds the
 * earliest deadline into every hart's timer and expires due timers when a
 * timer interrupt comes; whichever hart gets there first runs the callback.
 *
 * Arming only ever brings a deadline closer ("fire no later than"); the
 * callback returns the next deadline itself, so a spurious early call costs
 * nothing and two racing arms can never push a real deadline back.
 *
 * Callbacks run with the timer list's lock held: after devtimer_remove
 * returns, the callback is not running and never will again, so the owner
 * may free the timer. A callback must not arm or remove timers.
 */
#ifndef VIREO_DEVTIMER_H
#define VIREO_DEVTIMER_H

#include <vireo/types.h>

#define DEVTIMER_NEVER UINT64_MAX

struct devtimer;
/* Called at or after the deadline with the counter's value; returns the next
 * deadline (DEVTIMER_NEVER: none). */
typedef uint64_t (*devtimer_fn)(struct devtimer *t, uint64_t now);

struct devtimer {
	uint64_t deadline; /* time counter; DEVTIMER_NEVER when idle */
	devtimer_fn expire;
	struct devtimer *next;
	bool linked;
};

void devtimer_init(struct devtimer *t, devtimer_fn expire);
/* Make the timer fire no later than deadline. Returns true if that moved the
 * earliest deadline of all timers (the caller's hart should reprogram its timer). */
bool devtimer_arm(struct devtimer *t, uint64_t deadline);
void devtimer_remove(struct devtimer *t);
/* The earliest deadline of all timers (lock-free read, for the scheduler). */
uint64_t devtimer_next(void);
/* Run the callbacks of every timer due at now. */
void devtimer_expire(uint64_t now);

#endif
