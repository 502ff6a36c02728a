// SPDX-License-Identifier: BSD-2-Clause
/*
 * The host's disks: virtio-blk devices on the machine's virtio-mmio slots
 * (QEMU's -device virtio-blk-device), on the virtio driver library
 * (virtio/mmio_drv.c, virtio/virtq_drv.c). One queue per disk, completion
 * by interrupt through the host interrupt controller. A request's buffers
 * are host-physical and go into descriptors as they are. Whatever a device
 * writes back is checked before it is believed: a broken device fails its
 * own requests, never the hypervisor.
 */
#include <vireo/blk.h>
#include <vireo/error.h>
#include <vireo/host_irq.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/platform.h>
#include <vireo/printf.h>
#include <vireo/spinlock.h>
#include <vireo/string.h>
#include <vireo/virtio_drv.h>

#define VIRTIO_BLK_MAX_DISKS  4
#define VIRTIO_BLK_QUEUE_SIZE 256  /* at most; a request takes its segments + 2 */
#define VIRTIO_BLK_QUEUE_MIN  4	   /* a one-segment request needs 3 descriptors */
#define VIRTIO_BLK_BATCH      16   /* completions taken per trip through the lock */
#define VIRTIO_BLK_WARNINGS   8	   /* complaints logged per disk, then silence */
#define VIRTIO_BLK_NO_STATUS  0xff /* in the status byte until the device writes it */

/* Offered features we accept (VERSION_1 is required). */
#define VIRTIO_BLK_FEATURES                                                                        \
	(BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_SEG_MAX) |           \
	 BIT(VIRTIO_BLK_F_FLUSH))

/* What the device reads and writes for a request besides its data, by head descriptor. */
struct virtio_blk_io_mem {
	struct virtio_blk_req_header header;
	uint8_t status;
};

struct virtio_blk {
	struct blk_backend backend;
	struct virtio_drv drv;
	char name[8];
	char what[40];
	unsigned index;
	uint32_t seg_max; /* data segments per request */
	uint32_t blk_size;

	spinlock_t lock; /* everything below */
	bool broken;	 /* reset after misbehaving: every request fails */
	struct virtq_drv q;
	struct virtio_blk_io_mem *io; /* per head descriptor, in memory the device sees */
	uint32_t *expect_len;	      /* per head: bytes the device must report having written */
	unsigned warnings;
};

/* A request checked and translated, before it takes descriptors. */
struct virtio_blk_io {
	uint32_t type;
	unsigned nsegs;
	uint32_t expect_len;
};

struct virtio_blk_done {
	struct blk_request *req;
	enum blk_status status;
};

static struct virtio_blk *disks[VIRTIO_BLK_MAX_DISKS];
static unsigned ndisks;

/* Complaints about what a device did, rate-limited: a broken device must not flood the log. */
static void virtio_blk_warn(struct virtio_blk *d, const char *what, unsigned long val)
{
	if (d->warnings >= VIRTIO_BLK_WARNINGS)
		return;
	d->warnings++;
	log_warn("disk %u: %s (%lu)%s", d->index, what, val,
		 d->warnings == VIRTIO_BLK_WARNINGS ? "; further warnings suppressed" : "");
}

/* ---------------------------------------------------------------- set-up */

static int virtio_blk_alloc_io(struct virtio_blk *d)
{
	size_t n = d->q.size;

	d->io = page_alloc(ALIGN_UP(sizeof(*d->io) * n, PAGE_SIZE) / PAGE_SIZE, PAGE_SIZE);
	d->expect_len = kzalloc(sizeof(*d->expect_len) * n);
	return d->io && d->expect_len ? 0 : -VIREO_ENOMEM;
}

static void virtio_blk_free(struct virtio_blk *d)
{
	if (d->io)
		page_free(d->io, ALIGN_UP(sizeof(*d->io) * d->q.size, PAGE_SIZE) / PAGE_SIZE);
	if (d->expect_len)
		kfree(d->expect_len);
	virtq_drv_free(&d->q);
	d->io = NULL;
	d->expect_len = NULL;
}

