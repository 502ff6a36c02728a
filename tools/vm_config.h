/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VM definitions for the host tool: config files ([machine] and [vm NAME]
 * sections) and --vm specs, parsed into one struct and checked as a whole.
 * Every error names where it comes from ("vms.conf:7: ...", "--vm #2: ...").
 * The format is described in configs/README.md.
 */
#ifndef VIREO_TOOLS_VM_CONFIG_H
#define VIREO_TOOLS_VM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vireo/bundle.h>

#define VM_CONFIG_MAX_VMS	 BUNDLE_MAX_VMS
#define VM_CONFIG_MAX_VCPUS	 16
#define VM_CONFIG_MAX_HARTS	 64 /* the width of a bundle hart_affinity mask */
#define VM_CONFIG_MAX_HOST_DISKS 8  /* QEMU virt has 8 virtio-mmio slots */
#define VM_CONFIG_SECTOR	 512

#define VM_CONFIG_DEFAULT_VM_MEMORY	 (64ULL << 20)
#define VM_CONFIG_DEFAULT_MACHINE_HARTS	 2
#define VM_CONFIG_DEFAULT_MACHINE_MEMORY (1ULL << 30)
#define VM_CONFIG_DEFAULT_CPU		 "rv64,h=true"
#define VM_CONFIG_DEFAULT_MACHINE	 "virt"

/* Networks (docs/networking.md): "default" has the uplink to QEMU's user network. */
#define VM_CONFIG_NET_DEFAULT "default"
#define VM_CONFIG_NET_NONE    "none"
#define VM_CONFIG_MAX_NETS    8 /* networks one machine has (NET_MAX_NETWORKS) */
/* VM n (from 0, in configuration order) is 10.0.2.(15 + n) on whatever network it is. */
#define VM_CONFIG_IPV4_BASE ((10u << 24) | (0u << 16) | (2u << 8) | 15u)

/* Where a definition was written: "vms.conf" line 7, or "--vm #2" (line 0). */
struct vm_config_loc {
	const char *source; /* owned by the struct vm_config */
	unsigned line;
};

struct vm_config_disk {
	bool present;
	bool whole; /* "N": the whole host disk */
	bool readonly;
	unsigned host;
	uint64_t first_sector;
	uint64_t sectors; /* 0 when whole */
	struct vm_config_loc loc;
};

/* rtc = utc | localtime | off */
enum vm_config_rtc { VM_CONFIG_RTC_UTC, VM_CONFIG_RTC_LOCALTIME, VM_CONFIG_RTC_OFF };

/* rtc_offset: seconds, either way, up to the bundle's limit. */
#define VM_CONFIG_RTC_OFFSET_MAX BUNDLE_RTC_OFFSET_MAX

struct vm_config_net {
	bool present;
	char name[BUNDLE_NET_NAME_MAX];
	bool mac_given; /* "mac =": else vm_config_finish() derives it from the VM's name */
	uint8_t mac[6];
	uint32_t ipv4; /* host order, set by vm_config_finish() */
	struct vm_config_loc loc, mac_loc;
};

struct vm_config_vm {
	char name[BUNDLE_NAME_MAX];
	char *kernel; /* path as opened (config-relative paths resolved) */
	char *initrd; /* NULL: none */
	uint64_t memory;
	unsigned vcpus;
	bool vcpus_follow_harts; /* "vcpus = harts": resolved by vm_config_finish() */
	uint64_t hart_mask;	 /* logical hart indices; 0 = any hart */
	char bootargs[BUNDLE_ARGS_MAX];
	bool console;
	bool testdev;
	bool wait; /* held at its first instruction for a debugger (or the host) */
	enum { VM_CONFIG_IRQCHIP_AUTO, VM_CONFIG_IRQCHIP_PLIC, VM_CONFIG_IRQCHIP_AIA } irqchip;
	bool sandbox; /* driven by a host program call by call (docs/sandbox.md) */
	enum vm_config_rtc rtc;
	int64_t rtc_offset; /* seconds added to the host's clock (and to localtime's) */
	struct vm_config_disk disk;
	struct vm_config_net net;
	struct vm_config_loc loc; /* the [vm NAME] line, or the --vm spec */
	struct vm_config_loc vcpus_loc, harts_loc, rtc_offset_loc;
};

