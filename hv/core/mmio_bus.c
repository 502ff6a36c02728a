// SPDX-License-Identifier: BSD-2-Clause
/*
 * The per-VM MMIO bus. Regions are registered while the VM is built, before
 * any vCPU runs, so lookups need no lock. A VM has a handful of devices: a
 * linear scan is as fast as anything cleverer and obviously correct.
 *
 * Every region satisfies size > 0 and base + size <= UINT64_MAX, so the end
 * of a region never wraps and the range checks below cannot overflow.
 */
#include <vireo/mmio_bus.h>

void mmio_bus_init(struct mmio_bus *bus)
{
	/* Slots past count are never read, so there is nothing else to clear. */
	bus->count = 0;
	bus->last = 0;
}

static bool mmio_region_overlaps(const struct mmio_region *region, gpa_t base, uint64_t size)
{
	return base < region->base + region->size && region->base < base + size;
}

int mmio_bus_register(struct mmio_bus *bus, gpa_t base, uint64_t size, const struct mmio_ops *ops,
		      void *opaque, const char *name)
{
	struct mmio_region *region;
	unsigned i;

	if (size == 0 || size > UINT64_MAX - base)
		return -VIREO_EINVAL;
	/* Checked here so that the access path never calls through NULL. */
	if (!ops || !ops->read || !ops->write)
		return -VIREO_EINVAL;
	for (i = 0; i < bus->count; i++)
		if (mmio_region_overlaps(&bus->regions[i], base, size))
			return -VIREO_EEXIST;
	if (bus->count == MMIO_BUS_MAX_REGIONS)
		return -VIREO_ENOMEM;

	region = &bus->regions[bus->count];
	region->base = base;
	region->size = size;
	region->ops = ops;
	region->opaque = opaque;
	region->name = name;
	bus->count++;
	return 0;
}

/* An empty access (width 0) lies in no region. */
/* Compare offsets, not end addresses: addr + width may wrap. */
static bool region_holds(const struct mmio_region *region, gpa_t addr, unsigned width)
{
	return addr >= region->base && addr - region->base < region->size &&
	       width <= region->size - (addr - region->base);
}

/* An empty access (width 0) lies in no region. */
const struct mmio_region *mmio_bus_find(const struct mmio_bus *bus, gpa_t addr, unsigned width)
{
	if (width == 0)
		return NULL;
	for (unsigned i = 0; i < bus->count; i++)
		if (region_holds(&bus->regions[i], addr, width))
			return &bus->regions[i];
	return NULL;
}

const struct mmio_region *mmio_bus_lookup(struct mmio_bus *bus, gpa_t addr, unsigned width)
{
	/* Any hart may update the hint; a stale one is only a miss. */
	unsigned last = __atomic_load_n(&bus->last, __ATOMIC_RELAXED);
	const struct mmio_region *region;

	if (width && last < bus->count && region_holds(&bus->regions[last], addr, width))
		return &bus->regions[last];
	region = mmio_bus_find(bus, addr, width);
	if (region)
		__atomic_store_n(&bus->last, (unsigned)(region - bus->regions), __ATOMIC_RELAXED);
	return region;
}

static bool mmio_bus_width_ok(unsigned width)
{
	return width == 1 || width == 2 || width == 4 || width == 8;
}

int mmio_bus_read(const struct mmio_bus *bus, gpa_t addr, unsigned width, uint64_t *value)
{
	const struct mmio_region *region;

	if (!mmio_bus_width_ok(width))
		return -VIREO_EINVAL;
	region = mmio_bus_find(bus, addr, width);
	if (!region)
		return -VIREO_ENOENT;
	/* A device that forgets to set *value must not leak hypervisor stack to the guest. */
	*value = 0;
	return region->ops->read(region->opaque, addr - region->base, width, value);
}

int mmio_bus_write(const struct mmio_bus *bus, gpa_t addr, unsigned width, uint64_t value)
{
	const struct mmio_region *region;

	if (!mmio_bus_width_ok(width))
		return -VIREO_EINVAL;
	region = mmio_bus_find(bus, addr, width);
	if (!region)
		return -VIREO_ENOENT;
	return region->ops->write(region->opaque, addr - region->base, width, value);
}
