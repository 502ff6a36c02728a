// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the guest virtio-mmio block device. The tests play Linux's
 * virtio_mmio and virtio_blk drivers: they negotiate through the MMIO
 * registers, lay out split rings in a fake guest RAM and post requests, and
 * a fake backend (a RAM disk) serves them synchronously, later, not at all
 * (EBUSY) or with errors. Guest RAM sits between PROT_NONE guard regions,
 * so a device access outside it faults.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <vireo/vblk.h>

#define RAM_GPA	     0x80000000ULL
#define RAM_SIZE     (1024 * 1024ULL)
#define GUARD_SIZE   (1024 * 1024ULL)
#define HDR_GPA	     (RAM_GPA + 0x4000) /* 256 headers of 16 bytes */
#define STATUS_GPA   (RAM_GPA + 0x6000) /* 256 status bytes */
#define DATA_GPA     (RAM_GPA + 0x10000)
#define DISK_SECTORS 1024
#define FIRST_SECTOR 16 /* the default VM disk: backend sectors [16, 16 + 512) */
#define VM_SECTORS   512
#define IRQ_SOURCE   3
#define MAX_PENDING  512
#define SECTOR	     BLK_SECTOR_SIZE

#define LINUX_FEATURES                                                                             \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |        \
	 BIT(VIRTIO_BLK_F_FLUSH))
#define STATUS_RUNNING                                                                             \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |            \
	 VIRTIO_STATUS_DRIVER_OK)

/* ---------------------------------------------------------------- fake backend */

enum fake_mode { FAKE_SYNC, FAKE_DEFER, FAKE_BUSY, FAKE_IOERR, FAKE_EINVAL };

struct fake_disk {
	struct blk_backend b;
	uint8_t *data;
	enum fake_mode mode;
	unsigned limit; /* FAKE_DEFER: EBUSY while this many are pending (0: no limit) */
	pthread_mutex_t mutex;
	struct blk_request *pending[MAX_PENDING];
	unsigned npending;
	unsigned calls, accepted, busy;
	struct blk_request last; /* the last accepted request, as submitted */
	uint64_t lo, hi;	 /* the sectors this VM may touch */
	const uint8_t *ram;
	bool failed; /* a check failed on a thread where cmocka cannot assert */
	/* Runs inside submit, as another hart would meanwhile; cleared before it runs. */
	void (*hook)(void *arg);
	void *hook_arg;
};

struct fixture {
	struct vblk *dev;
	struct fake_disk disk;
	uint8_t *map; /* guard, RAM, guard */
	uint8_t *ram;
	bool irq;
	unsigned irq_changes;
	/* The guest driver's view. */
	unsigned num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx, used_seen;
	unsigned next_desc, nreq;
};

static uint8_t pattern(uint64_t sector, unsigned i)
{
	return (uint8_t)(sector * 37 + i * 11 + (sector >> 3) + 1);
}

/* What the backend checks on every request: segments in guest RAM, sectors in the VM's range. */
static bool fake_request_ok(const struct fake_disk *k, const struct blk_request *req)
{
	uint64_t bytes = 0;

	if (req->nsegs > BLK_MAX_SEGMENTS)
		return false;
	for (unsigned i = 0; i < req->nsegs; i++) {
		uintptr_t a = req->segs[i].addr, ram = (uintptr_t)k->ram;

		if (!req->segs[i].len || a < ram || a - ram > RAM_SIZE - req->segs[i].len)
			return false;
		bytes += req->segs[i].len;
	}
	if (req->op == BLK_OP_FLUSH)
		return req->nsegs == 0 && req->sector >= k->lo && req->sector < k->hi;
	if (req->op != BLK_OP_READ && req->op != BLK_OP_WRITE)
		return false;
	return bytes && bytes % SECTOR == 0 && req->sector >= k->lo && req->sector < k->hi &&
	       bytes / SECTOR <= k->hi - req->sector;
}

static void fake_io(struct fake_disk *k, struct blk_request *req)
{
	uint8_t *disk = k->data + req->sector * SECTOR;

	for (unsigned i = 0; i < req->nsegs; i++) {
		void *buf = (void *)req->segs[i].addr;

		if (req->op == BLK_OP_READ)
			memcpy(buf, disk, req->segs[i].len);
		else if (req->op == BLK_OP_WRITE)
			memcpy(disk, buf, req->segs[i].len);
		disk += req->segs[i].len;
	}
}

static int fake_submit(struct blk_backend *b, struct blk_request *req)
{
	struct fake_disk *k = b->priv;
	int ret = 0;

	pthread_mutex_lock(&k->mutex);
	k->calls++;
	if (!fake_request_ok(k, req))
		k->failed = true;
	if (k->mode == FAKE_BUSY ||
	    (k->mode == FAKE_DEFER && k->limit && k->npending >= k->limit)) {
		k->busy++;
		ret = -VIREO_EBUSY;
	} else if (k->mode == FAKE_EINVAL) {
		ret = -VIREO_EINVAL;
	} else {
		k->accepted++;
		k->last = *req;
		if (k->mode == FAKE_DEFER && k->npending < MAX_PENDING)
			k->pending[k->npending++] = req;
	}
	pthread_mutex_unlock(&k->mutex);
	if (k->hook) {
		void (*hook)(void *) = k->hook;

		k->hook = NULL;
		hook(k->hook_arg);
	}
	if (ret || k->mode == FAKE_DEFER)
		return ret;
	/* Synchronous completion, before submit returns, as blk.h allows. */
	if (k->mode == FAKE_IOERR) {
		req->done(req, BLK_IOERR);
	} else {
		fake_io(k, req);
		req->done(req, BLK_OK);
	}
	return 0;
}

/* Complete pending request i (in submission order). */
static void fake_complete(struct fake_disk *k, unsigned i, enum blk_status st)
{
	struct blk_request *req;

	pthread_mutex_lock(&k->mutex);
	assert_true(i < k->npending);
	req = k->pending[i];
	memmove(&k->pending[i], &k->pending[i + 1], (k->npending - i - 1) * sizeof(req));
	k->npending--;
	pthread_mutex_unlock(&k->mutex);
	if (st == BLK_OK)
		fake_io(k, req);
	req->done(req, st);
}

static void fake_complete_all(struct fake_disk *k)
{
	while (k->npending)
		fake_complete(k, 0, BLK_OK);
}

/* ---------------------------------------------------------------- fixture */

static void record_irq(void *controller, unsigned source, bool level)
{
	struct fixture *f = controller;

	assert_int_equal(source, IRQ_SOURCE);
	/* The device drives the line only when its level changes. */
	assert_int_not_equal(f->irq, level);
	f->irq = level;
	f->irq_changes++;
}

