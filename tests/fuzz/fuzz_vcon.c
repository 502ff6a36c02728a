// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the virtio console every guest gets
 * (hv/vdev/virtio_console.c). Each input starts the device the way Linux
 * does (MULTIPORT, six queues in guest RAM, DRIVER_OK) and is then read as a
 * script of what a guest and the channel core may do: raw writes to guest
 * RAM and descriptors, Linux-shaped chains on any queue (control messages
 * with fuzzer-chosen fields among them), available-ring pushes, notifies,
 * MMIO at any offset and width, typed input, the channel draining to_host,
 * filling from_host and calling vcon_move, resets.
 *
 * Checked after every step: the interrupt line follows InterruptStatus; the
 * device holds nothing beyond its rings and its bounded control queue; the
 * ops come with the lock (console_write) or without it (the channel's),
 * port_open only on a change; and a channel that grants the host from_host's
 * room at port_open(true) plus every rx_consumed never grants more than the
 * ring has free. ASan catches any access outside guest RAM.
 *
 *   build/fuzz/fuzz_vcon -max_total_time=60 tests/fuzz/corpus/vcon
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/vcon.h>
#include <vireo/vm_layout.h>

#include "fuzz_check.h"

#define RAM_GPA	 0x80000000ULL
#define RAM_SIZE 0x20000ULL
#define RING_OFF 0x2000ULL /* queue q's rings at q * RING_OFF: desc, avail +0x800, used +0x1000 */
#define BUF_OFF	 0xc000ULL /* buffers from here to the end */
#define IRQ_SRC	 2
#define CTRL_RXQ VIRTIO_CONSOLE_CTRL_RXQ
#define CTRL_TXQ VIRTIO_CONSOLE_CTRL_TXQ

static struct vcon dev;
static uint8_t *ram;
static bool irq_level;
static uint8_t scratch[VCON_RING_SIZE];

/* The guest driver. */
static unsigned num[VCON_QUEUES];
static uint16_t avail_idx[VCON_QUEUES];
static unsigned next_desc[VCON_QUEUES];

/* The channel, as chan.c keeps its accounts of the agent port. */
static bool chan_open;
static uint64_t chan_may; /* bytes the host may still put into from_host */

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
	return __atomic_load_n(&dev.vdev.lock.locked, __ATOMIC_RELAXED) != 0;
}

/* ---------------------------------------------------------------- the ops */

static void op_console_write(void *ctx, const uint8_t *bytes, size_t n)
{
	volatile uint8_t sink = 0;

	(void)ctx;
	FUZZ_CHECK(locked());
	FUZZ_CHECK(n > 0 && n <= 4096);
	for (size_t i = 0; i < n; i++)
		sink ^= bytes[i];
	(void)sink;
}

static void chan_consumed(uint32_t n)
{
	if (chan_open)
		chan_may += n;
	/* What the host may send always fits: nothing was reported that was not freed. */
	FUZZ_CHECK(chan_may <= byte_ring_free(&dev.from_host));
}

static void op_port_open(void *ctx, bool open)
{
	(void)ctx;
	FUZZ_CHECK(!locked());
	FUZZ_CHECK(open != chan_open);
	chan_open = open;
	/* The channel grants what is free then; closed, the host may send nothing. */
	chan_may = open ? byte_ring_free(&dev.from_host) : 0;
}

static void op_tx_ready(void *ctx)
{
	(void)ctx;
	FUZZ_CHECK(!locked());
	FUZZ_CHECK(byte_ring_used(&dev.to_host) > 0);
}

static void op_rx_consumed(void *ctx, uint32_t n)
{
	(void)ctx;
	FUZZ_CHECK(!locked());
	FUZZ_CHECK(n > 0);
	chan_consumed(n);
}

static const struct vcon_ops ops = {op_console_write, op_port_open, op_tx_ready, op_rx_consumed};

