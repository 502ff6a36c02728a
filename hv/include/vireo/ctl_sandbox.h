/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sandboxes on the control plane (ops and events 0x04xx): the wire shapes,
 * shared by Vireo (core/ctl_sandbox.c) and the host library (libvireo). The
 * model and the state machine are in docs/sandbox.md; the table of ops in
 * docs/channel.md, "Control requests". All integers little-endian.
 *
 * A sandbox is a VM configured with `sandbox = yes` that runs a program built
 * with the guest SDK (guests/sandbox/). Its start-up code calls the Vireo
 * sandbox SBI extension's READY; from then on the VM runs only between a
 * CALL and the end of that call, and stops (parked, its state in memory) at
 * every event: the call's RETURN, a HOSTCALL to answer, a CAUGHT exit.
 */
#ifndef VIREO_CTL_SANDBOX_H
#define VIREO_CTL_SANDBOX_H

#include <vireo/types.h>

/*
 * The SBI extension guests call (sbi/sandbox.c), in the firmware-specific
 * space of the SBI specification (EIDs 0x0A000000..0x0AFFFFFF, "the lower 24
 * bits of the firmware EID must match the lower 24 bits of the SBI
 * implementation ID"): 0x0A000000 | (0x5649524F & 0xffffff). Probing it
 * answers 1 in a sandbox VM, 0 elsewhere.
 */
#define SBI_EXT_VIREO_SANDBOX 0x0A49524FUL

enum sbi_sandbox_fid {
	/* a0 = where a called function returns to (the SDK's stub that calls RETURN),
	 * a1 = the SDK's version: the loaded state is complete, wait for calls. */
	SBI_SANDBOX_READY = 0,
	/* a0 = the called function's result: the call is over. */
	SBI_SANDBOX_RETURN = 1,
	/* a0 = guest-physical address of the host function's name, a1 = its length
	 * (1..CTL_SANDBOX_NAME_MAX), a2..a5 = arguments. Returns the host's (error, value). */
	SBI_SANDBOX_HOSTCALL = 2,
	/* -> instret the machine's harts counted while they waited for interrupts, all
	 * together. Under QEMU's -icount instret is the machine's clock, which waiting
	 * advances too: instret minus this counts the instructions of work, wherever they
	 * ran (benchmarks). Elsewhere it means nothing. */
	SBI_SANDBOX_WAITED = 3,
};

#define SBI_SANDBOX_SDK_VERSION 1

enum ctl_sandbox_op {
	/* u32 vm -> struct ctl_sandbox_info: take the loaded state (registers, RAM) as the
	 * snapshot resets return to (the first time), start tracking dirty pages. */
	CTL_OP_SANDBOX_OPEN = 0x0401,
	/* struct ctl_sandbox_call -> (): start a call (the sandbox must be idle). */
	CTL_OP_SANDBOX_CALL = 0x0402,
	/* u32 vm, u32 0, i64 error, u64 value -> (): answer the host call, resume. */
	CTL_OP_SANDBOX_ANSWER = 0x0403,
	/* struct ctl_sandbox_continue [+ u64 x1..x31] -> (): resume a caught sandbox. */
	CTL_OP_SANDBOX_CONTINUE = 0x0404,
	/* u32 vm, u32 flags (CTL_SANDBOX_RESET_*) -> u32 pages restored, u32 extra pages
	 * unmapped: back to the snapshot; the call in progress, if any, is abandoned. */
	CTL_OP_SANDBOX_RESET = 0x0405,
	/* u32 vm, u32 perms (1 R, 2 W, 4 X), u64 gpa, u64 size -> (): map fresh zeroed
	 * RAM there (page aligned, not RAM or a device already); gone at the next reset. */
	CTL_OP_SANDBOX_MAP = 0x0406,
	/* u32 vm, u32 len (1..4096), u64 gpa -> len bytes of its RAM or mapped memory. */
	CTL_OP_SANDBOX_READ = 0x0407,
	/* u32 vm, u32 len, u64 gpa, bytes -> (): written, and the pages count as dirty. */
	CTL_OP_SANDBOX_WRITE = 0x0408,
	/* u32 vm -> struct ctl_sandbox_stats */
	CTL_OP_SANDBOX_STATS = 0x0409,
};

enum ctl_sandbox_event {
	CTL_EVENT_SANDBOX_READY = 0x0401,    /* struct ctl_sandbox_ready */
	CTL_EVENT_SANDBOX_RETURN = 0x0402,   /* u64 result (a0) */
	CTL_EVENT_SANDBOX_HOSTCALL = 0x0403, /* struct ctl_sandbox_hostcall, then the name */
	CTL_EVENT_SANDBOX_CAUGHT = 0x0404,   /* struct ctl_sandbox_caught */
	CTL_EVENT_SANDBOX_EXIT = 0x0405,     /* i32 status: the sandbox's VM ended */
};

/* Sandbox states (struct ctl_sandbox_info.state). */
enum ctl_sandbox_state {
	CTL_SANDBOX_BOOTING = 0,  /* its start-up code runs (no READY yet) */
	CTL_SANDBOX_IDLE = 1,	  /* parked between calls */
	CTL_SANDBOX_RUNNING = 2,  /* in a call */
	CTL_SANDBOX_HOSTCALL = 3, /* parked in a host call, for ANSWER */
	CTL_SANDBOX_CAUGHT = 4,	  /* parked at a caught exit, for CONTINUE or RESET */
};

/* Why a sandbox was caught: the VM catches (CTL_CATCH_*) and its time budget. */
#define CTL_SANDBOX_CATCH_FAULT	     1 /* an access to memory it has not, a bad fetch, ... */
#define CTL_SANDBOX_CATCH_BREAKPOINT 2 /* ebreak */
#define CTL_SANDBOX_CATCH_ILLEGAL    4 /* an illegal instruction */
#define CTL_SANDBOX_CATCH_TIMEOUT    8 /* the call's time budget ran out */

