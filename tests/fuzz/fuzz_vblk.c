// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the guest virtio-blk device. Each input starts a
 * device the way Linux does (features, one queue in guest RAM, DRIVER_OK)
 * and is then read as a script of guest and backend actions: raw writes to
 * guest RAM and to descriptors, available-ring pushes, notifies, MMIO
 * accesses at any offset and width, completions, backend mode changes,
 * resets. The fake backend aborts on any request outside the VM's sector
 * range or outside guest RAM; ASan catches any other stray access.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *	-Ihv/include -DVIREO_HOST_TEST hv/vdev/virtio_blk.c tests/fuzz/fuzz_vblk.c \
 *	-o build/fuzz_vblk
 *   build/fuzz_vblk -max_total_time=30
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/vblk.h>
#include <vireo/vm_layout.h>

#include "fuzz_check.h"

#define RAM_GPA	     0x80000000ULL
#define RAM_SIZE     0x10000ULL
#define DESC_OFF     0x0000 /* rings in Linux's layout for any queue size up to 128 */
#define AVAIL_OFF    0x0800
#define USED_OFF     0x1000
#define REQ_OFF	     0x2000 /* headers and status bytes */
#define DATA_OFF     0x4000
#define DISK_SECTORS 128
#define FIRST_SECTOR 8
#define VM_SECTORS   64
#define MAX_PENDING  (VBLK_QUEUE_MAX + 1)

enum fake_mode { FAKE_SYNC, FAKE_DEFER, FAKE_BUSY, FAKE_IOERR };

static struct vblk dev;
static uint8_t *ram;
static uint8_t disk[DISK_SECTORS * BLK_SECTOR_SIZE];
static enum fake_mode mode;
static struct blk_request *pending[MAX_PENDING];
static unsigned npending;
static bool irq_level;

/* The guest driver's state. */
static unsigned num;
static uint16_t avail_idx;
static unsigned next_desc;

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

static void check_request(const struct blk_request *req)
{
	uint64_t bytes = 0;

	FUZZ_CHECK(req->nsegs <= BLK_MAX_SEGMENTS);
	for (unsigned i = 0; i < req->nsegs; i++) {
		uintptr_t a = req->segs[i].addr, base = (uintptr_t)ram;

		FUZZ_CHECK(req->segs[i].len > 0);
		FUZZ_CHECK(a >= base && a - base <= RAM_SIZE - req->segs[i].len);
		bytes += req->segs[i].len;
	}
	FUZZ_CHECK(req->sector >= FIRST_SECTOR && req->sector < FIRST_SECTOR + VM_SECTORS);
	if (req->op == BLK_OP_FLUSH) {
		FUZZ_CHECK(req->nsegs == 0);
		return;
	}
	FUZZ_CHECK(req->op == BLK_OP_READ || req->op == BLK_OP_WRITE);
	FUZZ_CHECK(bytes && bytes % BLK_SECTOR_SIZE == 0);
	FUZZ_CHECK(bytes / BLK_SECTOR_SIZE <= FIRST_SECTOR + VM_SECTORS - req->sector);
	FUZZ_CHECK(req->op == BLK_OP_READ || !dev.read_only);
}

static void fake_io(struct blk_request *req)
{
	uint8_t *d = disk + req->sector * BLK_SECTOR_SIZE;

	for (unsigned i = 0; i < req->nsegs; i++) {
		if (req->op == BLK_OP_READ)
			memcpy((void *)req->segs[i].addr, d, req->segs[i].len);
		else if (req->op == BLK_OP_WRITE)
			memcpy(d, (void *)req->segs[i].addr, req->segs[i].len);
		d += req->segs[i].len;
	}
}

