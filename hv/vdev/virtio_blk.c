// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest's virtio block device: request parsing and the hand-off to a
 * blk_backend, on the virtio-mmio transport (virtio/mmio.c) and the split
 * virtqueue library (virtio/virtq.c). Pure logic over guest RAM, so it is
 * unit-tested and fuzzed on the host.
 *
 * Chains are parsed framing-independently (virtio 1.2, 2.6.4): the header is
 * the first 16 device-readable bytes, the status byte the last
 * device-writable byte, and the data whatever lies between, however the
 * driver cut it into descriptors. Linux uses one descriptor each for header
 * and status, which is the fast path of the same code.
 */
#include <vireo/string.h>
#include <vireo/vblk.h>

#define VBLK_QUEUE 0 /* the only queue */

/* What vblk_parse decided about a chain. */
enum vblk_verdict {
	VBLK_SUBMIT, /* the slot holds a request for the backend */
	VBLK_DONE,   /* answered already (an error, GET_ID, an empty transfer) */
	VBLK_BROKEN, /* no usable status byte: the device needs a reset */
};

static void vblk_done(struct blk_request *req, enum blk_status status);

/* ---------------------------------------------------------------- completion */

/* Write the status byte, then hand the chain back through the used ring. */
static void vblk_complete(struct vblk *d, uint16_t head, uint8_t *status, uint8_t st, uint32_t len)
{
	__atomic_store_n(status, st, __ATOMIC_RELAXED);
	virtio_dev_complete(&d->vdev, VBLK_QUEUE, head, len);
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

/* ---------------------------------------------------------------- chain data */

/* The status byte: the last byte of the last descriptor, if that is a writable buffer in RAM. */
static uint8_t *vblk_status_byte(const struct vblk *d, const struct virtq_desc *last)
{
	if ((last->flags & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT)) != VIRTQ_DESC_F_WRITE ||
	    !last->len || !guest_mem_contains(&d->mem, last->addr, last->len))
		return NULL;
	return guest_mem_ptr(&d->mem, last->addr + last->len - 1, 1);
}

/*
 * Segments for the bytes [skip, skip + len) of the stream formed by
 * bufs[first..end). False if they need more than BLK_MAX_SEGMENTS.
 */
