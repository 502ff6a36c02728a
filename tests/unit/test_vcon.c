// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the virtio console every guest gets (hv/vdev/virtio_console.c).
 * The tests play Linux's virtio_console driver through the virtio-mmio
 * registers: they negotiate MULTIPORT, lay out the six split rings in a fake
 * guest RAM, answer the control handshake the way the driver does, write on
 * both ports and read what the device gives back. They also play the channel
 * core at the other end of the agent port's rings (to_host, from_host). Guest
 * RAM sits between PROT_NONE guard regions, so a device access outside it
 * faults; a hostile driver (broken chains, wild buffers, garbage control
 * messages, MMIO at any offset and width) must leave the device, its rings
 * and the rest of guest RAM alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <vireo/snap_io.h>
#include <vireo/vcon.h>

#define RAM_GPA	    0x80000000ULL
#define RAM_SIZE    (4 * 1024 * 1024ULL)
#define RAM_END	    (RAM_GPA + RAM_SIZE)
#define GUARD_SIZE  (1024 * 1024ULL)
#define RING_GPA(q) (RAM_GPA + 0x2000ULL * (q)) /* desc +0, avail +0x800, used +0x1000 */
#define CTRL_RX_GPA (RAM_GPA + 0x10000)		/* one 64-byte buffer per descriptor */
#define CTRL_TX_GPA (RAM_GPA + 0x12000)		/* one 16-byte message per descriptor */
#define CTRL_BUF    64
#define RX_GPA(p)   (RAM_GPA + 0x100000ULL * (1 + (p))) /* a page per descriptor */
#define RX_BUF	    4096
#define TX_GPA	    (RAM_GPA + 0x300000) /* what the guest writes, allocated in turn */
#define TX_SIZE	    0x100000
#define IRQ_SOURCE  5
#define QMAX	    VCON_QUEUE_MAX
#define CONSOLE_MAX (1 << 20)
#define RX_MAX	    (1 << 20)
#define CANARY	    0xaa

#define CTRL_RXQ  VIRTIO_CONSOLE_CTRL_RXQ
#define CTRL_TXQ  VIRTIO_CONSOLE_CTRL_TXQ
#define RXQ(port) virtio_console_rxq(port)
#define TXQ(port) virtio_console_txq(port)
#define CONSOLE	  VCON_PORT_CONSOLE
#define AGENT	  VCON_PORT_AGENT

#define FEATURES (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_CONSOLE_F_MULTIPORT))
#define STATUS_RUNNING                                                                             \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |            \
	 VIRTIO_STATUS_DRIVER_OK)

/* The driver's view of one queue: which descriptors it has handed out, as chains. */
struct tq {
	unsigned num;
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen;
	bool busy[QMAX];
	uint16_t link[QMAX]; /* our own record of each chain's next descriptor */
	uint8_t len[QMAX];   /* descriptors in the chain whose head this is */
};

struct ctrl_msg {
	uint32_t id;
	uint16_t event, value;
	uint32_t len; /* bytes the device wrote */
	char name[CTRL_BUF];
};

struct fixture {
	struct vcon *dev;
	uint8_t *map, *ram;
	struct tq q[VCON_QUEUES];
	bool irq;
	unsigned irq_changes;

	/* What the device told Vireo through its ops. */
	uint8_t console[CONSOLE_MAX];
	size_t console_len;
	unsigned console_calls;
	bool console_wrap; /* garbage: keep only the latest console output */
	bool opened;	   /* what port_open last said */
	unsigned open_calls;
	uint32_t room_at_open; /* from_host's free room when port_open(true) came */
	unsigned tx_ready_calls;
	uint64_t consumed;
	unsigned consumed_calls;

	/* The guest driver. */
	bool linux_replies; /* answer control messages as Linux does */
	unsigned rx_fill;   /* receive buffers a port gets when it is added */
	bool repost_rx;	    /* give receive buffers back once read */
	struct ctrl_msg msgs[64];
	unsigned nmsgs;
	bool added[VCON_PORTS], console_port[VCON_PORTS], host_connected[VCON_PORTS];
	char name[VCON_PORTS][CTRL_BUF];
	uint8_t rx[VCON_PORTS][RX_MAX];
	size_t rx_len[VCON_PORTS];
	unsigned rx_chains[VCON_PORTS];
	uint64_t tx_off;
};

/* ---------------------------------------------------------------- the ops */

static bool dev_locked(const struct fixture *f)
{
	return __atomic_load_n(&f->dev->vdev.lock.locked, __ATOMIC_RELAXED) != 0;
}

static void op_console_write(void *ctx, const uint8_t *bytes, size_t n)
{
	struct fixture *f = ctx;

	/* Console output is handed on with the lock held, in pieces of something. */
	assert_true(dev_locked(f));
	assert_true(n > 0);
	if (f->console_wrap && f->console_len + n > sizeof(f->console))
		f->console_len = 0;
	assert_true(f->console_len + n <= sizeof(f->console));
	memcpy(f->console + f->console_len, bytes, n);
	f->console_len += n;
	f->console_calls++;
}

static void op_port_open(void *ctx, bool open)
{
	struct fixture *f = ctx;

	/* The channel's events come without the device's lock, and only on a change. */
	assert_false(dev_locked(f));
	assert_int_not_equal(open, f->opened);
	f->opened = open;
	f->open_calls++;
	if (open)
		f->room_at_open = byte_ring_free(&f->dev->from_host);
}

static void op_tx_ready(void *ctx)
{
	struct fixture *f = ctx;

	assert_false(dev_locked(f));
	assert_true(byte_ring_used(&f->dev->to_host) > 0);
	f->tx_ready_calls++;
}

static void op_rx_consumed(void *ctx, uint32_t n)
{
	struct fixture *f = ctx;

	assert_false(dev_locked(f));
	assert_true(n > 0);
	f->consumed += n;
	f->consumed_calls++;
}

static const struct vcon_ops ops = {
    .console_write = op_console_write,
    .port_open = op_port_open,
    .tx_ready = op_tx_ready,
    .rx_consumed = op_rx_consumed,
};

static void record_irq(void *controller, unsigned source, bool level)
{
	struct fixture *f = controller;

	assert_int_equal(source, IRQ_SOURCE);
	/* The device drives the line only when its level changes. */
	assert_int_not_equal(f->irq, level);
	f->irq = level;
	f->irq_changes++;
}

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	struct irq_line line = {.set_level = record_irq, .controller = f, .source = IRQ_SOURCE};
	struct guest_mem mem;

	f->map =
	    mmap(NULL, RAM_SIZE + 2 * GUARD_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->map != MAP_FAILED);
	f->ram = f->map + GUARD_SIZE;
	assert_int_equal(mprotect(f->ram, RAM_SIZE, PROT_READ | PROT_WRITE), 0);
	mem = (struct guest_mem){.nruns = 1,
				 .runs = {{.gpa = RAM_GPA, .size = RAM_SIZE, .host = f->ram}}};
	f->dev = test_calloc(1, sizeof(*f->dev));
	vcon_init(f->dev, &mem, &line, &ops, f);
	f->linux_replies = true;
	f->rx_fill = 8;
	f->repost_rx = true;
	*state = f;
	return 0;
}

/* What must hold whatever a driver did: nothing held beyond the device's rings. */
static void check_bounds(struct fixture *f)
{
	struct vcon *c = f->dev;

	assert_false(dev_locked(f));
	assert_true(byte_ring_used(&c->to_host) <= VCON_RING_SIZE);
	assert_true(byte_ring_used(&c->from_host) <= VCON_RING_SIZE);
	assert_true(byte_ring_used(&c->console_in) <= VCON_INPUT_SIZE);
	assert_true(c->ctrl_count <= VCON_CTRL_PENDING);
	assert_true(c->ctrl_head < VCON_CTRL_PENDING);
	if (c->tx_pending) {
		assert_true(c->tx_chain.n <= VCON_CHAIN_MAX);
		assert_true(c->tx_done < virtq_chain_bytes(&c->tx_chain, 0, c->tx_chain.nread));
	}
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	check_bounds(f);
	munmap(f->map, RAM_SIZE + 2 * GUARD_SIZE);
	test_free(f->dev);
	test_free(f);
	return 0;
}

/* ---------------------------------------------------------------- registers */

static void *gptr(struct fixture *f, uint64_t gpa)
{
	assert_true(gpa >= RAM_GPA && gpa < RAM_END);
	return f->ram + (gpa - RAM_GPA);
}

static uint64_t rd(struct fixture *f, uint64_t off, unsigned width)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(virtio_dev_mmio_ops.read(&f->dev->vdev, off, width, &v), 0);
	return v;
}

static uint32_t rd32(struct fixture *f, uint64_t off)
{
	uint64_t v = rd(f, off, 4);

	assert_true(v <= UINT32_MAX);
	return (uint32_t)v;
}

static void wr(struct fixture *f, uint64_t off, unsigned width, uint64_t v)
{
	assert_int_equal(virtio_dev_mmio_ops.write(&f->dev->vdev, off, width, v), 0);
}

static void wr32(struct fixture *f, uint64_t off, uint32_t v)
{
	wr(f, off, 4, v);
}

static uint64_t device_features(struct fixture *f)
{
	wr32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = rd32(f, VIRTIO_MMIO_DEVICE_FEATURES);
	wr32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return hi << 32 | rd32(f, VIRTIO_MMIO_DEVICE_FEATURES);
}

