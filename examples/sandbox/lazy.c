// SPDX-License-Identifier: BSD-2-Clause
/*
 * A guest that uses memory it was never given (examples/lazy_pages.py): a
 * heap at HEAP, which is not its RAM. Every first touch of a page there is
 * caught; the host maps the page and continues the program at the very
 * store that faulted.
 */
#include <vireo_sandbox.h>

#define HEAP 0x40000000UL
#define PAGE 4096UL

/* Writes i to the first word of heap page i, for i < pages, and sums them back. */
VSB_EXPORT long touch(long pages)
{
	long sum = 0;

	for (long i = 0; i < pages; i++)
		*(volatile long *)(HEAP + (unsigned long)i * PAGE) = i;
	for (long i = 0; i < pages; i++)
		sum += *(volatile long *)(HEAP + (unsigned long)i * PAGE);
	return sum;
}
