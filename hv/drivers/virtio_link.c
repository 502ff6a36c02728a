// SPDX-License-Identifier: BSD-2-Clause
/*
 * The host end of the channel: QEMU's virtio-serial device (-device
 * virtio-serial-device -device virtconsole,chardev=...), whose port 0 is one
 * end of a socketpair the host program holds. Vireo drives it as a plain
 * console device, without multiport: port 0's receive and transmit queues
 * carry the link protocol's byte stream, which the channel core
 * (core/chan.c) speaks. Received bytes go to the channel straight from the
 * receive buffers; what the channel writes is gathered into transmit
 * buffers and sent when one fills or the channel flushes. The device is not
 * trusted: used entries are checked (virtq_drv), lengths are clipped to the
 * buffers, and a device that breaks its queue is reset and given up.
 */
#include <vireo/chan.h>
#include <vireo/error.h>
#include <vireo/host_irq.h>
#include <vireo/link_host.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/platform.h>
#include <vireo/printf.h>
#include <vireo/spinlock.h>
#include <vireo/string.h>
#include <vireo/virtio_drv.h>

#define LINK_RXQ	0
#define LINK_TXQ	1
#define LINK_QUEUE_SIZE 64
#define LINK_BUFS	16	    /* receive buffers, and as many transmit buffers */
#define LINK_BUF_SIZE	(16 * 1024) /* each */

struct link_host {
	struct virtio_drv drv;
	struct chan_link *chan;
	char what[40];
	spinlock_t lock; /* the queues and the transmit buffers */
	bool broken;
	struct virtq_drv rxq, txq;
	uint8_t *rx_bufs, *tx_bufs; /* LINK_BUFS * LINK_BUF_SIZE each, in pages the device sees */
	bool tx_busy[LINK_BUFS];    /* handed to the device */
	int tx_cur;		    /* the buffer being filled, or -1 */
	uint32_t tx_fill;
};

static uint8_t *rx_buf(struct link_host *l, unsigned i)
{
	return l->rx_bufs + (size_t)i * LINK_BUF_SIZE;
}

static uint8_t *tx_buf(struct link_host *l, unsigned i)
{
	return l->tx_bufs + (size_t)i * LINK_BUF_SIZE;
}

/* ---------------------------------------------------------------- receiving */

/* Give receive buffer i (back) to the device; lock held. True if it wants a notify. */
static bool post_rx(struct link_host *l, unsigned i)
{
	struct virtq_drv_buf b = {(uintptr_t)rx_buf(l, i), LINK_BUF_SIZE, true};
	int head = virtq_drv_add(&l->rxq, &b, 1, rx_buf(l, i));

	return head >= 0 && virtq_drv_publish(&l->rxq, (uint16_t)head);
}

/* One used receive buffer off the queue: its index and length, or false. Lock held. */
static bool take_rx(struct link_host *l, unsigned *index, uint32_t *len)
{
	for (;;) {
		uint16_t head;
		void *cookie;

		switch (virtq_drv_get(&l->rxq, &head, &cookie, len)) {
		case VIRTQ_DRV_NONE:
			return false;
		case VIRTQ_DRV_BROKEN:
			l->broken = true;
			return false;
		case VIRTQ_DRV_BOGUS:
			continue;
		case VIRTQ_DRV_USED:
			*index = (unsigned)(((uint8_t *)cookie - l->rx_bufs) / LINK_BUF_SIZE);
			*len = MIN(*len, (uint32_t)LINK_BUF_SIZE);
			return true;
		}
	}
}

static void receive(struct link_host *l)
{
	unsigned i;
	uint32_t len;
	bool notify = false;

	for (;;) {
		spin_lock(&l->lock);
		bool got = !l->broken && take_rx(l, &i, &len);
		spin_unlock(&l->lock);
		if (!got)
			break;
		/* The buffer is ours until it is posted again: no lock while the channel reads. */
		chan_link_receive(l->chan, rx_buf(l, i), len);
		spin_lock(&l->lock);
		notify |= post_rx(l, i);
		spin_unlock(&l->lock);
	}
	if (notify)
		virtio_drv_notify(&l->drv, LINK_RXQ);
}