static int dev_init(struct fixture *f, uint64_t first, uint64_t n, bool ro, const char *serial)
{
	struct guest_mem mem = {.nruns = 1,
				.runs = {{.gpa = RAM_GPA, .size = RAM_SIZE, .host = f->ram}}};
	struct irq_line line = {.set_level = record_irq, .controller = f, .source = IRQ_SOURCE};

	f->disk.lo = first;
	f->disk.hi = first + n;
	f->irq = false;
	return vblk_init(f->dev, &f->disk.b, first, n, ro, &mem, &line, serial);
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	f->map =
	    mmap(NULL, RAM_SIZE + 2 * GUARD_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->map != MAP_FAILED);
	f->ram = f->map + GUARD_SIZE;
	assert_int_equal(mprotect(f->ram, RAM_SIZE, PROT_READ | PROT_WRITE), 0);
	f->dev = test_calloc(1, sizeof(*f->dev));
	f->disk.data = test_malloc(DISK_SECTORS * SECTOR);
	for (unsigned s = 0; s < DISK_SECTORS; s++)
		for (unsigned i = 0; i < SECTOR; i++)
			f->disk.data[s * SECTOR + i] = pattern(s, i);
	f->disk.b = (struct blk_backend){
	    .name = "fake", .capacity = DISK_SECTORS, .submit = fake_submit, .priv = &f->disk};
	f->disk.ram = f->ram;
	pthread_mutex_init(&f->disk.mutex, NULL);
	assert_int_equal(dev_init(f, FIRST_SECTOR, VM_SECTORS, false, "vireo-disk-0"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	/* Every test leaves the backend idle and never saw a request out of range. */
	assert_false(f->disk.failed);
	assert_int_equal(f->disk.npending, 0);
	assert_int_equal(vblk_inflight(f->dev), 0);
	pthread_mutex_destroy(&f->disk.mutex);
	munmap(f->map, RAM_SIZE + 2 * GUARD_SIZE);
	test_free(f->disk.data);
	test_free(f->dev);
	test_free(f);
	return 0;
}

/* ---------------------------------------------------------------- the guest driver */

static void *gptr(struct fixture *f, uint64_t gpa)
{
	assert_true(gpa >= RAM_GPA && gpa < RAM_GPA + RAM_SIZE);
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

/* virtio_dev_probe up to virtio_features_ok: reset, ACK, DRIVER, features, FEATURES_OK. */
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

static void set_queue_addrs(struct fixture *f, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr32(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr32(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr32(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	wr32(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	wr32(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	wr32(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
}

/* vm_setup_vq: a zeroed vring in Linux's layout (used ring page-aligned), then QueueReady. */
static void setup_queue(struct fixture *f, unsigned num)
{
	wr32(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), VBLK_QUEUE_MAX);
	f->num = num;
	f->desc_gpa = RAM_GPA;
	f->avail_gpa = f->desc_gpa + virtq_desc_bytes(num);
	f->used_gpa = ALIGN_UP(f->avail_gpa + virtq_avail_bytes(num), 4096);
	memset(gptr(f, RAM_GPA), 0, f->used_gpa + virtq_used_bytes(num) - RAM_GPA);
	f->avail_idx = 0;
	f->used_seen = 0;
	f->next_desc = 0;
	wr32(f, VIRTIO_MMIO_QUEUE_NUM, num);
	set_queue_addrs(f, f->desc_gpa, f->avail_gpa, f->used_gpa);
	wr32(f, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void driver_ok(struct fixture *f)
{
	wr32(f, VIRTIO_MMIO_STATUS, rd32(f, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

/* The whole probe, with a queue of num entries. */
static void start_num(struct fixture *f, unsigned num)
{
	uint64_t features = LINUX_FEATURES | (device_features(f) & BIT(VIRTIO_BLK_F_RO));

	assert_true(negotiate(f, features) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, num);
	driver_ok(f);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), STATUS_RUNNING);
}

static void start(struct fixture *f)
{
	start_num(f, VBLK_QUEUE_MAX);
}

static struct virtq_desc *desc_at(struct fixture *f, unsigned i)
{
	return (struct virtq_desc *)gptr(f, f->desc_gpa) + i;
}

static void set_desc(struct fixture *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	*desc_at(f, i) =
	    (struct virtq_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

static void avail_push(struct fixture *f, uint16_t head)
{
	struct virtq_avail *a = gptr(f, f->avail_gpa);

	a->ring[f->avail_idx % f->num] = head;
	f->avail_idx++;
	__atomic_store_n(&a->idx, f->avail_idx, __ATOMIC_RELEASE);
}

static void notify(struct fixture *f)
{
	wr32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

struct tbuf {
	uint64_t gpa;
	uint32_t len;
	uint16_t flags;
};

/* A chain on consecutive descriptors (wrapping), made available. */
static uint16_t post(struct fixture *f, const struct tbuf *b, unsigned n)
{
	uint16_t head = (uint16_t)(f->next_desc % f->num);

	for (unsigned k = 0; k < n; k++) {
		unsigned i = (f->next_desc + k) % f->num, next = (i + 1) % f->num;
		uint16_t flags = b[k].flags | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		set_desc(f, i, b[k].gpa, b[k].len, flags, (uint16_t)next);
	}
	f->next_desc += n;
	avail_push(f, head);
	return head;
}

struct treq {
	uint16_t head;
	uint64_t status; /* gpa of the status byte */
};

/* Linux's layout: header (readable), data buffers, status byte (writable). */
static struct treq post_req(struct fixture *f, uint32_t type, uint64_t sector,
			    const struct tbuf *data, unsigned ndata)
{
	unsigned k = f->nreq++ % 256;
	struct virtio_blk_req_header *hdr = gptr(f, HDR_GPA + 16 * k);
	struct tbuf bufs[BLK_MAX_SEGMENTS + 8];
	struct treq r = {.status = STATUS_GPA + k};

	assert_true(ndata + 2 <= ARRAY_SIZE(bufs));
	*hdr = (struct virtio_blk_req_header){.type = type, .sector = sector};
	*(uint8_t *)gptr(f, r.status) = 0xff;
	bufs[0] = (struct tbuf){HDR_GPA + 16 * k, 16, 0};
	if (ndata)
		memcpy(&bufs[1], data, ndata * sizeof(*data));
	bufs[ndata + 1] = (struct tbuf){r.status, 1, VIRTQ_DESC_F_WRITE};
	r.head = post(f, bufs, ndata + 2);
	return r;
}

/* A request of `sectors` sectors in one data buffer at gpa. */
static struct treq post_io(struct fixture *f, uint32_t type, uint64_t sector, uint64_t gpa,
			   uint32_t sectors)
{
	struct tbuf data = {gpa, sectors * SECTOR,
			    type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0};

	return post_req(f, type, sector, &data, 1);
}

static uint8_t status_of(struct fixture *f, struct treq r)
{
	return *(uint8_t *)gptr(f, r.status);
}

static bool used_pop(struct fixture *f, struct virtq_used_elem *e)
{
	struct virtq_used *u = gptr(f, f->used_gpa);

	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == f->used_seen)
		return false;
	*e = u->ring[f->used_seen % f->num];
	f->used_seen++;
	return true;
}

static void expect_used(struct fixture *f, struct treq r, uint32_t len, uint8_t status)
{
	struct virtq_used_elem e;

	assert_true(used_pop(f, &e));
	assert_int_equal(e.id, r.head);
	assert_int_equal(e.len, len);
	assert_int_equal(status_of(f, r), status);
}

static void expect_no_used(struct fixture *f)
{
	struct virtq_used_elem e;

	assert_false(used_pop(f, &e));
}

/* vm_interrupt: read InterruptStatus, acknowledge what was read. */
static uint32_t ack_irq(struct fixture *f)
{
	uint32_t isr = rd32(f, VIRTIO_MMIO_INTERRUPT_STATUS);

	wr32(f, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr;
}

static void expect_read_data(struct fixture *f, uint64_t gpa, uint64_t backend_sector,
			     uint32_t sectors)
{
	assert_memory_equal(gptr(f, gpa), f->disk.data + backend_sector * SECTOR, sectors * SECTOR);
}

/* A one-sector read that must work: the device is alive. */
static void expect_device_works(struct fixture *f)
{
	struct treq r = post_io(f, VIRTIO_BLK_T_IN, 1, DATA_GPA, 1);

	notify(f);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
	expect_read_data(f, DATA_GPA, FIRST_SECTOR + 1, 1);
}

/* ---------------------------------------------------------------- transport */

static void test_identity_registers(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd32(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd32(f, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd32(f, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_int_equal(rd32(f, VIRTIO_MMIO_VENDOR_ID), VIRTIO_DEV_VENDOR_ID);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), VBLK_QUEUE_MAX);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	/* No shared memory regions: their length reads as all ones. */
	assert_int_equal(rd32(f, VIRTIO_MMIO_SHM_LEN_LOW), UINT32_MAX);
	assert_int_equal(rd32(f, VIRTIO_MMIO_SHM_LEN_HIGH), UINT32_MAX);
	assert_int_equal(rd32(f, 0x0f8), 0); /* reserved */
	/* Only queue 0 exists. */
	wr32(f, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr32(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_NUM), 0);
	wr32(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	wr32(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
}

static void test_register_widths_lenient(void **state)
{
	struct fixture *f = *state;

	/* Registers are 32-bit only: other accesses read 0 and writes are ignored, not fatal. */
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE, 1), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE, 8), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE + 2, 4), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE, 3), 0);
	wr(f, VIRTIO_MMIO_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, VIRTIO_MMIO_STATUS, 8, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, VIRTIO_MMIO_STATUS + 1, 4, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), 0);
	wr32(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
	/* Read-only registers ignore writes. */
	wr32(f, VIRTIO_MMIO_MAGIC_VALUE, 0);
	wr32(f, VIRTIO_MMIO_INTERRUPT_STATUS, 1);
	assert_int_equal(rd32(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

static void test_handshake(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(device_features(f), LINUX_FEATURES);
	wr32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd32(f, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	assert_int_equal(negotiate(f, LINUX_FEATURES), VIRTIO_STATUS_ACKNOWLEDGE |
							   VIRTIO_STATUS_DRIVER |
							   VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, VBLK_QUEUE_MAX);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)f->desc_gpa);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_DESC_HIGH), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW), (uint32_t)f->avail_gpa);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW), (uint32_t)f->used_gpa);
	/* A live queue's rings cannot move. */
	wr32(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1234);
	wr32(f, VIRTIO_MMIO_QUEUE_NUM, 8);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)f->desc_gpa);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_NUM), VBLK_QUEUE_MAX);
	driver_ok(f);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), STATUS_RUNNING);
	/* Features cannot change once accepted. */
	wr32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(f, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	/* The driver cannot set DEVICE_NEEDS_RESET, nor clear bits except by a reset. */
	wr32(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), STATUS_RUNNING);
	expect_device_works(f);
}

static void test_features_refused(void **state)
{
	struct fixture *f = *state;
	struct treq r;

	/* A modern device needs VERSION_1. */
	assert_false(negotiate(f, LINUX_FEATURES & ~BIT(VIRTIO_F_VERSION_1)) &
		     VIRTIO_STATUS_FEATURES_OK);
	/* ...and then refuses DRIVER_OK too, and consumes nothing. */
	setup_queue(f, VBLK_QUEUE_MAX);
	driver_ok(f);
	assert_false(rd32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
	r = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	notify(f);
	expect_no_used(f);
	assert_int_equal(status_of(f, r), 0xff);
	/* Features that are not offered. */
	assert_false(negotiate(f, LINUX_FEATURES | BIT(VIRTIO_F_INDIRECT_DESC)) &
		     VIRTIO_STATUS_FEATURES_OK);
	assert_false(negotiate(f, LINUX_FEATURES | BIT(VIRTIO_F_EVENT_IDX)) &
		     VIRTIO_STATUS_FEATURES_OK);
	assert_false(negotiate(f, LINUX_FEATURES | BIT(VIRTIO_BLK_F_RO)) &
		     VIRTIO_STATUS_FEATURES_OK);
	assert_false(negotiate(f, LINUX_FEATURES | BIT(VIRTIO_F_RING_PACKED)) &
		     VIRTIO_STATUS_FEATURES_OK);
	/* A subset is fine. */
	assert_true(negotiate(f, BIT(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	assert_true(negotiate(f, LINUX_FEATURES) & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(f->disk.calls, 0);
}

static void test_config_space(void **state)
{
	struct fixture *f = *state;
	uint8_t want[0x100] = {0};
	uint32_t gen;

	want[0] = VM_SECTORS & 0xff;
	want[1] = VM_SECTORS >> 8;
	want[12] = BLK_MAX_SEGMENTS; /* seg_max */
	want[20] = SECTOR & 0xff;    /* blk_size */
	want[21] = SECTOR >> 8;
	/* Every width at every offset, as virtio_cread8/16/32/64 may do. */
	for (unsigned off = 0; off < 0xf8; off++) {
		for (unsigned w = 1; w <= 8; w *= 2) {
			uint64_t expect = 0;

			for (unsigned i = 0; i < w; i++)
				expect |= (uint64_t)want[off + i] << (8 * i);
			assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + off, w), expect);
		}
	}
	/* Linux reads capacity as two 32-bit halves inside a generation check. */
	gen = rd32(f, VIRTIO_MMIO_CONFIG_GENERATION);
	assert_int_equal(rd32(f, VIRTIO_MMIO_CONFIG + 0), VM_SECTORS);
	assert_int_equal(rd32(f, VIRTIO_MMIO_CONFIG + 4), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 0, 8), VM_SECTORS);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 20, 4), SECTOR);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 12, 4), BLK_MAX_SEGMENTS);
	assert_int_equal(rd(f, 0xffc, 4), 0);
	assert_int_equal(rd(f, 0xff8, 8), 0);
	/* Read-only. */
	wr(f, VIRTIO_MMIO_CONFIG, 8, 0);
	wr(f, VIRTIO_MMIO_CONFIG + 20, 1, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG, 8), VM_SECTORS);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 20, 4), SECTOR);
}

