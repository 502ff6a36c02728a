/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A client of Vireo's control plane (docs/channel.md, "Control requests"):
 * any thread may make a request and wait for its reply (ctl_client_call);
 * the thread that owns the link moves the requests onto it and hands the
 * control frames that come back to the client. Events (LINK_EVENT) and the
 * ends of VMs (LINK_VM_EXIT) go to whoever listens.
 *
 * Two owners of a link use it: ctl_link (below), a thread of its own for a
 * link that carries nothing else (`vireo run --gdb`), and a libvireo session,
 * whose thread already serves the link for a program's stdio.
 */
#ifndef VIREO_CTL_CLIENT_H
#define VIREO_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "obuf.h"

struct ctl_client;

/* Called on the link's thread for each LINK_EVENT and LINK_VM_EXIT (type says which). */
typedef void (*ctl_client_listener)(void *ctx, uint16_t type, uint16_t chan, const uint8_t *payload,
				    size_t len);

/* NULL when out of memory. */
struct ctl_client *ctl_client_new(void);
/* Once nothing uses it any more (calls fail from ctl_client_closed on). */
void ctl_client_free(struct ctl_client *cc);
/* Number requests from id on (a link that carries other requests too keeps the
 * ids apart: the machine's daemon numbers its own from 1, its gdb servers' from 2^31). */
void ctl_client_first_id(struct ctl_client *cc, uint32_t id);
/* Add or remove a listener (at most 16). 0, or -ENOSPC. */
int ctl_client_listen(struct ctl_client *cc, ctl_client_listener fn, void *ctx);
void ctl_client_unlisten(struct ctl_client *cc, ctl_client_listener fn, void *ctx);

/*
 * One request (op, args of at most CTL_ARGS_MAX bytes): waits for the reply for
 * at most timeout_ms. Returns its result (>= 0) with the reply's data in
 * reply[0..*got) (what does not fit in cap is dropped), or a negative errno:
 * Vireo's, -ETIMEDOUT, or -EPIPE once the link is gone. Not on the link's
 * own thread.
 */
int ctl_client_call(struct ctl_client *cc, uint16_t op, const void *args, uint32_t len, void *reply,
		    uint32_t cap, uint32_t *got, unsigned timeout_ms);

/* ---- for the link's thread */
/* Readable when requests wait to go out (read it empty with ctl_client_drain_wake). */
int ctl_client_wake_fd(const struct ctl_client *cc);
void ctl_client_drain_wake(struct ctl_client *cc);
/* The link is up (hellos exchanged): requests may go. */
void ctl_client_ready(struct ctl_client *cc);
/* Move waiting requests into out (LINK_REQUEST frames) while they fit. */
void ctl_client_take(struct ctl_client *cc, struct obuf *out);
/* A control frame from Vireo (the lk_ops control callback). */
void ctl_client_frame(struct ctl_client *cc, uint16_t type, uint16_t chan, const uint8_t *payload,
		      size_t len);
/* The link is gone: every call fails with -EPIPE from now on. */
void ctl_client_closed(struct ctl_client *cc);

/* ---- a link that carries only the control plane, served by a thread of its own */
struct ctl_link;
/* Serve fd (a connected stream socket: the host end of the link; taken over and
 * closed by ctl_link_stop). 0 or a negative errno. */
int ctl_link_start(struct ctl_link **out, int fd, struct ctl_client *cc);
void ctl_link_stop(struct ctl_link *l);

#endif
