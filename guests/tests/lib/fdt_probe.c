// SPDX-License-Identifier: BSD-2-Clause
/* The first RAM range and device presence: two property callbacks on fdt_walk(). */
#include "fdt_probe.h"
#include "fdt_walk.h"
#include "guest.h"

#define DEPTH_CHILD 2 /* /memory@..., /soc */

struct memory_scan {
	uint32_t addr_cells, size_cells; /* of the root node, 2 and 1 by default */
	uint64_t base, size;
	bool found;
};

static uint64_t read_cells(const uint8_t *p, uint32_t cells)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < cells; i++)
		v = (v << 32) | fdt_be32(p + 4 * i);
	return v;
}

static bool memory_prop(void *ctx, const struct fdt_prop *prop)
{
	struct memory_scan *s = ctx;

	if (prop->depth == FDT_DEPTH_ROOT && prop->len == 4) {
		if (strcmp(prop->name, "#address-cells") == 0)
			s->addr_cells = fdt_be32(prop->value);
		else if (strcmp(prop->name, "#size-cells") == 0)
			s->size_cells = fdt_be32(prop->value);
		return false;
	}
	if (prop->depth != DEPTH_CHILD || !fdt_node_is(prop->node, "memory") ||
	    strcmp(prop->name, "reg") != 0)
		return false;
	/* Cell counts above 2 do not fit 64 bits; such a tree is not one we can use. */
	if (s->addr_cells > 2 || s->size_cells > 2 ||
	    prop->len < 4 * (s->addr_cells + s->size_cells))
		return true;
	s->base = read_cells(prop->value, s->addr_cells);
	s->size = read_cells(prop->value + 4 * s->addr_cells, s->size_cells);
	s->found = true;
	return true;
}

int fdt_read_memory(unsigned long dtb, uint64_t *base, uint64_t *size)
{
	static const struct fdt_walk_ops ops = {.prop = memory_prop};
	struct memory_scan s = {.addr_cells = 2, .size_cells = 1};

	if (fdt_walk(dtb, &ops, &s) < 0 || !s.found)
		return -1;
	*base = s.base;
	*size = s.size;
	return 0;
}

struct compat_scan {
	const char *want;
	bool found;
};

/*
 * "compatible" is a list of NUL-terminated strings; one whose last byte is
 * not a NUL is skipped, so that strcmp() cannot run off its end.
 */
static bool compat_prop(void *ctx, const struct fdt_prop *prop)
{
	struct compat_scan *s = ctx;
	const char *p = (const char *)prop->value, *end = p + prop->len;

	if (strcmp(prop->name, "compatible") != 0 || prop->len == 0 || end[-1] != '\0')
		return false;
	while (p < end && !s->found) {
		s->found = strcmp(p, s->want) == 0;
		p += strlen(p) + 1;
	}
	return s->found;
}

bool fdt_has_compatible(unsigned long dtb, const char *compat)
{
	static const struct fdt_walk_ops ops = {.prop = compat_prop};
	struct compat_scan s = {.want = compat};

	fdt_walk(dtb, &ops, &s);
	return s.found;
}