static void set_irq(void *controller, unsigned source, bool level)
{
	(void)controller;
	FUZZ_CHECK(source == IRQ_SRC);
	FUZZ_CHECK(level != irq_level);
	irq_level = level;
}

/* ---------------------------------------------------------------- the driver */

static void mmio_write(uint64_t off, uint32_t value)
{
	FUZZ_CHECK(virtio_dev_mmio_ops.write(&dev.vdev, off, 4, value) == 0);
}

static uint32_t mmio_read(uint64_t off)
{
	uint64_t v;

	FUZZ_CHECK(virtio_dev_mmio_ops.read(&dev.vdev, off, 4, &v) == 0);
	return (uint32_t)v;
}

static uint64_t ring_gpa(unsigned q)
{
	return RAM_GPA + q * RING_OFF;
}

static struct virtq_desc *desc(unsigned q, unsigned i)
{
	return (struct virtq_desc *)(ram + q * RING_OFF) + i % num[q];
}

/* Linux's probe: features, six queues of num entries each, DRIVER_OK; control buffers. */
static void start(struct input *in)
{
	uint8_t sizes = (uint8_t)take(in, 1);
	uint64_t features =
	    VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_CONSOLE_F_MULTIPORT);

	mmio_write(VIRTIO_MMIO_STATUS, 0);
	mmio_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_write(VIRTIO_MMIO_STATUS,
		   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	memset(ram, 0, BUF_OFF);
	for (unsigned q = 0; q < VCON_QUEUES; q++) {
		/* Small queues most of the time (they fill and wrap), the largest sometimes. */
		num[q] = sizes & (1u << q) ? VCON_QUEUE_MAX : 1u << (take(in, 1) % 4);
		avail_idx[q] = 0;
		next_desc[q] = 0;
		mmio_write(VIRTIO_MMIO_QUEUE_SEL, q);
		mmio_write(VIRTIO_MMIO_QUEUE_NUM, num[q]);
		mmio_write(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)ring_gpa(q));
		mmio_write(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(ring_gpa(q) + 0x800));
		mmio_write(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(ring_gpa(q) + 0x1000));
		mmio_write(VIRTIO_MMIO_QUEUE_READY, 1);
		FUZZ_CHECK(mmio_read(VIRTIO_MMIO_QUEUE_READY) == 1);
	}
	mmio_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* Mostly buffer addresses in RAM, so the fuzzer gets deep quickly; sometimes anything. */
static uint64_t fuzz_addr(struct input *in)
{
	uint8_t kind = (uint8_t)take(in, 1);

	if (kind & 0x80)
		return take(in, 8);
	if (kind & 0x40)
		return RAM_GPA + RAM_SIZE - (take(in, 1) & 0xff);
	return RAM_GPA + BUF_OFF + take(in, 2) % (RAM_SIZE - BUF_OFF);
}

static void push_head(unsigned q, uint16_t head)
{
	struct virtq_avail *a = (struct virtq_avail *)(ram + q * RING_OFF + 0x800);

	a->ring[avail_idx[q] % num[q]] = head;
	avail_idx[q]++;
	__atomic_store_n(&a->idx, avail_idx[q], __ATOMIC_RELEASE);
}

