/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The per-VM MMIO bus: virtual devices register guest-physical ranges; the
 * guest-page-fault exit path looks the faulting address up and calls the
 * device. Pure logic, host-testable.
 */
#ifndef VIREO_MMIO_BUS_H
#define VIREO_MMIO_BUS_H

#include <vireo/types.h>

/*
 * Return 0 on success. A write may return -VIREO_EBUSY: the device took only
 * part of what the store asks for (a budget) and the guest executes the store
 * again, after the hart has seen to its interrupts and other vCPUs. Any other
 * negative value makes the access a fatal VM error.
 */
struct mmio_ops {
	int (*read)(void *opaque, uint64_t offset, unsigned width, uint64_t *value);
	int (*write)(void *opaque, uint64_t offset, unsigned width, uint64_t value);
};

struct mmio_region {
	gpa_t base;
	uint64_t size;
	const struct mmio_ops *ops;
	void *opaque;
	const char *name;
};

#define MMIO_BUS_MAX_REGIONS 32

struct mmio_bus {
	struct mmio_region regions[MMIO_BUS_MAX_REGIONS];
	unsigned count;
	unsigned last; /* the region found last: a guest polling a register hits it again */
};

void mmio_bus_init(struct mmio_bus *bus);
/*
 * Fails with -VIREO_EEXIST on overlap, -VIREO_ENOMEM when full, -VIREO_EINVAL on size 0,
 * on base + size past UINT64_MAX, or when ops, ops->read or ops->write is NULL.
 */
int mmio_bus_register(struct mmio_bus *bus, gpa_t base, uint64_t size, const struct mmio_ops *ops,
		      void *opaque, const char *name);
/* The region holding all of [addr, addr + width), or NULL (also for width 0). */
const struct mmio_region *mmio_bus_find(const struct mmio_bus *bus, gpa_t addr, unsigned width);
/* The same, trying the region found last first (a guest polling a register hits the
 * same device again and again): what the exit path uses. */
const struct mmio_region *mmio_bus_lookup(struct mmio_bus *bus, gpa_t addr, unsigned width);
/*
 * -VIREO_ENOENT when nothing is mapped there, -VIREO_EINVAL for a width other than
 * 1, 2, 4 or 8; otherwise what the device returns. The device sees the offset from the
 * region's base. *value is zeroed before the device's read is called.
 */
int mmio_bus_read(const struct mmio_bus *bus, gpa_t addr, unsigned width, uint64_t *value);
int mmio_bus_write(const struct mmio_bus *bus, gpa_t addr, unsigned width, uint64_t value);

#endif
