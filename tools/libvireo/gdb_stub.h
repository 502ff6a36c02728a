/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A gdb remote stub for one VM, without I/O: the debugger's packets
 * (tools/libvireo/rsp.h) become Vireo's control requests (docs/channel.md,
 * the debugger's ops 0x03xx and the core ops), and Vireo's stop events
 * become stop replies. The caller gives it a backend that sends requests and
 * waits for their replies, hands it the debugger's bytes (gdb_stub_feed) and
 * calls gdb_stub_poll when events may have come. docs/debugging.md says what
 * a debugger can do with it.
 *
 * All-stop: a stop stops every vCPU; each vCPU is a thread (id vcpu + 1).
 * On start it attaches and stops the VM; at the end (D, or the connection
 * lost) it detaches, which takes out every breakpoint, and lets the VM run;
 * k ends the VM. Everything from the debugger is untrusted: each packet is
 * parsed with bounds and a malformed one gets an error reply.
 */
#ifndef VIREO_GDB_STUB_H
#define VIREO_GDB_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vireo/ctl.h>
#include <vireo/ctl_debug.h>

#include "rsp.h"

struct gdb_stub_backend {
	/* One control request: its result (>= 0) or a negative errno, with the reply's
	 * bytes in reply[0..*got) (at most cap). Blocks until Vireo answers. */
	int (*request)(void *ctx, uint16_t op, const void *args, uint32_t len, void *reply,
		       uint32_t cap, uint32_t *got);
	/* The next event of this VM, without waiting: 1 a stop (*stop), 2 the VM ended
	 * (*status), 0 nothing. */
	int (*event)(void *ctx, struct ctl_dbg_stop *stop, int *status);
	/* Bytes for the debugger. */
	void (*send)(void *ctx, const void *bytes, size_t n);
};

/* A vCPU's registers as the stub keeps them while the VM is stopped. */
struct gdb_stub_regs {
	bool valid;
	struct ctl_regs r;
};

struct gdb_stub {
	const struct gdb_stub_backend *be;
	void *ctx;
	uint32_t vm;
	struct rsp rsp;
	unsigned nvcpus;
	uint32_t features; /* CTL_DBG_F_* */
	bool attached;
	bool running;	  /* resumed: the next stop event is reported */
	bool over;	  /* detached, killed or the VM ended: close the connection */
	bool swbreak;	  /* the debugger takes swbreak in stop replies */
	bool physical;	  /* memory packets by guest-physical address (monitor memory) */
	unsigned cur;	  /* the vCPU of the last stop */
	unsigned gthread; /* Hg: whose registers and page tables */
	int cthread;	  /* Hc: which vCPU s steps (-1: the current one) */
	struct gdb_stub_regs *regs;
	char stop_reply[64];
	char *xml;
	size_t xml_len;
	char *out; /* a reply being built */
	size_t out_len;
	bool out_failed; /* it did not fit: an error goes instead */
};

/* Attach to the VM and stop it (the debugger expects a stopped target). 0, or a
 * negative errno (-ENOENT: no such VM; -EBUSY: another debugger has it). */
int gdb_stub_start(struct gdb_stub *g, const struct gdb_stub_backend *be, void *ctx, uint32_t vm);
/* Bytes from the debugger. */
void gdb_stub_feed(struct gdb_stub *g, const uint8_t *bytes, size_t n);
/* Events may have come: a stop of the running VM is reported. */
void gdb_stub_poll(struct gdb_stub *g);
/* The connection is gone: detach and let the VM run (unless it ended). */
void gdb_stub_end(struct gdb_stub *g);
void gdb_stub_free(struct gdb_stub *g);

#endif
