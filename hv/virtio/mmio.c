// SPDX-License-Identifier: BSD-2-Clause
/* The virtio-mmio transport of Vireo's virtual devices; see vireo/virtio_dev.h. */
#include <vireo/snap_io.h>
#include <vireo/string.h>
#include <vireo/virtio_dev.h>

/* Status bits the driver may set; DEVICE_NEEDS_RESET is the device's. */
#define DRIVER_STATUS                                                                              \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |              \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED)

/* ---------------------------------------------------------------- interrupts */

/* Drives the line only when its level changes. */
static void update_irq(struct virtio_dev *d)
{
	bool level = d->isr != 0;

	spin_assert_held(&d->lock);
	if (level == d->irq_level)
		return;
	d->irq_level = level;
	irq_line_set(&d->irq, level);
}

void virtio_dev_interrupt(struct virtio_dev *d, bool config_change)
{
	d->isr |= config_change ? VIRTIO_MMIO_INT_CONFIG : VIRTIO_MMIO_INT_VRING;
	update_irq(d);
}

void virtio_dev_complete(struct virtio_dev *d, unsigned q, uint16_t head, uint32_t len)
{
	spin_assert_held(&d->lock);
	virtq_push(&d->queues[q], head, len);
	if (virtq_should_notify(&d->queues[q]))
		virtio_dev_interrupt(d, false);
}

void virtio_dev_needs_reset(struct virtio_dev *d)
{
	spin_assert_held(&d->lock);
	d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_dev_interrupt(d, true);
}

void virtio_dev_config_changed(struct virtio_dev *d)
{
	d->config_generation++;
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_dev_interrupt(d, true);
}

/* ---------------------------------------------------------------- state */

bool virtio_dev_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return bit < 64 && (d->driver_features & VIRTIO_FEATURE(bit));
}

bool virtio_dev_queue_live(const struct virtio_dev *d, unsigned q)
{
	return q < d->nqueues && d->queues[q].ready && (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & (VIRTIO_STATUS_FAILED | VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}

static void reset_locked(struct virtio_dev *d)
{
	d->status = 0;
	d->device_features_sel = 0;
	d->driver_features_sel = 0;
	d->driver_features = 0;
	d->queue_sel = 0;
	for (unsigned i = 0; i < d->nqueues; i++)
		virtq_reset(&d->queues[i], d->queues[i].num_max);
	if (d->ops->reset)
		d->ops->reset(d);
	d->isr = 0;
	update_irq(d);
}

void virtio_dev_reset(struct virtio_dev *d)
{
	spin_lock(&d->lock);
	reset_locked(d);
	spin_unlock(&d->lock);
}

void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		     const struct guest_mem *mem, const struct irq_line *irq, uint64_t features,
		     struct virtq *queues, unsigned nqueues, uint16_t queue_max, const void *config,
		     size_t config_size)
{
	d->lock = (spinlock_t)SPINLOCK_INIT;
	d->ops = ops;
	d->mem = mem;
	d->irq = irq ? *irq : (struct irq_line){0};
	d->device_features = features | VIRTIO_FEATURE(VIRTIO_F_VERSION_1);
	d->queues = queues;
	d->nqueues = nqueues;
	d->config = config;
	d->config_size = config_size;
	d->config_generation = 0;
	d->irq_level = false;
	for (unsigned i = 0; i < nqueues; i++)
		virtq_reset(&queues[i], queue_max);
	d->status = 0;
	d->device_features_sel = 0;
	d->driver_features_sel = 0;
	d->driver_features = 0;
	d->queue_sel = 0;
	d->isr = 0;
}

/* The selected queue, or NULL when QueueSel names none. */
static struct virtq *selected(const struct virtio_dev *d)
{
	return d->queue_sel < d->nqueues ? &d->queues[d->queue_sel] : NULL;
}

/* ---------------------------------------------------------------- register writes */

/* FEATURES_OK only for a subset of what is offered that includes VERSION_1 (a modern device). */
static bool features_ok(const struct virtio_dev *d)
{
	return !(d->driver_features & ~d->device_features) &&
	       (d->driver_features & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
}

/* Status bits only accumulate; 0 resets. True when the driver just became ready, or
 * the device was just reset (the device may have news for others then too). */
static bool write_status(struct virtio_dev *d, uint32_t value)
{
	uint32_t add = value & DRIVER_STATUS & ~d->status;

	if (!value) {
		reset_locked(d);
		return true;
	}
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !features_ok(d))
		add &= ~VIRTIO_STATUS_FEATURES_OK;
	/* A modern device runs only with negotiated features. */
	if (!((d->status | add) & VIRTIO_STATUS_FEATURES_OK))
		add &= ~VIRTIO_STATUS_DRIVER_OK;
	d->status |= add;
	return add & VIRTIO_STATUS_DRIVER_OK;
}

static void write_driver_features(struct virtio_dev *d, uint32_t value)
{
	unsigned shift = 32 * d->driver_features_sel;

	/* Features are fixed once accepted; words past the second do not exist. */
	if ((d->status & VIRTIO_STATUS_FEATURES_OK) || d->driver_features_sel > 1)
		return;
	d->driver_features &= ~((uint64_t)UINT32_MAX << shift);
	d->driver_features |= (uint64_t)value << shift;
}

/* One half of a ring address; the rings may not move under a live queue. */
static void write_addr(const struct virtq *q, uint64_t *addr, bool high, uint32_t value)
{
	if (q->ready)
		return;
	if (high)
		*addr = (*addr & UINT32_MAX) | (uint64_t)value << 32;
	else
		*addr = (*addr & ~(uint64_t)UINT32_MAX) | value;
}

static void write_queue_ready(struct virtio_dev *d, uint32_t value)
{
	struct virtq *q = selected(d);

	if (!q || !value == !q->ready)
		return;
	if (!value) {
		q->ready = false;
		if (d->ops->queue_stop)
			d->ops->queue_stop(d, d->queue_sel);
		return;
	}
	/* QueueReady = 1: the rings must be a power-of-two size, aligned and inside RAM. */
	if (virtq_enable(q, d->mem, virtio_dev_has_feature(d, VIRTIO_F_INDIRECT_DESC),
			 virtio_dev_has_feature(d, VIRTIO_F_EVENT_IDX)))
		virtio_dev_needs_reset(d);
}

/* The queue-address registers: which ring part, and which half of its address. */
enum ring_part { RING_NONE, RING_DESC, RING_AVAIL, RING_USED };

static enum ring_part ring_reg(uint64_t offset, bool *high)
{
	*high = offset & 4;
	switch (offset & ~4ULL) {
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return RING_DESC;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		return RING_AVAIL;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		return RING_USED;
	default:
		return RING_NONE;
	}
}

static uint64_t *ring_gpa(struct virtq *q, enum ring_part part)
{
	return part == RING_DESC ? &q->desc_gpa : part == RING_AVAIL ? &q->avail_gpa : &q->used_gpa;
}

static uint64_t ring_gpa_value(const struct virtq *q, enum ring_part part)
{
	return part == RING_DESC ? q->desc_gpa : part == RING_AVAIL ? q->avail_gpa : q->used_gpa;
}

/* Returns the queue to notify (-1: the driver became ready), or -2 for nothing. */
static int reg_write(struct virtio_dev *d, uint64_t offset, uint32_t value)
{
	struct virtq *q = selected(d);
	enum ring_part part;
	bool high = false;

	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = value;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		write_driver_features(d, value);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = value;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = value;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q && !q->ready)
			q->num = value;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		write_queue_ready(d, value);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Only the queue index matters (no NOTIFICATION_DATA). */
		return value < d->nqueues ? (int)value : -2;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		d->isr &= ~value;
		update_irq(d);
		break;
	case VIRTIO_MMIO_STATUS:
		return write_status(d, value) ? -1 : -2;
	default:
		part = ring_reg(offset, &high);
		if (q && part != RING_NONE)
			write_addr(q, ring_gpa(q, part), high, value);
		break; /* read-only and reserved registers */
	}
	return -2;
}