/* ---------------------------------------------------------------- sending */

/* Transmit buffers the device has finished with; lock held. */
static void reap_tx(struct link_host *l)
{
	for (;;) {
		uint16_t head;
		void *cookie;
		uint32_t len;
		enum virtq_drv_get_result r = virtq_drv_get(&l->txq, &head, &cookie, &len);

		if (r == VIRTQ_DRV_NONE)
			return;
		if (r == VIRTQ_DRV_BROKEN) {
			l->broken = true;
			return;
		}
		if (r == VIRTQ_DRV_USED)
			l->tx_busy[((uint8_t *)cookie - l->tx_bufs) / LINK_BUF_SIZE] = false;
	}
}

static int free_tx(const struct link_host *l)
{
	for (unsigned i = 0; i < LINK_BUFS; i++)
		if (!l->tx_busy[i] && (int)i != l->tx_cur)
			return (int)i;
	return -1;
}

/* Hand the buffer being filled to the device; lock held. True if it wants a notify. */
static bool submit_tx(struct link_host *l)
{
	struct virtq_drv_buf b;
	int head;

	if (l->tx_cur < 0 || !l->tx_fill)
		return false;
	b = (struct virtq_drv_buf){(uintptr_t)tx_buf(l, (unsigned)l->tx_cur), l->tx_fill, false};
	head = virtq_drv_add(&l->txq, &b, 1, tx_buf(l, (unsigned)l->tx_cur));
	if (head < 0)
		return false; /* cannot happen: one descriptor per buffer, as many as buffers */
	l->tx_busy[l->tx_cur] = true;
	l->tx_cur = -1;
	l->tx_fill = 0;
	return virtq_drv_publish(&l->txq, (uint16_t)head);
}

static size_t link_room(void *ctx)
{
	struct link_host *l = ctx;
	size_t room = 0;

	spin_lock(&l->lock);
	if (!l->broken) {
		for (unsigned i = 0; i < LINK_BUFS; i++)
			if (!l->tx_busy[i] && (int)i != l->tx_cur)
				room += LINK_BUF_SIZE;
		if (l->tx_cur >= 0)
			room += LINK_BUF_SIZE - l->tx_fill;
	}
	spin_unlock(&l->lock);
	return room;
}

static void link_write(void *ctx, const void *bytes, size_t n)
{
	struct link_host *l = ctx;
	const uint8_t *p = bytes;
	bool notify = false;

	spin_lock(&l->lock);
	while (n && !l->broken) {
		uint32_t take;

		if (l->tx_cur < 0 && (l->tx_cur = free_tx(l)) < 0)
			break; /* the channel asked room() first: cannot happen */
		take = (uint32_t)MIN(n, (size_t)(LINK_BUF_SIZE - l->tx_fill));
		memcpy(tx_buf(l, (unsigned)l->tx_cur) + l->tx_fill, p, take);
		l->tx_fill += take;
		p += take;
		n -= take;
		if (l->tx_fill == LINK_BUF_SIZE)
			notify |= submit_tx(l);
	}
	spin_unlock(&l->lock);
	if (notify)
		virtio_drv_notify(&l->drv, LINK_TXQ);
}

static void link_flush(void *ctx)
{
	struct link_host *l = ctx;
	bool notify;

	spin_lock(&l->lock);
	notify = !l->broken && submit_tx(l);
	spin_unlock(&l->lock);
	if (notify)
		virtio_drv_notify(&l->drv, LINK_TXQ);
}

static const struct chan_link_ops link_ops = {
    .room = link_room,
    .write = link_write,
    .flush = link_flush,
};

/* ---------------------------------------------------------------- interrupts */

