/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VMs on Vireo's networks: a VM whose config names a network gets a
 * virtio-net card (vireo/vnet.h) in virtio slot VM_VIRTIO_SLOT_NET, with the
 * MAC and IPv4 address the host tool chose for it (docs/networking.md),
 * plugged into that network's switch (vireo/net.h). The uplink to QEMU's
 * network joins the network named "default" at boot.
 */
#ifndef VIREO_VM_NET_H
#define VIREO_VM_NET_H

struct platform;
struct vm;

/* The switch's clock and the uplink (boot hart, before any VM). */
void vm_net_boot(const struct platform *plat);
/* The VM's card, if its config asks for one: made, on the bus, on its network. */
int vm_net_init(struct vm *vm);
/* Off the network and freed (no vCPU of the VM runs any more). */
void vm_net_free(struct vm *vm);
/* One "vireo-net:" line per port of every network (the console's Ctrl-] d). */
void vm_net_dump(void);

#endif
