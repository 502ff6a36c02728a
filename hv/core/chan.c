// SPDX-License-Identifier: BSD-2-Clause
/* Vireo's end of the link protocol; see vireo/chan.h and docs/channel.md. */
#include <vireo/chan.h>
#include <vireo/string.h>

static struct chan_port *port_of(struct chan_link *l, unsigned id)
{
	return id && id < CHAN_MAX_PORTS ? &l->ports[id] : NULL;
}

/* ---------------------------------------------------------------- sending */

/* One whole control frame, or nothing if the transport has no room for it yet. */
static bool send_frame(struct chan_link *l, uint16_t type, uint16_t chan, const void *payload,
		       uint32_t len)
{
	uint8_t hdr[VX_HDR_SIZE];

	if (l->ops->room(l->ctx) < VX_HDR_SIZE + len)
		return false;
	vx_put_hdr(hdr, type, chan, len);
	l->ops->write(l->ctx, hdr, sizeof(hdr));
	if (len)
		l->ops->write(l->ctx, payload, len);
	return true;
}

static bool send_u32(struct chan_link *l, uint16_t type, uint16_t chan, uint32_t value)
{
	uint8_t b[4];

	vx_put_u32(b, value);
	return send_frame(l, type, chan, b, sizeof(b));
}

static bool send_open(struct chan_link *l, unsigned id, struct chan_port *p)
{
	uint8_t b[4 + CHAN_NAME_MAX];
	uint32_t n = (uint32_t)strnlen(p->name, CHAN_NAME_MAX);

	vx_put_u32(b, id);
	memcpy(b + 4, p->name, n);
	return send_frame(l, LINK_OPEN, (uint16_t)id, b, 4 + n);
}

static bool send_exit(struct chan_link *l, unsigned id, struct chan_port *p)
{
	uint8_t b[4];

	vx_put_u32(b, (uint32_t)p->exit_status);
	return send_frame(l, LINK_VM_EXIT, (uint16_t)id, b, sizeof(b));
}

/* A session of the guest ends: the host hears CLOSE, unless it never heard OPEN. */
static void end_session(struct chan_port *p)
{
	if (p->say_open)
		p->say_open = false;
	else
		p->say_close = true;
}

/* Control messages of one port, in the order they happened (a CLOSE pending is always of
 * an earlier session than an OPEN pending); false if out of room. */
static bool pump_control(struct chan_link *l, unsigned id, struct chan_port *p)
{
	if (p->say_close) {
		if (!send_frame(l, LINK_CLOSE, (uint16_t)id, NULL, 0))
			return false;
		p->say_close = false;
	}
	if (p->say_open) {
		if (!send_open(l, id, p))
			return false;
		p->say_open = false;
	}
	/* Credit: all of it at first, then in batches (or whatever is owed once idle). */
	if (p->guest_open && p->owed &&
	    (p->owed >= CHAN_CREDIT_BATCH || !p->from_host || !byte_ring_used(p->from_host))) {
		if (!send_u32(l, LINK_CREDIT, (uint16_t)id, p->owed))
			return false;
		p->host_may += p->owed;
		p->owed = 0;
	}
	if (p->say_exit) {
		if (!send_exit(l, id, p))
			return false;
		p->say_exit = false;
	}
	return true;
}

/* The guest's bytes out of to_host, as far as the host's window and the transport allow.
 * Returns true if the ring was drained some (the device may have more to give). */
static bool pump_data(struct chan_link *l, unsigned id, struct chan_port *p)
{
	bool moved = false;

	while (p->attached && p->guest_open) {
		uint32_t len, n;
		const uint8_t *src = byte_ring_read_ptr(p->to_host, &len);
		size_t room = l->ops->room(l->ctx);
		uint8_t hdr[VX_HDR_SIZE];

		/* The host said it is done: the guest's bytes go nowhere, but they go. */
		if (p->host_closed) {
			byte_ring_consume(p->to_host, byte_ring_used(p->to_host));
			return len != 0;
		}
		n = MIN(len, p->host_window);
		n = MIN(n, VX_MAX_PAYLOAD);
		if (room <= VX_HDR_SIZE)
			break;
		n = (uint32_t)MIN((size_t)n, room - VX_HDR_SIZE);
		if (!n)
			break;
		vx_put_hdr(hdr, LINK_DATA, (uint16_t)id, n);
		l->ops->write(l->ctx, hdr, sizeof(hdr));
		l->ops->write(l->ctx, src, n);
		byte_ring_consume(p->to_host, n);
		p->host_window -= n;
		moved = true;
	}
	return moved;
}

