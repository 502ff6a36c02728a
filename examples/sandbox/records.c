// SPDX-License-Identifier: BSD-2-Clause
/*
 * A guest library with the bugs of a careless parser (examples/sandbox_fuzz.c
 * feeds it hostile input): parse() reads one record from `input` and trusts
 * it. A record is a kind byte, then its body:
 *
 *   'S' n bytes...    the sum of the n bytes (n is trusted: it may read past
 *                     the buffer, past RAM even)
 *   'P' u64 address   the long at that address (a pointer taken from input)
 *   'A' n             asserts n != 0 (a failed assert is an ebreak)
 *   'L' step          counts to 1000 by step (step 0 never ends)
 *   'C' u64 address   calls the function at that address
 *   'H' a             the host's "double" of a
 */
#include <vireo_sandbox.h>

VSB_BUFFER(input, 4096);

#define ASSERT(c)                                                                                  \
	do {                                                                                       \
		if (!(c))                                                                          \
			__asm__ volatile("ebreak");                                                \
	} while (0)

static unsigned long u64_at(const unsigned char *p)
{
	unsigned long v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static long sum(const unsigned char *p)
{
	long s = 0;

	for (unsigned long i = 0; i < u64_at(p); i++)
		s += p[8 + i];
	return s;
}

static long count(unsigned char step)
{
	long n = 0;

	for (unsigned i = 0; i != 1000; i += step)
		n++;
	return n;
}

VSB_EXPORT long parse(long len)
{
	const unsigned char *body = input + 1;

	if (len < 1)
		return -1;
	switch (input[0]) {
	case 'S':
		return sum(body);
	case 'P':
		return *(volatile long *)u64_at(body);
	case 'A':
		ASSERT(body[0] != 0);
		return body[0];
	case 'L':
		return count(body[0]);
	case 'C':
		return ((long (*)(void))u64_at(body))();
	case 'H':
		return vsb_host_call("double", body[0], 0, 0, 0).value;
	default:
		return -2;
	}
}
