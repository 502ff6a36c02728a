/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Snapshots of a VM (docs/machine.md, "Snapshots"): a paused VM's whole state
 * but its RAM (every vCPU, its interrupt controller, UART, virtio devices,
 * clock, SBI state) as bytes, and the way back: a VM made from such a state
 * (VM_ORIGIN_RESTORE, its RAM filled by the host) or a fork (VM_ORIGIN_FORK,
 * its RAM the template's) gets it applied before it first runs.
 *
 * The state is untrusted on the way back (a file the host read): every field
 * is checked, and what does not hold up is refused with the reason. Its layout
 * is versioned (VM_STATE_VERSION) and described in docs/machine.md; Vireo
 * reads only the version it writes.
 *
 * What a snapshot does not carry: guest AIA (IMSIC files live in hardware), a
 * network card, a sandbox, an attached debugger: such VMs are refused.
 */
#ifndef VIREO_VM_SNAPSHOT_H
#define VIREO_VM_SNAPSHOT_H

#include <vireo/types.h>

struct vm;

#define VM_STATE_MAGIC	 0x5354534d56455256ULL /* "VREVMSTS" as little-endian bytes */
#define VM_STATE_VERSION 1

/* Whether vm's state can be saved now: parked (paused, every vCPU off its hart) and made
 * of what a snapshot carries. 0, or an error with why[size]. */
int vm_snapshot_check(struct vm *vm, char *why, size_t size);
/* Save a checked VM's state into a buffer of its own (kmalloc'ed, *out; the caller frees
 * it): the bytes used, or -VIREO_EBUSY (a disk request did not finish) / -VIREO_ENOMEM
 * with why. A template's is the state its first fork froze. */
long vm_snapshot_take(struct vm *vm, uint8_t **out, char *why, size_t size);
/*
 * Apply a state to a VM that has not started (VM_CREATED), made with the same vCPUs,
 * RAM size and devices. Its guest clock goes on from the state's, or reads the host's
 * (same_clock). 0, or -VIREO_EINVAL with why[size] (the VM must then be discarded).
 */
int vm_snapshot_load(struct vm *vm, const uint8_t *buf, size_t len, bool same_clock, char *why,
		     size_t size);
/* VM_START of a VM made from a snapshot: apply vm->restore (vm_snapshot_load). */
int vm_snapshot_apply(struct vm *vm, char *why, size_t size);
/* A fork's state: its template's as the first fork froze it (the template's devices
 * stop then). Its clock goes on from the freeze. */
int vm_snapshot_copy(struct vm *fork, struct vm *tmpl, char *why, size_t size);
/* After a load, once the VM is started: devices move what the state left waiting, and
 * the guest hears that its generation changed (vireo/vgenid.h). Nothing otherwise. */
void vm_snapshot_kick(struct vm *vm);

#endif
