// SPDX-License-Identifier: BSD-2-Clause
/* The host's Goldfish RTC, read once at boot to anchor the wall clock to the time counter. */
#include <vireo/hart.h>
#include <vireo/host_rtc.h>
#include <vireo/log.h>
#include <vireo/wallclock.h>

#define GOLDFISH_TIME_LOW  0x00 /* reading it latches TIME_HIGH */
#define GOLDFISH_TIME_HIGH 0x04

static struct wallclock host_clock;
static bool rtc_present;

static uint32_t read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

/* One consistent 64-bit reading, paired with the counter halfway through it. */
static void anchor(uintptr_t base)
{
	uint64_t before = hart_time();
	uint64_t low = read32(base + GOLDFISH_TIME_LOW);
	uint64_t high = read32(base + GOLDFISH_TIME_HIGH);
	uint64_t after = hart_time();

	host_clock.base_ns = high << 32 | low;
	host_clock.base_ticks = before + (after - before) / 2;
}

void host_rtc_init(const struct platform_mmio *rtc, uint64_t timebase_hz)
{
	struct wallclock_date d;

	host_clock.hz = timebase_hz;
	host_clock.base_ticks = hart_time();
	host_clock.base_ns = 0;
	if (rtc->present)
		anchor(rtc->base);
	rtc_present = rtc->present && host_clock.base_ns != 0;
	if (!rtc_present) {
		log_info("no real-time clock on this machine: guests' clocks start at 1970");
		return;
	}
	wallclock_date(host_clock.base_ns, &d);
	log_info("wall clock %04u-%02u-%02u %02u:%02u:%02u UTC (RTC at %#lx)", d.year, d.month,
		 d.day, d.hour, d.min, d.sec, (unsigned long)rtc->base);
}

bool host_rtc_present(void)
{
	return rtc_present;
}

uint64_t host_rtc_now_ns(void)
{
	return wallclock_ns(&host_clock, hart_time());
}

uint64_t host_rtc_ticks_at(uint64_t ns)
{
	return wallclock_ticks(&host_clock, ns);
}