static void link_irq(void *opaque)
{
	struct link_host *l = opaque;
	uint32_t isr = virtio_drv_ack_irq(&l->drv);
	bool was_broken = l->broken;

	if ((isr & VIRTIO_MMIO_INT_CONFIG) && virtio_drv_needs_reset(&l->drv))
		l->broken = true;
	spin_lock(&l->lock);
	reap_tx(l);
	spin_unlock(&l->lock);
	receive(l);
	if (l->broken && !was_broken) {
		log_error("%s: the device broke its queues; the host channel is down", l->what);
		virtio_drv_reset(&l->drv);
		return;
	}
	/* Room was made, or data came in: the channel may have more to say. */
	chan_link_pump(l->chan);
}

/* ---------------------------------------------------------------- set-up */

/* A device that could not be set up: reset and marked failed, memory back. */
static void link_free(struct link_host *l)
{
	size_t pages = ALIGN_UP((size_t)LINK_BUFS * LINK_BUF_SIZE, PAGE_SIZE) / PAGE_SIZE;

	virtio_drv_fail(&l->drv);
	virtq_drv_free(&l->rxq);
	virtq_drv_free(&l->txq);
	if (l->rx_bufs)
		page_free(l->rx_bufs, pages);
	if (l->tx_bufs)
		page_free(l->tx_bufs, pages);
	kfree(l);
}

static int link_setup(struct link_host *l)
{
	size_t pages = ALIGN_UP((size_t)LINK_BUFS * LINK_BUF_SIZE, PAGE_SIZE) / PAGE_SIZE;
	int err = virtio_drv_start(&l->drv, 0, 0);

	if (!err)
		err =
		    virtio_drv_setup_queue(&l->drv, LINK_RXQ, &l->rxq, LINK_QUEUE_SIZE, LINK_BUFS);
	if (!err)
		err =
		    virtio_drv_setup_queue(&l->drv, LINK_TXQ, &l->txq, LINK_QUEUE_SIZE, LINK_BUFS);
	if (err)
		return err;
	l->rx_bufs = page_alloc(pages, PAGE_SIZE);
	l->tx_bufs = page_alloc(pages, PAGE_SIZE);
	if (!l->rx_bufs || !l->tx_bufs)
		return -VIREO_ENOMEM;
	for (unsigned i = 0; i < LINK_BUFS; i++)
		post_rx(l, i);
	return 0;
}

int link_host_probe(const struct platform *plat, struct chan_link *chan)
{
	for (unsigned i = 0; i < plat->nvirtio && i < PLATFORM_MAX_VIRTIO; i++) {
		const struct platform_mmio *m = &plat->virtio[i];
		struct link_host *l;

		if (!m->present ||
		    !virtio_drv_probe((uintptr_t)m->base, m->size, VIRTIO_ID_CONSOLE))
			continue;
		l = kzalloc(sizeof(*l));
		if (!l)
			return -VIREO_ENOMEM;
		l->drv =
		    (struct virtio_drv){.base = (uintptr_t)m->base, .irq = m->irq, .what = l->what};
		l->lock = (spinlock_t)SPINLOCK_INIT;
		l->tx_cur = -1;
		l->chan = chan;
		vireo_snprintf(l->what, sizeof(l->what), "host channel at %#lx",
			       (unsigned long)m->base);
		int err = link_setup(l);
		const char *why = vireo_strerror(err);

		if (!err && host_irq_register(l->drv.irq, 0, link_irq, l)) {
			err = -VIREO_EIO;
			why = host_irq_error();
		}
		if (err) {
			log_warn("%s: not usable: %s", l->what, why);
			link_free(l);
			return -VIREO_EIO;
		}
		chan_link_init(chan, &link_ops, l);
		virtio_drv_ready(&l->drv);
		virtio_drv_notify(&l->drv, LINK_RXQ);
		log_info("%s: the host program's channel", l->what);
		chan_link_up(chan);
		return 0;
	}
	return -VIREO_ENOENT;
}
