// SPDX-License-Identifier: BSD-2-Clause
/* The smallest guest: one line on the console, then a clean exit. */
#include "guest.h"

const char guest_name[] = "hello";

#define FDT_MAGIC 0xd00dfeedU

/* The DTB header is big-endian; only look if a1 points into RAM at all. */
static void describe_dtb(unsigned long dtb)
{
	const volatile uint8_t *b = (const volatile uint8_t *)dtb;
	uint32_t magic;

	if (dtb < VM_RAM_BASE || dtb % 4) {
		printf("hello: no DTB (a1=0x%lx)\n", dtb);
		return;
	}
	magic = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	printf("hello: DTB at 0x%lx, magic %s\n", dtb, magic == FDT_MAGIC ? "ok" : "bad");
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	printf("Hello from a Vireo guest (hart %lu)\n", hartid);
	describe_dtb(dtb);
	return 0;
}
