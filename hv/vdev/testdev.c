// SPDX-License-Identifier: BSD-2-Clause
/*
 * The MMIO test device: memory-like bytes (so that tests can check every
 * width and the sign/zero extension of loads) plus read-only registers that
 * record the last data access, proving that it trapped into Vireo.
 */
#include <vireo/testdev.h>

void testdev_init(struct testdev *t)
{
	for (unsigned i = 0; i < TESTDEV_DATA_SIZE; i++)
		t->data[i] = 0;
	t->last_width = t->last_is_write = t->access_count = t->last_offset = 0;
	t->lock = (spinlock_t)SPINLOCK_INIT;
}

static void record(struct testdev *t, uint64_t offset, unsigned width, bool is_write)
{
	t->last_width = width;
	t->last_is_write = is_write;
	t->last_offset = offset;
	t->access_count++;
}

static bool register_value(struct testdev *t, uint64_t offset, uint64_t *value)
{
	switch (offset) {
	case TESTDEV_LAST_WIDTH:
		*value = t->last_width;
		return true;
	case TESTDEV_LAST_IS_WRITE:
		*value = t->last_is_write;
		return true;
	case TESTDEV_ACCESS_COUNT:
		*value = t->access_count;
		return true;
	case TESTDEV_LAST_OFFSET:
		*value = t->last_offset;
		return true;
	default:
		return false;
	}
}

static int testdev_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct testdev *t = opaque;
	uint64_t v = 0;

	spin_lock(&t->lock);
	if (offset + width <= TESTDEV_DATA_SIZE) {
		/* Little-endian, like the harts. */
		for (unsigned i = 0; i < width; i++)
			v |= (uint64_t)t->data[offset + i] << (8 * i);
		record(t, offset, width, false);
	} else if (!register_value(t, offset, &v)) {
		v = 0;
	}
	spin_unlock(&t->lock);
	*value = v;
	return 0;
}

static int testdev_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct testdev *t = opaque;

	spin_lock(&t->lock);
	if (offset + width <= TESTDEV_DATA_SIZE) {
		for (unsigned i = 0; i < width; i++)
			t->data[offset + i] = (uint8_t)(value >> (8 * i));
		record(t, offset, width, true);
	}
	spin_unlock(&t->lock);
	return 0;
}

const struct mmio_ops testdev_mmio_ops = {
    .read = testdev_read,
    .write = testdev_write,
};
