// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the guest virtio-net card and the switch behind it.
 * Card "a" (the one fuzzed) sits on a network with a fake VM port "b" and a
 * fake uplink. Each input starts "a" the way Linux does and is then read as
 * a script of guest and network actions: raw writes to guest RAM and to
 * descriptors of either queue, available-ring pushes, notifies, MMIO
 * accesses at any offset and width, Linux-shaped transmit chains with
 * fuzzer-chosen mistakes and contents (DHCP-shaped ones too), receive
 * buffers, frames arriving from the other ports, "b" running out of and
 * getting room, resets. The fakes abort on any frame that breaks the
 * switch's promises (length, a source address that is not the sender's);
 * ASan catches every stray access to guest or host memory.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ihv/include -DVIREO_HOST_TEST \
 *	hv/vdev/virtio_net.c hv/virtio/mmio.c hv/virtio/virtq.c hv/core/guest_mem.c \
 *	hv/net/[a-z]*.c tests/fuzz/fuzz_vnet.c -o build/fuzz_vnet
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/vm_layout.h>
#include <vireo/vnet.h>

#include "fuzz_check.h"

#define RAM_GPA	 0x80000000ULL
#define RAM_SIZE 0x20000ULL
#define RING(q)	 (0x2000ULL * (q)) /* rings of up to 128 entries */
#define BUF_OFF	 0x8000ULL
#define HDR	 sizeof(struct virtio_net_hdr)

struct fake {
	struct net_port port;
	uint8_t store[NET_BACKLOG_BYTES];
	bool full;
	unsigned taken;
};

static struct net_switch sw;
static struct vnet dev;
static struct fake peer, up;
static uint8_t *ram, *dev_store;
static bool irq_level;
static const struct net_port *sending; /* whose frame the switch is forwarding */

static const uint8_t mac_a[6] = {0x52, 0x54, 0, 0, 0, 0xa};
static const uint8_t mac_b[6] = {0x52, 0x54, 0, 0, 0, 0xb};

/* The guest driver's state. */
static unsigned num;
static uint16_t avail_idx[2];
static unsigned next_desc[2];

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

/* What the switch promises every port: a sane length, and from a VM only its own address. */
static enum net_deliver fake_deliver(struct net_port *p, const struct net_frame *f)
{
	struct fake *k = container_of(p, struct fake, port);
	uint8_t head[14];

	FUZZ_CHECK(f->len >= NET_ETH_HLEN && f->len <= NET_FRAME_MAX);
	FUZZ_CHECK(net_frame_read(f, 0, head, sizeof(head)) == sizeof(head));
	if (sending == &dev.port)
		FUZZ_CHECK(memcmp(head + 6, mac_a, 6) == 0);
	if (k->full)
		return NET_FULL;
	k->taken++;
	return NET_TAKEN;
}

static const struct net_port_ops fake_ops = {.deliver = fake_deliver};

static void set_irq(void *controller, unsigned source, bool level)
{
	(void)controller;
	FUZZ_CHECK(source == 1);
	FUZZ_CHECK(level != irq_level);
	irq_level = level;
}

static int mmio_write(uint64_t off, uint32_t value)
{
	int r;

	sending = &dev.port;
	r = vnet_mmio_ops.write(&dev, off, 4, value);
	sending = NULL;
	FUZZ_CHECK(r == 0 || (r == -VIREO_EBUSY && off == VIRTIO_MMIO_QUEUE_NOTIFY));
	return r;
}

static uint32_t mmio_read(uint64_t off)
{
	uint64_t v;

	FUZZ_CHECK(vnet_mmio_ops.read(&dev, off, 4, &v) == 0);
	return (uint32_t)v;
}

static void notify(unsigned q)
{
	/* A guest re-executes a notify that asks for it; each retry makes progress. */
	for (unsigned tries = 0; mmio_write(VIRTIO_MMIO_QUEUE_NOTIFY, q) && tries < 4; tries++)
		;
}

static void start(struct input *in)
{
	uint64_t features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC);

	if (take(in, 1) & 1)
		features |= BIT(VIRTIO_F_EVENT_IDX);
	num = 1u << (take(in, 1) % 8);
	memset(ram, 0, BUF_OFF);
	mmio_write(VIRTIO_MMIO_STATUS, 0);
	mmio_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_write(VIRTIO_MMIO_STATUS,
		   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
		mmio_write(VIRTIO_MMIO_QUEUE_SEL, q);
		mmio_write(VIRTIO_MMIO_QUEUE_NUM, num);
		mmio_write(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_GPA + RING(2 * q)));
		mmio_write(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_GPA + RING(2 * q) + 0x800));
		mmio_write(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_GPA + RING(2 * q + 1)));
		mmio_write(VIRTIO_MMIO_QUEUE_READY, 1);
		avail_idx[q] = 0;
		next_desc[q] = 0;
	}
	mmio_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* Mostly guest-RAM addresses, so that the fuzzer reaches deep quickly; sometimes anything. */
