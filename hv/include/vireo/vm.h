/* SPDX-License-Identifier: BSD-2-Clause */
/* A virtual machine: guest RAM, G-stage tables, devices, vCPUs. */
#ifndef VIREO_VM_H
#define VIREO_VM_H

#include <vireo/gstage.h>
#include <vireo/guest_mem.h>
#include <vireo/irq_line.h>
#include <vireo/mmio_bus.h>
#include <vireo/sbi_state.h>
#include <vireo/spinlock.h>
#include <vireo/testdev.h>
#include <vireo/vblk.h>
#include <vireo/vcon.h>
#include <vireo/vgenid.h>
#include <vireo/types.h>
#include <vireo/vaplic.h>
#include <vireo/vcpu.h>
#include <vireo/vm_console.h>
#include <vireo/vm_debug.h>
#include <vireo/vplic.h>
#include <vireo/vuart.h>

struct vm_rtc;
struct blob;
struct vm_cow;
struct vm_ram;
struct sandbox;

#define VM_MAX_VCPUS	VPLIC_MAX_HARTS
#define VM_NAME_MAX	32
#define VM_BOOTARGS_MAX 512

struct vnet;

enum vm_state { VM_CREATED, VM_RUNNING, VM_STOPPING, VM_DEAD };

/* Where a new VM's RAM and state come from (vm_config.origin). */
enum vm_origin {
	VM_ORIGIN_BOOT,	   /* load the kernel (and initrd, DTB): a fresh boot */
	VM_ORIGIN_RESTORE, /* zeroed RAM that the host fills; state from a snapshot (vm_snapshot.h)
			    */
	VM_ORIGIN_FORK,	   /* the RAM of a paused VM, shared copy-on-write (vm_cow.h) */
};

/* VM ids are channel numbers (docs/channel.md): 1..VM_ID_MAX. */
#define VM_ID_MAX 31

/* Exit statuses of a VM that did not shut itself down. */
#define VM_STATUS_FAULT 3 /* stopped by Vireo after an unhandled guest fault */
#define VM_STATUS_CRASH 2 /* SRST with reason "system failure" */

/* Its interrupt controller: guest AIA where the host has guest interrupt files, else the
 * PLIC (auto); or either, as asked. */
enum vm_irqchip { VM_IRQCHIP_AUTO, VM_IRQCHIP_PLIC, VM_IRQCHIP_AIA };

struct vm_config {
	char name[VM_NAME_MAX];
	uint64_t ram_size;
	unsigned vcpus;
	const void *kernel;
	size_t kernel_size;
	const void *initrd;
	size_t initrd_size;
	char bootargs[VM_BOOTARGS_MAX];
	unsigned long hart_affinity; /* bit i: may run on the hart with id i; 0 = any */
	bool testdev;		     /* map Vireo's MMIO test device */
	bool disk;		     /* a virtio-blk disk on a range of a host disk */
	bool disk_read_only;
	unsigned disk_host; /* which host disk */
	uint64_t disk_first_sector;
	uint64_t disk_sectors;	 /* 0: to the end of the host disk */
	unsigned console_number; /* 1-based position in the boot bundle: the input hotkey */
	bool console_muted;	 /* console=off */
	enum vm_irqchip irqchip;
	bool no_rtc;	       /* rtc=off: no real-time clock device */
	int64_t rtc_offset_ns; /* the guest clock minus the host's (rtc_offset, localtime) */
	bool debug_wait;       /* held at its first instruction until a debugger resumes it */
	/* A network card (vireo/vm_net.h): on network net_name, with this MAC; Vireo's DHCP
	 * gives it ipv4 (host order; 0: no address). */
	bool net;
	char net_name[16];
	uint8_t mac[6];
	uint32_t ipv4;
	/* VMs made at run time (ctl_lifecycle.c): images the host handed in, held while the
	 * VM (or a reboot of it) may load them; NULL for the boot bundle's. */
	struct blob *kernel_blob, *initrd_blob;
	enum vm_origin origin; /* back to VM_ORIGIN_BOOT in the copy kept for reboot */
	struct vm *fork_of;    /* VM_ORIGIN_FORK: the paused VM whose RAM it shares */
	uint64_t mem_limit;    /* bytes the VM may hold in all (RAM, copies, tables); 0: default */
	bool sandbox;	       /* driven by the host call by call (vireo/sandbox.h) */
};

