/* SPDX-License-Identifier: BSD-2-Clause */
/* A test-and-test-and-set spinlock on compiler atomics: works on the target and the host. */
#ifndef VIREO_SPINLOCK_H
#define VIREO_SPINLOCK_H

#include <vireo/types.h>

typedef struct {
	uint32_t locked;
} spinlock_t;

#define SPINLOCK_INIT                                                                              \
	{                                                                                          \
		0                                                                                  \
	}

static inline void spin_lock(spinlock_t *lock)
{
	while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
			;
}

static inline bool spin_trylock(spinlock_t *lock)
{
	return !__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(spinlock_t *lock)
{
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

#endif
