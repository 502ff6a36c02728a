// SPDX-License-Identifier: BSD-2-Clause
/*
 * A flat walk of the DTB structure block that picks out /cpus/cpu@N nodes
 * (device_type "cpu", not disabled) and their reg, i.e. the hart ids.
 */
#include "fdt.h"
#include "guest.h"

#define FDT_MAGIC      0xd00dfeedU
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP	       4
#define FDT_END	       9

/* Node depth: the root node is 1, /cpus 2, /cpus/cpu@N 3. */
#define DEPTH_CPUS 2
#define DEPTH_CPU  3

struct cpu_scan {
	struct fdt_cpus *out;
	const char *strings;
	unsigned int depth;
	bool in_cpus;
	uint32_t addr_cells;
	bool is_cpu, has_reg, disabled;
	unsigned long reg;
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

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static bool value_is(const uint8_t *val, uint32_t len, const char *s)
{
	return len == strlen(s) + 1 && memcmp(val, s, len) == 0;
}

static void begin_node(struct cpu_scan *s, const char *name)
{
	s->depth++;
	if (s->depth == DEPTH_CPUS)
		s->in_cpus = str_eq(name, "cpus");
	if (s->depth == DEPTH_CPU) {
		s->is_cpu = false;
		s->has_reg = false;
		s->disabled = false;
	}
}

static void end_node(struct cpu_scan *s)
{
	struct fdt_cpus *out = s->out;

	if (s->in_cpus && s->depth == DEPTH_CPU && s->is_cpu && s->has_reg && !s->disabled) {
		if (out->count < FDT_MAX_CPUS)
			out->hartid[out->count++] = s->reg;
		else
			out->truncated = true;
	}
	if (s->depth == DEPTH_CPUS)
		s->in_cpus = false;
	s->depth--;
}

static void cpus_prop(struct cpu_scan *s, const char *name, const uint8_t *val, uint32_t len)
{
	if (str_eq(name, "#address-cells") && len == 4)
		s->addr_cells = be32(val);
	else if (str_eq(name, "timebase-frequency") && len == 4)
		s->out->timebase_hz = be32(val);
}

static void cpu_prop(struct cpu_scan *s, const char *name, const uint8_t *val, uint32_t len)
{
	if (str_eq(name, "device_type")) {
		s->is_cpu = value_is(val, len, "cpu");
	} else if (str_eq(name, "status")) {
		s->disabled = value_is(val, len, "disabled");
	} else if (str_eq(name, "reg") && len >= 4 * s->addr_cells) {
		s->reg = be32(val);
		if (s->addr_cells == 2)
			s->reg = (s->reg << 32) | be32(val + 4);
		s->has_reg = true;
	}
}

static void prop(struct cpu_scan *s, const char *name, const uint8_t *val, uint32_t len)
{
	if (!s->in_cpus)
		return;
	if (s->depth == DEPTH_CPUS)
		cpus_prop(s, name, val, len);
	else if (s->depth == DEPTH_CPU)
		cpu_prop(s, name, val, len);
}

/* Handle the token at p; returns the next token, or NULL at FDT_END or on garbage. */
static const uint8_t *scan_token(struct cpu_scan *s, const uint8_t *p)
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
		prop(s, s->strings + be32(p + 4), p + 8, len);
		return p + 8 + align4(len);
	case FDT_NOP:
		return p;
	default:
		return NULL;
	}
}

int fdt_read_cpus(unsigned long dtb, struct fdt_cpus *out)
{
	const uint8_t *base = (const uint8_t *)dtb;
	const uint8_t *p, *end;
	struct cpu_scan s = {.out = out, .addr_cells = 1};

	memset(out, 0, sizeof(*out));
	/* Only look at RAM: touching a hole would stop the VM. */
	if (dtb < VM_RAM_BASE || dtb % 8 || be32(base) != FDT_MAGIC)
		return -1;
	s.strings = (const char *)base + be32(base + 12);
	p = base + be32(base + 8);
	end = p + be32(base + 36);
	while (p && p + 4 <= end && be32(p) != FDT_END)
		p = scan_token(&s, p);
	return p && p + 4 <= end ? 0 : -1;
}
