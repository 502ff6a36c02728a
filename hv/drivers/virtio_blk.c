// SPDX-License-Identifier: BSD-2-Clause
/*
 * The host's disks: virtio-blk devices on the machine's virtio-mmio slots
 * (QEMU's -device virtio-blk-device). Modern virtio-mmio (Version 2) only,
 * one split virtqueue per disk, completion by interrupt through the host
 * PLIC. A request's buffers are host-physical and go into descriptors as
 * they are. Whatever a device writes back is checked before it is believed:
 * a broken device fails its own requests, never the hypervisor.
 */
#include <vireo/blk.h>
#include <vireo/host_irq.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/printf.h>
#include <vireo/spinlock.h>
#include <vireo/platform.h>
#include <vireo/virtio.h>

#define VIRTIO_BLK_MAX_DISKS  4
#define VIRTIO_BLK_QUEUE_SIZE 256 /* at most; a request takes its segments + 2 */
#define VIRTIO_BLK_QUEUE_MIN  4	  /* a one-segment request needs 3 descriptors */
#define VIRTIO_BLK_MMIO_MIN   0x200
#define VIRTIO_BLK_POLLS      100000 /* register reads before a device counts as dead */
#define VIRTIO_BLK_BATCH      16     /* completions taken per trip through the lock */
#define VIRTIO_BLK_WARNINGS   8	     /* complaints logged per disk, then silence */
#define VIRTIO_BLK_NO_STATUS  0xff   /* in the status byte until the device writes it */

/* Offered features we accept (VERSION_1 is required). */
#define VIRTIO_BLK_FEATURES                                                                        \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_BLK_SIZE) |             \
	 BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_FLUSH))

/* What a request in flight needs at completion; indexed by its head descriptor. */
struct virtio_blk_slot {
	struct blk_request *req; /* NULL: no request starts here */
	uint32_t expect_len;	 /* bytes the device must report having written */
	uint16_t ndesc;
};

struct virtio_blk {
	struct blk_backend backend;
	char name[8];
	unsigned index;
	uintptr_t base;
	unsigned irq;
	uint64_t features; /* negotiated */
	uint32_t seg_max;  /* data segments per request */
	uint32_t blk_size;

