// SPDX-License-Identifier: BSD-2-Clause
/* /chosen/bootargs: one property callback on fdt_walk(). */
#include "fdt_chosen.h"
#include "fdt_walk.h"
#include "guest.h"

#define DEPTH_CHOSEN 2

static bool bootargs_prop(void *ctx, const struct fdt_prop *prop)
{
	const char **args = ctx;

	if (prop->depth != DEPTH_CHOSEN || strcmp(prop->node, "chosen") != 0 ||
	    strcmp(prop->name, "bootargs") != 0)
		return false;
	*args = (const char *)prop->value;
	return true;
}

const char *fdt_bootargs(unsigned long dtb)
{
	static const struct fdt_walk_ops ops = {.prop = bootargs_prop};
	const char *args = NULL;

	fdt_walk(dtb, &ops, &args);
	return args;
}
