/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VMs on the host channel: each VM's virtio console (its agent port) is
 * channel n of the link, n being the VM's number in the boot configuration
 * (its console hotkey). Without a host program (no link device) the agent
 * port is there for the guest but leads nowhere.
 */
#ifndef VIREO_VM_CHAN_H
#define VIREO_VM_CHAN_H

#include <vireo/vcon.h>

struct platform;
struct vm;

/* Bring the link up if the machine has one (boot hart, before any VM). */
void vm_chan_init(const struct platform *plat);
/* What a VM's virtio console reports goes to the VM's console and channel. */
extern const struct vcon_ops vm_chan_vcon_ops;
/* Put the VM's agent port on the channel / take it off (its exit status to the host). */
void vm_chan_attach(struct vm *vm);
void vm_chan_detach(struct vm *vm, int status);
/* Whether a new VM may take this id: its channel has nothing pending for an earlier VM. */
bool vm_chan_id_idle(unsigned id);
/* The guest's agent port is open already (a restored or forked VM): tell the host. */
void vm_chan_port_opened(struct vm *vm);
/* Before the machine powers off: let a request being answered finish and what is
 * queued for the host go out (bounded: a host that stopped reading is not waited for). */
void vm_chan_drain(void);

#endif
