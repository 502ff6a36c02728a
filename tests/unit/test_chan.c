// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the channel core (hv/core/chan.c), Vireo's end of the link
 * protocol (docs/channel.md). The test plays the host program at the other
 * end of a fake transport (its room is the test's to set; what Vireo writes
 * is parsed with the framing of hv/lib/vx.c at every flush), and the VMs'
 * devices as fake ports: two byte rings each, a guest that writes and reads
 * at the test's command, and a `move` callback that plays the device.
 *
 * Every frame Vireo writes is checked as it comes: well-formed, whole at each
 * flush, nothing about VMs before the host's HELLO, OPEN/CLOSE/VM_EXIT in an
 * order the host can follow, DATA only within the window the host granted,
 * and never more host data in a port's ring, nor more credit, than the ring
 * can hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/chan.h>
#include <vireo/string.h>

#define RING	  VX_WINDOW /* each ring of a port, as the virtio console has them */
#define NPORTS	  3
#define OUT_MAX	  (1 << 20)
#define GOT_MAX	  (4 << 20)
#define NFRAMES	  1024
#define BIG_ROOM  ((size_t)1 << 40)
#define HEAD_KEEP 64

/* The hypervisor's strlcpy (hv/lib/string.c would replace the C library's memcpy). */
size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t k = n < size - 1 ? n : size - 1;

		memcpy(dst, src, k);
		dst[k] = 0;
	}
	return n;
}

struct fixture;

struct fake_port {
	struct fixture *f;
	unsigned id;
	const char *name;
	struct byte_ring to_host, from_host;
	uint8_t to_host_buf[RING], from_host_buf[RING];
	/* The guest behind the device. */
	uint64_t tx_len, tx_pos; /* bytes it wrote; how many of them went into to_host */
	uint32_t rx_budget;	 /* bytes it will still take out of from_host */
	uint8_t rx[GOT_MAX];	 /* what it took */
	size_t rx_len;
	unsigned moves;
	bool gone; /* detached: the channel must not call move or touch the rings */
	/* The host's view of the channel. */
	bool host_open, exited;
	uint64_t window, sent; /* credit the host gave this session; data Vireo sent */
	uint64_t granted;      /* credit Vireo gave this session */
	uint32_t head0, tail0; /* from_host's counters when the session began */
	uint32_t used0;	       /* bytes in from_host then */
	uint8_t got[GOT_MAX];  /* DATA the host received */
	size_t got_len;
	uint64_t host_seq; /* the host's bytes sent so far */
	int32_t exit_status;
};

struct frame {
	uint16_t type, chan;
	uint32_t len;
	uint8_t head[HEAD_KEEP];
};

struct fixture {
	struct chan_link link;
	struct fake_port ports[NPORTS];
	struct fake_port *by_chan[CHAN_MAX_PORTS];
	/* The transport. */
	size_t room;
	uint8_t out[OUT_MAX];
	size_t out_len;
	unsigned flushes;
	/* What the host got, frame by frame, since the last clear(). */
	struct frame fr[NFRAMES];
	unsigned nfr;
	bool saw_hello;
	/* The host's side of its own stream, parsed as Vireo parses it. */
	struct vx_parser mirror;
	bool host_hello;
	uint8_t frame_buf[VX_HDR_SIZE + VX_MAX_PAYLOAD];
};

static const unsigned port_ids[NPORTS] = {1, 2, CHAN_MAX_PORTS - 1};
static const char *const port_names[NPORTS] = {"vm-one", "second", "the-last-vm"};

static bool link_locked(const struct fixture *f)
{
	return __atomic_load_n(&f->link.lock.locked, __ATOMIC_RELAXED) != 0;
}

static uint8_t gpat(unsigned id, uint64_t i)
{
	return (uint8_t)(i * 31 + (i >> 9) * 7 + id * 59 + 3);
}

static uint8_t hpat(unsigned id, uint64_t i)
{
	return (uint8_t)(i * 17 + (i >> 11) * 5 + id * 97 + 11);
}

/* ---------------------------------------------------------------- what the host sees */

/* One frame as the host takes it, checked against everything the host may expect. */
static void host_takes(struct fixture *f, const struct vx_hdr *h, const uint8_t *payload)
{
	struct fake_port *p = h->chan < CHAN_MAX_PORTS ? f->by_chan[h->chan] : NULL;
	struct frame *fr;

	assert_true(f->nfr < NFRAMES);
	fr = &f->fr[f->nfr++];
	*fr = (struct frame){h->type, h->chan, h->len, {0}};
	memcpy(fr->head, payload, MIN(h->len, (uint32_t)HEAD_KEEP));
	/* Vireo's HELLO comes first (only a complaint or a reply could beat it). */
	if (!f->saw_hello)
		assert_true(h->type == LINK_HELLO || h->type == LINK_ERROR ||
			    h->type == LINK_REPLY);
	switch (h->type) {
	case LINK_HELLO:
		assert_int_equal(h->chan, 0);
		assert_int_equal(h->len, 8);
		assert_int_equal(vx_get_u32(payload), VX_PROTOCOL_VER);
		assert_int_equal(vx_get_u32(payload + 4), 0);
		assert_false(f->saw_hello);
		f->saw_hello = true;
		return;
	case LINK_ERROR:
		assert_true(h->len >= 4);
		assert_true(vx_get_u32(payload) >= LINK_ERR_TYPE &&
			    vx_get_u32(payload) <= LINK_ERR_PAYLOAD);
		return;
	case LINK_REPLY:
		assert_int_equal(h->chan, 0);
		assert_true(h->len >= 8);
		return;
	default:
		break;
	}
	/* Everything else is about a VM: only after the host said hello, on a channel. */
	assert_true(f->host_hello);
	assert_non_null(p);
	switch (h->type) {
	case LINK_OPEN:
		assert_false(p->host_open);
		assert_true(h->len >= 4 && h->len <= 4 + CHAN_NAME_MAX);
		assert_int_equal(vx_get_u32(payload), h->chan);
		p->host_open = true;
		p->exited = false;
		break;
	case LINK_CLOSE:
		assert_true(p->host_open);
		assert_int_equal(h->len, 0);
		p->host_open = false;
		break;
	case LINK_CREDIT:
		assert_true(p->host_open);
		assert_int_equal(h->len, 4);
		assert_true(vx_get_u32(payload) > 0);
		p->granted += vx_get_u32(payload);
		break;
	case LINK_DATA:
		assert_true(p->host_open);
		assert_true(h->len > 0);
		p->sent += h->len;
		/* Never beyond what the host granted. */
		assert_true(p->sent <= p->window);
		assert_true(p->got_len + h->len <= GOT_MAX);
		memcpy(p->got + p->got_len, payload, h->len);
		p->got_len += h->len;
		break;
	case LINK_VM_EXIT:
		assert_false(p->host_open);
		assert_false(p->exited);
		assert_true(h->len >= 4);
		p->exit_status = (int32_t)vx_get_u32(payload);
		p->exited = true;
		break;
	default:
		fail_msg("Vireo sent frame type %u", h->type);
	}
}

