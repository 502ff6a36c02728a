// SPDX-License-Identifier: BSD-2-Clause
/* The host's link-protocol engine; see link.h and docs/channel.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vireo/vx.h>

#include "link.h"

#define GRANT_BATCH (16 * 1024)

static bool fail(struct lk_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct lk_core *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return false;
}

static bool on_data(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
		    size_t n, bool last)
{
	struct lk_core *c = ctx;

	(void)last;
	if (offset == 0) {
		if (!c->hello_seen || h->chan != c->chan || !c->open || c->closed)
			return fail(c, "LINK_DATA on channel %u, which is not open", h->chan);
		if (h->len > c->recv_window)
			return fail(c, "LINK_DATA of %u bytes beyond the window of %u", h->len,
				    c->recv_window);
		c->recv_window -= h->len;
	}
	if (n)
		c->ops->data(c->ctx, bytes, n);
	return true;
}

static bool on_control(void *ctx, const struct vx_hdr *h, const uint8_t *p)
{
	struct lk_core *c = ctx;
	bool ours = h->chan == c->chan;

	if (!c->hello_seen && h->type != LINK_HELLO)
		return fail(c, "link message type %u before LINK_HELLO", h->type);
	switch (h->type) {
	case LINK_HELLO:
		if (c->hello_seen || h->len < 8 || h->chan != 0)
			return fail(c, "a second or malformed LINK_HELLO");
		if (vx_get_u32(p) != VX_PROTOCOL_VER)
			return fail(c, "link protocol version %u (the host speaks %u)",
				    vx_get_u32(p), VX_PROTOCOL_VER);
		c->hello_seen = true;
		c->ops->hello(c->ctx, vx_get_u32(p), vx_get_u32(p + 4));
		return true;
	case LINK_OPEN:
		if (h->len < 4)
			return fail(c, "LINK_OPEN of %u bytes", h->len);
		if (!ours)
			return true; /* another VM's port: not ours to serve */
		if (c->open)
			return fail(c, "channel %u opened twice", c->chan);
		c->open = true;
		c->ops->open(c->ctx, vx_get_u32(p), (const char *)p + 4, h->len - 4);
		return true;
	case LINK_CREDIT:
		if (h->len != 4)
			return fail(c, "LINK_CREDIT of %u bytes", h->len);
		if (!ours)
			return true;
		c->send_credit = vx_get_u32(p) > UINT32_MAX - c->send_credit
				     ? UINT32_MAX
				     : c->send_credit + vx_get_u32(p);
		return true;
	case LINK_CLOSE:
		if (ours && c->open && !c->closed) {
			c->closed = true;
			c->ops->close(c->ctx);
		}
		return true;
	case LINK_VM_EXIT:
		if (h->len < 4)
			return fail(c, "LINK_VM_EXIT of %u bytes", h->len);
		if (c->ops->control)
			c->ops->control(c->ctx, h->type, h->chan, p, h->len);
		if (ours)
			c->ops->vm_exit(c->ctx, (int32_t)vx_get_u32(p), (const char *)p + 4,
					h->len - 4);
		return true;
	case LINK_ERROR:
		if (h->len < 4)
			return fail(c, "LINK_ERROR of %u bytes", h->len);
		c->ops->error(c->ctx, vx_get_u32(p), (const char *)p + 4, h->len - 4);
		return fail(c, "Vireo reported link error %u: %.*s", vx_get_u32(p),
			    (int)(h->len - 4 > 150 ? 150 : h->len - 4), (const char *)p + 4);
	case LINK_REPLY:
	case LINK_EVENT:
		/* Control-plane traffic (docs/channel.md, "Control requests"): for a client of
		 * the control plane if there is one (a debugger); nothing else here. */
		if (c->ops->control)
			c->ops->control(c->ctx, h->type, h->chan, p, h->len);
		return true;
	default:
		return fail(c, "link message type %u, which Vireo does not send", h->type);
	}
}

static const struct vx_parser_ops parser_ops = {on_control, on_data};

void lk_init(struct lk_core *c, const struct lk_ops *ops, void *ctx, struct obuf *out,
	     uint16_t chan)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->ctx = ctx;
	c->out = out;
	c->chan = chan;
	vx_parser_init(&c->parser, &parser_ops, c, 1u << LINK_DATA);
}

bool lk_feed(struct lk_core *c, const uint8_t *bytes, size_t n)
{
	if (c->error[0])
		return false;
	vx_parser_feed(&c->parser, bytes, n);
	if (c->parser.error && !c->error[0])
		fail(c, "%s", vx_error_text(c->parser.error));
	return !c->error[0];
}

bool lk_failed(const struct lk_core *c)
{
	return c->error[0] != '\0';
}

bool lk_hello(struct lk_core *c)
{
	uint8_t p[8];

	vx_put_u32(p, VX_PROTOCOL_VER);
	vx_put_u32(p + 4, 0);
	return obuf_frame(c->out, LINK_HELLO, 0, p, sizeof(p));
}

bool lk_open_window(struct lk_core *c)
{
	uint8_t p[4];

	vx_put_u32(p, LK_WINDOW);
	if (!obuf_frame(c->out, LINK_CREDIT, c->chan, p, sizeof(p)))
		return false;
	c->recv_window += LK_WINDOW;
	return true;
}

void lk_consumed(struct lk_core *c, uint32_t n, bool force)
{
	uint8_t p[4];

	c->pending_grant += n;
	if (!c->pending_grant || (!force && c->pending_grant < GRANT_BATCH))
		return;
	vx_put_u32(p, c->pending_grant);
	if (!obuf_frame(c->out, LINK_CREDIT, c->chan, p, sizeof(p)))
		return;
	c->recv_window += c->pending_grant;
	c->pending_grant = 0;
}

size_t lk_wrap(struct lk_core *c, struct obuf *from)
{
	size_t moved = 0;

	while (c->open && !c->closed && !obuf_empty(from) && c->send_credit) {
		size_t n = obuf_len(from), room = obuf_room(c->out);

		if (n > c->send_credit)
			n = c->send_credit;
		if (n > VX_MAX_PAYLOAD)
			n = VX_MAX_PAYLOAD;
		if (room <= VX_HDR_SIZE)
			break;
		if (n > room - VX_HDR_SIZE)
			n = room - VX_HDR_SIZE;
		if (!obuf_frame(c->out, LINK_DATA, c->chan, obuf_data(from), n))
			break;
		obuf_consume(from, n);
		c->send_credit -= (uint32_t)n;
		moved += n;
	}
	return moved;
}

bool lk_close(struct lk_core *c)
{
	return obuf_frame(c->out, LINK_CLOSE, c->chan, NULL, 0);
}
