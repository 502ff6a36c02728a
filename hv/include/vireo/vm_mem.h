/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The machine's memory, promised ahead (docs/machine.md, "Limits"). In a
 * long-lived machine every VM is promised, when it is made, all the memory it
 * may ever take: its RAM (or a fork's limit on the pages it copies), and an
 * allowance for its tables and devices. A VM that does not fit what is left
 * is refused, with the numbers; one that is made can never run the machine
 * out of memory, whatever it or its neighbours do. A fork that reaches its
 * limit is stopped alone (VM_STATUS_MEMORY). Blobs the host hands in are
 * charged the same way. Outside machine mode (a boot bundle's VMs) nothing is
 * promised: they take what the page pool has, as before.
 */
#ifndef VIREO_VM_MEM_H
#define VIREO_VM_MEM_H

#include <vireo/types.h>

struct vm;
struct vm_config;

/* Kept back for Vireo itself (its heap grows; the pool fragments). */
#define VM_MEM_RESERVE (16 * MIB)
/* What a VM costs beyond its RAM: its structures (the virtio console alone is 140 KiB),
 * G-stage tables, the DTB it is built with. Per VM, and per vCPU. */
#define VM_MEM_OVERHEAD	     (640 * KIB)
#define VM_MEM_VCPU_OVERHEAD (16 * KIB)
/* A fork's limit on the pages it copies (and the tables it splits) when none is given. */
#define VM_FORK_DEFAULT_LIMIT (64 * MIB)
/* ...and the least one may ask for: loading its state copies the pages its devices' rings
 * and its vCPUs' records are on. */
#define VM_FORK_MIN_LIMIT (4 * MIB)
/* Exit status of a fork stopped at its memory limit. */
#define VM_STATUS_MEMORY 4

/* Machine mode starts: from now on what is free (less the reserve) is what VMs get. */
void vm_mem_start(void);
/* What a VM made from cfg is promised. */
uint64_t vm_mem_need(const struct vm_config *cfg);
/* Promise it (machine mode): 0, or -VIREO_ENOMEM with why[size] saying what is short. */
int vm_mem_commit(struct vm *vm, char *why, size_t size);
/* Give back what vm was promised (its RAM's share stays while forks use that RAM). */
void vm_mem_uncommit(struct vm *vm);
/* Raw charges (blobs, RAM outliving its VM): 0 or -VIREO_ENOMEM. */
int vm_mem_charge(uint64_t bytes);
void vm_mem_release(uint64_t bytes);
/* Promised, and the most that may be (0 outside machine mode). */
uint64_t vm_mem_committed(void);
uint64_t vm_mem_limit(void);

#endif
