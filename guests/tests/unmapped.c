// SPDX-License-Identifier: BSD-2-Clause
/*
 * A load from a guest-physical address that is neither RAM nor a device.
 * Vireo must stop this VM with a diagnostic; nothing after the load should run.
 */
#include "guest.h"

const char guest_name[] = "unmapped";

/* Between the last device and RAM in vm_layout.h (QEMU's PCIe window, absent in a VM). */
#define UNMAPPED_GPA 0x40000000UL

_Static_assert(UNMAPPED_GPA >= VM_TESTDEV_BASE + VM_TESTDEV_SIZE &&
		   UNMAPPED_GPA >= VM_VIRTIO_BASE + VM_VIRTIO_SLOTS * VM_VIRTIO_STRIDE &&
		   UNMAPPED_GPA + 8 <= VM_RAM_BASE,
	       "UNMAPPED_GPA must be outside RAM and every device");

int guest_main(unsigned long hartid, unsigned long dtb)
{
	uint64_t v;

	(void)hartid;
	(void)dtb;
	printf("unmapped: touching 0x%lx\n", UNMAPPED_GPA);
	v = *(volatile uint64_t *)UNMAPPED_GPA;
	test_report("unmapped", test_why("still running (the load returned 0x%lx)", v));
	return GUEST_STATUS_FAIL;
}