/* ---------------------------------------------------------------- register reads */

static uint32_t features_half(uint64_t features, uint32_t sel)
{
	return sel > 1 ? 0 : (uint32_t)(features >> (32 * sel));
}

static uint32_t queue_reg_read(const struct virtq *q, uint64_t offset)
{
	bool high = false;
	enum ring_part part;

	/* Queues that do not exist read 0. */
	if (!q)
		return 0;
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q->num_max;
	case VIRTIO_MMIO_QUEUE_NUM:
		return q->num;
	case VIRTIO_MMIO_QUEUE_READY:
		return q->ready;
	default:
		part = ring_reg(offset, &high);
		if (part == RING_NONE)
			return 0;
		return (uint32_t)(ring_gpa_value(q, part) >> (high ? 32 : 0));
	}
}

static uint32_t reg_read(const struct virtio_dev *d, uint64_t offset)
{
	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_MODERN;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_DEV_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return features_half(d->device_features, d->device_features_sel);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return d->isr;
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return d->config_generation;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return UINT32_MAX; /* "no such shared memory region" (spec 4.2.2) */
	default:
		return queue_reg_read(selected(d), offset);
	}
}

/* Any width at any offset; little-endian; past the structure reads 0. */
static uint64_t config_read(const struct virtio_dev *d, uint64_t offset, unsigned width)
{
	const uint8_t *cfg = d->config;
	uint64_t value = 0;

	for (unsigned i = 0; i < width; i++)
		if (offset + i < d->config_size)
			value |= (uint64_t)cfg[offset + i] << (8 * i);
	return value;
}

/* ---------------------------------------------------------------- MMIO */

static bool reg_access_ok(uint64_t offset, unsigned width)
{
	return width == 4 && IS_ALIGNED(offset, 4);
}

