// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of hv/lib/wallclock.c: conversions both ways, their ends, and civil dates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <vireo/wallclock.h>

#define SEC WALLCLOCK_NS_PER_SEC
#define T0  (1700000000ULL * SEC)

static void test_ns_from_ticks(void **state)
{
	struct wallclock w = {T0, 5000, 10000000}; /* QEMU virt: 10 MHz */

	(void)state;
	assert_int_equal(wallclock_ns(&w, 5000), T0);
	assert_int_equal(wallclock_ns(&w, 5001), T0 + 100);
	assert_int_equal(wallclock_ns(&w, 5000 + 10000000), T0 + SEC);
	assert_int_equal(wallclock_ns(&w, 5000 + 36000ULL * 10000000 + 3), T0 + 36000 * SEC + 300);
	/* Before the reading: earlier, never below 0. */
	assert_int_equal(wallclock_ns(&w, 4000), T0 - 100000);
	struct wallclock zero = {0, 5000, 10000000};
	assert_int_equal(wallclock_ns(&zero, 0), 0);
	/* Near the end of the counter: saturates instead of wrapping. */
	struct wallclock late = {UINT64_MAX - SEC, 0, 10000000};
	assert_int_equal(wallclock_ns(&late, UINT64_MAX), UINT64_MAX);
}

static void test_odd_frequencies(void **state)
{
	/* 1 Hz, 32768 Hz, 1 GHz and 4 GHz: exact on whole seconds, no overflow. */
	static const uint64_t hz[] = {1, 32768, 1000000000, 4000000000ULL};

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		struct wallclock w = {T0, 0, hz[i]};
		assert_int_equal(wallclock_ns(&w, hz[i] * 3600), T0 + 3600 * SEC);
		assert_int_equal(wallclock_ns(&w, hz[i] * 3600 + hz[i] / 2),
				 T0 + 3600 * SEC + (hz[i] / 2 ? SEC / 2 : 0));
		assert_int_equal(wallclock_ticks(&w, T0 + 3600 * SEC), hz[i] * 3600);
	}
}

/* A deadline in ticks is never early: converting back gives at least the ns asked for. */
static void test_ticks_round_up(void **state)
{
	struct wallclock w = {T0, 77, 10000000};

	(void)state;
	for (uint64_t ns = T0; ns < T0 + 1000; ns += 7) {
		uint64_t t = wallclock_ticks(&w, ns);
		assert_true(wallclock_ns(&w, t) >= ns);
		assert_true(t == 77 || wallclock_ns(&w, t - 1) < ns);
	}
	assert_int_equal(wallclock_ticks(&w, T0 + SEC), 77 + 10000000);
	/* Before the base and far after it: clamped. */
	assert_int_equal(wallclock_ticks(&w, 0), 0);
	uint64_t d = UINT64_MAX - T0;
	assert_int_equal(wallclock_ticks(&w, UINT64_MAX), 77 + d / 100 + (d % 100 != 0));
	struct wallclock fast = {0, 10, 4000000000ULL};
	assert_int_equal(wallclock_ticks(&fast, UINT64_MAX), UINT64_MAX);
}

static void expect_date(uint64_t secs, unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
			unsigned s)
{
	struct wallclock_date dt;

	wallclock_date(secs * SEC + 999999999, &dt);
	assert_int_equal(dt.year, y);
	assert_int_equal(dt.month, mo);
	assert_int_equal(dt.day, d);
	assert_int_equal(dt.hour, h);
	assert_int_equal(dt.min, mi);
	assert_int_equal(dt.sec, s);
}

static void test_dates(void **state)
{
	(void)state;
	expect_date(0, 1970, 1, 1, 0, 0, 0);
	expect_date(951782400, 2000, 2, 29, 0, 0, 0); /* a leap day of a century year */
	expect_date(1709208000, 2024, 2, 29, 12, 0, 0);
	expect_date(1700000000, 2023, 11, 14, 22, 13, 20);
	expect_date(4102444799ULL, 2099, 12, 31, 23, 59, 59);
	expect_date(18446744072ULL, 2554, 7, 21, 23, 34, 32); /* the last whole second in ns */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ns_from_ticks),
	    cmocka_unit_test(test_odd_frequencies),
	    cmocka_unit_test(test_ticks_round_up),
	    cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
