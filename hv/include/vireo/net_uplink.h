/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The uplink: the host machine's virtio-net device (QEMU's
 * `-netdev user,id=n0 -device virtio-net-device,netdev=n0`), driven by Vireo
 * as a port of the network named "default" (NET_DEFAULT). Behind it QEMU's
 * user-mode network (slirp) is the router (10.0.2.2, which is also the
 * host's loopback), the DNS forwarder (10.0.2.3) and the NAT to the host's
 * network; it serves every VM of the default network by its own address.
 * Frames go to QEMU as they are (no offloads), each copied into one of the
 * uplink's transmit buffers; received ones go from QEMU's buffers straight
 * into the switch.
 */
#ifndef VIREO_NET_UPLINK_H
#define VIREO_NET_UPLINK_H

struct platform;

/* Find QEMU's virtio-net (the first one), set it up and attach it to the default
 * network (boot hart). Nothing happens when there is none. */
void net_uplink_probe(const struct platform *plat);

#endif
