// SPDX-License-Identifier: BSD-2-Clause
/*
 * What a guest's hart gets: each extension Vireo may advertise, with what
 * makes it work in VS-mode. A guest kernel trusts its riscv,isa (Linux uses
 * V as soon as it sees it), so "advertised" must mean "enabled": the ISA
 * string and the henvcfg/hcounteren bits come out of one table. Extensions
 * not in the table are not advertised. Pure: unit-tested on the host.
 */
#include <vireo/cpu.h>
#include <vireo/string.h>
#include "csr.h"

/* Single letters a guest may have: the rest (h above all) it does not get. */
static bool letter_allowed(char c, const struct cpu_features *f)
{
	switch (c) {
	case 'i':
	case 'm':
	case 'a':
	case 'c':
		return true;
	case 'f':
	case 'd':
	case 'g':
		return f->isa_has_f; /* FP state is saved per vCPU only then */
	case 'v':
		return f->vector; /* its state is saved per vCPU only if V was probed */
	default:
		return false;
	}
}

enum need {
	NEED_NOTHING, /* unprivileged: works in VS/VU-mode as it is */
	NEED_VECTOR,  /* a vector subset: needs V enabled */
	NEED_SSTC,
	NEED_PBMTE,
	NEED_CBOM,
	NEED_CBOZ,
};

static const struct {
	const char *name;
	enum need need;
} extensions[] = {
    {"zicsr", NEED_NOTHING},	 {"zifencei", NEED_NOTHING}, {"zihintpause", NEED_NOTHING},
    {"zihintntl", NEED_NOTHING}, {"zicond", NEED_NOTHING},   {"zicntr", NEED_NOTHING},
    {"zicbop", NEED_NOTHING},	 {"zicbom", NEED_CBOM},	     {"zicboz", NEED_CBOZ},
    {"zba", NEED_NOTHING},	 {"zbb", NEED_NOTHING},	     {"zbc", NEED_NOTHING},
    {"zbs", NEED_NOTHING},	 {"zbkb", NEED_NOTHING},     {"zbkc", NEED_NOTHING},
    {"zbkx", NEED_NOTHING},	 {"zknd", NEED_NOTHING},     {"zkne", NEED_NOTHING},
    {"zknh", NEED_NOTHING},	 {"zksed", NEED_NOTHING},    {"zksh", NEED_NOTHING},
    {"zkt", NEED_NOTHING},	 {"zfh", NEED_NOTHING},	     {"zfhmin", NEED_NOTHING},
    {"zfa", NEED_NOTHING},	 {"zca", NEED_NOTHING},	     {"zcb", NEED_NOTHING},
    {"zcd", NEED_NOTHING},	 {"zve32x", NEED_VECTOR},    {"zve32f", NEED_VECTOR},
    {"zve64x", NEED_VECTOR},	 {"zve64f", NEED_VECTOR},    {"zve64d", NEED_VECTOR},
    {"zvfh", NEED_VECTOR},	 {"zvfhmin", NEED_VECTOR},   {"zvbb", NEED_VECTOR},
    {"zvbc", NEED_VECTOR},	 {"zvkt", NEED_VECTOR},	     {"svinval", NEED_NOTHING},
    {"svnapot", NEED_NOTHING},	 {"svpbmt", NEED_PBMTE},     {"sstc", NEED_SSTC},
};

/* Whether the need can be met, and the enable bits that meet it. */
static bool need_met(enum need need, const struct cpu_features *f, unsigned long *henvcfg)
{
	switch (need) {
	case NEED_NOTHING:
		return true;
	case NEED_VECTOR:
		return f->vector;
	case NEED_SSTC:
		*henvcfg |= f->sstc ? HENVCFG_STCE : 0;
		return f->sstc;
	case NEED_PBMTE:
		*henvcfg |= f->svpbmt ? HENVCFG_PBMTE : 0;
		return f->svpbmt;
	case NEED_CBOM:
		*henvcfg |= f->zicbom ? HENVCFG_CBIE_INVAL | HENVCFG_CBCFE : 0;
		return f->zicbom;
	case NEED_CBOZ:
		*henvcfg |= f->zicboz ? HENVCFG_CBZE : 0;
		return f->zicboz;
	}
	return false;
}

/* The table entry for a multi-letter extension, or NULL. */
static int extension_index(const char *ext, size_t len)
{
	for (unsigned i = 0; i < ARRAY_SIZE(extensions); i++)
		if (strlen(extensions[i].name) == len && strncmp(ext, extensions[i].name, len) == 0)
			return (int)i;
	return -1;
}

static void append(struct guest_cpu *g, size_t *n, const char *s, size_t len)
{
	if (*n + len + 1 > sizeof(g->isa))
		return;
	memcpy(g->isa + *n, s, len);
	*n += len;
	g->isa[*n] = '\0';
}

void cpu_guest_derive(const char *host_isa, const struct cpu_features *f, struct guest_cpu *g)
{
	const char *p = host_isa;
	size_t n = 0;

	memset(g, 0, sizeof(*g));
	g->hcounteren = HCOUNTEREN_CY | HCOUNTEREN_TM | HCOUNTEREN_IR;
	/* "rv64" and the single letters up to the first multi-letter name. */
	if (strncmp(p, "rv32", 4) == 0 || strncmp(p, "rv64", 4) == 0) {
		append(g, &n, p, 4);
		p += 4;
	}
	for (; *p && *p != '_' && *p != 'z' && *p != 's' && *p != 'x'; p++) {
		if (!letter_allowed(*p, f))
			continue;
		append(g, &n, p, 1);
		/* State to keep per vCPU: what the guest is told it has. */
		g->fp |= *p == 'f' || *p == 'd' || *p == 'g';
		g->vector |= *p == 'v';
	}
	while (*p) {
		const char *ext;
		size_t len;
		int i;

		while (*p == '_')
			p++;
		ext = p;
		while (*p && *p != '_')
			p++;
		len = (size_t)(p - ext);
		i = extension_index(ext, len);
		/* Too long for the string: neither advertised nor enabled. */
		if (i < 0 || n + 1 + len + 1 > sizeof(g->isa) ||
		    !need_met(extensions[i].need, f, &g->henvcfg))
			continue;
		append(g, &n, "_", 1);
		append(g, &n, ext, len);
	}
	if (g->henvcfg & HENVCFG_CBCFE)
		g->cbom_block_size = f->cbom_block_size;
	if (g->henvcfg & HENVCFG_CBZE)
		g->cboz_block_size = f->cboz_block_size;
}
