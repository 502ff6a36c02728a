// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of hv/core/devtimer.c, the timers behind virtual devices' alarms. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <vireo/devtimer.h>

#define NEVER DEVTIMER_NEVER

struct fake {
	struct devtimer t; /* first: the callback gets &t */
	unsigned calls;
	uint64_t last_now;
	uint64_t next; /* what the callback returns */
};

static uint64_t expired(struct devtimer *t, uint64_t now)
{
	struct fake *f = (struct fake *)t;

	f->calls++;
	f->last_now = now;
	return f->next;
}

static void setup_fake(struct fake *f)
{
	devtimer_init(&f->t, expired);
	f->calls = 0;
	f->last_now = 0;
	f->next = NEVER;
}

static void test_idle_has_no_deadline(void **state)
{
	(void)state;
	assert_int_equal(devtimer_next(), NEVER);
	devtimer_expire(UINT64_MAX - 1); /* nothing to call */
}

static void test_arm_only_brings_the_deadline_closer(void **state)
{
	struct fake a;

	(void)state;
	setup_fake(&a);
	assert_true(devtimer_arm(&a.t, 1000));
	assert_int_equal(devtimer_next(), 1000);
	assert_false(devtimer_arm(&a.t, 2000)); /* later: ignored */
	assert_int_equal(devtimer_next(), 1000);
	assert_true(devtimer_arm(&a.t, 500));
	assert_int_equal(devtimer_next(), 500);
	devtimer_remove(&a.t);
	assert_int_equal(devtimer_next(), NEVER);
}

static void test_expiry_calls_due_timers_and_takes_their_next_deadline(void **state)
{
	struct fake a, b;

	(void)state;
	setup_fake(&a);
	setup_fake(&b);
	devtimer_arm(&a.t, 100);
	devtimer_arm(&b.t, 300);
	assert_int_equal(devtimer_next(), 100);
	devtimer_expire(99);
	assert_int_equal(a.calls + b.calls, 0);
	a.next = 400; /* the device wants another look at 400 */
	devtimer_expire(150);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.last_now, 150);
	assert_int_equal(b.calls, 0);
	assert_int_equal(devtimer_next(), 300);
	a.next = NEVER;
	devtimer_expire(400);
	assert_int_equal(a.calls, 2);
	assert_int_equal(b.calls, 1);
	assert_int_equal(devtimer_next(), NEVER);
	/* An idle timer can be armed again. */
	assert_true(devtimer_arm(&b.t, 700));
	assert_int_equal(devtimer_next(), 700);
	devtimer_remove(&a.t);
	devtimer_remove(&b.t);
	assert_int_equal(devtimer_next(), NEVER);
}

/* A removed timer is never called, and removing twice (or an unarmed one) is harmless. */
static void test_remove(void **state)
{
	struct fake a, b, c;

	(void)state;
	setup_fake(&a);
	setup_fake(&b);
	setup_fake(&c);
	devtimer_arm(&a.t, 10);
	devtimer_arm(&b.t, 20);
	devtimer_remove(&a.t);
	assert_int_equal(devtimer_next(), 20);
	devtimer_expire(1000);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	devtimer_remove(&a.t);
	devtimer_remove(&c.t);
	devtimer_remove(&b.t);
	assert_int_equal(devtimer_next(), NEVER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idle_has_no_deadline),
	    cmocka_unit_test(test_arm_only_brings_the_deadline_closer),
	    cmocka_unit_test(test_expiry_calls_due_timers_and_takes_their_next_deadline),
	    cmocka_unit_test(test_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
