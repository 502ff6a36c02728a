/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest-physical memory map every VM sees. It follows QEMU's virt
 * machine so that unmodified kernels find their devices where they expect;
 * the guest device tree describes exactly this map. Included by the
 * hypervisor, the host tools and the bare-metal test guests.
 */
#ifndef VIREO_VM_LAYOUT_H
#define VIREO_VM_LAYOUT_H

#define VM_PLIC_BASE	    0x0c000000UL
#define VM_PLIC_SIZE	    0x04000000UL /* covers 15872 contexts, as QEMU */
#define VM_PLIC_NUM_SOURCES 32		 /* sources 1..31; 0 means "none" */

/*
 * A VM with guest AIA has an APLIC (MSI mode) instead of the PLIC, and one IMSIC
 * interrupt file page per vCPU, where QEMU's aia=aplic-imsic machine has its
 * supervisor-level ones. The wired sources keep the PLIC's numbers.
 */
#define VM_APLIC_BASE	0x0d000000UL
#define VM_APLIC_SIZE	0x4000UL
#define VM_IMSIC_BASE	0x28000000UL
#define VM_IMSIC_STRIDE 0x1000UL /* one page per vCPU: no guest files of its own */

#define VM_UART_BASE 0x10000000UL
#define VM_UART_SIZE 0x100UL
#define VM_UART_IRQ  10

/* The Goldfish RTC, where QEMU's virt machine has it (register map in vrtc.h). */
#define VM_RTC_BASE 0x00101000UL
#define VM_RTC_SIZE 0x1000UL
#define VM_RTC_IRQ  11

/* The VM Generation ID (vireo/vgenid.h): 16 bytes, an edge when they change. */
#define VM_GENID_BASE 0x00102000UL
#define VM_GENID_SIZE 0x1000UL
#define VM_GENID_IRQ  12

#define VM_VIRTIO_BASE	   0x10001000UL
#define VM_VIRTIO_STRIDE   0x1000UL
#define VM_VIRTIO_SLOTS	   8
#define VM_VIRTIO_IRQ_BASE 1 /* slot i uses PLIC source 1 + i */
#define VM_VIRTIO_SLOT_BLK 0 /* the disk */
#define VM_VIRTIO_SLOT_CON 1 /* the virtio console: hvc0 and the agent port */
#define VM_VIRTIO_SLOT_NET 2 /* the network card (vireo/vm_net.h) */

/*
 * Vireo's test device, for MMIO tests: 256 bytes that behave like memory for
 * every width (so sign and zero extension can be checked), plus registers that
 * record the last access, proving it trapped to the hypervisor.
 */
#define VM_TESTDEV_BASE	      0x10100000UL
#define VM_TESTDEV_SIZE	      0x1000UL
#define TESTDEV_DATA	      0x000 /* 0x000..0x0ff: memory-like bytes */
#define TESTDEV_DATA_SIZE     0x100
#define TESTDEV_LAST_WIDTH    0x100 /* RO: width in bytes of the last data access */
#define TESTDEV_LAST_IS_WRITE 0x108 /* RO: 1 if the last data access was a store */
#define TESTDEV_ACCESS_COUNT  0x110 /* RO: number of data accesses so far */
#define TESTDEV_LAST_OFFSET   0x118 /* RO: offset of the last data access */

#define VM_RAM_BASE	   0x80000000UL
#define VM_KERNEL_OFFSET   0x200000UL /* flat images load at RAM base + 2 MiB */
#define VM_DEFAULT_RAM_MIB 256

/*
 * What a machine's RAM must hold besides the VMs' RAM, for the host tool's
 * admission check to promise what the hypervisor can deliver: the firmware,
 * Vireo's image, stacks and heap, the host DTB and 2 MiB alignment slack
 * (VM_HOST_RESERVE), each VM's G-stage tables and vCPU state
 * (VM_OVERHEAD_EACH), and the boot bundle itself, rounded up to 2 MiB (it
 * stays in RAM: the VMs' kernels and initrds are copied from it).
 */
#define VM_HOST_RESERVE	 (16UL << 20)
#define VM_OVERHEAD_EACH (2UL << 20)

/* The /hypervisor node of every guest's device tree names Vireo (docs/platform.md). */
#define VM_HYPERVISOR_COMPATIBLE "vireo,hypervisor"

/* SBI SRST reasons at or above this carry an exit status in their low byte. */
#define VM_EXIT_REASON_STATUS_BASE 0xf0000000UL

#endif
