// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the Goldfish RTC model (hv/vdev/goldfish_rtc.c) on a fake
 * host clock: the time registers and their latch, offsets (configured and
 * set by the guest, per instance), the alarm and its interrupt line, and
 * accesses a driver would never make.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/mmio_bus.h>
#include <vireo/vrtc.h>

#define SEC   VRTC_NS_PER_SEC
#define T0    (1700000000ULL * SEC + 123456789ULL) /* a host time in 2023 */
#define LINE  11
#define NEVER VRTC_NEVER

static uint64_t fake_now;

struct line_log {
	bool level;
	unsigned raises, lowers;
};

struct alarm_log {
	uint64_t last;
	unsigned calls;
};

static uint64_t now_ns(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static void alarm_due(void *ctx, uint64_t host_ns)
{
	struct alarm_log *a = ctx;

	a->last = host_ns;
	a->calls++;
}

static void set_level(void *controller, unsigned source, bool level)
{
	struct line_log *l = controller;

	assert_int_equal(source, LINE);
	if (level && !l->level)
		l->raises++;
	if (!level && l->level)
		l->lowers++;
	l->level = level;
}

struct fixture {
	struct vrtc rtc;
	struct line_log line;
	struct alarm_log alarm;
};

static void setup_rtc(struct fixture *f, int64_t offset)
{
	struct vrtc_clock clock = {now_ns, alarm_due, &f->alarm};
	struct irq_line irq = {set_level, &f->line, LINE};

	memset(f, 0, sizeof(*f));
	vrtc_init(&f->rtc, &clock, offset, &irq);
}

static uint32_t rd(struct fixture *f, uint64_t reg)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(vrtc_mmio_ops.read(&f->rtc, reg, 4, &v), 0);
	assert_true(v <= UINT32_MAX);
	return (uint32_t)v;
}

static void wr(struct fixture *f, uint64_t reg, uint32_t value)
{
	assert_int_equal(vrtc_mmio_ops.write(&f->rtc, reg, 4, value), 0);
}

/* As rtc-goldfish reads the time: LOW, then HIGH. */
static uint64_t read_time(struct fixture *f)
{
	uint64_t low = rd(f, VRTC_TIME_LOW);

	return (uint64_t)rd(f, VRTC_TIME_HIGH) << 32 | low;
}

/* As rtc-goldfish sets it: HIGH, then LOW. */
static void set_time(struct fixture *f, uint64_t ns)
{
	wr(f, VRTC_TIME_HIGH, (uint32_t)(ns >> 32));
	wr(f, VRTC_TIME_LOW, (uint32_t)ns);
}

static void set_alarm(struct fixture *f, uint64_t ns)
{
	wr(f, VRTC_ALARM_HIGH, (uint32_t)(ns >> 32));
	wr(f, VRTC_ALARM_LOW, (uint32_t)ns);
}

/* ---------------------------------------------------------------- time */

static void test_time_is_the_host_clock(void **state)
{
	struct fixture f;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, 0);
	assert_int_equal(read_time(&f), T0);
	fake_now += 5 * SEC + 7;
	assert_int_equal(read_time(&f), T0 + 5 * SEC + 7);
	assert_int_equal(vrtc_now(&f.rtc), T0 + 5 * SEC + 7);
	assert_int_equal(vrtc_offset(&f.rtc), 0);
}

/* TIME_HIGH is the high half of the time of the last TIME_LOW read, not of now. */
static void test_time_high_is_latched_by_time_low(void **state)
{
	struct fixture f;
	uint64_t before = 0x12ffffff00ULL; /* just below a carry into the high half */

	(void)state;
	fake_now = before;
	setup_rtc(&f, 0);
	assert_int_equal(rd(&f, VRTC_TIME_HIGH), 0); /* nothing latched yet */
	assert_int_equal(rd(&f, VRTC_TIME_LOW), (uint32_t)before);
	fake_now = 0x1300000010ULL; /* the high half has moved on */
	assert_int_equal(rd(&f, VRTC_TIME_HIGH), 0x12);
	assert_int_equal(rd(&f, VRTC_TIME_HIGH), 0x12); /* reading it does not relatch */
	assert_int_equal(rd(&f, VRTC_TIME_LOW), 0x10);
	assert_int_equal(rd(&f, VRTC_TIME_HIGH), 0x13);
}

