/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one walker of the DTB structure block behind the guests' device-tree
 * queries (fdt.h, fdt_isa.h, fdt_probe.h, fdt_chosen.h): each query is a few
 * callbacks on it.
 */
#ifndef GUEST_FDT_WALK_H
#define GUEST_FDT_WALK_H

#include <vireo/types.h>

/* Node depth as the walk counts it: the root node is 1, its children 2. */
#define FDT_DEPTH_ROOT 1

struct fdt_prop {
	unsigned int depth; /* of the node that holds the property */
	const char *node;   /* that node's name, unit address included */
	const char *name;   /* the property's */
	const uint8_t *value;
	uint32_t len;
};

/* Each callback may be NULL; one that returns true stops the walk. */
struct fdt_walk_ops {
	bool (*begin_node)(void *ctx, unsigned int depth, const char *name);
	bool (*end_node)(void *ctx, unsigned int depth);
	bool (*prop)(void *ctx, const struct fdt_prop *prop);
};

/*
 * Walk the DTB at dtb in document order. Returns 0 when the walk reached the
 * end token or a callback stopped it, -1 if dtb is not a valid DTB; nothing
 * outside the blocks its header describes is read.
 */
int fdt_walk(unsigned long dtb, const struct fdt_walk_ops *ops, void *ctx);

/* A big-endian 32-bit cell at any alignment. */
uint32_t fdt_be32(const void *p);

/* True if node is named base, with or without a unit address ("memory", "memory@80000000"). */
bool fdt_node_is(const char *node, const char *base);

/* True if the property's value is exactly the string s. */
bool fdt_value_is(const struct fdt_prop *prop, const char *s);

#endif
