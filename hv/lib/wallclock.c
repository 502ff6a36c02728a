// SPDX-License-Identifier: BSD-2-Clause
/*
 * Counter ticks <-> wall-clock ns with the timebase arithmetic of time.h (no
 * 128-bit division: the hypervisor links no libgcc), saturating where a
 * result would not fit in 64 bits.
 */
#include <vireo/time.h>
#include <vireo/wallclock.h>

#define NS WALLCLOCK_NS_PER_SEC

/* ticks -> ns, rounded down, saturating. */
static uint64_t ticks_to_ns(uint64_t ticks, uint64_t hz)
{
	if (ticks / hz >= UINT64_MAX / NS)
		return UINT64_MAX;
	return time_scale_down(ticks, NS, hz);
}

/* ns -> ticks, rounded up (a deadline must never come early), saturating. */
static uint64_t ns_to_ticks(uint64_t ns, uint64_t hz)
{
	if (ns / NS >= UINT64_MAX / hz - 1)
		return UINT64_MAX;
	return time_scale_up(ns, hz, NS);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static uint64_t sub_floor(uint64_t a, uint64_t b)
{
	return b > a ? 0 : a - b;
}

uint64_t wallclock_ns(const struct wallclock *w, uint64_t ticks)
{
	if (ticks >= w->base_ticks)
		return add_sat(w->base_ns, ticks_to_ns(ticks - w->base_ticks, w->hz));
	return sub_floor(w->base_ns, ticks_to_ns(w->base_ticks - ticks, w->hz));
}

uint64_t wallclock_ticks(const struct wallclock *w, uint64_t ns)
{
	if (ns >= w->base_ns)
		return add_sat(w->base_ticks, ns_to_ticks(ns - w->base_ns, w->hz));
	return sub_floor(w->base_ticks, ns_to_ticks(w->base_ns - ns, w->hz));
}

/* Days since 1970-01-01 to a proleptic Gregorian date (eras of 400 years from 0000-03-01). */
static void civil_from_days(uint64_t days, struct wallclock_date *d)
{
	uint64_t z = days + 719468; /* days from 0000-03-01 to 1970-01-01 */
	uint64_t era = z / 146097, doe = z % 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153; /* month from March = 0 */

	d->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	d->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	d->year = (unsigned)(yoe + era * 400 + (d->month <= 2));
}

void wallclock_date(uint64_t ns, struct wallclock_date *d)
{
	uint64_t secs = ns / NS, sod = secs % 86400;

	civil_from_days(secs / 86400, d);
	d->hour = (unsigned)(sod / 3600);
	d->min = (unsigned)(sod / 60 % 60);
	d->sec = (unsigned)(sod % 60);
}
