/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Snapshots of a VM (docs/machine.md, "Snapshots"): a paused VM's whole state
 * (every vCPU, its interrupt controller, UART, virtio devices, clock, SBI
 * state) written into a blob for the host, which saves it with the VM's RAM;
 * and the way back: a VM made from such a state (VM_ORIGIN_RESTORE), its RAM
 * filled by the host, the state applied when it starts. The state is
 * untrusted on the way back: every field is checked, and what does not hold
 * up is refused with the reason.
 */
#ifndef VIREO_VM_SNAPSHOT_H
#define VIREO_VM_SNAPSHOT_H

#include <vireo/types.h>

struct vm;
struct blob;

/* VM_START of a VM made from a snapshot: apply vm->restore. 0, or an error with
 * why[size] saying what is wrong with the state (the VM must then be discarded). */
int vm_snapshot_apply(struct vm *vm, char *why, size_t size);

#endif