	spinlock_t lock; /* everything below */
	bool broken;	 /* reset after misbehaving: every request fails */
	uint16_t qsize;
	void *dma; /* the pages the device sees: rings, headers, status bytes */
	size_t dma_pages;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	struct virtio_blk_req_header *headers; /* per head descriptor */
	uint8_t *status;		       /* per head descriptor */
	uint16_t *next; /* our own copy of the chains' links, and the free list */
	struct virtio_blk_slot *slots;
	uint16_t free_head, nfree;
	uint16_t avail_idx, last_used;
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

/* ---------------------------------------------------------------- access */

/* Orders ring memory against the device's registers too (fence rw,rw would not). */
static inline void virtio_blk_mb(void)
{
#ifdef __riscv
	__asm__ volatile("fence iorw, iorw" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static uint32_t virtio_blk_rd(const struct virtio_blk *d, unsigned off)
{
	return *(volatile uint32_t *)(d->base + off);
}

static void virtio_blk_wr(const struct virtio_blk *d, unsigned off, uint32_t val)
{
	*(volatile uint32_t *)(d->base + off) = val;
}

/* A 64-bit register pair (QueueDescLow/High and the like). */
static void virtio_blk_wr64(const struct virtio_blk *d, unsigned off_low, uint64_t val)
{
	virtio_blk_wr(d, off_low, (uint32_t)val);
	virtio_blk_wr(d, off_low + 4, (uint32_t)(val >> 32));
}

static void virtio_blk_set_status(const struct virtio_blk *d, uint32_t bits)
{
	virtio_blk_wr(d, VIRTIO_MMIO_STATUS, virtio_blk_rd(d, VIRTIO_MMIO_STATUS) | bits);
}

/* Reset, and wait until the device says it is done: only then has it let go of the rings. */
static bool virtio_blk_reset(const struct virtio_blk *d)
{
	virtio_blk_wr(d, VIRTIO_MMIO_STATUS, 0);
	for (unsigned i = 0; i < VIRTIO_BLK_POLLS; i++)
		if (virtio_blk_rd(d, VIRTIO_MMIO_STATUS) == 0)
			return true;
	return false;
}

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

static int virtio_blk_negotiate(struct virtio_blk *d)
{
	uint64_t offered;

	virtio_blk_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered = virtio_blk_rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	virtio_blk_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)virtio_blk_rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	if (!(offered & BIT(VIRTIO_F_VERSION_1))) {
		log_warn("disk at %#lx: no VIRTIO_F_VERSION_1", (unsigned long)d->base);
		return -VIREO_EINVAL;
	}
	d->features = offered & VIRTIO_BLK_FEATURES;
	virtio_blk_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	virtio_blk_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)d->features);
	virtio_blk_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	virtio_blk_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	virtio_blk_set_status(d, VIRTIO_STATUS_FEATURES_OK);
	/* The device clears FEATURES_OK when it cannot live with our subset. */
	if (!(virtio_blk_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
		log_warn("disk at %#lx: features %#llx refused", (unsigned long)d->base,
			 (unsigned long long)d->features);
		return -VIREO_EINVAL;
	}
	return 0;
}

/* One page run for everything the device reads or writes; the bookkeeping stays private. */
static int virtio_blk_alloc_queue(struct virtio_blk *d, unsigned qsize)
{
	size_t avail_off = virtq_desc_bytes(qsize);
	size_t used_off = ALIGN_UP(avail_off + virtq_avail_bytes(qsize), VIRTQ_USED_ALIGN);
	size_t hdr_off = ALIGN_UP(used_off + virtq_used_bytes(qsize), 16);
	size_t status_off = hdr_off + sizeof(struct virtio_blk_req_header) * qsize;
	char *dma;

	d->dma_pages = ALIGN_UP(status_off + qsize, PAGE_SIZE) / PAGE_SIZE;
	dma = page_alloc(d->dma_pages, PAGE_SIZE);
	d->next = kzalloc(sizeof(*d->next) * qsize);
	d->slots = kzalloc(sizeof(*d->slots) * qsize);
	if (!dma || !d->next || !d->slots)
		return -VIREO_ENOMEM;
	d->dma = dma;
	d->qsize = (uint16_t)qsize;
	d->desc = (struct virtq_desc *)dma;
	d->avail = (struct virtq_avail *)(dma + avail_off);
	d->used = (struct virtq_used *)(dma + used_off);
	d->headers = (struct virtio_blk_req_header *)(dma + hdr_off);
	d->status = (uint8_t *)(dma + status_off);
	/* Every descriptor starts on the free list, in order. */
	for (unsigned i = 0; i + 1 < qsize; i++)
		d->next[i] = (uint16_t)(i + 1);
	d->free_head = 0;
	d->nfree = (uint16_t)qsize;
	return 0;
}

static void virtio_blk_free_queue(struct virtio_blk *d)
{
	if (d->dma)
		page_free(d->dma, d->dma_pages);
	if (d->next)
		kfree(d->next);
	if (d->slots)
		kfree(d->slots);
	d->dma = NULL;
	d->next = NULL;
	d->slots = NULL;
}

static int virtio_blk_setup_queue(struct virtio_blk *d)
{
	uint32_t max;
	unsigned qsize = VIRTIO_BLK_QUEUE_SIZE;
	int err;

	virtio_blk_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	max = virtio_blk_rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (virtio_blk_rd(d, VIRTIO_MMIO_QUEUE_READY) || max < VIRTIO_BLK_QUEUE_MIN) {
		log_warn("disk at %#lx: queue 0 unusable (QueueNumMax %u)", (unsigned long)d->base,
			 max);
		return -VIREO_EINVAL;
	}
	/* Split queues are a power of two long. */
	while (qsize > max)
		qsize >>= 1;
	err = virtio_blk_alloc_queue(d, qsize);
	if (err)
		return err;
	virtio_blk_wr(d, VIRTIO_MMIO_QUEUE_NUM, qsize);
	virtio_blk_wr64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uintptr_t)d->desc);
	virtio_blk_wr64(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uintptr_t)d->avail);
	virtio_blk_wr64(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uintptr_t)d->used);
	virtio_blk_mb();
	virtio_blk_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

