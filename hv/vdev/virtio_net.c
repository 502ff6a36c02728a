// SPDX-License-Identifier: BSD-2-Clause
/* The guest's virtio network card; see vireo/vnet.h. */
#include <vireo/string.h>
#include <vireo/vnet.h>

#define RXQ VIRTIO_NET_RXQ
#define TXQ VIRTIO_NET_TXQ
#define HDR sizeof(struct virtio_net_hdr)

static struct vnet *vnet_of(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vnet, vdev);
}

static bool live(const struct vnet *d, unsigned q)
{
	return virtio_dev_queue_live(&d->vdev, q);
}

/* ---------------------------------------------------------------- transmit */

/*
 * The frame of a transmit chain: everything after the 12-byte header, in
 * pieces of host memory. False (the frame is dropped) for a chain the driver
 * got wrong, a header asking for an offload that was not negotiated, or a
 * frame that is not 14..NET_FRAME_MAX bytes.
 */
static bool tx_frame(const struct vnet *d, const struct virtq_chain *c, struct net_frame *f)
{
	struct virtio_net_hdr hdr;
	uint64_t total = virtq_chain_bytes(c, 0, c->nread);
	uint64_t skip = HDR;
	struct net_frame whole = {0};

	/* A transmit chain has only device-readable buffers. */
	if (c->bad || c->n != c->nread || total < HDR + NET_ETH_HLEN || total > HDR + NET_FRAME_MAX)
		return false;
	*f = (struct net_frame){0};
	for (unsigned i = 0; i < c->n; i++) {
		struct guest_mem_seg segs[2];
		unsigned n = 0;

		if (!guest_mem_segments(&d->mem, c->bufs[i].gpa, c->bufs[i].len, segs, &n, 2))
			return false;
		for (unsigned k = 0; k < n; k++) {
			uint64_t len = segs[k].len;

			if (!net_frame_add(&whole, segs[k].host, (uint32_t)len))
				return false;
			if (skip >= len) {
				skip -= len;
				continue;
			}
			if (!net_frame_add(f, segs[k].host + skip, (uint32_t)(len - skip)))
				return false;
			skip = 0;
		}
	}
	/* The header may be split anywhere; its fields are the guest's to change under us,
	 * so it is read once, into our copy. */
	net_frame_read(&whole, 0, &hdr, HDR);
	return !hdr.flags && hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE;
}

/* Chains off the transmit queue, up to max; lock held. Stops on a broken ring. */
static unsigned tx_take(struct vnet *d, unsigned max)
{
	unsigned n = 0;

	spin_assert_held(&d->vdev.lock);
	while (n < max && live(d, TXQ)) {
		enum virtq_pop_result r = virtq_pop(&d->queues[TXQ], &d->tx_chains[n]);

		if (r == VIRTQ_EMPTY)
			break;
		if (r == VIRTQ_BROKEN) {
			virtio_dev_needs_reset(&d->vdev);
			break;
		}
		n++;
	}
	return n;
}

/*
 * Send what the guest made available, up to VNET_TX_BUDGET chains. Returns
 * true when chains are left for the guest's retry. One hart at a time sends
 * (it owns the scratch); a notify meanwhile makes it look again.
 */