struct vm_config_host_disk {
	char *path;
	uint64_t sectors; /* the file's size in whole sectors */
};

struct vm_config_machine {
	unsigned harts;
	uint64_t memory;
	char *cpu;
	char *machine; /* QEMU's -machine: "virt" with its options, e.g. "virt,aia=aplic-imsic" */
	struct vm_config_host_disk disks[VM_CONFIG_MAX_HOST_DISKS];
	unsigned ndisks;
};

struct vm_config {
	struct vm_config_machine machine;
	struct vm_config_vm vms[VM_CONFIG_MAX_VMS];
	unsigned nvms;
	char **sources; /* names that locations point to */
	size_t nsources;
	char *error;	   /* the last error, or NULL */
	bool machine_mode; /* a long-lived machine (docs/machine.md): no VM is needed */
};

/* Command-line options that override the [machine] sections; NULL/0 = not given. */
struct vm_config_overrides {
	const char *harts;
	const char *memory;
	const char *cpu;
	const char *machine;
	const char *const *disks; /* replaces every [machine] disk when ndisks > 0 */
	size_t ndisks;
};

void vm_config_init(struct vm_config *cfg);
void vm_config_free(struct vm_config *cfg);
/* The last error message ("vms.conf:7: memory '3M' must be ..."). */
const char *vm_config_error(const struct vm_config *cfg);

/* Each returns 0, or -1 with the error in vm_config_error(). */
int vm_config_parse_file(struct vm_config *cfg, const char *path);
/* name: for messages; base_dir: what relative paths are relative to ("" = cwd). */
int vm_config_parse_stream(struct vm_config *cfg, FILE *fp, const char *name, const char *base_dir);
/* index counts --vm options from 1; relative paths are relative to the cwd. */
int vm_config_parse_spec(struct vm_config *cfg, const char *spec, unsigned index);
int vm_config_apply_overrides(struct vm_config *cfg, const struct vm_config_overrides *o);
/*
 * After everything is parsed: at least one VM, "vcpus = harts", disk indices and
 * overlaps. With for_machine, also check the VMs against the machine they will
 * run on (pinned harts exist, memory fits); `pack` makes bundles for any machine.
 */
int vm_config_finish(struct vm_config *cfg, bool for_machine);

/* The least machine memory that holds every VM and what Vireo needs besides (whole MiB). */
uint64_t vm_config_machine_memory(const struct vm_config *cfg);

/* Helpers, also for the command line. 0 or -1; no message. */
int vm_config_parse_size(const char *text, uint64_t *out);
int vm_config_parse_hart_mask(const char *text, uint64_t *mask);
int vm_config_parse_disk(const char *text, struct vm_config_disk *disk);
/* "1G", "256M", "12K" or bytes, into buf. */
void vm_config_format_size(uint64_t bytes, char *buf, size_t size);
/* "52:54:00:12:34:56" (also with '-'); 0, or -1 if not that or not a unicast address. */
int vm_config_parse_mac(const char *text, uint8_t mac[6]);
/* A VM's MAC from its name: 52:54:00 and 24 bits of a hash of the name (and of the
 * attempt, when an earlier attempt gave an address another VM has). */
void vm_config_derive_mac(const char *name, unsigned attempt, uint8_t mac[6]);
/* The VM of that name, or NULL. */
const struct vm_config_vm *vm_config_find(const struct vm_config *cfg, const char *name);
/* Is any VM on the default network (so QEMU needs the uplink's user network)? */
bool vm_config_wants_uplink(const struct vm_config *cfg);

#endif
