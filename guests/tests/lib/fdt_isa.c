// SPDX-License-Identifier: BSD-2-Clause
/*
 * riscv,isa of the first hart under /cpus, and a test for one extension in
 * such a string. Separate from fdt.c, which only lists hart ids.
 */
#include "fdt_isa.h"
#include "fdt_walk.h"
#include "guest.h"

#define DEPTH_CPUS 2
#define DEPTH_CPU  3

struct isa_scan {
	bool in_cpus;
	char *buf;
	size_t size;
	bool found;
};

static bool isa_begin(void *ctx, unsigned int depth, const char *name)
{
	struct isa_scan *s = ctx;

	if (depth == DEPTH_CPUS)
		s->in_cpus = fdt_node_is(name, "cpus");
	return false;
}

/* The devicetree spec names hart nodes cpu@<reg>; other children of /cpus are not harts. */
static bool is_cpu_node(const char *node)
{
	return fdt_node_is(node, "cpu") && node[3] == '@';
}

static bool isa_prop(void *ctx, const struct fdt_prop *prop)
{
	struct isa_scan *s = ctx;
	const char *val = (const char *)prop->value;
	size_t n = 0;

	if (!s->in_cpus || prop->depth != DEPTH_CPU || !is_cpu_node(prop->node) ||
	    strcmp(prop->name, "riscv,isa") != 0)
		return false;
	while (n < prop->len && val[n] && n + 1 < s->size) {
		s->buf[n] = val[n];
		n++;
	}
	s->buf[n] = '\0';
	s->found = true;
	return true;
}

int fdt_read_isa(unsigned long dtb, char *buf, size_t size)
{
	static const struct fdt_walk_ops ops = {.begin_node = isa_begin, .prop = isa_prop};
	struct isa_scan s = {.buf = buf, .size = size};

	if (size == 0)
		return -1;
	buf[0] = '\0';
	fdt_walk(dtb, &ops, &s);
	return s.found ? 0 : -1;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does the token [tok, tok_end) spell ext? */
static bool token_is(const char *tok, const char *tok_end, const char *ext)
{
	while (tok < tok_end && *ext && lower(*tok) == lower(*ext)) {
		tok++;
		ext++;
	}
	return tok == tok_end && *ext == '\0';
}

bool isa_has_ext(const char *isa, const char *ext)
{
	const char *p = isa;

	/* Multi-letter extensions follow the base and single letters, each after a '_'. */
	for (;;) {
		while (*p && *p != '_')
			p++;
		if (!*p)
			return false;
		const char *tok = ++p;
		while (*p && *p != '_')
			p++;
		if (token_is(tok, p, ext))
			return true;
	}
}

bool isa_has_letter(const char *isa, char letter)
{
	/* Single letters follow "rv32"/"rv64" up to the first '_'. */
	if (isa[0] != 'r' || isa[1] != 'v')
		return false;
	for (const char *p = isa + 4; *p && *p != '_'; p++)
		if (*p == letter)
			return true;
	return false;
}