static int virtio_dev_mmio_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct virtio_dev *d = opaque;

	*value = 0;
	if (width != 1 && width != 2 && width != 4 && width != 8)
		return 0;
	spin_lock(&d->lock);
	if (offset >= VIRTIO_MMIO_CONFIG)
		*value = config_read(d, offset - VIRTIO_MMIO_CONFIG, width);
	else if (reg_access_ok(offset, width))
		*value = reg_read(d, offset);
	spin_unlock(&d->lock);
	return 0;
}

static int virtio_dev_mmio_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct virtio_dev *d = opaque;
	int notify = -2;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		if (!d->ops->config_write || (width != 1 && width != 2 && width != 4 && width != 8))
			return 0;
		spin_lock(&d->lock);
		d->ops->config_write(d, offset - VIRTIO_MMIO_CONFIG, width, value);
		spin_unlock(&d->lock);
		return 0;
	}
	if (!reg_access_ok(offset, width))
		return 0;
	spin_lock(&d->lock);
	notify = reg_write(d, offset, (uint32_t)value);
	spin_unlock(&d->lock);
	/* Outside the lock: the device may hand work to a backend that completes at once. */
	if (notify != -2 && d->ops->notify)
		d->ops->notify(d, notify);
	return 0;
}

const struct mmio_ops virtio_dev_mmio_ops = {.read = virtio_dev_mmio_read,
					     .write = virtio_dev_mmio_write};

/* ---------------------------------------------------------------- snapshots */

static void queue_save(const struct virtq *q, struct snap_writer *w)
{
	snap_put_u32(w, q->num);
	snap_put_u8(w, q->ready);
	snap_put_u64(w, q->desc_gpa);
	snap_put_u64(w, q->avail_gpa);
	snap_put_u64(w, q->used_gpa);
	snap_put_u16(w, q->last_avail);
	snap_put_u16(w, q->used_idx);
	snap_put_u16(w, q->signalled);
	snap_put_u8(w, q->signalled_valid);
}

/* Like QueueReady = 1, then the indices where they were: the rings are checked
 * against this VM's RAM again (the state is untrusted). */
static int queue_load(struct virtio_dev *d, struct virtq *q, struct snap_reader *r)
{
	bool ready;
	uint16_t last_avail, used_idx, signalled;
	bool signalled_valid;

	q->num = snap_get_u32(r);
	ready = snap_get_bool(r);
	q->desc_gpa = snap_get_u64(r);
	q->avail_gpa = snap_get_u64(r);
	q->used_gpa = snap_get_u64(r);
	last_avail = snap_get_u16(r);
	used_idx = snap_get_u16(r);
	signalled = snap_get_u16(r);
	signalled_valid = snap_get_bool(r);
	if (r->failed)
		return -VIREO_EINVAL;
	if (!ready)
		return 0;
	if (virtq_enable(q, d->mem, virtio_dev_has_feature(d, VIRTIO_F_INDIRECT_DESC),
			 virtio_dev_has_feature(d, VIRTIO_F_EVENT_IDX)))
		return -VIREO_EINVAL;
	q->last_avail = last_avail;
	q->used_idx = used_idx;
	q->signalled = signalled;
	q->signalled_valid = signalled_valid;
	return 0;
}

void virtio_dev_save(struct virtio_dev *d, struct snap_writer *w)
{
	spin_lock(&d->lock);
	snap_put_u32(w, d->nqueues);
	snap_put_u32(w, d->status);
	snap_put_u32(w, d->device_features_sel);
	snap_put_u32(w, d->driver_features_sel);
	snap_put_u64(w, d->driver_features);
	snap_put_u32(w, d->queue_sel);
	snap_put_u32(w, d->isr);
	snap_put_u32(w, d->config_generation);
	for (unsigned i = 0; i < d->nqueues; i++)
		queue_save(&d->queues[i], w);
	spin_unlock(&d->lock);
}

int virtio_dev_load(struct virtio_dev *d, struct snap_reader *r)
{
	int err = 0;

	spin_lock(&d->lock);
	reset_locked(d);
	if (snap_get_u32(r) != d->nqueues)
		r->failed = true;
	d->status = snap_get_u32(r);
	d->device_features_sel = snap_get_u32(r);
	d->driver_features_sel = snap_get_u32(r);
	d->driver_features = snap_get_u64(r);
	d->queue_sel = snap_get_u32(r);
	d->isr = snap_get_u32(r) & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	d->config_generation = snap_get_u32(r);
	/* Only what the device offers, only status bits a driver or device can set. */
	if ((d->driver_features & ~d->device_features) ||
	    (d->status & ~(DRIVER_STATUS | VIRTIO_STATUS_DEVICE_NEEDS_RESET)))
		r->failed = true;
	for (unsigned i = 0; i < d->nqueues && !r->failed && !err; i++)
		err = queue_load(d, &d->queues[i], r);
	if (r->failed || err) {
		reset_locked(d);
		err = -VIREO_EINVAL;
	} else {
		update_irq(d);
	}
	spin_unlock(&d->lock);
	return err;
}
