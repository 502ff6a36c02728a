// SPDX-License-Identifier: BSD-2-Clause
/* The VM Generation ID device; see vireo/vgenid.h. */
#include <vireo/string.h>
#include <vireo/vgenid.h>

void vgenid_init(struct vgenid *g, const uint8_t id[VGENID_SIZE], const struct irq_line *irq)
{
	g->lock = (spinlock_t)SPINLOCK_INIT;
	memcpy(g->id, id, VGENID_SIZE);
	g->irq = irq ? *irq : (struct irq_line){0};
	g->notifies = 0;
}

void vgenid_notify(struct vgenid *g)
{
	spin_lock(&g->lock);
	g->notifies++;
	spin_unlock(&g->lock);
	/* A pulse: the PLIC's gateway latches it as one request (the DT says edge). */
	irq_line_set(&g->irq, true);
	irq_line_set(&g->irq, false);
}

static int vgenid_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct vgenid *g = opaque;
	uint64_t v = 0;

	spin_lock(&g->lock);
	for (unsigned i = 0; i < width; i++)
		if (offset + i < VGENID_SIZE)
			v |= (uint64_t)g->id[offset + i] << (8 * i);
	spin_unlock(&g->lock);
	*value = v;
	return 0;
}

static int vgenid_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	(void)opaque;
	(void)offset;
	(void)width;
	(void)value;
	return 0;
}

const struct mmio_ops vgenid_mmio_ops = {
    .read = vgenid_read,
    .write = vgenid_write,
};
