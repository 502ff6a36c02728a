/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The boot bundle: what the host tools pack and QEMU hands to Vireo as its
 * initrd. A header, a table of fixed-size VM entries, then the images they
 * point to. All integers little-endian. The host packer is build/vireo (tools/vireo.c);
 * the parser is host-testable and trusts nothing it reads.
 */
#ifndef VIREO_BUNDLE_H
#define VIREO_BUNDLE_H

#include <vireo/types.h>

#define BUNDLE_MAGIC	"VIREOBN1"
#define BUNDLE_VERSION	1
#define BUNDLE_MAX_VMS	16
#define BUNDLE_NAME_MAX 32
#define BUNDLE_ARGS_MAX 512

#define BUNDLE_VM_TESTDEV    (1u << 0) /* map the MMIO test device */
#define BUNDLE_VM_NO_CONSOLE (1u << 1) /* discard the VM's console output, give it no input */
#define BUNDLE_VM_NO_RTC     (1u << 2) /* no real-time clock device */

/* rtc_offset is at most this many seconds either way (about 285 years). */
#define BUNDLE_RTC_OFFSET_MAX 9000000000LL
#define BUNDLE_VM_NET	      (1u << 3) /* a network card: net_name, mac, ipv4 are valid */

#define BUNDLE_NET_NAME_MAX 16
/* Its interrupt controller; neither: guest AIA where the host has guest interrupt files. */
#define BUNDLE_VM_IRQCHIP_PLIC (1u << 4) /* the PLIC, whatever the host has */
#define BUNDLE_VM_IRQCHIP_AIA  (1u << 5) /* an APLIC and IMSIC files (emulated if need be) */
#define BUNDLE_VM_DEBUG_WAIT   (1u << 6) /* held at its first instruction for a debugger */
#define BUNDLE_VM_SANDBOX      (1u << 7) /* a sandbox: no devices, driven by the host (sandbox.h) */
/* One bit each: branches that add a flag at once must not pick the same one. */
_Static_assert(
    ((BUNDLE_VM_TESTDEV ^ BUNDLE_VM_NO_CONSOLE ^ BUNDLE_VM_NO_RTC ^ BUNDLE_VM_NET ^
      BUNDLE_VM_IRQCHIP_PLIC ^ BUNDLE_VM_IRQCHIP_AIA ^ BUNDLE_VM_DEBUG_WAIT ^ BUNDLE_VM_SANDBOX) ==
     (BUNDLE_VM_TESTDEV | BUNDLE_VM_NO_CONSOLE | BUNDLE_VM_NO_RTC | BUNDLE_VM_NET |
      BUNDLE_VM_IRQCHIP_PLIC | BUNDLE_VM_IRQCHIP_AIA | BUNDLE_VM_DEBUG_WAIT | BUNDLE_VM_SANDBOX)),
    "bundle VM flags overlap");

#define BUNDLE_DISK_PRESENT  (1u << 0)
#define BUNDLE_DISK_READONLY (1u << 1)

/* Header flags. */
#define BUNDLE_SELFTEST_PANIC (1u << 0) /* panic on purpose after boot (tests the panic path) */
#define BUNDLE_CONSOLE_COLOUR (1u << 1) /* the terminal shows ANSI colours */
/* A long-lived machine (docs/machine.md): it may start with no VM, stays up when the last
 * VM ends, and the host makes VMs at run time. */
#define BUNDLE_MACHINE (1u << 2)

struct bundle_header {
	char magic[8];
	uint32_t version;
	uint32_t vm_count;
	uint64_t total_size;
	uint32_t vm_entry_size; /* sizeof(struct bundle_vm) the packer used */
	uint32_t flags;
	uint8_t reserved[32];
};

struct bundle_vm {
	char name[BUNDLE_NAME_MAX];
	uint64_t ram_size;
	uint32_t vcpus;
	uint32_t flags;
	uint64_t hart_affinity;
	uint64_t kernel_offset, kernel_size;
	uint64_t initrd_offset, initrd_size;
	char bootargs[BUNDLE_ARGS_MAX];
	/* The VM's disk: a range of a host disk (virtio-blk on QEMU), if BUNDLE_DISK_PRESENT. */
	uint32_t disk_host;	    /* index of the host disk (0 = the first virtio-blk) */
	uint32_t disk_flags;	    /* BUNDLE_DISK_* */
	uint64_t disk_first_sector; /* 512-byte sectors */
	uint64_t disk_sectors;	    /* 0 = to the end of the host disk */
	/* The guest clock minus the host's wall clock, in seconds (rtc_offset, localtime).
	 * Carved from the reserved bytes: 0 in older bundles, as it should be. */
	int64_t rtc_offset;
	/* The VM's network card, if BUNDLE_VM_NET: the network it is on, its MAC (unicast),
	 * the IPv4 address Vireo's DHCP gives it (network byte order; 0.0.0.0: none). */
	char net_name[BUNDLE_NET_NAME_MAX];
	uint8_t mac[6];
	uint8_t ipv4[4];
	uint8_t reserved[6];
};

_Static_assert(sizeof(struct bundle_header) == 64, "bundle header layout");
_Static_assert(sizeof(struct bundle_vm) == 664, "bundle VM entry layout");

struct bundle {
	const uint8_t *base;
	uint64_t size;
	const struct bundle_header *header;
	const struct bundle_vm *vms;
};

/* Validate everything; 0, or -VIREO_EINVAL with a message in why[why_size]. */
int bundle_parse(const void *data, uint64_t size, struct bundle *out, char *why, size_t why_size);

#endif
