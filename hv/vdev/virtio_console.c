// SPDX-License-Identifier: BSD-2-Clause
/* The guest's multiport virtio console; see vireo/vcon.h. */
#include <vireo/snap_io.h>
#include <vireo/string.h>
#include <vireo/vcon.h>

#define RXQ_CONSOLE virtio_console_rxq(VCON_PORT_CONSOLE)
#define TXQ_CONSOLE virtio_console_txq(VCON_PORT_CONSOLE)
#define RXQ_AGENT   virtio_console_rxq(VCON_PORT_AGENT)
#define TXQ_AGENT   virtio_console_txq(VCON_PORT_AGENT)

static struct vcon *vcon_of(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vcon, vdev);
}

static bool live(struct vcon *c, unsigned q)
{
	return virtio_dev_queue_live(&c->vdev, q);
}

/* A queue the driver broke: the device stops until it is reset (virtio 1.2, 2.1.2). */
static void broken(struct vcon *c)
{
	virtio_dev_needs_reset(&c->vdev);
}

/* ---------------------------------------------------------------- control queue */

static void ctrl_queue(struct vcon *c, uint32_t port, uint16_t event, uint16_t value,
		       const char *name)
{
	struct vcon_ctrl_msg *m;

	if (c->ctrl_count == VCON_CTRL_PENDING)
		return; /* a driver that posts no control buffers gets nothing */
	m = &c->ctrl[(c->ctrl_head + c->ctrl_count++) % VCON_CTRL_PENDING];
	*m = (struct vcon_ctrl_msg){{port, event, value}, name};
}

/* Hand waiting control messages to the driver, one per receive buffer. */
static void ctrl_deliver(struct vcon *c)
{
	struct virtq *q = &c->queues[VIRTIO_CONSOLE_CTRL_RXQ];
	struct virtq_buf bufs[VCON_CHAIN_MAX];
	struct virtq_chain chain = {.bufs = bufs, .max = VCON_CHAIN_MAX};

	while (c->ctrl_count && live(c, VIRTIO_CONSOLE_CTRL_RXQ) && virtq_has_avail(q)) {
		const struct vcon_ctrl_msg *m = &c->ctrl[c->ctrl_head];
		uint8_t msg[sizeof(m->hdr) + 32];
		uint32_t len = sizeof(m->hdr);
		uint32_t room;

		if (virtq_pop(q, &chain) != VIRTQ_CHAIN) {
			broken(c);
			return;
		}
		memcpy(msg, &m->hdr, sizeof(m->hdr));
		if (m->name) {
			uint32_t n = (uint32_t)strnlen(m->name, sizeof(msg) - len);
			memcpy(msg + len, m->name, n);
			len += n;
		}
		/* A message goes into the first writable buffer, whole, or not at all. */
		room = chain.n > chain.nread ? bufs[chain.nread].len : 0;
		if (!chain.bad && room >= len &&
		    guest_mem_write(&c->mem, bufs[chain.nread].gpa, msg, len))
			virtio_dev_complete(&c->vdev, VIRTIO_CONSOLE_CTRL_RXQ, chain.head, len);
		else
			virtio_dev_complete(&c->vdev, VIRTIO_CONSOLE_CTRL_RXQ, chain.head, 0);
		c->ctrl_head = (c->ctrl_head + 1) % VCON_CTRL_PENDING;
		c->ctrl_count--;
	}
}

