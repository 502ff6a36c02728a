// SPDX-License-Identifier: BSD-2-Clause
/*
 * A flat walk of the DTB structure block that calls back for every property
 * with the depth and name of the node it is in; the two queries of
 * fdt_probe.h are small callbacks on top.
 */
#include "fdt_probe.h"
#include "guest.h"

#define FDT_MAGIC      0xd00dfeedU
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP	       4
#define FDT_END	       9

#define DEPTH_ROOT  1
#define DEPTH_CHILD 2 /* /memory@..., /soc */

struct fdt_prop {
	unsigned int depth; /* of the node that holds the property */
	const char *node;   /* its name, unit address included */
	const char *name;   /* the property's */
	const uint8_t *value;
	uint32_t len;
};

/* Returns true to stop the walk. */
typedef bool (*fdt_prop_fn)(void *ctx, const struct fdt_prop *prop);

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static const uint8_t *align4(const uint8_t *p)
{
	return (const uint8_t *)(((uintptr_t)p + 3) & ~3UL);
}

/* Walk the structure block; 0 when it ended (or fn stopped it) cleanly, -1 on garbage. */
static int fdt_walk(unsigned long dtb, fdt_prop_fn fn, void *ctx)
{
	const uint8_t *base = (const uint8_t *)dtb, *p, *end;
	const char *strings;
	struct fdt_prop prop = {0};

	/* Only look at RAM: touching a hole would stop the VM. */
	if (dtb < VM_RAM_BASE || dtb % 8 || be32(base) != FDT_MAGIC)
		return -1;
	strings = (const char *)base + be32(base + 12);
	p = base + be32(base + 8);
	end = p + be32(base + 36);
	while (p + 4 <= end) {
		uint32_t token = be32(p);

		p += 4;
		if (token == FDT_BEGIN_NODE) {
			prop.depth++;
			prop.node = (const char *)p;
			p = align4(p + strlen((const char *)p) + 1);
		} else if (token == FDT_END_NODE) {
			prop.depth--;
		} else if (token == FDT_PROP) {
			prop.len = be32(p);
			prop.name = strings + be32(p + 4);
			prop.value = p + 8;
			if (fn(ctx, &prop))
				return 0;
			p = align4(p + 8 + prop.len);
		} else if (token == FDT_END) {
			return 0;
		} else if (token != FDT_NOP) {
			return -1;
		}
	}
	return -1;
}

/* A node name matches "memory" or "memory@<anything>". */
static bool is_memory_node(const char *node)
{
	static const char prefix[] = "memory";

	for (unsigned int i = 0; i < sizeof(prefix) - 1; i++)
		if (node[i] != prefix[i])
			return false;
	return node[sizeof(prefix) - 1] == '\0' || node[sizeof(prefix) - 1] == '@';
}

struct memory_scan {
	uint32_t addr_cells, size_cells; /* of the root node, 2 and 1 by default */
	uint64_t base, size;
	bool found;
};

static uint64_t read_cells(const uint8_t *p, uint32_t cells)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < cells; i++)
		v = (v << 32) | be32(p + 4 * i);
	return v;
}

static bool memory_prop(void *ctx, const struct fdt_prop *prop)
{
	struct memory_scan *s = ctx;

	if (prop->depth == DEPTH_ROOT && prop->len == 4) {
		if (strcmp(prop->name, "#address-cells") == 0)
			s->addr_cells = be32(prop->value);
		else if (strcmp(prop->name, "#size-cells") == 0)
			s->size_cells = be32(prop->value);
		return false;
	}
	if (prop->depth != DEPTH_CHILD || !is_memory_node(prop->node) ||
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
	struct memory_scan s = {.addr_cells = 2, .size_cells = 1};

	if (fdt_walk(dtb, memory_prop, &s) < 0 || !s.found)
		return -1;
	*base = s.base;
	*size = s.size;
	return 0;
}

struct compat_scan {
	const char *want;
	bool found;
};

/* "compatible" is a list of NUL-terminated strings. */
static bool compat_prop(void *ctx, const struct fdt_prop *prop)
{
	struct compat_scan *s = ctx;
	const char *p = (const char *)prop->value, *end = p + prop->len;

	if (strcmp(prop->name, "compatible") != 0)
		return false;
	while (p < end && !s->found) {
		s->found = strcmp(p, s->want) == 0;
		p += strlen(p) + 1;
	}
	return s->found;
}

bool fdt_has_compatible(unsigned long dtb, const char *compat)
{
	struct compat_scan s = {.want = compat};

	fdt_walk(dtb, compat_prop, &s);
	return s.found;
}
