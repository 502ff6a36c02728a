/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A machine's daemon (docs/machine.md): it owns one QEMU running Vireo in
 * machine mode, the link to it, the machine's memory (QEMU's RAM is a memory
 * file the daemon maps too), and a unix socket where clients ask for VMs. It
 * runs in the foreground (`vireo machine serve`); vireo_machine_start() and
 * `vireo machine start` run it in the background and wait until it is ready.
 *
 * Files, in the machine's runtime directory (machine_dir()): `lock` (held
 * while the daemon lives; it holds the pid), `ctl.sock`, `console.log` (what
 * Vireo and the guests print). The daemon removes them when it ends, and a
 * daemon that was killed leaves them to the next start or `ls`, which see the
 * lock is free.
 */
#ifndef VIREO_MACHINED_H
#define VIREO_MACHINED_H

#include <stdbool.h>
#include <stdint.h>

#define MACHINE_NAME_MAX  32
#define MACHINE_MAX_DISKS 8

struct machined_opts {
	const char *name;
	unsigned harts;	 /* default 2 */
	uint64_t memory; /* bytes; default 1 GiB */
	const char *qemu, *hypervisor;
	const char *kernel, *initramfs; /* what exec and VMs boot by default */
	const char *disks[MACHINE_MAX_DISKS];
	bool disks_ro[MACHINE_MAX_DISKS];
	unsigned ndisks;
	/* The template exec forks (docs/machine.md, "Fork"): its memory and vCPUs. */
	bool no_template;
	uint64_t template_memory;
	unsigned template_vcpus;
	/* Spare VMs: booted ahead with exec's defaults, each waiting for one exec (0..8). */
	unsigned spares;
	int ready_fd; /* "ok\n" or "error: ...\n" written here once, then closed; -1 none */
};

/* Run the daemon until the machine stops; the process's exit status. */
int machined_main(const struct machined_opts *o);

/* The runtime directory of all machines ($VIREO_RUNTIME_DIR, $XDG_RUNTIME_DIR/vireo or
 * /tmp/vireo-UID), made (mode 0700) if missing; and one machine's. malloc'ed, or NULL. */
char *machine_root(void);
char *machine_dir(const char *name);
/* A name is 1..31 of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool machine_name_ok(const char *name);

#endif
