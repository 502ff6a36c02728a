// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Goldfish RTC register model (see vrtc.h). The semantics follow what
 * Linux's rtc-goldfish driver relies on and QEMU's device does: reading
 * TIME_LOW latches TIME_HIGH (so a LOW-then-HIGH read pair is one consistent
 * 64-bit value), writing ALARM_LOW arms the alarm, and the interrupt line is
 * "alarm fired and not cleared" AND "interrupts enabled".
 */
#include <vireo/snap_io.h>
#include <vireo/vrtc.h>

void vrtc_init(struct vrtc *r, const struct vrtc_clock *clock, int64_t offset_ns,
	       const struct irq_line *irq)
{
	r->lock = (spinlock_t)SPINLOCK_INIT;
	r->clock = *clock;
	r->irq = irq ? *irq : (struct irq_line){0};
	r->offset_ns = (uint64_t)offset_ns;
	r->alarm_ns = r->alarm_at = 0;
	r->time_high = 0;
	r->alarm_armed = r->irq_enabled = r->irq_pending = false;
}

static uint64_t host_now(struct vrtc *r)
{
	return r->clock.now_ns(r->clock.ctx);
}

static uint64_t guest_now(struct vrtc *r)
{
	return host_now(r) + r->offset_ns;
}

static void update_line(struct vrtc *r)
{
	spin_assert_held(&r->lock);
	irq_line_set(&r->irq, r->irq_pending && r->irq_enabled);
}

/* Fire a due alarm; otherwise the host time at which it will be due (or NEVER). */
static uint64_t check_locked(struct vrtc *r)
{
	uint64_t host, guest;

	spin_assert_held(&r->lock);
	if (!r->alarm_armed)
		return VRTC_NEVER;
	host = host_now(r);
	guest = host + r->offset_ns;
	if (r->alarm_at <= guest) {
		r->alarm_armed = false;
		r->irq_pending = true;
		update_line(r);
		return VRTC_NEVER;
	}
	/* Counted from now, so that an offset near the ends of the range cannot wrap; an
	 * alarm beyond the end of the host's clock can never come. */
	uint64_t wait = r->alarm_at - guest;
	return wait < VRTC_NEVER - host ? host + wait : VRTC_NEVER;
}

uint64_t vrtc_now(struct vrtc *r)
{
	uint64_t t;

	spin_lock(&r->lock);
	t = guest_now(r);
	spin_unlock(&r->lock);
	return t;
}

int64_t vrtc_offset(struct vrtc *r)
{
	int64_t off;

	spin_lock(&r->lock);
	off = (int64_t)r->offset_ns;
	spin_unlock(&r->lock);
	return off;
}

uint64_t vrtc_alarm_check(struct vrtc *r)
{
	uint64_t due;

	spin_lock(&r->lock);
	due = check_locked(r);
	spin_unlock(&r->lock);
	return due;
}

static uint64_t set_half(uint64_t value, uint32_t half, bool high)
{
	if (high)
		return (value & 0xffffffffULL) | (uint64_t)half << 32;
	return (value & ~0xffffffffULL) | half;
}

static uint32_t read_reg(struct vrtc *r, uint64_t offset)
{
	switch (offset) {
	case VRTC_TIME_LOW: {
		uint64_t t = guest_now(r);
		r->time_high = (uint32_t)(t >> 32);
		return (uint32_t)t;
	}
	case VRTC_TIME_HIGH:
		return r->time_high;
	case VRTC_ALARM_LOW:
		return (uint32_t)r->alarm_ns;
	case VRTC_ALARM_HIGH:
		return (uint32_t)(r->alarm_ns >> 32);
	case VRTC_IRQ_ENABLED:
		return r->irq_enabled;
	case VRTC_ALARM_STATUS:
		return r->alarm_armed;
	default:
		return 0; /* write-only and unassigned registers */
	}
}

