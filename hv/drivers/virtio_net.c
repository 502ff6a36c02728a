// SPDX-License-Identifier: BSD-2-Clause
/*
 * The uplink: QEMU's virtio-net device driven by Vireo on the driver side
 * of the virtio library (virtio/mmio_drv.c, virtio/virtq_drv.c), as one
 * port of the default network; see vireo/net_uplink.h. One receive and one
 * transmit queue, one buffer of UPLINK_BUF bytes per descriptor (the header
 * and a whole frame: no MRG_RXBUF, no offloads), completion by interrupt.
 * The device is not trusted: used entries are checked (virtq_drv), lengths
 * are clipped to the buffers, and a device that breaks its queues is reset
 * and given up (its port then refuses every frame).
 */
#include <vireo/host_irq.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/net.h>
#include <vireo/net_uplink.h>
#include <vireo/platform.h>
#include <vireo/printf.h>
#include <vireo/spinlock.h>
#include <vireo/string.h>
#include <vireo/virtio_drv.h>

#define RXQ VIRTIO_NET_RXQ
#define TXQ VIRTIO_NET_TXQ
#define HDR sizeof(struct virtio_net_hdr)

#define UPLINK_QUEUE_SIZE 256 /* at most; QEMU offers 256 */
#define UPLINK_QUEUE_MIN  16
#define UPLINK_BUF	  2048 /* header + the largest frame, with room to spare */
#define UPLINK_BATCH	  32   /* receive buffers taken per trip through the lock */
#define UPLINK_WARNINGS	  8

#define UPLINK_FEATURES (BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_F_EVENT_IDX))

_Static_assert(UPLINK_BUF >= HDR + NET_FRAME_MAX, "an uplink buffer holds any frame");

struct uplink {
	struct virtio_drv drv;
	struct net_port port;
	char what[48];
	uint8_t mac[6];

	spinlock_t lock; /* everything below */
	bool broken;
	struct virtq_drv rxq, txq;
	uint8_t *rx_bufs, *tx_bufs; /* one UPLINK_BUF per descriptor of each queue */
	uint16_t *tx_free;	    /* indices of free transmit buffers (a stack) */
	unsigned ntx_free;
	unsigned warnings;
	uint64_t rx_frames, rx_bad, tx_frames;
};

static uint8_t *rx_buf(struct uplink *u, unsigned i)
{
	return u->rx_bufs + (size_t)i * UPLINK_BUF;
}

static uint8_t *tx_buf(struct uplink *u, unsigned i)
{
	return u->tx_bufs + (size_t)i * UPLINK_BUF;
}

/* Complaints about the device, rate-limited. Lock held. */
static void uplink_warn(struct uplink *u, const char *what, unsigned long val)
{
	if (u->warnings >= UPLINK_WARNINGS)
		return;
	u->warnings++;
	log_warn("%s: %s (%lu)%s", u->what, what, val,
		 u->warnings == UPLINK_WARNINGS ? "; further warnings suppressed" : "");
}

/* Stop using a misbehaving device. Lock held. */
static void uplink_break(struct uplink *u, const char *why)
{
	spin_assert_held(&u->lock);
	if (u->broken)
		return;
	log_error("%s: %s; resetting it, the default network has no uplink from now on", u->what,
		  why);
	u->broken = true;
	if (!virtio_drv_reset(&u->drv))
		log_error("%s: does not reset; it may still write to memory", u->what);
}

/* ---------------------------------------------------------------- transmit */

/* Transmit buffers the device is done with go back on the free stack. Lock held. */
static void reap_tx(struct uplink *u)
{
	while (!u->broken) {
		uint16_t head;
		uint32_t len;
		void *cookie;

		switch (virtq_drv_get(&u->txq, &head, &cookie, &len)) {
		case VIRTQ_DRV_NONE:
			return;
		case VIRTQ_DRV_BROKEN:
			uplink_break(u, "transmit used index out of range");
			return;
		case VIRTQ_DRV_BOGUS:
			uplink_warn(u, "transmit used ring names no buffer", head);
			break;
		case VIRTQ_DRV_USED:
			u->tx_free[u->ntx_free++] =
			    (uint16_t)(((uint8_t *)cookie - u->tx_bufs) / UPLINK_BUF);
			break;
		}
	}
}

/* The switch sends a frame out (the network's lock held). */
static enum net_deliver uplink_deliver(struct net_port *p, const struct net_frame *f)
{
	struct uplink *u = container_of(p, struct uplink, port);
	struct virtq_drv_buf b;
	bool notify = false;
	uint8_t *buf;
	int head;

