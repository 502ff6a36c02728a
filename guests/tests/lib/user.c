// SPDX-License-Identifier: BSD-2-Clause
/* U-mode runs for the test guests; see user.h. */
#include "guest.h"
#include "user.h"

#define USER_STACK_SIZE 4096

void user_enter(unsigned long (*fn)(unsigned long), unsigned long arg, uintptr_t sp);
extern char user_resume[];
unsigned long user_kernel_sp;

static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));
static struct user_result *result;
static trap_hook_fn outer_hook;

/* Any trap from U-mode ends the run: back to S-mode in user_resume, on the saved stack. */
static bool user_trap(struct trap_frame *tf)
{
	if (tf->sstatus & SSTATUS_SPP)
		return outer_hook && outer_hook(tf);
	*result = (struct user_result){tf->scause, tf->stval, tf->sepc, tf->regs[10]};
	tf->sepc = (unsigned long)user_resume;
	tf->regs[2] = user_kernel_sp;
	/* The trap vector does not restore sstatus: set SPP live, so sret stays in S-mode. */
	csr_set(sstatus, SSTATUS_SPP);
	return true;
}

void user_run(unsigned long (*fn)(unsigned long), unsigned long arg, struct user_result *out)
{
	result = out;
	outer_hook = trap_set_hook(user_trap);
	user_enter(fn, arg, (uintptr_t)&user_stack[USER_STACK_SIZE]);
	trap_set_hook(outer_hook);
}
