// SPDX-License-Identifier: BSD-2-Clause
/* Find /chosen/bootargs by walking the DTB's structure block. */
#include "fdt_chosen.h"
#include "guest.h"

#define FDT_MAGIC      0xd00dfeedU
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_END	       9

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static const uint8_t *skip_name(const uint8_t *p)
{
	while (*p)
		p++;
	return (const uint8_t *)(((uintptr_t)p + 1 + 3) & ~3UL);
}

const char *fdt_bootargs(unsigned long dtb)
{
	const uint8_t *base = (const uint8_t *)dtb;
	unsigned depth = 0;
	bool in_chosen = false;

	if (dtb < VM_RAM_BASE || be32(base) != FDT_MAGIC)
		return NULL;
	const uint8_t *p = base + be32(base + 8);
	const char *strings = (const char *)base + be32(base + 12);
	for (;;) {
		uint32_t token = be32(p);
		p += 4;
		if (token == FDT_BEGIN_NODE) {
			depth++;
			in_chosen = depth == 2 && strcmp((const char *)p, "chosen") == 0;
			p = skip_name(p);
		} else if (token == FDT_END_NODE) {
			depth--;
			in_chosen = false;
		} else if (token == FDT_PROP) {
			uint32_t len = be32(p), name = be32(p + 4);
			if (in_chosen && strcmp(strings + name, "bootargs") == 0)
				return (const char *)p + 8;
			p += 8 + ((len + 3) & ~3U);
		} else if (token == FDT_END) {
			return NULL;
		}
	}
}