	spin_lock(&u->lock);
	reap_tx(u);
	if (u->broken) {
		spin_unlock(&u->lock);
		return NET_REFUSED;
	}
	if (!u->ntx_free) {
		spin_unlock(&u->lock);
		return NET_FULL;
	}
	buf = tx_buf(u, u->tx_free[u->ntx_free - 1]);
	memset(buf, 0, HDR);
	net_frame_read(f, 0, buf + HDR, f->len);
	b = (struct virtq_drv_buf){(uintptr_t)buf, (uint32_t)(HDR + f->len), false};
	head = virtq_drv_add(&u->txq, &b, 1, buf);
	if (head >= 0) {
		u->ntx_free--;
		u->tx_frames++;
		notify = virtq_drv_publish(&u->txq, (uint16_t)head);
	}
	spin_unlock(&u->lock);
	/* Outside the lock: a notify is a trap into QEMU. */
	if (notify)
		virtio_drv_notify(&u->drv, TXQ);
	return head >= 0 ? NET_TAKEN : NET_FULL;
}

/*
 * Transmit completions interrupt only while frames wait for room: otherwise
 * the buffers are taken back when the next frame goes out. Each interrupt
 * costs the hart an exit if it is running a guest, so this halves the
 * uplink's interrupts under a stream from the VMs.
 */
static void uplink_want_room(struct net_port *p, bool want)
{
	struct uplink *u = container_of(p, struct uplink, port);

	spin_lock(&u->lock);
	virtq_drv_want_interrupts(&u->txq, want);
	spin_unlock(&u->lock);
}

static const struct net_port_ops uplink_port_ops = {.deliver = uplink_deliver,
						    .want_room = uplink_want_room};

/* ---------------------------------------------------------------- receive */

/* Give receive buffer i (back) to the device. Lock held. True if it wants a notify. */
static bool post_rx(struct uplink *u, unsigned i)
{
	struct virtq_drv_buf b = {(uintptr_t)rx_buf(u, i), UPLINK_BUF, true};
	int head = virtq_drv_add(&u->rxq, &b, 1, rx_buf(u, i));

	return head >= 0 && virtq_drv_publish(&u->rxq, (uint16_t)head);
}

/* Up to max used receive buffers: their indices and lengths. Lock held. */
static unsigned take_rx(struct uplink *u, unsigned *index, uint32_t *len, unsigned max)
{
	unsigned n = 0;

	while (n < max && !u->broken) {
		uint16_t head;
		void *cookie;

		switch (virtq_drv_get(&u->rxq, &head, &cookie, &len[n])) {
		case VIRTQ_DRV_NONE:
			return n;
		case VIRTQ_DRV_BROKEN:
			uplink_break(u, "receive used index out of range");
			return n;
		case VIRTQ_DRV_BOGUS:
			uplink_warn(u, "receive used ring names no buffer", head);
			break;
		case VIRTQ_DRV_USED:
			index[n++] = (unsigned)(((uint8_t *)cookie - u->rx_bufs) / UPLINK_BUF);
			break;
		}
	}
	return n;
}

/* Everything QEMU has received, into the switch, until its queue is empty. */
static void receive(struct uplink *u)
{
	unsigned index[UPLINK_BATCH];
	uint32_t len[UPLINK_BATCH];
	unsigned n;

	do {
		bool notify = false;

		spin_lock(&u->lock);
		n = take_rx(u, index, len, UPLINK_BATCH);
		spin_unlock(&u->lock);
		/* The buffers are ours until they are posted again: no lock meanwhile. */
		for (unsigned i = 0; i < n; i++) {
			struct net_frame f;

			if (len[i] < HDR + NET_ETH_HLEN || len[i] > HDR + NET_FRAME_MAX) {
				u->rx_bad++;
				net_port_malformed(&u->port);
				continue;
			}
			u->rx_frames++;
			net_frame_flat(&f, rx_buf(u, index[i]) + HDR, len[i] - (uint32_t)HDR);
			net_send(&u->port, &f);
		}
		spin_lock(&u->lock);
		for (unsigned i = 0; i < n && !u->broken; i++)
			notify |= post_rx(u, index[i]);
		spin_unlock(&u->lock);
		if (notify)
			virtio_drv_notify(&u->drv, RXQ);
	} while (n == UPLINK_BATCH);
}

static void uplink_irq(void *opaque)
{
	struct uplink *u = opaque;
	uint32_t isr = virtio_drv_ack_irq(&u->drv);

	spin_lock(&u->lock);
	if ((isr & VIRTIO_MMIO_INT_CONFIG) && !u->broken && virtio_drv_needs_reset(&u->drv))
		uplink_break(u, "device needs a reset");
	reap_tx(u);
	spin_unlock(&u->lock);
	receive(u);
	/* Transmit buffers came back: frames waiting for them may go. */
	net_port_room(&u->port);
}

