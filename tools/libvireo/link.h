/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host's side of the link protocol (docs/channel.md), without I/O: the
 * frames Vireo sends go in (lk_feed), are checked (hello first, data only on
 * the open channel and within the window granted) and come out as calls of
 * struct lk_ops. The host library serves one channel, its VM's: the bytes of
 * that channel are the agent protocol, wrapped in LINK_DATA frames as the
 * window Vireo granted allows (lk_wrap).
 */
#ifndef VIREO_LINK_H
#define VIREO_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "obuf.h"

/*
 * The window the host grants Vireo on its channel: the protocol's 64 KiB, and no more.
 * QEMU's virtconsole (the link is port 0 of a virtio-serial device, a console port) drops
 * whatever its chardev socket cannot take at once instead of holding the guest's buffers
 * back, so the bytes in flight from Vireo must always fit in the socket's buffer; a larger
 * window lets Vireo outrun a busy host and QEMU cut the stream. (Measured: with 1 MiB the
 * stream lost bytes within seconds of a fast writer; with 64 KiB never.)
 */
#define LK_WINDOW VX_WINDOW

struct lk_ops {
	void (*hello)(void *ctx, uint32_t version, uint32_t flags);
	void (*open)(void *ctx, uint32_t vm_id, const char *name, size_t len);
	/* Bytes of the channel; consumed at once (lk_consumed() grants them again). */
	void (*data)(void *ctx, const uint8_t *bytes, size_t n);
	void (*close)(void *ctx);
	void (*vm_exit)(void *ctx, int32_t status, const char *reason, size_t len);
	/* LINK_ERROR from Vireo: what we did wrong, in its words. */
	void (*error)(void *ctx, uint32_t code, const char *text, size_t len);
	/* Optional: the control plane's frames (LINK_REPLY, LINK_EVENT) and every VM's
	 * LINK_VM_EXIT, whichever channel (a control-plane client: ctl_client.h). */
	void (*control)(void *ctx, uint16_t type, uint16_t chan, const uint8_t *payload,
			size_t len);
};

struct lk_core {
	struct vx_parser parser;
	const struct lk_ops *ops;
	void *ctx;
	struct obuf *out;
	uint16_t chan; /* the channel (VM id) served */
	bool hello_seen, open, closed;
	uint32_t send_credit; /* channel bytes we may still send */
	uint32_t recv_window; /* channel bytes Vireo may still send */
	uint32_t pending_grant;
	char error[200];
};

void lk_init(struct lk_core *c, const struct lk_ops *ops, void *ctx, struct obuf *out,
	     uint16_t chan);
bool lk_feed(struct lk_core *c, const uint8_t *bytes, size_t n);
bool lk_failed(const struct lk_core *c);

bool lk_hello(struct lk_core *c);
/* Our initial window, once the channel is open. */
bool lk_open_window(struct lk_core *c);
/* n bytes of the channel were consumed: grant them again (batched unless force). */
void lk_consumed(struct lk_core *c, uint32_t n, bool force);
/* Move what `from` holds into LINK_DATA frames in the link's obuf, as far as the
 * window and room allow. Returns the bytes moved. */
size_t lk_wrap(struct lk_core *c, struct obuf *from);
bool lk_close(struct lk_core *c);

#endif
