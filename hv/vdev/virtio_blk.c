// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest's virtio-mmio block device: transport registers, split-queue
 * walking and request parsing, and the hand-off to a blk_backend. Pure
 * logic over a guest RAM window, so it is unit-tested and fuzzed on the host.
 *
 * Chains are parsed framing-independently (virtio 1.2, 2.6.4): the header is
 * the first 16 device-readable bytes, the status byte the last
 * device-writable byte, and the data whatever lies between, however the
 * driver cut it into descriptors. Linux uses one descriptor each for header
 * and status, which is the fast path of the same code.
 */
#include <vireo/string.h>
#include <vireo/vblk.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio fields are read natively");

#define VBLK_FEATURE(bit) (UINT64_C(1) << (bit))

/* Status bits the driver may set; DEVICE_NEEDS_RESET is the device's. */
#define VBLK_DRIVER_STATUS                                                                         \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |              \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED)

/* What vblk_parse decided about a chain. */
enum vblk_verdict {
	VBLK_SUBMIT, /* the slot holds a request for the backend */
	VBLK_DONE,   /* answered already (an error, GET_ID, an empty transfer) */
	VBLK_BROKEN, /* no usable status byte: the device needs a reset */
};

static void vblk_done(struct blk_request *req, enum blk_status status);

/* ---------------------------------------------------------------- guest memory */

/* [gpa, gpa + len) lies inside guest RAM; no arithmetic here can overflow. */
static bool vblk_gpa_ok(const struct vblk *d, uint64_t gpa, uint64_t len)
{
	uint64_t off = gpa - d->mem.gpa_base;

	return gpa >= d->mem.gpa_base && len <= d->mem.size && off <= d->mem.size - len;
}

static uint8_t *vblk_host(const struct vblk *d, uint64_t gpa)
{
	return d->mem.host + (gpa - d->mem.gpa_base);
}

/* The guest may rewrite a descriptor at any time: read it once, field by field. */
static void vblk_read_desc(const struct vblk_queue *q, unsigned i, struct virtq_desc *out)
{
	const struct virtq_desc *d = &q->desc[i];

	out->addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
	out->len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	out->flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
	out->next = __atomic_load_n(&d->next, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- interrupts */

/* With the lock held; drives the line only when its level changes. */
static void vblk_update_irq(struct vblk *d)
{
	bool level = d->isr != 0;

	if (level == d->irq_level)
		return;
	d->irq_level = level;
	irq_line_set(&d->irq, level);
}

/* Spec 2.1.2: stop using the queue, and tell a running driver through a config interrupt. */
static void vblk_needs_reset(struct vblk *d)
{
	d->q.broken = true;
	d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (d->status & VIRTIO_STATUS_DRIVER_OK) {
		d->isr |= VIRTIO_MMIO_INT_CONFIG;
		vblk_update_irq(d);
	}
}

/* Hand a chain back through the used ring, then interrupt unless the driver asked not to. */
static void vblk_complete(struct vblk *d, uint16_t head, uint8_t *status, uint8_t st, uint32_t len)
{
	struct vblk_queue *q = &d->q;
	struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->num - 1)];

	__atomic_store_n(status, st, __ATOMIC_RELAXED);
	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	q->used_idx++;
	/* The status byte and the element are visible before the index that publishes them. */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	/* The flag is read after the index is written, or a driver re-enabling could be missed. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT)
		return;
	d->isr |= VIRTIO_MMIO_INT_VRING;
	vblk_update_irq(d);
}

/* ---------------------------------------------------------------- in-flight table */

static struct vblk_slot *vblk_slot_alloc(struct vblk *d)
{
	for (unsigned i = 0; i < VBLK_QUEUE_MAX; i++) {
		struct vblk_slot *s = &d->slots[i];

		if (!s->busy) {
			s->busy = true;
			s->gen = d->gen;
			d->inflight++;
			return s;
		}
	}
	return NULL;
}

static void vblk_slot_free(struct vblk *d, struct vblk_slot *s)
{
	s->busy = false;
	d->inflight--;
}

/* ---------------------------------------------------------------- chain walking */

/* Record one descriptor's buffer; anything wrong with it makes the request bad. */
static void vblk_chain_add(struct vblk *d, struct vblk_chain *c, const struct virtq_desc *desc)
{
	bool write = desc->flags & VIRTQ_DESC_F_WRITE;

	/* INDIRECT is not offered, so such a descriptor is a driver error. */
	if (desc->flags & VIRTQ_DESC_F_INDIRECT) {
		c->bad = true;
		return;
	}
	/* An empty buffer touches nothing, so where it points does not matter. */
	if (!desc->len)
		return;
	/* Spec 2.7.4: device-writable buffers come after all device-readable ones. */
	if (!vblk_gpa_ok(d, desc->addr, desc->len) || (!write && c->n > c->nread) ||
	    c->n == VBLK_CHAIN_MAX) {
		c->bad = true;
		return;
	}
	c->bufs[c->n++] = (struct vblk_buf){vblk_host(d, desc->addr), desc->len, write};
	if (!write)
		c->nread = c->n;
}

/* The status byte: the last byte of the last descriptor, if that is a writable buffer in RAM. */
static uint8_t *vblk_status_byte(const struct vblk *d, const struct virtq_desc *last)
{
	if ((last->flags & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT)) != VIRTQ_DESC_F_WRITE ||
	    !last->len || !vblk_gpa_ok(d, last->addr, last->len))
		return NULL;
	return vblk_host(d, last->addr + last->len - 1);
}