static uint64_t fuzz_addr(struct input *in)
{
	uint8_t kind = (uint8_t)take(in, 1);

	if (kind & 0x80)
		return take(in, 8);
	return RAM_GPA + (take(in, 3) % RAM_SIZE);
}

static struct virtq_desc *desc(unsigned q, unsigned i)
{
	return (struct virtq_desc *)(ram + RING(2 * q)) + i % num;
}

static void write_desc(struct input *in)
{
	struct virtq_desc *d = desc(take(in, 1) & 1, (unsigned)take(in, 1));

	d->addr = fuzz_addr(in);
	d->len = (uint32_t)take(in, 2);
	d->flags = (uint16_t)take(in, 1);
	d->next = (uint16_t)take(in, 1);
}

static void write_ram(struct input *in)
{
	uint64_t off = take(in, 3) % RAM_SIZE;
	uint64_t len = take(in, 1);

	len = MIN(len, RAM_SIZE - off);
	for (uint64_t i = 0; i < len; i++)
		ram[off + i] = (uint8_t)take(in, 1);
}

static void push_head(unsigned q, uint16_t head)
{
	struct virtq_avail *a = (struct virtq_avail *)(ram + RING(2 * q) + 0x800);

	a->ring[avail_idx[q] % num] = head;
	avail_idx[q]++;
	__atomic_store_n(&a->idx, avail_idx[q], __ATOMIC_RELEASE);
}

