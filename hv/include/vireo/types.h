/* SPDX-License-Identifier: BSD-2-Clause */
/* Basic types and helpers shared by every module, on the target and on the host. */
#ifndef VIREO_TYPES_H
#define VIREO_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t; /* host-physical address */
typedef uint64_t gpa_t;	  /* guest-physical address */

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	 (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
/* MIN and MAX evaluate an argument twice: no function calls in them. */
#define MIN(a, b)			((a) < (b) ? (a) : (b))
#define MAX(a, b)			((a) > (b) ? (a) : (b))
#define BIT(n)				(1UL << (n))
#define UNUSED				__attribute__((unused))
#define NORETURN			__attribute__((noreturn))
#define PRINTF_LIKE(f, a)		__attribute__((format(printf, f, a)))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)

#define KIB (1024UL)
#define MIB (1024UL * KIB)
#define GIB (1024UL * MIB)

/* Error codes used inside the hypervisor (negative on return). */
enum {
	VIREO_OK = 0,
	VIREO_EINVAL = 22,
	VIREO_ENOMEM = 12,
	VIREO_EFAULT = 14,
	VIREO_ENOENT = 2,
	VIREO_EBUSY = 16,
	VIREO_ERANGE = 34,
	VIREO_ENOSYS = 38,
	VIREO_EEXIST = 17,
	VIREO_EIO = 5,
	VIREO_ENOSPC = 28,
};

#endif
