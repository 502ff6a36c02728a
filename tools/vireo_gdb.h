/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `vireo run --gdb VM=PORT[,wait]`: gdb servers for VMs of the machine
 * (tools/libvireo/gdb_server.h), over a link of their own to Vireo (QEMU's
 * virtio-serial console, a socketpair). docs/debugging.md is the user's side.
 */
#ifndef VIREO_TOOLS_VIREO_GDB_H
#define VIREO_TOOLS_VIREO_GDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm_config.h"

struct vireo_gdb_spec {
	const char *vm; /* a VM's name, or its number (1 for the first) */
	uint16_t port;	/* 0: any free port (printed) */
	bool wait;	/* the VM waits at its first instruction for the debugger */
	unsigned index; /* the VM's place in the configuration, once resolved */
};

/* Parse "VM=PORT[,wait]". 0, or -1 with a sentence in err. */
int vireo_gdb_parse(const char *text, struct vireo_gdb_spec *spec, char *err, size_t err_size);
/* Find each spec's VM in cfg and set its wait; two specs for one VM are an error. */
int vireo_gdb_resolve(struct vm_config *cfg, struct vireo_gdb_spec *specs, size_t n, char *err,
		      size_t err_size);

struct vireo_gdb;
/* Make the link, serve it and listen on the ports (printed on stderr). *qemu_fd is the
 * link's end for QEMU (inherited by it: qemu_run_opts.link_fd). 0, or -1 with err. */
int vireo_gdb_start(struct vireo_gdb **out, const struct vm_config *cfg,
		    const struct vireo_gdb_spec *specs, size_t n, int *qemu_fd, char *err,
		    size_t err_size);
/* QEMU is gone: stop serving, free everything. */
void vireo_gdb_stop(struct vireo_gdb *g);

#endif