static bool vnet_transmit(struct vnet *d)
{
	struct virtq *q = &d->queues[TXQ];
	unsigned budget = VNET_TX_BUDGET;
	bool more = false;

	spin_lock(&d->vdev.lock);
	if (d->tx_busy) {
		d->tx_again = true;
		spin_unlock(&d->vdev.lock);
		return false;
	}
	d->tx_busy = true;
	while (live(d, TXQ)) {
		uint32_t gen = d->gen;
		unsigned n;

		d->tx_again = false;
		virtq_set_notify(q, false);
		n = tx_take(d, MIN(budget, (unsigned)VNET_TX_BATCH));
		budget -= n;
		/* The chains are ours until they are used: read them without the lock. */
		spin_unlock(&d->vdev.lock);
		for (unsigned i = 0; i < n; i++) {
			struct net_frame f;

			if (tx_frame(d, &d->tx_chains[i], &f)) {
				net_send(&d->port, &f);
			} else {
				__atomic_fetch_add(&d->stats.tx_bad, 1, __ATOMIC_RELAXED);
				net_port_malformed(&d->port);
			}
		}
		spin_lock(&d->vdev.lock);
		/* After a reset the chains belong to a driver that is gone. */
		if (gen == d->gen)
			for (unsigned i = 0; i < n; i++)
				virtio_dev_complete(&d->vdev, TXQ, d->tx_chains[i].head, 0);
		if (!live(d, TXQ))
			break;
		if (!budget) {
			more = virtq_has_avail(q);
			if (more)
				virtq_set_notify(q, true);
			break;
		}
		if (n || d->tx_again)
			continue;
		/* Empty: ask for notifies again, then look once more (one may have been
		 * skipped while they were off). */
		virtq_set_notify(q, true);
		if (!virtq_has_avail(q))
			break;
	}
	d->tx_busy = false;
	spin_unlock(&d->vdev.lock);
	return more;
}

/* ---------------------------------------------------------------- receive */

/* Copy n bytes from src into the chain's writable buffers at *pos (checked at pop). */
static void rx_put(struct vnet *d, const struct virtq_chain *c, uint64_t *pos, const void *src,
		   uint32_t n)
{
	const uint8_t *from = src;
	uint64_t skip = *pos;

	*pos += n;
	for (unsigned i = c->nread; i < c->n && n; i++) {
		uint64_t room = c->bufs[i].len;
		uint32_t take;

		if (skip >= room) {
			skip -= room;
			continue;
		}
		take = (uint32_t)MIN(room - skip, (uint64_t)n);
		guest_mem_write(&d->mem, c->bufs[i].gpa + skip, from, take);
		from += take;
		n -= take;
		skip = 0;
	}
}

/* The switch hands this card a frame (the network's lock held). */
static enum net_deliver vnet_deliver(struct net_port *p, const struct net_frame *f)
{
	struct vnet *d = container_of(p, struct vnet, port);
	struct virtio_net_hdr hdr = {.num_buffers = 1};
	struct virtq_chain *c = &d->rx_chain;
	enum net_deliver r = NET_REFUSED;
	uint64_t pos = 0;

	spin_lock(&d->vdev.lock);
	if (!live(d, RXQ))
		goto out;
	switch (virtq_pop(&d->queues[RXQ], c)) {
	case VIRTQ_EMPTY:
		r = NET_FULL;
		goto out;
	case VIRTQ_BROKEN:
		virtio_dev_needs_reset(&d->vdev);
		goto out;
	case VIRTQ_CHAIN:
		break;
	}
	/* Device-writable buffers only, large enough for the header and the frame. */
	if (c->bad || c->nread || virtq_chain_bytes(c, 0, c->n) < HDR + f->len) {
		d->stats.rx_bad++;
		virtio_dev_complete(&d->vdev, RXQ, c->head, 0);
		goto out;
	}
	rx_put(d, c, &pos, &hdr, HDR);
	for (unsigned i = 0; i < f->nsegs; i++)
		rx_put(d, c, &pos, f->segs[i].p, f->segs[i].len);
	virtio_dev_complete(&d->vdev, RXQ, c->head, (uint32_t)pos);
	r = NET_TAKEN;
out:
	spin_unlock(&d->vdev.lock);
	return r;
}

/* The switch holds frames for us: hear (or stop hearing) about new receive buffers. */
static void vnet_want_room(struct net_port *p, bool want)
{
	struct vnet *d = container_of(p, struct vnet, port);

	spin_lock(&d->vdev.lock);
	if (d->queues[RXQ].ready)
		virtq_set_notify(&d->queues[RXQ], want);
	spin_unlock(&d->vdev.lock);
}

static const struct net_port_ops vnet_port_ops = {
    .deliver = vnet_deliver,
    .want_room = vnet_want_room,
};

/* ---------------------------------------------------------------- transport */

/* Receive buffers came (or the driver started, or reset): what waits may go in. A
 * transmit notify that reaches here is the transport's (see vnet_mmio_write). */
