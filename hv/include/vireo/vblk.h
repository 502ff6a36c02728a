/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtio block device a VM sees, on Vireo's virtio-mmio transport
 * (vireo/virtio_dev.h) with one split virtqueue (vireo/virtq.h), serving the
 * guest's requests from a slice [first_sector, first_sector + nsectors) of a
 * struct blk_backend. Guest buffers go to the backend as they are
 * (host-physical segments, no copy); completions come back through
 * blk_request.done on any hart.
 *
 * Offered features: VIRTIO_F_VERSION_1, VIRTIO_BLK_F_SEG_MAX (BLK_MAX_SEGMENTS
 * data segments), VIRTIO_BLK_F_BLK_SIZE (512), VIRTIO_BLK_F_FLUSH, and
 * VIRTIO_BLK_F_RO for a read-only disk. No indirect descriptors, no event
 * index: an INDIRECT descriptor is a bad request.
 *
 * Guest input is never trusted: the virtqueue library checks every ring and
 * buffer against guest RAM and reads descriptors once. A bad request completes at once with
 * VIRTIO_BLK_S_IOERR and never reaches the backend; a chain whose status
 * byte cannot be found or written (a loop, an index past the queue, a last
 * descriptor that is not a writable in-RAM byte) sets DEVICE_NEEDS_RESET and
 * the queue stops until the driver resets the device (virtio 1.2, 2.1.2).
 *
 * MMIO: virtio_dev_mmio_ops with &vblk->vdev; the configuration space
 * (struct virtio_blk_config) is read-only.
 *
 * Locking: the transport's spinlock (vdev.lock) guards all of the device's
 * state. It is held while irq_line_set() runs (lock order: vblk -> PLIC),
 * and never across backend->submit(). One hart at a time feeds the backend; a notify or
 * completion that arrives meanwhile makes that hart go round again.
 *
 * Backpressure: on -VIREO_EBUSY (or a full in-flight table) the device keeps
 * its place in the available ring and retries on its next completion or
 * guest notify. Because of this the done callback may call backend->submit():
 * a backend must call done without holding any lock its submit takes. A
 * backend shared by several devices should call vblk_kick() on them after
 * it completes anything, so that a device stalled with nothing in flight of
 * its own resumes too.
 */
#ifndef VIREO_VBLK_H
#define VIREO_VBLK_H

#include <vireo/blk.h>
#include <vireo/guest_mem.h>
#include <vireo/irq_line.h>
#include <vireo/spinlock.h>
#include <vireo/types.h>
#include <vireo/virtio.h>
#include <vireo/virtio_dev.h>
#include <vireo/virtq.h>

#define VBLK_QUEUE_MAX 256 /* QueueNumMax, and the size of the in-flight table */
/* Non-empty buffers one chain may have: header, BLK_MAX_SEGMENTS data, status. */
#define VBLK_CHAIN_MAX (BLK_MAX_SEGMENTS + 2)

struct vblk;

/* One request the backend holds (or is being handed). */
struct vblk_slot {
	struct blk_request req;
	struct vblk *dev;
	uint8_t *status;  /* the guest's status byte, checked at parse time */
	uint32_t written; /* used-ring len on success: data bytes + the status byte */
	uint32_t gen;	  /* the device generation it belongs to: stale after a reset */
	uint16_t head;
	bool busy;
};

struct vblk {
	struct virtio_dev vdev; /* the transport; its lock guards everything below */
	struct virtq q;
	struct guest_mem mem;
	struct blk_backend *backend;
	uint64_t first_sector;
	uint64_t nsectors;
	bool read_only;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;

	/* Request processing. */
	uint32_t gen;	 /* bumped by every reset: completions of older requests are dropped */
	bool kicking;	 /* a hart is feeding the backend */
	bool kick_again; /* ...and must go round once more */
	bool stalled;	 /* stopped with requests left; a completion resumes */
	unsigned inflight;
	struct virtq_buf bufs[VBLK_CHAIN_MAX]; /* parse scratch, under the lock */
	struct virtq_chain chain;
	struct vblk_slot slots[VBLK_QUEUE_MAX];
};

/*
 * The VM's disk is sectors [first_sector, first_sector + nsectors) of the
 * backend; read_only (or a read-only backend) refuses writes. mem is copied.
 * irq may be NULL; serial (GET_ID, up to 20 bytes) may be NULL. -VIREO_EINVAL
 * for a missing backend or memory, an empty disk, a range past the backend's
 * capacity, or guest memory whose runs are not 16-byte aligned to their
 * guest-physical addresses (the rings could not be used in place).
 */
int vblk_init(struct vblk *d, struct blk_backend *backend, uint64_t first_sector, uint64_t nsectors,
	      bool read_only, const struct guest_mem *mem, const struct irq_line *irq,
	      const char *serial);

/*
 * Back to the power-on state, as when the guest writes 0 to Status; the
 * line is dropped. Requests still at the backend stay counted in
 * vblk_inflight() until they complete, and their completions are dropped.
 */
void vblk_reset(struct vblk *d);

/*
 * Requests the backend holds. Guest RAM must outlive them (the host disk
 * DMAs into it): reset the device, then wait for 0 before freeing the VM.
 */
unsigned vblk_inflight(struct vblk *d);

/* Process the available ring now: resumes a queue stalled by -VIREO_EBUSY. Any hart. */
void vblk_kick(struct vblk *d);

#endif