static void test_init_errors(void **state)
{
	struct fixture *f = *state;
	struct guest_mem mem = {.nruns = 1,
				.runs = {{.gpa = RAM_GPA, .size = RAM_SIZE, .host = f->ram}}};
	struct blk_backend nosubmit = {.capacity = DISK_SECTORS};

	assert_int_equal(vblk_init(f->dev, NULL, 0, 1, false, &mem, NULL, NULL), -VIREO_EINVAL);
	assert_int_equal(vblk_init(f->dev, &nosubmit, 0, 1, false, &mem, NULL, NULL),
			 -VIREO_EINVAL);
	assert_int_equal(vblk_init(f->dev, &f->disk.b, 0, 1, false, NULL, NULL, NULL),
			 -VIREO_EINVAL);
	assert_int_equal(vblk_init(f->dev, &f->disk.b, 0, 0, false, &mem, NULL, NULL),
			 -VIREO_EINVAL);
	assert_int_equal(vblk_init(f->dev, &f->disk.b, 1, DISK_SECTORS, false, &mem, NULL, NULL),
			 -VIREO_EINVAL);
	assert_int_equal(
	    vblk_init(f->dev, &f->disk.b, DISK_SECTORS + 1, 1, false, &mem, NULL, NULL),
	    -VIREO_EINVAL);
	assert_int_equal(vblk_init(f->dev, &f->disk.b, 2, UINT64_MAX, false, &mem, NULL, NULL),
			 -VIREO_EINVAL);
	mem.runs[0].gpa = UINT64_MAX - RAM_SIZE + 2; /* wraps past 2^64 */
	assert_int_equal(vblk_init(f->dev, &f->disk.b, 0, 1, false, &mem, NULL, NULL),
			 -VIREO_EINVAL);
	mem.runs[0].gpa = RAM_GPA + 8; /* host and guest addresses disagree on alignment */
	assert_int_equal(vblk_init(f->dev, &f->disk.b, 0, 1, false, &mem, NULL, NULL),
			 -VIREO_EINVAL);
	/* The whole disk, and a NULL irq line and serial, are fine. */
	mem.runs[0].gpa = RAM_GPA;
	assert_int_equal(vblk_init(f->dev, &f->disk.b, 0, DISK_SECTORS, false, &mem, NULL, NULL),
			 0);
	assert_int_equal(dev_init(f, FIRST_SECTOR, VM_SECTORS, false, NULL), 0);
}

/* ---------------------------------------------------------------- requests */

static void test_read_multi_segment(void **state)
{
	struct fixture *f = *state;
	struct tbuf data[3] = {{DATA_GPA, 512, VIRTQ_DESC_F_WRITE},
			       {DATA_GPA + 0x1000, 1024, VIRTQ_DESC_F_WRITE},
			       {DATA_GPA + 0x3000, 2048, VIRTQ_DESC_F_WRITE}};
	struct treq r;

	start(f);
	r = post_req(f, VIRTIO_BLK_T_IN, 5, data, 3);
	notify(f);
	expect_used(f, r, 3584 + 1, VIRTIO_BLK_S_OK);
	assert_int_equal(f->disk.last.op, BLK_OP_READ);
	assert_int_equal(f->disk.last.sector, FIRST_SECTOR + 5);
	assert_int_equal(f->disk.last.nsegs, 3);
	assert_ptr_equal((void *)f->disk.last.segs[1].addr, gptr(f, DATA_GPA + 0x1000));
	assert_int_equal(f->disk.last.segs[1].len, 1024);
	expect_read_data(f, DATA_GPA, FIRST_SECTOR + 5, 1);
	expect_read_data(f, DATA_GPA + 0x1000, FIRST_SECTOR + 6, 2);
	expect_read_data(f, DATA_GPA + 0x3000, FIRST_SECTOR + 8, 4);
	assert_true(f->irq);
	assert_int_equal(ack_irq(f), VIRTIO_MMIO_INT_VRING);
	assert_false(f->irq);
	/* The last sector of the disk. */
	r = post_io(f, VIRTIO_BLK_T_IN, VM_SECTORS - 1, DATA_GPA, 1);
	notify(f);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
	expect_read_data(f, DATA_GPA, FIRST_SECTOR + VM_SECTORS - 1, 1);
}