static bool vblk_chain_segments(const struct vblk *d, unsigned first, unsigned end, uint64_t skip,
				uint64_t len, struct blk_request *req)
{
	const struct virtq_chain *c = &d->chain;
	struct guest_mem_seg segs[BLK_MAX_SEGMENTS];
	unsigned n = 0;

	for (unsigned i = first; i < end && len; i++) {
		uint64_t piece = c->bufs[i].len;

		if (skip >= piece) {
			skip -= piece;
			continue;
		}
		piece = MIN(piece - skip, len);
		if (!guest_mem_segments(&d->mem, c->bufs[i].gpa + skip, piece, segs, &n,
					BLK_MAX_SEGMENTS))
			return false;
		len -= piece;
		skip = 0;
	}
	for (unsigned i = 0; i < n; i++)
		req->segs[i] = (struct blk_segment){(uintptr_t)segs[i].host, (uint32_t)segs[i].len};
	req->nsegs = n;
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
	const struct virtq_chain *c = &d->chain;
	uint64_t n = MIN(room, VIRTIO_BLK_ID_BYTES);

	/* Like a read, it has nothing for the device to read past the header. */
	if (in != sizeof(struct virtio_blk_req_header))
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
	if (!vblk_chain_segments(d, c->nread, c->n, 0, n, &s->req))
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
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
	const struct virtq_chain *c = &d->chain;
	uint64_t count = bytes / BLK_SECTOR_SIZE;
	unsigned first = write ? 0 : c->nread, end = write ? c->nread : c->n;

	if (bytes % BLK_SECTOR_SIZE || sector > d->nsectors || count > d->nsectors - sector ||
	    (write && d->read_only))
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
	if (!count)
		return vblk_answer(d, s, VIRTIO_BLK_S_OK, 1);
	if (!vblk_chain_segments(d, first, end, skip, bytes, &s->req))
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
	const struct virtq_chain *c = &d->chain;
	struct virtio_blk_req_header hdr;
	uint64_t in, out;

	if (c->bad)
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
	in = virtq_chain_bytes(c, 0, c->nread);
	/* Writable bytes besides the status byte: a good chain's last buffer holds it. */
	out = virtq_chain_bytes(c, c->nread, c->n) - 1;
	if (in < sizeof(hdr) || !vblk_chain_segments(d, 0, c->nread, 0, sizeof(hdr), &s->req))
		return vblk_answer(d, s, VIRTIO_BLK_S_IOERR, 1);
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

static enum vblk_verdict vblk_parse(struct vblk *d, struct vblk_slot *s)
{
	s->head = d->chain.head;
	s->status = vblk_status_byte(d, &d->chain.last);
	if (!s->status)
		return VBLK_BROKEN;
	return vblk_dispatch(d, s);
}

/* ---------------------------------------------------------------- queue processing */

/*
 * With the lock held: the next request for the backend, in a slot, or NULL.
 * Requests answerable without the backend are completed on the way. The
 * request returned has been taken off the ring; a refusal puts it back.
 */
static struct vblk_slot *vblk_take(struct vblk *d)
{
	spin_assert_held(&d->vdev.lock);
	while (virtio_dev_queue_live(&d->vdev, VBLK_QUEUE) && virtq_has_avail(&d->q)) {
		struct vblk_slot *s = vblk_slot_alloc(d);
		enum vblk_verdict v;

		if (!s) {
			d->stalled = true;
			return NULL;
		}
		if (virtq_pop(&d->q, &d->chain) != VIRTQ_CHAIN) {
			vblk_slot_free(d, s);
			virtio_dev_needs_reset(&d->vdev);
			return NULL;
		}
		v = vblk_parse(d, s);
		if (v == VBLK_SUBMIT)
			return s;
		vblk_slot_free(d, s);
		if (v == VBLK_BROKEN) {
			virtio_dev_needs_reset(&d->vdev);
			return NULL;
		}
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

	spin_unlock(&d->vdev.lock);
	ret = d->backend->submit(d->backend, &s->req);
	spin_lock(&d->vdev.lock);
	if (ret == -VIREO_EBUSY) {
		/* Back on the ring: the same entry is parsed again on the retry. A reset
		 * while the lock was dropped started a new ring: leave that alone. */
		if (gen == d->gen)
			virtq_unpop(&d->q);
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
	return true;
}

void vblk_kick(struct vblk *d)
{
	struct vblk_slot *s;

	spin_lock(&d->vdev.lock);
	if (d->kicking) {
		d->kick_again = true;
		spin_unlock(&d->vdev.lock);
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
	spin_unlock(&d->vdev.lock);
}

/* The backend's completion, on any hart, possibly inside submit. */
static void vblk_done(struct blk_request *req, enum blk_status status)
{
	struct vblk_slot *s = req->opaque;
	struct vblk *d = s->dev;
	bool resume = false;

	spin_lock(&d->vdev.lock);
	/* After a reset the request belongs to a driver that is gone: only free the slot. */
	if (s->gen == d->gen && d->q.ready)
		vblk_complete(d, s->head, s->status, vblk_virtio_status(status),
			      status == BLK_OK ? s->written : 1);
	vblk_slot_free(d, s);
	if (d->kicking)
		d->kick_again = true;
	else
		resume = d->stalled;
	spin_unlock(&d->vdev.lock);
	if (resume)
		vblk_kick(d);
}

/* ---------------------------------------------------------------- transport callbacks */

static struct vblk *vblk_of(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vblk, vdev);
}

/* A queue notify, or the driver just became ready: feed the backend. */
static void vblk_notify(struct virtio_dev *vdev, int queue)
{
	if (queue == VBLK_QUEUE || queue < 0)
		vblk_kick(vblk_of(vdev));
}

/* Reset or queue disable: requests still at the backend finish unseen. */
static void vblk_forget(struct virtio_dev *vdev)
{
	struct vblk *d = vblk_of(vdev);

	d->gen++;
	d->stalled = false;
}

static void vblk_queue_stop(struct virtio_dev *vdev, unsigned queue)
{
	(void)queue;
	vblk_of(vdev)->gen++;
}

static const struct virtio_dev_ops vblk_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .notify = vblk_notify,
    .reset = vblk_forget,
    .queue_stop = vblk_queue_stop,
};

/* ---------------------------------------------------------------- set-up */

void vblk_reset(struct vblk *d)
{
	virtio_dev_reset(&d->vdev);
}

/* Runs that are not empty and do not wrap, and (the rings are used in place) keep the
 * 16-byte alignment of guest addresses in host memory. */
static bool vblk_mem_ok(const struct guest_mem *mem)
{
	if (!mem || !mem->nruns || mem->nruns > GUEST_MEM_MAX_RUNS)
		return false;
	for (unsigned i = 0; i < mem->nruns; i++) {
		const struct guest_mem_run *r = &mem->runs[i];

		if (!r->size || r->gpa + r->size - 1 < r->gpa ||
		    (uintptr_t)r->host + r->size - 1 < (uintptr_t)r->host ||
		    !IS_ALIGNED((uintptr_t)r->host - r->gpa, VIRTQ_DESC_ALIGN))
			return false;
	}
	return true;
}

int vblk_init(struct vblk *d, struct blk_backend *backend, uint64_t first_sector, uint64_t nsectors,
	      bool read_only, const struct guest_mem *mem, const struct irq_line *irq,
	      const char *serial)
{
	uint64_t features = VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) |
			    VIRTIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE) |
			    VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH);

	if (!backend || !backend->submit || !vblk_mem_ok(mem) || !nsectors ||
	    first_sector > backend->capacity || nsectors > backend->capacity - first_sector)
		return -VIREO_EINVAL;
	memset(d, 0, sizeof(*d));
	d->mem = *mem;
	d->backend = backend;
	d->first_sector = first_sector;
	d->nsectors = nsectors;
	d->read_only = read_only || backend->read_only;
	if (serial)
		memcpy(d->serial, serial, strnlen(serial, VIRTIO_BLK_ID_BYTES));
	d->config.capacity = nsectors;
	/* Never offer more segments than the host disk takes in one request. */
	d->config.seg_max = backend->max_segments && backend->max_segments < BLK_MAX_SEGMENTS
				? backend->max_segments
				: BLK_MAX_SEGMENTS;
	d->config.blk_size = BLK_SECTOR_SIZE;
	if (d->read_only)
		features |= VIRTIO_FEATURE(VIRTIO_BLK_F_RO);
	for (unsigned i = 0; i < VBLK_QUEUE_MAX; i++) {
		d->slots[i].dev = d;
		d->slots[i].req.opaque = &d->slots[i];
		d->slots[i].req.done = vblk_done;
	}
	d->chain = (struct virtq_chain){.bufs = d->bufs, .max = VBLK_CHAIN_MAX};
	virtio_dev_init(&d->vdev, &vblk_ops, &d->mem, irq, features, &d->q, 1, VBLK_QUEUE_MAX,
			&d->config, sizeof(d->config));
	return 0;
}

unsigned vblk_inflight(struct vblk *d)
{
	unsigned n;

	spin_lock(&d->vdev.lock);
	n = d->inflight;
	spin_unlock(&d->vdev.lock);
	return n;
}
