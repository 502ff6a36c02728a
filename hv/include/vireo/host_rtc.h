/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host machine's wall clock. The host's real-time clock (QEMU virt's
 * Goldfish RTC) is read once at boot and paired with the harts' time counter;
 * after that "now" is counter arithmetic and the device is never touched
 * again, so any hart may ask at any moment without a lock. Without an RTC
 * the wall clock starts at 0 (1970-01-01) when Vireo boots.
 */
#ifndef VIREO_HOST_RTC_H
#define VIREO_HOST_RTC_H

#include <vireo/platform.h>
#include <vireo/types.h>

/* Boot hart, once, after the console is up (it logs what it found). */
void host_rtc_init(const struct platform_mmio *rtc, uint64_t timebase_hz);
/* True if the wall clock came from a real RTC. */
bool host_rtc_present(void);
/* Wall-clock ns since 1970 (UTC) now. */
uint64_t host_rtc_now_ns(void);
/* The time-counter value at which the wall clock reads ns (for timers). */
uint64_t host_rtc_ticks_at(uint64_t ns);

#endif
