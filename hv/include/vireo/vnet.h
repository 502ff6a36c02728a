/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The network card a VM sees: a virtio-net device (virtio 1.2, 5.1) on
 * Vireo's virtio-mmio transport, one receive and one transmit queue, and a
 * port on one of Vireo's networks (vireo/net.h).
 *
 * Offered features, and why:
 *  - VIRTIO_NET_F_MAC: the VM's address, fixed by its config (or derived
 *    from its name by the host tool); it is the only source address the
 *    switch accepts from this port;
 *  - VIRTIO_NET_F_MTU (1500): Linux then refuses a larger MTU, so every
 *    frame fits the switch's 1518 bytes;
 *  - VIRTIO_NET_F_STATUS: the link is up (the carrier the guest reports);
 *  - VIRTIO_F_EVENT_IDX: notifications and interrupts only when the other
 *    side asks for them, which under load means once per batch, not per
 *    frame (each one is an exit, or an interrupt and its exits).
 * Not offered: checksum and segmentation offloads (a frame leaves the guest
 * as it goes on the wire, which is what QEMU's user network takes anyway, and
 * the switch never has to finish a checksum or cut a segment for a receiver
 * that did not negotiate the same); MRG_RXBUF (a frame of at most 1518 bytes
 * always fits one receive buffer, so one chain per frame suffices); the
 * control queue (no filtering to program: the switch sends a VM only its
 * own unicast and the network's broadcast and multicast); indirect
 * descriptors (Linux's net driver does not use them without offloads).
 *
 * Transmit: a notify takes the chains the guest made available (in batches,
 * outside the device lock), checks each (12-byte header with no offload
 * asked for; a frame of 14..1518 bytes; device-readable buffers only) and
 * hands the frame to the switch, which copies it straight from the guest's
 * buffers into the receivers'. At most VNET_TX_BUDGET chains per notify: if
 * more are waiting, the notify returns -VIREO_EBUSY, so the guest executes
 * it again (after the hart has looked at its interrupts and other vCPUs) and
 * the rest goes out then. A guest that keeps the queue full keeps only
 * itself busy.
 *
 * Receive: the switch delivers a frame into the next receive chain (the
 * header, then the frame); with none posted it keeps the frame in the
 * port's fair backlog and asks the guest to notify when it posts buffers.
 *
 * Guest input is never trusted: rings and buffers are checked by the
 * virtqueue library; a malformed chain is answered (used, length 0) and its
 * frame dropped and counted; a broken ring sets DEVICE_NEEDS_RESET.
 *
 * Locking: vdev.lock guards the device; it nests inside the network's lock
 * (delivery) and is never held while calling the switch.
 */
#ifndef VIREO_VNET_H
#define VIREO_VNET_H

#include <vireo/guest_mem.h>
#include <vireo/irq_line.h>
#include <vireo/mmio_bus.h>
#include <vireo/net.h>
#include <vireo/virtio.h>
#include <vireo/virtio_dev.h>
#include <vireo/virtq.h>

#define VNET_QUEUE_MAX 256 /* QueueNumMax of both queues */
#define VNET_CHAIN_MAX 8   /* buffers one chain may have */
#define VNET_TX_BATCH  32  /* chains taken per trip through the lock */
#define VNET_TX_BUDGET 256 /* chains per notify before the guest has to try again */
#define VNET_MTU       1500

struct vnet_stats {
	uint64_t tx_bad; /* transmit chains dropped: bad chain, header, or length */
	uint64_t rx_bad; /* receive chains the driver got wrong (too small, not writable) */
};

struct vnet {
	struct virtio_dev vdev; /* the transport; its lock guards the device */
	struct virtq queues[2];
	struct guest_mem mem;
	struct virtio_net_config config;
	struct net_port port;
	struct vnet_stats stats;

	uint32_t gen;  /* bumped by every reset: chains of an older driver are not returned */
	bool tx_busy;  /* a hart is transmitting (it owns the tx scratch below) */
	bool tx_again; /* ...and a notify came meanwhile */
	struct virtq_buf tx_bufs[VNET_TX_BATCH][VNET_CHAIN_MAX];
	struct virtq_chain tx_chains[VNET_TX_BATCH];
	struct virtq_buf rx_bufs[VNET_CHAIN_MAX]; /* under the lock */
	struct virtq_chain rx_chain;
};

/*
 * Set up the card over guest memory `mem` (copied), interrupting through irq
 * (may be NULL): its address, the IPv4 address the network's DHCP gives it
 * (0: none), its name (kept by pointer) and NET_BACKLOG_BYTES of backlog
 * store. It is on no network until net_attach(sw, &d->port).
 */
int vnet_init(struct vnet *d, const struct guest_mem *mem, const struct irq_line *irq,
	      const uint8_t mac[6], uint32_t ipv4, const char *name, uint8_t *backlog_store);
/* Back to power-on (as when the guest writes 0 to Status). */
void vnet_reset(struct vnet *d);

/* Its MMIO ops (the opaque is the struct vnet): the transport's, with the transmit
 * notify taken here so that it can ask for a retry. */
extern const struct mmio_ops vnet_mmio_ops;

#endif
