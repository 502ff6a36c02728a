/* SPDX-License-Identifier: BSD-2-Clause */
/* Bit operations without libgcc (the hypervisor links none, and rv64imac has no Zbb). */
#ifndef VIREO_BITOPS_H
#define VIREO_BITOPS_H

#include <vireo/types.h>

/* The index of the lowest set bit of x, which must not be 0. */
static inline unsigned bit_lowest(uint64_t x)
{
	unsigned n = 0;

	if (!(x & 0xffffffffULL)) {
		n += 32;
		x >>= 32;
	}
	if (!(x & 0xffff)) {
		n += 16;
		x >>= 16;
	}
	if (!(x & 0xff)) {
		n += 8;
		x >>= 8;
	}
	if (!(x & 0xf)) {
		n += 4;
		x >>= 4;
	}
	if (!(x & 0x3)) {
		n += 2;
		x >>= 2;
	}
	return n + !(x & 1);
}

static inline uint32_t bit_swap32(uint32_t x)
{
	return (x >> 24) | ((x >> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24);
}

#endif