/* The output since the last flush: whole frames only. */
static void parse_output(struct fixture *f)
{
	size_t at = 0;

	while (at < f->out_len) {
		struct vx_hdr h;

		assert_true(f->out_len - at >= VX_HDR_SIZE);
		h.len = vx_get_u32(f->out + at);
		h.type = vx_get_u16(f->out + at + 4);
		h.chan = vx_get_u16(f->out + at + 6);
		assert_true(h.len <= (h.type == LINK_DATA ? VX_MAX_PAYLOAD : VX_CONTROL_MAX));
		assert_true(f->out_len - at - VX_HDR_SIZE >= h.len);
		host_takes(f, &h, f->out + at + VX_HDR_SIZE);
		at += VX_HDR_SIZE + h.len;
	}
	f->out_len = 0;
}

/* ---------------------------------------------------------------- the transport */

static size_t t_room(void *ctx)
{
	struct fixture *f = ctx;

	assert_true(link_locked(f));
	return f->room;
}

static void t_write(void *ctx, const void *bytes, size_t n)
{
	struct fixture *f = ctx;

	assert_true(link_locked(f));
	assert_true(n <= f->room);
	assert_true(f->out_len + n <= OUT_MAX);
	memcpy(f->out + f->out_len, bytes, n);
	f->out_len += n;
	f->room -= n;
}

static void t_flush(void *ctx)
{
	struct fixture *f = ctx;

	assert_true(link_locked(f));
	f->flushes++;
	parse_output(f);
}

static const struct chan_link_ops transport = {t_room, t_write, t_flush};

/* ---------------------------------------------------------------- the host's own stream */

/* Credit counts only while Vireo has the channel open (as chan.c takes it). */
static bool mirror_control(void *ctx, const struct vx_hdr *h, const uint8_t *payload)
{
	struct fixture *f = ctx;
	struct fake_port *p = h->chan < CHAN_MAX_PORTS ? f->by_chan[h->chan] : NULL;

	if (h->type == LINK_HELLO && h->len >= 4 && vx_get_u32(payload) == VX_PROTOCOL_VER)
		f->host_hello = true;
	if (h->type == LINK_CREDIT && h->len == 4 && p && f->link.ports[h->chan].guest_open)
		p->window += vx_get_u32(payload);
	return true;
}

static bool mirror_data(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
			size_t n, bool last)
{
	(void)ctx;
	(void)h;
	(void)offset;
	(void)bytes;
	(void)n;
	(void)last;
	return true;
}

static const struct vx_parser_ops mirror_ops = {mirror_control, mirror_data};

/* ---------------------------------------------------------------- fake ports */

static struct fake_port *port(struct fixture *f, unsigned id)
{
	assert_true(id < CHAN_MAX_PORTS && f->by_chan[id]);
	return f->by_chan[id];
}

/* The guest's queued bytes into to_host, as far as they fit. */
static uint32_t dev_tx(struct fake_port *p)
{
	uint32_t moved = 0;

	while (p->tx_pos < p->tx_len) {
		uint32_t len;
		uint8_t *dst = byte_ring_write_ptr(&p->to_host, &len);

		len = (uint32_t)MIN((uint64_t)len, p->tx_len - p->tx_pos);
		if (!len)
			break;
		for (uint32_t i = 0; i < len; i++)
			dst[i] = gpat(p->id, p->tx_pos + i);
		byte_ring_commit(&p->to_host, len);
		p->tx_pos += len;
		moved += len;
	}
	return moved;
}

/* What the guest is ready to read, out of from_host. */
static uint32_t dev_rx(struct fake_port *p)
{
	uint32_t n = MIN(p->rx_budget, byte_ring_used(&p->from_host));

	assert_true(p->rx_len + n <= GOT_MAX);
	assert_int_equal(byte_ring_get(&p->from_host, p->rx + p->rx_len, n), n);
	p->rx_len += n;
	p->rx_budget -= n;
	return n;
}

/* The device's side of vcon_move: called by the channel with its lock held. */
static void fake_move(void *dev, bool *tx_ready, uint32_t *consumed)
{
	struct fake_port *p = dev;

	assert_false(p->gone);
	assert_true(link_locked(p->f));
	p->moves++;
	*tx_ready = dev_tx(p) > 0;
	*consumed = dev_rx(p);
}

/* What holds at any time between calls, for every attached port. */
static void check(struct fixture *f)
{
	assert_false(link_locked(f));
	for (unsigned i = 0; i < NPORTS; i++) {
		struct fake_port *p = &f->ports[i];
		const struct chan_port *cp = &f->link.ports[p->id];

		if (p->gone || !cp->attached)
			continue;
		assert_true(byte_ring_used(&p->to_host) <= RING);
		assert_true(byte_ring_used(&p->from_host) <= RING);
		if (!cp->guest_open)
			continue;
		/* The host's bytes in the ring this session: never more than Vireo granted... */
		assert_true((uint32_t)(p->from_host.head - p->head0) <= p->granted);
		/* ...and Vireo never granted more than the ring could take. */
		assert_true(p->granted <=
			    RING - p->used0 + (uint32_t)(p->from_host.tail - p->tail0));
		/* What the host may still send always fits. */
		assert_true((uint64_t)cp->host_may + cp->owed <= byte_ring_free(&p->from_host));
	}
}

/* A new session of a port (as chan.c starts one): the host's accounts start afresh. */
static void new_session(struct fake_port *p)
{
	p->window = p->sent = p->granted = 0;
	p->head0 = p->from_host.head;
	p->tail0 = p->from_host.tail;
	p->used0 = byte_ring_used(&p->from_host);
}

static void guest_open(struct fixture *f, unsigned id, bool open)
{
	struct fake_port *p = port(f, id);

	if (f->link.ports[id].attached && f->link.ports[id].guest_open != open)
		new_session(p);
	chan_port_open(&f->link, id, open);
	check(f);
}

/* The guest writes n bytes: the device takes what fits and tells the channel. */
static void guest_write(struct fixture *f, unsigned id, uint64_t n)
{
	struct fake_port *p = port(f, id);

	p->tx_len += n;
	if (dev_tx(p))
		chan_port_tx_ready(&f->link, id);
	check(f);
}

/* The guest notifies again (it got its buffers back and has more to give). */
static void guest_kick(struct fixture *f, unsigned id)
{
	guest_write(f, id, 0);
}

/* The guest reads up to n bytes: the device takes them and tells the channel. */
static void guest_read(struct fixture *f, unsigned id, uint32_t n)
{
	struct fake_port *p = port(f, id);
	uint32_t taken;

	p->rx_budget += n;
	taken = dev_rx(p);
	if (taken)
		chan_port_consumed(&f->link, id, taken);
	check(f);
}