static void test_configured_offset(void **state)
{
	struct fixture f;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, -3600 * (int64_t)SEC);
	assert_int_equal(read_time(&f), T0 - 3600 * SEC);
	assert_int_equal(vrtc_offset(&f.rtc), -3600 * (int64_t)SEC);
}

/* A guest setting its clock moves its own offset; the clock then runs on from there. */
static void test_guest_sets_its_own_clock_only(void **state)
{
	struct fixture a, b;
	uint64_t y2k = 946684800ULL * SEC;

	(void)state;
	fake_now = T0;
	setup_rtc(&a, 0);
	setup_rtc(&b, 0);
	set_time(&a, y2k);
	assert_int_equal(read_time(&a), y2k);
	fake_now += 2 * SEC;
	assert_int_equal(read_time(&a), y2k + 2 * SEC);
	assert_int_equal(vrtc_offset(&a.rtc), (int64_t)(y2k - T0));
	/* The other VM's clock is the host's. */
	assert_int_equal(read_time(&b), fake_now);
	assert_int_equal(vrtc_offset(&b.rtc), 0);
}

/* Each half written alone replaces only that half of the current time. */
static void test_time_halves_written_alone(void **state)
{
	struct fixture f;

	(void)state;
	fake_now = 0x0000000500000100ULL;
	setup_rtc(&f, 0);
	wr(&f, VRTC_TIME_LOW, 0x80000000);
	assert_int_equal(read_time(&f), 0x0000000580000000ULL);
	wr(&f, VRTC_TIME_HIGH, 0x7);
	assert_int_equal(read_time(&f), 0x0000000780000000ULL);
}

/* ---------------------------------------------------------------- alarm */

static void test_alarm_fires_at_its_time_and_raises_the_line(void **state)
{
	struct fixture f;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, 0);
	set_alarm(&f, T0 + SEC);
	wr(&f, VRTC_IRQ_ENABLED, 1);
	assert_int_equal(f.alarm.last, T0 + SEC); /* the owner's timer is aimed at it */
	assert_int_equal(rd(&f, VRTC_ALARM_STATUS), 1);
	assert_int_equal(rd(&f, VRTC_ALARM_LOW), (uint32_t)(T0 + SEC));
	assert_int_equal(rd(&f, VRTC_ALARM_HIGH), (uint32_t)((T0 + SEC) >> 32));
	assert_int_equal(rd(&f, VRTC_IRQ_ENABLED), 1);

	fake_now = T0 + SEC - 1;
	assert_int_equal(vrtc_alarm_check(&f.rtc), T0 + SEC);
	assert_false(f.line.level);
	fake_now = T0 + SEC;
	assert_int_equal(vrtc_alarm_check(&f.rtc), NEVER);
	assert_true(f.line.level);
	assert_int_equal(f.line.raises, 1);
	assert_int_equal(rd(&f, VRTC_ALARM_STATUS), 0);
	/* It fires once. */
	fake_now += SEC;
	assert_int_equal(vrtc_alarm_check(&f.rtc), NEVER);
	assert_int_equal(f.line.raises, 1);
	/* The driver's interrupt handler acknowledges it. */
	wr(&f, VRTC_CLEAR_INTERRUPT, 1);
	assert_false(f.line.level);
	assert_int_equal(f.line.lowers, 1);
}

static void test_alarm_in_the_past_fires_at_once(void **state)
{
	struct fixture f;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, 0);
	set_alarm(&f, T0 - SEC);
	/* Fired, but interrupts are off: no line until they are enabled. */
	assert_int_equal(rd(&f, VRTC_ALARM_STATUS), 0);
	assert_false(f.line.level);
	wr(&f, VRTC_IRQ_ENABLED, 1);
	assert_true(f.line.level);
	wr(&f, VRTC_IRQ_ENABLED, 0);
	assert_false(f.line.level);
	wr(&f, VRTC_IRQ_ENABLED, 1);
	wr(&f, VRTC_CLEAR_INTERRUPT, 1);
	assert_false(f.line.level);
	assert_int_equal(f.line.raises, 2);
}