static int fake_submit(struct blk_backend *b, struct blk_request *req)
{
	(void)b;
	check_request(req);
	switch (mode) {
	case FAKE_BUSY:
		return -VIREO_EBUSY;
	case FAKE_DEFER:
		if (npending == MAX_PENDING)
			return -VIREO_EBUSY;
		pending[npending++] = req;
		return 0;
	case FAKE_IOERR:
		req->done(req, BLK_IOERR);
		return 0;
	default:
		fake_io(req);
		req->done(req, BLK_OK);
		return 0;
	}
}

static struct blk_backend backend = {
    .name = "fuzz", .capacity = DISK_SECTORS, .submit = fake_submit};

static void complete(unsigned i, enum blk_status st)
{
	struct blk_request *req = pending[i];

	pending[i] = pending[--npending];
	if (st == BLK_OK)
		fake_io(req);
	req->done(req, st);
}

static void set_irq(void *controller, unsigned source, bool level)
{
	(void)controller;
	FUZZ_CHECK(source == 1);
	FUZZ_CHECK(level != irq_level);
	irq_level = level;
}

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

/* Linux's probe: features, queue 0 with num entries, DRIVER_OK. */
static void start(struct input *in)
{
	uint64_t features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_SEG_MAX) |
			    BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH);

	if (dev.read_only)
		features |= BIT(VIRTIO_BLK_F_RO);
	num = 1u << (take(in, 1) % 8);
	avail_idx = 0;
	next_desc = 0;
	memset(ram, 0, USED_OFF + virtq_used_bytes(num));
	mmio_write(VIRTIO_MMIO_STATUS, 0);
	mmio_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_write(VIRTIO_MMIO_STATUS,
		   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	mmio_write(VIRTIO_MMIO_QUEUE_NUM, num);
	mmio_write(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_GPA + DESC_OFF));
	mmio_write(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_GPA + AVAIL_OFF));
	mmio_write(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_GPA + USED_OFF));
	mmio_write(VIRTIO_MMIO_QUEUE_READY, 1);
	mmio_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	FUZZ_CHECK(mmio_read(VIRTIO_MMIO_QUEUE_READY) == 1);
}

/* Mostly guest-RAM addresses, so that the fuzzer reaches deep quickly; sometimes anything. */
static uint64_t fuzz_addr(struct input *in)
{
	uint8_t kind = (uint8_t)take(in, 1);

	if (kind & 0x80)
		return take(in, 8);
	return RAM_GPA + (take(in, 2) & (RAM_SIZE - 1)) + (kind & 0x40 ? RAM_SIZE - 0x100 : 0);
}

static void write_desc(struct input *in)
{
	struct virtq_desc *d = (struct virtq_desc *)(ram + DESC_OFF) + take(in, 1) % num;

	d->addr = fuzz_addr(in);
	d->len = (uint32_t)take(in, 4);
	d->flags = (uint16_t)take(in, 1);
	d->next = (uint16_t)take(in, 1);
}

static void write_ram(struct input *in)
{
	uint64_t off = take(in, 2) % RAM_SIZE;
	uint64_t len = take(in, 1); /* not inside MIN(), which evaluates twice */

	len = MIN(len, RAM_SIZE - off);

	for (uint64_t i = 0; i < len; i++)
		ram[off + i] = (uint8_t)take(in, 1);
}

static void push_head(uint16_t head)
{
	struct virtq_avail *a = (struct virtq_avail *)(ram + AVAIL_OFF);

	a->ring[avail_idx % num] = head;
	avail_idx++;
	__atomic_store_n(&a->idx, avail_idx, __ATOMIC_RELEASE);
}

/* Each descriptor of a chain has a control byte: 0 leaves it as Linux would make it. */
static void chain_desc(struct input *in, struct virtq_desc *d, uint64_t addr, uint32_t len,
		       uint16_t flags, uint16_t next)
{
	uint8_t c = (uint8_t)take(in, 1);

	d->addr = c & 0x10 ? fuzz_addr(in) : addr;
	d->len = c & 0x08 ? (uint32_t)take(in, 4) : len;
	d->flags = flags ^ (c & 7);
	d->next = c & 0x20 ? (uint16_t)take(in, 1) : next;
}