/* ---------------------------------------------------------------- set-up */

static void uplink_free(struct uplink *u)
{
	size_t pages = ALIGN_UP((size_t)UPLINK_QUEUE_SIZE * UPLINK_BUF, PAGE_SIZE) / PAGE_SIZE;

	virtio_drv_fail(&u->drv);
	virtq_drv_free(&u->rxq);
	virtq_drv_free(&u->txq);
	if (u->rx_bufs)
		page_free(u->rx_bufs, pages);
	if (u->tx_bufs)
		page_free(u->tx_bufs, pages);
	if (u->port.backlog_store)
		page_free(u->port.backlog_store, NET_BACKLOG_BYTES / PAGE_SIZE);
	if (u->tx_free)
		kfree(u->tx_free);
	kfree(u);
}

static int uplink_setup(struct uplink *u)
{
	size_t pages = ALIGN_UP((size_t)UPLINK_QUEUE_SIZE * UPLINK_BUF, PAGE_SIZE) / PAGE_SIZE;
	int err = virtio_drv_start(&u->drv, UPLINK_FEATURES, 0);

	if (!err)
		err = virtio_drv_setup_queue(&u->drv, RXQ, &u->rxq, UPLINK_QUEUE_SIZE,
					     UPLINK_QUEUE_MIN);
	if (!err)
		err = virtio_drv_setup_queue(&u->drv, TXQ, &u->txq, UPLINK_QUEUE_SIZE,
					     UPLINK_QUEUE_MIN);
	if (!err && virtio_drv_has(&u->drv, VIRTIO_NET_F_MAC)) {
		struct virtio_net_config cfg;

		err = virtio_drv_config_read(&u->drv, 0, &cfg, 8);
		memcpy(u->mac, cfg.mac, 6);
	}
	if (err)
		return err;
	u->rx_bufs = page_alloc(pages, PAGE_SIZE);
	u->tx_bufs = page_alloc(pages, PAGE_SIZE);
	u->tx_free = kzalloc(sizeof(*u->tx_free) * u->txq.size);
	u->port.backlog_store = page_alloc(NET_BACKLOG_BYTES / PAGE_SIZE, PAGE_SIZE);
	if (!u->rx_bufs || !u->tx_bufs || !u->tx_free || !u->port.backlog_store)
		return -VIREO_ENOMEM;
	for (unsigned i = 0; i < u->txq.size; i++)
		u->tx_free[u->ntx_free++] = (uint16_t)i;
	virtq_drv_want_interrupts(&u->txq, false);
	for (unsigned i = 0; i < u->rxq.size; i++)
		post_rx(u, i);
	return 0;
}

void net_uplink_probe(const struct platform *plat)
{
	for (unsigned i = 0; i < plat->nvirtio && i < PLATFORM_MAX_VIRTIO; i++) {
		const struct platform_mmio *m = &plat->virtio[i];
		struct net_switch *sw;
		struct uplink *u;
		char mac[18];
		int err;

		if (!m->present || !virtio_drv_probe((uintptr_t)m->base, m->size, VIRTIO_ID_NET))
			continue;
		u = kzalloc(sizeof(*u));
		if (!u)
			return;
		u->drv =
		    (struct virtio_drv){.base = (uintptr_t)m->base, .irq = m->irq, .what = u->what};
		u->lock = (spinlock_t)SPINLOCK_INIT;
		u->port.ops = &uplink_port_ops;
		u->port.name = "uplink";
		u->port.uplink = true;
		vireo_snprintf(u->what, sizeof(u->what), "uplink at %#lx", (unsigned long)m->base);
		sw = net_get(NET_DEFAULT);
		err = uplink_setup(u);
		if (!err)
			err = sw ? net_attach(sw, &u->port) : -VIREO_ENOMEM;
		if (!err) {
			err = host_irq_register(u->drv.irq, 0, uplink_irq, u);
			if (err)
				net_detach(&u->port);
		}
		if (err) {
			log_warn("%s: not usable (error %d)", u->what, err);
			uplink_free(u);
			return;
		}
		/* On the network before the device runs: frames may come at once. */
		virtio_drv_ready(&u->drv);
		virtio_drv_notify(&u->drv, RXQ);
		net_format_mac(mac, u->mac);
		log_info("%s: virtio-net (QEMU %s), the uplink of network '%s'", u->what, mac,
			 NET_DEFAULT);
		return;
	}
}
