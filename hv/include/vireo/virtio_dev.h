/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtio-mmio transport of the devices Vireo gives its guests (virtio
 * 1.2, 4.2; the modern interface, Version 2): the register file, feature
 * negotiation, the status field, reset, queue set-up and interrupts. A
 * device (vdev/virtio_*.c) embeds a struct virtio_dev, describes itself in
 * a struct virtio_dev_ops and gets called back for what is its own: a queue
 * notification, a reset, the configuration space.
 *
 * Registers (0x000..0x0ff) take only 32-bit aligned accesses, as the spec
 * requires of drivers; any other access is tolerated the way QEMU does it,
 * not fatal: it reads 0 and a write is ignored. The configuration space
 * (0x100..) is read at any width (1, 2, 4, 8) and offset, little-endian;
 * bytes past the device's structure read 0; writes go to the device's
 * config_write, or are ignored.
 *
 * Locking: one spinlock per device (`lock`) guards the transport and, by
 * convention, the device's own state. The transport holds it around every
 * register access and calls reset/queue_stop/config_write with it held;
 * notify is called without it. irq_line_set() is called with it held
 * (lock order: device -> interrupt controller).
 */
#ifndef VIREO_VIRTIO_DEV_H
#define VIREO_VIRTIO_DEV_H

#include <vireo/guest_mem.h>
#include <vireo/irq_line.h>
#include <vireo/mmio_bus.h>
#include <vireo/spinlock.h>
#include <vireo/types.h>
#include <vireo/virtio.h>
#include <vireo/virtq.h>

#define VIRTIO_DEV_VENDOR_ID 0x4f524956 /* "VIRO", little-endian */

#define VIRTIO_FEATURE(bit) (UINT64_C(1) << (bit))

struct virtio_dev;

struct virtio_dev_ops {
	uint32_t device_id; /* VIRTIO_ID_* */
	/* A queue notification (QueueNotify), or the driver became ready or reset the
	 * device (queue = -1). */
	void (*notify)(struct virtio_dev *d, int queue);
	/* Back to the power-on state of the device's own part (status 0 was written). */
	void (*reset)(struct virtio_dev *d);
	/* A queue was disabled (QueueReady = 0): its chains in flight are forgotten. May be NULL.
	 */
	void (*queue_stop)(struct virtio_dev *d, unsigned queue);
	/* A write to the configuration space (offset from 0x100). May be NULL (read-only). */
	void (*config_write)(struct virtio_dev *d, uint64_t offset, unsigned width, uint64_t value);
};

struct virtio_dev {
	spinlock_t lock;
	const struct virtio_dev_ops *ops;
	const struct guest_mem *mem;
	struct irq_line irq;
	uint64_t device_features; /* offered; VIRTIO_F_VERSION_1 always */
	struct virtq *queues;
	unsigned nqueues;
	const void *config; /* the device's configuration space, read as bytes */
	size_t config_size;

	/* Registers. */
	uint32_t status;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	uint32_t isr; /* InterruptStatus */
	uint32_t config_generation;
	bool irq_level;
};

/*
 * Set up d for a device with `nqueues` queues in queues[] (each of at most
 * queue_max entries, a power of two) and the configuration space `config`
 * (config_size bytes, kept by the device). irq may be NULL.
 */
void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		     const struct guest_mem *mem, const struct irq_line *irq, uint64_t features,
		     struct virtq *queues, unsigned nqueues, uint16_t queue_max, const void *config,
		     size_t config_size);
/* Back to power-on, as when the driver writes 0 to Status (takes the lock). */
void virtio_dev_reset(struct virtio_dev *d);
/* With the lock held: the driver may use queue q (DRIVER_OK, queue ready, no error). */
bool virtio_dev_queue_live(const struct virtio_dev *d, unsigned q);
/* With the lock held: a negotiated feature. */
bool virtio_dev_has_feature(const struct virtio_dev *d, unsigned bit);
/* With the lock held: raise a used-buffer (or configuration change) notification. */
void virtio_dev_interrupt(struct virtio_dev *d, bool config_change);
/* With the lock held: push a chain and notify the driver if it wants to be. */
void virtio_dev_complete(struct virtio_dev *d, unsigned q, uint16_t head, uint32_t len);
/* With the lock held: spec 2.1.2, the device broke: stop and tell a running driver. */
void virtio_dev_needs_reset(struct virtio_dev *d);
/* With the lock held: the configuration changed (ConfigGeneration moves on). */
void virtio_dev_config_changed(struct virtio_dev *d);

struct snap_writer;
struct snap_reader;
/* A snapshot of the transport and its queues (vireo/vm_snapshot.h), not the device's
 * own state. Load resets, then checks every queue against guest RAM as QueueReady
 * would: -VIREO_EINVAL (and the device reset) if the state does not hold up. */
void virtio_dev_save(struct virtio_dev *d, struct snap_writer *w);
int virtio_dev_load(struct virtio_dev *d, struct snap_reader *r);

/* The MMIO ops of every virtio device; the opaque is the struct virtio_dev. */
extern const struct mmio_ops virtio_dev_mmio_ops;

#endif