static void detach(struct fixture *f, unsigned id, int status)
{
	struct fake_port *p = port(f, id);

	chan_port_detach(&f->link, id, status);
	/* From now on the rings are off limits: poisoned, and checked later. */
	p->gone = true;
	memset(&p->to_host, 0x5a, sizeof(p->to_host));
	memset(&p->from_host, 0x5a, sizeof(p->from_host));
	check(f);
}

static void expect_poisoned(struct fake_port *p)
{
	for (size_t i = 0; i < sizeof(p->to_host); i++) {
		assert_int_equal(((uint8_t *)&p->to_host)[i], 0x5a);
		assert_int_equal(((uint8_t *)&p->from_host)[i], 0x5a);
	}
}

static void attach(struct fixture *f, unsigned i)
{
	struct fake_port *p = &f->ports[i];

	p->gone = false;
	byte_ring_init(&p->to_host, p->to_host_buf, RING);
	byte_ring_init(&p->from_host, p->from_host_buf, RING);
	p->tx_len = p->tx_pos = 0;
	p->rx_len = 0;
	p->rx_budget = 0;
	p->got_len = 0;
	p->host_seq = 0;
	new_session(p);
	assert_int_equal(
	    chan_port_attach(&f->link, p->id, p->name, &p->to_host, &p->from_host, fake_move, p),
	    0);
}

/* ---------------------------------------------------------------- the host */

static void host_feed(struct fixture *f, const void *bytes, size_t n)
{
	vx_parser_feed(&f->mirror, bytes, n);
	chan_link_receive(&f->link, bytes, n);
	check(f);
}

static size_t build(uint8_t *out, uint16_t type, uint16_t chan, const void *payload, uint32_t len)
{
	vx_put_hdr(out, type, chan, len);
	if (len)
		memcpy(out + VX_HDR_SIZE, payload, len);
	return VX_HDR_SIZE + len;
}

static void host_frame(struct fixture *f, uint16_t type, uint16_t chan, const void *payload,
		       uint32_t len)
{
	host_feed(f, f->frame_buf, build(f->frame_buf, type, chan, payload, len));
}

static void host_u32(struct fixture *f, uint16_t type, uint16_t chan, uint32_t v)
{
	uint8_t b[4];

	vx_put_u32(b, v);
	host_frame(f, type, chan, b, 4);
}

static void host_hello(struct fixture *f)
{
	uint8_t b[8];

	vx_put_u32(b, VX_PROTOCOL_VER);
	vx_put_u32(b + 4, 0);
	host_frame(f, LINK_HELLO, 0, b, sizeof(b));
}

static void host_credit(struct fixture *f, unsigned chan, uint32_t n)
{
	host_u32(f, LINK_CREDIT, (uint16_t)chan, n);
}

/* n bytes of the host's stream for a channel, in one DATA frame. */
static size_t build_data(struct fixture *f, uint8_t *out, unsigned chan, uint32_t n)
{
	struct fake_port *p = chan < CHAN_MAX_PORTS ? f->by_chan[chan] : NULL;

	vx_put_hdr(out, LINK_DATA, (uint16_t)chan, n);
	for (uint32_t i = 0; i < n; i++)
		out[VX_HDR_SIZE + i] = p ? hpat(p->id, p->host_seq + i) : 0;
	if (p)
		p->host_seq += n;
	return VX_HDR_SIZE + n;
}

static void host_data(struct fixture *f, unsigned chan, uint32_t n)
{
	host_feed(f, f->frame_buf, build_data(f, f->frame_buf, chan, n));
}

/* A DATA frame Vireo must refuse (its bytes are not the host's stream), fed in two pieces. */
static void host_data_refused(struct fixture *f, unsigned chan, uint32_t n, size_t first)
{
	size_t len = build_data(f, f->frame_buf, chan, n);

	port(f, chan)->host_seq -= n;
	host_feed(f, f->frame_buf, MIN(first, len));
	if (first < len)
		host_feed(f, f->frame_buf + first, len - first);
}

/* The transport sent what it had and has room again. */
static void transport_drained(struct fixture *f, size_t room)
{
	f->room = room;
	chan_link_pump(&f->link);
	check(f);
}

/* ---------------------------------------------------------------- checks */

static void clear(struct fixture *f)
{
	f->nfr = 0;
}

static void expect_frame(struct fixture *f, unsigned i, uint16_t type, uint16_t chan, uint32_t len)
{
	assert_true(i < f->nfr);
	assert_int_equal(f->fr[i].type, type);
	assert_int_equal(f->fr[i].chan, chan);
	assert_int_equal(f->fr[i].len, len);
}

static uint32_t frame_u32(struct fixture *f, unsigned i, unsigned off)
{
	assert_true(i < f->nfr && off + 4 <= HEAD_KEEP);
	return vx_get_u32(f->fr[i].head + off);
}

static void expect_error(struct fixture *f, unsigned i, uint16_t chan, uint32_t code)
{
	expect_frame(f, i, LINK_ERROR, chan, 4);
	assert_int_equal(frame_u32(f, i, 0), code);
}

static void expect_credit(struct fixture *f, unsigned i, uint16_t chan, uint32_t n)
{
	expect_frame(f, i, LINK_CREDIT, chan, 4);
	assert_int_equal(frame_u32(f, i, 0), n);
}

/* The host got the guest's bytes [from, from + n) of channel id, in order. */
static void expect_got(struct fixture *f, unsigned id, size_t n)
{
	struct fake_port *p = port(f, id);

	assert_int_equal(p->got_len, n);
	for (size_t i = 0; i < n; i++)
		if (p->got[i] != gpat(id, i))
			fail_msg("channel %u byte %zu: %#x, not %#x", id, i, p->got[i],
				 gpat(id, i));
}

/* The guest read the host's bytes [0, n) of its channel, in order. */
static void expect_rx(struct fixture *f, unsigned id, size_t n)
{
	struct fake_port *p = port(f, id);

	assert_int_equal(p->rx_len, n);
	for (size_t i = 0; i < n; i++)
		if (p->rx[i] != hpat(id, i))
			fail_msg("channel %u byte %zu: %#x, not %#x", id, i, p->rx[i], hpat(id, i));
}

/* ---------------------------------------------------------------- fixture */

