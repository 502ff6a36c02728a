/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A debugger attached to a VM (core/vm_debug.c; the host's gdb stub drives it
 * through the ops of vireo/ctl_debug.h). While attached:
 *
 *  - breakpoints are `ebreak`s Vireo plants in guest memory and owns: a table
 *    of sites by guest-physical address with the bytes they replaced (reads
 *    through the debugger show those, writes go under them), restored when
 *    cleared and at detach; only an ebreak at a site stops the VM, the
 *    guest's own ebreaks (Linux BUG/WARN) still reach the guest;
 *  - a breakpoint at an address the guest has not mapped yet waits, and the
 *    guest's satp writes are watched (they trap) until it can be planted;
 *  - a fault that would stop the VM stops it in the debugger instead, after
 *    any catch of the host's (the debugger is the last catch);
 *  - a stop stops the whole VM (all-stop) and names the vCPU in
 *    CTL_EVENT_DBG_STOP; vCPUs that hit a breakpoint at the same moment back
 *    off (their pc stays at the breakpoint, which they meet again on resume);
 *  - a single step runs one vCPU alone for one instruction, its interrupts
 *    held off, with breakpoints at every place the instruction may go next
 *    (including the guest's trap vector); wfi is stepped over without running.
 *
 * The ops run in the hart loop on a parked VM; the hooks run in a vCPU's exit
 * on its hart. The state is under `lock`, a leaf: under it only guest memory
 * is read and written and vCPU requests posted (no link, no other lock).
 */
#ifndef VIREO_VM_DEBUG_H
#define VIREO_VM_DEBUG_H

#include <vireo/spinlock.h>
#include <vireo/types.h>

struct vm;
struct vcpu;
struct guest_pt_walk;
enum vcpu_action;

#define VM_DEBUG_SITES 64

#define VM_DEBUG_SITE_USER 1u /* the debugger's breakpoint */
#define VM_DEBUG_SITE_STEP 2u /* a single step's */

struct vm_debug_site {
	uint64_t va;	 /* the debugger's address (a user site) */
	uint64_t gpa;	 /* where it is planted */
	uint8_t orig[4]; /* the guest's bytes under the ebreak */
	uint8_t len;	 /* 2 (c.ebreak) or 4 (ebreak); 0: a free slot */
	uint8_t flags;	 /* VM_DEBUG_SITE_* */
	bool planted;	 /* in guest memory (else a user site waiting for a mapping) */
	bool lifted;	 /* taken out for a step that starts on it */
};

struct vm_debug {
	spinlock_t lock;
	bool attached;
	bool waiting;		 /* held at the first instruction at boot, never resumed since */
	struct vcpu *step_vcpu;	 /* runs while the VM is paused: a step under way (atomic) */
	struct vcpu *step_owner; /* whose interrupts a step holds off (until cleaned up) */
	unsigned long step_sie;	 /* the owner's sie before the step */
	unsigned pending;	 /* user sites waiting for a mapping: satp writes trap */
	struct vm_debug_site sites[VM_DEBUG_SITES];
};

/* ---- the ops (core/ctl_debug.c), in the hart loop; 0 or -VIREO_E* */
/* Attach (the VM runs on if it ran); a second attach is -VIREO_EBUSY. */
int vm_debug_attach(struct vm *vm);
/* Take every breakpoint out, end a step, stop watching satp; the VM stays as it is. */
int vm_debug_detach(struct vm *vm);
/* Set / clear a breakpoint at va, translated through v's page tables (VM parked). Set
 * returns 1 for one that waits: va is not mapped to RAM yet. */
int vm_debug_break_set(struct vm *vm, struct vcpu *v, uint64_t va);
int vm_debug_break_clear(struct vm *vm, struct vcpu *v, uint64_t va);
/* Start a single step of v (VM parked): CTL_EVENT_DBG_STOP says when it is done. */
int vm_debug_step(struct vm *vm, struct vcpu *v);
/* Read or write len bytes at va through v's page tables (VM parked), page by page:
 * the count done (which stops at the first page not mapped to RAM), or -VIREO_EFAULT
 * if not even the first byte is. Breakpoints are invisible to both. */
int vm_debug_mem(struct vm *vm, struct vcpu *v, uint64_t va, void *buf, uint32_t len, bool write);
/* va through v's page tables (VM parked). */
int vm_debug_translate(struct vm *vm, struct vcpu *v, uint64_t va, struct guest_pt_walk *out);

/* ---- hooks into core, each a no-op unless a debugger is attached */
/* An ebreak exit of v (core/exit.c): a site's stops the VM; the guest's own goes on. */
enum vcpu_action vm_debug_breakpoint(struct vcpu *v);
/* A fault that would stop the VM (core/exit.c, vm_fault): stop in the debugger. */
enum vcpu_action vm_debug_fault(struct vcpu *v);
/* A virtual-instruction exit of v (core/exit.c): true if it was a watched satp access
 * or sfence.vma, now carried out (and waiting breakpoints planted if they can be). */
bool vm_debug_virtual_insn(struct vcpu *v);
/* vm_pause: a vCPU being stepped stops too. vm_resume: what a step that did not end
 * by itself left behind is undone (VM parked). */
void vm_debug_hold(struct vm *vm);
void vm_debug_release(struct vm *vm);
/* vcpu_reset: a (re)started vCPU watches satp while breakpoints wait. */
void vm_debug_vcpu_reset(struct vcpu *v);
/* vm_start of a VM configured to wait for a debugger. */
void vm_debug_hold_at_start(struct vm *vm);

#endif