/* virtio_dev_probe up to FEATURES_OK. */
static uint32_t negotiate(struct fixture *f, uint64_t features)
{
	wr32(f, VIRTIO_MMIO_STATUS, 0);
	wr32(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr32(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	(void)device_features(f);
	wr32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr32(f, VIRTIO_MMIO_STATUS, rd32(f, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FEATURES_OK);
	return rd32(f, VIRTIO_MMIO_STATUS);
}

/* vm_setup_vq for queue qi: zeroed rings in Linux's layout, then QueueReady. */
static void setup_queue(struct fixture *f, unsigned qi, unsigned num)
{
	struct tq *t = &f->q[qi];
	uint64_t base = RING_GPA(qi);

	wr32(f, VIRTIO_MMIO_QUEUE_SEL, qi);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	*t = (struct tq){.num = num, .desc = base, .avail = base + 0x800, .used = base + 0x1000};
	memset(gptr(f, base), 0, 0x2000);
	wr32(f, VIRTIO_MMIO_QUEUE_NUM, num);
	wr32(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)t->desc);
	wr32(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(t->desc >> 32));
	wr32(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)t->avail);
	wr32(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(t->avail >> 32));
	wr32(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)t->used);
	wr32(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(t->used >> 32));
	wr32(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 1);
}

static void driver_ok(struct fixture *f)
{
	wr32(f, VIRTIO_MMIO_STATUS, rd32(f, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

/* A fresh driver: its own state forgotten, the device's rings zeroed. */
static void forget_driver(struct fixture *f)
{
	f->nmsgs = 0;
	memset(f->added, 0, sizeof(f->added));
	memset(f->console_port, 0, sizeof(f->console_port));
	memset(f->host_connected, 0, sizeof(f->host_connected));
	memset(f->name, 0, sizeof(f->name));
	memset(f->rx_len, 0, sizeof(f->rx_len));
	memset(f->rx_chains, 0, sizeof(f->rx_chains));
	memset(f->q, 0, sizeof(f->q));
	f->tx_off = 0;
}

/* virtcons_probe up to the control queue: features, six queues of num entries, DRIVER_OK. */
static void probe_num(struct fixture *f, unsigned num, bool ok)
{
	forget_driver(f);
	assert_true(negotiate(f, FEATURES) & VIRTIO_STATUS_FEATURES_OK);
	/* Linux reads max_nr_ports before it asks for the queues. */
	assert_int_equal(rd32(f, VIRTIO_MMIO_CONFIG + 4), VCON_PORTS);
	for (unsigned qi = 0; qi < VCON_QUEUES; qi++)
		setup_queue(f, qi, num);
	if (!ok)
		return;
	driver_ok(f);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), STATUS_RUNNING);
}

static void probe(struct fixture *f)
{
	probe_num(f, QMAX, true);
}

/* ---------------------------------------------------------------- queues */

struct tbuf {
	uint64_t gpa;
	uint32_t len;
	uint16_t flags;
};

static struct virtq_desc *desc_at(struct fixture *f, unsigned qi, unsigned i)
{
	return (struct virtq_desc *)gptr(f, f->q[qi].desc) + i;
}

static void set_desc(struct fixture *f, unsigned qi, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	*desc_at(f, qi, i) =
	    (struct virtq_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

static uint16_t alloc_desc(struct fixture *f, unsigned qi)
{
	struct tq *t = &f->q[qi];

	for (unsigned i = 0; i < t->num; i++) {
		if (!t->busy[i]) {
			t->busy[i] = true;
			return (uint16_t)i;
		}
	}
	fail_msg("queue %u has no free descriptor", qi);
	return 0;
}

static void push_avail(struct fixture *f, unsigned qi, uint16_t head)
{
	struct tq *t = &f->q[qi];
	struct virtq_avail *a = gptr(f, t->avail);

	a->ring[t->avail_idx % t->num] = head;
	t->avail_idx++;
	__atomic_store_n(&a->idx, t->avail_idx, __ATOMIC_RELEASE);
}

/* A chain of n buffers on free descriptors, made available (no notify). */
static uint16_t post(struct fixture *f, unsigned qi, const struct tbuf *b, unsigned n)
{
	struct tq *t = &f->q[qi];
	uint16_t idx[QMAX] = {0};

	assert_true(n >= 1 && n <= t->num);
	for (unsigned k = 0; k < n; k++)
		idx[k] = alloc_desc(f, qi);
	for (unsigned k = 0; k < n; k++) {
		uint16_t next = k + 1 < n ? idx[k + 1] : 0;

		set_desc(f, qi, idx[k], b[k].gpa, b[k].len,
			 b[k].flags | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0), next);
		t->link[idx[k]] = next;
	}
	t->len[idx[0]] = (uint8_t)n;
	push_avail(f, qi, idx[0]);
	return idx[0];
}

/* One buffer of len bytes at base + descriptor * stride (a driver's buffer per descriptor). */
static uint16_t post_slot(struct fixture *f, unsigned qi, uint64_t base, uint32_t stride,
			  uint32_t len, uint16_t flags)
{
	uint16_t d = alloc_desc(f, qi);

	set_desc(f, qi, d, base + (uint64_t)d * stride, len, flags, 0);
	f->q[qi].link[d] = 0;
	f->q[qi].len[d] = 1;
	push_avail(f, qi, d);
	return d;
}

static void kick(struct fixture *f, unsigned qi)
{
	wr32(f, VIRTIO_MMIO_QUEUE_NOTIFY, qi);
}

static bool used_pop_raw(struct fixture *f, unsigned qi, struct virtq_used_elem *e)
{
	struct tq *t = &f->q[qi];
	struct virtq_used *u = gptr(f, t->used);

	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == t->used_seen)
		return false;
	*e = u->ring[t->used_seen % t->num];
	t->used_seen++;
	return true;
}

/* The next used chain; the device gives back only chains that were posted, once. */
static bool used_pop(struct fixture *f, unsigned qi, struct virtq_used_elem *e)
{
	struct tq *t = &f->q[qi];
	unsigned i;

	if (!used_pop_raw(f, qi, e))
		return false;
	assert_true(e->id < t->num);
	assert_true(t->busy[e->id] && t->len[e->id]);
	i = e->id;
	for (unsigned k = t->len[e->id]; k; k--) {
		t->busy[i] = false;
		i = t->link[i];
	}
	t->len[e->id] = 0;
	return true;
}

static void expect_used(struct fixture *f, unsigned qi, uint16_t head, uint32_t len)
{
	struct virtq_used_elem e;

	assert_true(used_pop(f, qi, &e));
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, len);
}

static void expect_no_used(struct fixture *f, unsigned qi)
{
	struct virtq_used_elem e;

	assert_false(used_pop_raw(f, qi, &e));
}

static uint32_t ack_irq(struct fixture *f)
{
	uint32_t isr = rd32(f, VIRTIO_MMIO_INTERRUPT_STATUS);

	wr32(f, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr;
}

/* ---------------------------------------------------------------- the driver */

static void post_ctrl_rx_len(struct fixture *f, uint32_t len)
{
	uint16_t d = post_slot(f, CTRL_RXQ, CTRL_RX_GPA, CTRL_BUF, len, VIRTQ_DESC_F_WRITE);

	memset(gptr(f, CTRL_RX_GPA + (uint64_t)d * CTRL_BUF), CANARY, CTRL_BUF);
}

static void post_ctrl_rx(struct fixture *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		post_ctrl_rx_len(f, CTRL_BUF);
	kick(f, CTRL_RXQ);
}

/* __send_control_msg: one 8-byte buffer, a notify, and a wait until the device took it. */
static void send_ctrl(struct fixture *f, uint32_t id, uint16_t event, uint16_t value)
{
	struct virtio_console_control m = {id, event, value};
	uint16_t d = alloc_desc(f, CTRL_TXQ);
	uint64_t gpa = CTRL_TX_GPA + 16ULL * d;

	memcpy(gptr(f, gpa), &m, sizeof(m));
	set_desc(f, CTRL_TXQ, d, gpa, sizeof(m), 0, 0);
	f->q[CTRL_TXQ].len[d] = 1;
	push_avail(f, CTRL_TXQ, d);
	kick(f, CTRL_TXQ);
	expect_used(f, CTRL_TXQ, d, 0);
}

static void post_rx(struct fixture *f, unsigned port, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		post_slot(f, RXQ(port), RX_GPA(port), RX_BUF, RX_BUF, VIRTQ_DESC_F_WRITE);
	kick(f, RXQ(port));
}

/* What Linux's handle_control_message does with a message. */
static void linux_reply(struct fixture *f, const struct ctrl_msg *m)
{
	if (!f->linux_replies || m->id >= VCON_PORTS)
		return;
	switch (m->event) {
	case VIRTIO_CONSOLE_DEVICE_ADD:
		/* add_port: fill the port's receive queue, then say it is ready. */
		f->added[m->id] = true;
		post_rx(f, m->id, f->rx_fill);
		send_ctrl(f, m->id, VIRTIO_CONSOLE_PORT_READY, 1);
		break;
	case VIRTIO_CONSOLE_CONSOLE_PORT:
		/* init_port_console: hvc opens the port at once. */
		f->console_port[m->id] = true;
		send_ctrl(f, m->id, VIRTIO_CONSOLE_PORT_OPEN, 1);
		break;
	case VIRTIO_CONSOLE_PORT_NAME:
		memcpy(f->name[m->id], m->name, sizeof(m->name));
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		f->host_connected[m->id] = m->value;
		break;
	default:
		break;
	}
}

/* control_work_handler: take each message, give its buffer back, act on it. */
static unsigned ctrl_poll(struct fixture *f)
{
	struct virtq_used_elem e;
	unsigned n = 0;

	while (used_pop(f, CTRL_RXQ, &e)) {
		const uint8_t *b = gptr(f, CTRL_RX_GPA + (uint64_t)e.id * CTRL_BUF);
		struct ctrl_msg *m;

		assert_true(f->nmsgs < ARRAY_SIZE(f->msgs));
		m = &f->msgs[f->nmsgs++];
		*m = (struct ctrl_msg){.len = e.len};
		assert_true(e.len <= CTRL_BUF);
		/* Nothing past what the device says it wrote. */
		for (uint32_t i = e.len; i < CTRL_BUF; i++)
			assert_int_equal(b[i], CANARY);
		if (e.len >= 8) {
			memcpy(&m->id, b, 4);
			memcpy(&m->event, b + 4, 2);
			memcpy(&m->value, b + 6, 2);
			memcpy(m->name, b + 8, e.len - 8);
		}
		post_ctrl_rx(f, 1);
		linux_reply(f, m);
		n++;
	}
	return n;
}

static void expect_msg(struct fixture *f, unsigned i, uint32_t id, uint16_t event, uint16_t value,
		       const char *name)
{
	const struct ctrl_msg *m = &f->msgs[i];

	assert_true(i < f->nmsgs);
	assert_int_equal(m->id, id);
	assert_int_equal(m->event, event);
	assert_int_equal(m->value, value);
	assert_int_equal(m->len, 8 + (name ? strlen(name) : 0));
	if (name)
		assert_string_equal(m->name, name);
}

/* The whole of Linux's probe: queues, control buffers, DEVICE_READY, every port added. */
static void handshake(struct fixture *f)
{
	probe(f);
	post_ctrl_rx(f, 16);
	send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	ctrl_poll(f);
	for (unsigned p = 0; p < VCON_PORTS; p++) {
		assert_true(f->added[p]);
		assert_true(f->host_connected[p]);
	}
	assert_true(f->console_port[CONSOLE]);
	assert_false(f->console_port[AGENT]);
	assert_string_equal(f->name[AGENT], VCON_AGENT_NAME);
	ack_irq(f);
}

/* The guest opens /dev/vportNp1. */
static void open_agent(struct fixture *f)
{
	unsigned calls = f->open_calls;

	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_int_equal(f->open_calls, calls + 1);
	assert_true(f->opened);
}

/* The received chains of a port, appended to rx[port]; buffers go back if wanted. */
static unsigned rx_poll(struct fixture *f, unsigned port)
{
	struct virtq_used_elem e;
	unsigned n = 0;

	while (used_pop(f, RXQ(port), &e)) {
		assert_true(e.len <= RX_BUF);
		assert_true(f->rx_len[port] + e.len <= RX_MAX);
		memcpy(f->rx[port] + f->rx_len[port],
		       gptr(f, RX_GPA(port) + (uint64_t)e.id * RX_BUF), e.len);
		f->rx_len[port] += e.len;
		f->rx_chains[port]++;
		n++;
		if (f->repost_rx)
			post_rx(f, port, 1);
	}
	return n;
}

static uint64_t tx_alloc(struct fixture *f, uint32_t len)
{
	uint64_t gpa;

	assert_true(len <= TX_SIZE);
	if (f->tx_off + len > TX_SIZE)
		f->tx_off = 0;
	gpa = TX_GPA + f->tx_off;
	f->tx_off += len;
	return gpa;
}

/* A transmit chain of n readable buffers holding data (lens[k] bytes each), notified. */
static uint16_t write_chain(struct fixture *f, unsigned port, const uint8_t *data,
			    const uint32_t *lens, unsigned n)
{
	struct tbuf b[QMAX];
	uint16_t head;

	for (unsigned k = 0; k < n; k++) {
		b[k] = (struct tbuf){tx_alloc(f, lens[k]), lens[k], 0};
		memcpy(gptr(f, b[k].gpa), data, lens[k]);
		data += lens[k];
	}
	head = post(f, TXQ(port), b, n);
	kick(f, TXQ(port));
	return head;
}

/* write(2) on a port: one buffer. */
static uint16_t port_write(struct fixture *f, unsigned port, const void *data, uint32_t len)
{
	return write_chain(f, port, data, &len, 1);
}

static void pattern(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + seed * 101 + 1);
}

