/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtio block device a VM sees: a virtio-mmio (Version 2, modern)
 * transport with one split virtqueue, serving the guest's requests from a
 * slice [first_sector, first_sector + nsectors) of a struct blk_backend.
 * Guest buffers go to the backend as they are (host-physical segments, no
 * copy); completions come back through blk_request.done on any hart.
 *
 * Offered features: VIRTIO_F_VERSION_1, VIRTIO_BLK_F_SEG_MAX (BLK_MAX_SEGMENTS
 * data segments), VIRTIO_BLK_F_BLK_SIZE (512), VIRTIO_BLK_F_FLUSH, and
 * VIRTIO_BLK_F_RO for a read-only disk. No indirect descriptors, no event
 * index: an INDIRECT descriptor is a bad request.
 *
 * Guest input is never trusted: every ring and buffer address is checked to
 * lie wholly inside guest RAM before it is touched, and descriptors are read
 * once into the device's own copy. A bad request completes at once with
 * VIRTIO_BLK_S_IOERR and never reaches the backend; a chain whose status
 * byte cannot be found or written (a loop, an index past the queue, a last
 * descriptor that is not a writable in-RAM byte) sets DEVICE_NEEDS_RESET and
 * the queue stops until the driver resets the device (virtio 1.2, 2.1.2).
 *
 * MMIO: registers (0x000..0x0ff) take only 32-bit aligned accesses, as the
 * spec requires of drivers; any other access is tolerated the way QEMU
 * does it, not fatal: it reads 0 and a write is ignored. The configuration
 * space (0x100..) is read at any width (1, 2, 4, 8) and offset, little-endian;
 * it is read-only (writes ignored), and bytes past struct virtio_blk_config
 * read 0.
 *
 * Locking: one spinlock per device guards all of its state. It is held
 * while irq_line_set() runs (lock order: vblk -> PLIC), and never across
 * backend->submit(). One hart at a time feeds the backend; a notify or
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

#include <vireo/types.h>
#include <vireo/blk.h>
#include <vireo/irq_line.h>
#include <vireo/mmio_bus.h>
#include <vireo/spinlock.h>
#include <vireo/virtio.h>

#define VBLK_VENDOR_ID 0x4f524956 /* "VIRO", little-endian */
#define VBLK_QUEUE_MAX 256	  /* QueueNumMax, and the size of the in-flight table */
/* Non-empty buffers one chain may have: header, BLK_MAX_SEGMENTS data, status. */
#define VBLK_CHAIN_MAX (BLK_MAX_SEGMENTS + 2)

/* Guest RAM, contiguous in host memory; the host pointer is the host-physical address. */
struct vblk_guest_mem {
	uint8_t *host;
	uint64_t gpa_base;
	uint64_t size;
};

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

/* A checked, non-empty guest buffer of the chain being parsed. */
struct vblk_buf {
	uint8_t *host;
	uint32_t len;
	bool write;
};

struct vblk_chain {
	struct vblk_buf bufs[VBLK_CHAIN_MAX];
	unsigned n;	/* buffers in bufs */
	unsigned nread; /* bufs[0..nread) are device-readable, the rest device-writable */
	bool bad;	/* well-formed enough to answer, but to be answered with IOERR */
	uint8_t *status;
};

struct vblk_queue {
	uint32_t num;
	bool ready;
	bool broken; /* DEVICE_NEEDS_RESET: consume nothing more */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc; /* host pointers, valid while ready */
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail; /* next available-ring entry to take */
	uint16_t used_idx;   /* our copy of used->idx */
};

struct vblk {
	spinlock_t lock;
	struct blk_backend *backend;
	uint64_t first_sector;
	uint64_t nsectors;
	bool read_only;
	struct vblk_guest_mem mem;
	struct irq_line irq;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	uint64_t device_features;

	/* Transport registers. */
	uint32_t status;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	uint32_t isr; /* InterruptStatus */
	bool irq_level;
	struct vblk_queue q;

	/* Request processing. */
	uint32_t gen;	 /* bumped by every reset: completions of older requests are dropped */
	bool kicking;	 /* a hart is feeding the backend */
	bool kick_again; /* ...and must go round once more */
	bool stalled;	 /* stopped with requests left; a completion resumes */
	unsigned inflight;
	struct vblk_chain chain; /* parse scratch, under the lock */
	struct vblk_slot slots[VBLK_QUEUE_MAX];
};

/*
 * The VM's disk is sectors [first_sector, first_sector + nsectors) of the
 * backend; read_only (or a read-only backend) refuses writes. irq may be
 * NULL; serial (GET_ID, up to 20 bytes) may be NULL. -VIREO_EINVAL for a
 * missing backend or memory, an empty disk, a range past the backend's
 * capacity, or guest memory that wraps around.
 */
int vblk_init(struct vblk *d, struct blk_backend *backend, uint64_t first_sector, uint64_t nsectors,
	      bool read_only, const struct vblk_guest_mem *mem, const struct irq_line *irq,
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

extern const struct mmio_ops vblk_mmio_ops;

#endif
