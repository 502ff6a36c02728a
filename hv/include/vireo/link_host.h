/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host program's end of the channel (docs/channel.md) as Vireo sees it:
 * a virtio console of the host machine (QEMU: virtio-serial-device with a
 * virtconsole on port 0) driven by drivers/virtio_link.c.
 */
#ifndef VIREO_LINK_HOST_H
#define VIREO_LINK_HOST_H

struct platform;
struct chan_link;

/* Find the device, bring it up as the transport of `chan` and greet the host.
 * 0, -VIREO_ENOENT when the machine has none (no host program: no channel). */
int link_host_probe(const struct platform *plat, struct chan_link *chan);

#endif
