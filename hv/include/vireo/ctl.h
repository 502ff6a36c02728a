/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control plane: requests a host program makes of Vireo over the link
 * (LINK_REQUEST, answered by LINK_REPLY) and the events Vireo sends on its
 * own (LINK_EVENT). docs/channel.md, "Control requests", is the wire format;
 * this header is its C shape.
 *
 * A request is queued by the link's receive path (with the link lock held)
 * and run afterwards on the same hart, in the hart loop, without any lock:
 * a handler may take a VM's locks, pause a VM and wait for it. Requests run
 * one at a time, in order. Everything in a request is untrusted: handlers
 * check every length, id and range and answer -VIREO_EINVAL (or the errno
 * that fits) without side effects.
 *
 * Op numbers are grouped by owner so that modules add theirs without
 * touching each other's: 0x00xx the machine and VMs (core), 0x01xx VM
 * lifecycle at run time, 0x02xx snapshots and forks, 0x03xx the debugger,
 * 0x04xx sandboxes.
 */
#ifndef VIREO_CTL_H
#define VIREO_CTL_H

#include <vireo/types.h>

#define CTL_VERSION    1
#define CTL_ARGS_MAX   1016 /* a LINK_REQUEST is a control frame of at most 1024 bytes */
#define CTL_REPLY_MAX  4096 /* data in one LINK_REPLY */
#define CTL_REASON_MAX 256  /* a failed request's reason, in words */
#define CTL_EVENT_MAX  1024 /* data in one LINK_EVENT */

enum ctl_op {
	CTL_OP_INFO = 0x0001,	       /* -> struct ctl_info */
	CTL_OP_VM_LIST = 0x0002,       /* -> struct ctl_vm_entry[] */
	CTL_OP_VM_PAUSE = 0x0003,      /* u32 vm -> (): every vCPU off its hart, state in memory */
	CTL_OP_VM_RESUME = 0x0004,     /* u32 vm -> () */
	CTL_OP_VCPU_GET_REGS = 0x0005, /* u32 vm, u32 vcpu -> struct ctl_regs (paused VM) */
	CTL_OP_VCPU_SET_REGS = 0x0006, /* u32 vm, u32 vcpu, struct ctl_regs -> () (paused VM) */
	CTL_OP_MEM_READ = 0x0007,      /* u32 vm, u32 len, u64 gpa -> len bytes (len <= 4096) */
	CTL_OP_MEM_WRITE = 0x0008,     /* u32 vm, u32 len, u64 gpa, bytes -> () */
	CTL_OP_VM_STOP = 0x0009,       /* u32 vm, i32 status -> (): the VM ends with that status */
	CTL_OP_VM_CATCH = 0x000a,      /* u32 vm, u32 catches (CTL_CATCH_*) -> () */

	/* 0x01xx: a long-lived machine, VMs made and ended at run time (ctl_lifecycle.c). */
	CTL_OP_MACHINE_INFO = 0x0101, /* -> struct ctl_machine_info */
	CTL_OP_BLOB_ALLOC = 0x0102,   /* u64 size -> u32 blob, u32 0, u64 hpa, u64 bytes */
	CTL_OP_BLOB_WRITE = 0x0103,   /* u32 blob, u32 len, u64 offset, bytes -> () */
	CTL_OP_BLOB_READ = 0x0104,    /* u32 blob, u32 len (<= 4096), u64 offset -> bytes */
	CTL_OP_BLOB_FREE = 0x0105,    /* u32 blob -> () */
	CTL_OP_VM_CREATE = 0x0106,    /* struct ctl_vm_create -> result = the VM's id */
	CTL_OP_VM_START = 0x0107,     /* u32 vm -> () */
	CTL_OP_VM_DESTROY = 0x0108,   /* u32 vm, i32 status -> (): ended whatever its state */
	CTL_OP_VM_RAM = 0x0109,	      /* u32 vm -> n x struct ctl_ram_run (RAM, where it is) */
	CTL_OP_POWER_OFF = 0x010a,    /* i32 status -> (): every VM ends, then the machine */

	/* 0x02xx: snapshots and forks (ctl_snapshot.c, docs/machine.md). */
	CTL_OP_VM_SNAPSHOT = 0x0201, /* u32 vm (paused) -> u32 blob, u32 0, u64 bytes: its state */
	CTL_OP_VM_RESTORE = 0x0202, /* struct ctl_vm_create, kernel_blob = a state -> the VM's id */
	CTL_OP_VM_FORK = 0x0203,    /* struct ctl_vm_create, from_vm = a paused VM -> the id */
};