static void vnet_notify(struct virtio_dev *vdev, int queue)
{
	struct vnet *d = vnet_of(vdev);

	if (queue == TXQ || queue < 0)
		vnet_transmit(d);
	if (queue == RXQ || queue < 0)
		net_port_room(&d->port);
}

/* Back to power-on, lock held: chains in flight belong to nobody now. */
static void vnet_reset_locked(struct virtio_dev *vdev)
{
	vnet_of(vdev)->gen++;
}

static void vnet_queue_stop(struct virtio_dev *vdev, unsigned queue)
{
	if (queue == TXQ)
		vnet_of(vdev)->gen++;
}

static const struct virtio_dev_ops vnet_ops = {
    .device_id = VIRTIO_ID_NET,
    .notify = vnet_notify,
    .reset = vnet_reset_locked,
    .queue_stop = vnet_queue_stop,
};

/* The transmit notify, taken before the transport: -VIREO_EBUSY makes the guest
 * execute it again, which is how the budget leaves room for everyone else. */
static int vnet_mmio_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct vnet *d = opaque;

	if (offset == VIRTIO_MMIO_QUEUE_NOTIFY && width == 4 && (uint32_t)value == TXQ)
		return vnet_transmit(d) ? -VIREO_EBUSY : 0;
	return virtio_dev_mmio_ops.write(&d->vdev, offset, width, value);
}

static int vnet_mmio_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct vnet *d = opaque;

	return virtio_dev_mmio_ops.read(&d->vdev, offset, width, value);
}

const struct mmio_ops vnet_mmio_ops = {.read = vnet_mmio_read, .write = vnet_mmio_write};

/* ---------------------------------------------------------------- set-up */

void vnet_reset(struct vnet *d)
{
	virtio_dev_reset(&d->vdev);
}

/* Runs that are not empty and keep the rings' alignment in host memory (they are used
 * in place). */
static bool vnet_mem_ok(const struct guest_mem *mem)
{
	if (!mem || !mem->nruns || mem->nruns > GUEST_MEM_MAX_RUNS)
		return false;
	for (unsigned i = 0; i < mem->nruns; i++) {
		const struct guest_mem_run *r = &mem->runs[i];

		if (!r->size || r->gpa + r->size - 1 < r->gpa ||
		    (uintptr_t)r->host + r->size - 1 < (uintptr_t)r->host ||
		    !IS_ALIGNED((uintptr_t)r->host - r->gpa, VIRTQ_DESC_ALIGN))
			return false;
	}
	return true;
}

int vnet_init(struct vnet *d, const struct guest_mem *mem, const struct irq_line *irq,
	      const uint8_t mac[6], uint32_t ipv4, const char *name, uint8_t *backlog_store)
{
	uint64_t features = VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_NET_F_MTU) |
			    VIRTIO_FEATURE(VIRTIO_NET_F_STATUS) |
			    VIRTIO_FEATURE(VIRTIO_F_EVENT_IDX);

	if (!vnet_mem_ok(mem) || !backlog_store || net_mac_multicast(mac))
		return -VIREO_EINVAL;
	memset(d, 0, sizeof(*d));
	d->mem = *mem;
	memcpy(d->config.mac, mac, 6);
	d->config.status = VIRTIO_NET_S_LINK_UP;
	d->config.max_virtqueue_pairs = 1;
	d->config.mtu = VNET_MTU;
	d->port = (struct net_port){
	    .ops = &vnet_port_ops,
	    .name = name,
	    .ipv4 = ipv4,
	    .backlog_store = backlog_store,
	};
	memcpy(d->port.mac, mac, 6);
	d->rx_chain = (struct virtq_chain){.bufs = d->rx_bufs, .max = VNET_CHAIN_MAX};
	for (unsigned i = 0; i < VNET_TX_BATCH; i++)
		d->tx_chains[i] =
		    (struct virtq_chain){.bufs = d->tx_bufs[i], .max = VNET_CHAIN_MAX};
	virtio_dev_init(&d->vdev, &vnet_ops, &d->mem, irq, features, d->queues, 2, VNET_QUEUE_MAX,
			&d->config, sizeof(d->config));
	return 0;
}