/* A frame in guest RAM at off: mostly a's own, to b, broadcast or out; sometimes DHCP. */
static uint32_t write_frame(struct input *in, uint64_t off)
{
	static const uint32_t lens[] = {60, 14, 13, 342, 1514, 1518, 1519, 100};
	uint8_t c = (uint8_t)take(in, 1);
	uint32_t len = lens[c % 8];
	uint8_t *f = ram + off;

	memset(f, 0, HDR);
	if (c & 0x80)
		f[0] = (uint8_t)take(in, 1); /* a header asking for offloads */
	f += HDR;
	memcpy(f, c & 0x08 ? mac_b : (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 6);
	memcpy(f + 6, c & 0x10 ? (const uint8_t[]){0x52, 0x55, 0, 0, 0, 1} : mac_a, 6);
	if (c & 0x20) { /* IPv4/UDP to port 67, with fuzzer-chosen BOOTP */
		f[12] = 0x08;
		f[14] = 0x45;
		f[16] = (uint8_t)((len - 14) >> 8);
		f[17] = (uint8_t)(len - 14);
		f[23] = 17;
		f[37] = 67;
		f[38] = (uint8_t)((len - 34) >> 8);
		f[39] = (uint8_t)(len - 34);
	}
	for (uint32_t i = c & 0x20 ? 42 : 12; i < len && i < 64 && in->left; i++)
		f[i] = (uint8_t)take(in, 1);
	if ((c & 0x20) && len >= 42 + 240) {
		f[42] = 1;
		f[43] = 1;
		f[44] = 6;
		memcpy(f + 42 + 236, "\x63\x82\x53\x63\x35\x01", 6);
		f[42 + 242] = (uint8_t)take(in, 1) % 9;
	}
	return (uint32_t)HDR + len;
}

/* A Linux-shaped transmit chain (header and frame, cut in pieces), with mistakes. */
static void post_tx(struct input *in)
{
	unsigned slot = (unsigned)take(in, 1) % 16;
	uint64_t off = BUF_OFF + slot * 0x800;
	uint32_t total = write_frame(in, off), at = 0;
	unsigned n = 1 + (unsigned)take(in, 1) % 4;
	uint16_t head = (uint16_t)(next_desc[1] % num);

	for (unsigned k = 0; k < n; k++) {
		unsigned i = (next_desc[1] + k) % num;
		uint32_t end = k + 1 < n ? MIN(total, at + 1 + (uint32_t)take(in, 1) * 8) : total;
		uint8_t c = (uint8_t)take(in, 1);

		*desc(1, i) = (struct virtq_desc){
		    .addr = c & 0x10 ? fuzz_addr(in) : RAM_GPA + off + at,
		    .len = c & 0x08 ? (uint32_t)take(in, 2) : end - at,
		    .flags = (uint16_t)((k + 1 < n ? VIRTQ_DESC_F_NEXT : 0) ^ (c & 7)),
		    .next = c & 0x20 ? (uint16_t)take(in, 1) : (uint16_t)((i + 1) % num),
		};
		at = end;
	}
	next_desc[1] += n;
	push_head(1, head);
}

/* Receive buffers as Linux posts them (one writable descriptor each), sizes fuzzed. */
static void post_rx(struct input *in)
{
	unsigned n = 1 + (unsigned)take(in, 1) % 8;

	for (unsigned k = 0; k < n; k++) {
		unsigned i = next_desc[0]++ % num;
		uint8_t c = (uint8_t)take(in, 1);

		*desc(0, i) = (struct virtq_desc){
		    .addr = RAM_GPA + BUF_OFF + 0x8000 + (i % 16) * 0x800,
		    .len = c & 0x80 ? (uint32_t)take(in, 2) : 0x800,
		    .flags = (uint16_t)(VIRTQ_DESC_F_WRITE ^ (c & 7)),
		};
		push_head(0, (uint16_t)i);
	}
}

/* A frame from b or the uplink: for a, broadcast, or someone else. */
static void frame_from_outside(struct input *in)
{
	static uint8_t f[NET_FRAME_MAX + 1];
	struct fake *from = take(in, 1) & 1 ? &peer : &up;
	uint8_t c = (uint8_t)take(in, 1);
	uint32_t len = 14 + (uint32_t)take(in, 2) % (NET_FRAME_MAX - 13);
	struct net_frame fr;

	memset(f, (int)c, sizeof(f));
	memcpy(f, c & 1 ? mac_a : (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 6);
	memcpy(f + 6, from == &peer ? mac_b : (const uint8_t[]){0x52, 0x55, 0, 0, 0, 1}, 6);
	if (c & 2)
		f[6 + (take(in, 1) % 6)] ^= (uint8_t)take(in, 1);
	net_frame_flat(&fr, f, len);
	sending = &from->port;
	net_send(&from->port, &fr);
	sending = NULL;
}

static void mmio_any(struct input *in)
{
	static const unsigned widths[] = {1, 2, 4, 8};
	uint64_t off = take(in, 2) % VM_VIRTIO_STRIDE;
	unsigned width = widths[take(in, 1) % 4];
	uint64_t v = take(in, 4);
	int r;

	off = MIN(off, VM_VIRTIO_STRIDE - width);
	sending = &dev.port;
	if (v & 1)
		r = vnet_mmio_ops.read(&dev, off, width, &v);
	else
		r = vnet_mmio_ops.write(&dev, off, width, v >> 1);
	sending = NULL;
	FUZZ_CHECK(r == 0 || r == -VIREO_EBUSY);
}

static void step(struct input *in)
{
	switch (take(in, 1) % 16) {
	case 0:
		write_ram(in);
		break;
	case 1:
		write_desc(in);
		break;
	case 2:
		push_head(take(in, 1) & 1, (uint16_t)take(in, 1));
		break;
	case 3:
	case 4:
		notify(take(in, 1) & 1);
		break;
	case 5:
		frame_from_outside(in);
		break;
	case 6:
		mmio_any(in);
		break;
	case 7:
		mmio_write(VIRTIO_MMIO_INTERRUPT_ACK, mmio_read(VIRTIO_MMIO_INTERRUPT_STATUS));
		break;
	case 8:
		peer.full = take(in, 1) & 1;
		if (!peer.full)
			net_port_room(&peer.port);
		break;
	case 9:
	case 10:
	case 11:
		post_tx(in);
		break;
	case 12:
	case 13:
		post_rx(in);
		break;
	default:
		if (take(in, 1) % 2)
			vnet_reset(&dev);
		else
			start(in);
		break;
	}
	FUZZ_CHECK(irq_level == (mmio_read(VIRTIO_MMIO_INTERRUPT_STATUS) != 0));
	FUZZ_CHECK(net_backlog_count(&peer.port.backlog) <= NET_BACKLOG_SLOTS);
	FUZZ_CHECK(net_backlog_count(&dev.port.backlog) <= NET_BACKLOG_SLOTS);
}

static void init_fake(struct fake *k, const char *name, bool uplink, const uint8_t *mac)
{
	memset(k, 0, sizeof(*k));
	k->port = (struct net_port){
	    .ops = &fake_ops, .name = name, .uplink = uplink, .backlog_store = k->store};
	if (mac)
		memcpy(k->port.mac, mac, 6);
	FUZZ_CHECK(net_attach(&sw, &k->port) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct irq_line line = {.set_level = set_irq, .source = 1};
	struct guest_mem mem;

	if (!ram) {
		ram = aligned_alloc(4096, RAM_SIZE);
		dev_store = malloc(NET_BACKLOG_BYTES);
	}
	memset(ram, 0, RAM_SIZE);
	mem = (struct guest_mem){.nruns = 1,
				 .runs = {{.gpa = RAM_GPA, .size = RAM_SIZE, .host = ram}}};
	net_switch_init(&sw, "default");
	init_fake(&peer, "b", false, mac_b);
	init_fake(&up, "uplink", true, NULL);
	irq_level = false;
	FUZZ_CHECK(vnet_init(&dev, &mem, &line, mac_a, 0x0a00020f, "a", dev_store) == 0);
	FUZZ_CHECK(net_attach(&sw, &dev.port) == 0);
	start(&in);
	while (in.left)
		step(&in);
	net_detach(&dev.port);
	vnet_reset(&dev);
	FUZZ_CHECK(!irq_level);
	net_detach(&peer.port);
	net_detach(&up.port);
	return 0;
}