/* Queue a whole frame (link lock held). */
static int queue_frame(struct chan_link *l, uint16_t type, uint16_t chan, const void *payload,
		       uint32_t len)
{
	if (len > VX_MAX_PAYLOAD || VX_HDR_SIZE + len > CHAN_OUT_MAX)
		return -VIREO_EINVAL;
	if (CHAN_OUT_MAX - l->out_len < VX_HDR_SIZE + len) {
		l->out_dropped++;
		return -VIREO_EBUSY;
	}
	vx_put_hdr(l->out + l->out_len, type, chan, len);
	if (len)
		memcpy(l->out + l->out_len + VX_HDR_SIZE, payload, len);
	l->out_len += VX_HDR_SIZE + len;
	return 0;
}

/* Queued frames go out whole, in order, as far as the transport has room. */
static void pump_queued(struct chan_link *l)
{
	uint32_t sent = 0;

	while (sent < l->out_len) {
		uint32_t frame = VX_HDR_SIZE + vx_get_u32(l->out + sent);

		if (l->ops->room(l->ctx) < frame)
			break;
		l->ops->write(l->ctx, l->out + sent, frame);
		sent += frame;
	}
	if (sent) {
		memmove(l->out, l->out + sent, l->out_len - sent);
		l->out_len -= sent;
	}
}

/* Have the port's device move data now; take note of what the guest consumed. */
static void move_data(struct chan_port *p)
{
	bool tx_ready = false;
	uint32_t consumed = 0;

	if (!p->attached || !p->move)
		return;
	p->move(p->dev, &tx_ready, &consumed);
	if (p->guest_open)
		p->owed += consumed;
}

/* Everything that can go out now goes; the transport sends it off at the end. */
static void pump_locked(struct chan_link *l)
{
	spin_assert_held(&l->lock);
	if (l->say_hello) {
		uint8_t b[8];

		vx_put_u32(b, VX_PROTOCOL_VER);
		vx_put_u32(b + 4, 0);
		if (send_frame(l, LINK_HELLO, 0, b, sizeof(b)))
			l->say_hello = false;
	}
	/* Replies and events before an error: a reply was earned before the error. */
	if (l->hello_received && !l->say_hello)
		pump_queued(l);
	if (l->say_error) {
		uint8_t b[4];

		vx_put_u32(b, l->error_code);
		if (send_frame(l, LINK_ERROR, l->error_chan, b, sizeof(b)))
			l->say_error = false;
	}
	/* Nothing about VMs before the host said hello. */
	for (unsigned id = 1; id < CHAN_MAX_PORTS && l->hello_received && !l->say_hello; id++) {
		struct chan_port *p = &l->ports[id];

		/* A port that was never attached, or is gone with nothing left to say. */
		if (!p->attached && !p->say_open && !p->say_close && !p->say_exit && !p->owed)
			continue;
		if (!pump_control(l, id, p))
			break;
		/* Drained some: the device may have more for the room we made. */
		for (unsigned round = 0; round < 4 && pump_data(l, id, p); round++)
			move_data(p);
		/* After the host's CLOSE no credit or transport completion comes back to drain
		 * what the device gave last: drop it now, so the guest finds room when it asks. */
		if (p->host_closed)
			pump_data(l, id, p);
	}
	l->ops->flush(l->ctx);
}

void chan_link_pump(struct chan_link *l)
{
	spin_lock(&l->lock);
	pump_locked(l);
	spin_unlock(&l->lock);
}

/* ---------------------------------------------------------------- receiving */

