// SPDX-License-Identifier: BSD-2-Clause
/* Driving the host's virtio-mmio devices; see vireo/virtio_drv.h. */
#include <vireo/log.h>
#include <vireo/string.h>
#include <vireo/virtio_drv.h>

#define VIRTIO_DRV_POLLS 100000 /* register reads before a device counts as dead */

static uint32_t rd(const struct virtio_drv *d, unsigned off)
{
	return *(volatile uint32_t *)(d->base + off);
}

static void wr(const struct virtio_drv *d, unsigned off, uint32_t val)
{
	*(volatile uint32_t *)(d->base + off) = val;
}

/* A 64-bit register pair (QueueDescLow/High and the like). */
static void wr64(const struct virtio_drv *d, unsigned off_low, uint64_t val)
{
	wr(d, off_low, (uint32_t)val);
	wr(d, off_low + 4, (uint32_t)(val >> 32));
}

static void set_status(const struct virtio_drv *d, uint32_t bits)
{
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | bits);
}

static uint32_t peek(uintptr_t base, unsigned off)
{
	return *(volatile uint32_t *)(base + off);
}

bool virtio_drv_probe(uintptr_t base, uint64_t size, uint32_t device_id)
{
	uint32_t version;

	if (size < VIRTIO_DRV_MMIO_MIN ||
	    peek(base, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
	    peek(base, VIRTIO_MMIO_DEVICE_ID) != device_id)
		return false; /* an empty slot (device ID 0) or another kind of device */
	version = peek(base, VIRTIO_MMIO_VERSION);
	if (version != VIRTIO_MMIO_VERSION_MODERN) {
		log_warn(
		    "virtio device %u at %#lx: virtio-mmio version %u; only the modern "
		    "interface (2) is supported (QEMU: -global virtio-mmio.force-legacy=false)",
		    device_id, (unsigned long)base, version);
		return false;
	}
	return true;
}

bool virtio_drv_reset(struct virtio_drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	for (unsigned i = 0; i < VIRTIO_DRV_POLLS; i++)
		if (rd(d, VIRTIO_MMIO_STATUS) == 0)
			return true;
	return false;
}

static uint64_t offered_features(const struct virtio_drv *d)
{
	uint64_t offered;

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return offered | (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

int virtio_drv_start(struct virtio_drv *d, uint64_t wanted, uint64_t required)
{
	uint64_t offered;

	required |= BIT(VIRTIO_F_VERSION_1);
	if (!virtio_drv_reset(d)) {
		log_warn("%s: does not reset", d->what);
		return -VIREO_EIO;
	}
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(d, VIRTIO_STATUS_DRIVER);
	offered = offered_features(d);
	if ((offered & required) != required) {
		log_warn("%s: lacks features %#llx", d->what,
			 (unsigned long long)(required & ~offered));
		return -VIREO_EINVAL;
	}
	d->features = offered & (wanted | required);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)d->features);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	set_status(d, VIRTIO_STATUS_FEATURES_OK);
	/* The device clears FEATURES_OK when it cannot live with our subset. */
	if (!(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
		log_warn("%s: features %#llx refused", d->what, (unsigned long long)d->features);
		return -VIREO_EINVAL;
	}
	return 0;
}

bool virtio_drv_has(const struct virtio_drv *d, unsigned bit)
{
	return bit < 64 && (d->features & BIT(bit));
}

int virtio_drv_setup_queue(struct virtio_drv *d, unsigned index, struct virtq_drv *q, uint16_t max,
			   uint16_t min)
{
	uint32_t dev_max;
	uint16_t size = max;
	int err;

	wr(d, VIRTIO_MMIO_QUEUE_SEL, index);
	dev_max = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (rd(d, VIRTIO_MMIO_QUEUE_READY) || dev_max < min) {
		log_warn("%s: queue %u unusable (QueueNumMax %u)", d->what, index, dev_max);
		return -VIREO_EINVAL;
	}
	/* Split queues are a power of two long. */
	while (size > dev_max)
		size >>= 1;
	err = virtq_drv_init(q, size, virtio_drv_has(d, VIRTIO_F_EVENT_IDX));
	if (err)
		return err;
	wr(d, VIRTIO_MMIO_QUEUE_NUM, size);
	wr64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uintptr_t)q->desc);
	wr64(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uintptr_t)q->avail);
	wr64(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uintptr_t)q->used);
	virtio_mb();
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

void virtio_drv_ready(struct virtio_drv *d)
{
	set_status(d, VIRTIO_STATUS_DRIVER_OK);
}

void virtio_drv_fail(struct virtio_drv *d)
{
	virtio_drv_reset(d);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
}

uint32_t virtio_drv_ack_irq(struct virtio_drv *d)
{
	uint32_t isr = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	/* Acknowledge first: anything the device does after this raises the line again. */
	wr(d, VIRTIO_MMIO_INTERRUPT_ACK, isr & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG));
	virtio_mb();
	return isr;
}

bool virtio_drv_needs_reset(struct virtio_drv *d)
{
	return rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

void virtio_drv_notify(struct virtio_drv *d, unsigned index)
{
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, index);
}

int virtio_drv_config_read(struct virtio_drv *d, unsigned offset, void *buf, unsigned len)
{
	uint8_t *out = buf;

	if (offset % 4 || len % 4)
		return -VIREO_EINVAL;
	for (unsigned tries = 0; tries < 100; tries++) {
		uint32_t gen = rd(d, VIRTIO_MMIO_CONFIG_GENERATION);

		for (unsigned i = 0; i < len; i += 4) {
			uint32_t v = rd(d, VIRTIO_MMIO_CONFIG + offset + i);
			memcpy(out + i, &v, 4);
		}
		if (rd(d, VIRTIO_MMIO_CONFIG_GENERATION) == gen)
			return 0;
	}
	log_warn("%s: configuration never stable", d->what);
	return -VIREO_EIO;
}