/* The fields we use, as one consistent snapshot. */
static int virtio_blk_read_config(struct virtio_blk *d)
{
	struct virtio_blk_config cfg;
	int err =
	    virtio_drv_config_read(&d->drv, 0, &cfg, offsetof(struct virtio_blk_config, topology));

	if (err)
		return err;
	d->backend.capacity = cfg.capacity;
	d->seg_max = BLK_MAX_SEGMENTS;
	if (virtio_drv_has(&d->drv, VIRTIO_BLK_F_SEG_MAX) && cfg.seg_max < d->seg_max)
		d->seg_max = cfg.seg_max ? cfg.seg_max : 1;
	d->blk_size =
	    virtio_drv_has(&d->drv, VIRTIO_BLK_F_BLK_SIZE) ? cfg.blk_size : VIRTIO_BLK_SECTOR_SIZE;
	return 0;
}

static void virtio_blk_irq(void *opaque);

/* The spec's initialization sequence (3.1.1); on failure the device is left reset + FAILED. */
static int virtio_blk_init(struct virtio_blk *d)
{
	int err = virtio_drv_start(&d->drv, VIRTIO_BLK_FEATURES, 0);

	if (!err)
		err = virtio_drv_setup_queue(&d->drv, 0, &d->q, VIRTIO_BLK_QUEUE_SIZE,
					     VIRTIO_BLK_QUEUE_MIN);
	if (!err)
		err = virtio_blk_alloc_io(d);
	if (!err)
		err = virtio_blk_read_config(d);
	if (err) {
		log_warn("%s: not usable: %s", d->what, vireo_strerror(err));
		virtio_drv_fail(&d->drv);
		virtio_blk_free(d);
		return err;
	}
	err = host_irq_register(d->drv.irq, 0, virtio_blk_irq, d);
	if (err) {
		log_warn("%s: not usable: %s", d->what, host_irq_error());
		virtio_drv_fail(&d->drv);
		virtio_blk_free(d);
		return err;
	}
	d->backend.read_only = virtio_drv_has(&d->drv, VIRTIO_BLK_F_RO);
	d->backend.max_segments = d->seg_max;
	virtio_drv_ready(&d->drv);
	return 0;
}

/* ---------------------------------------------------------------- requests */

static int virtio_blk_check_data(const struct virtio_blk *d, const struct blk_request *req,
				 struct virtio_blk_io *io)
{
	uint64_t bytes = 0;

	if (req->nsegs == 0 || req->nsegs > BLK_MAX_SEGMENTS || req->nsegs > d->seg_max ||
	    req->nsegs + 2 > d->q.size)
		return -VIREO_EINVAL;
	for (unsigned i = 0; i < req->nsegs; i++) {
		if (req->segs[i].len == 0)
			return -VIREO_EINVAL;
		bytes += req->segs[i].len;
	}
	/* The used length (data + status byte) must fit in 32 bits. */
	if (bytes % BLK_SECTOR_SIZE || bytes >= UINT32_MAX)
		return -VIREO_EINVAL;
	if (req->sector > d->backend.capacity ||
	    bytes / BLK_SECTOR_SIZE > d->backend.capacity - req->sector)
		return -VIREO_EINVAL;
	io->nsegs = req->nsegs;
	io->expect_len = io->type == VIRTIO_BLK_T_IN ? (uint32_t)bytes + 1 : 1;
	return 0;
}

static int virtio_blk_check(const struct virtio_blk *d, const struct blk_request *req,
			    struct virtio_blk_io *io)
{
	if (!req || !req->done)
		return -VIREO_EINVAL;
	switch (req->op) {
	case BLK_OP_FLUSH:
		*io = (struct virtio_blk_io){VIRTIO_BLK_T_FLUSH, 0, 1};
		return 0;
	case BLK_OP_READ:
		io->type = VIRTIO_BLK_T_IN;
		return virtio_blk_check_data(d, req, io);
	case BLK_OP_WRITE:
		if (d->backend.read_only)
			return -VIREO_EINVAL;
		io->type = VIRTIO_BLK_T_OUT;
		return virtio_blk_check_data(d, req, io);
	}
	return -VIREO_EINVAL;
}

/* header (device-readable), data, status byte (device-writable); the header and the
 * status byte live by head descriptor. Returns the head, or -VIREO_EBUSY. */