static void test_write_multi_segment(void **state)
{
	struct fixture *f = *state;
	struct tbuf data[4];
	uint8_t before[DISK_SECTORS * SECTOR / 8];
	struct treq r;

	start(f);
	for (unsigned i = 0; i < 4; i++) {
		data[i] = (struct tbuf){DATA_GPA + i * 0x2000, 512, 0};
		memset(gptr(f, data[i].gpa), 0xa0 + i, 512);
	}
	memcpy(before, f->disk.data, sizeof(before));
	r = post_req(f, VIRTIO_BLK_T_OUT, 20, data, 4);
	notify(f);
	expect_used(f, r, 1, VIRTIO_BLK_S_OK);
	assert_int_equal(f->disk.last.op, BLK_OP_WRITE);
	assert_int_equal(f->disk.last.nsegs, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_memory_equal(f->disk.data + (FIRST_SECTOR + 20 + i) * SECTOR,
				    gptr(f, data[i].gpa), 512);
	/* The neighbours are untouched. */
	assert_memory_equal(f->disk.data, before, (FIRST_SECTOR + 20) * SECTOR);
	assert_memory_equal(f->disk.data + (FIRST_SECTOR + 24) * SECTOR,
			    before + (FIRST_SECTOR + 24) * SECTOR,
			    sizeof(before) - (FIRST_SECTOR + 24) * SECTOR);
	/* Reading it back. */
	r = post_io(f, VIRTIO_BLK_T_IN, 20, DATA_GPA + 0x20000, 4);
	notify(f);
	expect_used(f, r, 4 * SECTOR + 1, VIRTIO_BLK_S_OK);
	expect_read_data(f, DATA_GPA + 0x20000, FIRST_SECTOR + 20, 4);
}

/* The device must not depend on how the driver cuts a request into descriptors (2.6.4). */
static void test_any_framing(void **state)
{
	struct fixture *f = *state;
	struct virtio_blk_req_header *hdr = gptr(f, DATA_GPA);
	uint8_t *buf = gptr(f, DATA_GPA + 0x1000);
	uint16_t head;
	struct virtq_used_elem e;

	start(f);
	/* Header in two pieces (4 + 12), an empty descriptor, data and status in one buffer. */
	*hdr = (struct virtio_blk_req_header){.type = VIRTIO_BLK_T_IN, .sector = 3};
	buf[SECTOR] = 0xff;
	head = post(f,
		    (struct tbuf[]){{DATA_GPA, 4, 0},
				    {DATA_GPA + 4, 12, 0},
				    {0, 0, VIRTQ_DESC_F_WRITE},
				    {DATA_GPA + 0x1000, SECTOR + 1, VIRTQ_DESC_F_WRITE}},
		    4);
	notify(f);
	assert_true(used_pop(f, &e));
	assert_int_equal(e.id, head);
	assert_int_equal(e.len, SECTOR + 1);
	assert_int_equal(buf[SECTOR], VIRTIO_BLK_S_OK);
	expect_read_data(f, DATA_GPA + 0x1000, FIRST_SECTOR + 3, 1);
	assert_int_equal(f->disk.last.nsegs, 1);
	assert_int_equal(f->disk.last.segs[0].len, SECTOR);

	/* A write with header and data in one buffer, the data split over two more. */
	*hdr = (struct virtio_blk_req_header){.type = VIRTIO_BLK_T_OUT, .sector = 40};
	memset((uint8_t *)hdr + 16, 0x5c, 3 * SECTOR);
	buf[0] = 0xff;
	head = post(f,
		    (struct tbuf[]){{DATA_GPA, 16 + 100, 0},
				    {DATA_GPA + 116, 2 * SECTOR, 0},
				    {DATA_GPA + 116 + 2 * SECTOR, SECTOR - 100, 0},
				    {DATA_GPA + 0x1000, 1, VIRTQ_DESC_F_WRITE}},
		    4);
	notify(f);
	assert_true(used_pop(f, &e));
	assert_int_equal(e.id, head);
	assert_int_equal(buf[0], VIRTIO_BLK_S_OK);
	assert_int_equal(f->disk.last.nsegs, 3);
	assert_memory_equal(f->disk.data + (FIRST_SECTOR + 40) * SECTOR, (uint8_t *)hdr + 16,
			    3 * SECTOR);
}

static void test_flush(void **state)
{
	struct fixture *f = *state;
	struct treq r;

	start(f);
	r = post_req(f, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
	notify(f);
	expect_used(f, r, 1, VIRTIO_BLK_S_OK);
	assert_int_equal(f->disk.accepted, 1);
	assert_int_equal(f->disk.last.op, BLK_OP_FLUSH);
	assert_int_equal(f->disk.last.nsegs, 0);
	/* Deferred, and failing. */
	f->disk.mode = FAKE_DEFER;
	r = post_req(f, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
	notify(f);
	expect_no_used(f);
	assert_int_equal(vblk_inflight(f->dev), 1);
	fake_complete(&f->disk, 0, BLK_IOERR);
	expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
}

static void test_get_id(void **state)
{
	struct fixture *f = *state;
	uint8_t *id = gptr(f, DATA_GPA);
	uint8_t want[VIRTIO_BLK_ID_BYTES] = "vireo-disk-0";
	struct treq r;

	start(f);
	memset(id, 0xee, 64);
	/* Linux's buffer is exactly 20 bytes. */
	r = post_req(f, VIRTIO_BLK_T_GET_ID, 0,
		     &(struct tbuf){DATA_GPA, VIRTIO_BLK_ID_BYTES, VIRTQ_DESC_F_WRITE}, 1);
	notify(f);
	expect_used(f, r, VIRTIO_BLK_ID_BYTES + 1, VIRTIO_BLK_S_OK);
	assert_memory_equal(id, want, VIRTIO_BLK_ID_BYTES);
	assert_int_equal(id[VIRTIO_BLK_ID_BYTES], 0xee);
	/* A shorter buffer gets what fits. */
	memset(id, 0xee, 64);
	r = post_req(f, VIRTIO_BLK_T_GET_ID, 0, &(struct tbuf){DATA_GPA, 8, VIRTQ_DESC_F_WRITE}, 1);
	notify(f);
	expect_used(f, r, 8 + 1, VIRTIO_BLK_S_OK);
	assert_memory_equal(id, want, 8);
	assert_int_equal(id[8], 0xee);
	/* A serial longer than 20 bytes is cut; the answer is never longer than 20. */
	assert_int_equal(dev_init(f, FIRST_SECTOR, VM_SECTORS, false, "0123456789abcdefghijKLMNO"),
			 0);
	start(f);
	memset(id, 0xee, 64);
	r = post_req(f, VIRTIO_BLK_T_GET_ID, 0, &(struct tbuf){DATA_GPA, 64, VIRTQ_DESC_F_WRITE},
		     1);
	notify(f);
	expect_used(f, r, VIRTIO_BLK_ID_BYTES + 1, VIRTIO_BLK_S_OK);
	assert_memory_equal(id, "0123456789abcdefghij", 20);
	assert_int_equal(id[20], 0xee);
	assert_int_equal(f->disk.calls, 0);
}

static void test_read_only(void **state)
{
	struct fixture *f = *state;
	uint8_t *before = test_malloc(DISK_SECTORS * SECTOR);
	struct treq r;

	memcpy(before, f->disk.data, DISK_SECTORS * SECTOR);
	assert_int_equal(dev_init(f, FIRST_SECTOR, VM_SECTORS, true, NULL), 0);
	assert_int_equal(device_features(f), LINUX_FEATURES | BIT(VIRTIO_BLK_F_RO));
	start(f);
	memset(gptr(f, DATA_GPA), 0x77, 4 * SECTOR);
	r = post_io(f, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 4);
	notify(f);
	expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->disk.calls, 0);
	assert_memory_equal(f->disk.data, before, DISK_SECTORS * SECTOR);
	expect_device_works(f);
	/* A read-only backend makes a read-only disk, whatever the VM asked for. */
	f->disk.b.read_only = true;
	assert_int_equal(dev_init(f, FIRST_SECTOR, VM_SECTORS, false, NULL), 0);
	assert_true(device_features(f) & BIT(VIRTIO_BLK_F_RO));
	start(f);
	r = post_io(f, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 1);
	notify(f);
	expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	assert_memory_equal(f->disk.data, before, DISK_SECTORS * SECTOR);
	test_free(before);
}

static void test_sector_range(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint64_t sector;
		uint32_t count;
		uint32_t type;
	} bad[] = {
	    {100, 1, VIRTIO_BLK_T_IN},		   /* backend sector 200 */
	    {99, 2, VIRTIO_BLK_T_IN},		   /* 199 and 200 */
	    {99, 2, VIRTIO_BLK_T_OUT},		   /* 199 and 200 */
	    {100, 1, VIRTIO_BLK_T_OUT},		   /* 200 */
	    {UINT64_MAX, 1, VIRTIO_BLK_T_IN},	   /* wraps to backend 99 */
	    {UINT64_MAX - 99, 1, VIRTIO_BLK_T_IN}, /* first + sector wraps to 0 */
	    {1ULL << 63, 1, VIRTIO_BLK_T_OUT},
	    {101, 0, VIRTIO_BLK_T_IN}, /* even an empty transfer must start inside */
	};
	struct treq r;

	assert_int_equal(dev_init(f, 100, 100, false, NULL), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG, 8), 100);
	start(f);
	r = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	notify(f);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
	expect_read_data(f, DATA_GPA, 100, 1);
	r = post_io(f, VIRTIO_BLK_T_IN, 99, DATA_GPA, 1);
	notify(f);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
	expect_read_data(f, DATA_GPA, 199, 1);
	assert_int_equal(f->disk.calls, 2);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		r = post_io(f, bad[i].type, bad[i].sector, DATA_GPA, bad[i].count);
		notify(f);
		expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	}
	/* The backend never saw them (it checks [100, 200) on every request, too). */
	assert_int_equal(f->disk.calls, 2);
	/* An empty transfer at the very end is a no-op. */
	r = post_io(f, VIRTIO_BLK_T_IN, 100, DATA_GPA, 0);
	notify(f);
	expect_used(f, r, 1, VIRTIO_BLK_S_OK);
	assert_int_equal(f->disk.calls, 2);
}