/*
 * Copy the chain starting at head into c. False when it has no end within
 * the queue (a loop, or an index past it) or no usable status byte: then
 * there is nowhere to report an error.
 */
static bool vblk_walk(struct vblk *d, uint16_t head, struct vblk_chain *c)
{
	const struct vblk_queue *q = &d->q;
	struct virtq_desc desc;
	unsigned i = head;

	c->n = 0;
	c->nread = 0;
	c->bad = false;
	/* A chain visits each descriptor at most once, so more than num steps is a loop. */
	for (unsigned steps = 0;; steps++) {
		if (i >= q->num || steps == q->num)
			return false;
		vblk_read_desc(q, i, &desc);
		vblk_chain_add(d, c, &desc);
		if (!(desc.flags & VIRTQ_DESC_F_NEXT))
			break;
		i = desc.next;
	}
	c->status = vblk_status_byte(d, &desc);
	return c->status != NULL;
}

/* Total bytes of bufs[first..end). */
static uint64_t vblk_chain_bytes(const struct vblk_chain *c, unsigned first, unsigned end)
{
	uint64_t n = 0;

	for (unsigned i = first; i < end; i++)
		n += c->bufs[i].len;
	return n;
}

/*
 * Segments for the bytes [skip, skip + len) of the stream formed by
 * bufs[first..end). False if they need more than BLK_MAX_SEGMENTS.
 */
static bool vblk_chain_segments(const struct vblk_chain *c, unsigned first, unsigned end,
				uint64_t skip, uint64_t len, struct blk_request *req)
{
	req->nsegs = 0;
	for (unsigned i = first; i < end && len; i++) {
		uint64_t n = c->bufs[i].len;

		if (skip >= n) {
			skip -= n;
			continue;
		}
		n = MIN(n - skip, len);
		if (req->nsegs == BLK_MAX_SEGMENTS)
			return false;
		req->segs[req->nsegs].addr = (uintptr_t)(c->bufs[i].host + skip);
		req->segs[req->nsegs].len = (uint32_t)n;
		req->nsegs++;
		len -= n;
		skip = 0;
	}
	return true;
}

/* Copy between a flat buffer and segments (the header in, the GET_ID answer out). */
static void vblk_copy_segments(const struct blk_request *req, uint8_t *buf, bool to_guest)
{
	for (unsigned i = 0; i < req->nsegs; i++) {
		void *guest = (void *)req->segs[i].addr;

		if (to_guest)
			memcpy(guest, buf, req->segs[i].len);
		else
			memcpy(buf, guest, req->segs[i].len);
		buf += req->segs[i].len;
	}
}

