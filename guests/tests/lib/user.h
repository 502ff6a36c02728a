/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Running a function in U-mode (VU-mode under a hypervisor) from a test
 * guest, with the guest's translation off: it returns to its caller at the
 * first trap it takes, whatever that is, and says which.
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

#include <vireo/types.h>

#define USER_EXIT_ECALL 8 /* scause of the ecall that ends a function that returned */

struct user_result {
	unsigned long cause; /* scause of the trap that ended it: USER_EXIT_ECALL if fn returned */
	unsigned long tval;  /* stval of that trap */
	unsigned long pc;    /* sepc of that trap */
	unsigned long value; /* a0 at that trap: fn's return value after USER_EXIT_ECALL */
};

/* Run fn(arg) in U-mode on a stack of its own until it traps. */
void user_run(unsigned long (*fn)(unsigned long), unsigned long arg, struct user_result *out);

#endif