static void test_unsupported_types(void **state)
{
	struct fixture *f = *state;
	static const uint32_t types[] = {2,
					 VIRTIO_BLK_T_GET_LIFETIME,
					 VIRTIO_BLK_T_DISCARD,
					 VIRTIO_BLK_T_WRITE_ZEROES,
					 VIRTIO_BLK_T_SECURE_ERASE,
					 0x80000001};

	start(f);
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		struct treq r = post_io(f, types[i], 0, DATA_GPA, 1);

		notify(f);
		expect_used(f, r, 1, VIRTIO_BLK_S_UNSUPP);
	}
	assert_int_equal(f->disk.calls, 0);
}

/* ---------------------------------------------------------------- bad chains */

/* Each of these gets IOERR in its status byte and never reaches the backend. */
static void test_bad_chains_ioerr(void **state)
{
	struct fixture *f = *state;
	const uint32_t W = VIRTQ_DESC_F_WRITE;
	const uint64_t end = RAM_GPA + RAM_SIZE;
	struct tbuf many[BLK_MAX_SEGMENTS + 1];
	struct {
		const char *what;
		uint32_t type;
		struct tbuf data[3];
		unsigned n;
	} cases[] = {
	    {"data straddles the end of RAM", VIRTIO_BLK_T_IN, {{end - 256, 512, W}}, 1},
	    {"data below RAM", VIRTIO_BLK_T_IN, {{RAM_GPA - 512, 512, W}}, 1},
	    {"data at 0", VIRTIO_BLK_T_OUT, {{0, 512, 0}}, 1},
	    {"address + len wraps past 2^64", VIRTIO_BLK_T_IN, {{UINT64_MAX - 255, 512, W}}, 1},
	    {"len wraps from the top", VIRTIO_BLK_T_OUT, {{UINT64_MAX, 0xffffffff, 0}}, 1},
	    {"huge len", VIRTIO_BLK_T_IN, {{RAM_GPA, 0xfffffe00, W}}, 1},
	    {"read with readable data", VIRTIO_BLK_T_IN, {{DATA_GPA, 512, 0}}, 1},
	    {"write with writable data", VIRTIO_BLK_T_OUT, {{DATA_GPA, 512, W}}, 1},
	    {"read of 500 bytes", VIRTIO_BLK_T_IN, {{DATA_GPA, 500, W}}, 1},
	    {"write of 513 bytes", VIRTIO_BLK_T_OUT, {{DATA_GPA, 513, 0}}, 1},
	    {"indirect descriptor", VIRTIO_BLK_T_IN, {{DATA_GPA, 16, VIRTQ_DESC_F_INDIRECT}}, 1},
	    {"readable after writable",
	     VIRTIO_BLK_T_IN,
	     {{DATA_GPA, 512, W}, {DATA_GPA + 512, 512, 0}},
	     2},
	    {"GET_ID with readable data", VIRTIO_BLK_T_GET_ID, {{DATA_GPA, 20, 0}}, 1},
	};
	struct treq r;

	start(f);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("case: %s\n", cases[i].what);
		r = post_req(f, cases[i].type, 0, cases[i].data, cases[i].n);
		notify(f);
		expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	}
	/* One segment more than seg_max. */
	for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct tbuf){DATA_GPA + i * SECTOR, SECTOR, W};
	r = post_req(f, VIRTIO_BLK_T_IN, 0, many, ARRAY_SIZE(many));
	notify(f);
	expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	/* 65 data segments in 66 buffers: the last shares its buffer with the status byte. */
	many[BLK_MAX_SEGMENTS].len = SECTOR + 1;
	r.status = many[BLK_MAX_SEGMENTS].gpa + SECTOR;
	*(uint8_t *)gptr(f, r.status) = 0xff;
	memset(gptr(f, HDR_GPA), 0, 16);
	{
		struct tbuf chain[BLK_MAX_SEGMENTS + 2] = {{HDR_GPA, 16, 0}};

		memcpy(&chain[1], many, sizeof(many));
		r.head = post(f, chain, ARRAY_SIZE(chain));
	}
	notify(f);
	expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	/* seg_max itself is fine. */
	r = post_req(f, VIRTIO_BLK_T_IN, 0, many, BLK_MAX_SEGMENTS);
	notify(f);
	expect_used(f, r, BLK_MAX_SEGMENTS * SECTOR + 1, VIRTIO_BLK_S_OK);
	assert_int_equal(f->disk.calls, 1);
	assert_int_equal(f->disk.last.nsegs, BLK_MAX_SEGMENTS);
	expect_read_data(f, DATA_GPA, FIRST_SECTOR, BLK_MAX_SEGMENTS);
	expect_device_works(f);
}

static void test_bad_headers(void **state)
{
	struct fixture *f = *state;
	uint64_t st = STATUS_GPA;
	struct tbuf bad[][3] = {
	    /* The header is device-writable. */
	    {{HDR_GPA, 16, VIRTQ_DESC_F_WRITE}, {DATA_GPA, 512, VIRTQ_DESC_F_WRITE}, {st, 1, 2}},
	    /* Too short. */
	    {{HDR_GPA, 8, 0}, {DATA_GPA, 512, VIRTQ_DESC_F_WRITE}, {st, 1, 2}},
	    /* Outside RAM. */
	    {{RAM_GPA + RAM_SIZE - 8, 16, 0}, {DATA_GPA, 512, VIRTQ_DESC_F_WRITE}, {st, 1, 2}},
	    {{UINT64_MAX - 7, 16, 0}, {DATA_GPA, 512, VIRTQ_DESC_F_WRITE}, {st, 1, 2}},
	};

	start(f);
	memset(gptr(f, HDR_GPA), 0, 16); /* a read of sector 0, if it were taken */
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct treq r = {.status = st};

		*(uint8_t *)gptr(f, st) = 0xff;
		r.head = post(f, bad[i], 3);
		notify(f);
		expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	}
	/* Only a status byte: no header at all. */
	{
		struct treq r = {.status = st};

		*(uint8_t *)gptr(f, st) = 0xff;
		r.head = post(f, &(struct tbuf){st, 1, VIRTQ_DESC_F_WRITE}, 1);
		notify(f);
		expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	}
	assert_int_equal(f->disk.calls, 0);
	expect_device_works(f);
}

/* The device is broken until reset: NEEDS_RESET, a config interrupt, nothing consumed. */
static void expect_needs_reset(struct fixture *f)
{
	struct treq r;

	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS),
			 STATUS_RUNNING | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_true(f->irq);
	assert_int_equal(ack_irq(f), VIRTIO_MMIO_INT_CONFIG);
	assert_false(f->irq);
	expect_no_used(f);
	assert_int_equal(f->disk.calls, 0);
	/* Later requests are not consumed either. */
	r = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	notify(f);
	expect_no_used(f);
	assert_int_equal(status_of(f, r), 0xff);
	/* A reset brings it back. */
	start(f);
	expect_device_works(f);
	f->disk.calls = 0;
}

/* Chains whose status byte cannot be found or written. */
static void test_bad_status_needs_reset(void **state)
{
	struct fixture *f = *state;
	const uint16_t W = VIRTQ_DESC_F_WRITE;
	struct tbuf status[] = {
	    {STATUS_GPA, 1, 0},				/* device-readable */
	    {STATUS_GPA, 0, W},				/* empty */
	    {RAM_GPA + RAM_SIZE, 1, W},			/* just past RAM */
	    {RAM_GPA - 1, 1, W},			/* just before */
	    {UINT64_MAX, 2, W},				/* wraps */
	    {STATUS_GPA, 1, W | VIRTQ_DESC_F_INDIRECT}, /* not a buffer */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(status); i++) {
		struct tbuf chain[3] = {{HDR_GPA, 16, 0}, {DATA_GPA, 512, W}, status[i]};

		start(f);
		memset(gptr(f, HDR_GPA), 0, 16);
		post(f, chain, 3);
		notify(f);
		expect_needs_reset(f);
	}
}