/* ---------------------------------------------------------------- request parsing */

static uint8_t vblk_virtio_status(enum blk_status st)
{
	switch (st) {
	case BLK_OK:
		return VIRTIO_BLK_S_OK;
	case BLK_UNSUPPORTED:
		return VIRTIO_BLK_S_UNSUPP;
	default:
		return VIRTIO_BLK_S_IOERR;
	}
}

/* Answer now, without the backend. */
static enum vblk_verdict vblk_answer(struct vblk *d, struct vblk_slot *s, uint8_t st, uint32_t len)
{
	vblk_complete(d, s->head, s->status, st, len);
	return VBLK_DONE;
}

/* GET_ID: the serial, zero-padded to 20 bytes, cut to the guest's buffer. */
static enum vblk_verdict vblk_get_id(struct vblk *d, struct vblk_slot *s, uint64_t in,
				     uint64_t room)
{
	const struct vblk_chain *c = &d->chain;
	uint64_t n = MIN(room, VIRTIO_BLK_ID_BYTES);

	/* Like a read, it has nothing for the device to read past the header. */
	if (in != sizeof(struct virtio_blk_req_header))
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
	vblk_chain_segments(c, c->nread, c->n, 0, n, &s->req);
	vblk_copy_segments(&s->req, (uint8_t *)d->serial, true);
	return vblk_answer(d, s, VIRTIO_BLK_S_OK, (uint32_t)n + 1);
}

/*
 * IN and OUT: the data is `bytes` bytes from `skip` into the readable part
 * (a write) or the writable part (a read). Length, disk range and read-only
 * are checked before anything moves.
 */
static enum vblk_verdict vblk_rw(struct vblk *d, struct vblk_slot *s, uint64_t sector, bool write,
				 uint64_t skip, uint64_t bytes)
{
	const struct vblk_chain *c = &d->chain;
	uint64_t count = bytes / BLK_SECTOR_SIZE;
	unsigned first = write ? 0 : c->nread, end = write ? c->nread : c->n;

	if (bytes % BLK_SECTOR_SIZE || sector > d->nsectors || count > d->nsectors - sector ||
	    (write && d->read_only))
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
	if (!count)
		return vblk_answer(d, s, VIRTIO_BLK_S_OK, 1);
	if (!vblk_chain_segments(c, first, end, skip, bytes, &s->req))
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
	s->req.op = write ? BLK_OP_WRITE : BLK_OP_READ;
	s->req.sector = d->first_sector + sector;
	/* The used-ring len is 32 bits; a bigger read is possible with 64 segments. */
	s->written = write ? 1 : (uint32_t)MIN(bytes + 1, UINT32_MAX);
	return VBLK_SUBMIT;
}

/* Read the header (the first 16 readable bytes) and dispatch on the request type. */
static enum vblk_verdict vblk_dispatch(struct vblk *d, struct vblk_slot *s)
{
	const struct vblk_chain *c = &d->chain;
	struct virtio_blk_req_header hdr;
	uint64_t in, out;

	if (c->bad)
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
	in = vblk_chain_bytes(c, 0, c->nread);
	/* Writable bytes besides the status byte: a good chain's last buffer holds it. */
	out = vblk_chain_bytes(c, c->nread, c->n) - 1;
	if (in < sizeof(hdr))
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
	vblk_chain_segments(c, 0, c->nread, 0, sizeof(hdr), &s->req);
	vblk_copy_segments(&s->req, (uint8_t *)&hdr, false);
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		/* Data the device would have to read makes no sense in a read. */
		if (in != sizeof(hdr))
			return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
		return vblk_rw(d, s, hdr.sector, false, 0, out);
	case VIRTIO_BLK_T_OUT:
		if (out)
			return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
		return vblk_rw(d, s, hdr.sector, true, sizeof(hdr), in - sizeof(hdr));
	case VIRTIO_BLK_T_FLUSH:
		/* Drivers SHOULD NOT send data with a flush; if they do, it is ignored. */
		s->req.op = BLK_OP_FLUSH;
		s->req.sector = d->first_sector;
		s->req.nsegs = 0;
		s->written = 1;
		return VBLK_SUBMIT;
	case VIRTIO_BLK_T_GET_ID:
		return vblk_get_id(d, s, in, out);
	default:
		return vblk_answer(d, s, VIRTIO_BLK_S_UNSUPP, 1);
	}
}