#define CTL_SANDBOX_NAME_MAX 64 /* bytes of a host function's name */

/* CTL_SANDBOX_CALL flags */
#define CTL_SANDBOX_CALL_RESET 1u /* reset to the snapshot first */

/* CTL_SANDBOX_CONTINUE flags */
#define CTL_SANDBOX_CONTINUE_PC	    1u /* resume at pc (else where it stopped) */
#define CTL_SANDBOX_CONTINUE_REGS   2u /* x1..x31 follow the fixed part */
#define CTL_SANDBOX_CONTINUE_BUDGET 4u /* budget_us is the call's budget from now */

/* CTL_SANDBOX_RESET flags */
#define CTL_SANDBOX_RESET_FULL 1u /* every page of RAM, not only the dirty ones */

/* CTL_OP_SANDBOX_OPEN reply. */
struct ctl_sandbox_info {
	uint32_t vm;
	uint32_t state;	      /* enum ctl_sandbox_state */
	uint64_t ram_base;    /* guest-physical */
	uint64_t ram_size;    /* bytes */
	uint64_t return_pc;   /* the SDK's return stub */
	uint32_t sdk_version; /* what READY said */
	uint32_t timebase_hz; /* of the time counter budgets are kept in */
};

/* CTL_OP_SANDBOX_STATS reply: counts since the sandbox booted. The instruction sums are
 * instret read by Vireo on the sandbox's hart (0 where it cannot read it): catch_out from
 * a catch's handler in Vireo to its event queued for the host, continue_in from the
 * CONTINUE op's start to the vCPU made runnable -- Vireo's own part of a catch and a
 * continue, the trap entry and exit, the scheduler and the link aside. */
struct ctl_sandbox_stats {
	uint64_t calls, hostcalls, catches, resets;
	uint64_t pages_restored; /* by all resets */
	uint64_t catch_out_insns, continue_in_insns, continues;
};

/* CTL_OP_SANDBOX_CALL arguments. */
struct ctl_sandbox_call {
	uint32_t vm;
	uint32_t flags;	    /* CTL_SANDBOX_CALL_* */
	uint64_t pc;	    /* the function */
	uint64_t budget_us; /* time the call may run (host calls and catches do not count); 0: no
			       limit */
	uint64_t args[6];   /* a0..a5 */
};

/* CTL_OP_SANDBOX_CONTINUE arguments (then 31 x u64 with CTL_SANDBOX_CONTINUE_REGS). */
struct ctl_sandbox_continue {
	uint32_t vm;
	uint32_t flags; /* CTL_SANDBOX_CONTINUE_* */
	uint64_t pc;
	uint64_t budget_us;
};

/* CTL_EVENT_SANDBOX_READY */
struct ctl_sandbox_ready {
	uint64_t ram_base, ram_size;
	uint64_t return_pc;
	uint32_t sdk_version;
	uint32_t reserved;
};

/* CTL_EVENT_SANDBOX_HOSTCALL: then name_len bytes of name. */
struct ctl_sandbox_hostcall {
	uint64_t args[4]; /* a2..a5 of the call */
	uint32_t name_len;
	uint32_t reserved;
};

/* CTL_EVENT_SANDBOX_CAUGHT: everything a handler needs to decide, in one event. */
struct ctl_sandbox_caught {
	uint32_t why;	/* CTL_SANDBOX_CATCH_* */
	uint32_t insn;	/* the trapping instruction when known, else 0 */
	uint64_t cause; /* the architecture's cause (scause); 0 for a time-out */
	uint64_t pc;	/* where it stopped: the instruction that trapped */
	uint64_t tval;	/* the trap value (stval) */
	uint64_t gpa;	/* the guest-physical address that faulted, else 0 */
	uint64_t x[32]; /* x[0] = pc, x[1..31] the registers */
};

#define CTL_SANDBOX_INFO_SIZE	  40
#define CTL_SANDBOX_CALL_SIZE	  72
#define CTL_SANDBOX_CONTINUE_SIZE 24
#define CTL_SANDBOX_READY_SIZE	  32
#define CTL_SANDBOX_HOSTCALL_SIZE 40
#define CTL_SANDBOX_CAUGHT_SIZE	  296
#define CTL_SANDBOX_STATS_SIZE	  64
#define CTL_SANDBOX_RW_MAX	  4096 /* a READ's reply; a WRITE carries at most 1000 */
#define CTL_SANDBOX_EXTRA_MAX	  64   /* mappings at once */
#define CTL_SANDBOX_EXTRA_BYTES	  (64 * MIB)
_Static_assert(sizeof(struct ctl_sandbox_info) == CTL_SANDBOX_INFO_SIZE, "wire layout");
_Static_assert(sizeof(struct ctl_sandbox_call) == CTL_SANDBOX_CALL_SIZE, "wire layout");
_Static_assert(sizeof(struct ctl_sandbox_continue) == CTL_SANDBOX_CONTINUE_SIZE, "wire layout");
_Static_assert(sizeof(struct ctl_sandbox_ready) == CTL_SANDBOX_READY_SIZE, "wire layout");
_Static_assert(sizeof(struct ctl_sandbox_hostcall) == CTL_SANDBOX_HOSTCALL_SIZE, "wire layout");
_Static_assert(sizeof(struct ctl_sandbox_caught) == CTL_SANDBOX_CAUGHT_SIZE, "wire layout");
_Static_assert(sizeof(struct ctl_sandbox_stats) == CTL_SANDBOX_STATS_SIZE, "wire layout");

#endif