static void fresh(struct fixture *f)
{
	memset(f->by_chan, 0, sizeof(f->by_chan));
	chan_link_init(&f->link, &transport, f);
	vx_parser_init(&f->mirror, &mirror_ops, f, 1u << LINK_DATA);
	f->room = BIG_ROOM;
	f->out_len = 0;
	f->nfr = 0;
	f->saw_hello = false;
	f->host_hello = false;
	for (unsigned i = 0; i < NPORTS; i++) {
		struct fake_port *p = &f->ports[i];

		p->f = f;
		p->id = port_ids[i];
		p->name = port_names[i];
		p->host_open = p->exited = false;
		f->by_chan[p->id] = p;
		attach(f, i);
	}
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	fresh(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	check(f);
	assert_int_equal(f->out_len, 0);
	test_free(f);
	return 0;
}

/* Link up, hellos exchanged. */
static void up(struct fixture *f)
{
	chan_link_up(&f->link);
	assert_true(f->saw_hello);
	host_hello(f);
	clear(f);
}

/* The guest opens channel id: OPEN and the initial CREDIT; the host answers with `window`. */
static void open_chan(struct fixture *f, unsigned id, uint32_t window)
{
	clear(f);
	guest_open(f, id, true);
	assert_int_equal(f->nfr, 2);
	expect_frame(f, 0, LINK_OPEN, (uint16_t)id, 4 + (uint32_t)strlen(port(f, id)->name));
	assert_int_equal(frame_u32(f, 0, 0), id);
	assert_memory_equal(f->fr[0].head + 4, port(f, id)->name, strlen(port(f, id)->name));
	expect_credit(f, 1, (uint16_t)id, RING - byte_ring_used(&port(f, id)->from_host));
	clear(f);
	if (window)
		host_credit(f, id, window);
}

/* ---------------------------------------------------------------- HELLO */

static void test_hello_both_ways(void **state)
{
	struct fixture *f = *state;

	/* Nothing before the transport is up. */
	guest_open(f, 1, true);
	guest_write(f, 1, 100);
	assert_int_equal(f->nfr, 0);
	chan_link_up(&f->link);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_HELLO, 0, 8);
	assert_true(f->flushes > 0);
	/* Nothing about VMs before the host's HELLO: not the open, not the data. */
	clear(f);
	guest_open(f, 2, true);
	guest_write(f, 2, 10);
	detach(f, CHAN_MAX_PORTS - 1, 7);
	chan_link_pump(&f->link);
	host_credit(f, 1, 1000);
	assert_int_equal(f->nfr, 0);
	/* The host's HELLO lets it all out, in order per channel; the credit that came
	 * before the host saw OPEN counts (Vireo had the port open). */
	host_hello(f);
	assert_int_equal(f->nfr, 6);
	expect_frame(f, 0, LINK_OPEN, 1, 4 + 6);
	expect_credit(f, 1, 1, RING);
	expect_frame(f, 2, LINK_DATA, 1, 100);
	expect_frame(f, 3, LINK_OPEN, 2, 4 + 6);
	expect_credit(f, 4, 2, RING);
	expect_frame(f, 5, LINK_VM_EXIT, CHAN_MAX_PORTS - 1, 4);
	assert_int_equal(frame_u32(f, 5, 0), 7);
	expect_got(f, 1, 100);
	/* A second HELLO from the host changes nothing. */
	clear(f);
	host_hello(f);
	assert_int_equal(f->nfr, 0);
}

static void test_hello_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t b[12] = {0};

	chan_link_up(&f->link);
	guest_open(f, 1, true);
	clear(f);
	/* Another version, or too short to say: a bad payload, and still nothing about VMs. */
	vx_put_u32(b, 2);
	host_frame(f, LINK_HELLO, 0, b, 8);
	assert_int_equal(f->nfr, 1);
	expect_error(f, 0, 0, LINK_ERR_PAYLOAD);
	clear(f);
	vx_put_u32(b, 1);
	host_frame(f, LINK_HELLO, 0, b, 3);
	assert_int_equal(f->nfr, 1);
	expect_error(f, 0, 0, LINK_ERR_PAYLOAD);
	clear(f);
	host_frame(f, LINK_HELLO, 0, NULL, 0);
	expect_error(f, 0, 0, LINK_ERR_PAYLOAD);
	assert_int_equal(f->link.bad_frames, 3);
	/* Version 1 with more after it (flags, and whatever a later version adds) is fine. */
	clear(f);
	host_frame(f, LINK_HELLO, 0, b, sizeof(b));
	assert_int_equal(f->nfr, 2);
	expect_frame(f, 0, LINK_OPEN, 1, 10);
	expect_credit(f, 1, 1, RING);
}

/* Vireo's own HELLO waits for room in the transport, whole. */
static void test_hello_waits_for_room(void **state)
{
	struct fixture *f = *state;

	f->room = 0;
	chan_link_up(&f->link);
	transport_drained(f, VX_HDR_SIZE + 7);
	assert_int_equal(f->nfr, 0);
	transport_drained(f, VX_HDR_SIZE + 8);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_HELLO, 0, 8);
	assert_int_equal(f->room, 0);
	/* Said once. */
	transport_drained(f, BIG_ROOM);
	assert_int_equal(f->nfr, 1);
}

/* ---------------------------------------------------------------- OPEN, CLOSE, attach */

static void test_open_and_initial_credit(void **state)
{
	struct fixture *f = *state;

	up(f);
	open_chan(f, 1, 0);
	open_chan(f, CHAN_MAX_PORTS - 1, 0);
	/* Opening an open port changes nothing. */
	guest_open(f, 1, true);
	assert_int_equal(f->nfr, 0);
	/* The guest closes: CLOSE, and opening again is a new OPEN with a full window. */
	guest_open(f, 1, false);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_CLOSE, 1, 0);
	guest_open(f, 1, false);
	assert_int_equal(f->nfr, 1);
	open_chan(f, 1, 0);
	/* A port that still holds host bytes (the device drops them on reset, not on close)
	 * grants only the room that is left. */
	guest_open(f, 2, true);
	clear(f);
	host_data(f, 2, 1000);
	guest_open(f, 2, false);
	clear(f);
	guest_open(f, 2, true);
	assert_int_equal(f->nfr, 2);
	expect_credit(f, 1, 2, RING - 1000);
}

static void test_attach_rules(void **state)
{
	struct fixture *f = *state;
	struct fake_port *p = &f->ports[0];
	char longname[100];

	chan_link_init(&f->link, &transport, f);
	assert_int_equal(
	    chan_port_attach(&f->link, 0, "x", &p->to_host, &p->from_host, fake_move, p),
	    -VIREO_EINVAL);
	assert_int_equal(chan_port_attach(&f->link, CHAN_MAX_PORTS, "x", &p->to_host, &p->from_host,
					  fake_move, p),
			 -VIREO_EINVAL);
	assert_int_equal(chan_port_attach(&f->link, 1, "x", NULL, &p->from_host, fake_move, p),
			 -VIREO_EINVAL);
	assert_int_equal(chan_port_attach(&f->link, 1, "x", &p->to_host, NULL, fake_move, p),
			 -VIREO_EINVAL);
	assert_int_equal(
	    chan_port_attach(&f->link, 1, "x", &p->to_host, &p->from_host, fake_move, p), 0);
	assert_int_equal(
	    chan_port_attach(&f->link, 1, "y", &p->to_host, &p->from_host, fake_move, p),
	    -VIREO_EINVAL);
	/* Events for channels that are not there are ignored. */
	chan_port_open(&f->link, 0, true);
	chan_port_open(&f->link, 5, true);
	chan_port_open(&f->link, 1000, true);
	chan_port_tx_ready(&f->link, 1000);
	chan_port_consumed(&f->link, 1000, 5);
	chan_port_consumed(&f->link, 0, 5);
	chan_port_detach(&f->link, 0, 1);
	chan_port_detach(&f->link, 1000, 1);
	chan_port_detach(&f->link, 5, 1);
	/* A name too long for OPEN is cut; no name is an empty one. */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	p = &f->ports[1];
	assert_int_equal(
	    chan_port_attach(&f->link, 2, longname, &p->to_host, &p->from_host, fake_move, p), 0);
	p = &f->ports[2];
	assert_int_equal(chan_port_attach(&f->link, CHAN_MAX_PORTS - 1, NULL, &p->to_host,
					  &p->from_host, fake_move, p),
			 0);
	up(f);
	guest_open(f, 2, true);
	expect_frame(f, 0, LINK_OPEN, 2, 4 + CHAN_NAME_MAX - 1);
	assert_int_equal(f->fr[0].head[4 + CHAN_NAME_MAX - 2], 'n');
	clear(f);
	guest_open(f, CHAN_MAX_PORTS - 1, true);
	expect_frame(f, 0, LINK_OPEN, CHAN_MAX_PORTS - 1, 4);
}