/* Exits a host program can catch (CTL_OP_VM_CATCH): the VM pauses, CTL_EVENT_CAUGHT. */
enum ctl_catch {
	CTL_CATCH_FAULT = 1,	  /* what would stop the VM: an unmapped access, a bad fetch */
	CTL_CATCH_BREAKPOINT = 2, /* ebreak */
	CTL_CATCH_ILLEGAL = 4,	  /* an illegal instruction */
};

enum ctl_event_type {
	CTL_EVENT_CAUGHT = 0x0001, /* struct ctl_caught */
};

/* CTL_EVENT_CAUGHT: the VM is paused (its vCPUs leave their harts at once). */
struct ctl_caught {
	uint32_t vcpu;
	uint32_t why;	/* one CTL_CATCH_* */
	uint64_t cause; /* the architecture's cause (scause) */
	uint64_t pc;	/* where the vCPU stopped: the instruction that trapped */
	uint64_t tval;	/* the trap value (stval): faulting address or instruction */
	uint64_t gpa;	/* a guest-physical address that faulted, else 0 */
	uint32_t insn;	/* the trapping instruction when known, else 0 */
	uint32_t kind;	/* Vireo's exit kind (enum vcpu_exit_kind), for diagnostics */
};

#define CTL_CAUGHT_SIZE 48
_Static_assert(sizeof(struct ctl_caught) == CTL_CAUGHT_SIZE, "the wire layout");

/* CTL_OP_MACHINE_INFO reply: what a host program needs to run a machine. */
struct ctl_machine_info {
	uint32_t version;	  /* CTL_VERSION */
	uint32_t flags;		  /* CTL_MACHINE_* */
	uint64_t ram_base;	  /* host-physical address of the machine's RAM */
	uint64_t ram_bytes;	  /* its size */
	uint64_t free_bytes;	  /* pages free right now */
	uint64_t limit_bytes;	  /* what VMs and blobs may be promised in all */
	uint64_t committed_bytes; /* ...and are */
	uint32_t vms, max_vms;	  /* VMs alive; ids are 1..max_vms */
	uint32_t blobs, max_vcpus;
	uint64_t blob_bytes;
};
#define CTL_MACHINE_INFO_SIZE 72
_Static_assert(sizeof(struct ctl_machine_info) == CTL_MACHINE_INFO_SIZE, "the wire layout");
#define CTL_MACHINE_MODE 1 /* BUNDLE_MACHINE: stays up without VMs */

/* CTL_OP_VM_CREATE arguments (all little-endian); bootargs follow, bootargs_len bytes. */
struct ctl_vm_create {
	uint32_t flags; /* CTL_VMC_* */
	uint32_t vcpus;
	uint64_t ram_bytes;	/* a multiple of 2 MiB, >= 4 MiB */
	uint64_t hart_affinity; /* bit i: may run on hart i; 0 any */
	uint32_t kernel_blob;	/* a blob the host holds: a Linux Image, ELF or flat binary
				 * (VM_RESTORE: the state VM_SNAPSHOT gave) */
	uint32_t initrd_blob;	/* 0: none */
	uint32_t disk_host;	/* CTL_VMC_DISK: which host disk */
	uint32_t reserved;	/* 0 */
	uint64_t disk_first_sector, disk_sectors;
	int64_t rtc_offset; /* seconds */
	char name[32];	    /* NUL-padded, not empty */
	uint64_t mem_limit; /* forks: bytes of copies it may make; 0: the default */
	uint32_t from_vm;   /* CTL_OP_VM_FORK only: the template; else 0 */
	uint16_t bootargs_len;
	uint16_t reserved2; /* 0 */
};
#define CTL_VM_CREATE_SIZE 112
_Static_assert(sizeof(struct ctl_vm_create) == CTL_VM_CREATE_SIZE, "the wire layout");
enum ctl_vm_create_flags {
	CTL_VMC_TESTDEV = 1,
	CTL_VMC_NO_CONSOLE = 2,
	CTL_VMC_NO_RTC = 4,
	CTL_VMC_DISK = 8,
	CTL_VMC_DISK_RO = 16,
	CTL_VMC_START = 32, /* start it at once */
};

/* CTL_OP_VM_RAM reply: guest-physical ranges and the host-physical memory behind them. */
struct ctl_ram_run {
	uint64_t gpa, hpa, bytes;
};

/* Events Vireo sends unasked are LINK_EVENT frames: u16 event, u16 0, u32 vm, data.
 * Event numbers follow the op groups (0x03xx the debugger's, 0x04xx sandboxes'). */

