/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The driver side of a split virtqueue (virtio 1.2, 2.7): Vireo driving the
 * host machine's virtio devices (QEMU's virtio-blk, virtio-serial, ...).
 * Buffers are host-physical (the hypervisor runs untranslated) and go into
 * descriptors as they are.
 *
 * A device is not trusted either: the free list and the chains' links are
 * our own copy (the device may scribble on the descriptor table), and every
 * used-ring entry is checked to name a chain we gave it. A used index that
 * runs ahead of what we made available means the device is broken; the
 * caller then resets it and fails what was in flight (virtq_drv_drain).
 * Pure logic over memory from page_alloc/kzalloc: unit-tested on the host.
 * The caller serialises access to a queue.
 */
#ifndef VIREO_VIRTQ_DRV_H
#define VIREO_VIRTQ_DRV_H

#include <vireo/types.h>
#include <vireo/virtio.h>

/* Orders ring memory against device registers too (fence rw,rw would not). */
static inline void virtio_mb(void)
{
#ifdef __riscv
	__asm__ volatile("fence iorw, iorw" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* One buffer handed to the device. */
struct virtq_drv_buf {
	uintptr_t addr; /* host-physical */
	uint32_t len;
	bool write; /* device-writable; they all come after the device-readable ones */
};

struct virtq_drv_chain {
	void *cookie; /* NULL: no chain starts at this descriptor */
	uint16_t ndesc;
};

struct virtq_drv {
	uint16_t size; /* a power of two */
	bool event_idx;
	bool quiet; /* no used-buffer interrupts wanted (virtq_drv_want_interrupts) */
	void *dma;  /* the rings, in pages the device may read and write */
	size_t dma_pages;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t *next;			/* our own links of each chain, and the free list */
	struct virtq_drv_chain *chains; /* by head descriptor */
	uint16_t free_head, nfree;
	uint16_t avail_idx, last_used;
};

enum virtq_drv_get_result {
	VIRTQ_DRV_NONE,	  /* nothing (more) used */
	VIRTQ_DRV_USED,	  /* one chain came back */
	VIRTQ_DRV_BOGUS,  /* an entry that names no chain of ours: skipped, say so */
	VIRTQ_DRV_BROKEN, /* the used index ran ahead of what we made available */
};

/* Allocate and lay out a queue of `size` entries (a power of two). 0, -VIREO_EINVAL,
 * or -VIREO_ENOMEM (nothing left allocated). */
int virtq_drv_init(struct virtq_drv *q, uint16_t size, bool event_idx);
void virtq_drv_free(struct virtq_drv *q);
/* Free descriptors: a chain of n buffers needs n. */
unsigned virtq_drv_free_count(const struct virtq_drv *q);
/* The head the next virtq_drv_add will use (so per-chain data can be placed by it
 * first), or -VIREO_EBUSY when no descriptor is free. */
int virtq_drv_next_head(const struct virtq_drv *q);
/*
 * Put a chain of n buffers in the descriptor table (not yet visible to the
 * device). Returns its head, -VIREO_EBUSY when fewer than n descriptors are
 * free, or -VIREO_EINVAL (n is 0, a buffer is empty, a readable one follows a
 * writable one, or cookie is NULL).
 */
int virtq_drv_add(struct virtq_drv *q, const struct virtq_drv_buf *bufs, unsigned n, void *cookie);
/* Make the chain at head available; true when the device wants a notification. */
bool virtq_drv_publish(struct virtq_drv *q, uint16_t head);
/* Take the next used chain: its head, cookie and the length the device wrote. */
enum virtq_drv_get_result virtq_drv_get(struct virtq_drv *q, uint16_t *head, void **cookie,
					uint32_t *len);
/*
 * Used-buffer interrupts for this queue (true, the default) or none (false):
 * for a queue whose used buffers only need taking back, which the driver does
 * when it needs them. After turning them back on, look at the used ring once
 * more (virtq_drv_get): what was used meanwhile raised none.
 */
void virtq_drv_want_interrupts(struct virtq_drv *q, bool want);
/* Take back every chain still out (after the device was reset): its cookie, or NULL
 * when none is left. */
void *virtq_drv_drain(struct virtq_drv *q);

#endif
