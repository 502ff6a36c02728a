/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The device side of a split virtqueue (virtio 1.2, 2.7), shared by every
 * virtual device Vireo gives its guests. The driver (the guest) is never
 * trusted:
 *  - the rings must be aligned, a power of two long and wholly in guest RAM
 *    before the queue runs (virtq_enable);
 *  - every descriptor is read once into the device's own copy, and every
 *    buffer is checked to lie wholly in guest RAM before a device sees it;
 *  - a chain that loops, names a descriptor past the queue, or an available
 *    index that runs ahead of the ring is a driver that lost track:
 *    VIRTQ_BROKEN, after which the device sets DEVICE_NEEDS_RESET (2.1.2);
 *  - a chain that is merely wrong (a buffer outside RAM, a readable buffer
 *    after a writable one, more buffers than the device takes, an indirect
 *    descriptor without VIRTIO_F_INDIRECT_DESC) is walked to its end and
 *    marked `bad`, so the device can still answer it with an error.
 * Indirect descriptors (2.7.5.3) and VIRTIO_F_EVENT_IDX (2.7.7, 2.7.10) are
 * supported when negotiated. Pure logic over struct guest_mem: unit-tested
 * and fuzzed on the host. The caller serialises access to a queue.
 */
#ifndef VIREO_VIRTQ_H
#define VIREO_VIRTQ_H

#include <vireo/guest_mem.h>
#include <vireo/types.h>
#include <vireo/virtio.h>

/* One buffer of a chain: guest-physical, checked to lie in RAM (len > 0). */
struct virtq_buf {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

/* A chain taken from the available ring. The caller provides bufs[max]. */
struct virtq_chain {
	uint16_t head;
	struct virtq_buf *bufs;
	unsigned max;
	unsigned n;	/* buffers recorded (empty buffers are skipped) */
	unsigned nread; /* bufs[0..nread) are device-readable, the rest device-writable */
	bool bad;	/* a driver error that still leaves the chain answerable */
	/* The chain's last descriptor as the driver wrote it (its status byte, for some
	 * devices), whether or not it passed the checks. */
	struct virtq_desc last;
};

enum virtq_pop_result {
	VIRTQ_EMPTY,  /* nothing available */
	VIRTQ_CHAIN,  /* a chain was taken (it may be `bad`) */
	VIRTQ_BROKEN, /* the driver broke the ring: stop using the queue */
};

struct virtq {
	uint16_t num_max; /* QueueNumMax: the largest size the device accepts */
	uint32_t num;	  /* QueueNum, as the driver set it */
	bool ready;	  /* QueueReady: enabled and checked */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool indirect;	/* VIRTIO_F_INDIRECT_DESC negotiated */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */

	/* Valid while ready. */
	const struct guest_mem *mem;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail; /* next available-ring entry to take */
	uint16_t used_idx;   /* our copy of used->idx */
	uint16_t signalled;  /* used_idx when the driver was last notified (EVENT_IDX) */
	bool signalled_valid;
};

/* The power-on state of a queue whose size may go up to num_max (a power of two). */
void virtq_reset(struct virtq *q, uint16_t num_max);
/* QueueReady = 1: check the size and the rings against guest RAM and start. Returns
 * 0, or -VIREO_EINVAL (the queue stays not ready: the device needs a reset). */
int virtq_enable(struct virtq *q, const struct guest_mem *mem, bool indirect, bool event_idx);
/* Take the next available chain into c. */
enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_chain *c);
/* Give the chain virtq_pop just took back to the ring (the device could not take it
 * now: it is taken again by the next virtq_pop). */
void virtq_unpop(struct virtq *q);
/* True if the driver has made a chain available that virtq_pop has not taken. */
bool virtq_has_avail(const struct virtq *q);
/* Return a chain through the used ring: `len` bytes were written into it. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* After pushes: does the driver want a used-buffer notification now? (Its
 * NO_INTERRUPT flag, or used_event with EVENT_IDX.) Each `true` resets the count. */
bool virtq_should_notify(struct virtq *q);
/* Ask the driver to notify (true) or not to bother (false) about new chains. With
 * EVENT_IDX, "notify" means "after the chain at last_avail". */
void virtq_set_notify(struct virtq *q, bool enable);
/* Total bytes of bufs[first..end) of a chain. */
uint64_t virtq_chain_bytes(const struct virtq_chain *c, unsigned first, unsigned end);

#endif