static enum vblk_verdict vblk_parse(struct vblk *d, uint16_t head, struct vblk_slot *s)
{
	if (!vblk_walk(d, head, &d->chain))
		return VBLK_BROKEN;
	s->head = head;
	s->status = d->chain.status;
	return vblk_dispatch(d, s);
}

/* ---------------------------------------------------------------- queue processing */

static bool vblk_queue_live(const struct vblk *d)
{
	return d->q.ready && !d->q.broken && (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & VIRTIO_STATUS_FAILED);
}

/*
 * With the lock held: the next request for the backend, in a slot, or NULL.
 * Requests answerable without the backend are completed on the way. The
 * ring position is left on the returned request until the backend takes it.
 */
static struct vblk_slot *vblk_take(struct vblk *d)
{
	struct vblk_queue *q = &d->q;

	while (vblk_queue_live(d)) {
		uint16_t avail = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
		uint16_t head;
		struct vblk_slot *s;
		enum vblk_verdict v;

		if (avail == q->last_avail)
			return NULL;
		/* More entries than the ring holds: the driver lost track of it. */
		if ((uint16_t)(avail - q->last_avail) > q->num) {
			vblk_needs_reset(d);
			return NULL;
		}
		s = vblk_slot_alloc(d);
		if (!s) {
			d->stalled = true;
			return NULL;
		}
		head = __atomic_load_n(&q->avail->ring[q->last_avail & (q->num - 1)],
				       __ATOMIC_RELAXED);
		v = vblk_parse(d, head, s);
		if (v == VBLK_SUBMIT)
			return s;
		vblk_slot_free(d, s);
		if (v == VBLK_BROKEN) {
			vblk_needs_reset(d);
			return NULL;
		}
		q->last_avail++;
	}
	return NULL;
}

/*
 * Hand s to the backend, without the lock (it may complete inside submit).
 * Called and returns with the lock held; false to stop feeding.
 */
static bool vblk_submit(struct vblk *d, struct vblk_slot *s)
{
	uint32_t gen = d->gen;
	int ret;

	spin_unlock(&d->lock);
	ret = d->backend->submit(d->backend, &s->req);
	spin_lock(&d->lock);
	if (ret == -VIREO_EBUSY) {
		/* Keep the ring position: the same entry is parsed again on the retry. */
		vblk_slot_free(d, s);
		d->stalled = true;
		return false;
	}
	if (ret) {
		/* Refused outright: done will not be called, so answer here. */
		if (gen == d->gen)
			vblk_complete(d, s->head, s->status, VIRTIO_BLK_S_IOERR, 1);
		vblk_slot_free(d, s);
	}
	/* A reset while the lock was dropped started a new ring: leave it alone. */
	if (gen == d->gen)
		d->q.last_avail++;
	return true;
}

void vblk_kick(struct vblk *d)
{
	struct vblk_slot *s;

	spin_lock(&d->lock);
	if (d->kicking) {
		d->kick_again = true;
		spin_unlock(&d->lock);
		return;
	}
	d->kicking = true;
	do {
		d->kick_again = false;
		d->stalled = false;
		while ((s = vblk_take(d)) && vblk_submit(d, s))
			;
	} while (d->kick_again);
	d->kicking = false;
	spin_unlock(&d->lock);
}