/* A Linux-shaped request (header, data, status) with fuzzer-chosen fields and mistakes. */
static void post_chain(struct input *in)
{
	static const uint32_t types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
					 VIRTIO_BLK_T_GET_ID};
	static const uint32_t lens[] = {512, 1024, 4096, 20, 1, 0, 513, 8192};
	unsigned n = 1 + take(in, 1) % 6, slot = take(in, 1) % 64;
	uint8_t t = (uint8_t)take(in, 1);
	uint32_t type = t < 0xf0 ? types[t % 4] : t;
	uint64_t sector = take(in, 1);
	uint64_t hdr = RAM_GPA + REQ_OFF + 32 * slot;
	uint16_t head = (uint16_t)(next_desc % num);
	struct virtio_blk_req_header *h = (void *)(ram + REQ_OFF + 32 * slot);

	h->type = type;
	h->sector = sector == 0xff ? take(in, 8) : sector;
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (next_desc + k) % num;
		struct virtq_desc *d = (struct virtq_desc *)(ram + DESC_OFF) + i;
		uint16_t next = k + 1 < n ? VIRTQ_DESC_F_NEXT : 0;

		if (k == 0)
			chain_desc(in, d, hdr, 16, next, (uint16_t)((i + 1) % num));
		else if (k + 1 == n)
			chain_desc(in, d, hdr + 16, 1, VIRTQ_DESC_F_WRITE, 0);
		else
			chain_desc(in, d, RAM_GPA + DATA_OFF + take(in, 2) % (RAM_SIZE - DATA_OFF),
				   lens[take(in, 1) % 8],
				   next | (type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE),
				   (uint16_t)((i + 1) % num));
	}
	next_desc += n;
	push_head(head);
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

static void step(struct input *in)
{
	switch (take(in, 1) % 14) {
	case 0:
		write_ram(in);
		break;
	case 1:
	case 2:
		write_desc(in);
		break;
	case 3:
		push_head((uint16_t)take(in, 1));
		break;
	case 4:
		mmio_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		break;
	case 5:
		if (npending)
			complete((unsigned)(take(in, 1) % npending),
				 (enum blk_status)(take(in, 1) % 3));
		break;
	case 6:
		mode = (enum fake_mode)(take(in, 1) % 4);
		break;
	case 7:
		mmio_any(in);
		break;
	case 8:
		mmio_write(VIRTIO_MMIO_INTERRUPT_ACK, mmio_read(VIRTIO_MMIO_INTERRUPT_STATUS));
		break;
	case 10:
	case 11:
	case 12:
		post_chain(in);
		break;
	default:
		if (take(in, 1) % 2)
			vblk_reset(&dev);
		else
			start(in);
		break;
	}
	FUZZ_CHECK(irq_level == (mmio_read(VIRTIO_MMIO_INTERRUPT_STATUS) != 0));
	FUZZ_CHECK(vblk_inflight(&dev) <= VBLK_QUEUE_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct guest_mem mem;
	struct irq_line line = {.set_level = set_irq, .source = 1};

	if (!ram)
		ram = aligned_alloc(4096, RAM_SIZE);
	mem = (struct guest_mem){.nruns = 1,
				 .runs = {{.gpa = RAM_GPA, .size = RAM_SIZE, .host = ram}}};
	mode = FAKE_SYNC;
	irq_level = false;
	FUZZ_CHECK(vblk_init(&dev, &backend, FIRST_SECTOR, VM_SECTORS, take(&in, 1) & 1, &mem,
			     &line, "fuzz") == 0);
	start(&in);
	while (in.left)
		step(&in);
	/* The backend finishes everything: nothing may stay in flight. */
	mode = FAKE_SYNC;
	while (npending)
		complete(0, BLK_OK);
	vblk_reset(&dev);
	FUZZ_CHECK(vblk_inflight(&dev) == 0);
	FUZZ_CHECK(!irq_level);
	return 0;
}
