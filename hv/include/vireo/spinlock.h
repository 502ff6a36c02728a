/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A test-and-test-and-set spinlock on compiler atomics: works on the target
 * and the host. A function that must run with a lock held says so with
 * spin_assert_held (a panic naming the place): in every build the lock must
 * be held; in debug builds (make DEBUG=1, VIREO_DEBUG) each lock also
 * records the hart that holds it, and it must be this one. The order in
 * which locks nest is written down once, in docs/architecture.md ("Locks").
 */
#ifndef VIREO_SPINLOCK_H
#define VIREO_SPINLOCK_H

#include <vireo/types.h>

typedef struct {
	uint32_t locked;
	uintptr_t owner; /* debug builds: the holder's struct hart (tp) */
} spinlock_t;

#define SPINLOCK_INIT                                                                              \
	{                                                                                          \
		0, 0                                                                               \
	}

/* Who we are, for ownership: the per-hart pointer in tp (see vireo/hart.h). */
static inline uintptr_t spin_self(void)
{
#if defined(VIREO_DEBUG) && !defined(VIREO_HOST_TEST)
	uintptr_t tp;

	__asm__("mv %0, tp" : "=r"(tp));
	return tp;
#else
	return 0;
#endif
}

static inline void spin_set_owner(spinlock_t *lock, uintptr_t owner)
{
#ifdef VIREO_DEBUG
	lock->owner = owner;
#else
	(void)lock;
	(void)owner;
#endif
}

static inline void spin_lock(spinlock_t *lock)
{
	while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
			;
	spin_set_owner(lock, spin_self());
}

static inline bool spin_trylock(spinlock_t *lock)
{
	if (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE))
		return false;
	spin_set_owner(lock, spin_self());
	return true;
}

static inline void spin_unlock(spinlock_t *lock)
{
	spin_set_owner(lock, 0);
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

/* A lock that should be held is not (by this hart): panics in the hypervisor. */
#ifdef VIREO_HOST_TEST
static inline NORETURN void spin_assert_failed(const spinlock_t *lock, const char *file, int line)
{
	(void)lock;
	(void)file;
	(void)line;
	__builtin_trap(); /* the sanitizer's report shows where */
}
#else
NORETURN void spin_assert_failed(const spinlock_t *lock, const char *file, int line);
#endif

#if !defined(VIREO_DEBUG) || defined(VIREO_HOST_TEST)
/* Release builds, and host tests (several threads on one "hart"): held by someone. */
#define spin_held(lock) (__atomic_load_n(&(lock)->locked, __ATOMIC_RELAXED) != 0)
#else
#define spin_held(lock)                                                                            \
	(__atomic_load_n(&(lock)->locked, __ATOMIC_RELAXED) && (lock)->owner == spin_self())
#endif

#define spin_assert_held(lock)                                                                     \
	do {                                                                                       \
		if (!spin_held(lock))                                                              \
			spin_assert_failed((lock), __FILE__, __LINE__);                            \
	} while (0)

#endif
