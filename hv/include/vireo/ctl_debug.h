/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The debugger's control requests (ops 0x03xx) and its event: the wire
 * shapes of docs/channel.md "Control requests", the debugger's part, served
 * by core/ctl_debug.c on top of core/vm_debug.c. A host-side gdb stub
 * (tools/libvireo/gdb_*.c) drives them. All integers little-endian.
 */
#ifndef VIREO_CTL_DEBUG_H
#define VIREO_CTL_DEBUG_H

#include <vireo/ctl.h>

enum ctl_debug_op {
	/* u32 vm -> struct ctl_dbg_info: the debugger owns the VM's breakpoints and faults */
	CTL_OP_DBG_ATTACH = 0x0301,
	/* u32 vm -> (): every breakpoint taken out, the guest's memory as it was */
	CTL_OP_DBG_DETACH = 0x0302,
	/* u32 vm, u32 vcpu, u64 va -> (): a breakpoint at va (through vcpu's page tables) */
	CTL_OP_DBG_BREAK_SET = 0x0303,
	/* u32 vm, u32 vcpu, u64 va -> () */
	CTL_OP_DBG_BREAK_CLEAR = 0x0304,
	/* u32 vm, u32 vcpu -> (): run that vCPU alone for one instruction (CTL_EVENT_DBG_STOP) */
	CTL_OP_DBG_STEP = 0x0305,
	/* u32 vm, u32 vcpu, u32 len (1..4096), u32 0, u64 va -> result = bytes read, the bytes */
	CTL_OP_DBG_MEM_READ = 0x0306,
	/* u32 vm, u32 vcpu, u32 len, u32 0, u64 va, len bytes -> result = bytes written */
	CTL_OP_DBG_MEM_WRITE = 0x0307,
	/* u32 vm, u32 vcpu, u64 va -> struct ctl_dbg_translation */
	CTL_OP_DBG_TRANSLATE = 0x0308,
};

enum ctl_debug_event {
	CTL_EVENT_DBG_STOP = 0x0301, /* struct ctl_dbg_stop */
};

/* Why a debugged VM stopped (CTL_EVENT_DBG_STOP). */
enum ctl_dbg_reason {
	CTL_DBG_BREAKPOINT = 1, /* a breakpoint of the debugger's */
	CTL_DBG_STEP = 2,	/* CTL_OP_DBG_STEP is done */
	CTL_DBG_FAULT = 3, /* what would have stopped the VM (the debugger is the last catch) */
};

/* CTL_EVENT_DBG_STOP: the VM is paused (its vCPUs are leaving their harts). */
struct ctl_dbg_stop {
	uint32_t vcpu;
	uint32_t reason; /* enum ctl_dbg_reason */
	uint64_t pc;
	uint64_t cause; /* scause of the exit (a fault's) */
	uint64_t tval;	/* stval */
	uint64_t gpa;	/* a fault's guest-physical address, else 0 */
};

#define CTL_DBG_STOP_SIZE 40
_Static_assert(sizeof(struct ctl_dbg_stop) == CTL_DBG_STOP_SIZE, "the wire layout");

/* CTL_OP_DBG_ATTACH reply. */
struct ctl_dbg_info {
	uint32_t vcpus;
	uint32_t features; /* CTL_DBG_F_* */
};

#define CTL_DBG_F_FP	  (1u << 0) /* the guest has F and D: f0..f31 and fcsr are its own */
#define CTL_DBG_F_C	  (1u << 1) /* the guest has C: breakpoints are 2-byte c.ebreak */
#define CTL_DBG_F_WAITING (1u << 2) /* the VM waits at its first instruction (wait at boot) */

/* CTL_OP_DBG_TRANSLATE reply. */
struct ctl_dbg_translation {
	uint64_t gpa;
	uint64_t page_size;
	uint64_t pte; /* the leaf PTE, 0 when the guest's translation is off (Bare) */
};

/* A breakpoint table of this many sites per VM (the debugger's and a step's). */
#define CTL_DBG_MAX_BREAKPOINTS 64

extern const struct ctl_op_entry ctl_debug_ops[];
extern const unsigned ctl_debug_op_count;

#endif