static int virtio_blk_queue(struct virtio_blk *d, struct blk_request *req,
			    const struct virtio_blk_io *io)
{
	struct virtq_drv_buf bufs[BLK_MAX_SEGMENTS + 2];
	struct virtio_blk_io_mem *mem;
	int head = virtq_drv_next_head(&d->q);
	unsigned n = 0;

	if (head < 0 || io->nsegs + 2 > virtq_drv_free_count(&d->q))
		return -VIREO_EBUSY;
	mem = &d->io[head];
	mem->header = (struct virtio_blk_req_header){
	    .type = io->type,
	    .sector = io->type == VIRTIO_BLK_T_FLUSH ? 0 : req->sector,
	};
	mem->status = VIRTIO_BLK_NO_STATUS;
	bufs[n++] = (struct virtq_drv_buf){(uintptr_t)&mem->header, sizeof(mem->header), false};
	for (unsigned i = 0; i < io->nsegs; i++)
		bufs[n++] = (struct virtq_drv_buf){req->segs[i].addr, req->segs[i].len,
						   io->type == VIRTIO_BLK_T_IN};
	bufs[n++] = (struct virtq_drv_buf){(uintptr_t)&mem->status, 1, true};
	d->expect_len[head] = io->expect_len;
	return virtq_drv_add(&d->q, bufs, n, req);
}

static int virtio_blk_submit(struct blk_backend *b, struct blk_request *req)
{
	struct virtio_blk *d = b->priv;
	struct virtio_blk_io io;
	bool notify;
	int head, err = virtio_blk_check(d, req, &io);

	if (err)
		return err;
	/* Without VIRTIO_BLK_F_FLUSH the device has no volatile cache: writes are durable. */
	if (io.type == VIRTIO_BLK_T_FLUSH && !virtio_drv_has(&d->drv, VIRTIO_BLK_F_FLUSH)) {
		req->done(req, BLK_OK);
		return 0;
	}
	spin_lock(&d->lock);
	if (d->broken) {
		spin_unlock(&d->lock);
		req->done(req, BLK_IOERR);
		return 0;
	}
	head = virtio_blk_queue(d, req, &io);
	if (head < 0) {
		spin_unlock(&d->lock);
		return head;
	}
	notify = virtq_drv_publish(&d->q, (uint16_t)head);
	spin_unlock(&d->lock);
	/* Outside the lock: a notify is a trap into QEMU. Queue 0 is the only queue. */
	if (notify)
		virtio_drv_notify(&d->drv, 0);
	return 0;
}

/* ---------------------------------------------------------------- completion */

static enum blk_status virtio_blk_status(uint8_t status, bool len_ok)
{
	if (!len_ok)
		return BLK_IOERR; /* data or status not (only) where we put them */
	switch (status) {
	case VIRTIO_BLK_S_OK:
		return BLK_OK;
	case VIRTIO_BLK_S_UNSUPP:
		return BLK_UNSUPPORTED;
	default:
		return BLK_IOERR; /* IOERR, or never written */
	}
}

/* Stop a misbehaving device; its requests fail from now on. Lock held. */
static void virtio_blk_break(struct virtio_blk *d, const char *why)
{
	spin_assert_held(&d->lock);
	if (d->broken)
		return;
	log_error("disk %u: %s; resetting it, its requests fail from now on", d->index, why);
	d->broken = true;
	if (!virtio_drv_reset(&d->drv))
		log_error("disk %u: does not reset; it may still write to memory", d->index);
}

/* Every request still in flight, as failed (broken device). Lock held. */
static unsigned virtio_blk_collect_all(struct virtio_blk *d, struct virtio_blk_done *out,
				       unsigned max)
{
	unsigned n = 0;
	void *req;

	while (n < max && (req = virtq_drv_drain(&d->q)))
		out[n++] = (struct virtio_blk_done){req, BLK_IOERR};
	return n;
}

