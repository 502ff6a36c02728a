/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Vireo as the driver of the host machine's virtio-mmio devices (virtio
 * 1.2, 4.2.3; the modern interface only): probing a slot, the
 * initialization sequence (3.1.1), queue set-up, notifications, interrupt
 * acknowledgement and consistent configuration reads. A device that does
 * not answer the way the spec says is reported and left reset + FAILED,
 * never trusted. The device drivers (drivers/virtio_*.c) sit on top.
 */
#ifndef VIREO_VIRTIO_DRV_H
#define VIREO_VIRTIO_DRV_H

#include <vireo/types.h>
#include <vireo/virtio.h>
#include <vireo/virtq_drv.h>

#define VIRTIO_DRV_MMIO_MIN 0x200 /* registers plus a little configuration space */

struct virtio_drv {
	uintptr_t base;
	unsigned irq;	   /* host interrupt source */
	uint64_t features; /* negotiated */
	const char *what;  /* for messages: "disk at 0x10008000" and the like */
};

/* Does the slot hold a modern virtio-mmio device of this ID? Logs why not when it
 * holds that device in a form Vireo cannot drive (legacy interface). */
bool virtio_drv_probe(uintptr_t base, uint64_t size, uint32_t device_id);
/* Reset, ACKNOWLEDGE, DRIVER, and negotiate: take what is offered of `wanted`,
 * refuse a device lacking any of `required` (VERSION_1 is always required). */
int virtio_drv_start(struct virtio_drv *d, uint64_t wanted, uint64_t required);
/* Set up queue `index` with a fresh virtq_drv of at most `max` entries (at least
 * `min`), as large as the device allows. */
int virtio_drv_setup_queue(struct virtio_drv *d, unsigned index, struct virtq_drv *q, uint16_t max,
			   uint16_t min);
/* DRIVER_OK: the device may run. */
void virtio_drv_ready(struct virtio_drv *d);
/* Reset and mark FAILED (after an error during set-up). */
void virtio_drv_fail(struct virtio_drv *d);
/* Reset, and wait until the device says it is done (only then has it let go of the
 * rings); false if it never does. */
bool virtio_drv_reset(struct virtio_drv *d);
/* Acknowledge the device's interrupt; returns the bits (VIRTIO_MMIO_INT_*). */
uint32_t virtio_drv_ack_irq(struct virtio_drv *d);
/* The device asked for a reset (DEVICE_NEEDS_RESET). */
bool virtio_drv_needs_reset(struct virtio_drv *d);
/* Tell the device that queue `index` has new buffers. */
void virtio_drv_notify(struct virtio_drv *d, unsigned index);
/* Read `len` bytes of configuration space at `offset` as one consistent snapshot
 * (ConfigGeneration unchanged around it), 32 bits at a time. */
int virtio_drv_config_read(struct virtio_drv *d, unsigned offset, void *buf, unsigned len);
/* Was the feature negotiated? */
bool virtio_drv_has(const struct virtio_drv *d, unsigned bit);

#endif
