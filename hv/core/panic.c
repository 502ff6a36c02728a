// SPDX-License-Identifier: BSD-2-Clause
/* panic(): the reason, the hart, every register; then every hart stops. */
#include <vireo/console.h>
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/panic.h>
#include <vireo/power.h>
#include <vireo/printf.h>
#include <vireo/spinlock.h>
#include <vireo/trap.h>

void trap_capture_registers(struct trap_frame *frame);

#define PANIC_REASON_MAX 200

static uint32_t panicking;

bool panic_in_progress(void)
{
	return __atomic_load_n(&panicking, __ATOMIC_RELAXED) != 0;
}

static void stop_other_harts(void)
{
	struct hart *self = this_hart();

	for (unsigned i = 0; i < hart_count(); i++) {
		struct hart *h = hart_by_index(i);
		if (h != self && h->online)
			hart_request(h, HART_REQ_HALT);
	}
}

static NORETURN void panic_finish(const struct trap_frame *frame, const char *reason)
{
	struct hart *h = this_hart();

	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST)) {
		/* Another hart is already panicking: let it report; just stop. */
		hart_halt();
	}
	console_go_lockless();
	printk("\nvireo: PANIC on hart %lu: %s\n", h ? h->hartid : 0UL, reason);
	printk("vireo: registers:\n");
	trap_dump_frame(frame);
	if (cpu_features.h) {
		printk("vireo: hypervisor CSRs:\n");
		trap_dump_csrs();
	}
	if (h)
		stop_other_harts();
	printk("vireo: system halted\n");
	power_off(POWER_STATUS_PANIC);
}

void panic(const char *fmt, ...)
{
	struct trap_frame frame;
	char reason[PANIC_REASON_MAX];
	va_list ap;

	trap_capture_registers(&frame);
	va_start(ap, fmt);
	vireo_vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	panic_finish(&frame, reason);
}

void spin_assert_failed(const spinlock_t *lock, const char *file, int line)
{
	panic("lock %p is not held by this hart at %s:%d (holder %#lx)", (const void *)lock, file,
	      line, (unsigned long)lock->owner);
}

void panic_with_frame(const struct trap_frame *frame, const char *fmt, ...)
{
	char reason[PANIC_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vireo_vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	panic_finish(frame, reason);
}