static void port_ready(struct vcon *c, uint32_t port)
{
	if (c->port_ready[port])
		return;
	c->port_ready[port] = true;
	if (port == VCON_PORT_CONSOLE)
		ctrl_queue(c, port, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
	else
		ctrl_queue(c, port, VIRTIO_CONSOLE_PORT_NAME, 1, VCON_AGENT_NAME);
	/* The host end is always there (Vireo); whether data flows is the channel's business. */
	ctrl_queue(c, port, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
}

static void guest_port_open(struct vcon *c, uint32_t port, bool open)
{
	if (port != VCON_PORT_AGENT || open == c->agent_open)
		return;
	c->agent_open = open;
	c->ev_open_changed = true;
}

static void ctrl_message(struct vcon *c, const struct virtio_console_control *m)
{
	switch (m->event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (!m->value || c->driver_ready)
			break;
		c->driver_ready = true;
		for (uint32_t port = 0; port < VCON_PORTS; port++)
			ctrl_queue(c, port, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
		break;
	case VIRTIO_CONSOLE_PORT_READY:
		if (m->id < VCON_PORTS && m->value)
			port_ready(c, m->id);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (m->id < VCON_PORTS)
			guest_port_open(c, m->id, m->value != 0);
		break;
	default:
		break; /* nothing else is the driver's to send */
	}
}

/* Messages from the driver: each chain holds one 8-byte control header. */
static void ctrl_receive(struct vcon *c)
{
	struct virtq *q = &c->queues[VIRTIO_CONSOLE_CTRL_TXQ];
	struct virtq_buf bufs[VCON_CHAIN_MAX];
	struct virtq_chain chain = {.bufs = bufs, .max = VCON_CHAIN_MAX};

	while (live(c, VIRTIO_CONSOLE_CTRL_TXQ)) {
		struct virtio_console_control m;
		enum virtq_pop_result r = virtq_pop(q, &chain);

		if (r == VIRTQ_EMPTY)
			break;
		if (r == VIRTQ_BROKEN) {
			broken(c);
			return;
		}
		if (!chain.bad && chain.nread && bufs[0].len >= sizeof(m) &&
		    guest_mem_read(&c->mem, bufs[0].gpa, &m, sizeof(m)))
			ctrl_message(c, &m);
		virtio_dev_complete(&c->vdev, VIRTIO_CONSOLE_CTRL_TXQ, chain.head, 0);
	}
}

/* ---------------------------------------------------------------- the console port */

/* What the guest writes on hvc0 goes out as it comes, a stretch at a time. */
static void console_transmit(struct vcon *c)
{
	struct virtq *q = &c->queues[TXQ_CONSOLE];
	struct virtq_buf bufs[VCON_CHAIN_MAX];
	struct virtq_chain chain = {.bufs = bufs, .max = VCON_CHAIN_MAX};
	uint8_t piece[256];

	while (live(c, TXQ_CONSOLE)) {
		enum virtq_pop_result r = virtq_pop(q, &chain);

		if (r == VIRTQ_EMPTY)
			break;
		if (r == VIRTQ_BROKEN) {
			broken(c);
			return;
		}
		for (unsigned i = 0; i < chain.nread && !chain.bad; i++) {
			for (uint32_t off = 0; off < bufs[i].len;) {
				uint32_t n = MIN(bufs[i].len - off, (uint32_t)sizeof(piece));
				if (!guest_mem_read(&c->mem, bufs[i].gpa + off, piece, n))
					break;
				c->ops->console_write(c->ctx, piece, n);
				off += n;
			}
		}
		virtio_dev_complete(&c->vdev, TXQ_CONSOLE, chain.head, 0);
	}
}

/* Fill a receive chain's writable buffers from a ring; returns the bytes moved. */
static uint32_t fill_from_ring(struct vcon *c, const struct virtq_chain *chain,
			       struct byte_ring *ring)
{
	uint32_t moved = 0;

	for (unsigned i = chain->nread; i < chain->n; i++) {
		for (uint32_t off = 0; off < chain->bufs[i].len;) {
			uint32_t len;
			const uint8_t *src = byte_ring_read_ptr(ring, &len);

			len = MIN(len, chain->bufs[i].len - off);
			if (!len)
				return moved;
			if (!guest_mem_write(&c->mem, chain->bufs[i].gpa + off, src, len))
				return moved;
			byte_ring_consume(ring, len);
			off += len;
			moved += len;
		}
	}
	return moved;
}

/* Bytes waiting in a ring go into the guest's receive buffers of a port. */
static uint32_t port_receive(struct vcon *c, unsigned qi, struct byte_ring *ring)
{
	struct virtq *q = &c->queues[qi];
	struct virtq_buf bufs[VCON_CHAIN_MAX];
	struct virtq_chain chain = {.bufs = bufs, .max = VCON_CHAIN_MAX};
	uint32_t total = 0;

	while (byte_ring_used(ring) && live(c, qi) && virtq_has_avail(q)) {
		uint32_t n;

		if (virtq_pop(q, &chain) != VIRTQ_CHAIN) {
			broken(c);
			break;
		}
		n = chain.bad ? 0 : fill_from_ring(c, &chain, ring);
		virtio_dev_complete(&c->vdev, qi, chain.head, n);
		total += n;
	}
	return total;
}

/* ---------------------------------------------------------------- the agent port */

/* Copy the pending transmit chain on into to_host; true when all of it is in. */
static bool agent_copy_chain(struct vcon *c)
{
	const struct virtq_chain *chain = &c->tx_chain;
	uint64_t skip = c->tx_done;

	for (unsigned i = 0; i < chain->nread; i++) {
		uint32_t off;

		if (skip >= chain->bufs[i].len) {
			skip -= chain->bufs[i].len;
			continue;
		}
		for (off = (uint32_t)skip; off < chain->bufs[i].len;) {
			uint32_t len;
			uint8_t *dst = byte_ring_write_ptr(&c->to_host, &len);

			len = MIN(len, chain->bufs[i].len - off);
			if (!len)
				return false;
			if (!guest_mem_read(&c->mem, chain->bufs[i].gpa + off, dst, len))
				return true; /* checked at pop time; cannot happen */
			byte_ring_commit(&c->to_host, len);
			off += len;
			c->tx_done += len;
			c->ev_tx_ready = true;
		}
		skip = 0;
	}
	return true;
}

/* The guest's transmit chains go into to_host while it has room; a chain that does
 * not fit stays half taken until the channel drains the ring. */
static void agent_transmit(struct vcon *c)
{
	struct virtq *q = &c->queues[TXQ_AGENT];

	while (live(c, TXQ_AGENT)) {
		if (!c->tx_pending) {
			enum virtq_pop_result r = virtq_pop(q, &c->tx_chain);

			if (r == VIRTQ_EMPTY)
				return;
			if (r == VIRTQ_BROKEN) {
				broken(c);
				return;
			}
			c->tx_pending = true;
			c->tx_done = 0;
		}
		/* A bad chain is handed back untouched: there is nothing to send. */
		if (!c->tx_chain.bad && !agent_copy_chain(c))
			return;
		virtio_dev_complete(&c->vdev, TXQ_AGENT, c->tx_chain.head, 0);
		c->tx_pending = false;
	}
}

/* ---------------------------------------------------------------- processing */

/* Everything that may move, with the lock held. */
static void process(struct vcon *c)
{
	ctrl_receive(c);
	ctrl_deliver(c);
	console_transmit(c);
	port_receive(c, RXQ_CONSOLE, &c->console_in);
	agent_transmit(c);
	/* The channel takes from_host's room when it hears the port open (or close): bytes
	 * taken in the same pass would be counted twice. They go on the next pass. */
	if (!c->ev_open_changed)
		c->ev_consumed += port_receive(c, RXQ_AGENT, &c->from_host);
}

/* The gathered events, to the channel, without the lock. */
static void deliver_events(struct vcon *c, bool tx_ready, bool open_changed, bool open,
			   uint32_t consumed)
{
	if (open_changed && c->ops->port_open)
		c->ops->port_open(c->ctx, open);
	if (tx_ready && c->ops->tx_ready)
		c->ops->tx_ready(c->ctx);
	if (consumed && c->ops->rx_consumed)
		c->ops->rx_consumed(c->ctx, consumed);
}

void vcon_kick(struct vcon *c)
{
	bool tx_ready, open_changed, open;
	uint32_t consumed;

	spin_lock(&c->vdev.lock);
	process(c);
	tx_ready = c->ev_tx_ready;
	open_changed = c->ev_open_changed;
	open = c->agent_open;
	consumed = c->ev_consumed;
	c->ev_tx_ready = c->ev_open_changed = false;
	c->ev_consumed = 0;
	spin_unlock(&c->vdev.lock);
	deliver_events(c, tx_ready, open_changed, open, consumed);
}

void vcon_move(struct vcon *c, bool *tx_ready, uint32_t *consumed)
{
	spin_lock(&c->vdev.lock);
	agent_transmit(c);
	c->ev_consumed += port_receive(c, RXQ_AGENT, &c->from_host);
	*tx_ready = c->ev_tx_ready;
	*consumed = c->ev_consumed;
	c->ev_tx_ready = false;
	c->ev_consumed = 0;
	spin_unlock(&c->vdev.lock);
}

bool vcon_console_input(struct vcon *c, uint8_t byte)
{
	bool ok;

	/* The console ring's producer is whoever types, under the device lock. */
	spin_lock(&c->vdev.lock);
	ok = byte_ring_put(&c->console_in, &byte, 1) == 1;
	spin_unlock(&c->vdev.lock);
	if (ok)
		vcon_kick(c);
	return ok;
}

/* ---------------------------------------------------------------- transport callbacks */

static void vcon_notify(struct virtio_dev *vdev, int queue)
{
	(void)queue;
	vcon_kick(vcon_of(vdev));
}

/* Back to power-on, lock held: what was in flight is forgotten, the port is closed. */
static void vcon_reset_locked(struct virtio_dev *vdev)
{
	struct vcon *c = vcon_of(vdev);

	c->driver_ready = false;
	memset(c->port_ready, 0, sizeof(c->port_ready));
	c->ctrl_head = c->ctrl_count = 0;
	c->tx_pending = false;
	byte_ring_init(&c->console_in, c->console_in_buf, VCON_INPUT_SIZE);
	/* Data for a driver that is gone (we are this ring's consumer). */
	byte_ring_consume(&c->from_host, byte_ring_used(&c->from_host));
	if (c->agent_open) {
		c->agent_open = false;
		c->ev_open_changed = true;
	}
}

static void vcon_queue_stop(struct virtio_dev *vdev, unsigned queue)
{
	if (queue == TXQ_AGENT)
		vcon_of(vdev)->tx_pending = false;
}

static const struct virtio_dev_ops vcon_ops = {
    .device_id = VIRTIO_ID_CONSOLE,
    .notify = vcon_notify,
    .reset = vcon_reset_locked,
    .queue_stop = vcon_queue_stop,
};

void vcon_reset(struct vcon *c)
{
	bool open_changed;

	virtio_dev_reset(&c->vdev);
	spin_lock(&c->vdev.lock);
	open_changed = c->ev_open_changed;
	c->ev_open_changed = false;
	spin_unlock(&c->vdev.lock);
	deliver_events(c, false, open_changed, false, 0);
}

void vcon_init(struct vcon *c, const struct guest_mem *mem, const struct irq_line *irq,
	       const struct vcon_ops *ops, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->mem = *mem;
	c->ops = ops;
	c->ctx = ctx;
	c->config.max_nr_ports = VCON_PORTS;
	c->tx_chain = (struct virtq_chain){.bufs = c->tx_bufs, .max = VCON_CHAIN_MAX};
	byte_ring_init(&c->to_host, c->to_host_buf, VCON_RING_SIZE);
	byte_ring_init(&c->from_host, c->from_host_buf, VCON_RING_SIZE);
	byte_ring_init(&c->console_in, c->console_in_buf, VCON_INPUT_SIZE);
	virtio_dev_init(&c->vdev, &vcon_ops, &c->mem, irq,
			VIRTIO_FEATURE(VIRTIO_CONSOLE_F_MULTIPORT), c->queues, VCON_QUEUES,
			VCON_QUEUE_MAX, &c->config, sizeof(c->config));
}

/* ---------------------------------------------------------------- snapshots */

static void ring_save(const struct byte_ring *ring, struct snap_writer *w)
{
	uint32_t used = byte_ring_used(ring);

	snap_put_u32(w, used);
	for (uint32_t done = 0; done < used;) {
		struct byte_ring peek = *ring;
		uint32_t len;
		const uint8_t *p;

		byte_ring_consume(&peek, done);
		p = byte_ring_read_ptr(&peek, &len);
		snap_put_bytes(w, p, len);
		done += len;
	}
}

static void ring_load(struct byte_ring *ring, struct snap_reader *r)
{
	uint32_t used = snap_get_u32(r);
	uint8_t chunk[256];

	byte_ring_consume(ring, byte_ring_used(ring));
	if (used > ring->size || used > snap_left(r)) {
		r->failed = true;
		return;
	}
	for (uint32_t n; used; used -= n) {
		n = MIN(used, (uint32_t)sizeof(chunk));
		snap_get_bytes(r, chunk, n);
		byte_ring_put(ring, chunk, n);
	}
}

static void tx_chain_save(const struct vcon *c, struct snap_writer *w)
{
	snap_put_u8(w, c->tx_pending);
	if (!c->tx_pending)
		return;
	snap_put_u16(w, c->tx_chain.head);
	snap_put_u32(w, c->tx_chain.n);
	snap_put_u32(w, c->tx_chain.nread);
	snap_put_u8(w, c->tx_chain.bad);
	for (unsigned i = 0; i < c->tx_chain.n; i++) {
		snap_put_u64(w, c->tx_bufs[i].gpa);
		snap_put_u32(w, c->tx_bufs[i].len);
		snap_put_u8(w, c->tx_bufs[i].write);
	}
	snap_put_u64(w, c->tx_done);
}

/* A half-sent chain: every buffer in RAM, as virtq_pop had checked. */
static void tx_chain_load(struct vcon *c, struct snap_reader *r)
{
	struct virtq_chain *chain = &c->tx_chain;
	uint64_t bytes = 0;

	c->tx_pending = snap_get_bool(r);
	if (!c->tx_pending)
		return;
	chain->head = snap_get_u16(r);
	chain->n = snap_get_below(r, VCON_CHAIN_MAX + 1);
	chain->nread = snap_get_below(r, chain->n + 1);
	chain->bad = snap_get_bool(r);
	for (unsigned i = 0; i < chain->n && !r->failed; i++) {
		c->tx_bufs[i].gpa = snap_get_u64(r);
		c->tx_bufs[i].len = snap_get_u32(r);
		c->tx_bufs[i].write = snap_get_bool(r);
		if (!guest_mem_contains(&c->mem, c->tx_bufs[i].gpa, c->tx_bufs[i].len))
			r->failed = true;
		if (i < chain->nread)
			bytes += c->tx_bufs[i].len;
	}
	c->tx_done = snap_get_u64(r);
	if (c->tx_done > bytes || chain->head >= c->queues[TXQ_AGENT].num)
		r->failed = true;
}

void vcon_save(struct vcon *c, struct snap_writer *w)
{
	virtio_dev_save(&c->vdev, w);
	spin_lock(&c->vdev.lock);
	snap_put_u8(w, c->driver_ready);
	for (unsigned i = 0; i < VCON_PORTS; i++)
		snap_put_u8(w, c->port_ready[i]);
	snap_put_u8(w, c->agent_open);
	snap_put_u32(w, c->ctrl_count);
	for (unsigned i = 0; i < c->ctrl_count; i++) {
		const struct vcon_ctrl_msg *m = &c->ctrl[(c->ctrl_head + i) % VCON_CTRL_PENDING];

		snap_put_u32(w, m->hdr.id);
		snap_put_u16(w, m->hdr.event);
		snap_put_u16(w, m->hdr.value);
	}
	tx_chain_save(c, w);
	/* What the guest sent that no host took yet goes with it; what a host sent the
	 * guest and it did not take was for a host session that ends here. */
	ring_save(&c->to_host, w);
	ring_save(&c->console_in, w);
	spin_unlock(&c->vdev.lock);
}

int vcon_load(struct vcon *c, struct snap_reader *r)
{
	int err = virtio_dev_load(&c->vdev, r);

	if (err)
		return err;
	spin_lock(&c->vdev.lock);
	c->driver_ready = snap_get_bool(r);
	for (unsigned i = 0; i < VCON_PORTS; i++)
		c->port_ready[i] = snap_get_bool(r);
	c->agent_open = snap_get_bool(r);
	c->ctrl_head = 0;
	c->ctrl_count = snap_get_below(r, VCON_CTRL_PENDING + 1);
	for (unsigned i = 0; i < c->ctrl_count && !r->failed; i++) {
		struct vcon_ctrl_msg *m = &c->ctrl[i];

		m->hdr.id = snap_get_below(r, VCON_PORTS);
		m->hdr.event = snap_get_u16(r);
		m->hdr.value = snap_get_u16(r);
		m->name = m->hdr.event == VIRTIO_CONSOLE_PORT_NAME ? VCON_AGENT_NAME : NULL;
	}
	tx_chain_load(c, r);
	ring_load(&c->to_host, r);
	ring_load(&c->console_in, r);
	/* The channel hears of the open port and of data waiting when the VM starts. */
	c->ev_open_changed = c->agent_open;
	c->ev_tx_ready = byte_ring_used(&c->to_host) != 0;
	err = r->failed ? -VIREO_EINVAL : 0;
	spin_unlock(&c->vdev.lock);
	if (err)
		vcon_reset(c);
	return err;
}
