// SPDX-License-Identifier: BSD-2-Clause
/* C side of the guest's trap vector: a test hook first, then "unexpected trap". */
#include "guest.h"

/* trap_vector.S stores registers at these offsets. */
_Static_assert(offsetof(struct trap_frame, sepc) == 32 * 8, "trap frame layout");
_Static_assert(offsetof(struct trap_frame, stval) == 35 * 8, "trap frame layout");
_Static_assert(sizeof(struct trap_frame) % 16 == 0, "trap frame keeps sp aligned");

static volatile trap_hook_fn trap_hook;

trap_hook_fn trap_set_hook(trap_hook_fn hook)
{
	trap_hook_fn old = trap_hook;

	trap_hook = hook;
	return old;
}

unsigned int insn_length_at(unsigned long pc)
{
	/* Read one halfword only: a 2-byte instruction may end the mapped text. */
	uint16_t low = *(const volatile uint16_t *)pc;

	return (low & 3) == 3 ? 4 : 2;
}

void trap_dispatch(struct trap_frame *tf);

void trap_dispatch(struct trap_frame *tf)
{
	trap_hook_fn hook = trap_hook;

	if (hook && hook(tf))
		return;
	printf("TEST %s: FAIL unexpected trap scause=0x%lx sepc=0x%lx stval=0x%lx\n", guest_name,
	       tf->scause, tf->sepc, tf->stval);
	guest_exit(GUEST_STATUS_TRAP);
}