/* The backend's completion, on any hart, possibly inside submit. */
static void vblk_done(struct blk_request *req, enum blk_status status)
{
	struct vblk_slot *s = req->opaque;
	struct vblk *d = s->dev;
	bool resume = false;

	spin_lock(&d->lock);
	/* After a reset the request belongs to a driver that is gone: only free the slot. */
	if (s->gen == d->gen && d->q.ready)
		vblk_complete(d, s->head, s->status, vblk_virtio_status(status),
			      status == BLK_OK ? s->written : 1);
	vblk_slot_free(d, s);
	if (d->kicking)
		d->kick_again = true;
	else
		resume = d->stalled;
	spin_unlock(&d->lock);
	if (resume)
		vblk_kick(d);
}

/* ---------------------------------------------------------------- reset and queue setup */

static void vblk_queue_reset(struct vblk_queue *q)
{
	*q = (struct vblk_queue){.num = VBLK_QUEUE_MAX};
}

static void vblk_reset_locked(struct vblk *d)
{
	d->status = 0;
	d->device_features_sel = 0;
	d->driver_features_sel = 0;
	d->driver_features = 0;
	d->queue_sel = 0;
	vblk_queue_reset(&d->q);
	d->gen++;
	d->stalled = false;
	d->isr = 0;
	vblk_update_irq(d);
}

void vblk_reset(struct vblk *d)
{
	spin_lock(&d->lock);
	vblk_reset_locked(d);
	spin_unlock(&d->lock);
}

static bool vblk_ring_ok(const struct vblk *d, uint64_t gpa, uint64_t bytes, uint64_t align)
{
	return IS_ALIGNED(gpa, align) && vblk_gpa_ok(d, gpa, bytes);
}

/* QueueReady = 1: the rings must be a power-of-two size, aligned and inside RAM. */
static void vblk_queue_enable(struct vblk *d)
{
	struct vblk_queue *q = &d->q;
	unsigned num = q->num;

	if (!num || num > VBLK_QUEUE_MAX || (num & (num - 1)) ||
	    !vblk_ring_ok(d, q->desc_gpa, virtq_desc_bytes(num), VIRTQ_DESC_ALIGN) ||
	    !vblk_ring_ok(d, q->avail_gpa, virtq_avail_bytes(num), VIRTQ_AVAIL_ALIGN) ||
	    !vblk_ring_ok(d, q->used_gpa, virtq_used_bytes(num), VIRTQ_USED_ALIGN)) {
		vblk_needs_reset(d);
		return;
	}
	q->desc = (struct virtq_desc *)vblk_host(d, q->desc_gpa);
	q->avail = (struct virtq_avail *)vblk_host(d, q->avail_gpa);
	q->used = (struct virtq_used *)vblk_host(d, q->used_gpa);
	q->last_avail = 0;
	q->used_idx = 0;
	q->ready = true;
}

/* QueueReady = 0: requests still at the backend finish unseen, as after a reset. */
static void vblk_queue_disable(struct vblk *d)
{
	d->q.ready = false;
	d->gen++;
}

int vblk_init(struct vblk *d, struct blk_backend *backend, uint64_t first_sector, uint64_t nsectors,
	      bool read_only, const struct vblk_guest_mem *mem, const struct irq_line *irq,
	      const char *serial)
{
	if (!backend || !backend->submit || !mem || !mem->host || !mem->size || !nsectors ||
	    first_sector > backend->capacity || nsectors > backend->capacity - first_sector ||
	    mem->gpa_base + mem->size - 1 < mem->gpa_base ||
	    (uintptr_t)mem->host + mem->size - 1 < (uintptr_t)mem->host ||
	    !IS_ALIGNED((uintptr_t)mem->host - mem->gpa_base, VIRTQ_DESC_ALIGN))
		return -VIREO_EINVAL;
	memset(d, 0, sizeof(*d));
	d->lock = (spinlock_t)SPINLOCK_INIT;
	d->backend = backend;
	d->first_sector = first_sector;
	d->nsectors = nsectors;
	d->read_only = read_only || backend->read_only;
	d->mem = *mem;
	if (irq)
		d->irq = *irq;
	if (serial)
		memcpy(d->serial, serial, strnlen(serial, VIRTIO_BLK_ID_BYTES));
	d->config.capacity = nsectors;
	/* Never offer more segments than the host disk takes in one request. */
	d->config.seg_max = backend->max_segments && backend->max_segments < BLK_MAX_SEGMENTS
				? backend->max_segments
				: BLK_MAX_SEGMENTS;
	d->config.blk_size = BLK_SECTOR_SIZE;
	d->device_features = VBLK_FEATURE(VIRTIO_F_VERSION_1) | VBLK_FEATURE(VIRTIO_BLK_F_SEG_MAX) |
			     VBLK_FEATURE(VIRTIO_BLK_F_BLK_SIZE) | VBLK_FEATURE(VIRTIO_BLK_F_FLUSH);
	if (d->read_only)
		d->device_features |= VBLK_FEATURE(VIRTIO_BLK_F_RO);
	for (unsigned i = 0; i < VBLK_QUEUE_MAX; i++) {
		d->slots[i].dev = d;
		d->slots[i].req.opaque = &d->slots[i];
		d->slots[i].req.done = vblk_done;
	}
	vblk_queue_reset(&d->q);
	return 0;
}

