// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hart ids: /cpus/<node> children with device_type "cpu" that are not
 * disabled, and their reg. A hart is only known to be usable once its node
 * ends, since its properties may come in any order.
 */
#include "fdt.h"
#include "fdt_walk.h"
#include "guest.h"

#define DEPTH_CPUS 2
#define DEPTH_CPU  3

struct cpu_scan {
	struct fdt_cpus *out;
	bool in_cpus;
	uint32_t addr_cells; /* of /cpus, 1 by default */
	bool is_cpu, has_reg, disabled;
	unsigned long reg;
};

static bool cpu_begin(void *ctx, unsigned int depth, const char *name)
{
	struct cpu_scan *s = ctx;

	if (depth == DEPTH_CPUS)
		s->in_cpus = strcmp(name, "cpus") == 0;
	if (depth == DEPTH_CPU) {
		s->is_cpu = false;
		s->has_reg = false;
		s->disabled = false;
	}
	return false;
}

static bool cpu_end(void *ctx, unsigned int depth)
{
	struct cpu_scan *s = ctx;
	struct fdt_cpus *out = s->out;

	if (!s->in_cpus || depth != DEPTH_CPU || !s->is_cpu || !s->has_reg || s->disabled)
		return false;
	if (out->count < FDT_MAX_CPUS)
		out->hartid[out->count++] = s->reg;
	else
		out->truncated = true;
	return false;
}

static void cpus_prop(struct cpu_scan *s, const struct fdt_prop *prop)
{
	if (prop->len != 4)
		return;
	if (strcmp(prop->name, "#address-cells") == 0)
		s->addr_cells = fdt_be32(prop->value);
	else if (strcmp(prop->name, "timebase-frequency") == 0)
		s->out->timebase_hz = fdt_be32(prop->value);
}

static void cpu_prop(struct cpu_scan *s, const struct fdt_prop *prop)
{
	if (strcmp(prop->name, "device_type") == 0) {
		s->is_cpu = fdt_value_is(prop, "cpu");
	} else if (strcmp(prop->name, "status") == 0) {
		s->disabled = fdt_value_is(prop, "disabled");
	} else if (strcmp(prop->name, "reg") == 0 && prop->len >= 4 * s->addr_cells) {
		s->reg = fdt_be32(prop->value);
		if (s->addr_cells == 2)
			s->reg = (s->reg << 32) | fdt_be32(prop->value + 4);
		s->has_reg = true;
	}
}

static bool cpu_prop_fn(void *ctx, const struct fdt_prop *prop)
{
	struct cpu_scan *s = ctx;

	if (!s->in_cpus)
		return false;
	if (prop->depth == DEPTH_CPUS)
		cpus_prop(s, prop);
	else if (prop->depth == DEPTH_CPU)
		cpu_prop(s, prop);
	return false;
}

int fdt_read_cpus(unsigned long dtb, struct fdt_cpus *out)
{
	static const struct fdt_walk_ops ops = {
	    .begin_node = cpu_begin,
	    .end_node = cpu_end,
	    .prop = cpu_prop_fn,
	};
	struct cpu_scan s = {.out = out, .addr_cells = 1};

	memset(out, 0, sizeof(*out));
	return fdt_walk(dtb, &ops, &s);
}
