// SPDX-License-Identifier: BSD-2-Clause
/*
 * The control plane's test guest (tests/integration/test_ctl.py): it tells
 * where its mailbox is, then spins with a known value in s11 until the host
 * writes the mailbox (CTL_OP_MEM_WRITE) while the VM is paused; s9 counts
 * the turns of the loop, so the host sees whether the vCPU ran. Then it
 * stops at an ebreak and loads from an address nothing maps: the host, which
 * catches both (CTL_OP_VM_CATCH), moves it past each and gives the load its
 * value in a5. What the host
 * put in s10 (CTL_OP_VCPU_SET_REGS) and the mailbox are printed on the way out.
 */
#include "guest.h"

const char guest_name[] = "ctl";

#define CTL_MAGIC    0x5eed0ff1ce5eed00UL
#define CTL_UNMAPPED 0x40000000UL /* QEMU's PCIe window: nothing there in a VM */
#define CTL_LOADED   0xfeedUL	  /* what the host puts in a5 for that load */

static volatile unsigned long mailbox;

int guest_main(unsigned long hartid, unsigned long dtb)
{
	unsigned long s10_seen, loaded;

	(void)hartid;
	(void)dtb;
	printf("ctl: mailbox at %p, spinning with s11 = %#lx\n", (const volatile void *)&mailbox,
	       CTL_MAGIC);
	/* The loop is assembly so that s10 and s11 are what the host sees and sets. */
	__asm__ volatile("mv s11, %[magic]\n"
			 "li s10, 0\n"
			 "li s9, 0\n"
			 "1: addi s9, s9, 1\n"
			 "ld t0, 0(%[box])\n"
			 "beqz t0, 1b\n"
			 "mv %[seen], s10\n"
			 : [seen] "=r"(s10_seen)
			 : [magic] "r"(CTL_MAGIC), [box] "r"(&mailbox)
			 : "t0", "s9", "s10", "s11", "memory");
	printf("ctl: mailbox %#lx, s10 %#lx\n", mailbox, s10_seen);
	__asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
	printf("ctl: past the breakpoint\n");
	__asm__ volatile(".option push\n.option norvc\n"
			 "li a5, 0\n"
			 "ld a5, 0(%[wild])\n"
			 "mv %[loaded], a5\n"
			 ".option pop"
			 : [loaded] "=r"(loaded)
			 : [wild] "r"(CTL_UNMAPPED)
			 : "a5", "memory");
	printf("ctl: loaded %#lx\n", loaded);
	return mailbox == 1 && loaded == CTL_LOADED ? 0 : 1;
}