/* Up to max finished requests off the used ring. Lock held. */
static unsigned virtio_blk_collect(struct virtio_blk *d, struct virtio_blk_done *out, unsigned max)
{
	unsigned n = 0;

	spin_assert_held(&d->lock);
	while (n < max && !d->broken) {
		uint16_t head;
		uint32_t len;
		void *req;

		switch (virtq_drv_get(&d->q, &head, &req, &len)) {
		case VIRTQ_DRV_NONE:
			return n;
		case VIRTQ_DRV_BROKEN:
			virtio_blk_break(d, "used index out of range");
			break;
		case VIRTQ_DRV_BOGUS:
			virtio_blk_warn(d, "used ring names no request", head);
			break;
		case VIRTQ_DRV_USED:
			if (len != d->expect_len[head])
				virtio_blk_warn(d, "used length wrong", len);
			out[n++] = (struct virtio_blk_done){
			    req, virtio_blk_status(d->io[head].status, len == d->expect_len[head])};
			break;
		}
	}
	return d->broken ? n + virtio_blk_collect_all(d, out + n, max - n) : n;
}

/* Hand out completions in batches, calling done() without the lock (it may submit again). */
static void virtio_blk_reap(struct virtio_blk *d)
{
	struct virtio_blk_done batch[VIRTIO_BLK_BATCH];
	unsigned n;

	do {
		spin_lock(&d->lock);
		n = virtio_blk_collect(d, batch, VIRTIO_BLK_BATCH);
		spin_unlock(&d->lock);
		for (unsigned i = 0; i < n; i++)
			batch[i].req->done(batch[i].req, batch[i].status);
	} while (n == VIRTIO_BLK_BATCH);
}

static void virtio_blk_irq(void *opaque)
{
	struct virtio_blk *d = opaque;
	uint32_t isr = virtio_drv_ack_irq(&d->drv);

	if ((isr & VIRTIO_MMIO_INT_CONFIG) && virtio_drv_needs_reset(&d->drv)) {
		spin_lock(&d->lock);
		virtio_blk_break(d, "device needs a reset");
		spin_unlock(&d->lock);
	}
	virtio_blk_reap(d);
}

/* ---------------------------------------------------------------- probe */

static void virtio_blk_log_disk(const struct virtio_blk *d)
{
	uint64_t sectors = d->backend.capacity;
	uint64_t kib = sectors / (KIB / BLK_SECTOR_SIZE);
	bool mib = kib >= KIB;

	log_info("disk %u: virtio-blk at %#lx, %llu sectors (%llu %s), %s", d->index,
		 (unsigned long)d->drv.base, (unsigned long long)sectors,
		 (unsigned long long)(mib ? kib / KIB : kib), mib ? "MiB" : "KiB",
		 d->backend.read_only ? "read-only" : "read-write");
	if (d->blk_size != VIRTIO_BLK_SECTOR_SIZE)
		log_info("disk %u: %u-byte logical blocks", d->index, d->blk_size);
}

static void virtio_blk_probe_slot(const struct platform_mmio *m)
{
	struct virtio_blk *d;

	if (!virtio_drv_probe((uintptr_t)m->base, m->size, VIRTIO_ID_BLOCK))
		return;
	if (ndisks == VIRTIO_BLK_MAX_DISKS) {
		log_warn("virtio-blk at %#lx: more than %u disks; ignored", (unsigned long)m->base,
			 VIRTIO_BLK_MAX_DISKS);
		return;
	}
	d = kzalloc(sizeof(*d));
	if (!d)
		return;
	d->drv = (struct virtio_drv){.base = (uintptr_t)m->base, .irq = m->irq, .what = d->what};
	d->index = ndisks;
	d->lock = (spinlock_t)SPINLOCK_INIT;
	vireo_snprintf(d->name, sizeof(d->name), "disk%u", ndisks);
	vireo_snprintf(d->what, sizeof(d->what), "disk at %#lx", (unsigned long)m->base);
	d->backend = (struct blk_backend){.name = d->name, .submit = virtio_blk_submit, .priv = d};
	if (virtio_blk_init(d) != 0) {
		kfree(d);
		return;
	}
	disks[ndisks++] = d;
	virtio_blk_log_disk(d);
}

void blk_host_probe(const struct platform *plat)
{
	for (unsigned i = 0; i < plat->nvirtio && i < PLATFORM_MAX_VIRTIO; i++)
		if (plat->virtio[i].present)
			virtio_blk_probe_slot(&plat->virtio[i]);
}

unsigned blk_host_count(void)
{
	return ndisks;
}

struct blk_backend *blk_host(unsigned index)
{
	return index < ndisks ? &disks[index]->backend : NULL;
}
