// SPDX-License-Identifier: BSD-2-Clause
/*
 * Device timers: a short unsorted list (one entry per VM with an RTC, at
 * most) under one lock. Walking it is cheaper than keeping it sorted.
 */
#include <vireo/devtimer.h>
#include <vireo/spinlock.h>

static spinlock_t timers_lock = SPINLOCK_INIT;
static struct devtimer *timers;
static uint64_t earliest = DEVTIMER_NEVER; /* read without the lock by devtimer_next */

/* Recompute the earliest deadline (lock held). */
static void update_earliest(void)
{
	uint64_t e = DEVTIMER_NEVER;

	spin_assert_held(&timers_lock);
	for (struct devtimer *t = timers; t; t = t->next)
		e = MIN(e, t->deadline);
	__atomic_store_n(&earliest, e, __ATOMIC_RELEASE);
}

void devtimer_init(struct devtimer *t, devtimer_fn expire)
{
	t->deadline = DEVTIMER_NEVER;
	t->expire = expire;
	t->next = NULL;
	t->linked = false;
}

bool devtimer_arm(struct devtimer *t, uint64_t deadline)
{
	bool moved;

	spin_lock(&timers_lock);
	if (!t->linked) {
		t->next = timers;
		timers = t;
		t->linked = true;
	}
	t->deadline = MIN(t->deadline, deadline);
	moved = t->deadline < earliest;
	if (moved)
		__atomic_store_n(&earliest, t->deadline, __ATOMIC_RELEASE);
	spin_unlock(&timers_lock);
	return moved;
}

void devtimer_remove(struct devtimer *t)
{
	spin_lock(&timers_lock);
	for (struct devtimer **link = &timers; *link; link = &(*link)->next) {
		if (*link == t) {
			*link = t->next;
			break;
		}
	}
	t->linked = false;
	t->deadline = DEVTIMER_NEVER;
	update_earliest();
	spin_unlock(&timers_lock);
}

uint64_t devtimer_next(void)
{
	return __atomic_load_n(&earliest, __ATOMIC_ACQUIRE);
}

void devtimer_expire(uint64_t now)
{
	if (devtimer_next() > now)
		return;
	spin_lock(&timers_lock);
	for (struct devtimer *t = timers; t; t = t->next)
		if (t->deadline <= now)
			t->deadline = t->expire(t, now);
	update_earliest();
	spin_unlock(&timers_lock);
}