/* ---------------------------------------------------------------- data to the host */

/* The host grants 10 bytes and the guest has 100 waiting. */
static void test_data_within_window(void **state)
{
	struct fixture *f = *state;

	up(f);
	open_chan(f, 1, 0);
	guest_write(f, 1, 100);
	assert_int_equal(f->nfr, 0);
	assert_int_equal(byte_ring_used(&port(f, 1)->to_host), 100);
	host_credit(f, 1, 10);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_DATA, 1, 10);
	expect_got(f, 1, 10);
	/* The rest waits in to_host; pumping does not change that. */
	clear(f);
	transport_drained(f, BIG_ROOM);
	guest_kick(f, 1);
	assert_int_equal(f->nfr, 0);
	assert_int_equal(byte_ring_used(&port(f, 1)->to_host), 90);
	host_credit(f, 1, 25);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_DATA, 1, 25);
	clear(f);
	host_credit(f, 1, 1000);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_DATA, 1, 65);
	expect_got(f, 1, 100);
	/* 935 left: 2000 more go out as far as that. */
	clear(f);
	guest_write(f, 1, 2000);
	expect_frame(f, 0, LINK_DATA, 1, 935);
	assert_int_equal(byte_ring_used(&port(f, 1)->to_host), 1065);
	expect_got(f, 1, 1035);
	/* A window that would overflow stops at the top, and it all goes. */
	host_credit(f, 1, UINT32_MAX);
	host_credit(f, 1, UINT32_MAX);
	assert_int_equal(f->link.ports[1].host_window, UINT32_MAX);
	guest_write(f, 1, 600 * 1024);
	/* The transport sends and comes back for more, as its completions do. */
	for (unsigned i = 0; i < 20 && port(f, 1)->got_len < 1035 + 1065 + 600 * 1024; i++)
		transport_drained(f, BIG_ROOM);
	expect_got(f, 1, 1035 + 1065 + 600 * 1024);
	/* No DATA frame is over the limit. */
	for (unsigned i = 0; i < f->nfr; i++)
		assert_true(f->fr[i].len <= VX_MAX_PAYLOAD);
}

/* DATA goes only as far as the transport's room; control frames go whole or wait. */
static void test_data_within_room(void **state)
{
	struct fixture *f = *state;

	up(f);
	open_chan(f, 1, RING);
	f->room = VX_HDR_SIZE;
	guest_write(f, 1, 1000);
	assert_int_equal(f->nfr, 0); /* a header with no byte is not sent */
	transport_drained(f, VX_HDR_SIZE + 1);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_DATA, 1, 1);
	clear(f);
	transport_drained(f, VX_HDR_SIZE + 100);
	expect_frame(f, 0, LINK_DATA, 1, 100);
	/* Room for two frames' worth goes as one frame. */
	clear(f);
	transport_drained(f, 2 * VX_HDR_SIZE + 200);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_DATA, 1, VX_HDR_SIZE + 200);
	clear(f);
	transport_drained(f, BIG_ROOM);
	expect_frame(f, 0, LINK_DATA, 1, 1000 - 1 - 100 - 208);
	expect_got(f, 1, 1000);
	/* A control frame waits for room for all of it. */
	clear(f);
	f->room = 0;
	guest_open(f, 2, true);
	transport_drained(f, VX_HDR_SIZE + 4 + 5);
	assert_int_equal(f->nfr, 0);
	transport_drained(f, VX_HDR_SIZE + 4 + 6 + VX_HDR_SIZE + 3);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_OPEN, 2, 10);
	clear(f);
	transport_drained(f, BIG_ROOM);
	assert_int_equal(f->nfr, 1);
	expect_credit(f, 0, 2, RING);
}

/* The ring wraps: DATA frames follow the ring's stretches, byte-exact. */
static void test_data_wraps_ring(void **state)
{
	struct fixture *f = *state;

	up(f);
	open_chan(f, 1, 0);
	for (unsigned round = 0; round < 50; round++) {
		host_credit(f, 1, 7001 + round);
		guest_write(f, 1, 9000 + 113 * round);
	}
	host_credit(f, 1, UINT32_MAX / 2);
	for (unsigned i = 0; i < 10; i++)
		transport_drained(f, BIG_ROOM);
	expect_got(f, 1, 50 * 9000 + 113 * 49 * 25);
}

/* ---------------------------------------------------------------- data from the host */

static void test_data_from_host(void **state)
{
	struct fixture *f = *state;

	up(f);
	open_chan(f, 1, 0);
	/* Into from_host, as it comes; the guest has not read yet. */
	host_data(f, 1, 1000);
	assert_int_equal(f->nfr, 0);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), 1000);
	/* Credit goes back when the ring empties... */
	guest_read(f, 1, 500);
	assert_int_equal(f->nfr, 0);
	guest_read(f, 1, 500);
	assert_int_equal(f->nfr, 1);
	expect_credit(f, 0, 1, 1000);
	/* ...or in batches of CHAN_CREDIT_BATCH while it does not. */
	clear(f);
	host_data(f, 1, 60000);
	guest_read(f, 1, CHAN_CREDIT_BATCH - 1);
	assert_int_equal(f->nfr, 0);
	guest_read(f, 1, 1);
	assert_int_equal(f->nfr, 1);
	expect_credit(f, 0, 1, CHAN_CREDIT_BATCH);
	clear(f);
	guest_read(f, 1, 10);
	assert_int_equal(f->nfr, 0);
	guest_read(f, 1, 60000);
	expect_credit(f, 0, 1, 60000 - CHAN_CREDIT_BATCH);
	expect_rx(f, 1, 61000);
	/* A guest already waiting takes the bytes as they arrive; the credit follows. */
	clear(f);
	guest_read(f, 1, 100000);
	host_data(f, 1, 3000);
	assert_int_equal(f->nfr, 1);
	expect_credit(f, 0, 1, 3000);
	/* The whole window in one frame, then one byte more than it. */
	clear(f);
	port(f, 1)->rx_budget = 0;
	host_data(f, 1, RING);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), RING);
	assert_int_equal(f->nfr, 0);
	expect_rx(f, 1, 64000);
	guest_read(f, 1, RING);
	expect_credit(f, 0, 1, RING);
	expect_rx(f, 1, 64000 + RING);
}