/* The channel's side of to_host: take everything. */
static uint32_t drain_to_host(struct fixture *f, uint8_t *out, uint32_t max)
{
	return byte_ring_get(&f->dev->to_host, out, max);
}

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible across hosts, unlike rand(). */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

/* ---------------------------------------------------------------- identity and set-up */

static void test_identity_and_config(void **state)
{
	struct fixture *f = *state;
	uint8_t want[0x100] = {0};

	assert_int_equal(rd32(f, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	assert_int_equal(rd32(f, VIRTIO_MMIO_VERSION), VIRTIO_MMIO_VERSION_MODERN);
	assert_int_equal(rd32(f, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	assert_int_equal(rd32(f, VIRTIO_MMIO_VENDOR_ID), VIRTIO_DEV_VENDOR_ID);
	/* MULTIPORT and nothing else of the console's: no size, no emergency write. */
	assert_int_equal(device_features(f), FEATURES);
	/* The six queues of two ports, and no seventh. */
	for (unsigned qi = 0; qi < VCON_QUEUES; qi++) {
		wr32(f, VIRTIO_MMIO_QUEUE_SEL, qi);
		assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
		assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	}
	assert_int_equal(VCON_QUEUES, 6);
	wr32(f, VIRTIO_MMIO_QUEUE_SEL, VCON_QUEUES);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr32(f, VIRTIO_MMIO_QUEUE_SEL, UINT32_MAX);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* Configuration: cols, rows 0; max_nr_ports at 4; every width at every offset. */
	want[4] = VCON_PORTS;
	for (unsigned off = 0; off < 0xf8; off++) {
		for (unsigned w = 1; w <= 8; w *= 2) {
			uint64_t expect = 0;

			for (unsigned i = 0; i < w; i++)
				expect |= (uint64_t)want[off + i] << (8 * i);
			assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + off, w), expect);
		}
	}
	/* Read-only. */
	wr(f, VIRTIO_MMIO_CONFIG + 4, 4, 99);
	wr(f, VIRTIO_MMIO_CONFIG, 8, UINT64_MAX);
	assert_int_equal(rd32(f, VIRTIO_MMIO_CONFIG + 4), VCON_PORTS);
	assert_int_equal(rd32(f, VIRTIO_MMIO_CONFIG), 0);
}

static void test_features(void **state)
{
	struct fixture *f = *state;

	assert_true(negotiate(f, FEATURES) & VIRTIO_STATUS_FEATURES_OK);
	/* What is not offered is refused: SIZE, EMERG_WRITE, indirect, event index. */
	assert_false(negotiate(f, FEATURES | BIT(VIRTIO_CONSOLE_F_SIZE)) &
		     VIRTIO_STATUS_FEATURES_OK);
	assert_false(negotiate(f, FEATURES | BIT(VIRTIO_CONSOLE_F_EMERG_WRITE)) &
		     VIRTIO_STATUS_FEATURES_OK);
	assert_false(negotiate(f, FEATURES | BIT(VIRTIO_F_INDIRECT_DESC)) &
		     VIRTIO_STATUS_FEATURES_OK);
	assert_false(negotiate(f, FEATURES | BIT(VIRTIO_F_EVENT_IDX)) & VIRTIO_STATUS_FEATURES_OK);
	/* A modern device only. */
	assert_false(negotiate(f, BIT(VIRTIO_CONSOLE_F_MULTIPORT)) & VIRTIO_STATUS_FEATURES_OK);
	assert_true(negotiate(f, BIT(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	/* The features stay as negotiated once accepted. */
	assert_true(negotiate(f, FEATURES) & VIRTIO_STATUS_FEATURES_OK);
	wr32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(f, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	assert_true(virtio_dev_has_feature(&f->dev->vdev, VIRTIO_CONSOLE_F_MULTIPORT));
}

/* Linux's whole probe, message by message. */
static void test_control_handshake(void **state)
{
	struct fixture *f = *state;

	handshake(f);
	assert_int_equal(f->nmsgs, 6);
	/* DEVICE_READY got one DEVICE_ADD per port... */
	expect_msg(f, 0, CONSOLE, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
	expect_msg(f, 1, AGENT, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
	/* ...PORT_READY(0) a console and an open host end, PORT_READY(1) a name and one too. */
	expect_msg(f, 2, CONSOLE, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
	expect_msg(f, 3, CONSOLE, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	expect_msg(f, 4, AGENT, VIRTIO_CONSOLE_PORT_NAME, 1, VCON_AGENT_NAME);
	expect_msg(f, 5, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	/* hvc opening the console port is not the agent port opening. */
	assert_int_equal(f->open_calls, 0);
	assert_int_equal(f->dev->ctrl_count, 0);
	assert_true(f->irq_changes > 0);
	/* Said once: a second DEVICE_READY or PORT_READY, or a refusal, gets nothing. */
	send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	send_ctrl(f, CONSOLE, VIRTIO_CONSOLE_PORT_READY, 1);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_READY, 1);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_READY, 0);
	send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 0);
	assert_int_equal(ctrl_poll(f), 0);
	/* A reset forgets it all: the next driver gets the same handshake. */
	handshake(f);
	assert_int_equal(f->nmsgs, 6);
	expect_msg(f, 4, AGENT, VIRTIO_CONSOLE_PORT_NAME, 1, VCON_AGENT_NAME);
}

/* A driver that refuses a port (PORT_READY with value 0) gets nothing for it. */
static void test_port_ready_refused(void **state)
{
	struct fixture *f = *state;

	f->linux_replies = false;
	probe(f);
	post_ctrl_rx(f, 16);
	send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 0);
	assert_int_equal(ctrl_poll(f), 0);
	send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	assert_int_equal(ctrl_poll(f), 2);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_READY, 0);
	assert_int_equal(ctrl_poll(f), 0);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_READY, 1);
	assert_int_equal(ctrl_poll(f), 2);
	expect_msg(f, 2, AGENT, VIRTIO_CONSOLE_PORT_NAME, 1, VCON_AGENT_NAME);
	expect_msg(f, 3, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
}

/* ---------------------------------------------------------------- the ports */

static void test_agent_open_close(void **state)
{
	struct fixture *f = *state;

	handshake(f);
	open_agent(f);
	/* Only changes are reported: opening twice, or with another true value, is one open. */
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 1);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 7);
	assert_int_equal(f->open_calls, 1);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 0);
	assert_int_equal(f->open_calls, 2);
	assert_false(f->opened);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 0);
	assert_int_equal(f->open_calls, 2);
	/* The console port's opens are hvc's business. */
	send_ctrl(f, CONSOLE, VIRTIO_CONSOLE_PORT_OPEN, 0);
	send_ctrl(f, CONSOLE, VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_int_equal(f->open_calls, 2);
	/* Again and again. */
	for (unsigned i = 0; i < 10; i++) {
		send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 1);
		send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 0);
	}
	assert_int_equal(f->open_calls, 22);
	/* No control message went back for any of it. */
	assert_int_equal(ctrl_poll(f), 0);
}

static void test_console_output(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[64 * 1024], want[CONSOLE_MAX];
	const uint32_t lens[] = {1, 255, 256, 257, 700, 3000};
	size_t want_len = 0;
	uint16_t head;

	handshake(f);
	head = port_write(f, CONSOLE, "hello, world\n", 13);
	expect_used(f, TXQ(CONSOLE), head, 0);
	assert_int_equal(f->console_len, 13);
	assert_memory_equal(f->console, "hello, world\n", 13);
	assert_true(ack_irq(f) & VIRTIO_MMIO_INT_VRING);
	assert_false(f->irq);
	/* A chain of buffers that cross the device's pieces, byte-exact. */
	f->console_len = 0;
	pattern(data, sizeof(data), 1);
	head = write_chain(f, CONSOLE, data, lens, ARRAY_SIZE(lens));
	expect_used(f, TXQ(CONSOLE), head, 0);
	assert_int_equal(f->console_len, 4469);
	assert_memory_equal(f->console, data, 4469);
	/* Many writes queued before one notify, each of its own length. */
	f->console_len = 0;
	rnd_state = 7;
	for (unsigned i = 0; i < 100; i++) {
		uint32_t len = 1 + (uint32_t)(rnd() % 2000);
		struct tbuf b = {tx_alloc(f, len), len, 0};

		pattern(gptr(f, b.gpa), len, i);
		memcpy(want + want_len, gptr(f, b.gpa), len);
		want_len += len;
		post(f, TXQ(CONSOLE), &b, 1);
	}
	kick(f, TXQ(CONSOLE));
	for (unsigned i = 0; i < 100; i++)
		assert_true(used_pop(f, TXQ(CONSOLE), &(struct virtq_used_elem){0}));
	assert_int_equal(f->console_len, want_len);
	assert_memory_equal(f->console, want, want_len);
	/* Readable then writable is a legal chain: the writable part is left alone. */
	f->console_len = 0;
	memset(gptr(f, TX_GPA), 'w', 64);
	memcpy(gptr(f, TX_GPA + 64), "out", 3);
	head = post(f, TXQ(CONSOLE),
		    (struct tbuf[]){{TX_GPA + 64, 3, 0}, {TX_GPA, 64, VIRTQ_DESC_F_WRITE}}, 2);
	kick(f, TXQ(CONSOLE));
	expect_used(f, TXQ(CONSOLE), head, 0);
	assert_int_equal(f->console_len, 3);
	assert_memory_equal(f->console, "out", 3);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(((uint8_t *)gptr(f, TX_GPA))[i], 'w');
	/* The agent port never saw any of it. */
	assert_int_equal(byte_ring_used(&f->dev->to_host), 0);
	assert_int_equal(f->tx_ready_calls, 0);
}

static void test_console_input(void **state)
{
	struct fixture *f = *state;
	uint8_t want[VCON_INPUT_SIZE];

	handshake(f);
	/* Each typed byte goes straight into a receive buffer. */
	assert_true(vcon_console_input(f->dev, 'l'));
	assert_true(vcon_console_input(f->dev, 's'));
	assert_true(vcon_console_input(f->dev, '\r'));
	assert_int_equal(rx_poll(f, CONSOLE), 3);
	assert_int_equal(f->rx_len[CONSOLE], 3);
	assert_memory_equal(f->rx[CONSOLE], "ls\r", 3);
	assert_true(ack_irq(f) & VIRTIO_MMIO_INT_VRING);
	/* With no buffers, input waits, up to what the device holds. */
	f->rx_fill = 0;
	f->repost_rx = false;
	handshake(f);
	pattern(want, sizeof(want), 3);
	for (unsigned i = 0; i < VCON_INPUT_SIZE; i++)
		assert_true(vcon_console_input(f->dev, want[i]));
	assert_false(vcon_console_input(f->dev, 'x'));
	assert_int_equal(byte_ring_used(&f->dev->console_in), VCON_INPUT_SIZE);
	expect_no_used(f, RXQ(CONSOLE));
	/* Buffers come: all of it, in order, and none of it on the agent port. */
	post_slot(f, RXQ(CONSOLE), RX_GPA(CONSOLE), RX_BUF, 1000, VIRTQ_DESC_F_WRITE);
	post_rx(f, CONSOLE, 1);
	expect_used(f, RXQ(CONSOLE), 0, 1000);
	expect_used(f, RXQ(CONSOLE), 1, VCON_INPUT_SIZE - 1000);
	assert_memory_equal(gptr(f, RX_GPA(CONSOLE)), want, 1000);
	assert_memory_equal(gptr(f, RX_GPA(CONSOLE) + RX_BUF), want + 1000, VCON_INPUT_SIZE - 1000);
	assert_true(vcon_console_input(f->dev, 'x'));
	assert_int_equal(byte_ring_used(&f->dev->console_in), 1);
	expect_no_used(f, RXQ(AGENT));
	assert_int_equal(f->consumed, 0);
	/* A reset forgets what was typed for the driver that is gone. */
	wr32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(byte_ring_used(&f->dev->console_in), 0);
}

static void test_agent_to_host(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[40000], out[VCON_RING_SIZE];
	const uint32_t lens[] = {1000, 4096, 5000};
	bool tx_ready = false;
	uint32_t consumed = 1;
	uint16_t head;

	handshake(f);
	open_agent(f);
	pattern(data, sizeof(data), 4);
	head = port_write(f, AGENT, data, 1000);
	/* Taken into to_host at once, the buffer given back, the channel told (no lock). */
	expect_used(f, TXQ(AGENT), head, 0);
	assert_int_equal(f->tx_ready_calls, 1);
	assert_int_equal(drain_to_host(f, out, sizeof(out)), 1000);
	assert_memory_equal(out, data, 1000);
	/* Several chains before one notify: one tx_ready for all of them. */
	for (unsigned i = 0; i < 3; i++) {
		struct tbuf b = {tx_alloc(f, lens[i]), lens[i], 0};

		memcpy(gptr(f, b.gpa), data + 1000 * i, lens[i]);
		post(f, TXQ(AGENT), &b, 1);
	}
	kick(f, TXQ(AGENT));
	for (unsigned i = 0; i < 3; i++)
		assert_true(used_pop(f, TXQ(AGENT), &(struct virtq_used_elem){0}));
	assert_int_equal(f->tx_ready_calls, 2);
	assert_int_equal(drain_to_host(f, out, sizeof(out)), 10096);
	assert_memory_equal(out, data, 1000);
	assert_memory_equal(out + 1000, data + 1000, 4096);
	assert_memory_equal(out + 5096, data + 2000, 5000);
	/* A multi-buffer chain, in order. */
	head = write_chain(f, AGENT, data, lens, 3);
	expect_used(f, TXQ(AGENT), head, 0);
	assert_int_equal(drain_to_host(f, out, sizeof(out)), 10096);
	assert_memory_equal(out, data, 10096);
	/* A notify with nothing new says nothing. */
	kick(f, TXQ(AGENT));
	assert_int_equal(f->tx_ready_calls, 3);
	/* Through vcon_move (the channel holds its lock): reported, the op is not called. */
	head = post(f, TXQ(AGENT), &(struct tbuf){tx_alloc(f, 10), 10, 0}, 1);
	vcon_move(f->dev, &tx_ready, &consumed);
	assert_true(tx_ready);
	assert_int_equal(consumed, 0);
	assert_int_equal(f->tx_ready_calls, 3);
	expect_used(f, TXQ(AGENT), head, 0);
	assert_int_equal(byte_ring_used(&f->dev->to_host), 10);
	/* The console never saw any of it. */
	assert_int_equal(f->console_len, 0);
}

static void test_agent_from_host(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[3 * VCON_RING_SIZE];
	bool tx_ready = true;
	uint32_t consumed = 0;

	handshake(f); /* eight page-sized receive buffers on each port */
	open_agent(f);
	pattern(data, sizeof(data), 5);
	/* The channel puts bytes in from_host and kicks: they land in the buffers. */
	assert_int_equal(byte_ring_put(&f->dev->from_host, data, 10000), 10000);
	f->repost_rx = false;
	vcon_kick(f->dev);
	expect_used(f, RXQ(AGENT), 0, RX_BUF);
	expect_used(f, RXQ(AGENT), 1, RX_BUF);
	expect_used(f, RXQ(AGENT), 2, 10000 - 2 * RX_BUF);
	assert_memory_equal(gptr(f, RX_GPA(AGENT)), data, 10000);
	assert_int_equal(f->consumed, 10000);
	assert_int_equal(f->consumed_calls, 1);
	assert_int_equal(byte_ring_used(&f->dev->from_host), 0);
	/* More than the buffers hold: the rest waits in the ring, reported as taken. */
	assert_int_equal(byte_ring_put(&f->dev->from_host, data, VCON_RING_SIZE), VCON_RING_SIZE);
	vcon_move(f->dev, &tx_ready, &consumed);
	assert_false(tx_ready);
	assert_int_equal(consumed, 5 * RX_BUF);
	assert_int_equal(f->consumed_calls, 1);
	assert_int_equal(byte_ring_used(&f->dev->from_host), VCON_RING_SIZE - 5 * RX_BUF);
	/* The guest reads and gives its buffers back: the rest follows, byte-exact. */
	memset(f->rx_len, 0, sizeof(f->rx_len));
	f->repost_rx = true;
	rx_poll(f, AGENT);
	assert_int_equal(f->rx_len[AGENT], VCON_RING_SIZE);
	assert_memory_equal(f->rx[AGENT], data, VCON_RING_SIZE);
	assert_int_equal(f->consumed, 10000 + VCON_RING_SIZE - 5 * RX_BUF);
	assert_int_equal(byte_ring_used(&f->dev->from_host), 0);
	/* Nothing for the console port. */
	expect_no_used(f, RXQ(CONSOLE));
}

/* Both ways at once, far more than the rings hold, the channel draining as it goes. */
static void test_agent_stream_both_ways(void **state)
{
	struct fixture *f = *state;
	enum { TOTAL = 600 * 1024 };
	static uint8_t up[TOTAL], down[TOTAL], got[TOTAL];
	size_t written = 0, read = 0, sent = 0;
	unsigned inflight = 0, rounds = 0;

	handshake(f);
	open_agent(f);
	pattern(up, sizeof(up), 6);
	pattern(down, sizeof(down), 7);
	while (read < TOTAL || f->rx_len[AGENT] < TOTAL) {
		struct virtq_used_elem e;
		bool tx_ready;
		uint32_t consumed;

		/* The guest writes in 32 KiB pieces, as Linux does, up to 8 buffers out. */
		while (written < TOTAL && inflight < 8) {
			uint32_t n = (uint32_t)MIN((size_t)32768, TOTAL - written);

			port_write(f, AGENT, up + written, n);
			written += n;
			inflight++;
		}
		while (used_pop(f, TXQ(AGENT), &e))
			inflight--;
		/* The channel sends some of to_host and puts some into from_host. */
		read += drain_to_host(f, got + read, (uint32_t)MIN((size_t)50000, TOTAL - read));
		sent += byte_ring_put(&f->dev->from_host, down + sent,
				      (uint32_t)MIN((size_t)30000, TOTAL - sent));
		vcon_move(f->dev, &tx_ready, &consumed);
		f->consumed += consumed;
		rx_poll(f, AGENT);
		assert_true(byte_ring_used(&f->dev->to_host) <= VCON_RING_SIZE);
		assert_true(++rounds < 1000);
	}
	assert_memory_equal(got, up, TOTAL);
	assert_memory_equal(f->rx[AGENT], down, TOTAL);
	assert_int_equal(f->consumed, TOTAL);
}

/* A transmit chain bigger than to_host's room stays half taken until the ring drains. */
static void test_agent_tx_waits_for_room(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[300 * 1024], out[300 * 1024];
	const uint32_t lens[] = {3000, 1500, 500};
	const uint32_t big[] = {40000, 40000, 40000, 30000, 30000};
	uint16_t first, second, third;
	bool tx_ready;
	uint32_t consumed, got;

	handshake(f);
	open_agent(f);
	pattern(data, sizeof(data), 8);
	first = port_write(f, AGENT, data, VCON_RING_SIZE - 1000);
	expect_used(f, TXQ(AGENT), first, 0);
	/* 5000 bytes for 1000 of room: 1000 are in, the chain stays out. */
	second = write_chain(f, AGENT, data + VCON_RING_SIZE - 1000, lens, 3);
	third = port_write(f, AGENT, data + VCON_RING_SIZE + 4000, 500);
	expect_no_used(f, TXQ(AGENT));
	assert_int_equal(byte_ring_used(&f->dev->to_host), VCON_RING_SIZE);
	assert_true(f->dev->tx_pending);
	assert_int_equal(f->tx_ready_calls, 2);
	/* More notifies change nothing while the ring is full. */
	kick(f, TXQ(AGENT));
	expect_no_used(f, TXQ(AGENT));
	assert_int_equal(f->tx_ready_calls, 2);
	/* The channel sends 2000: the chain moves on, still not done. */
	got = drain_to_host(f, out, 2000);
	vcon_move(f->dev, &tx_ready, &consumed);
	assert_true(tx_ready);
	expect_no_used(f, TXQ(AGENT));
	assert_int_equal(byte_ring_used(&f->dev->to_host), VCON_RING_SIZE);
	/* Drained: the chain and the one behind it finish, in order. */
	got += drain_to_host(f, out + got, sizeof(out) - got);
	vcon_move(f->dev, &tx_ready, &consumed);
	assert_true(tx_ready);
	expect_used(f, TXQ(AGENT), second, 0);
	expect_used(f, TXQ(AGENT), third, 0);
	assert_false(f->dev->tx_pending);
	got += drain_to_host(f, out + got, sizeof(out) - got);
	assert_int_equal(got, VCON_RING_SIZE + 4500);
	assert_memory_equal(out, data, got);
	/* A chain bigger than the whole ring goes through it in pieces. */
	first = write_chain(f, AGENT, data, big, ARRAY_SIZE(big));
	got = 0;
	for (unsigned round = 0; round < 10 && f->dev->tx_pending; round++) {
		assert_true(byte_ring_used(&f->dev->to_host) <= VCON_RING_SIZE);
		got += drain_to_host(f, out + got, sizeof(out) - got);
		vcon_move(f->dev, &tx_ready, &consumed);
	}
	expect_used(f, TXQ(AGENT), first, 0);
	got += drain_to_host(f, out + got, sizeof(out) - got);
	assert_int_equal(got, 180000);
	assert_memory_equal(out, data, got);
}

/* ---------------------------------------------------------------- snapshots */

/* A device saved with a half-sent chain and a full ring, loaded into a fresh one over
 * the same RAM: the data comes out whole and in order, the chain completes. A state
 * with a ring longer than the ring, or a chain outside RAM, is refused and leaves the
 * device reset. */
static void test_snapshot_round_trip(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[100 * 1024], out[100 * 1024], saved[128 * 1024];
	const uint32_t lens[] = {3000, 1500, 500};
	struct guest_mem mem = f->dev->mem;
	struct irq_line line = f->dev->vdev.irq;
	struct snap_writer w = {saved, sizeof(saved), 0, false};
	struct snap_reader r;
	bool tx_ready;
	uint32_t consumed, got;
	uint16_t second;

	handshake(f);
	open_agent(f);
	pattern(data, sizeof(data), 9);
	expect_used(f, TXQ(AGENT), port_write(f, AGENT, data, VCON_RING_SIZE - 1000), 0);
	second = write_chain(f, AGENT, data + VCON_RING_SIZE - 1000, lens, 3);
	assert_true(f->dev->tx_pending);
	vcon_save(f->dev, &w);
	assert_false(w.failed);

	/* Into a fresh device: the port is open, the ring and the chain are there. */
	vcon_init(f->dev, &mem, &line, &ops, f);
	f->irq = false; /* a new VM's line starts low */
	r = (struct snap_reader){saved, w.len, 0, false};
	assert_int_equal(vcon_load(f->dev, &r), 0);
	assert_int_equal(r.pos, w.len);
	assert_true(f->dev->agent_open && f->dev->tx_pending);
	got = drain_to_host(f, out, sizeof(out));
	vcon_move(f->dev, &tx_ready, &consumed);
	got += drain_to_host(f, out + got, sizeof(out) - got);
	expect_used(f, TXQ(AGENT), second, 0);
	assert_int_equal(got, VCON_RING_SIZE + 4000);
	assert_memory_equal(out, data, got);

	/* The ring's length bumped past the ring: refused, the device reset. */
	w = (struct snap_writer){saved, sizeof(saved), 0, false};
	vcon_save(f->dev, &w);
	size_t ring_at =
	    w.len - 4 - byte_ring_used(&f->dev->console_in) - 4 - byte_ring_used(&f->dev->to_host);
	saved[ring_at + 3] = 0x7f;
	r = (struct snap_reader){saved, w.len, 0, false};
	assert_int_equal(vcon_load(f->dev, &r), -VIREO_EINVAL);
	assert_false(f->dev->agent_open);
	assert_int_equal(f->dev->vdev.status, 0);
}

/* ---------------------------------------------------------------- the control queue */

/* Messages wait for the driver's buffers, a bounded few, then go in order. */
static void test_ctrl_waits_for_buffers(void **state)
{
	struct fixture *f = *state;

	f->linux_replies = false;
	probe(f);
	/* No control buffers yet: everything the device has to say waits. */
	send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	send_ctrl(f, CONSOLE, VIRTIO_CONSOLE_PORT_READY, 1);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_READY, 1);
	assert_int_equal(f->dev->ctrl_count, 6);
	/* A driver repeating itself cannot make it grow. */
	for (unsigned i = 0; i < 3 * VCON_CTRL_PENDING; i++) {
		send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
		send_ctrl(f, i % VCON_PORTS, VIRTIO_CONSOLE_PORT_READY, 1);
	}
	assert_int_equal(f->dev->ctrl_count, 6);
	expect_no_used(f, CTRL_RXQ);
	/* One buffer, one message. */
	post_ctrl_rx_len(f, CTRL_BUF);
	kick(f, CTRL_RXQ);
	/* Each buffer given back brings the next message. */
	assert_int_equal(ctrl_poll(f), 6);
	assert_int_equal(f->nmsgs, 6);
	expect_msg(f, 0, CONSOLE, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
	expect_msg(f, 1, AGENT, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
	expect_msg(f, 2, CONSOLE, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
	expect_msg(f, 3, CONSOLE, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	expect_msg(f, 4, AGENT, VIRTIO_CONSOLE_PORT_NAME, 1, VCON_AGENT_NAME);
	expect_msg(f, 5, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	assert_int_equal(f->dev->ctrl_count, 0);
}

/* A message goes whole into the first writable buffer of a chain, or not at all. */
static void test_ctrl_short_buffers(void **state)
{
	struct fixture *f = *state;
	const struct virtio_console_control open0 = {CONSOLE, VIRTIO_CONSOLE_PORT_OPEN, 1};
	uint16_t d[8];
	uint8_t *b;

	f->linux_replies = false;
	probe(f);
	send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	send_ctrl(f, CONSOLE, VIRTIO_CONSOLE_PORT_READY, 1);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_READY, 1);
	for (unsigned i = 0; i < 16; i++)
		memset(gptr(f, CTRL_RX_GPA + i * CTRL_BUF), CANARY, CTRL_BUF);
	d[0] = post_slot(f, CTRL_RXQ, CTRL_RX_GPA, CTRL_BUF, 8, VIRTQ_DESC_F_WRITE);
	d[1] = post_slot(f, CTRL_RXQ, CTRL_RX_GPA, CTRL_BUF, 7, VIRTQ_DESC_F_WRITE);
	/* Readable only: nowhere to write. */
	d[2] = post_slot(f, CTRL_RXQ, CTRL_RX_GPA, CTRL_BUF, CTRL_BUF, 0);
	/* A readable buffer, then the writable one the message goes into. */
	d[3] = post(f, CTRL_RXQ,
		    (struct tbuf[]){{CTRL_RX_GPA + 10 * CTRL_BUF, 8, 0},
				    {CTRL_RX_GPA + 11 * CTRL_BUF, 8, VIRTQ_DESC_F_WRITE}},
		    2);
	/* PORT_NAME needs 8 + 15 bytes. */
	d[4] = post_slot(f, CTRL_RXQ, CTRL_RX_GPA, CTRL_BUF, 22, VIRTQ_DESC_F_WRITE);
	d[5] = post_slot(f, CTRL_RXQ, CTRL_RX_GPA, CTRL_BUF, 8, VIRTQ_DESC_F_WRITE);
	kick(f, CTRL_RXQ);
	expect_used(f, CTRL_RXQ, d[0], 8); /* DEVICE_ADD(0) */
	expect_used(f, CTRL_RXQ, d[1], 0); /* DEVICE_ADD(1): dropped */
	expect_used(f, CTRL_RXQ, d[2], 0); /* CONSOLE_PORT: dropped */
	expect_used(f, CTRL_RXQ, d[3], 8); /* PORT_OPEN(0) */
	expect_used(f, CTRL_RXQ, d[4], 0); /* PORT_NAME: dropped */
	expect_used(f, CTRL_RXQ, d[5], 8); /* PORT_OPEN(1) */
	b = gptr(f, CTRL_RX_GPA + 11 * CTRL_BUF);
	assert_memory_equal(b, &open0, sizeof(open0));
	/* Nothing was written into the short, readable or refused buffers. */
	for (unsigned i = 0; i < CTRL_BUF; i++) {
		if (i >= 8)
			assert_int_equal(((uint8_t *)gptr(f, CTRL_RX_GPA))[i], CANARY);
		assert_int_equal(((uint8_t *)gptr(f, CTRL_RX_GPA + d[1] * CTRL_BUF))[i], CANARY);
		assert_int_equal(((uint8_t *)gptr(f, CTRL_RX_GPA + d[2] * CTRL_BUF))[i], CANARY);
		assert_int_equal(((uint8_t *)gptr(f, CTRL_RX_GPA + d[4] * CTRL_BUF))[i], CANARY);
		assert_int_equal(((uint8_t *)gptr(f, CTRL_RX_GPA + 10 * CTRL_BUF))[i], CANARY);
	}
	assert_int_equal(f->dev->ctrl_count, 0);
}

/* Control messages a driver has no business sending, or cannot have meant. */
static void test_ctrl_garbage(void **state)
{
	struct fixture *f = *state;
	const struct virtio_console_control junk[] = {
	    {AGENT, 99, 1},
	    {AGENT, VIRTIO_CONSOLE_RESIZE, 1},
	    {AGENT, VIRTIO_CONSOLE_DEVICE_REMOVE, 1},
	    {AGENT, VIRTIO_CONSOLE_DEVICE_ADD, 1},
	    {AGENT, VIRTIO_CONSOLE_CONSOLE_PORT, 1},
	    {AGENT, VIRTIO_CONSOLE_PORT_NAME, 1},
	    {AGENT, 0xffff, 0xffff},
	    {VCON_PORTS, VIRTIO_CONSOLE_PORT_READY, 1},
	    {VCON_PORTS, VIRTIO_CONSOLE_PORT_OPEN, 1},
	    {VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_PORT_READY, 1},
	    {VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_PORT_OPEN, 1},
	    {0x80000001u, VIRTIO_CONSOLE_PORT_OPEN, 1},
	};
	struct virtio_console_control open1 = {AGENT, VIRTIO_CONSOLE_PORT_OPEN, 1};
	uint16_t d;

	handshake(f);
	for (unsigned i = 0; i < ARRAY_SIZE(junk); i++)
		send_ctrl(f, junk[i].id, junk[i].event, junk[i].value);
	/* A PORT_OPEN(1) that is too short, split across buffers, writable, or empty. */
	memcpy(gptr(f, CTRL_TX_GPA + 0x800), &open1, sizeof(open1));
	d = post(f, CTRL_TXQ, &(struct tbuf){CTRL_TX_GPA + 0x800, 7, 0}, 1);
	kick(f, CTRL_TXQ);
	expect_used(f, CTRL_TXQ, d, 0);
	d = post(f, CTRL_TXQ,
		 (struct tbuf[]){{CTRL_TX_GPA + 0x800, 4, 0}, {CTRL_TX_GPA + 0x804, 4, 0}}, 2);
	kick(f, CTRL_TXQ);
	expect_used(f, CTRL_TXQ, d, 0);
	d = post(f, CTRL_TXQ, &(struct tbuf){CTRL_TX_GPA + 0x800, 8, VIRTQ_DESC_F_WRITE}, 1);
	kick(f, CTRL_TXQ);
	expect_used(f, CTRL_TXQ, d, 0);
	d = post(f, CTRL_TXQ, &(struct tbuf){CTRL_TX_GPA + 0x800, 0, 0}, 1);
	kick(f, CTRL_TXQ);
	expect_used(f, CTRL_TXQ, d, 0);
	/* Outside RAM, or only partly inside. */
	d = post(f, CTRL_TXQ, &(struct tbuf){RAM_END - 4, 8, 0}, 1);
	kick(f, CTRL_TXQ);
	expect_used(f, CTRL_TXQ, d, 0);
	d = post(f, CTRL_TXQ, &(struct tbuf){RAM_GPA - 8, 8, 0}, 1);
	kick(f, CTRL_TXQ);
	expect_used(f, CTRL_TXQ, d, 0);
	/* None of it did anything. */
	assert_int_equal(ctrl_poll(f), 0);
	assert_int_equal(f->open_calls, 0);
	assert_false(rd32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* A message in a longer buffer is read from its first 8 bytes; the device still works. */
	d = post(f, CTRL_TXQ, &(struct tbuf){CTRL_TX_GPA + 0x800, 64, 0}, 1);
	kick(f, CTRL_TXQ);
	expect_used(f, CTRL_TXQ, d, 0);
	assert_int_equal(f->open_calls, 1);
}

/* ---------------------------------------------------------------- reset */

static void test_reset_closes_port(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[VCON_RING_SIZE + 1000], out[VCON_RING_SIZE];

	/* No receive buffers on the agent port: what the host sent stays in from_host. */
	f->rx_fill = 0;
	handshake(f);
	open_agent(f);
	pattern(data, sizeof(data), 9);
	assert_int_equal(byte_ring_put(&f->dev->from_host, data, 5000), 5000);
	/* A transmit chain half taken when the driver goes away. */
	port_write(f, AGENT, data, VCON_RING_SIZE - 100);
	port_write(f, AGENT, data, 1000);
	assert_true(f->dev->tx_pending);
	wr32(f, VIRTIO_MMIO_STATUS, 0);
	/* The port is closed for the channel; the stale data for the old driver is gone. */
	assert_int_equal(f->open_calls, 2);
	assert_false(f->opened);
	assert_int_equal(byte_ring_used(&f->dev->from_host), 0);
	assert_false(f->dev->tx_pending);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), 0);
	assert_false(f->irq);
	/* What was already in to_host is the channel's to drop; nothing more comes of it. */
	assert_int_equal(drain_to_host(f, out, sizeof(out)), VCON_RING_SIZE);
	f->rx_fill = 8;
	handshake(f);
	open_agent(f);
	assert_int_equal(byte_ring_used(&f->dev->to_host), 0);
	expect_no_used(f, RXQ(AGENT));
	assert_int_equal(f->consumed, 0);
	assert_int_equal(f->room_at_open, VCON_RING_SIZE);
	/* The new session works. */
	port_write(f, AGENT, "new", 3);
	assert_int_equal(drain_to_host(f, out, sizeof(out)), 3);
	assert_memory_equal(out, "new", 3);
	/* vcon_reset (the VM is reset) does the same. */
	assert_int_equal(byte_ring_put(&f->dev->from_host, data, 100), 100);
	f->repost_rx = false;
	vcon_reset(f->dev);
	assert_int_equal(f->open_calls, 4);
	assert_false(f->opened);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), 0);
	/* A reset with the port closed reports nothing. */
	vcon_reset(f->dev);
	wr32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f->open_calls, 4);
}

