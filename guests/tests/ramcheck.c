// SPDX-License-Identifier: BSD-2-Clause
/*
 * Does a VM's RAM come to it clean? Counts the non-zero words of its RAM
 * (outside its own image and the DTB), fills all of it with a pattern, then
 * asks for a warm reboot: the VM that Vireo builds again from the freed
 * memory must count zero again. The test stops the machine after two rounds.
 */
#include "fdt_probe.h"
#include "guest.h"

const char guest_name[] = "ramcheck";

#define SBI_SRST_TYPE_WARM_REBOOT 2
#define DTB_SPAN		  (64 * 1024) /* Vireo puts the DTB in the last 64 KiB */

extern char __image_start[], __image_end[];

static bool skipped(uint64_t addr, unsigned long dtb)
{
	return (addr >= (uintptr_t)__image_start && addr < (uintptr_t)__image_end) ||
	       (addr >= dtb && addr < dtb + DTB_SPAN);
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	uint64_t base, size, nonzero = 0, words = 0;

	(void)hartid;
	if (fdt_read_memory(dtb, &base, &size) != 0) {
		printf("ramcheck: no memory node in the DTB\n");
		return GUEST_STATUS_FAIL;
	}
	for (uint64_t a = base; a < base + size; a += 8) {
		if (skipped(a, dtb))
			continue;
		words++;
		nonzero += *(volatile uint64_t *)a != 0;
	}
	printf("ramcheck: %lu of %lu words non-zero\n", (unsigned long)nonzero,
	       (unsigned long)words);
	for (uint64_t a = base; a < base + size; a += 8)
		if (!skipped(a, dtb))
			*(volatile uint64_t *)a = a ^ 0x5a5a5a5a5a5a5a5aULL;
	printf("ramcheck: filled, rebooting\n");
	sbi_call(SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET, SBI_SRST_TYPE_WARM_REBOOT, 0, 0, 0, 0, 0);
	return GUEST_STATUS_FAIL;
}