/* Setting one half of the clock keeps the other half of the current time. */
static void set_time_half(struct vrtc *r, uint32_t value, bool high)
{
	uint64_t host = host_now(r);
	uint64_t wanted = set_half(host + r->offset_ns, value, high);

	r->offset_ns = wanted - host;
}

static void write_reg(struct vrtc *r, uint64_t offset, uint32_t value)
{
	switch (offset) {
	case VRTC_TIME_LOW:
	case VRTC_TIME_HIGH:
		set_time_half(r, value, offset == VRTC_TIME_HIGH);
		break;
	case VRTC_ALARM_LOW:
		r->alarm_ns = set_half(r->alarm_ns, value, false);
		/* Only now does the alarm move: a lone ALARM_HIGH write leaves an armed one be. */
		r->alarm_at = r->alarm_ns;
		r->alarm_armed = true;
		break;
	case VRTC_ALARM_HIGH:
		r->alarm_ns = set_half(r->alarm_ns, value, true);
		break;
	case VRTC_IRQ_ENABLED:
		r->irq_enabled = value & 1;
		update_line(r);
		break;
	case VRTC_CLEAR_ALARM:
		r->alarm_armed = false;
		break;
	case VRTC_CLEAR_INTERRUPT:
		r->irq_pending = false;
		update_line(r);
		break;
	default:
		break; /* read-only and unassigned registers */
	}
}

static bool valid_access(uint64_t offset, unsigned width)
{
	return width == 4 && (offset & 3) == 0;
}

static int vrtc_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct vrtc *r = opaque;

	*value = 0;
	if (!valid_access(offset, width))
		return 0;
	spin_lock(&r->lock);
	/* An alarm that is due fires before the guest looks, even if the timer is late. */
	check_locked(r);
	*value = read_reg(r, offset);
	spin_unlock(&r->lock);
	return 0;
}

static int vrtc_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct vrtc *r = opaque;
	uint64_t due;

	if (!valid_access(offset, width))
		return 0;
	spin_lock(&r->lock);
	write_reg(r, offset, (uint32_t)value);
	/* The alarm (or the clock under it) may have moved: fire it or re-aim the timer. */
	due = check_locked(r);
	spin_unlock(&r->lock);
	if (r->clock.alarm_due)
		r->clock.alarm_due(r->clock.ctx, due);
	return 0;
}

const struct mmio_ops vrtc_mmio_ops = {
    .read = vrtc_read,
    .write = vrtc_write,
};

/* ---------------------------------------------------------------- snapshots */

void vrtc_save(struct vrtc *r, struct snap_writer *w)
{
	spin_lock(&r->lock);
	snap_put_u64(w, r->offset_ns);
	snap_put_u64(w, r->alarm_ns);
	snap_put_u64(w, r->alarm_at);
	snap_put_u32(w, r->time_high);
	snap_put_u8(w, r->alarm_armed);
	snap_put_u8(w, r->irq_enabled);
	snap_put_u8(w, r->irq_pending);
	spin_unlock(&r->lock);
}

int vrtc_load(struct vrtc *r, struct snap_reader *r_in)
{
	uint64_t due;

	spin_lock(&r->lock);
	r->offset_ns = snap_get_u64(r_in);
	r->alarm_ns = snap_get_u64(r_in);
	r->alarm_at = snap_get_u64(r_in);
	r->time_high = snap_get_u32(r_in);
	r->alarm_armed = snap_get_bool(r_in);
	r->irq_enabled = snap_get_bool(r_in);
	r->irq_pending = snap_get_bool(r_in);
	if (r_in->failed)
		r->alarm_armed = r->irq_enabled = r->irq_pending = false;
	update_line(r);
	due = check_locked(r);
	spin_unlock(&r->lock);
	/* An armed alarm needs the caller's timer again (it is this VM's, and new). */
	r->clock.alarm_due(r->clock.ctx, due);
	return r_in->failed ? -VIREO_EINVAL : 0;
}