/* QueueReady = 0 on the agent's transmit queue forgets its half-taken chain. */
static void test_queue_stop_forgets_chain(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[VCON_RING_SIZE], out[VCON_RING_SIZE];
	bool tx_ready;
	uint32_t consumed;

	handshake(f);
	open_agent(f);
	pattern(data, sizeof(data), 10);
	port_write(f, AGENT, data, VCON_RING_SIZE - 10);
	port_write(f, AGENT, data, 100);
	assert_true(f->dev->tx_pending);
	wr32(f, VIRTIO_MMIO_QUEUE_SEL, TXQ(AGENT));
	wr32(f, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_false(f->dev->tx_pending);
	assert_int_equal(drain_to_host(f, out, sizeof(out)), VCON_RING_SIZE);
	vcon_move(f->dev, &tx_ready, &consumed);
	assert_false(tx_ready);
	assert_int_equal(byte_ring_used(&f->dev->to_host), 0);
	/* The queue comes back empty and works. */
	setup_queue(f, TXQ(AGENT), QMAX);
	port_write(f, AGENT, "again", 5);
	assert_int_equal(drain_to_host(f, out, sizeof(out)), 5);
	assert_memory_equal(out, "again", 5);
}

/* Nothing moves before DRIVER_OK; everything moves when it comes. */
static void test_nothing_before_driver_ok(void **state)
{
	struct fixture *f = *state;
	struct virtio_console_control m = {VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1};
	uint16_t head;

	probe_num(f, QMAX, false);
	post_ctrl_rx(f, 16);
	head = post(f, TXQ(CONSOLE), &(struct tbuf){TX_GPA, 5, 0}, 1);
	memcpy(gptr(f, TX_GPA), "early", 5);
	kick(f, TXQ(CONSOLE));
	memcpy(gptr(f, CTRL_TX_GPA), &m, sizeof(m));
	post(f, CTRL_TXQ, &(struct tbuf){CTRL_TX_GPA, 8, 0}, 1);
	kick(f, CTRL_TXQ);
	assert_true(vcon_console_input(f->dev, 'k'));
	expect_no_used(f, TXQ(CONSOLE));
	expect_no_used(f, CTRL_TXQ);
	assert_int_equal(f->console_len, 0);
	driver_ok(f);
	expect_used(f, TXQ(CONSOLE), head, 0);
	assert_int_equal(f->console_len, 5);
	assert_true(used_pop(f, CTRL_TXQ, &(struct virtq_used_elem){0}));
	f->linux_replies = false;
	assert_int_equal(ctrl_poll(f), 2);
}

/* ---------------------------------------------------------------- hostile drivers */

enum breakage { LOOP, NEXT_PAST, HEAD_PAST, AVAIL_AHEAD, NBREAKAGES };

static void break_queue(struct fixture *f, unsigned qi, enum breakage how)
{
	struct tq *t = &f->q[qi];
	struct virtq_avail *a = gptr(f, t->avail);
	uint64_t buf = TX_GPA;
	uint16_t flags = qi % 2 ? 0 : VIRTQ_DESC_F_WRITE; /* transmit queues are odd */

	switch (how) {
	case LOOP: /* 0 -> 1 -> 0 */
		set_desc(f, qi, 0, buf, 8, flags | VIRTQ_DESC_F_NEXT, 1);
		set_desc(f, qi, 1, buf, 8, flags | VIRTQ_DESC_F_NEXT, 0);
		push_avail(f, qi, 0);
		break;
	case NEXT_PAST:
		set_desc(f, qi, 0, buf, 8, flags | VIRTQ_DESC_F_NEXT, (uint16_t)t->num);
		push_avail(f, qi, 0);
		break;
	case HEAD_PAST:
		set_desc(f, qi, 0, buf, 8, flags, 0);
		push_avail(f, qi, (uint16_t)(t->num + 3));
		break;
	default: /* more entries than the ring holds */
		set_desc(f, qi, 0, buf, 8, flags, 0);
		t->avail_idx = (uint16_t)(t->avail_idx + t->num + 1);
		__atomic_store_n(&a->idx, t->avail_idx, __ATOMIC_RELEASE);
		break;
	}
}

/* A driver that breaks any of the six rings gets DEVICE_NEEDS_RESET, and nothing else. */
static void test_broken_rings_need_reset(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[100];

	for (unsigned qi = 0; qi < VCON_QUEUES; qi++) {
		for (unsigned how = 0; how < NBREAKAGES; how++) {
			f->rx_fill = 0;
			f->linux_replies = true;
			handshake(f);
			open_agent(f);
			ack_irq(f);
			f->console_len = 0;
			/* Something waits for each receive queue, so the device looks at it. */
			if (qi == CTRL_RXQ) {
				f->linux_replies = false;
				probe(f);
				send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
			}
			byte_ring_put(&f->dev->from_host, data, sizeof(data));
			vcon_console_input(f->dev, 'z');
			break_queue(f, qi, (enum breakage)how);
			kick(f, qi);
			assert_true(rd32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
			assert_true(ack_irq(f) & VIRTIO_MMIO_INT_CONFIG);
			expect_no_used(f, qi);
			/* The device is stopped: a good console write waits for the reset. */
			if (qi != TXQ(CONSOLE)) {
				port_write(f, CONSOLE, "x", 1);
				expect_no_used(f, TXQ(CONSOLE));
				assert_int_equal(f->console_len, 0);
			}
			check_bounds(f);
		}
	}
	/* A new driver gets a working device. */
	f->rx_fill = 8;
	f->linux_replies = true;
	handshake(f);
	port_write(f, CONSOLE, "ok", 2);
	assert_int_equal(f->console_len, 2);
}

/* Buffers outside RAM, or readable after writable, are not followed: the chain comes back
 * empty and the data stays for the next good buffer. */
static void test_bad_buffers_not_followed(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[4096], out[4096];
	const struct tbuf bad_rx[][2] = {
	    {{RAM_END - 100, 200, VIRTQ_DESC_F_WRITE}, {0, 0, 0}},
	    {{RAM_GPA - 4096, 4096, VIRTQ_DESC_F_WRITE}, {0, 0, 0}},
	    {{UINT64_MAX - 15, 16, VIRTQ_DESC_F_WRITE}, {0, 0, 0}},
	    {{TX_GPA, 100, VIRTQ_DESC_F_WRITE}, {TX_GPA + 100, 100, 0}}, /* readable after */
	    {{TX_GPA, 100, VIRTQ_DESC_F_WRITE}, {RAM_END, 1, VIRTQ_DESC_F_WRITE}},
	};
	const struct tbuf bad_tx[] = {
	    {RAM_END - 100, 200, 0},
	    {RAM_GPA - 4096, 4096, 0},
	    {0, 16, 0},
	    {UINT64_MAX - 15, 16, 0},
	};
	struct tbuf many[VCON_CHAIN_MAX + 1];
	uint16_t head;

	f->rx_fill = 0;
	f->repost_rx = false;
	handshake(f);
	open_agent(f);
	pattern(data, sizeof(data), 11);
	memset(gptr(f, TX_GPA), CANARY, 4096);
	/* The agent's and the console's receive queues, with data waiting for each. */
	for (unsigned port = 0; port < VCON_PORTS; port++) {
		for (unsigned i = 0; i < ARRAY_SIZE(bad_rx); i++) {
			if (port == AGENT)
				assert_int_equal(byte_ring_put(&f->dev->from_host, data, 300), 300);
			else
				for (unsigned k = 0; k < 300; k++)
					assert_true(vcon_console_input(f->dev, data[k]));
			head = post(f, RXQ(port), bad_rx[i], bad_rx[i][1].len ? 2 : 1);
			kick(f, RXQ(port));
			expect_used(f, RXQ(port), head, 0);
			/* A readable-only chain is not bad, but has nowhere to write. */
			head = post(f, RXQ(port), &(struct tbuf){TX_GPA, 100, 0}, 1);
			kick(f, RXQ(port));
			expect_used(f, RXQ(port), head, 0);
			for (unsigned k = 0; k < 4096; k++)
				assert_int_equal(((uint8_t *)gptr(f, TX_GPA))[k], CANARY);
			/* The next good buffer gets the bytes, none lost. */
			post_rx(f, port, 1);
			rx_poll(f, port);
			assert_int_equal(f->rx_len[port], 300);
			assert_memory_equal(f->rx[port], data, 300);
			f->rx_len[port] = 0;
		}
	}
	/* Only what really reached the guest was reported to the channel. */
	assert_int_equal(f->consumed, 300 * ARRAY_SIZE(bad_rx));
	/* Transmit chains with such buffers are given back untaken. */
	f->console_len = 0;
	for (unsigned port = 0; port < VCON_PORTS; port++) {
		for (unsigned i = 0; i < ARRAY_SIZE(bad_tx); i++) {
			head = post(f, TXQ(port), (struct tbuf[]){{TX_GPA, 10, 0}, bad_tx[i]}, 2);
			kick(f, TXQ(port));
			expect_used(f, TXQ(port), head, 0);
		}
		/* Readable after writable. */
		head = post(f, TXQ(port),
			    (struct tbuf[]){{TX_GPA, 10, VIRTQ_DESC_F_WRITE}, {TX_GPA, 10, 0}}, 2);
		kick(f, TXQ(port));
		expect_used(f, TXQ(port), head, 0);
	}
	assert_int_equal(f->console_len, 0);
	assert_int_equal(byte_ring_used(&f->dev->to_host), 0);
	/* More buffers in a chain than the device takes: given back untaken too. */
	for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct tbuf){TX_GPA + i, 1, 0};
	head = post(f, TXQ(AGENT), many, ARRAY_SIZE(many));
	kick(f, TXQ(AGENT));
	expect_used(f, TXQ(AGENT), head, 0);
	assert_int_equal(byte_ring_used(&f->dev->to_host), 0);
	/* ...but exactly as many is fine. */
	head = post(f, TXQ(AGENT), many, VCON_CHAIN_MAX);
	kick(f, TXQ(AGENT));
	expect_used(f, TXQ(AGENT), head, 0);
	assert_int_equal(drain_to_host(f, out, sizeof(out)), VCON_CHAIN_MAX);
	assert_false(rd32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

/* A driver whose rx buffers overlap its own rings or each other only hurts itself. */
static void test_rx_into_rings(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[VCON_RING_SIZE];

	f->rx_fill = 0;
	handshake(f);
	open_agent(f);
	memset(data, 0xff, sizeof(data));
	/* A receive buffer over the agent queue's own descriptor table and used ring. */
	post(f, RXQ(AGENT), &(struct tbuf){RING_GPA(RXQ(AGENT)), 0x2000, VIRTQ_DESC_F_WRITE}, 1);
	post(f, RXQ(AGENT), &(struct tbuf){RING_GPA(RXQ(AGENT)), 0x2000, VIRTQ_DESC_F_WRITE}, 1);
	byte_ring_put(&f->dev->from_host, data, sizeof(data));
	vcon_kick(f->dev);
	check_bounds(f);
	/* Whatever state the device is in, a reset brings it back. */
	f->rx_fill = 8;
	handshake(f);
	open_agent(f);
	assert_int_equal(byte_ring_used(&f->dev->from_host), 0);
}

/* Every register, every width, any value: reads and writes never crash the device. */
static void test_mmio_any_offset_width(void **state)
{
	struct fixture *f = *state;
	static const uint64_t values[] = {0, 1, 0xff, 0xffffffffULL, UINT64_MAX, 0x80000000ULL};

	handshake(f);
	open_agent(f);
	for (uint64_t off = 0; off < 0x140; off++)
		for (unsigned w = 0; w <= 16; w++)
			(void)rd(f, off, w);
	/* Registers are 32-bit only: other widths read 0. */
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE, 8), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE + 1, 4), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 4, 3), 0);
	assert_int_equal(rd(f, 0xfff, 1), 0);
	assert_int_equal(rd(f, UINT64_MAX, 8), 0);
	for (uint64_t off = 0; off < 0x140; off++) {
		for (unsigned w = 0; w <= 8; w++) {
			for (unsigned v = 0; v < ARRAY_SIZE(values); v++) {
				/* A reset now and then, so later writes meet a running device. */
				if (off % 16 == 0 && w == 4 && v == 0)
					handshake(f);
				wr(f, off, w, values[v]);
				check_bounds(f);
			}
		}
	}
	wr(f, UINT64_MAX, 4, 0);
	wr(f, 0x1000, 4, 0);
	/* Afterwards a driver can still bring it up. */
	f->console_len = 0;
	handshake(f);
	port_write(f, CONSOLE, "alive", 5);
	assert_int_equal(f->console_len, 5);
}