static void notify(unsigned q)
{
	mmio_write(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static void write_ram(struct input *in)
{
	uint64_t off = take(in, 2) % RAM_SIZE;
	uint64_t len = take(in, 1); /* not inside MIN(), which evaluates twice */

	len = MIN(len, RAM_SIZE - off);
	for (uint64_t i = 0; i < len; i++)
		ram[off + i] = (uint8_t)take(in, 1);
}

static void write_desc(struct input *in)
{
	unsigned q = (unsigned)(take(in, 1) % VCON_QUEUES);
	struct virtq_desc *d = desc(q, (unsigned)take(in, 1));

	d->addr = fuzz_addr(in);
	d->len = (uint32_t)take(in, 4);
	d->flags = (uint16_t)take(in, 1);
	d->next = (uint16_t)take(in, 1);
}

/*
 * A chain as Linux makes it for queue q: a control message (on the control transmit
 * queue), bytes to write (transmit queues), or writable buffers (receive queues). Each
 * descriptor has a control byte; 0 leaves it as Linux would make it.
 */
static void post_chain(struct input *in)
{
	static const uint16_t events[] = {VIRTIO_CONSOLE_DEVICE_READY, VIRTIO_CONSOLE_PORT_READY,
					  VIRTIO_CONSOLE_PORT_OPEN, VIRTIO_CONSOLE_PORT_OPEN,
					  VIRTIO_CONSOLE_PORT_OPEN};
	uint8_t h = (uint8_t)take(in, 1);
	unsigned q = h % VCON_QUEUES, n = 1 + (h >> 3) % 4;
	bool tx = q % 2;
	uint16_t head = (uint16_t)(next_desc[q] % num[q]);

	if (q == CTRL_TXQ) {
		/* The message itself, in the chain's first buffer. */
		uint8_t e = (uint8_t)take(in, 1);
		struct virtio_console_control m = {
		    .id = e & 0x80 ? (uint32_t)take(in, 4) : (e >> 3) % 3,
		    .event = e < 0xf0 ? events[e % ARRAY_SIZE(events)] : e,
		    .value = (uint16_t)((e >> 5) & 1)};

		memcpy(ram + BUF_OFF + 16 * (head % 64), &m, sizeof(m));
	}
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (next_desc[q] + k) % num[q];
		struct virtq_desc *d = desc(q, i);
		uint8_t c = (uint8_t)take(in, 1);
		uint64_t addr = q == CTRL_TXQ && !k
				    ? RAM_GPA + BUF_OFF + 16 * (head % 64)
				    : RAM_GPA + BUF_OFF + 0x400 +
					  (take(in, 1) << 8) % (RAM_SIZE - BUF_OFF - 0x4400);
		uint32_t len = q == CTRL_TXQ ? 8 : 1u << (take(in, 1) % 14);
		uint16_t flags =
		    (uint16_t)((tx ? 0 : VIRTQ_DESC_F_WRITE) | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));

		d->addr = c & 0x10 ? fuzz_addr(in) : addr;
		d->len = c & 0x08 ? (uint32_t)take(in, 4) : len;
		d->flags = flags ^ (c & 7);
		d->next = c & 0x20 ? (uint16_t)take(in, 1) : (uint16_t)((i + 1) % num[q]);
	}
	next_desc[q] += n;
	push_head(q, head);
	if (h & 0x80)
		notify(q);
}

static void mmio_any(struct input *in)
{
	static const unsigned widths[] = {1, 2, 4, 8};
	uint64_t off = take(in, 2) % VM_VIRTIO_STRIDE;
	unsigned width = widths[take(in, 1) % 4];
	uint64_t v = take(in, 4);

	off = MIN(off, VM_VIRTIO_STRIDE - width);
	if (v & 1)
		FUZZ_CHECK(virtio_dev_mmio_ops.read(&dev.vdev, off, width, &v) == 0);
	else
		FUZZ_CHECK(virtio_dev_mmio_ops.write(&dev.vdev, off, width, v >> 1) == 0);
}

/* ---------------------------------------------------------------- the channel */

static void chan_put(uint32_t n)
{
	uint32_t put;

	/* As chan.c: only while open, never more than granted. */
	if (!chan_open)
		return;
	n = (uint32_t)MIN((uint64_t)n, chan_may);
	put = byte_ring_put(&dev.from_host, scratch, n);
	FUZZ_CHECK(put == n);
	chan_may -= n;
}