struct vm {
	char name[VM_NAME_MAX];
	unsigned id;
	unsigned vmid;
	enum vm_state state;
	int exit_status;
	bool reboot_requested;
	spinlock_t lock;

	gpa_t ram_base;
	uint64_t ram_size;
	struct guest_mem mem; /* guest RAM: host runs behind [ram_base, ram_base + ram_size) */
	struct gstage gstage;
	uint64_t hgatp;

	struct mmio_bus bus;
	bool aia;	     /* guest AIA: the APLIC and an IMSIC file per vCPU; else the PLIC */
	struct vplic plic;   /* without AIA */
	struct vaplic aplic; /* with AIA */
	struct vuart uart;
	struct testdev testdev;
	struct vblk *disk;	  /* NULL without a disk */
	struct vcon *console_dev; /* its virtio console: hvc0 and the agent port */
	struct vm_rtc *rtc;	  /* NULL without an RTC */
	struct vgenid genid;	  /* its generation: new for a fork or a restore */
	struct vnet *net_dev;	  /* its network card, or NULL */
	struct vm_console console;
	/* Typed input waiting for the SBI console (getchar, DBCN read)... */
	uint8_t input[256];
	unsigned input_head, input_tail;
	/* ...and for the UART, whose FIFO holds only 16 bytes: the rest waits here and
	 * moves in as the guest reads (pasted text must not be lost). */
	uint8_t uart_backlog[4096];
	unsigned backlog_head, backlog_tail;

	unsigned nvcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	unsigned attached_vcpus; /* vCPUs still owned by a hart; the last one frees the VM */

	gpa_t entry, dtb_gpa, initrd_gpa;
	uint64_t initrd_size;
	struct vm_config config; /* kept for reboot */

	/* The control plane (core/ctl.c): references that keep the VM from being freed
	 * (vm_find), and pausing (core/vm_pause.c). */
	unsigned refs;		 /* under the VM table's lock */
	bool free_pending;	 /* the last vCPU left while referenced: the last vm_put frees */
	bool paused;		 /* its vCPUs are not scheduled (atomic) */
	unsigned catch;		 /* VM_CATCH_*: exits the host program handles */
	struct sbi_vm_state sbi; /* the SBI extensions' per-VM state (only hv/sbi/ uses it) */
	struct vm_debug debug;	 /* a debugger attached (core/vm_debug.c) */

	/* Run time (docs/machine.md): memory sharing, accounting, snapshots. */
	struct vm_ram *shared;	 /* its RAM, once forks share it (vm_cow.c); then it never runs */
	struct vm_cow *cow;	 /* a fork: its private pages over another VM's RAM (vm_cow.c) */
	uint64_t committed;	 /* bytes of the machine promised to it (vm_mem_commit) */
	unsigned long harts_ran; /* bit per hart index its vCPUs ever ran on (atomic) */
	/* Harts whose G-stage TLB may still hold translations of this VM that changed (a
	 * fork's page copied): flushed there before a vCPU of it enters the guest (atomic). */
	unsigned long gstage_stale;
	struct blob *restore; /* VM_ORIGIN_RESTORE: the state to apply at its start */
	bool state_loaded;    /* its state came from a snapshot or a template */
	/* A template's state as its first fork found it, for every fork and snapshot of it
	 * (its own devices are reset then: they must not write the shared RAM). */
	uint8_t *frozen_state;
	size_t frozen_len;
	struct sandbox *sandbox; /* a sandbox's state (core/sandbox.c), else NULL */
};

/* Create a VM from its configuration; NULL (with the reason logged) on failure. */
struct vm *vm_create(const struct vm_config *cfg);
/* The same, with the reason also in why[size] (run-time requests tell the host). */
struct vm *vm_create_why(const struct vm_config *cfg, char *why, size_t size);
/* End a VM that never started (VM_CREATED): its vCPUs go to their harts only to be
 * reaped, and it is freed as a stopped VM is (the host hears LINK_VM_EXIT). */