/* The free-running 16-bit indices wrap; the smallest queues work. */
static void test_index_wraparound(void **state)
{
	struct fixture *f = *state;

	probe_num(f, 2, true);
	post_ctrl_rx(f, 2);
	send_ctrl(f, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	f->rx_fill = 1;
	ctrl_poll(f);
	assert_string_equal(f->name[AGENT], VCON_AGENT_NAME);
	for (unsigned i = 0; i < 70000; i++) {
		uint8_t b = (uint8_t)i;
		uint16_t head = port_write(f, CONSOLE, &b, 1);

		expect_used(f, TXQ(CONSOLE), head, 0);
		if (i % 1000 == 0) {
			assert_int_equal(f->console_len, 1);
			assert_int_equal(f->console[0], b);
		}
		f->console_len = 0;
	}
}

/* A channel that sees port_open(true) takes the ring's room then for its first grant:
 * bytes the guest took out of from_host in the same pass must not be reported again. */
static void test_open_and_consume_in_one_pass(void **state)
{
	struct fixture *f = *state;
	struct virtio_console_control m = {AGENT, VIRTIO_CONSOLE_PORT_OPEN, 1};
	static uint8_t data[1000];
	uint64_t granted;

	f->rx_fill = 0;
	handshake(f);
	open_agent(f);
	/* The host's last bytes of a session the guest closes without reading them. */
	assert_int_equal(byte_ring_put(&f->dev->from_host, data, 500), 500);
	send_ctrl(f, AGENT, VIRTIO_CONSOLE_PORT_OPEN, 0);
	assert_false(f->opened);
	f->consumed = 0;
	/* Receive buffers and a new open, with one notify. */
	post_slot(f, RXQ(AGENT), RX_GPA(AGENT), RX_BUF, RX_BUF, VIRTQ_DESC_F_WRITE);
	memcpy(gptr(f, CTRL_TX_GPA + 0x800), &m, sizeof(m));
	post(f, CTRL_TXQ, &(struct tbuf){CTRL_TX_GPA + 0x800, 8, 0}, 1);
	kick(f, CTRL_TXQ);
	assert_true(f->opened);
	rx_poll(f, AGENT);
	/* What a channel would grant: the room it saw, and what is reported as taken since.
	 * More than the ring holds lets the host send bytes that have nowhere to go. */
	granted = f->room_at_open + f->consumed;
	assert_true(granted + byte_ring_used(&f->dev->from_host) <= VCON_RING_SIZE);
	/* Whatever was left is still delivered and reported once taken. */
	vcon_kick(f->dev);
	rx_poll(f, AGENT);
	granted = f->room_at_open + f->consumed;
	assert_true(granted + byte_ring_used(&f->dev->from_host) <= VCON_RING_SIZE);
}

/* ---------------------------------------------------------------- garbage */

static uint64_t rnd_gpa(void)
{
	switch (rnd() % 8) {
	case 0:
		return rnd();
	case 1:
		return RAM_END - rnd() % 256;
	case 2:
		return RAM_GPA - rnd() % 256;
	case 3:
		return RING_GPA(rnd() % VCON_QUEUES) + rnd() % 0x2000;
	default:
		return TX_GPA + rnd() % (TX_SIZE - 0x10000);
	}
}

static uint32_t rnd_len(void)
{
	static const uint32_t lens[] = {0, 1, 7, 8, 9, 23, 100, 4096, 40000, 0xffffffff};

	return rnd() % 4 ? lens[rnd() % ARRAY_SIZE(lens)] : (uint32_t)rnd();
}

/* A chain of random buffers on random descriptors, or raw garbage in the table. */
static void garbage_chain(struct fixture *f, unsigned qi)
{
	struct tq *t = &f->q[qi];
	unsigned n = 1 + (unsigned)(rnd() % 4);

	if (rnd() % 8 == 0) {
		unsigned i = (unsigned)(rnd() % t->num);

		set_desc(f, qi, i, rnd_gpa(), rnd_len(), (uint16_t)(rnd() % 8),
			 (uint16_t)(rnd() % 4 ? rnd() % t->num : rnd()));
		push_avail(f, qi, (uint16_t)(rnd() % 16 ? i : rnd()));
		return;
	}
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (unsigned)(rnd() % t->num);
		uint16_t flags =
		    (uint16_t)(rnd() % 4 ? (qi % 2 ? 0 : VIRTQ_DESC_F_WRITE) : rnd() % 8);

		if (k + 1 < n)
			flags |= VIRTQ_DESC_F_NEXT;
		set_desc(f, qi, i, rnd_gpa(), rnd_len(), flags, (uint16_t)(rnd() % t->num));
		if (k == 0)
			push_avail(f, qi, (uint16_t)i);
	}
}