static uint32_t virtio_blk_config32(const struct virtio_blk *d, size_t off)
{
	return virtio_blk_rd(d, VIRTIO_MMIO_CONFIG + (unsigned)off);
}

/* The fields we use, as one consistent snapshot (ConfigGeneration unchanged around it). */
static int virtio_blk_read_config(struct virtio_blk *d)
{
	const size_t cap = offsetof(struct virtio_blk_config, capacity);

	for (unsigned tries = 0; tries < 100; tries++) {
		uint32_t gen = virtio_blk_rd(d, VIRTIO_MMIO_CONFIG_GENERATION);
		uint64_t capacity =
		    virtio_blk_config32(d, cap) | (uint64_t)virtio_blk_config32(d, cap + 4) << 32;
		uint32_t seg_max =
		    virtio_blk_config32(d, offsetof(struct virtio_blk_config, seg_max));
		uint32_t blk_size =
		    virtio_blk_config32(d, offsetof(struct virtio_blk_config, blk_size));
		if (virtio_blk_rd(d, VIRTIO_MMIO_CONFIG_GENERATION) != gen)
			continue;
		d->backend.capacity = capacity;
		d->seg_max = BLK_MAX_SEGMENTS;
		if ((d->features & BIT(VIRTIO_BLK_F_SEG_MAX)) && seg_max < d->seg_max)
			d->seg_max = seg_max ? seg_max : 1;
		d->blk_size =
		    (d->features & BIT(VIRTIO_BLK_F_BLK_SIZE)) ? blk_size : VIRTIO_BLK_SECTOR_SIZE;
		return 0;
	}
	log_warn("disk at %#lx: configuration never stable", (unsigned long)d->base);
	return -VIREO_EIO;
}

static void virtio_blk_irq(void *opaque);

/* The spec's initialization sequence (3.1.1); on failure the device is left reset + FAILED. */
static int virtio_blk_init(struct virtio_blk *d)
{
	int err = -VIREO_EIO;

	if (!virtio_blk_reset(d)) {
		log_warn("disk at %#lx: does not reset", (unsigned long)d->base);
		goto fail;
	}
	virtio_blk_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_blk_set_status(d, VIRTIO_STATUS_DRIVER);
	err = virtio_blk_negotiate(d);
	if (!err)
		err = virtio_blk_setup_queue(d);
	if (!err)
		err = virtio_blk_read_config(d);
	if (!err)
		err = host_irq_register(d->irq, 0, virtio_blk_irq, d);
	if (err)
		goto fail;
	d->backend.read_only = (d->features & BIT(VIRTIO_BLK_F_RO)) != 0;
	d->backend.max_segments = d->seg_max;
	virtio_blk_set_status(d, VIRTIO_STATUS_DRIVER_OK);
	return 0;
fail:
	log_warn("disk at %#lx: not usable (error %d)", (unsigned long)d->base, err);
	virtio_blk_reset(d);
	virtio_blk_free_queue(d);
	virtio_blk_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
	return err;
}

/* ---------------------------------------------------------------- requests */

static int virtio_blk_check_data(const struct virtio_blk *d, const struct blk_request *req,
				 struct virtio_blk_io *io)
{
	uint64_t bytes = 0;

