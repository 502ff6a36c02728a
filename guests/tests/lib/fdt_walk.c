// SPDX-License-Identifier: BSD-2-Clause
/*
 * A flat walk of the DTB structure block. Guests get the DTB pointer in a1
 * from whatever booted them, so every offset and length is checked against
 * the sizes in the header before it is followed: a garbage pointer or a
 * corrupt tree ends the walk with -1 instead of a stray load.
 */
#include "fdt_walk.h"
#include "guest.h"

#define FDT_MAGIC      0xd00dfeedU
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP	       4
#define FDT_END	       9

/* Header fields, as byte offsets; size_dt_struct is the last one the walk needs. */
#define HDR_TOTALSIZE	    4
#define HDR_OFF_DT_STRUCT   8
#define HDR_OFF_DT_STRINGS  12
#define HDR_SIZE_DT_STRINGS 32
#define HDR_SIZE_DT_STRUCT  36
#define HDR_SIZE	    40

/* What a token handler tells the loop. */
enum step { STEP_ON, STEP_STOP, STEP_BAD };

static enum step stop_if(bool stop)
{
	return stop ? STEP_STOP : STEP_ON;
}

struct walk {
	const uint8_t *st; /* the structure block */
	size_t st_size;
	const char *strings; /* the strings block */
	size_t strings_size;
	const struct fdt_walk_ops *ops;
	void *ctx;
	struct fdt_prop prop; /* depth and name of the innermost open node */
};

/* Byte by byte: without Zbb, __builtin_bswap32 would need libgcc. */
uint32_t fdt_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* size_t, not uint32_t: offsets near 4 GiB must not wrap back into the block. */
static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Is [off, off + len) inside [0, total)? */
static bool inside(size_t off, size_t len, size_t total)
{
	return off <= total && len <= total - off;
}

/* Does a NUL end the string at off before the block of size bytes does? */
static bool string_ends(const char *block, size_t off, size_t size)
{
	for (; off < size; off++)
		if (block[off] == '\0')
			return true;
	return false;
}

static int read_header(unsigned long dtb, struct walk *w)
{
	const uint8_t *base = (const uint8_t *)dtb;
	size_t total, st_off, str_off;

	/* Only look at RAM: touching a hole would stop the VM. */
	if (dtb < VM_RAM_BASE || dtb % 8 || fdt_be32(base) != FDT_MAGIC)
		return -1;
	total = fdt_be32(base + HDR_TOTALSIZE);
	if (total < HDR_SIZE)
		return -1;
	st_off = fdt_be32(base + HDR_OFF_DT_STRUCT);
	str_off = fdt_be32(base + HDR_OFF_DT_STRINGS);
	w->st_size = fdt_be32(base + HDR_SIZE_DT_STRUCT);
	w->strings_size = fdt_be32(base + HDR_SIZE_DT_STRINGS);
	if (!inside(st_off, w->st_size, total) || !inside(str_off, w->strings_size, total))
		return -1;
	w->st = base + st_off;
	w->strings = (const char *)base + str_off;
	return 0;
}

static enum step begin_node(struct walk *w, size_t *off)
{
	const char *name = (const char *)w->st + *off;
	const struct fdt_walk_ops *ops = w->ops;

	if (!string_ends((const char *)w->st, *off, w->st_size))
		return STEP_BAD;
	*off = align4(*off + strlen(name) + 1);
	w->prop.depth++;
	w->prop.node = name;
	return stop_if(ops->begin_node && ops->begin_node(w->ctx, w->prop.depth, name));
}

static enum step end_node(struct walk *w)
{
	const struct fdt_walk_ops *ops = w->ops;
	unsigned int depth = w->prop.depth;

	if (depth == 0)
		return STEP_BAD;
	/* The parent's name is not kept: its properties all came before this child. */
	w->prop.depth--;
	return stop_if(ops->end_node && ops->end_node(w->ctx, depth));
}

static enum step prop(struct walk *w, size_t *off)
{
	struct fdt_prop *p = &w->prop;
	size_t name_off;

	/* A property outside every node, or one running past the block, is garbage. */
	if (p->depth == 0 || !inside(*off, 8, w->st_size))
		return STEP_BAD;
	p->len = fdt_be32(w->st + *off);
	name_off = fdt_be32(w->st + *off + 4);
	if (!inside(*off + 8, p->len, w->st_size) ||
	    !string_ends(w->strings, name_off, w->strings_size))
		return STEP_BAD;
	p->name = w->strings + name_off;
	p->value = w->st + *off + 8;
	*off = align4(*off + 8 + p->len);
	return stop_if(w->ops->prop && w->ops->prop(w->ctx, p));
}

/* Handle the token at *off, moving *off past it. */
static enum step step(struct walk *w, size_t *off)
{
	uint32_t token;

	if (!inside(*off, 4, w->st_size))
		return STEP_BAD;
	token = fdt_be32(w->st + *off);
	*off += 4;
	switch (token) {
	case FDT_BEGIN_NODE:
		return begin_node(w, off);
	case FDT_END_NODE:
		return end_node(w);
	case FDT_PROP:
		return prop(w, off);
	case FDT_NOP:
		return STEP_ON;
	case FDT_END:
		return STEP_STOP;
	default:
		return STEP_BAD;
	}
}

int fdt_walk(unsigned long dtb, const struct fdt_walk_ops *ops, void *ctx)
{
	struct walk w = {.ops = ops, .ctx = ctx};
	size_t off = 0;
	enum step s = STEP_ON;

	if (read_header(dtb, &w) < 0)
		return -1;
	while (s == STEP_ON)
		s = step(&w, &off);
	return s == STEP_STOP ? 0 : -1;
}

bool fdt_node_is(const char *node, const char *base)
{
	while (*base && *node == *base) {
		node++;
		base++;
	}
	return *base == '\0' && (*node == '\0' || *node == '@');
}

bool fdt_value_is(const struct fdt_prop *prop, const char *s)
{
	return prop->len == strlen(s) + 1 && memcmp(prop->value, s, prop->len) == 0;
}
