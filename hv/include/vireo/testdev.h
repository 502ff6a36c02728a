/* SPDX-License-Identifier: BSD-2-Clause */
/* Vireo's MMIO test device (register map in vm_layout.h). Host-testable. */
#ifndef VIREO_TESTDEV_H
#define VIREO_TESTDEV_H

#include <vireo/mmio_bus.h>
#include <vireo/spinlock.h>
#include <vireo/vm_layout.h>

struct testdev {
	uint8_t data[TESTDEV_DATA_SIZE];
	uint64_t last_width, last_is_write, access_count, last_offset;
	spinlock_t lock;
};

void testdev_init(struct testdev *t);
extern const struct mmio_ops testdev_mmio_ops;

#endif