/* The host broke a rule: tell it (the latest error wins) and count it. */
static void host_error(struct chan_link *l, uint32_t code, uint16_t chan)
{
	l->bad_frames++;
	l->say_error = true;
	l->error_code = code;
	l->error_chan = chan;
}

static bool on_control(void *ctx, const struct vx_hdr *h, const uint8_t *payload)
{
	struct chan_link *l = ctx;
	struct chan_port *p = port_of(l, h->chan);

	switch (h->type) {
	case LINK_HELLO:
		if (h->len < 4 || vx_get_u32(payload) != VX_PROTOCOL_VER)
			host_error(l, LINK_ERR_PAYLOAD, 0);
		else
			l->hello_received = true;
		break;
	case LINK_CREDIT:
		if (!p || h->len != 4)
			host_error(l, p ? LINK_ERR_PAYLOAD : LINK_ERR_CHANNEL, h->chan);
		else if (p->guest_open)
			p->host_window += MIN(vx_get_u32(payload), UINT32_MAX - p->host_window);
		break;
	case LINK_CLOSE:
		if (!p)
			host_error(l, LINK_ERR_CHANNEL, h->chan);
		else
			p->host_closed = true;
		break;
	case LINK_ERROR:
		break; /* the host says Vireo broke a rule: answering would only echo it */
	case LINK_REQUEST: {
		/* The control plane queues it; without one, or without room, the host hears
		 * why at once. */
		uint8_t b[8] = {0};
		int err = l->ctl ? -VIREO_EBUSY : -VIREO_ENOSYS;

		if (h->len < 4) {
			host_error(l, LINK_ERR_PAYLOAD, h->chan);
			break;
		}
		if (l->ctl && l->ctl->request(l->ctl_ctx, payload, h->len))
			break;
		memcpy(b, payload, 4);
		vx_put_u32(b + 4, (uint32_t)err);
		queue_frame(l, LINK_REPLY, 0, b, sizeof(b));
		break;
	}
	default:
		host_error(l, LINK_ERR_TYPE, h->chan);
		break;
	}
	return true;
}

/* Host data for a guest: within what we granted, into the port's ring. */
static bool on_data(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
		    size_t n, bool last)
{
	struct chan_link *l = ctx;
	struct chan_port *p = port_of(l, h->chan);

	(void)last;
	if (!p || !p->attached || !p->guest_open) {
		/* Data in flight when the guest closed is dropped quietly; otherwise it is
		 * a host that sends to a channel that does not exist. */
		if (offset == 0 && (!p || !p->attached))
			host_error(l, LINK_ERR_CHANNEL, h->chan);
		return true;
	}
	if (offset == 0 && h->len > p->host_may) {
		host_error(l, LINK_ERR_WINDOW, h->chan);
		/* Every piece of this frame is dropped: it did not fit the window. */
		p->host_may = 0;
	}
	if (n > p->host_may)
		return true;
	byte_ring_put(p->from_host, bytes, (uint32_t)n);
	p->host_may -= (uint32_t)n;
	if (n)
		move_data(p);
	return true;
}

static const struct vx_parser_ops link_parser_ops = {on_control, on_data};

void chan_link_receive(struct chan_link *l, const uint8_t *bytes, size_t n)
{
	spin_lock(&l->lock);
	if (!l->dead && (vx_parser_feed(&l->parser, bytes, n) < n || l->parser.error)) {
		/* A frame over the limit: the rest of the stream cannot be framed. */
		l->dead = true;
		host_error(l, LINK_ERR_TOO_LONG, 0);
	}
	pump_locked(l);
	spin_unlock(&l->lock);
	if (l->ctl)
		l->ctl->run(l->ctl_ctx);
}

void chan_link_set_ctl(struct chan_link *l, const struct chan_ctl_ops *ops, void *ctx)
{
	l->ctl = ops;
	l->ctl_ctx = ctx;
}

bool chan_link_flushed(struct chan_link *l)
{
	bool flushed;

	spin_lock(&l->lock);
	flushed = l->out_len == 0;
	spin_unlock(&l->lock);
	return flushed;
}

