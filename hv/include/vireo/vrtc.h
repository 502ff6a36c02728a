/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The real-time clock every VM gets: a register model of the Goldfish RTC
 * ("google,goldfish-rtc", as on QEMU's virt machine; Linux drives it with
 * drivers/rtc/rtc-goldfish.c). Pure logic, host-testable: time comes from a
 * callback, and the alarm asks its owner to be woken through another.
 *
 * The guest's time is the host's wall clock plus a per-VM offset (ns, modulo
 * 2^64). The offset starts at what the VM's configuration says and changes
 * only when this guest sets its clock: one VM's settimeofday never moves
 * another VM's clock.
 *
 * Registers (32 bits wide, little-endian; offsets from the device's base):
 *   TIME_LOW   R: low half of the time in ns; latches the high half for TIME_HIGH
 *              W: replaces the low half of the time
 *   TIME_HIGH  R: the high half latched by the last TIME_LOW read
 *              W: replaces the high half of the time
 *   ALARM_LOW  R/W: low half of the alarm time; writing it arms the alarm (an alarm
 *              time that has passed fires at once)
 *   ALARM_HIGH R/W: high half of the alarm time (write it first)
 *   IRQ_ENABLED       R/W: bit 0 lets a fired alarm raise the interrupt line
 *   CLEAR_ALARM       W: disarm the alarm
 *   ALARM_STATUS      R: 1 while the alarm is armed and has not fired
 *   CLEAR_INTERRUPT   W: acknowledge a fired alarm (the line drops)
 * Other offsets and widths other than an aligned 32-bit access read 0 and
 * ignore writes: a confused guest gets nothing, and the hypervisor goes on.
 *
 * Locking: each instance has a lock; every entry point takes it. The
 * interrupt line is driven with it held (lock order: RTC -> PLIC). The
 * alarm_due callback is called with it released, so its implementation may
 * take a timer lock under which it calls vrtc_alarm_check (timer -> RTC).
 */
#ifndef VIREO_VRTC_H
#define VIREO_VRTC_H

#include <vireo/irq_line.h>
#include <vireo/mmio_bus.h>
#include <vireo/spinlock.h>
#include <vireo/types.h>

#define VRTC_TIME_LOW	     0x00
#define VRTC_TIME_HIGH	     0x04
#define VRTC_ALARM_LOW	     0x08
#define VRTC_ALARM_HIGH	     0x0c
#define VRTC_IRQ_ENABLED     0x10
#define VRTC_CLEAR_ALARM     0x14
#define VRTC_ALARM_STATUS    0x18
#define VRTC_CLEAR_INTERRUPT 0x1c

#define VRTC_NS_PER_SEC 1000000000ULL
#define VRTC_NEVER	UINT64_MAX

struct vrtc_clock {
	/* The host's wall-clock time in ns since 1970 (UTC). */
	uint64_t (*now_ns)(void *ctx);
	/* Call vrtc_alarm_check no later than this host time (VRTC_NEVER: no alarm is
	 * armed). An early call is harmless; a later one delays the alarm. */
	void (*alarm_due)(void *ctx, uint64_t host_ns);
	void *ctx;
};

struct vrtc {
	spinlock_t lock;
	struct vrtc_clock clock;
	struct irq_line irq;
	uint64_t offset_ns; /* guest time = host time + offset, modulo 2^64 */
	uint64_t alarm_ns;  /* ALARM_HIGH:ALARM_LOW as written (guest time) */
	uint64_t alarm_at;  /* the armed alarm: alarm_ns when ALARM_LOW was written */
	uint32_t time_high; /* latched by the last TIME_LOW read */
	bool alarm_armed;
	bool irq_enabled;
	bool irq_pending; /* a fired alarm not yet cleared */
};

/* offset_ns is the configured difference to the host's clock (e.g. -3600 s in ns). */
void vrtc_init(struct vrtc *r, const struct vrtc_clock *clock, int64_t offset_ns,
	       const struct irq_line *irq);
/* The guest's time now, in ns. */
uint64_t vrtc_now(struct vrtc *r);
/* The current offset to the host clock: the configured one plus what the guest set. */
int64_t vrtc_offset(struct vrtc *r);
/* Fire the alarm if its time has come. Returns the host time at which it is due
 * (VRTC_NEVER when none is armed), for the caller's timer. */
uint64_t vrtc_alarm_check(struct vrtc *r);

struct snap_writer;
struct snap_reader;
/* Snapshots (vireo/vm_snapshot.h): the offset to the host's clock, the alarm, the
 * interrupt. Load re-arms the alarm through the clock's alarm_due. */
void vrtc_save(struct vrtc *r, struct snap_writer *w);
int vrtc_load(struct vrtc *r, struct snap_reader *r_in);
extern const struct mmio_ops vrtc_mmio_ops;

#endif