	if (req->nsegs == 0 || req->nsegs > BLK_MAX_SEGMENTS || req->nsegs > d->seg_max ||
	    req->nsegs + 2 > d->qsize)
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

static uint16_t virtio_blk_take_desc(struct virtio_blk *d)
{
	uint16_t i = d->free_head;

	d->free_head = d->next[i];
	d->nfree--;
	return i;
}

static void virtio_blk_set_desc(struct virtio_blk *d, uint16_t i, uint64_t addr, uint32_t len,
				uint16_t flags)
{
	d->desc[i] = (struct virtq_desc){.addr = addr, .len = len, .flags = flags, .next = 0};
}

/* Take a descriptor and link it after `prev` (in the ring and in our copy). */
static uint16_t virtio_blk_append(struct virtio_blk *d, uint16_t prev, uint64_t addr, uint32_t len,
				  uint16_t flags)
{
	uint16_t i = virtio_blk_take_desc(d);

	d->desc[prev].flags |= VIRTQ_DESC_F_NEXT;
	d->desc[prev].next = i;
	d->next[prev] = i;
	virtio_blk_set_desc(d, i, addr, len, flags);
	return i;
}

/* header (device-readable), data, status byte (device-writable); returns the head. */
static uint16_t virtio_blk_build_chain(struct virtio_blk *d, struct blk_request *req,
				       const struct virtio_blk_io *io)
{
	uint16_t head = virtio_blk_take_desc(d);
	uint16_t cur = head;
	uint16_t data_flags = io->type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;

	d->headers[head] = (struct virtio_blk_req_header){
	    .type = io->type,
	    .sector = io->type == VIRTIO_BLK_T_FLUSH ? 0 : req->sector,
	};
	d->status[head] = VIRTIO_BLK_NO_STATUS;
	virtio_blk_set_desc(d, head, (uintptr_t)&d->headers[head], sizeof(d->headers[head]), 0);
	for (unsigned i = 0; i < io->nsegs; i++)
		cur = virtio_blk_append(d, cur, req->segs[i].addr, req->segs[i].len, data_flags);
	virtio_blk_append(d, cur, (uintptr_t)&d->status[head], 1, VIRTQ_DESC_F_WRITE);
	d->slots[head] = (struct virtio_blk_slot){req, io->expect_len, (uint16_t)(io->nsegs + 2)};
	return head;
}

/* Offer the chain to the device; true when it wants to be notified. */
static bool virtio_blk_publish(struct virtio_blk *d, uint16_t head)
{
	d->avail->ring[d->avail_idx & (d->qsize - 1)] = head;
	virtio_blk_mb(); /* the chain and its ring entry before the index that exposes them */
	d->avail_idx++;
	__atomic_store_n(&d->avail->idx, d->avail_idx, __ATOMIC_RELAXED);
	virtio_blk_mb(); /* the new index before the device's flags, and before the notify */
	return !(__atomic_load_n(&d->used->flags, __ATOMIC_RELAXED) & VIRTQ_USED_F_NO_NOTIFY);
}

static int virtio_blk_submit(struct blk_backend *b, struct blk_request *req)
{
	struct virtio_blk *d = b->priv;
	struct virtio_blk_io io;
	bool notify;
	int err = virtio_blk_check(d, req, &io);

	if (err)
		return err;
	/* Without VIRTIO_BLK_F_FLUSH the device has no volatile cache: writes are durable. */
	if (io.type == VIRTIO_BLK_T_FLUSH && !(d->features & BIT(VIRTIO_BLK_F_FLUSH))) {
		req->done(req, BLK_OK);
		return 0;
	}
	spin_lock(&d->lock);
	if (d->broken) {
		spin_unlock(&d->lock);
		req->done(req, BLK_IOERR);
		return 0;
	}
	if (io.nsegs + 2 > d->nfree) {
		spin_unlock(&d->lock);
		return -VIREO_EBUSY;
	}
	notify = virtio_blk_publish(d, virtio_blk_build_chain(d, req, &io));
	spin_unlock(&d->lock);
	/* Outside the lock: a notify is a trap into QEMU. Queue 0 is the only queue. */
	if (notify)
		virtio_blk_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	return 0;
}

/* ---------------------------------------------------------------- completion */

/* Give a finished chain's descriptors back, following our own links, not the device's. */
static void virtio_blk_release(struct virtio_blk *d, uint16_t head)
{
	uint16_t last = head;

	for (unsigned i = 1; i < d->slots[head].ndesc; i++)
		last = d->next[last];
	d->next[last] = d->free_head;
	d->free_head = head;
	d->nfree += d->slots[head].ndesc;
	d->slots[head] = (struct virtio_blk_slot){0};
}

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

/* One used-ring entry; false when it names no request of ours (then it is ignored). */
static bool virtio_blk_finish(struct virtio_blk *d, uint32_t id, uint32_t len,
			      struct virtio_blk_done *out)
{
	struct virtio_blk_slot *slot;