static void test_clear_alarm_disarms(void **state)
{
	struct fixture f;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, 0);
	wr(&f, VRTC_IRQ_ENABLED, 1);
	set_alarm(&f, T0 + SEC);
	wr(&f, VRTC_CLEAR_ALARM, 1);
	assert_int_equal(rd(&f, VRTC_ALARM_STATUS), 0);
	fake_now = T0 + 2 * SEC;
	assert_int_equal(vrtc_alarm_check(&f.rtc), NEVER);
	assert_int_equal(f.line.raises, 0);
}

/* Until ALARM_LOW is written, a new ALARM_HIGH does not move an armed alarm. */
static void test_alarm_high_alone_does_not_move_the_alarm(void **state)
{
	struct fixture f;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, 0);
	wr(&f, VRTC_IRQ_ENABLED, 1);
	set_alarm(&f, T0 + 10 * SEC);
	wr(&f, VRTC_ALARM_HIGH, 0); /* would be long past if it counted */
	assert_int_equal(rd(&f, VRTC_ALARM_STATUS), 1);
	assert_int_equal(rd(&f, VRTC_ALARM_HIGH), 0);
	assert_false(f.line.level);
	fake_now = T0 + 10 * SEC;
	vrtc_alarm_check(&f.rtc);
	assert_true(f.line.level);
}

/* The alarm is in guest time; the owner's timer gets host time. */
static void test_alarm_deadline_respects_the_offset(void **state)
{
	struct fixture f;
	int64_t offset = -3600 * (int64_t)SEC;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, offset);
	set_alarm(&f, T0 - 3600 * SEC + 2 * SEC);
	assert_int_equal(f.alarm.last, T0 + 2 * SEC);
	/* The guest moves its clock 1 s ahead: the alarm comes 1 s sooner. */
	set_time(&f, read_time(&f) + SEC);
	assert_int_equal(f.alarm.last, T0 + SEC);
}

/* A due alarm is seen by a guest that polls, even if the owner's timer has not run. */
static void test_due_alarm_fires_on_a_read(void **state)
{
	struct fixture f;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, 0);
	wr(&f, VRTC_IRQ_ENABLED, 1);
	set_alarm(&f, T0 + SEC);
	fake_now = T0 + SEC;
	assert_int_equal(rd(&f, VRTC_ALARM_STATUS), 0);
	assert_true(f.line.level);
}

/* An alarm far in the guest's future near the end of time must not wrap to "now". */
static void test_alarm_near_the_end_of_time(void **state)
{
	struct fixture f;

	(void)state;
	fake_now = UINT64_MAX - SEC;
	setup_rtc(&f, 0);
	set_alarm(&f, UINT64_MAX);
	assert_int_equal(rd(&f, VRTC_ALARM_STATUS), 1);
	assert_int_equal(f.alarm.last, NEVER); /* beyond the host clock's last ns */
	set_alarm(&f, UINT64_MAX - 1);
	assert_int_equal(f.alarm.last, UINT64_MAX - 1);
	/* A guest clock set to 0 with the host near the end: its alarm is still ahead. */
	fake_now = T0;
	setup_rtc(&f, 0);
	set_time(&f, 0);
	set_alarm(&f, 5 * SEC);
	assert_int_equal(f.alarm.last, T0 + 5 * SEC);
}

/* ---------------------------------------------------------------- bad accesses */

