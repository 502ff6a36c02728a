// SPDX-License-Identifier: BSD-2-Clause
/*
 * The sandbox test program (tests/integration/test_sandbox.py): one function
 * per behaviour the host checks, the plain ones and the ones that go wrong.
 */
#include <vireo_sandbox.h>

VSB_BUFFER(inbox, 8192);
VSB_BUFFER(pages, 16 * 4096);

static long counter;
static long initialised;

void vsb_init(void)
{
	initialised = 42;
}

VSB_EXPORT long add(long a, long b)
{
	return a + b;
}

VSB_EXPORT long six(long a, long b, long c, long d, long e, long f)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
}

VSB_EXPORT long was_initialised(void)
{
	return initialised;
}

/* Counts calls: memory persists from call to call until a reset. */
VSB_EXPORT long count(void)
{
	return ++counter;
}

/* The host's "mul" of a and b, plus one. */
VSB_EXPORT long mul_on_host(long a, long b)
{
	struct vsb_result r = vsb_host_call("mul", (unsigned long)a, (unsigned long)b, 0, 0);

	return r.error ? -1000 + r.error : r.value + 1;
}

/* A host function nobody registered: the host's handler decides. */
VSB_EXPORT long call_nobody(void)
{
	struct vsb_result r = vsb_host_call("nobody", 1, 2, 3, 4);

	return r.error ? r.error : r.value;
}

/* A name that is no string in RAM: the guest hears SBI_ERR_INVALID_ADDRESS itself. */
VSB_EXPORT long bad_name(void)
{
	return vsb_sbi(VSB_SBI_EXT, 2, 0x1000, 4, 0, 0, 0, 0).error;
}

/* Sum of the first len bytes of inbox. */
VSB_EXPORT long sum_inbox(long len)
{
	long s = 0;

	for (long i = 0; i < len && i < (long)sizeof(inbox); i++)
		s += inbox[i];
	return s;
}

/* Write `n` pages of `pages` (so a reset has n + a stack page or so to restore). */
VSB_EXPORT long dirty(long n, long value)
{
	for (long i = 0; i < n && i < 16; i++)
		pages[i * 4096] = (unsigned char)value;
	return pages[0];
}

/* Read `where` (an address nothing maps, unless the host maps it when caught). */
VSB_EXPORT long load(unsigned long where)
{
	return *(volatile long *)where;
}

/* Store value at where, then read it back. */
VSB_EXPORT long store(unsigned long where, long value)
{
	*(volatile long *)where = value;
	return *(volatile long *)where;
}

/* 16 bytes of illegal instruction (0: the all-zero encoding is defined illegal). */
VSB_EXPORT long illegal(void)
{
	__asm__ volatile(".4byte 0" ::: "memory");
	return 7;
}

/* An ebreak, then a value: the host continues past it. */
VSB_EXPORT long breakpoint(long a)
{
	__asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
	return a * 3;
}

/* Spins forever: only a time budget ends it. */
VSB_EXPORT long spin(void)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
	return 0;
}

/* Waits in wfi forever (no interrupt will come): the budget ends that too. */
VSB_EXPORT long sleep_forever(void)
{
	for (;;)
		__asm__ volatile("wfi" ::: "memory");
	return 0;
}

/* A host call in between two halves of a budget. */
VSB_EXPORT long spin_then_call(long loops)
{
	for (volatile long i = 0; i < loops; i++)
		;
	return vsb_host_call("mul", 2, 3, 0, 0).value;
}

/* Prints a line through the console. */
VSB_EXPORT long hello(long n)
{
	vsb_printf("sbtest: hello %ld\n", n);
	return n;
}

/* Jumps to an address nothing maps. */
VSB_EXPORT long jump(unsigned long where)
{
	return ((long (*)(void))where)();
}

/* Returns its own stack pointer: calls start from the same registers. */
VSB_EXPORT long stack_pointer(void)
{
	unsigned long sp;

	__asm__ volatile("mv %0, sp" : "=r"(sp));
	return (long)sp;
}

/* Powers its VM off (SBI system reset, shutdown): the host's call hears the VM end. */
VSB_EXPORT long power_off(void)
{
	return vsb_sbi(0x53525354, 0, 0, 0, 0, 0, 0, 0).error;
}
