// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the timebase conversions (hv/lib/time.c) at the rates real
 * boards use: 32768 Hz, 1 MHz, 10 MHz (QEMU virt), 24 MHz. The old
 * `hz / 1000000 * us` was 0 below 1 MHz, so slices and console deadlines
 * were "now" on such boards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <vireo/time.h>

static void test_us_to_ticks(void **state)
{
	static const struct {
		uint64_t hz, us, ticks;
	} cases[] = {
	    {32768, 10000, 328}, /* 327.68 rounds up */
	    {32768, 20000, 656}, /* 655.36 */
	    {32768, 1, 1},	 /* never 0 for a real wait */
	    {32768, 0, 0},
	    {32768, 1000000, 32768},
	    {1000000, 10000, 10000},
	    {1000000, 1, 1},
	    {10000000, 10000, 100000},
	    {10000000, 20000, 200000},
	    {24000000, 10000, 240000},
	    {24000000, 1, 24},
	    {24000000, 3600ULL * 1000000, 86400000000ULL}, /* an hour: no overflow */
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_init(cases[i].hz);
		assert_int_equal(time_timebase_hz(), cases[i].hz);
		assert_int_equal(time_us_to_ticks(cases[i].us), cases[i].ticks);
	}
}

static void test_ticks_to_ns(void **state)
{
	(void)state;
	time_init(32768);
	assert_int_equal(time_ticks_to_ns(32768), 1000000000ULL);
	assert_int_equal(time_ticks_to_ns(1), 30517); /* 30517.578125 rounds down */
	time_init(10000000);
	assert_int_equal(time_ticks_to_ns(1), 100);
	/* A year of ticks at 24 MHz: the product would overflow a naive multiply. */
	time_init(24000000);
	assert_int_equal(time_ticks_to_ns(24000000ULL * 86400 * 365), 86400ULL * 365 * 1000000000);
	/* 0 Hz is ignored (a broken device tree must not cause a division by zero). */
	time_init(0);
	assert_int_equal(time_timebase_hz(), 24000000);
}

static void test_scale(void **state)
{
	(void)state;
	assert_int_equal(time_scale_up(7, 1, 2), 4);
	assert_int_equal(time_scale_down(7, 1, 2), 3);
	assert_int_equal(time_scale_up(6, 1, 2), 3);
	assert_int_equal(time_scale_up(UINT64_MAX / 4, 4, 4), UINT64_MAX / 4);
	assert_int_equal(time_scale_down(UINT64_MAX, 1, 1), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_us_to_ticks),
	    cmocka_unit_test(test_ticks_to_ns),
	    cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
