// SPDX-License-Identifier: BSD-2-Clause
/*
 * gdb servers for a machine's VMs (docs/debugging.md, "A machine's VMs"): the
 * daemon runs gdb_server.c's servers over its own link to Vireo. Each server is
 * a thread whose control requests go through one ctl_client; the daemon's loop
 * moves them onto the link with its own (the client numbers its requests from
 * 2^31, the daemon from 1, so the replies find their way) and hands back their
 * replies, Vireo's debug events and the ends of VMs. A server ends with its VM
 * or the machine; since its last requests (the detach) need the loop, the
 * loop never waits for one: it asks it to end and reaps it once its thread is
 * done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vireo/vx.h>

#include "ctl_client.h"
#include "gdb_server.h"
#include "machined_int.h"
#include "mproto.h"

#define GDB_IDS 0x80000000u /* the gdb servers' request ids have this bit */

int md_gdb_init(struct daemon *d)
{
	d->cc = ctl_client_new();
	if (!d->cc)
		return -ENOMEM;
	ctl_client_first_id(d->cc, GDB_IDS);
	return 0;
}

void md_gdb_fini(struct daemon *d)
{
	if (!d->cc)
		return;
	/* Their calls fail at once from here on: each thread ends without the loop. */
	ctl_client_closed(d->cc);
	for (unsigned i = 0; i < MD_GDB_MAX; i++) {
		gdb_server_stop(d->gdbs[i].srv);
		d->gdbs[i].srv = NULL;
	}
	ctl_client_free(d->cc);
	d->cc = NULL;
}

bool md_gdb_reply(struct daemon *d, uint16_t type, uint16_t chan, const uint8_t *p, size_t len)
{
	if (!d->cc)
		return false;
	if (type == LINK_REPLY && (len < 4 || !(vx_get_u32(p) & GDB_IDS)))
		return false;
	ctl_client_frame(d->cc, type, chan, p, len);
	return type == LINK_REPLY;
}

void md_gdb_pump(struct daemon *d)
{
	if (!d->cc)
		return;
	ctl_client_drain_wake(d->cc);
	ctl_client_take(d->cc, &d->link_out);
}

void md_gdb_vm_ended(struct daemon *d, unsigned id)
{
	for (unsigned i = 0; i < MD_GDB_MAX; i++) {
		struct md_gdb *g = &d->gdbs[i];

		if (g->srv && g->vm == id && !g->ending) {
			/* It has heard of the end (LINK_VM_EXIT) and tells the debugger. */
			g->ending = true;
			gdb_server_end(g->srv);
		}
	}
}

bool md_gdb_reap(struct daemon *d)
{
	bool ending = false;

	for (unsigned i = 0; i < MD_GDB_MAX; i++) {
		struct md_gdb *g = &d->gdbs[i];

		if (g->srv && g->ending && gdb_server_done(g->srv)) {
			gdb_server_stop(g->srv);
			md_say(d, "gdb server on port %u ends", g->port);
			memset(g, 0, sizeof(*g));
		}
		ending |= g->srv && g->ending;
	}
	return ending;
}

static struct md_gdb *find(struct daemon *d, unsigned id)
{
	for (unsigned i = 0; i < MD_GDB_MAX; i++)
		if (d->gdbs[i].srv && !d->gdbs[i].ending && d->gdbs[i].vm == id)
			return &d->gdbs[i];
	return NULL;
}

static struct md_gdb *free_slot(struct daemon *d)
{
	for (unsigned i = 0; i < MD_GDB_MAX; i++)
		if (!d->gdbs[i].srv)
			return &d->gdbs[i];
	return NULL;
}

void md_op_vm_gdb(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	struct mvm *vm = md_request_vm(d, text, len, cl);
	struct md_gdb *g;
	uint64_t port = 0;
	char err[256];
	struct mp_msg m;
	int rc;

	if (!vm)
		return;
	if (mp_get(text, len, "port", err, sizeof(err)) &&
	    (!mp_get_u64(text, len, "port", &port) || port > 65535)) {
		md_reply_error(cl, EINVAL, "the port must be 0..65535 (0: any free one)");
		return;
	}
	if (!vm->id || (vm->state != MVM_RUNNING && vm->state != MVM_PAUSED)) {
		md_reply_error(cl, EBUSY, "VM '%s' is %s: only a running VM can be debugged",
			       vm->name, state_names[vm->state]);
		return;
	}
	g = find(d, vm->id);
	if (g) {
		md_reply_error(cl, EBUSY, "VM '%s' has a gdb server already, on port %u", vm->name,
			       g->port);
		return;
	}
	g = free_slot(d);
	if (!g) {
		md_reply_error(cl, ENOSPC, "this machine serves %u debuggers already", MD_GDB_MAX);
		return;
	}
	rc = gdb_server_start(&g->srv, d->cc, vm->id, (uint16_t)port, err, sizeof(err));
	if (rc < 0) {
		g->srv = NULL;
		md_reply_error(cl, -rc, "gdb for VM '%s': %s", vm->name, err);
		return;
	}
	g->vm = vm->id;
	g->port = gdb_server_port(g->srv);
	md_say(d, "gdb server for VM '%s' on 127.0.0.1:%u", vm->name, g->port);
	mp_init(&m);
	mp_add(&m, "ok", "1");
	mp_add(&m, "port", "%u", g->port);
	md_send_reply(cl, &m);
}