/* CTL_OP_INFO reply: all little-endian. */
struct ctl_info {
	uint32_t version;    /* CTL_VERSION */
	uint32_t harts;	     /* harts online */
	uint32_t vms;	     /* VMs alive */
	uint32_t max_vcpus;  /* per VM */
	uint64_t free_bytes; /* host memory not given to anything */
	uint64_t ram_bytes;  /* host memory Vireo manages */
};

/* CTL_OP_VM_LIST reply: one per VM alive, by id. */
struct ctl_vm_entry {
	uint32_t id;
	uint32_t state; /* enum ctl_vm_state */
	uint32_t vcpus;
	uint32_t reserved;
	uint64_t ram_bytes;
	char name[32]; /* NUL-padded */
};

enum ctl_vm_state { CTL_VM_CREATED, CTL_VM_RUNNING, CTL_VM_PAUSED, CTL_VM_STOPPING };

/*
 * A vCPU's registers as the guest sees them (CTL_OP_VCPU_GET_REGS/SET_REGS):
 * 64-bit little-endian words. x[0] is pc (as in gdb's numbering, x0 reads 0
 * anyway). The S-level CSRs are the guest's own (VS-mode's: the hardware's vs*
 * CSRs). priv is the privilege the guest runs in (0 user, 1 supervisor). A
 * write sets pc, x1..x31, f, fcsr and the CSRs; priv and sip are read-only.
 */
struct ctl_regs {
	uint64_t x[32]; /* x[0] = pc */
	uint64_t f[32];
	uint64_t fcsr;
	uint64_t priv;
	uint64_t sstatus, sie, stvec, sscratch, sepc, scause, stval, sip, satp;
};

#define CTL_REGS_SIZE (8 * (32 + 32 + 2 + 9))
_Static_assert(sizeof(struct ctl_regs) == CTL_REGS_SIZE, "the wire layout");

/* One request being answered. */
struct ctl_call {
	uint32_t id;
	uint16_t op;
	const uint8_t *args; /* untrusted */
	uint32_t len;
	uint8_t *out; /* reply data: up to CTL_REPLY_MAX bytes */
	uint32_t out_len;
	bool out_is_reason; /* an error's data: why, in words (ctl_fail) */
};

/* A handler: 0 or a positive result, or -VIREO_E*. The reply carries out[0..out_len). */
typedef int (*ctl_handler)(struct ctl_call *call);

struct ctl_op_entry {
	uint16_t op;
	const char *name;
	ctl_handler handler;
};

/* Tables of ops, one per module (ctl.c lists them). */
extern const struct ctl_op_entry ctl_core_ops[];
extern const unsigned ctl_core_op_count;
extern const struct ctl_op_entry ctl_lifecycle_ops[];
extern const unsigned ctl_lifecycle_op_count;

struct vm_config;
/* The arguments of VM_CREATE / VM_FORK (struct ctl_vm_create and the bootargs) into cfg
 * (images and origin left to the caller); 0, or an error with the reason given. */
int ctl_parse_vm_create(struct ctl_call *c, struct vm_config *cfg, uint32_t *flags);

struct vm;
/* The VM named by the request's first u32, held (vm_put it), when the arguments are
 * exactly `need` bytes (at least `need` with `more`); else NULL with *err -VIREO_EINVAL
 * (length) or -VIREO_ENOENT (no such VM). core/ctl_args.c. */
struct vm *ctl_arg_vm(const struct ctl_call *c, uint32_t need, bool more, int *err);

/* Fail a request with err and a reason in words, sent as the reply's data. */
int ctl_fail(struct ctl_call *call, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern const struct ctl_op_entry ctl_snapshot_ops[]; /* core/ctl_snapshot.c: 0x02xx */
extern const unsigned ctl_snapshot_op_count;
extern const struct ctl_op_entry ctl_sandbox_ops[]; /* core/ctl_sandbox.c: 0x04xx */
extern const unsigned ctl_sandbox_op_count;

struct chan_link;
/* Serve requests arriving on this link (vm_chan.c, once the link is up). */
void ctl_attach(struct chan_link *link);
/* No request queued or being answered. */
bool ctl_idle(void);
/* An event for the host (dropped, with a count, if the link cannot queue it). */
void ctl_event(uint16_t event, unsigned vm_id, const void *data, uint32_t len);

/* Little-endian access to arguments and replies (bounds are the caller's). */
static inline uint32_t ctl_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ctl_get_u64(const uint8_t *p)
{
	return ctl_get_u32(p) | (uint64_t)ctl_get_u32(p + 4) << 32;
}

static inline void ctl_put_u32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void ctl_put_u64(uint8_t *p, uint64_t v)
{
	ctl_put_u32(p, (uint32_t)v);
	ctl_put_u32(p + 4, (uint32_t)(v >> 32));
}

#endif