/* A DATA frame in pieces goes into the ring piece by piece, never buffered. */
static void test_data_from_host_in_pieces(void **state)
{
	struct fixture *f = *state;
	size_t n;

	up(f);
	open_chan(f, 1, 0);
	n = build_data(f, f->frame_buf, 1, 5000);
	host_feed(f, f->frame_buf, 3);
	host_feed(f, f->frame_buf + 3, 6);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), 1);
	host_feed(f, f->frame_buf + 9, 2000);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), 2001);
	guest_read(f, 1, 10000);
	host_feed(f, f->frame_buf + 2009, n - 2009);
	expect_rx(f, 1, 5000);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), 0);
}

/* ---------------------------------------------------------------- CLOSE both ways */

static void test_close_by_guest(void **state)
{
	struct fixture *f = *state;

	up(f);
	open_chan(f, 1, 10);
	guest_write(f, 1, 500);
	clear(f);
	guest_open(f, 1, false);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_CLOSE, 1, 0);
	/* What the guest wrote and the host did not take is gone with the session. */
	assert_int_equal(byte_ring_used(&port(f, 1)->to_host), 0);
	/* The host's data and credit in flight are dropped quietly. */
	clear(f);
	host_data(f, 1, 100);
	host_credit(f, 1, 100);
	host_frame(f, LINK_CLOSE, 1, NULL, 0);
	assert_int_equal(f->nfr, 0);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), 0);
	guest_read(f, 1, 100);
	assert_int_equal(f->nfr, 0);
	/* A new session starts with nothing of the old one. */
	port(f, 1)->tx_len = port(f, 1)->tx_pos = 0;
	port(f, 1)->got_len = 0;
	open_chan(f, 1, 50);
	guest_write(f, 1, 100);
	expect_frame(f, 0, LINK_DATA, 1, 50);
	expect_got(f, 1, 50);
}

/* After the host's CLOSE the guest's bytes go nowhere, but the guest is not blocked. */
static void test_close_by_host(void **state)
{
	struct fixture *f = *state;
	struct fake_port *p;
	unsigned kicks = 0;

	up(f);
	open_chan(f, 1, 0);
	p = port(f, 1);
	/* A guest that wrote a lot while the host granted nothing. */
	guest_write(f, 1, 2 * 1024 * 1024);
	assert_int_equal(byte_ring_used(&p->to_host), RING);
	host_frame(f, LINK_CLOSE, 1, NULL, 0);
	assert_int_equal(f->nfr, 0);
	/* Each time the guest gets buffers back it notifies again: it all drains, and not one
	 * byte reaches the host. */
	while (p->tx_pos < p->tx_len && kicks < 1000) {
		guest_kick(f, 1);
		kicks++;
	}
	assert_int_equal(p->tx_pos, p->tx_len);
	assert_int_equal(p->got_len, 0);
	assert_int_equal(f->nfr, 0);
	/* The other way still works: host bytes for the guest, and credit for them. */
	host_data(f, 1, 100);
	guest_read(f, 1, 100);
	expect_rx(f, 1, 100);
	expect_credit(f, 0, 1, 100);
	/* The guest's own close is still said; the next session sends data again. */
	clear(f);
	guest_open(f, 1, false);
	expect_frame(f, 0, LINK_CLOSE, 1, 0);
	p->got_len = 0;
	p->tx_pos = p->tx_len = 0;
	open_chan(f, 1, 10);
	guest_write(f, 1, 10);
	expect_frame(f, 0, LINK_DATA, 1, 10);
}

/* Open and close while the transport has no room: the host hears them in order. */
static void test_open_close_without_room(void **state)
{
	struct fixture *f = *state;

	up(f);
	open_chan(f, 1, 0);
	/* Close and reopen while nothing can be sent. */
	f->room = 0;
	guest_open(f, 1, false);
	guest_open(f, 1, true);
	transport_drained(f, BIG_ROOM);
	assert_int_equal(f->nfr, 3);
	expect_frame(f, 0, LINK_CLOSE, 1, 0);
	expect_frame(f, 1, LINK_OPEN, 1, 10);
	expect_credit(f, 2, 1, RING);
	assert_true(port(f, 1)->host_open);
	/* Open and close again unseen: the host need not hear of that session at all. */
	clear(f);
	f->room = 0;
	guest_open(f, 2, true);
	guest_open(f, 2, false);
	transport_drained(f, BIG_ROOM);
	assert_false(port(f, 2)->host_open);
	/* Close, open, close: the host ends up with the channel closed. */
	clear(f);
	f->room = 0;
	guest_open(f, 1, false);
	guest_open(f, 1, true);
	guest_open(f, 1, false);
	transport_drained(f, BIG_ROOM);
	assert_false(port(f, 1)->host_open);
	/* ...and a detach in the middle of it all ends with VM_EXIT after CLOSE. */
	clear(f);
	open_chan(f, 1, 0);
	f->room = 0;
	guest_open(f, 1, false);
	guest_open(f, 1, true);
	detach(f, 1, 3);
	transport_drained(f, BIG_ROOM);
	assert_false(port(f, 1)->host_open);
	assert_true(port(f, 1)->exited);
	assert_int_equal(port(f, 1)->exit_status, 3);
}

/* ---------------------------------------------------------------- detach */

static void test_detach(void **state)
{
	struct fixture *f = *state;
	struct fake_port *p;
	unsigned moves;

	up(f);
	open_chan(f, 1, 0);
	p = port(f, 1);
	guest_write(f, 1, 1000);
	host_data(f, 1, 500);
	clear(f);
	detach(f, 1, -3);
	assert_int_equal(f->nfr, 2);
	expect_frame(f, 0, LINK_CLOSE, 1, 0);
	expect_frame(f, 1, LINK_VM_EXIT, 1, 4);
	assert_int_equal((int32_t)frame_u32(f, 1, 0), -3);
	/* From now on the rings are never touched, the device never moved. */
	moves = p->moves;
	clear(f);
	host_credit(f, 1, 1000);
	host_frame(f, LINK_CLOSE, 1, NULL, 0);
	chan_port_tx_ready(&f->link, 1);
	chan_port_consumed(&f->link, 1, 100);
	chan_port_open(&f->link, 1, true);
	chan_port_open(&f->link, 1, false);
	chan_link_pump(&f->link);
	assert_int_equal(f->nfr, 0);
	/* Data for a VM that is gone is a channel that does not exist. */
	host_data(f, 1, 10);
	assert_int_equal(f->nfr, 1);
	expect_error(f, 0, 1, LINK_ERR_CHANNEL);
	/* Detached twice: said once. */
	clear(f);
	chan_port_detach(&f->link, 1, 9);
	assert_int_equal(f->nfr, 0);
	assert_int_equal(p->moves, moves);
	expect_poisoned(p);
	/* A closed port's VM ends: only VM_EXIT; the status is an i32. */
	clear(f);
	detach(f, 2, 125);
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_VM_EXIT, 2, 4);
	assert_int_equal(frame_u32(f, 0, 0), 125);
	/* With no room, VM_EXIT waits and then goes. */
	clear(f);
	f->room = 11;
	detach(f, CHAN_MAX_PORTS - 1, INT32_MIN);
	assert_int_equal(f->nfr, 0);
	transport_drained(f, 12);
	expect_frame(f, 0, LINK_VM_EXIT, CHAN_MAX_PORTS - 1, 4);
	assert_int_equal(frame_u32(f, 0, 0), 0x80000000u);
	/* The channel can be attached again, afresh. */
	clear(f);
	f->room = BIG_ROOM;
	attach(f, 0);
	open_chan(f, 1, 5);
	guest_write(f, 1, 5);
	expect_frame(f, 0, LINK_DATA, 1, 5);
}