static void garbage_ctrl(struct fixture *f)
{
	static const uint16_t events[] = {VIRTIO_CONSOLE_DEVICE_READY, VIRTIO_CONSOLE_PORT_READY,
					  VIRTIO_CONSOLE_PORT_OPEN,    VIRTIO_CONSOLE_PORT_OPEN,
					  VIRTIO_CONSOLE_RESIZE,       99};
	struct tq *t = &f->q[CTRL_TXQ];
	unsigned i = (unsigned)(rnd() % t->num);
	uint64_t gpa = CTRL_TX_GPA + 16ULL * (rnd() % 128);
	struct virtio_console_control m = {(uint32_t)(rnd() % 3 ? rnd() % 3 : rnd()),
					   events[rnd() % ARRAY_SIZE(events)],
					   (uint16_t)(rnd() % 3)};

	memcpy(gptr(f, gpa), &m, sizeof(m));
	set_desc(f, CTRL_TXQ, i, rnd() % 8 ? gpa : rnd_gpa(), rnd() % 8 ? 8 : rnd_len(),
		 rnd() % 8 ? 0 : (uint16_t)(rnd() % 8), (uint16_t)(rnd() % t->num));
	push_avail(f, CTRL_TXQ, (uint16_t)i);
}

static void garbage_round(struct fixture *f, uint8_t *scratch)
{
	bool tx_ready;
	uint32_t consumed;

	switch (rnd() % 12) {
	case 0:
	case 1:
	case 2:
		garbage_chain(f, (unsigned)(rnd() % VCON_QUEUES));
		break;
	case 3:
		garbage_ctrl(f);
		break;
	case 4:
		byte_ring_put(&f->dev->from_host, scratch, (uint32_t)(rnd() % 20000));
		break;
	case 5:
		drain_to_host(f, scratch, (uint32_t)(rnd() % 70000));
		break;
	case 6:
		vcon_move(f->dev, &tx_ready, &consumed);
		break;
	case 7:
		for (unsigned i = (unsigned)(rnd() % 100); i; i--)
			vcon_console_input(f->dev, (uint8_t)rnd());
		break;
	case 8:
		wr(f, rnd() % 0x120, (unsigned)(1u << (rnd() % 4)), rnd() % 2 ? rnd() : rnd() % 8);
		break;
	case 9:
		ack_irq(f);
		break;
	default:
		kick(f, (unsigned)(rnd() % (VCON_QUEUES + 1)));
		break;
	}
	check_bounds(f);
	/* The line follows InterruptStatus. */
	assert_int_equal(f->irq, rd32(f, VIRTIO_MMIO_INTERRUPT_STATUS) != 0);
}

