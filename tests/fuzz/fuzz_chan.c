// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the channel core (hv/core/chan.c) under a hostile
 * host. The input is a script: host bytes (frames the fuzzer shapes, or raw
 * bytes) fed to chan_link_receive in pieces of any size, the transport's
 * room going up and down, and three VMs' ports (fake devices over byte rings
 * of different sizes) opening, closing, writing, reading, detaching and
 * coming back. Everything Vireo writes is parsed at every flush and must be
 * whole, well-formed frames in an order the host can follow: nothing about
 * VMs before the host's HELLO, no DATA beyond the window the host granted
 * (a mirror of the host's parser counts its credits), no more host bytes in
 * a ring than Vireo granted, no more credit than the ring can take, never a
 * write beyond the transport's room, and a detached port's rings never
 * touched again.
 *
 *   build/fuzz/fuzz_chan -max_total_time=60 tests/fuzz/corpus/chan
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/chan.h>
#include <vireo/string.h>

#include "fuzz_check.h"

#define NPORTS	 3
#define RING_MAX 65536
#define ROOM_MAX (1u << 20)
#define OUT_MAX	 (ROOM_MAX + 16)

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

struct fake_port {
	unsigned id;
	uint32_t ring_size;
	struct byte_ring to_host, from_host;
	uint8_t to_host_buf[RING_MAX], from_host_buf[RING_MAX];
	uint64_t tx_len, tx_pos; /* the guest's bytes: written, taken into to_host */
	uint32_t rx_budget;	 /* bytes the guest will still take out of from_host */
	bool gone;		 /* detached */
	struct byte_ring poison; /* what the ring structs were left as at detach */
	/* The host's view. */
	bool host_open, exited;
	uint64_t window, sent, granted;
	uint32_t head0, tail0, used0;
};

static const unsigned port_ids[NPORTS] = {1, 2, CHAN_MAX_PORTS - 1};
static const uint32_t ring_sizes[NPORTS] = {65536, 4096, 256};
static const char *const names[NPORTS] = {"one", "a-vm-with-a-name-longer-than-the-limit", ""};

static struct chan_link link;
static struct fake_port ports[NPORTS];
static struct fake_port *by_chan[CHAN_MAX_PORTS];
static struct vx_parser mirror;
static bool host_hello, saw_hello;
static size_t room;
static uint8_t out[OUT_MAX];
static size_t out_len;
static uint8_t frame_buf[VX_HDR_SIZE + VX_MAX_PAYLOAD];

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static bool locked(void)
{
	return __atomic_load_n(&link.lock.locked, __ATOMIC_RELAXED) != 0;
}

/* ---------------------------------------------------------------- what the host sees */

static void host_takes(uint16_t type, uint16_t chan, uint32_t len, const uint8_t *payload)
{
	struct fake_port *p = chan < CHAN_MAX_PORTS ? by_chan[chan] : NULL;

	if (!saw_hello)
		FUZZ_CHECK(type == LINK_HELLO || type == LINK_ERROR || type == LINK_REPLY);
	switch (type) {
	case LINK_HELLO:
		FUZZ_CHECK(chan == 0 && len == 8 && !saw_hello);
		FUZZ_CHECK(vx_get_u32(payload) == VX_PROTOCOL_VER);
		saw_hello = true;
		return;
	case LINK_ERROR:
		FUZZ_CHECK(len >= 4);
		FUZZ_CHECK(vx_get_u32(payload) >= LINK_ERR_TYPE &&
			   vx_get_u32(payload) <= LINK_ERR_PAYLOAD);
		return;
	case LINK_REPLY:
		FUZZ_CHECK(chan == 0 && len >= 8);
		return;
	default:
		break;
	}
	FUZZ_CHECK(host_hello);
	FUZZ_CHECK(p != NULL);
	switch (type) {
	case LINK_OPEN:
		FUZZ_CHECK(!p->host_open);
		FUZZ_CHECK(len >= 4 && len <= 4 + CHAN_NAME_MAX && vx_get_u32(payload) == chan);
		p->host_open = true;
		p->exited = false;
		break;
	case LINK_CLOSE:
		FUZZ_CHECK(p->host_open && len == 0);
		p->host_open = false;
		break;
	case LINK_CREDIT:
		FUZZ_CHECK(p->host_open && len == 4 && vx_get_u32(payload) > 0);
		p->granted += vx_get_u32(payload);
		break;
	case LINK_DATA:
		FUZZ_CHECK(p->host_open && len > 0);
		p->sent += len;
		FUZZ_CHECK(p->sent <= p->window);
		break;
	case LINK_VM_EXIT:
		FUZZ_CHECK(!p->host_open && !p->exited && len >= 4);
		p->exited = true;
		break;
	default:
		FUZZ_CHECK(!"a frame type Vireo does not send");
	}
}

/* ---------------------------------------------------------------- the transport */

static size_t t_room(void *ctx)
{
	(void)ctx;
	FUZZ_CHECK(locked());
	return room;
}

static void t_write(void *ctx, const void *bytes, size_t n)
{
	(void)ctx;
	FUZZ_CHECK(locked());
	FUZZ_CHECK(n <= room && out_len + n <= OUT_MAX);
	memcpy(out + out_len, bytes, n);
	out_len += n;
	room -= n;
}

/* Whole frames only, each checked. */
static void t_flush(void *ctx)
{
	size_t at = 0;

	(void)ctx;
	FUZZ_CHECK(locked());
	while (at < out_len) {
		uint32_t len;
		uint16_t type;

		FUZZ_CHECK(out_len - at >= VX_HDR_SIZE);
		len = vx_get_u32(out + at);
		type = vx_get_u16(out + at + 4);
		FUZZ_CHECK(len <= (type == LINK_DATA ? VX_MAX_PAYLOAD : VX_CONTROL_MAX));
		FUZZ_CHECK(out_len - at - VX_HDR_SIZE >= len);
		host_takes(type, vx_get_u16(out + at + 6), len, out + at + VX_HDR_SIZE);
		at += VX_HDR_SIZE + len;
	}
	out_len = 0;
}

static const struct chan_link_ops transport = {t_room, t_write, t_flush};

/* ---------------------------------------------------------------- the host's stream */

static bool mirror_control(void *ctx, const struct vx_hdr *h, const uint8_t *payload)
{
	struct fake_port *p = h->chan < CHAN_MAX_PORTS ? by_chan[h->chan] : NULL;

	(void)ctx;
	if (h->type == LINK_HELLO && h->len >= 4 && vx_get_u32(payload) == VX_PROTOCOL_VER)
		host_hello = true;
	/* Credit counts while Vireo has the channel open, as chan.c takes it. */
	if (h->type == LINK_CREDIT && h->len == 4 && p && link.ports[h->chan].guest_open)
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

static uint32_t dev_tx(struct fake_port *p)
{
	uint32_t moved = 0;

	while (p->tx_pos < p->tx_len) {
		uint32_t len;
		uint8_t *dst = byte_ring_write_ptr(&p->to_host, &len);

		len = (uint32_t)MIN((uint64_t)len, p->tx_len - p->tx_pos);
		if (!len)
			break;
		memset(dst, (int)(p->tx_pos & 0xff), len);
		byte_ring_commit(&p->to_host, len);
		p->tx_pos += len;
		moved += len;
	}
	return moved;
}

static uint32_t dev_rx(struct fake_port *p)
{
	uint32_t n = MIN(p->rx_budget, byte_ring_used(&p->from_host));

	byte_ring_consume(&p->from_host, n);
	p->rx_budget -= n;
	return n;
}

static void fake_move(void *dev, bool *tx_ready, uint32_t *consumed)
{
	struct fake_port *p = dev;

	FUZZ_CHECK(!p->gone);
	FUZZ_CHECK(locked());
	*tx_ready = dev_tx(p) > 0;
	*consumed = dev_rx(p);
}

static void new_session(struct fake_port *p)
{
	p->window = p->sent = p->granted = 0;
	p->head0 = p->from_host.head;
	p->tail0 = p->from_host.tail;
	p->used0 = byte_ring_used(&p->from_host);
}

static void check(void)
{
	FUZZ_CHECK(!locked());
	FUZZ_CHECK(out_len == 0);
	for (unsigned i = 0; i < NPORTS; i++) {
		struct fake_port *p = &ports[i];
		const struct chan_port *cp = &link.ports[p->id];

		if (p->gone) {
			FUZZ_CHECK(!cp->attached);
			FUZZ_CHECK(!memcmp(&p->to_host, &p->poison, sizeof(p->poison)));
			FUZZ_CHECK(!memcmp(&p->from_host, &p->poison, sizeof(p->poison)));
			continue;
		}
		FUZZ_CHECK(cp->attached);
		FUZZ_CHECK(byte_ring_used(&p->to_host) <= p->ring_size);
		FUZZ_CHECK(byte_ring_used(&p->from_host) <= p->ring_size);
		if (!cp->guest_open)
			continue;
		FUZZ_CHECK((uint32_t)(p->from_host.head - p->head0) <= p->granted);
		FUZZ_CHECK(p->granted <=
			   p->ring_size - p->used0 + (uint32_t)(p->from_host.tail - p->tail0));
		FUZZ_CHECK((uint64_t)cp->host_may + cp->owed <= byte_ring_free(&p->from_host));
	}
}

static void attach(struct fake_port *p, unsigned i)
{
	p->gone = false;
	p->exited = false; /* a new VM on the id may end without ever opening its port */
	p->ring_size = ring_sizes[i];
	byte_ring_init(&p->to_host, p->to_host_buf, p->ring_size);
	byte_ring_init(&p->from_host, p->from_host_buf, p->ring_size);
	p->tx_len = p->tx_pos = 0;
	p->rx_budget = 0;
	new_session(p);
	FUZZ_CHECK(chan_port_attach(&link, p->id, names[i], &p->to_host, &p->from_host, fake_move,
				    p) == 0);
}

static void detach(struct fake_port *p, int status)
{
	chan_port_detach(&link, p->id, status);
	p->gone = true;
	memset(&p->poison, 0xa5, sizeof(p->poison));
	p->to_host = p->from_host = p->poison;
}

/* ---------------------------------------------------------------- the script */

static const uint16_t chans[] = {0, 1, 2, CHAN_MAX_PORTS - 1, 5, CHAN_MAX_PORTS, 0xffff};

/* A frame shaped from the input: a known type or any, a channel, a length, a payload. */
static size_t host_frame(struct input *in)
{
	uint8_t t = (uint8_t)take(in, 1), c = (uint8_t)take(in, 1), l = (uint8_t)take(in, 1);
	uint16_t type = t < 0xf0 ? (uint16_t)(1 + t % 9) : (uint16_t)take(in, 2);
	uint16_t chan = c < 0xf0 ? chans[c % ARRAY_SIZE(chans)] : (uint16_t)take(in, 2);
	uint32_t len;

	switch (l % 8) {
	case 0:
		len = 0;
		break;
	case 1:
		len = 4;
		break;
	case 2:
		len = 8;
		break;
	case 3:
		len = (uint32_t)take(in, 2);
		break;
	case 4:
		len = (uint32_t)take(in, 2) + (l & 0x80 ? 0x10000u : 0);
		break;
	case 5:
		len = (uint32_t)take(in, 4);
		break;
	default:
		len = l >> 3;
		break;
	}
	vx_put_hdr(frame_buf, type, chan, len);
	/* The payload: a u32 from the input, then a pattern (never more than the frame). */
	if (len <= VX_MAX_PAYLOAD) {
		uint32_t v = (uint32_t)take(in, 1);

		v = v < 0xf0 ? v * 97 : (uint32_t)take(in, 4);
		vx_put_u32(frame_buf + VX_HDR_SIZE, len == 4 && type == LINK_HELLO ? 1 : v);
		memset(frame_buf + VX_HDR_SIZE + 4, t, len > 4 ? len - 4 : 0);
		if (type == LINK_HELLO && len >= 4 && !(t & 1))
			vx_put_u32(frame_buf + VX_HDR_SIZE, VX_PROTOCOL_VER);
		return VX_HDR_SIZE + len;
	}
	return VX_HDR_SIZE; /* a header that lies about its length */
}

/* Bytes fed in pieces whose sizes come from the input. */
static void host_feed(struct input *in, const uint8_t *bytes, size_t n)
{
	uint8_t how = (uint8_t)take(in, 1);

	for (size_t at = 0; at < n;) {
		size_t piece = n - at;

		/* Pieces as the input says, the rest at once when it runs out. */
		if (how >= 0x80 && in->left) {
			size_t want = 1 + (size_t)take(in, 1) * (1 + (how & 0x3f));

			piece = MIN(piece, want);
		}
		vx_parser_feed(&mirror, bytes + at, piece);
		chan_link_receive(&link, bytes + at, piece);
		check();
		at += piece;
	}
}

static void guest_open(struct fake_port *p, bool open)
{
	if (!p->gone && link.ports[p->id].guest_open != open)
		new_session(p);
	chan_port_open(&link, p->id, open);
}

static void step(struct input *in)
{
	uint8_t op = (uint8_t)take(in, 1);
	struct fake_port *p = &ports[(op >> 4) % NPORTS];

	switch (op % 16) {
	case 0:
	case 1:
	case 2:
	case 3: {
		size_t n = host_frame(in);

		host_feed(in, frame_buf, n);
		break;
	}
	case 4: {				/* raw bytes */
		size_t n = (size_t)take(in, 1); /* not inside MIN(), which evaluates twice */

		n = MIN(n, in->left);

		memcpy(frame_buf, in->p, n);
		in->p += n;
		in->left -= n;
		host_feed(in, frame_buf, n);
		break;
	}
	case 5:
		guest_open(p, take(in, 1) & 1);
		break;
	case 6:
	case 7:
		if (!p->gone) {
			p->tx_len += take(in, 1) << (take(in, 1) % 12);
			if (dev_tx(p))
				chan_port_tx_ready(&link, p->id);
		} else {
			chan_port_tx_ready(&link, p->id);
		}
		break;
	case 8:
	case 9:
		if (!p->gone) {
			uint32_t n;

			p->rx_budget += (uint32_t)(take(in, 1) << (take(in, 1) % 12));
			n = dev_rx(p);
			if (n)
				chan_port_consumed(&link, p->id, n);
		} else {
			chan_port_consumed(&link, p->id, (uint32_t)take(in, 2));
		}
		break;
	case 10: {
		uint8_t r = (uint8_t)take(in, 1);

		room = r < 0x40 ? r : r < 0x80 ? (size_t)take(in, 2) : r < 0xc0 ? ROOM_MAX : 0;
		chan_link_pump(&link);
		break;
	}
	case 11:
		/* A VM id comes back only once its last VM's end was told (attach forgets what
		 * is still to be said; vm.c never attaches an id twice). */
		if (!p->gone)
			detach(p, (int)take(in, 4));
		else if (!link.ports[p->id].say_close && !link.ports[p->id].say_exit)
			attach(p, (unsigned)(p - ports));
		break;
	default: {
		/* A well-behaved host's reply to what it saw: HELLO or the initial credit. */
		uint8_t b[8];

		vx_put_u32(b, VX_PROTOCOL_VER);
		vx_put_u32(b + 4, 0);
		if (!host_hello) {
			vx_put_hdr(frame_buf, LINK_HELLO, 0, 8);
			memcpy(frame_buf + VX_HDR_SIZE, b, 8);
			host_feed(in, frame_buf, VX_HDR_SIZE + 8);
		} else {
			vx_put_hdr(frame_buf, LINK_CREDIT, (uint16_t)p->id, 4);
			vx_put_u32(frame_buf + VX_HDR_SIZE, (uint32_t)take(in, 2) + 1);
			host_feed(in, frame_buf, VX_HDR_SIZE + 4);
		}
		break;
	}
	}
	check();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};

	chan_link_init(&link, &transport, NULL);
	vx_parser_init(&mirror, &mirror_ops, NULL, 1u << LINK_DATA);
	host_hello = saw_hello = false;
	out_len = 0;
	memset(by_chan, 0, sizeof(by_chan));
	for (unsigned i = 0; i < NPORTS; i++) {
		ports[i].id = port_ids[i];
		ports[i].host_open = ports[i].exited = false;
		by_chan[port_ids[i]] = &ports[i];
		attach(&ports[i], i);
	}
	/* The transport is up before it receives anything (the driver greets the host
	 * before it takes an interrupt); its room at first may be short. */
	room = take(&in, 1) & 1 ? ROOM_MAX : (size_t)take(&in, 1) % 24;
	chan_link_up(&link);
	check();
	while (in.left)
		step(&in);
	/* Whatever happened, the transport drains and everything pending goes out whole. */
	room = ROOM_MAX;
	chan_link_pump(&link);
	check();
	return 0;
}