/* ---------------------------------------------------------------- requests */

static void test_request_enosys(void **state)
{
	struct fixture *f = *state;
	uint8_t req[10];

	up(f);
	vx_put_u32(req, 0x12345678);
	vx_put_u16(req + 4, 1);
	vx_put_u32(req + 6, 0xdeadbeef);
	host_frame(f, LINK_REQUEST, 0, req, sizeof(req));
	assert_int_equal(f->nfr, 1);
	expect_frame(f, 0, LINK_REPLY, 0, 8);
	assert_int_equal(frame_u32(f, 0, 0), 0x12345678);
	assert_int_equal((int32_t)frame_u32(f, 0, 4), -VIREO_ENOSYS);
	/* Too short to carry an id: a bad payload. */
	clear(f);
	host_frame(f, LINK_REQUEST, 0, req, 2);
	expect_error(f, 0, 0, LINK_ERR_PAYLOAD);
}

/* ---------------------------------------------------------------- a host breaking rules */

static void test_data_beyond_window(void **state)
{
	struct fixture *f = *state;

	up(f);
	open_chan(f, 1, 0);
	host_data(f, 1, RING);
	/* One byte more than granted: LINK_ERROR 3 on the channel, the byte dropped. */
	host_data_refused(f, 1, 1, 1);
	assert_int_equal(f->nfr, 1);
	expect_error(f, 0, 1, LINK_ERR_WINDOW);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), RING);
	/* The guest reads: credit comes back, and the host may send that much again. */
	clear(f);
	guest_read(f, 1, RING);
	expect_credit(f, 0, 1, RING);
	expect_rx(f, 1, RING);
	/* A frame bigger than what is left of the window is dropped whole, even in pieces. */
	clear(f);
	host_data(f, 1, 1000);
	host_data_refused(f, 1, RING, 100);
	expect_error(f, 0, 1, LINK_ERR_WINDOW);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), 1000);
	/* After that the host's window is shut until the guest reads. */
	clear(f);
	host_data_refused(f, 1, 1, 1);
	expect_error(f, 0, 1, LINK_ERR_WINDOW);
	clear(f);
	guest_read(f, 1, 1000);
	expect_credit(f, 0, 1, 1000);
	host_data(f, 1, 1000);
	guest_read(f, 1, 1000);
	expect_rx(f, 1, RING + 2000);
	assert_int_equal(f->link.bad_frames, 3);
}

static void test_unknown_channel(void **state)
{
	struct fixture *f = *state;
	static const uint16_t chans[] = {0, 5, CHAN_MAX_PORTS, 1000, 0xffff};

	up(f);
	detach(f, 2, 0);
	clear(f);
	for (unsigned i = 0; i < ARRAY_SIZE(chans); i++) {
		clear(f);
		host_data(f, chans[i], 10);
		assert_int_equal(f->nfr, 1);
		expect_error(f, 0, chans[i], LINK_ERR_CHANNEL);
		/* An empty DATA frame too. */
		clear(f);
		host_data(f, chans[i], 0);
		expect_error(f, 0, chans[i], LINK_ERR_CHANNEL);
	}
	/* DATA for a channel whose VM is gone. */
	clear(f);
	host_data(f, 2, 10);
	expect_error(f, 0, 2, LINK_ERR_CHANNEL);
	/* CREDIT and CLOSE for channels that cannot exist. */
	clear(f);
	host_credit(f, CHAN_MAX_PORTS, 10);
	expect_error(f, 0, CHAN_MAX_PORTS, LINK_ERR_CHANNEL);
	clear(f);
	host_frame(f, LINK_CLOSE, 0, NULL, 0);
	expect_error(f, 0, 0, LINK_ERR_CHANNEL);
	/* A CREDIT that is not a u32. */
	clear(f);
	host_frame(f, LINK_CREDIT, 1, "abc", 3);
	expect_error(f, 0, 1, LINK_ERR_PAYLOAD);
	clear(f);
	host_frame(f, LINK_CREDIT, 1, "abcde", 5);
	expect_error(f, 0, 1, LINK_ERR_PAYLOAD);
	/* DATA for an attached port the guest has not opened: dropped quietly. */
	clear(f);
	host_data(f, 1, 10);
	assert_int_equal(f->nfr, 0);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), 0);
	/* The link goes on. */
	open_chan(f, 1, 3);
	guest_write(f, 1, 3);
	expect_frame(f, 0, LINK_DATA, 1, 3);
}

static void test_unknown_type(void **state)
{
	struct fixture *f = *state;
	static const uint16_t types[] = {0,  LINK_OPEN, LINK_VM_EXIT, LINK_REPLY,
					 10, 31,	32,	      0xffff};

	up(f);
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		clear(f);
		host_frame(f, types[i], 1, "xyzw", 4);
		assert_int_equal(f->nfr, 1);
		expect_error(f, 0, 1, LINK_ERR_TYPE);
	}
	/* The host telling Vireo it broke a rule is no unknown type: nothing to answer. */
	clear(f);
	host_u32(f, LINK_ERROR, 0, LINK_ERR_WINDOW);
	host_u32(f, LINK_ERROR, 1, LINK_ERR_TYPE);
	assert_int_equal(f->nfr, 0);
	/* The link keeps going. */
	open_chan(f, 1, 4);
	guest_write(f, 1, 4);
	expect_frame(f, 0, LINK_DATA, 1, 4);
}

