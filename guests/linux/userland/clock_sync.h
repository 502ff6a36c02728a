/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest's wall clock, set again from its RTC when it has drifted. A VM
 * made from a snapshot or forked from a template goes on with the clock it
 * had when it was saved (docs/snapshots.md): its CLOCK_MONOTONIC never jumps,
 * but its CLOCK_REALTIME lags by the time the snapshot waited. The RTC is the
 * host's wall clock (plus the VM's offset), so before a program runs the
 * agent puts CLOCK_REALTIME back where the RTC says, if they differ by
 * seconds.
 */
#ifndef VIREO_CLOCK_SYNC_H
#define VIREO_CLOCK_SYNC_H

/* Set CLOCK_REALTIME from /dev/rtc0 if they differ by 2 s or more. Returns the seconds
 * it moved the clock (0: left alone, or no RTC). */
long clock_sync_from_rtc(void);

#endif
