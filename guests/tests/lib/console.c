// SPDX-License-Identifier: BSD-2-Clause
/* Console output, test result lines and guest exit, on top of the shared formatter. */
#include "guest.h"
#include <vireo/printf.h>

/*
 * One lock keeps each printf's output together across harts. It records its
 * owner so that a hart faulting inside printf can still report the trap.
 */
static volatile unsigned long console_owner; /* hart id + 1, 0 when free */
static unsigned int console_depth;

static void console_lock(void)
{
	unsigned long me = current_hartid() + 1;
	unsigned long expected;

	if (console_owner == me) {
		console_depth++;
		return;
	}
	for (;;) {
		expected = 0;
		if (__atomic_compare_exchange_n(&console_owner, &expected, me, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		cpu_relax();
	}
	console_depth = 1;
}

static void console_unlock(void)
{
	if (--console_depth == 0)
		__atomic_store_n(&console_owner, 0, __ATOMIC_RELEASE);
}

static void console_sink(void *ctx, char c)
{
	(void)ctx;
	sbi_console_putchar(c);
}

/* One printf, one SBI call when it fits: fewer exits, and the line arrives whole. */
static char line_buf[256];

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	console_lock();
	n = vireo_vsnprintf(line_buf, sizeof(line_buf), fmt, ap);
	va_end(ap);
	if (n < (int)sizeof(line_buf) && sbi_console_write(line_buf, (size_t)n) == 0) {
		console_unlock();
		return n;
	}
	va_start(ap, fmt);
	n = vireo_vformat(console_sink, NULL, fmt, ap);
	va_end(ap);
	console_unlock();
	return n;
}

NORETURN void guest_exit(int status)
{
	printf("GUEST %s DONE status=%d\n", guest_name, status);
	sbi_shutdown(status);
}

static int failures;
static char why_buf[160];

const char *test_why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vireo_vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

void test_report(const char *name, const char *why)
{
	if (!why) {
		printf("TEST %s: PASS\n", name);
		return;
	}
	failures++;
	printf("TEST %s: FAIL %s\n", name, why);
}

bool test_run(const char *name, test_fn fn)
{
	const char *why = fn();

	test_report(name, why);
	return why == NULL;
}

int test_failures(void)
{
	return failures;
}