void vm_discard(struct vm *vm, int status);
/* A long-lived machine (docs/machine.md): do not power off when the last VM ends. */
void vm_set_machine_mode(bool on);
bool vm_machine_mode(void);
/* Put the boot vCPU on its hart's run queue. */
void vm_start(struct vm *vm);
/* Stop the VM with this exit status; every vCPU leaves its hart, then the VM is freed. */
void vm_stop(struct vm *vm, int status, const char *why);
/* Called by a hart when a vCPU of a stopping VM leaves it for good. */
void vm_vcpu_detached(struct vcpu *v);
/* The interrupt wire of a device with this source number: into the VM's PLIC or APLIC. */
struct irq_line vm_irq_line(struct vm *vm, unsigned source);
/* Host pointer to [gpa, gpa + len) if it lies wholly in guest RAM, else NULL (also len 0). */
void *vm_gpa_to_hva(struct vm *vm, gpa_t gpa, uint64_t len);
struct vcpu *vm_vcpu(struct vm *vm, unsigned long hartid);
/* How many VMs are alive; the exit status to report when none are. */
unsigned vm_alive_count(void);
int vm_final_status(void);
/* A byte typed on the host console for this VM (UART RX, SBI getchar). */
void vm_console_input(struct vm *vm, uint8_t byte);
/* Resume every VM disk stalled on a busy host disk (after host disk interrupts). */
void vm_kick_disks(void);
/* The VM with this id, kept from being freed until vm_put; NULL if there is none. */
struct vm *vm_find(unsigned id);
void vm_put(struct vm *vm);
/* Visit every VM in the table, by id (the table's lock is held: fn must not block). */
void vm_for_each(void (*fn)(struct vm *vm, void *ctx), void *ctx);
/*
 * Pause: no vCPU of the VM is scheduled any more, and once each has left its
 * hart (its state saved in memory) the call returns 0; -VIREO_EBUSY (and the
 * VM runs on) if that takes longer than a second. Called from the hart loop
 * (the control plane), never from a vCPU's exit. Resume lets them run again.
 */
int vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
/*
 * Catches: exits that, instead of their usual fate, pause the VM and go to the host
 * program as an event (CTL_EVENT_CAUGHT) for it to decide: a debugger, a sandbox's
 * handler. It then reads and changes the paused VM and resumes or stops it.
 */
#define VM_CATCH_FAULT	    BIT(0) /* what would stop the VM (unmapped access, bad fetch) */
#define VM_CATCH_BREAKPOINT BIT(1) /* ebreak (no longer the guest's own) */
#define VM_CATCH_ILLEGAL    BIT(2) /* illegal instructions (no longer the guest's own) */
#define VM_CATCH_ALL	    (VM_CATCH_FAULT | VM_CATCH_BREAKPOINT | VM_CATCH_ILLEGAL)
/* Not a catch to set but a reason: the vCPU stopped because it was asked to
 * (VCPU_REQ_STOP: a sandbox's time budget ran out). */
#define VM_CATCH_STOP BIT(3)
/* Set the VM's catches (it is paused meanwhile); -VIREO_EINVAL for unknown bits. */
int vm_set_catch(struct vm *vm, unsigned catch);
/* On v's hart, from its exit: pause the VM and tell the host why (vcpu_handle_exit). */
enum vcpu_action vm_catch(struct vcpu *v, unsigned why);
/* Paused, and every vCPU's state in memory (none loaded on a hart, none in the guest). */
bool vm_is_parked(const struct vm *vm);
/* Kept off its hart: the VM is paused, unless this is the one vCPU a debugger steps. */
static inline bool vcpu_held(const struct vcpu *v)
{
	return __atomic_load_n(&v->vm->paused, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&v->vm->debug.step_vcpu, __ATOMIC_ACQUIRE) != v;
}
/* The guest's ebreaks come to Vireo: the host catches them, or a debugger is attached. */
static inline bool vm_catches_breakpoints(const struct vm *vm)
{
	return (vm->catch & VM_CATCH_BREAKPOINT) || vm->debug.attached;
}
/* Print the state of every vCPU of every VM (console debug key). */
void vm_dump_all(void);
/* Give a typed byte to the VM that has the keyboard; false if none takes input. */
bool vm_console_deliver(uint8_t byte);
/* Copy the focused VM's name; false if there is none. */
bool vm_console_focus_name(char *name, size_t size);
/* Choose the VM that gets the keyboard by its console number. */
bool vm_console_set_focus(unsigned number);

#endif