int chan_link_send(struct chan_link *l, uint16_t type, uint16_t chan, const void *payload,
		   uint32_t len)
{
	int err;

	spin_lock(&l->lock);
	err = queue_frame(l, type, chan, payload, len);
	/* Only the queue: a frame added takes no room from the ports, so their data need
	 * not be looked at (walking every port was most of a reply's cost). */
	if (l->hello_received && !l->say_hello)
		pump_queued(l);
	l->ops->flush(l->ctx);
	spin_unlock(&l->lock);
	return err;
}

/* ---------------------------------------------------------------- set-up and ports */

void chan_link_init(struct chan_link *l, const struct chan_link_ops *ops, void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->lock = (spinlock_t)SPINLOCK_INIT;
	l->ops = ops;
	l->ctx = ctx;
	vx_parser_init(&l->parser, &link_parser_ops, l, 1u << LINK_DATA);
}

void chan_link_up(struct chan_link *l)
{
	spin_lock(&l->lock);
	l->say_hello = true;
	pump_locked(l);
	spin_unlock(&l->lock);
}

int chan_port_attach(struct chan_link *l, unsigned id, const char *name, struct byte_ring *to_host,
		     struct byte_ring *from_host,
		     void (*move)(void *dev, bool *tx_ready, uint32_t *consumed), void *dev)
{
	struct chan_port *p = port_of(l, id);

	if (!p || !to_host || !from_host)
		return -VIREO_EINVAL;
	spin_lock(&l->lock);
	if (p->attached) {
		spin_unlock(&l->lock);
		return -VIREO_EINVAL;
	}
	*p = (struct chan_port){
	    .attached = true, .to_host = to_host, .from_host = from_host, .move = move, .dev = dev};
	strlcpy(p->name, name ? name : "", sizeof(p->name));
	spin_unlock(&l->lock);
	return 0;
}

bool chan_port_idle(struct chan_link *l, unsigned id)
{
	struct chan_port *p = port_of(l, id);
	bool idle;

	if (!p)
		return false;
	spin_lock(&l->lock);
	idle = !p->attached && !p->say_open && !p->say_close && !p->say_exit;
	spin_unlock(&l->lock);
	return idle;
}

void chan_port_detach(struct chan_link *l, unsigned id, int status)
{
	struct chan_port *p = port_of(l, id);

	if (!p)
		return;
	spin_lock(&l->lock);
	if (p->attached) {
		if (p->guest_open)
			end_session(p);
		p->say_exit = true;
		p->exit_status = status;
		p->attached = false;
		p->guest_open = false;
		p->to_host = p->from_host = NULL;
		p->move = NULL;
		p->dev = NULL;
	}
	pump_locked(l);
	spin_unlock(&l->lock);
}

void chan_port_open(struct chan_link *l, unsigned id, bool open)
{
	struct chan_port *p = port_of(l, id);

	if (!p)
		return;
	spin_lock(&l->lock);
	if (p->attached && open != p->guest_open) {
		p->guest_open = open;
		p->host_window = 0;
		p->host_closed = false;
		if (open) {
			/* The host may fill the whole ring; from_host is empty (the device
			 * drops what a previous session left when the guest resets it). */
			p->say_open = true;
			p->host_may = 0;
			p->owed = p->from_host->size - byte_ring_used(p->from_host);
		} else {
			end_session(p);
			p->host_may = 0;
			p->owed = 0;
			byte_ring_consume(p->to_host, byte_ring_used(p->to_host));
		}
	}
	pump_locked(l);
	spin_unlock(&l->lock);
}

void chan_port_tx_ready(struct chan_link *l, unsigned id)
{
	(void)id;
	chan_link_pump(l);
}

void chan_port_consumed(struct chan_link *l, unsigned id, uint32_t n)
{
	struct chan_port *p = port_of(l, id);

	if (!p)
		return;
	spin_lock(&l->lock);
	if (p->attached && p->guest_open)
		p->owed += n;
	pump_locked(l);
	spin_unlock(&l->lock);
}
