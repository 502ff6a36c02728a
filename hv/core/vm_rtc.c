// SPDX-License-Identifier: BSD-2-Clause
/* A VM's real-time clock: the Goldfish model wired to the host clock, a timer and the PLIC. */
#include <vireo/devtimer.h>
#include <vireo/hart.h>
#include <vireo/host_rtc.h>
#include <vireo/mm.h>
#include <vireo/sched.h>
#include <vireo/vm.h>
#include <vireo/vm_layout.h>
#include <vireo/vm_rtc.h>
#include <vireo/vrtc.h>

struct vm_rtc {
	struct vrtc model;
	struct devtimer alarm;
};

static uint64_t clock_now(void *ctx)
{
	(void)ctx;
	return host_rtc_now_ns();
}

/* The model wants a wake-up at host_ns (wall clock): a timer on the time counter. */
static void alarm_due(void *ctx, uint64_t host_ns)
{
	struct vm_rtc *rtc = ctx;

	if (host_ns == VRTC_NEVER)
		return; /* an armed timer finds nothing to do and goes idle */
	if (!devtimer_arm(&rtc->alarm, host_rtc_ticks_at(host_ns)))
		return;
	/* This hart's timer must now come at least that early (an MMIO exit on the
	 * fast path sees this and goes back through the scheduler). */
	sched_timer_changed();
}

static uint64_t alarm_expired(struct devtimer *t, uint64_t now)
{
	struct vm_rtc *rtc = container_of(t, struct vm_rtc, alarm);
	uint64_t due = vrtc_alarm_check(&rtc->model);

	(void)now;
	return due == VRTC_NEVER ? DEVTIMER_NEVER : host_rtc_ticks_at(due);
}

int vm_rtc_create(struct vm *vm)
{
	struct vm_rtc *rtc = kzalloc(sizeof(*rtc));

	if (!rtc)
		return -VIREO_ENOMEM;
	struct vrtc_clock clock = {clock_now, alarm_due, rtc};
	struct irq_line irq = vm_irq_line(vm, VM_RTC_IRQ);
	vrtc_init(&rtc->model, &clock, vm->config.rtc_offset_ns, &irq);
	devtimer_init(&rtc->alarm, alarm_expired);
	vm->rtc = rtc;
	return mmio_bus_register(&vm->bus, VM_RTC_BASE, VM_RTC_SIZE, &vrtc_mmio_ops, &rtc->model,
				 "rtc");
}

void vm_rtc_destroy(struct vm *vm)
{
	if (!vm->rtc)
		return;
	devtimer_remove(&vm->rtc->alarm);
	kfree(vm->rtc);
	vm->rtc = NULL;
}

int64_t vm_rtc_offset_ns(struct vm *vm)
{
	return vm->rtc ? vrtc_offset(&vm->rtc->model) : vm->config.rtc_offset_ns;
}

void vm_rtc_save(struct vm *vm, struct snap_writer *w)
{
	vrtc_save(&vm->rtc->model, w);
}

int vm_rtc_load(struct vm *vm, struct snap_reader *r)
{
	return vrtc_load(&vm->rtc->model, r);
}
