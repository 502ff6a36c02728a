// SPDX-License-Identifier: BSD-2-Clause
/* Starting secondary harts through SBI HSM into crt0's _secondary_start. */
#include "guest.h"

/* crt0.S reads struct hart_boot at these offsets. */
_Static_assert(offsetof(struct hart_boot, stack_top) == 0, "hart_boot layout");
_Static_assert(offsetof(struct hart_boot, entry) == 8, "hart_boot layout");
_Static_assert(offsetof(struct hart_boot, arg) == 16, "hart_boot layout");

extern char _secondary_start[];

struct sbiret hart_boot_start(unsigned long hartid, struct hart_boot *boot)
{
	/* The new hart starts with its MMU off: both addresses must be physical. */
	return sbi_hart_start(hartid, (unsigned long)_secondary_start, (unsigned long)boot);
}