static void test_other_widths_and_offsets_read_zero_and_change_nothing(void **state)
{
	static const unsigned widths[] = {1, 2, 8};
	struct fixture f;
	uint64_t v;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, 0);
	wr(&f, VRTC_IRQ_ENABLED, 1);
	for (unsigned i = 0; i < 3; i++) {
		v = 1;
		assert_int_equal(vrtc_mmio_ops.read(&f.rtc, VRTC_TIME_LOW, widths[i], &v), 0);
		assert_int_equal(v, 0);
		assert_int_equal(vrtc_mmio_ops.write(&f.rtc, VRTC_TIME_LOW, widths[i], 0), 0);
		assert_int_equal(vrtc_mmio_ops.write(&f.rtc, VRTC_ALARM_LOW, widths[i], 0), 0);
		assert_int_equal(vrtc_mmio_ops.write(&f.rtc, VRTC_IRQ_ENABLED, widths[i], 0), 0);
	}
	/* Misaligned, unassigned, and write-only or read-only registers. */
	assert_int_equal(vrtc_mmio_ops.write(&f.rtc, VRTC_TIME_LOW + 2, 4, 0), 0);
	assert_int_equal(rd(&f, 0x20), 0);
	assert_int_equal(rd(&f, 0xffc), 0);
	wr(&f, 0x20, 0xffffffff);
	wr(&f, 0xffc, 0xffffffff);
	assert_int_equal(rd(&f, VRTC_CLEAR_ALARM), 0);
	assert_int_equal(rd(&f, VRTC_CLEAR_INTERRUPT), 0);
	wr(&f, VRTC_ALARM_STATUS, 1);
	assert_int_equal(rd(&f, VRTC_ALARM_STATUS), 0);
	/* Nothing moved. */
	assert_int_equal(read_time(&f), T0);
	assert_int_equal(rd(&f, VRTC_IRQ_ENABLED), 1);
	assert_int_equal(f.line.raises, 0);
}

static void test_through_the_mmio_bus(void **state)
{
	struct fixture f;
	struct mmio_bus bus;
	uint64_t lo, hi;

	(void)state;
	fake_now = T0;
	setup_rtc(&f, 0);
	mmio_bus_init(&bus);
	assert_int_equal(mmio_bus_register(&bus, 0x101000, 0x1000, &vrtc_mmio_ops, &f.rtc, "rtc"),
			 0);
	assert_int_equal(mmio_bus_read(&bus, 0x101000 + VRTC_TIME_LOW, 4, &lo), 0);
	assert_int_equal(mmio_bus_read(&bus, 0x101000 + VRTC_TIME_HIGH, 4, &hi), 0);
	assert_int_equal(hi << 32 | lo, T0);
	assert_int_equal(mmio_bus_write(&bus, 0x101000 + VRTC_IRQ_ENABLED, 4, 1), 0);
	assert_int_equal(rd(&f, VRTC_IRQ_ENABLED), 1);
}

/* Without an irq_line or an alarm_due callback the model still works. */
static void test_no_line_no_timer(void **state)
{
	struct vrtc r;
	struct vrtc_clock clock = {now_ns, NULL, NULL};
	uint64_t v;

	(void)state;
	fake_now = T0;
	vrtc_init(&r, &clock, 0, NULL);
	assert_int_equal(vrtc_mmio_ops.write(&r, VRTC_IRQ_ENABLED, 4, 1), 0);
	assert_int_equal(vrtc_mmio_ops.write(&r, VRTC_ALARM_LOW, 4, 0), 0);
	assert_int_equal(vrtc_mmio_ops.read(&r, VRTC_ALARM_STATUS, 4, &v), 0);
	assert_int_equal(v, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_is_the_host_clock),
	    cmocka_unit_test(test_time_high_is_latched_by_time_low),
	    cmocka_unit_test(test_configured_offset),
	    cmocka_unit_test(test_guest_sets_its_own_clock_only),
	    cmocka_unit_test(test_time_halves_written_alone),
	    cmocka_unit_test(test_alarm_fires_at_its_time_and_raises_the_line),
	    cmocka_unit_test(test_alarm_in_the_past_fires_at_once),
	    cmocka_unit_test(test_clear_alarm_disarms),
	    cmocka_unit_test(test_alarm_high_alone_does_not_move_the_alarm),
	    cmocka_unit_test(test_alarm_deadline_respects_the_offset),
	    cmocka_unit_test(test_due_alarm_fires_on_a_read),
	    cmocka_unit_test(test_alarm_near_the_end_of_time),
	    cmocka_unit_test(test_other_widths_and_offsets_read_zero_and_change_nothing),
	    cmocka_unit_test(test_through_the_mmio_bus),
	    cmocka_unit_test(test_no_line_no_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
