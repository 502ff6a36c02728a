// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the guest virtio-net card (hv/vdev/virtio_net.c) on the
 * real switch. Two cards, "a" and "b", each with its own guest RAM between
 * PROT_NONE guards (so a device access outside RAM faults), sit on one
 * network with a fake uplink that records what it is sent. The tests play
 * Linux's virtio_mmio and virtio_net drivers through the MMIO ops: they
 * negotiate, lay out both queues, post receive buffers and transmit frames,
 * well-formed and not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <vireo/vnet.h>

#define RAM_GPA	    0x80000000ULL
#define RAM_SIZE    (2 * 1024 * 1024ULL)
#define GUARD_SIZE  (1024 * 1024ULL)
#define RING_OFF(q) (0x8000ULL * (q)) /* each queue's rings, Linux's layout */
#define RXBUF_OFF   0x20000ULL	      /* 256 receive buffers of 2 KiB */
#define TXBUF_OFF   0xa0000ULL	      /* 256 transmit buffers of 2 KiB */
#define BUF_SIZE    2048
#define HDR	    sizeof(struct virtio_net_hdr)
#define NUM	    256
#define MAX_SEEN    1024

#define LINUX_FEATURES                                                                             \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_MTU) |                 \
	 BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_F_EVENT_IDX))
#define STATUS_RUNNING                                                                             \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |            \
	 VIRTIO_STATUS_DRIVER_OK)

struct queue {
	uint64_t desc, avail, used; /* guest-physical */
	uint16_t avail_idx, used_seen;
	unsigned next_desc;
};

struct guest {
	struct vnet *dev;
	uint8_t *map, *ram;
	uint8_t *store;
	bool irq;
	unsigned irq_raised;
	struct queue q[2];
};

struct fake_uplink {
	struct net_port port;
	uint8_t store[NET_BACKLOG_BYTES];
	unsigned nseen;
	uint16_t seen_len[MAX_SEEN];
	uint8_t seen[MAX_SEEN][64];
	void (*hook)(void); /* called on each frame it takes */
};

static const uint8_t mac_a[6] = {0x52, 0x54, 0, 0, 0, 0xa};
static const uint8_t mac_b[6] = {0x52, 0x54, 0, 0, 0, 0xb};
static const uint8_t mac_out[6] = {0x52, 0x55, 0x0a, 0, 2, 2};
static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct guest ga, gb;
static struct fake_uplink *up;
static struct net_switch *sw;

/* ---------------------------------------------------------------- fakes */

static void set_irq(void *controller, unsigned source, bool level)
{
	struct guest *g = controller;

	assert_int_equal(source, 3);
	assert_int_not_equal(g->irq, level); /* the line moves only when its level does */
	g->irq = level;
	g->irq_raised += level;
}

static enum net_deliver uplink_deliver(struct net_port *p, const struct net_frame *f)
{
	struct fake_uplink *u = container_of(p, struct fake_uplink, port);

	assert_true(u->nseen < MAX_SEEN);
	u->seen_len[u->nseen] = (uint16_t)f->len;
	net_frame_read(f, 0, u->seen[u->nseen], 64);
	u->nseen++;
	if (u->hook)
		u->hook();
	return NET_TAKEN;
}

static const struct net_port_ops uplink_ops = {.deliver = uplink_deliver};

/* ---------------------------------------------------------------- the guest driver */

static void *gptr(struct guest *g, uint64_t gpa)
{
	assert_true(gpa >= RAM_GPA && gpa < RAM_GPA + RAM_SIZE);
	return g->ram + (gpa - RAM_GPA);
}

static uint32_t rd32(struct guest *g, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(vnet_mmio_ops.read(g->dev, off, 4, &v), 0);
	return (uint32_t)v;
}

static int wr32_ret(struct guest *g, uint64_t off, uint32_t v)
{
	return vnet_mmio_ops.write(g->dev, off, 4, v);
}

static void wr32(struct guest *g, uint64_t off, uint32_t v)
{
	assert_int_equal(wr32_ret(g, off, v), 0);
}

