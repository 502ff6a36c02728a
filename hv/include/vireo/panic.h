/* SPDX-License-Identifier: BSD-2-Clause */
/* Fatal hypervisor errors: print why, where, every register; stop every hart. */
#ifndef VIREO_PANIC_H
#define VIREO_PANIC_H

#include <vireo/types.h>

struct trap_frame;

NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Panic with the registers of a trap taken in HS-mode. */
NORETURN void panic_with_frame(const struct trap_frame *frame, const char *fmt, ...)
    PRINTF_LIKE(2, 3);
/* True once any hart has panicked. */
bool panic_in_progress(void);

#define BUG_ON(cond)                                                                               \
	do {                                                                                       \
		if (cond)                                                                          \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__);                   \
	} while (0)

#endif