unsigned vblk_inflight(struct vblk *d)
{
	unsigned n;

	spin_lock(&d->lock);
	n = d->inflight;
	spin_unlock(&d->lock);
	return n;
}

/* ---------------------------------------------------------------- MMIO registers */

static uint32_t vblk_features_half(uint64_t features, uint32_t sel)
{
	if (sel > 1)
		return 0;
	return (uint32_t)(features >> (32 * sel));
}

/* FEATURES_OK only for a subset of what is offered that includes VERSION_1 (a modern device). */
static bool vblk_features_ok(const struct vblk *d)
{
	return !(d->driver_features & ~d->device_features) &&
	       (d->driver_features & VBLK_FEATURE(VIRTIO_F_VERSION_1));
}

/* Status bits only accumulate; 0 resets. True when the driver just became ready. */
static bool vblk_write_status(struct vblk *d, uint32_t value)
{
	uint32_t add = value & VBLK_DRIVER_STATUS & ~d->status;

	if (!value) {
		vblk_reset_locked(d);
		return false;
	}
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !vblk_features_ok(d))
		add &= ~VIRTIO_STATUS_FEATURES_OK;
	/* A modern device runs only with negotiated features. */
	if (!((d->status | add) & VIRTIO_STATUS_FEATURES_OK))
		add &= ~VIRTIO_STATUS_DRIVER_OK;
	d->status |= add;
	return add & VIRTIO_STATUS_DRIVER_OK;
}

static void vblk_write_driver_features(struct vblk *d, uint32_t value)
{
	unsigned shift = 32 * d->driver_features_sel;

	/* Features are fixed once accepted; words past the second do not exist. */
	if ((d->status & VIRTIO_STATUS_FEATURES_OK) || d->driver_features_sel > 1)
		return;
	d->driver_features &= ~((uint64_t)UINT32_MAX << shift);
	d->driver_features |= (uint64_t)value << shift;
}

static void vblk_write_addr(struct vblk *d, uint64_t *addr, bool high, uint32_t value)
{
	/* The rings may not move under a live queue. */
	if (d->queue_sel || d->q.ready)
		return;
	if (high)
		*addr = (*addr & UINT32_MAX) | (uint64_t)value << 32;
	else
		*addr = (*addr & ~(uint64_t)UINT32_MAX) | value;
}

static void vblk_write_queue_ready(struct vblk *d, uint32_t value)
{
	if (d->queue_sel || !value == !d->q.ready)
		return;
	if (value)
		vblk_queue_enable(d);
	else
		vblk_queue_disable(d);
}