static uint64_t device_features(struct guest *g)
{
	uint64_t hi;

	wr32(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = rd32(g, VIRTIO_MMIO_DEVICE_FEATURES);
	wr32(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return hi << 32 | rd32(g, VIRTIO_MMIO_DEVICE_FEATURES);
}

static void setup_queue(struct guest *g, unsigned qi)
{
	struct queue *q = &g->q[qi];

	wr32(g, VIRTIO_MMIO_QUEUE_SEL, qi);
	assert_int_equal(rd32(g, VIRTIO_MMIO_QUEUE_NUM_MAX), VNET_QUEUE_MAX);
	*q = (struct queue){.desc = RAM_GPA + RING_OFF(qi)};
	q->avail = q->desc + virtq_desc_bytes(NUM);
	q->used = ALIGN_UP(q->avail + virtq_avail_bytes(NUM), 4096);
	memset(gptr(g, q->desc), 0, 0x8000);
	wr32(g, VIRTIO_MMIO_QUEUE_NUM, NUM);
	wr32(g, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
	wr32(g, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc >> 32));
	wr32(g, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail);
	wr32(g, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q->avail >> 32));
	wr32(g, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used);
	wr32(g, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->used >> 32));
	wr32(g, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* virtnet_probe: features, both queues, DRIVER_OK. */
static void start(struct guest *g, uint64_t features)
{
	wr32(g, VIRTIO_MMIO_STATUS, 0);
	wr32(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	(void)device_features(g);
	wr32(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(g, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr32(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(g, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr32(g, VIRTIO_MMIO_STATUS,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	setup_queue(g, VIRTIO_NET_RXQ);
	setup_queue(g, VIRTIO_NET_TXQ);
	wr32(g, VIRTIO_MMIO_STATUS, STATUS_RUNNING);
	assert_int_equal(rd32(g, VIRTIO_MMIO_STATUS), STATUS_RUNNING);
}

static struct virtq_desc *desc(struct guest *g, unsigned qi, unsigned i)
{
	return (struct virtq_desc *)gptr(g, g->q[qi].desc) + i % NUM;
}

static void push(struct guest *g, unsigned qi, uint16_t head)
{
	struct queue *q = &g->q[qi];
	struct virtq_avail *a = gptr(g, q->avail);

	a->ring[q->avail_idx % NUM] = head;
	q->avail_idx++;
	__atomic_store_n(&a->idx, q->avail_idx, __ATOMIC_RELEASE);
}

static void notify(struct guest *g, unsigned qi)
{
	wr32(g, VIRTIO_MMIO_QUEUE_NOTIFY, qi);
}

/* Post n receive buffers of len bytes each (one descriptor each, as Linux's small
 * buffers), then notify. */
static void post_rx(struct guest *g, unsigned n, uint32_t len)
{
	for (unsigned k = 0; k < n; k++) {
		unsigned i = g->q[VIRTIO_NET_RXQ].next_desc++ % NUM;

		*desc(g, VIRTIO_NET_RXQ, i) =
		    (struct virtq_desc){.addr = RAM_GPA + RXBUF_OFF + i * BUF_SIZE,
					.len = len,
					.flags = VIRTQ_DESC_F_WRITE};
		memset(gptr(g, RAM_GPA + RXBUF_OFF + i * BUF_SIZE), 0xee, BUF_SIZE);
		push(g, VIRTIO_NET_RXQ, (uint16_t)i);
	}
	notify(g, VIRTIO_NET_RXQ);
}

/* The next used entry of a queue; false if there is none. */
static bool next_used(struct guest *g, unsigned qi, uint32_t *id, uint32_t *len)
{
	struct queue *q = &g->q[qi];
	struct virtq_used *u = gptr(g, q->used);

	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == q->used_seen)
		return false;
	*id = u->ring[q->used_seen % NUM].id;
	*len = u->ring[q->used_seen % NUM].len;
	q->used_seen++;
	return true;
}

static uint8_t frame_bytes[2 * BUF_SIZE];

/* A frame dst <- src of len bytes, payload tagged. */
static uint8_t *make_frame(const uint8_t *dst, const uint8_t *src, uint32_t len, uint8_t tag)
{
	memcpy(frame_bytes, dst, 6);
	memcpy(frame_bytes + 6, src, 6);
	frame_bytes[12] = 0x88;
	frame_bytes[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		frame_bytes[i] = (uint8_t)(tag ^ i);
	return frame_bytes;
}

/*
 * Queue a transmit chain: header + frame, cut into `pieces` descriptors at
 * the offsets in cut[] (bytes of header+frame), with the header given. Returns
 * the head. Does not notify.
 */
static uint16_t queue_tx(struct guest *g, const struct virtio_net_hdr *hdr, const uint8_t *frame,
			 uint32_t len, const uint32_t *cut, unsigned pieces)
{
	struct queue *q = &g->q[VIRTIO_NET_TXQ];
	uint16_t head = (uint16_t)(q->next_desc % NUM);
	uint64_t buf = RAM_GPA + TXBUF_OFF + (uint64_t)(head % 64) * 2 * BUF_SIZE;
	uint32_t total = (uint32_t)HDR + len, at = 0;

	memcpy(gptr(g, buf), hdr, HDR);
	memcpy(gptr(g, buf + HDR), frame, len);
	for (unsigned k = 0; k < pieces; k++) {
		unsigned i = q->next_desc++ % NUM;
		uint32_t end = cut && k + 1 < pieces ? cut[k] : total;

		*desc(g, VIRTIO_NET_TXQ, i) = (struct virtq_desc){
		    .addr = buf + at,
		    .len = end - at,
		    .flags = k + 1 < pieces ? VIRTQ_DESC_F_NEXT : 0,
		    .next = (uint16_t)((i + 1) % NUM),
		};
		at = end;
	}
	push(g, VIRTIO_NET_TXQ, head);
	return head;
}

static void send(struct guest *g, const uint8_t *frame, uint32_t len)
{
	struct virtio_net_hdr hdr = {0};

	queue_tx(g, &hdr, frame, len, NULL, 1);
	notify(g, VIRTIO_NET_TXQ);
}

/* The receive buffer of used entry id, and its header. */
static const uint8_t *rx_data(struct guest *g, uint32_t id)
{
	return gptr(g, RAM_GPA + RXBUF_OFF + (uint64_t)id * BUF_SIZE);
}

/* ---------------------------------------------------------------- fixture */

static void make_guest(struct guest *g, const uint8_t *mac, uint32_t ip)
{
	struct guest_mem mem;
	struct irq_line line = {.set_level = set_irq, .controller = g, .source = 3};

	*g = (struct guest){0};
	g->map =
	    mmap(NULL, RAM_SIZE + 2 * GUARD_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	g->ram = g->map + GUARD_SIZE;
	assert_int_equal(mprotect(g->ram, RAM_SIZE, PROT_READ | PROT_WRITE), 0);
	mem = (struct guest_mem){.nruns = 1,
				 .runs = {{.gpa = RAM_GPA, .size = RAM_SIZE, .host = g->ram}}};
	g->dev = calloc(1, sizeof(*g->dev));
	g->store = malloc(NET_BACKLOG_BYTES);
	assert_int_equal(vnet_init(g->dev, &mem, &line, mac, ip, "vm", g->store), 0);
	assert_int_equal(net_attach(sw, &g->dev->port), 0);
}

static void free_guest(struct guest *g)
{
	net_detach(&g->dev->port);
	vnet_reset(g->dev);
	assert_false(g->irq);
	munmap(g->map, RAM_SIZE + 2 * GUARD_SIZE);
	free(g->dev);
	free(g->store);
}

static int setup(void **state)
{
	(void)state;
	sw = calloc(1, sizeof(*sw));
	net_switch_init(sw, "default");
	up = calloc(1, sizeof(*up));
	up->port = (struct net_port){
	    .ops = &uplink_ops, .name = "uplink", .uplink = true, .backlog_store = up->store};
	assert_int_equal(net_attach(sw, &up->port), 0);
	make_guest(&ga, mac_a, 0x0a00020f);
	make_guest(&gb, mac_b, 0x0a000210);
	start(&ga, LINUX_FEATURES);
	start(&gb, LINUX_FEATURES);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_guest(&ga);
	free_guest(&gb);
	net_detach(&up->port);
	free(up);
	free(sw);
	return 0;
}

/* ---------------------------------------------------------------- tests */

static void test_features_and_config(void **state)
{
	struct vnet *d = ga.dev;
	uint64_t v = 0;
	uint8_t mac[6];

	(void)state;
	assert_int_equal(device_features(&ga),
			 LINUX_FEATURES | 0); /* exactly what Linux takes: nothing more offered */
	assert_int_equal(rd32(&ga, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(vnet_mmio_ops.read(d, VIRTIO_MMIO_CONFIG + i, 1, &v), 0);
		mac[i] = (uint8_t)v;
	}
	assert_memory_equal(mac, mac_a, 6);
	assert_int_equal(vnet_mmio_ops.read(d, VIRTIO_MMIO_CONFIG + 6, 2, &v), 0);
	assert_int_equal(v, VIRTIO_NET_S_LINK_UP);
	assert_int_equal(vnet_mmio_ops.read(d, VIRTIO_MMIO_CONFIG + 10, 2, &v), 0);
	assert_int_equal(v, 1500);
	/* The configuration is read-only. */
	assert_int_equal(vnet_mmio_ops.write(d, VIRTIO_MMIO_CONFIG, 1, 0x77), 0);
	assert_int_equal(vnet_mmio_ops.read(d, VIRTIO_MMIO_CONFIG, 1, &v), 0);
	assert_int_equal(v, mac_a[0]);
	/* A card with a multicast address, or without a backlog store, cannot be made. */
	struct vnet *other = calloc(1, sizeof(*other));
	assert_int_equal(vnet_init(other, &d->mem, NULL, mac_bcast, 0, "x", ga.store),
			 -VIREO_EINVAL);
	assert_int_equal(vnet_init(other, &d->mem, NULL, mac_b, 0, "x", NULL), -VIREO_EINVAL);
	free(other);
}

static void test_frame_from_vm_to_vm(void **state)
{
	uint32_t id, len;
	const uint8_t *buf;
	struct virtio_net_hdr hdr;

	(void)state;
	post_rx(&gb, 4, 1526);
	send(&ga, make_frame(mac_b, mac_a, 100, 0x5a), 100);
	/* a's chain is used (nothing written into it)... */
	assert_true(next_used(&ga, VIRTIO_NET_TXQ, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 0);
	/* ...b got the header and the frame, and an interrupt. */
	assert_true(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(len, HDR + 100);
	buf = rx_data(&gb, id);
	memcpy(&hdr, buf, HDR);
	assert_int_equal(hdr.flags, 0);
	assert_int_equal(hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(hdr.num_buffers, 1);
	assert_memory_equal(buf + HDR, make_frame(mac_b, mac_a, 100, 0x5a), 100);
	assert_true(gb.irq);
	assert_false(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(up->nseen, 0);
	assert_int_equal(ga.dev->port.stats.sent, 1);
	/* A frame for the outside goes to the uplink. */
	send(&ga, make_frame(mac_out, mac_a, 60, 1), 60);
	assert_int_equal(up->nseen, 1);
	assert_int_equal(up->seen_len[0], 60);
}

static void test_chains_cut_anywhere(void **state)
{
	static const uint32_t cuts[][4] = {{12}, {5}, {12, 20}, {3, 7, 13}, {1, 2, 60}};
	static const unsigned pieces[] = {2, 2, 3, 4, 4};
	struct virtio_net_hdr hdr = {0};
	uint32_t id, len;

	(void)state;
	post_rx(&gb, 8, 1526);
	for (unsigned k = 0; k < 5; k++) {
		queue_tx(&ga, &hdr, make_frame(mac_b, mac_a, 64, (uint8_t)k), 64, cuts[k],
			 pieces[k]);
		notify(&ga, VIRTIO_NET_TXQ);
		assert_true(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
		assert_int_equal(len, HDR + 64);
		assert_memory_equal(rx_data(&gb, id) + HDR,
				    make_frame(mac_b, mac_a, 64, (uint8_t)k), 64);
	}
	/* Receive buffers cut in two: the header and the frame run across. */
	for (unsigned i = 0; i < 2; i++)
		*desc(&gb, VIRTIO_NET_RXQ, 100 + i) =
		    (struct virtq_desc){.addr = RAM_GPA + RXBUF_OFF + (100 + i) * BUF_SIZE,
					.len = i ? 1000 : 7,
					.flags = VIRTQ_DESC_F_WRITE | (i ? 0 : VIRTQ_DESC_F_NEXT),
					.next = 101};
	push(&gb, VIRTIO_NET_RXQ, 100);
	notify(&gb, VIRTIO_NET_RXQ);
	while (next_used(&gb, VIRTIO_NET_RXQ, &id, &len))
		;
	/* The 8 buffers posted first are used up; the split chain is next in the ring. */
	send(&ga, make_frame(mac_b, mac_a, 300, 9), 300);
	send(&ga, make_frame(mac_b, mac_a, 300, 9), 300);
	send(&ga, make_frame(mac_b, mac_a, 300, 9), 300);
	send(&ga, make_frame(mac_b, mac_a, 300, 9), 300);
	while (next_used(&gb, VIRTIO_NET_RXQ, &id, &len) && id != 100)
		;
	assert_int_equal(id, 100);
	assert_int_equal(len, HDR + 300);
	assert_memory_equal(rx_data(&gb, 101) + (HDR - 7), make_frame(mac_b, mac_a, 300, 9), 300);
}

/* Chains Linux would never send: each is used and its frame dropped and counted. */
static void test_bad_transmit_chains(void **state)
{
	struct virtio_net_hdr csum = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM};
	struct virtio_net_hdr gso = {.gso_type = 1};
	struct virtio_net_hdr ok = {0};
	static const uint32_t many[VNET_CHAIN_MAX] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint32_t id, len;
	unsigned used = 0;
	uint16_t head;

	(void)state;
	post_rx(&gb, 16, 1526);
	queue_tx(&ga, &csum, make_frame(mac_b, mac_a, 60, 0), 60, NULL, 1);
	queue_tx(&ga, &gso, make_frame(mac_b, mac_a, 60, 0), 60, NULL, 1);
	queue_tx(&ga, &ok, make_frame(mac_b, mac_a, NET_FRAME_MAX + 1, 0), NET_FRAME_MAX + 1, NULL,
		 1);
	queue_tx(&ga, &ok, make_frame(mac_b, mac_a, 13, 0), 13, NULL, 1);
	/* A header alone, shorter than a header. */
	queue_tx(&ga, &ok, make_frame(mac_b, mac_a, 0, 0), 0, NULL, 1);
	desc(&ga, VIRTIO_NET_TXQ, ga.q[VIRTIO_NET_TXQ].next_desc - 1)->len = 5;
	/* A device-writable buffer in a transmit chain. */
	head = queue_tx(&ga, &ok, make_frame(mac_b, mac_a, 60, 0), 60, NULL, 1);
	desc(&ga, VIRTIO_NET_TXQ, head)->flags = VIRTQ_DESC_F_WRITE;
	/* More buffers than a chain may have. */
	queue_tx(&ga, &ok, make_frame(mac_b, mac_a, 60, 0), 60, many, VNET_CHAIN_MAX + 1);
	/* A buffer outside guest RAM. */
	head = queue_tx(&ga, &ok, make_frame(mac_b, mac_a, 60, 0), 60, NULL, 1);
	desc(&ga, VIRTIO_NET_TXQ, head)->addr = RAM_GPA + RAM_SIZE - 8;
	/* ...and a good one after them all. */
	queue_tx(&ga, &ok, make_frame(mac_b, mac_a, 60, 0x33), 60, NULL, 1);
	notify(&ga, VIRTIO_NET_TXQ);
	while (next_used(&ga, VIRTIO_NET_TXQ, &id, &len)) {
		assert_int_equal(len, 0);
		used++;
	}
	assert_int_equal(used, 9);
	assert_int_equal(ga.dev->stats.tx_bad, 8);
	assert_int_equal(ga.dev->port.malformed, 8);
	assert_true(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(rx_data(&gb, id)[HDR + 14], 0x33 ^ 14);
	assert_false(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_false(rd32(&ga, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void test_spoofed_frames_are_dropped(void **state)
{
	uint32_t id, len;

	(void)state;
	post_rx(&gb, 4, 1526);
	send(&ga, make_frame(mac_b, mac_b, 60, 0), 60);
	send(&ga, make_frame(mac_bcast, mac_out, 60, 0), 60);
	assert_false(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(up->nseen, 0);
	assert_int_equal(ga.dev->port.stats.spoofed, 2);
}

static void test_broken_ring_needs_reset(void **state)
{
	struct virtio_net_hdr hdr = {0};
	static const uint32_t cut[] = {20};
	uint16_t head;

	(void)state;
	head = queue_tx(&ga, &hdr, make_frame(mac_b, mac_a, 60, 0), 60, cut, 2);
	desc(&ga, VIRTIO_NET_TXQ, head + 1u)->flags = VIRTQ_DESC_F_NEXT;
	desc(&ga, VIRTIO_NET_TXQ, head + 1u)->next = head; /* a loop */
	notify(&ga, VIRTIO_NET_TXQ);
	assert_true(rd32(&ga, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_true(rd32(&ga, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	/* A broken card sends nothing and takes nothing any more, until it is reset. */
	send(&ga, make_frame(mac_out, mac_a, 60, 0), 60);
	assert_int_equal(up->nseen, 0);
	start(&ga, LINUX_FEATURES);
	assert_false(ga.irq);
	send(&ga, make_frame(mac_out, mac_a, 60, 0), 60);
	assert_int_equal(up->nseen, 1);
	/* An available index that runs ahead of the ring is broken too. */
	ga.q[VIRTIO_NET_RXQ].avail_idx = NUM + 1;
	post_rx(&ga, 1, 1526);
	send(&gb, make_frame(mac_a, mac_b, 60, 0), 60);
	assert_true(rd32(&ga, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(ga.dev->port.stats.dropped, 1);
}

static void test_bad_receive_buffers(void **state)
{
	uint32_t id, len;

	(void)state;
	/* Too small for header + frame: used empty, the frame dropped. */
	post_rx(&gb, 1, HDR + 59);
	send(&ga, make_frame(mac_b, mac_a, 60, 0), 60);
	assert_true(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(len, 0);
	assert_int_equal(gb.dev->stats.rx_bad, 1);
	/* Device-readable: the same. */
	post_rx(&gb, 1, 1526);
	desc(&gb, VIRTIO_NET_RXQ, gb.q[VIRTIO_NET_RXQ].next_desc - 1)->flags = 0;
	send(&ga, make_frame(mac_b, mac_a, 60, 0), 60);
	assert_true(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(len, 0);
	assert_int_equal(gb.dev->stats.rx_bad, 2);
	assert_int_equal(gb.dev->port.stats.dropped, 2);
	/* Exactly large enough is fine. */
	post_rx(&gb, 1, HDR + 60);
	send(&ga, make_frame(mac_b, mac_a, 60, 0), 60);
	assert_true(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(len, HDR + 60);
}

static void test_no_receive_buffers_then_some(void **state)
{
	struct virtq_used *u = gptr(&gb, gb.q[VIRTIO_NET_RXQ].used);
	uint32_t id, len;

	(void)state;
	/* Nothing posted: the frames wait in b's backlog, and b is asked to notify. */
	for (uint8_t k = 1; k <= 3; k++)
		send(&ga, make_frame(mac_b, mac_a, 60, k), 60);
	assert_false(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(net_backlog_count(&gb.dev->port.backlog), 3);
	/* avail_event (after the used ring) is where the device stands: notify on the next. */
	assert_int_equal(((uint16_t *)&u->ring[NUM])[0], gb.dev->queues[VIRTIO_NET_RXQ].last_avail);
	post_rx(&gb, 2, 1526);
	for (uint8_t k = 1; k <= 2; k++) {
		assert_true(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
		assert_int_equal(rx_data(&gb, id)[HDR + 14], k ^ 14);
	}
	assert_false(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	post_rx(&gb, 2, 1526);
	assert_true(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(rx_data(&gb, id)[HDR + 14], 3 ^ 14);
	assert_int_equal(net_backlog_count(&gb.dev->port.backlog), 0);
	/* A card that is not running drops what comes for it. */
	wr32(&gb, VIRTIO_MMIO_STATUS, 0);
	send(&ga, make_frame(mac_b, mac_a, 60, 4), 60);
	assert_int_equal(net_backlog_count(&gb.dev->port.backlog), 0);
	assert_int_equal(gb.dev->port.stats.dropped, 1);
}

/* Without EVENT_IDX, notifications are switched with the used ring's flag. */
static void test_without_event_idx(void **state)
{
	struct virtq_used *u;
	uint32_t id, len;

	(void)state;
	start(&gb, LINUX_FEATURES & ~BIT(VIRTIO_F_EVENT_IDX));
	u = gptr(&gb, gb.q[VIRTIO_NET_RXQ].used);
	send(&ga, make_frame(mac_b, mac_a, 60, 1), 60);
	assert_int_equal(u->flags, 0);
	post_rx(&gb, 1, 1526);
	assert_true(next_used(&gb, VIRTIO_NET_RXQ, &id, &len));
	assert_int_equal(u->flags, VIRTQ_USED_F_NO_NOTIFY);
}

/* A driver that keeps refilling its transmit queue while the card sends: after
 * VNET_TX_BUDGET chains the notify asks to be executed again. */
static unsigned refills;

static void refill_a(void)
{
	struct virtq *q = &ga.dev->queues[VIRTIO_NET_TXQ];

	if (refills && (uint16_t)(ga.q[VIRTIO_NET_TXQ].avail_idx - q->last_avail) < NUM) {
		push(&ga, VIRTIO_NET_TXQ, 0);
		refills--;
	}
}

static void test_transmit_budget(void **state)
{
	struct virtio_net_hdr hdr = {0};
	uint32_t id, len;
	unsigned used = 0;

	(void)state;
	queue_tx(&ga, &hdr, make_frame(mac_out, mac_a, 60, 0), 60, NULL, 1);
	for (unsigned i = 1; i < NUM; i++)
		push(&ga, VIRTIO_NET_TXQ, 0); /* the same chain, over and over */
	refills = 3 * NUM;
	up->hook = refill_a;
	assert_int_equal(wr32_ret(&ga, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_TXQ), -VIREO_EBUSY);
	assert_int_equal(up->nseen, VNET_TX_BUDGET);
	up->hook = NULL;
	/* The retry takes the rest. */
	while (wr32_ret(&ga, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_TXQ) == -VIREO_EBUSY)
		;
	assert_int_equal(up->nseen, NUM + VNET_TX_BUDGET);
	while (next_used(&ga, VIRTIO_NET_TXQ, &id, &len))
		used++;
	assert_int_equal(used, NUM + VNET_TX_BUDGET);
}

/* A notify before the driver is ready, and registers at odd widths, are harmless. */
static void test_odd_accesses(void **state)
{
	uint64_t v;

	(void)state;
	wr32(&ga, VIRTIO_MMIO_STATUS, 0);
	notify(&ga, VIRTIO_NET_TXQ);
	notify(&ga, VIRTIO_NET_RXQ);
	notify(&ga, 7);
	assert_int_equal(vnet_mmio_ops.write(ga.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 2, 1), 0);
	assert_int_equal(vnet_mmio_ops.read(ga.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 1, &v), 0);
	assert_int_equal(up->nseen, 0);
}

/* DHCP through the card: the OFFER comes back into a's receive queue. */
static void test_dhcp_through_the_card(void **state)
{
	uint8_t f[300] = {0};
	uint8_t *ip = f + 14, *udp = ip + 20, *b = udp + 8;
	uint32_t id, len;

	(void)state;
	memcpy(f, mac_bcast, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((sizeof(f) - 14) >> 8);
	ip[3] = (uint8_t)(sizeof(f) - 14);
	ip[9] = 17;
	udp[1] = 68;
	udp[3] = 67;
	udp[4] = (uint8_t)((sizeof(f) - 34) >> 8);
	udp[5] = (uint8_t)(sizeof(f) - 34);
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	memcpy(b + 28, mac_a, 6);
	memcpy(b + 236, "\x63\x82\x53\x63\x35\x01\x01\xff", 8);
	post_rx(&ga, 1, 1526);
	send(&ga, f, sizeof(f));
	assert_true(next_used(&ga, VIRTIO_NET_RXQ, &id, &len));
	assert_true(len > HDR + 300);
	assert_int_equal(rx_data(&ga, id)[HDR + 14 + 20 + 8 + 16 + 3], 15); /* yiaddr .15 */
	assert_int_equal(up->nseen, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_features_and_config),
	    T(test_frame_from_vm_to_vm),
	    T(test_chains_cut_anywhere),
	    T(test_bad_transmit_chains),
	    T(test_spoofed_frames_are_dropped),
	    T(test_broken_ring_needs_reset),
	    T(test_bad_receive_buffers),
	    T(test_no_receive_buffers_then_some),
	    T(test_without_event_idx),
	    T(test_transmit_budget),
	    T(test_odd_accesses),
	    T(test_dhcp_through_the_card),
	};

	return cmocka_run_group_tests_name("vnet", tests, NULL, NULL);
}