static void test_loops_need_reset(void **state)
{
	struct fixture *f = *state;
	const uint16_t N = VIRTQ_DESC_F_NEXT, W = VIRTQ_DESC_F_WRITE;

	/* a -> b -> a */
	start_num(f, 8);
	set_desc(f, 0, HDR_GPA, 16, N, 1);
	set_desc(f, 1, DATA_GPA, 512, N | W, 0);
	avail_push(f, 0);
	notify(f);
	expect_needs_reset(f);
	/* A descriptor pointing at itself. */
	start_num(f, 8);
	set_desc(f, 3, STATUS_GPA, 1, N | W, 3);
	avail_push(f, 3);
	notify(f);
	expect_needs_reset(f);
	/* A chain through every descriptor that never ends: longer than the queue. */
	start_num(f, 8);
	for (unsigned i = 0; i < 8; i++)
		set_desc(f, i, STATUS_GPA, 1, N | W, (uint16_t)((i + 1) % 8));
	avail_push(f, 5);
	notify(f);
	expect_needs_reset(f);
	/* `next` past the queue. */
	start_num(f, 8);
	set_desc(f, 0, HDR_GPA, 16, N, 8);
	avail_push(f, 0);
	notify(f);
	expect_needs_reset(f);
	/* A head past the queue. */
	start_num(f, 8);
	set_desc(f, 0, HDR_GPA, 16, 0, 0);
	avail_push(f, 200);
	notify(f);
	expect_needs_reset(f);
	/* The available index runs more than a ring ahead. */
	start_num(f, 8);
	f->avail_idx = 8;
	post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	notify(f);
	expect_needs_reset(f);
}