static void chan_move(void)
{
	bool tx_ready = false;
	uint32_t consumed = 0;

	vcon_move(&dev, &tx_ready, &consumed);
	FUZZ_CHECK(!tx_ready || byte_ring_used(&dev.to_host) > 0);
	if (consumed)
		chan_consumed(consumed);
}

/* ---------------------------------------------------------------- the script */

static void check(void)
{
	FUZZ_CHECK(!locked());
	FUZZ_CHECK(irq_level == (mmio_read(VIRTIO_MMIO_INTERRUPT_STATUS) != 0));
	FUZZ_CHECK(byte_ring_used(&dev.to_host) <= VCON_RING_SIZE);
	FUZZ_CHECK(byte_ring_used(&dev.from_host) <= VCON_RING_SIZE);
	FUZZ_CHECK(byte_ring_used(&dev.console_in) <= VCON_INPUT_SIZE);
	FUZZ_CHECK(dev.ctrl_count <= VCON_CTRL_PENDING && dev.ctrl_head < VCON_CTRL_PENDING);
	if (dev.tx_pending) {
		FUZZ_CHECK(dev.tx_chain.n <= VCON_CHAIN_MAX && !dev.tx_chain.bad);
		FUZZ_CHECK(dev.tx_done < virtq_chain_bytes(&dev.tx_chain, 0, dev.tx_chain.nread));
	}
	FUZZ_CHECK(chan_may <= byte_ring_free(&dev.from_host));
	FUZZ_CHECK(chan_open == dev.agent_open);
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
	case 2: {
		unsigned q = (unsigned)(take(in, 1) % VCON_QUEUES);

		push_head(q, (uint16_t)take(in, 1));
		break;
	}
	case 3:
		notify((unsigned)(take(in, 1) % (VCON_QUEUES + 1)));
		break;
	case 4:
	case 5:
	case 6:
	case 7:
		post_chain(in);
		break;
	case 8:
		mmio_any(in);
		break;
	case 9:
		mmio_write(VIRTIO_MMIO_INTERRUPT_ACK, mmio_read(VIRTIO_MMIO_INTERRUPT_STATUS));
		break;
	case 10: {
		uint32_t n = (uint32_t)take(in, 1) << (take(in, 1) % 9);

		byte_ring_get(&dev.to_host, scratch, n);
		break;
	}
	case 11: {
		uint32_t n = (uint32_t)take(in, 1) << (take(in, 1) % 9);

		chan_put(n);
		break;
	}
	case 12:
		chan_move();
		break;
	case 13:
		for (unsigned i = (unsigned)take(in, 1); i; i--)
			vcon_console_input(&dev, (uint8_t)i);
		break;
	case 14:
		vcon_kick(&dev);
		break;
	default:
		switch (take(in, 1) % 4) {
		case 0:
			vcon_reset(&dev);
			break;
		case 1:
			mmio_write(VIRTIO_MMIO_STATUS, 0);
			break;
		default:
			start(in);
			break;
		}
		break;
	}
	check();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct guest_mem mem;
	struct irq_line line = {.set_level = set_irq, .source = IRQ_SRC};

	if (!ram)
		ram = aligned_alloc(4096, RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	mem = (struct guest_mem){.nruns = 1,
				 .runs = {{.gpa = RAM_GPA, .size = RAM_SIZE, .host = ram}}};
	irq_level = false;
	chan_open = false;
	chan_may = 0;
	for (unsigned i = 0; i < sizeof(scratch); i++)
		scratch[i] = (uint8_t)(i * 7);
	vcon_init(&dev, &mem, &line, &ops, NULL);
	start(&in);
	check();
	while (in.left)
		step(&in);
	/* Whatever happened, a reset leaves nothing behind: the port closed, the line low. */
	vcon_reset(&dev);
	check();
	FUZZ_CHECK(!chan_open && !irq_level);
	FUZZ_CHECK(byte_ring_used(&dev.from_host) == 0 && byte_ring_used(&dev.console_in) == 0);
	return 0;
}
