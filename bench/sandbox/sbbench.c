// SPDX-License-Identifier: BSD-2-Clause
/*
 * The sandbox benchmarks' program (the host side drives it): functions
 * that do almost nothing, so that a round trip costs what Vireo and the host
 * make it cost.
 *
 * Under -icount, instret is the machine's clock: every instruction of every
 * hart in any mode, and the time the harts spend waiting for the host (QEMU
 * advances the clock while they sleep). work() is instret minus that waiting
 * (the sandbox extension's WAITED), so a difference of work() counts the
 * instructions executed between two points, wherever they ran: the guest,
 * Vireo, OpenSBI.
 */
#include <vireo_sandbox.h>

#define SBI_SANDBOX_HOSTCALL 2
#define SBI_SANDBOX_WAITED   3

VSB_BUFFER(pages, 64 * 4096);

/* One reading of the machine's work so far: the WAITED call first, then instret, so
 * that between two readings there is exactly one WAITED call. */
static inline unsigned long work(void)
{
	register unsigned long a0 __asm__("a0");
	register unsigned long a1 __asm__("a1");
	register unsigned long a6 __asm__("a6") = SBI_SANDBOX_WAITED;
	register unsigned long a7 __asm__("a7") = VSB_SBI_EXT;
	unsigned long i;

	__asm__ volatile("ecall\n"
			 "csrr %[i], instret"
			 : "=r"(a0), "=r"(a1), [i] "=r"(i)
			 : "r"(a6), "r"(a7)
			 : "memory");
	return i - a1;
}

VSB_EXPORT long nop(long a)
{
	return a;
}

/* The machine's work so far: the host takes differences (memory is no place to keep
 * the last one: a reset takes it back). */
VSB_EXPORT long mark(void)
{
	return (long)work();
}

/* Two readings in a row: what one WAITED call costs (to take out of a mark). */
VSB_EXPORT long waited_cost(void)
{
	unsigned long a = work();

	return (long)(work() - a);
}

/* n host calls of "nop": the work between the readings around them, per call, less a
 * WAITED call. */
VSB_EXPORT long hostcalls(long n)
{
	static const char name[] = "nop";
	unsigned long start = work();

	for (long i = 0; i < n; i++) {
		register unsigned long a0 __asm__("a0") = (unsigned long)name;
		register unsigned long a1 __asm__("a1") = sizeof(name) - 1;
		register unsigned long a6 __asm__("a6") = SBI_SANDBOX_HOSTCALL;
		register unsigned long a7 __asm__("a7") = VSB_SBI_EXT;

		__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
	}
	return n ? (long)((work() - start) / (unsigned long)n) : 0;
}

/* n breakpoints, each continued past by the host: the same, per breakpoint. */
VSB_EXPORT long breaks(long n)
{
	unsigned long start = work();

	for (long i = 0; i < n; i++)
		__asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
	return n ? (long)((work() - start) / (unsigned long)n) : 0;
}

/* Write one byte to each of n pages (at most 64): what a reset then restores. */
VSB_EXPORT long dirty(long n)
{
	for (long i = 0; i < n && i < 64; i++)
		pages[i * 4096] = 1;
	return n;
}