static void test_queue_setup_invalid(void **state)
{
	struct fixture *f = *state;
	uint64_t end = RAM_GPA + RAM_SIZE;
	static const uint32_t nums[] = {0, 3, 100, VBLK_QUEUE_MAX * 2, 0x10000};
	struct {
		uint64_t desc, avail, used;
	} addrs[] = {
	    {RAM_GPA + 8, RAM_GPA + 0x1000, RAM_GPA + 0x2000},		  /* desc misaligned */
	    {RAM_GPA, RAM_GPA + 0x1001, RAM_GPA + 0x2000},		  /* avail misaligned */
	    {RAM_GPA, RAM_GPA + 0x1000, RAM_GPA + 0x2002},		  /* used misaligned */
	    {end - 0x10, RAM_GPA + 0x1000, RAM_GPA + 0x2000},		  /* desc past the end */
	    {RAM_GPA, end - 0x10, RAM_GPA + 0x2000},			  /* avail past the end */
	    {RAM_GPA, RAM_GPA + 0x1000, end - 0x10},			  /* used past the end */
	    {0, RAM_GPA + 0x1000, RAM_GPA + 0x2000},			  /* desc outside */
	    {RAM_GPA, RAM_GPA + 0x1000, 0xfffffffffffff000ULL},		  /* used at the top */
	    {RAM_GPA + (1ULL << 32), RAM_GPA + 0x1000, RAM_GPA + 0x2000}, /* high half */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(nums); i++) {
		assert_true(negotiate(f, LINUX_FEATURES) & VIRTIO_STATUS_FEATURES_OK);
		wr32(f, VIRTIO_MMIO_QUEUE_NUM, nums[i]);
		set_queue_addrs(f, RAM_GPA, RAM_GPA + 0x1000, RAM_GPA + 0x2000);
		wr32(f, VIRTIO_MMIO_QUEUE_READY, 1);
		assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
		assert_true(rd32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(addrs); i++) {
		assert_true(negotiate(f, LINUX_FEATURES) & VIRTIO_STATUS_FEATURES_OK);
		wr32(f, VIRTIO_MMIO_QUEUE_NUM, 16);
		set_queue_addrs(f, addrs[i].desc, addrs[i].avail, addrs[i].used);
		wr32(f, VIRTIO_MMIO_QUEUE_READY, 1);
		assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
		assert_true(rd32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	}
	/* Without DRIVER_OK the driver is not interrupted about it. */
	assert_false(f->irq);
	/* A queue of 1 (too short for a request, but valid) and of 4 are fine. */
	start_num(f, 1);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 1);
	start_num(f, 4);
	expect_device_works(f);
}

/* ---------------------------------------------------------------- backpressure and errors */

static void test_ebusy_resume_on_notify(void **state)
{
	struct fixture *f = *state;
	struct treq r[3];

	start(f);
	f->disk.mode = FAKE_BUSY;
	for (unsigned i = 0; i < 3; i++)
		r[i] = post_io(f, VIRTIO_BLK_T_IN, i, DATA_GPA + i * SECTOR, 1);
	notify(f);
	/* Refused once, and the device stops there rather than skipping ahead. */
	assert_int_equal(f->disk.busy, 1);
	assert_int_equal(f->disk.accepted, 0);
	assert_int_equal(vblk_inflight(f->dev), 0);
	expect_no_used(f);
	assert_int_equal(status_of(f, r[0]), 0xff);
	notify(f);
	assert_int_equal(f->disk.busy, 2);
	f->disk.mode = FAKE_SYNC;
	notify(f);
	for (unsigned i = 0; i < 3; i++)
		expect_used(f, r[i], SECTOR + 1, VIRTIO_BLK_S_OK);
	expect_read_data(f, DATA_GPA, FIRST_SECTOR, 3);
	assert_int_equal(f->disk.accepted, 3);
}

static void test_ebusy_resume_on_completion(void **state)
{
	struct fixture *f = *state;
	struct treq r[5];
	bool seen[5] = {false};
	struct virtq_used_elem e;

	start(f);
	f->disk.mode = FAKE_DEFER;
	f->disk.limit = 2;
	for (unsigned i = 0; i < 5; i++)
		r[i] = post_io(f, VIRTIO_BLK_T_IN, 10 * i, DATA_GPA + i * 0x1000, 2);
	notify(f);
	assert_int_equal(f->disk.npending, 2);
	assert_int_equal(f->disk.busy, 1);
	assert_int_equal(vblk_inflight(f->dev), 2);
	/* Each completion makes room, and the device takes the next request by itself. */
	for (unsigned done = 0; done < 5; done++) {
		fake_complete(&f->disk, 0, BLK_OK);
		assert_int_equal(f->disk.npending, MIN(2u, 4 - done));
	}
	assert_int_equal(f->disk.accepted, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_true(used_pop(f, &e));
		assert_int_equal(e.len, 2 * SECTOR + 1);
		for (unsigned j = 0; j < 5; j++)
			if (e.id == r[j].head)
				seen[j] = true;
	}
	for (unsigned i = 0; i < 5; i++) {
		assert_true(seen[i]);
		assert_int_equal(status_of(f, r[i]), VIRTIO_BLK_S_OK);
		expect_read_data(f, DATA_GPA + i * 0x1000, FIRST_SECTOR + 10 * i, 2);
	}
	expect_no_used(f);
}

/* A backend shared with other VMs frees room without completing anything of ours. */
static void test_ebusy_resume_on_kick(void **state)
{
	struct fixture *f = *state;
	struct treq r;

	start(f);
	f->disk.mode = FAKE_BUSY;
	r = post_io(f, VIRTIO_BLK_T_IN, 7, DATA_GPA, 1);
	notify(f);
	expect_no_used(f);
	f->disk.mode = FAKE_SYNC;
	vblk_kick(f->dev);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
	/* Kicking an idle device does nothing. */
	vblk_kick(f->dev);
	expect_no_used(f);
	assert_int_equal(f->disk.accepted, 1);
}

static void test_backend_errors(void **state)
{
	struct fixture *f = *state;
	struct treq r;

	start(f);
	f->disk.mode = FAKE_IOERR;
	r = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	notify(f);
	expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	/* A backend that rejects a request outright: done is never called. */
	f->disk.mode = FAKE_EINVAL;
	r = post_io(f, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 1);
	notify(f);
	expect_used(f, r, 1, VIRTIO_BLK_S_IOERR);
	assert_int_equal(vblk_inflight(f->dev), 0);
	f->disk.mode = FAKE_DEFER;
	r = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	notify(f);
	fake_complete(&f->disk, 0, BLK_UNSUPPORTED);
	expect_used(f, r, 1, VIRTIO_BLK_S_UNSUPP);
	f->disk.mode = FAKE_SYNC;
	expect_device_works(f);
}

static void test_deferred_out_of_order(void **state)
{
	struct fixture *f = *state;
	struct treq r[3];

	start(f);
	f->disk.mode = FAKE_DEFER;
	for (unsigned i = 0; i < 3; i++)
		r[i] = post_io(f, VIRTIO_BLK_T_IN, i, DATA_GPA + i * SECTOR, 1);
	notify(f);
	assert_int_equal(vblk_inflight(f->dev), 3);
	expect_no_used(f);
	assert_false(f->irq);
	fake_complete(&f->disk, 1, BLK_OK);
	assert_true(f->irq);
	expect_used(f, r[1], SECTOR + 1, VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(f, r[0]), 0xff);
	fake_complete(&f->disk, 1, BLK_IOERR); /* r[2] */
	fake_complete(&f->disk, 0, BLK_OK);    /* r[0] */
	expect_used(f, r[2], 1, VIRTIO_BLK_S_IOERR);
	expect_used(f, r[0], SECTOR + 1, VIRTIO_BLK_S_OK);
	assert_int_equal(vblk_inflight(f->dev), 0);
	assert_int_equal(ack_irq(f), VIRTIO_MMIO_INT_VRING);
	assert_false(f->irq);
}

static void test_interrupts(void **state)
{
	struct fixture *f = *state;
	struct virtq_avail *avail;
	struct treq r;
	unsigned changes;

	start(f);
	assert_false(f->irq);
	assert_int_equal(f->irq_changes, 0);
	post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	post_io(f, VIRTIO_BLK_T_IN, 1, DATA_GPA, 1);
	notify(f);
	/* Two completions, one rising edge. */
	assert_true(f->irq);
	assert_int_equal(f->irq_changes, 1);
	assert_int_equal(rd32(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	/* Acknowledging another bit leaves it. */
	wr32(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	assert_true(f->irq);
	wr32(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_false(f->irq);
	assert_int_equal(rd32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	wr32(f, VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	assert_int_equal(f->irq_changes, 2);
	/* VIRTQ_AVAIL_F_NO_INTERRUPT: the buffer is used, but the driver is not interrupted. */
	avail = gptr(f, f->avail_gpa);
	avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	(void)used_pop(f, &(struct virtq_used_elem){0});
	(void)used_pop(f, &(struct virtq_used_elem){0});
	changes = f->irq_changes;
	r = post_io(f, VIRTIO_BLK_T_IN, 2, DATA_GPA, 1);
	notify(f);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
	assert_false(f->irq);
	assert_int_equal(rd32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(f->irq_changes, changes);
	avail->flags = 0;
	expect_device_works(f);
	assert_true(f->irq);
}

static void test_reset_with_inflight(void **state)
{
	struct fixture *f = *state;
	struct treq r[2];
	struct virtq_used *used;

	start(f);
	f->disk.mode = FAKE_DEFER;
	r[0] = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	r[1] = post_io(f, VIRTIO_BLK_T_IN, 1, DATA_GPA + SECTOR, 1);
	notify(f);
	fake_complete(&f->disk, 1, BLK_OK); /* raise the line before the reset */
	assert_true(f->irq);
	used = gptr(f, f->used_gpa);
	assert_int_equal(used->idx, 1);
	wr32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(f->irq);
	/* The backend still holds one: the VM must not be freed yet. */
	assert_int_equal(vblk_inflight(f->dev), 1);
	*(uint8_t *)gptr(f, r[0].status) = 0xff;
	fake_complete(&f->disk, 0, BLK_OK);
	assert_int_equal(vblk_inflight(f->dev), 0);
	/* Its completion went nowhere: the old rings and status byte are untouched. */
	assert_int_equal(status_of(f, r[0]), 0xff);
	assert_int_equal(used->idx, 1);
	assert_false(f->irq);
	/* The restarted device starts afresh. */
	f->disk.mode = FAKE_SYNC;
	start(f);
	expect_device_works(f);
	expect_no_used(f);
}

static void test_reset_api_and_queue_disable(void **state)
{
	struct fixture *f = *state;
	struct virtq_used *used;

	start(f);
	f->disk.mode = FAKE_DEFER;
	post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	notify(f);
	/* QueueReady = 0 forgets the request as a reset would. */
	wr32(f, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(vblk_inflight(f->dev), 1);
	used = gptr(f, f->used_gpa);
	fake_complete(&f->disk, 0, BLK_OK);
	assert_int_equal(used->idx, 0);
	/* vblk_reset() with a request in flight and the queue stalled on EBUSY. */
	f->disk.mode = FAKE_SYNC;
	start(f);
	f->disk.mode = FAKE_DEFER;
	f->disk.limit = 1;
	post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	post_io(f, VIRTIO_BLK_T_IN, 1, DATA_GPA, 1);
	notify(f);
	assert_int_equal(f->disk.npending, 1);
	vblk_reset(f->dev);
	assert_int_equal(rd32(f, VIRTIO_MMIO_STATUS), 0);
	/* The completion neither touches the old ring nor resubmits the stalled request. */
	fake_complete(&f->disk, 0, BLK_OK);
	assert_int_equal(f->disk.npending, 0);
	assert_int_equal(f->disk.accepted, 2);
	assert_int_equal(used->idx, 0);
	f->disk.mode = FAKE_SYNC;
	f->disk.limit = 0;
	start(f);
	expect_device_works(f);
}

static void test_notify_before_driver_ok(void **state)
{
	struct fixture *f = *state;
	struct treq r;

	assert_true(negotiate(f, LINUX_FEATURES) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, 16);
	r = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	notify(f);
	/* The device must not consume buffers before DRIVER_OK (spec 3.1.2)... */
	expect_no_used(f);
	assert_int_equal(f->disk.calls, 0);
	/* ...and picks them up when it comes. */
	driver_ok(f);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
	/* FAILED stops it. */
	wr32(f, VIRTIO_MMIO_STATUS, rd32(f, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FAILED);
	r = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	notify(f);
	expect_no_used(f);
	/* A notify naming another queue does nothing. */
	start(f);
	r = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	wr32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	expect_no_used(f);
	notify(f);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
}

/* A driver that re-posts chains still in flight cannot grow the table past its bound. */
static void test_inflight_table_bound(void **state)
{
	struct fixture *f = *state;
	struct treq r;
	unsigned total = VBLK_QUEUE_MAX + 10;

	start(f);
	f->disk.mode = FAKE_DEFER;
	r = post_io(f, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1);
	for (unsigned i = 1; i < VBLK_QUEUE_MAX; i++)
		avail_push(f, r.head);
	notify(f);
	assert_int_equal(f->disk.npending, VBLK_QUEUE_MAX);
	for (unsigned i = 0; i < 10; i++)
		avail_push(f, r.head);
	notify(f);
	assert_int_equal(f->disk.npending, VBLK_QUEUE_MAX);
	assert_int_equal(vblk_inflight(f->dev), VBLK_QUEUE_MAX);
	/* Each completion frees a slot that the stalled queue takes at once. */
	fake_complete(&f->disk, 0, BLK_OK);
	assert_int_equal(f->disk.npending, VBLK_QUEUE_MAX);
	assert_int_equal(f->disk.accepted, VBLK_QUEUE_MAX + 1);
	fake_complete_all(&f->disk);
	assert_int_equal(f->disk.accepted, total);
	assert_int_equal(((struct virtq_used *)gptr(f, f->used_gpa))->idx, total);
}

/* The free-running 16-bit indices wrap. */
static void test_index_wraparound(void **state)
{
	struct fixture *f = *state;

	start_num(f, 4);
	for (unsigned i = 0; i < 70000; i++) {
		struct treq r = post_req(f, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);

		if (i % 3 == 0) /* sometimes two at once */
			r = post_req(f, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
		notify(f);
		if (i % 3 == 0)
			assert_true(used_pop(f, &(struct virtq_used_elem){0}));
		expect_used(f, r, 1, VIRTIO_BLK_S_OK);
	}
	assert_int_equal(f->disk.accepted, 70000 + 23334);
}

/* ---------------------------------------------------------------- concurrency */

static struct treq hook_req;

/* Another vCPU posts a request and notifies while this one is inside submit. */
static void notify_from_elsewhere(void *arg)
{
	struct fixture *f = arg;

	hook_req = post_io(f, VIRTIO_BLK_T_IN, 9, DATA_GPA + SECTOR, 1);
	notify(f);
	/* It returned at once, leaving the request to the hart that is feeding the backend. */
	assert_int_equal(f->disk.calls, 1);
}

static void test_notify_during_submit(void **state)
{
	struct fixture *f = *state;
	struct treq r;

	start(f);
	f->disk.hook = notify_from_elsewhere;
	f->disk.hook_arg = f;
	r = post_io(f, VIRTIO_BLK_T_IN, 8, DATA_GPA, 1);
	notify(f);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
	expect_used(f, hook_req, SECTOR + 1, VIRTIO_BLK_S_OK);
	expect_read_data(f, DATA_GPA, FIRST_SECTOR + 8, 2);
	assert_int_equal(f->disk.calls, 2);
	/* The same while the backend is refusing: the hart goes round once more, then stops. */
	f->disk.mode = FAKE_BUSY;
	f->disk.hook = notify_from_elsewhere;
	f->disk.calls = 0;
	r = post_io(f, VIRTIO_BLK_T_IN, 8, DATA_GPA, 1);
	notify(f);
	assert_int_equal(f->disk.calls, 2);
	expect_no_used(f);
	f->disk.mode = FAKE_SYNC;
	vblk_kick(f->dev);
	expect_used(f, r, SECTOR + 1, VIRTIO_BLK_S_OK);
	expect_used(f, hook_req, SECTOR + 1, VIRTIO_BLK_S_OK);
}

struct completer {
	struct fake_disk *disk;
	bool stop;
	unsigned done;
};

static void *completer_main(void *arg)
{
	struct completer *c = arg;

	for (;;) {
		struct blk_request *req = NULL;
		bool stop = __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);

		pthread_mutex_lock(&c->disk->mutex);
		if (c->disk->npending) {
			req = c->disk->pending[0];
			memmove(&c->disk->pending[0], &c->disk->pending[1],
				(c->disk->npending - 1) * sizeof(req));
			c->disk->npending--;
		}
		pthread_mutex_unlock(&c->disk->mutex);
		if (!req && stop)
			break;
		/* Outside the backend's lock: done may submit again (blk.h). */
		if (req) {
			fake_io(c->disk, req);
			req->done(req, BLK_OK);
			c->done++;
		}
	}
	return NULL;
}

/* Completions on another thread while the guest keeps posting. */
static void test_concurrent_completion(void **state)
{
	struct fixture *f = *state;
	enum { SLOTS = 32, ROUNDS = 3000 };
	struct completer c = {.disk = &f->disk};
	bool busy[SLOTS] = {false};
	unsigned posted = 0, finished = 0;
	pthread_t thread;

	start(f);
	f->disk.mode = FAKE_DEFER;
	f->disk.limit = 8;
	assert_int_equal(pthread_create(&thread, NULL, completer_main, &c), 0);
	while (finished < ROUNDS) {
		struct virtq_used_elem e;

		for (unsigned k = 0; k < SLOTS && posted < ROUNDS; k++) {
			if (busy[k])
				continue;
			busy[k] = true;
			/* Slot k always uses descriptors 3k..3k+2. */
			f->next_desc = 3 * k;
			f->nreq = k;
			post_io(f, VIRTIO_BLK_T_IN, (posted * 7) % VM_SECTORS,
				DATA_GPA + k * SECTOR, 1);
			posted++;
		}
		notify(f);
		while (used_pop(f, &e)) {
			unsigned k = e.id / 3;

			assert_true(k < SLOTS && busy[k]);
			assert_int_equal(*(uint8_t *)gptr(f, STATUS_GPA + k), VIRTIO_BLK_S_OK);
			busy[k] = false;
			finished++;
		}
		ack_irq(f);
	}
	__atomic_store_n(&c.stop, true, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	assert_int_equal(c.done, ROUNDS);
	assert_int_equal(vblk_inflight(f->dev), 0);
}

/* ---------------------------------------------------------------- garbage */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible across hosts, unlike rand(). */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_addr(void)
{
	switch (rnd() % 8) {
	case 0:
		return rnd();
	case 1:
		return UINT64_MAX - rnd() % 4096;
	case 2:
		return RAM_GPA + RAM_SIZE - rnd() % 1024;
	case 3:
		return RAM_GPA - rnd() % 1024;
	default:
		return RAM_GPA + 0x4000 + rnd() % (RAM_SIZE - 0x4000);
	}
}

static uint32_t rnd_len(void)
{
	static const uint32_t lens[] = {0, 1, 15, 16, 17, 20, 512, 513, 1024, 4096, 0xffffffff};

	if (rnd() % 4 == 0)
		return (uint32_t)rnd();
	return lens[rnd() % ARRAY_SIZE(lens)];
}

static uint64_t rnd_sector(void)
{
	static const uint64_t s[] = {0,
				     1,
				     VM_SECTORS - 1,
				     VM_SECTORS,
				     VM_SECTORS + 1,
				     UINT64_MAX,
				     UINT64_MAX - FIRST_SECTOR};

	return rnd() % 2 ? rnd() % (VM_SECTORS + 8) : s[rnd() % ARRAY_SIZE(s)];
}

/* A descriptor table of pure garbage, with plausible headers wherever it might point. */
static void garbage_table(struct fixture *f)
{
	static const uint32_t types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
					 VIRTIO_BLK_T_GET_ID, 99};

	for (unsigned i = 0; i < f->num; i++) {
		uint16_t flags = (uint16_t)(rnd() % 8);

		set_desc(f, i, rnd_addr(), rnd_len(), flags,
			 (uint16_t)(rnd() % 8 ? rnd() % f->num : rnd()));
	}
	for (unsigned i = 0; i < 64; i++) {
		uint64_t gpa = ALIGN_DOWN(rnd_addr(), 8);

		if (gpa >= RAM_GPA + 0x4000 && gpa <= RAM_GPA + RAM_SIZE - 16)
			*(struct virtio_blk_req_header *)gptr(f, gpa) =
			    (struct virtio_blk_req_header){.type = types[rnd() % ARRAY_SIZE(types)],
							   .sector = rnd_sector()};
	}
	for (unsigned i = rnd() % 8; i; i--)
		avail_push(f, (uint16_t)(rnd() % 16 ? rnd() % f->num : rnd()));
}

/* One mistake in an otherwise good buffer. */
static void mutate(struct tbuf *b)
{
	switch (rnd() % 4) {
	case 0:
		b->gpa = rnd_addr();
		break;
	case 1:
		b->len = rnd_len();
		break;
	case 2:
		b->flags ^= (uint16_t)(1u << (rnd() % 3));
		break;
	default:
		b->gpa += rnd() % 2048;
		break;
	}
}

/* A Linux-shaped request with random type, sector, sizes and the odd mistake. */
static void garbage_chain(struct fixture *f)
{
	static const uint32_t types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
					 VIRTIO_BLK_T_GET_ID, 99};
	static const uint32_t lens[] = {512, 1024, 4096, 8192, 20, 100};
	unsigned n = 2 + rnd() % MIN(5, f->num - 1);
	uint32_t type = types[rnd() % ARRAY_SIZE(types)];
	uint64_t hdr = HDR_GPA + 16 * (rnd() % 256);
	struct tbuf b[8];

	*(struct virtio_blk_req_header *)gptr(f, hdr) =
	    (struct virtio_blk_req_header){.type = type, .sector = rnd_sector()};
	b[0] = (struct tbuf){hdr, 16, 0};
	for (unsigned i = 1; i + 1 < n; i++)
		b[i] = (struct tbuf){DATA_GPA + rnd() % (RAM_SIZE - 0x20000),
				     lens[rnd() % (rnd() % 4 ? 3 : ARRAY_SIZE(lens))],
				     type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE};
	b[n - 1] = (struct tbuf){STATUS_GPA + rnd() % 256, 1, VIRTQ_DESC_F_WRITE};
	if (rnd() % 3 == 0)
		mutate(&b[rnd() % n]);
	post(f, b, n);
	if (rnd() % 16 == 0) /* a wild `next` somewhere */
		desc_at(f, rnd() % f->num)->next = (uint16_t)rnd();
}

static void garbage_round(struct fixture *f)
{
	if (rnd() % 8 == 0)
		garbage_table(f);
	else
		for (unsigned i = 1 + rnd() % 8; i; i--)
			garbage_chain(f);
	if (rnd() % 64 == 0)
		f->avail_idx += (uint16_t)rnd();
	f->disk.mode = (enum fake_mode)(rnd() % 5);
	f->disk.limit = (unsigned)(rnd() % 4);
	notify(f);
	while (f->disk.npending && rnd() % 4)
		fake_complete(&f->disk, (unsigned)(rnd() % f->disk.npending),
			      (enum blk_status)(rnd() % 3));
	while (used_pop(f, &(struct virtq_used_elem){0}))
		;
	ack_irq(f);
}

static void test_random_garbage(void **state)
{
	struct fixture *f = *state;

	for (uint64_t seed = 1; seed <= 200; seed++) {
		rng_state = seed * 0x9e3779b97f4a7c15ULL;
		start_num(f, 2u << (rnd() % 7));
		for (unsigned round = 0; round < 50; round++) {
			garbage_round(f);
			/* A broken device is reset, as a driver would, with requests still out. */
			if (rd32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
				start_num(f, 2u << (rnd() % 7));
		}
		/* Whatever happened, the backend only ever saw in-range, in-RAM requests. */
		assert_false(f->disk.failed);
		fake_complete_all(&f->disk);
		wr32(f, VIRTIO_MMIO_STATUS, 0);
		assert_int_equal(vblk_inflight(f->dev), 0);
		assert_false(f->irq);
	}
	/* ...and a well-behaved driver still gets its data afterwards. */
	f->disk.mode = FAKE_SYNC;
	f->disk.limit = 0;
	start(f);
	expect_device_works(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity_registers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_widths_lenient, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_features_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_multi_segment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_multi_segment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_any_framing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sector_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsupported_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_chains_ioerr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_headers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_status_needs_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loops_need_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_setup_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ebusy_resume_on_notify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ebusy_resume_on_completion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ebusy_resume_on_kick, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backend_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deferred_out_of_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interrupts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_with_inflight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_api_and_queue_disable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_before_driver_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inflight_table_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_wraparound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_during_submit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_completion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
