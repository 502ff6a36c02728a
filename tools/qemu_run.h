/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Starting QEMU with Vireo and a boot bundle, and handing its exit status
 * back: Vireo powers the machine off through the SiFive test finisher with
 * the guests' status, so QEMU's status is the guests'.
 */
#ifndef VIREO_TOOLS_QEMU_RUN_H
#define VIREO_TOOLS_QEMU_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QEMU_RUN_DEFAULT_QEMU "qemu-system-riscv64"

struct qemu_run_opts {
	const char *qemu;
	const char *cpu;
	const char *machine; /* NULL: "virt" */
	unsigned harts;
	uint64_t memory;    /* bytes, a whole number of MiB */
	const char *kernel; /* -kernel: Vireo's image, or a guest kernel on plain QEMU */
	const char *initrd; /* -initrd: the boot bundle, or a guest initramfs; NULL: none */
	const char *append; /* -append: a guest kernel's command line on plain QEMU; NULL: none */
	const char *const *disks; /* host disks 0, 1, ... in order */
	const bool *disks_ro;	  /* NULL: all writable */
	size_t ndisks;
	/* The channel (docs/channel.md), on a virtio-serial device: a descriptor QEMU inherits,
	 * connected to the host program. link_fd: the link to Vireo on port 0 (a virtconsole);
	 * agent_fd: on plain QEMU, the guest agent's own port org.vireo.agent. -1: none. */
	int link_fd;
	int agent_fd;
	const char *const *extra; /* each split at whitespace into arguments */
	size_t nextra;
	/* The uplink of the default network: QEMU's user network on a virtio-net device,
	 * with these hostfwd= rules ("tcp:127.0.0.1:8080-10.0.2.15:80"). */
	bool net_uplink;
	const char *const *hostfwd;
	size_t nhostfwd;
};

/* The argument vector, NULL-terminated; free it with qemu_run_free_argv(). */
char **qemu_run_argv(const struct qemu_run_opts *o);
void qemu_run_free_argv(char **argv);
/* The command as a shell would take it (quoted where needed); the caller frees it. */
char *qemu_run_command_line(char *const argv[]);
/*
 * Run argv and wait for it, forwarding SIGINT and SIGTERM to it meanwhile.
 * Returns its exit status (128 + N if signal N killed it), or -1 with *err set
 * when it could not be started (free *err).
 */
int qemu_run(char *const argv[], char **err);

#endif