/* With the lock held. True when the queue should be processed after unlocking. */
static bool vblk_reg_write(struct vblk *d, uint64_t offset, uint32_t value)
{
	struct vblk_queue *q = &d->q;

	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = value;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		vblk_write_driver_features(d, value);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = value;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = value;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (!d->queue_sel && !q->ready)
			q->num = value;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		vblk_write_queue_ready(d, value);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Only the queue index matters (no NOTIFICATION_DATA). */
		return value == 0;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		d->isr &= ~value;
		vblk_update_irq(d);
		break;
	case VIRTIO_MMIO_STATUS:
		return vblk_write_status(d, value);
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		vblk_write_addr(d, &q->desc_gpa, offset == VIRTIO_MMIO_QUEUE_DESC_HIGH, value);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		vblk_write_addr(d, &q->avail_gpa, offset == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, value);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		vblk_write_addr(d, &q->used_gpa, offset == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, value);
		break;
	default:
		break; /* read-only and reserved registers */
	}
	return false;
}

/* An address register of queue 0; queues that do not exist read 0. */
static uint32_t vblk_read_addr(const struct vblk *d, uint64_t addr, bool high)
{
	if (d->queue_sel)
		return 0;
	return (uint32_t)(high ? addr >> 32 : addr);
}

static uint32_t vblk_reg_read(struct vblk *d, uint64_t offset)
{
	const struct vblk_queue *q = &d->q;

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_MODERN;
	case VIRTIO_MMIO_DEVICE_ID:
		return VIRTIO_ID_BLOCK;
	case VIRTIO_MMIO_VENDOR_ID:
		return VBLK_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return vblk_features_half(d->device_features, d->device_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return d->queue_sel ? 0 : VBLK_QUEUE_MAX;
	case VIRTIO_MMIO_QUEUE_NUM:
		return d->queue_sel ? 0 : q->num;
	case VIRTIO_MMIO_QUEUE_READY:
		return !d->queue_sel && q->ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return d->isr;
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return vblk_read_addr(d, q->desc_gpa, offset == VIRTIO_MMIO_QUEUE_DESC_HIGH);
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		return vblk_read_addr(d, q->avail_gpa, offset == VIRTIO_MMIO_QUEUE_DRIVER_HIGH);
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return vblk_read_addr(d, q->used_gpa, offset == VIRTIO_MMIO_QUEUE_DEVICE_HIGH);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return UINT32_MAX; /* "no such shared memory region" (spec 4.2.2) */
	default:
		return 0; /* write-only and reserved registers; ConfigGeneration never changes */
	}
}

/* Any width at any offset; little-endian; past the structure reads 0. */
static uint64_t vblk_config_read(const struct vblk *d, uint64_t offset, unsigned width)
{
	const uint8_t *cfg = (const uint8_t *)&d->config;
	uint64_t value = 0;

	for (unsigned i = 0; i < width; i++)
		if (offset + i < sizeof(d->config))
			value |= (uint64_t)cfg[offset + i] << (8 * i);
	return value;
}

static bool vblk_reg_access_ok(uint64_t offset, unsigned width)
{
	return width == 4 && IS_ALIGNED(offset, 4);
}

static int vblk_mmio_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct vblk *d = opaque;

	*value = 0;
	if (width != 1 && width != 2 && width != 4 && width != 8)
		return 0;
	spin_lock(&d->lock);
	if (offset >= VIRTIO_MMIO_CONFIG)
		*value = vblk_config_read(d, offset - VIRTIO_MMIO_CONFIG, width);
	else if (vblk_reg_access_ok(offset, width))
		*value = vblk_reg_read(d, offset);
	spin_unlock(&d->lock);
	return 0;
}

static int vblk_mmio_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct vblk *d = opaque;
	bool kick = false;

	/* Configuration space is read-only without VIRTIO_BLK_F_CONFIG_WCE. */
	if (offset >= VIRTIO_MMIO_CONFIG || !vblk_reg_access_ok(offset, width))
		return 0;
	spin_lock(&d->lock);
	kick = vblk_reg_write(d, offset, (uint32_t)value);
	spin_unlock(&d->lock);
	if (kick)
		vblk_kick(d);
	return 0;
}

const struct mmio_ops vblk_mmio_ops = {.read = vblk_mmio_read, .write = vblk_mmio_write};
