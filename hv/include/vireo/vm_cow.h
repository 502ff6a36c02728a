/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forks share RAM copy-on-write (docs/machine.md, "Fork"). A paused VM that
 * is forked stops for good (it is the forks' template): its RAM becomes a
 * struct vm_ram that every fork maps read-only in its G-stage. The first
 * write to a page, by the guest (a store guest-page fault) or by a device
 * (through the fork's guest_mem), copies it into a page of the fork's own,
 * mapped writable at the same address; other harts that may hold the old
 * translation flush it before the writer goes on. The RAM lives until the
 * template and the last fork have ended.
 *
 * A fork's copies count against its limit (vm_config.mem_limit); a fork that
 * reaches it is stopped with VM_STATUS_MEMORY, and nothing else notices.
 *
 * Locking: each fork's `lock` (a leaf but for the page pool's and heap's)
 * guards its G-stage leaves; the pages it copies are taken under it. It is
 * taken from exits (no lock held) and from devices (their lock held).
 */
#ifndef VIREO_VM_COW_H
#define VIREO_VM_COW_H

#include <vireo/guest_mem.h>
#include <vireo/spinlock.h>
#include <vireo/types.h>

struct vm;
struct vcpu;

/* RAM shared by a template and its forks. */
struct vm_ram {
	unsigned refs;	      /* the template's (until it ends) and each fork's */
	struct guest_mem mem; /* its runs of host memory */
	uint64_t charge;      /* the machine's memory it holds for itself (vm_mem.h) */
	/* What the template's guest_mem (and its devices') call: its RAM reads as it is,
	 * and nothing of the template's may write it any more. */
	struct guest_mem_cow sealed;
};

struct vm_cow {
	struct vm *vm;
	struct vm_ram *ram;
	spinlock_t lock;
	uint64_t limit;		  /* bytes of copies and split tables it may take */
	uint64_t used;		  /* ...and has taken */
	uint64_t copies;	  /* pages copied */
	uint64_t flushes;	  /* remote translation flushes it asked for */
	struct guest_mem_cow ops; /* what its guest_mem calls */
};

/* Make fork's RAM the template's, shared (vm_create of a VM_ORIGIN_FORK config; the
 * template is parked). 0 or -VIREO_ENOMEM / -VIREO_EINVAL. */
int vm_cow_attach(struct vm *fork, struct vm *tmpl);
/* Free the fork's copies and let go of the shared RAM (before its G-stage goes: the
 * copies are its writable leaves). Logs what copy-on-write cost it. */
void vm_cow_detach(struct vm *fork);
/* A store guest-page fault at gpa by v: a page of a fork's shared RAM is copied and the
 * store can be retried (true, or the VM was stopped at its limit: *stopped); false if
 * it is not a copy-on-write page (the fault is the guest's). */
bool vm_cow_fault(struct vcpu *v, uint64_t gpa, bool *stopped);
/* Whether a VM may be forked: paused and parked (-VIREO_EBUSY), not a fork, a sandbox,
 * a VM with guest AIA or a network card (-VIREO_EINVAL); else 0. */
int vm_cow_can_fork(struct vm *tmpl);
/* The shared RAM: one user less (freed with the last). */
void vm_ram_put(struct vm_ram *ram);
/* The template ends while forks go on: the RAM keeps up to bytes of its promise.
 * Returns what it kept. */
uint64_t vm_ram_keep_charge(struct vm_ram *ram, uint64_t bytes);

#endif