/* A frame over the limit: LINK_ERROR 4, and the link is not read any more. */
static void test_frame_too_long(void **state)
{
	struct fixture *f = *state;
	uint8_t b[64];
	size_t n;

	up(f);
	open_chan(f, 1, 0);
	vx_put_hdr(b, LINK_DATA, 1, VX_MAX_PAYLOAD + 1);
	n = VX_HDR_SIZE;
	n += build(b + n, LINK_CREDIT, 1, "\x10\0\0\0", 4);
	host_feed(f, b, n);
	assert_int_equal(f->nfr, 1);
	expect_error(f, 0, 0, LINK_ERR_TOO_LONG);
	assert_true(f->link.dead);
	/* Nothing after it is read: not the credit in the same piece, nor anything later. */
	clear(f);
	host_credit(f, 1, 100);
	host_data(f, 1, 10);
	host_frame(f, LINK_REQUEST, 0, "abcd", 4);
	assert_int_equal(f->nfr, 0);
	assert_int_equal(byte_ring_used(&port(f, 1)->from_host), 0);
	/* A control message over its limit is a frame too long as well. */
	fresh(f);
	up(f);
	vx_put_hdr(b, LINK_REQUEST, 0, VX_CONTROL_MAX + 1);
	host_feed(f, b, VX_HDR_SIZE);
	assert_int_equal(f->nfr, 1);
	expect_error(f, 0, 0, LINK_ERR_TOO_LONG);
	assert_true(f->link.dead);
}

/* The same when the bad header is the last thing in a piece: said at once, in every split. */
static void test_frame_too_long_any_split(void **state)
{
	struct fixture *f = *state;
	static uint8_t stream[256];
	size_t n = 0, bad_end;

	n += build(stream + n, LINK_CREDIT, 1, "\x05\0\0\0", 4);
	n += build(stream + n, LINK_REQUEST, 0, "\x01\0\0\0", 4);
	vx_put_hdr(stream + n, LINK_DATA, 1, VX_MAX_PAYLOAD + 1);
	n += VX_HDR_SIZE;
	bad_end = n;
	n += build(stream + n, LINK_CREDIT, 1, "\x07\0\0\0", 4);
	for (size_t k = 0; k <= n; k++) {
		unsigned errors = 0, replies = 0;

		fresh(f);
		up(f);
		open_chan(f, 1, 0);
		host_feed(f, stream, k);
		/* Once the whole bad header is in, the host is told, and nothing more is read. */
		if (k >= bad_end) {
			assert_true(f->link.dead);
			assert_true(f->nfr >= 1);
			expect_error(f, f->nfr - 1, 0, LINK_ERR_TOO_LONG);
		}
		host_feed(f, stream + k, n - k);
		host_feed(f, stream, n);
		for (unsigned i = 0; i < f->nfr; i++) {
			errors += f->fr[i].type == LINK_ERROR;
			replies += f->fr[i].type == LINK_REPLY;
		}
		assert_int_equal(errors, 1);
		assert_int_equal(replies, 1);
		assert_int_equal(f->link.ports[1].host_window, 5);
	}
}

/* What the host gets back, per channel, whatever pieces its stream came in. */
struct outcome {
	uint8_t control[CHAN_MAX_PORTS][64][8]; /* type, len, first bytes of each non-DATA */
	unsigned ncontrol[CHAN_MAX_PORTS];
	size_t got[NPORTS], rx[NPORTS], from_host[NPORTS];
	uint32_t window[NPORTS];
};

static void outcome_of(struct fixture *f, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < f->nfr; i++) {
		const struct frame *fr = &f->fr[i];
		uint8_t *c;

		if (fr->type == LINK_DATA)
			continue;
		assert_true(fr->chan < CHAN_MAX_PORTS && o->ncontrol[fr->chan] < 64);
		c = o->control[fr->chan][o->ncontrol[fr->chan]++];
		c[0] = (uint8_t)fr->type;
		c[1] = (uint8_t)fr->len;
		memcpy(c + 2, fr->head, 6);
	}
	for (unsigned i = 0; i < NPORTS; i++) {
		struct fake_port *p = &f->ports[i];

		o->got[i] = p->got_len;
		o->rx[i] = p->rx_len;
		o->from_host[i] = byte_ring_used(&p->from_host);
		o->window[i] = f->link.ports[p->id].host_window;
		expect_got(f, p->id, p->got_len);
		expect_rx(f, p->id, p->rx_len);
	}
}

static size_t split_script(struct fixture *f, uint8_t *s)
{
	uint8_t b[16];
	size_t n = 0;

	vx_put_u32(b, 100);
	n += build(s + n, LINK_CREDIT, 1, b, 4);
	n += build_data(f, s + n, 1, 300);
	n += build_data(f, s + n, 2, 0);
	vx_put_u32(b, 7);
	n += build(s + n, LINK_REQUEST, 0, b, 6);
	vx_put_u32(b, 5000);
	n += build(s + n, LINK_CREDIT, 1, b, 4);
	n += build_data(f, s + n, 2, 2000);
	n += build(s + n, 10, 2, NULL, 0); /* an unknown type */
	n += build_data(f, s + n, 1, 700);
	n += build(s + n, LINK_CLOSE, 2, NULL, 0);
	return n;
}

/* Ports open, the guest with bytes waiting; then the host's script. (What is sent when
 * may differ with the pieces; nothing the host can tell apart in the end may.) */
static void split_start(struct fixture *f)
{
	fresh(f);
	up(f);
	guest_open(f, 1, true);
	guest_open(f, 2, true);
	guest_write(f, 1, 1000);
	guest_write(f, 2, 3000);
}

static void split_end(struct fixture *f, struct outcome *o)
{
	guest_read(f, 2, 1500);
	guest_kick(f, 2);
	outcome_of(f, o);
}

/* The host's stream cut at every byte, and a byte at a time: the same outcome. */
static void test_split_every_boundary(void **state)
{
	struct fixture *f = *state;
	static uint8_t script[8192];
	static struct outcome want, got;
	size_t n;

	split_start(f);
	n = split_script(f, script);
	host_feed(f, script, n);
	split_end(f, &want);
	/* The script did what it says (so the comparison means something). */
	assert_int_equal(want.rx[1], 1500);
	assert_int_equal(want.from_host[0], 1000);
	assert_int_equal(want.got[0], 1000);
	assert_int_equal(want.got[1], 0);      /* the host closed channel 2 */
	assert_int_equal(want.ncontrol[0], 1); /* REPLY */
	assert_int_equal(want.ncontrol[2], 3); /* OPEN, CREDIT, ERROR */
	for (size_t k = 0; k <= n; k++) {
		split_start(f);
		host_feed(f, script, k);
		host_feed(f, script + k, n - k);
		split_end(f, &got);
		assert_memory_equal(&got, &want, sizeof(got));
	}
	split_start(f);
	for (size_t k = 0; k < n; k++)
		host_feed(f, script + k, 1);
	split_end(f, &got);
	assert_memory_equal(&got, &want, sizeof(got));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hello_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hello_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hello_waits_for_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_and_initial_credit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_attach_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_within_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_within_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_wraps_ring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_from_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_from_host_in_pieces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_by_guest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_by_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_close_without_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_enosys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_beyond_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_channel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_frame_too_long, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_frame_too_long_any_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_split_every_boundary, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
