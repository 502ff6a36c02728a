/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest SDK of Vireo sandboxes: what a sandbox program includes.
 *
 * A sandbox program is a small freestanding RV64 program (no OS, no libc)
 * linked with the SDK's start-up code (crt0.S) and linker script
 * (sandbox.ld). It runs in a VM of its own under Vireo, which a host program
 * drives through libvireo (docs/sandbox.md):
 *
 *	#include <vireo_sandbox.h>
 *
 *	VSB_BUFFER(input, 4096);             // a buffer the host fills by name
 *
 *	VSB_EXPORT long checksum(long len)   // a function the host calls by name
 *	{
 *		long sum = 0;
 *		for (long i = 0; i < len; i++)
 *			sum += input[i];
 *		vsb_host_call("log", sum, 0, 0, 0);   // a function of the host's
 *		return sum;
 *	}
 *
 * At start the program zeroes its .bss, runs vsb_init() if it defines one,
 * and tells Vireo it is ready: that state (memory and registers) is the one
 * the host resets it to. A call then runs one exported function on the
 * program's own stack (64 KiB) and returns its result to the host. Every
 * call starts from the registers of that state; memory persists from call
 * to call unless the host resets the sandbox.
 *
 * What the program cannot do comes to the host's handler, never to a trap
 * handler of its own: a fault, an illegal instruction, an ebreak, running
 * past the call's time budget. The handler may fix things and continue the
 * call, restart it or abort it.
 *
 * Calls take and return integers (unsigned long / long): pointers are
 * guest-physical addresses (the program runs with translation off), and
 * data moves through buffers the host reads and writes by name and size.
 */
#ifndef VIREO_SANDBOX_GUEST_H
#define VIREO_SANDBOX_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define VSB_SDK_VERSION 1
/* The Vireo sandbox SBI extension, in the SBI firmware-specific EID space. */
#define VSB_SBI_EXT 0x0A49524FUL

/* A function the host may call by name: kept in the image even if nothing here calls it.
 * Up to 6 integer arguments; the result is a long. */
#define VSB_EXPORT __attribute__((used, noinline))

/* A zeroed buffer of `size` bytes the host reads and writes by name (its symbol); the
 * host checks every access against its size. */
#define VSB_BUFFER(name, size)                                                                     \
	unsigned char name[size] __attribute__((used, aligned(16), section(".bss.vsb." #name)))

struct vsb_result {
	long error; /* 0, or an SBI error: -2 no such extension (not in a sandbox), -3 a bad
		     * name, -5 a name outside RAM, -1 the host did not answer */
	long value; /* what the host function returned */
};

/* Call the host program's function `name` (1..64 bytes) with four arguments. A name the
 * host never registered is caught by its handler, which decides what happens. */
struct vsb_result vsb_host_call(const char *name, unsigned long a0, unsigned long a1,
				unsigned long a2, unsigned long a3);

/* Write to the VM's console (Vireo prints it tagged with the VM's name). */
void vsb_write(const void *bytes, size_t n);
void vsb_print(const char *s);
int vsb_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Optional: defined by the program, run once before the state is taken. */
void vsb_init(void);

/* A raw SBI call (a7 = eid, a6 = fid). */
struct vsb_result vsb_sbi(unsigned long eid, unsigned long fid, unsigned long a0, unsigned long a1,
			  unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);

/* What the compiler may call on its own, and a few helpers. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