static void test_random_garbage(void **state)
{
	struct fixture *f = *state;
	static uint8_t scratch[70000];

	f->console_wrap = true;
	for (uint64_t seed = 1; seed <= 150; seed++) {
		rnd_state = seed * 0x9e3779b97f4a7c15ULL;
		f->rx_fill = (unsigned)(rnd() % 4);
		handshake(f);
		if (rnd() % 2)
			open_agent(f);
		for (unsigned round = 0; round < 60; round++) {
			garbage_round(f, scratch);
			if (rd32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET ||
			    !(rd32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK)) {
				f->rx_fill = (unsigned)(rnd() % 4);
				handshake(f);
			}
		}
		/* The channel drains whatever was left between runs. */
		drain_to_host(f, scratch, sizeof(scratch));
	}
	/* A well-behaved driver still gets a working device. */
	f->rx_fill = 8;
	f->console_len = 0;
	handshake(f);
	port_write(f, CONSOLE, "fine", 4);
	assert_int_equal(f->console_len, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity_and_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_features, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_port_ready_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_open_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_to_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_from_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_stream_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_tx_waits_for_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_waits_for_buffers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_short_buffers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_closes_port, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_stop_forgets_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nothing_before_driver_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_broken_rings_need_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_buffers_not_followed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_into_rings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mmio_any_offset_width, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_wraparound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_and_consume_in_one_pass, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