	if (id >= d->qsize || !d->slots[id].req) {
		virtio_blk_warn(d, "used ring names no request", id);
		return false;
	}
	slot = &d->slots[id];
	if (len != slot->expect_len)
		virtio_blk_warn(d, "used length wrong", len);
	out->req = slot->req;
	out->status = virtio_blk_status(d->status[id], len == slot->expect_len);
	virtio_blk_release(d, (uint16_t)id);
	return true;
}

/* Stop a misbehaving device; its requests fail from now on. Lock held. */
static void virtio_blk_break(struct virtio_blk *d, const char *why)
{
	if (d->broken)
		return;
	log_error("disk %u: %s; resetting it, its requests fail from now on", d->index, why);
	d->broken = true;
	if (!virtio_blk_reset(d))
		log_error("disk %u: does not reset; it may still write to memory", d->index);
}

/* Every request still in flight, as failed (broken device). Lock held. */
static unsigned virtio_blk_collect_all(struct virtio_blk *d, struct virtio_blk_done *out,
				       unsigned max)
{
	unsigned n = 0;

	for (uint16_t id = 0; id < d->qsize && n < max; id++) {
		if (!d->slots[id].req)
			continue;
		out[n++] = (struct virtio_blk_done){d->slots[id].req, BLK_IOERR};
		virtio_blk_release(d, id);
	}
	return n;
}

/* Up to max finished requests off the used ring. Lock held. */
static unsigned virtio_blk_collect(struct virtio_blk *d, struct virtio_blk_done *out, unsigned max)
{
	uint16_t used_idx;
	unsigned n = 0;

	if (d->broken)
		return virtio_blk_collect_all(d, out, max);
	used_idx = __atomic_load_n(&d->used->idx, __ATOMIC_RELAXED);
	virtio_blk_mb(); /* the index before the entries and status bytes it covers */
	if ((uint16_t)(used_idx - d->last_used) > d->qsize) {
		virtio_blk_break(d, "used index out of range");
		return virtio_blk_collect_all(d, out, max);
	}
	while (n < max && d->last_used != used_idx) {
		volatile struct virtq_used_elem *e = &d->used->ring[d->last_used & (d->qsize - 1)];
		uint32_t id = e->id, len = e->len;
		d->last_used++;
		if (virtio_blk_finish(d, id, len, &out[n]))
			n++;
	}
	return n;
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
	uint32_t isr = virtio_blk_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	/* Acknowledge first: a completion after this raises the line again. */
	virtio_blk_wr(d, VIRTIO_MMIO_INTERRUPT_ACK,
		      isr & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG));
	virtio_blk_mb();
	if ((isr & VIRTIO_MMIO_INT_CONFIG) &&
	    (virtio_blk_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
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
		 (unsigned long)d->base, (unsigned long long)sectors,
		 (unsigned long long)(mib ? kib / KIB : kib), mib ? "MiB" : "KiB",
		 d->backend.read_only ? "read-only" : "read-write");
	if (d->blk_size != VIRTIO_BLK_SECTOR_SIZE)
		log_info("disk %u: %u-byte logical blocks", d->index, d->blk_size);
}

/* A register of a slot we have no struct for yet. */
static uint32_t virtio_blk_peek(const struct platform_mmio *m, unsigned off)
{
	return *(volatile uint32_t *)(uintptr_t)(m->base + off);
}

static void virtio_blk_probe_slot(const struct platform_mmio *m)
{
	struct virtio_blk *d;
	uint32_t version;

	if (m->size < VIRTIO_BLK_MMIO_MIN ||
	    virtio_blk_peek(m, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
	    virtio_blk_peek(m, VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_BLOCK)
		return; /* an empty slot (device ID 0) or another kind of device */
	version = virtio_blk_peek(m, VIRTIO_MMIO_VERSION);
	if (version != VIRTIO_MMIO_VERSION_MODERN) {
		log_warn("virtio-blk at %#lx: virtio-mmio version %u; only the modern interface "
			 "(2) is supported (QEMU: -global virtio-mmio.force-legacy=false)",
			 (unsigned long)m->base, version);
		return;
	}
	if (ndisks == VIRTIO_BLK_MAX_DISKS) {
		log_warn("virtio-blk at %#lx: more than %u disks; ignored", (unsigned long)m->base,
			 VIRTIO_BLK_MAX_DISKS);
		return;
	}
	d = kzalloc(sizeof(*d));
	if (!d)
		return;
	d->base = (uintptr_t)m->base;
	d->irq = m->irq;
	d->index = ndisks;
	d->lock = (spinlock_t)SPINLOCK_INIT;
	vireo_snprintf(d->name, sizeof(d->name), "disk%u", ndisks);
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
