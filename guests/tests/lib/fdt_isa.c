// SPDX-License-Identifier: BSD-2-Clause
/*
 * A flat walk of the DTB structure block for one property: riscv,isa of the
 * first hart under /cpus. Separate from fdt.c, which only lists hart ids.
 */
#include "fdt_isa.h"
#include "guest.h"

#define FDT_MAGIC      0xd00dfeedU
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP	       4
#define FDT_END	       9

/* Depth of /cpus (the root node is 1) and of its cpu@N children. */
#define DEPTH_CPUS 2
#define DEPTH_CPU  3

struct isa_scan {
	const char *strings;
	unsigned int depth;
	bool in_cpus, in_cpu;
	char *buf;
	size_t size;
	bool found;
};

/* Byte by byte: without Zbb, __builtin_bswap32 would need libgcc. */
static uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint32_t align4(uint32_t n)
{
	return (n + 3) & ~3U;
}

static bool has_prefix(const char *s, const char *prefix)
{
	while (*prefix && *s == *prefix) {
		s++;
		prefix++;
	}
	return *prefix == '\0';
}

static void begin_node(struct isa_scan *s, const char *name)
{
	s->depth++;
	if (s->depth == DEPTH_CPUS)
		s->in_cpus = has_prefix(name, "cpus") && (name[4] == '\0' || name[4] == '@');
	if (s->depth == DEPTH_CPU)
		s->in_cpu = s->in_cpus && has_prefix(name, "cpu@");
}

static void end_node(struct isa_scan *s)
{
	if (s->depth == DEPTH_CPU)
		s->in_cpu = false;
	if (s->depth == DEPTH_CPUS)
		s->in_cpus = false;
	s->depth--;
}

static void prop(struct isa_scan *s, const char *name, const char *val, uint32_t len)
{
	size_t n = 0;

	if (s->found || !s->in_cpu || s->depth != DEPTH_CPU || !has_prefix(name, "riscv,isa") ||
	    name[9] != '\0')
		return;
	while (n < len && val[n] && n + 1 < s->size) {
		s->buf[n] = val[n];
		n++;
	}
	s->buf[n] = '\0';
	s->found = true;
}

/* Handle the token at p; returns the next token, or NULL at FDT_END or on garbage. */
static const uint8_t *scan_token(struct isa_scan *s, const uint8_t *p)
{
	uint32_t token = be32(p), len;

	p += 4;
	switch (token) {
	case FDT_BEGIN_NODE:
		begin_node(s, (const char *)p);
		return p + align4(strlen((const char *)p) + 1);
	case FDT_END_NODE:
		end_node(s);
		return p;
	case FDT_PROP:
		len = be32(p);
		prop(s, s->strings + be32(p + 4), (const char *)p + 8, len);
		return p + 8 + align4(len);
	case FDT_NOP:
		return p;
	default:
		return NULL;
	}
}

int fdt_read_isa(unsigned long dtb, char *buf, size_t size)
{
	const uint8_t *base = (const uint8_t *)dtb;
	const uint8_t *p, *end;
	struct isa_scan s = {.buf = buf, .size = size};

	if (size == 0)
		return -1;
	buf[0] = '\0';
	/* Only look at RAM: touching a hole would stop the VM. */
	if (dtb < VM_RAM_BASE || dtb % 8 || be32(base) != FDT_MAGIC)
		return -1;
	s.strings = (const char *)base + be32(base + 12);
	p = base + be32(base + 8);
	end = p + be32(base + 36);
	while (p && p + 4 <= end && be32(p) != FDT_END && !s.found)
		p = scan_token(&s, p);
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
