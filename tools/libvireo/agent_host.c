// SPDX-License-Identifier: BSD-2-Clause
/* The host's agent-protocol engine; see agent_host.h and docs/channel.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent_host.h"

#define CONTROL_RESERVE (8 * 1024)
#define GRANT_BATCH	(AH_WINDOW / 4) /* fewer, bigger grants: each one wakes the guest */

static bool fail(struct ah_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct ah_core *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return false;
}

static const char *type_name(unsigned t)
{
	static const char *const names[] = {"type 0",	  "AG_HELLO",  "AG_EXEC",    "AG_DATA",
					    "AG_EOF",	  "AG_CREDIT", "AG_SIGNAL",  "AG_WINSIZE",
					    "AG_STARTED", "AG_EXIT",   "AG_ERROR",   "AG_PUT",
					    "AG_OK",	  "AG_GET",    "AG_SHUTDOWN"};

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "an unknown type";
}

static bool emit(struct ah_core *c, uint16_t type, uint16_t stream, const void *p, size_t n)
{
	return obuf_frame(c->out, type, stream, p, n);
}

static bool emit_u32(struct ah_core *c, uint16_t type, uint16_t stream, uint32_t v)
{
	uint8_t p[4];

	vx_put_u32(p, v);
	return emit(c, type, stream, p, sizeof(p));
}

/* ------------------------------------------------------------------ from the agent */

static bool on_data(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
		    size_t n, bool last)
{
	struct ah_core *c = ctx;
	unsigned s = h->chan;

	(void)last;
	if (offset == 0) {
		bool open = ((s == AG_STREAM_STDOUT || s == AG_STREAM_STDERR) &&
			     c->exec == AH_EXEC_RUNNING && !c->out_eof[s]) ||
			    (s == AG_STREAM_FILE && c->xfer == AH_XFER_GET);

		if (!open)
			return fail(c, "AG_DATA on stream %u, which is not open", s);
		if (h->len > c->recv_window[s])
			return fail(c, "%u bytes on stream %u, beyond the window of %u", h->len, s,
				    c->recv_window[s]);
		c->recv_window[s] -= h->len;
	}
	if (n)
		c->ops->data(c->ctx, s, bytes, n);
	return true;
}

static bool on_error_msg(struct ah_core *c, const uint8_t *p, uint32_t len)
{
	uint32_t err;
	const char *text = (const char *)p + 4;
	size_t tlen = len - 4;

	if (len < 4)
		return fail(c, "AG_ERROR of %u bytes", len);
	err = vx_get_u32(p);
	switch (c->xfer) {
	case AH_XFER_PUT_ASKED:
	case AH_XFER_PUT_END:
	case AH_XFER_GET_ASKED:
	case AH_XFER_GET:
		c->xfer = AH_XFER_NONE;
		c->ops->xfer_done(c->ctx, false, err, text, tlen);
		return true;
	case AH_XFER_PUT:
		c->xfer = AH_XFER_PUT_FAILED;
		c->ops->xfer_done(c->ctx, false, err, text, tlen);
		return true;
	default:
		break;
	}
	if (c->exec == AH_EXEC_SENT) {
		c->exec = AH_EXEC_NONE;
		c->ops->exec_failed(c->ctx, err, text, tlen);
		return true;
	}
	c->ops->failed(c->ctx, err, text, tlen);
	return fail(c, "the agent reported an error: %.*s", (int)(tlen > 150 ? 150 : tlen), text);
}

static bool on_eof(struct ah_core *c, unsigned s)
{
	if (s == AG_STREAM_FILE && c->xfer == AH_XFER_GET) {
		c->xfer = AH_XFER_NONE;
		c->ops->xfer_done(c->ctx, true, 0, NULL, 0);
		return true;
	}
	if ((s != AG_STREAM_STDOUT && s != AG_STREAM_STDERR) || c->exec != AH_EXEC_RUNNING ||
	    c->out_eof[s])
		return fail(c, "AG_EOF on stream %u, which is not open", s);
	c->out_eof[s] = true;
	c->ops->eof(c->ctx, s);
	return true;
}

static bool on_credit(struct ah_core *c, unsigned s, uint32_t n)
{
	if (s == AG_STREAM_FILE && c->xfer == AH_XFER_PUT_ASKED) {
		c->xfer = AH_XFER_PUT;
		c->send_credit[s] = n;
		c->ops->put_accepted(c->ctx);
		return true;
	}
	if (s == AG_STREAM_FILE && (c->xfer == AH_XFER_PUT || c->xfer == AH_XFER_PUT_END ||
				    c->xfer == AH_XFER_PUT_FAILED)) {
		/* Credit after the last byte is of no use, and harmless. */
	} else if (s != AG_STREAM_STDIN ||
		   (c->exec != AH_EXEC_RUNNING && c->exec != AH_EXEC_EXITED)) {
		return fail(c, "AG_CREDIT on stream %u, where the host sends nothing now", s);
	}
	c->send_credit[s] = n > UINT32_MAX - c->send_credit[s] ? UINT32_MAX : c->send_credit[s] + n;
	return true;
}

static bool on_ok(struct ah_core *c, const uint8_t *p, uint32_t len)
{
	if (len == 0 && c->xfer == AH_XFER_PUT_END) {
		c->xfer = AH_XFER_NONE;
		c->ops->xfer_done(c->ctx, true, 0, NULL, 0);
		return true;
	}
	if (len == 8 && c->xfer == AH_XFER_GET_ASKED) {
		uint32_t flags = vx_get_u32(p);

		if (flags & ~AG_FLAG_TAR)
			return fail(c, "AG_OK with flags %#x", flags);
		c->xfer = AH_XFER_GET;
		c->ops->get_started(c->ctx, flags, vx_get_u32(p + 4) & 07777);
		return true;
	}
	return fail(c, "AG_OK of %u bytes, answering nothing the host asked", len);
}

static bool on_exit_msg(struct ah_core *c, const uint8_t *p, uint32_t len)
{
	if (len != 5 || c->exec != AH_EXEC_RUNNING)
		return fail(c, "AG_EXIT of %u bytes, or while no program runs", len);
	if (!c->out_eof[AG_STREAM_STDOUT] || !c->out_eof[AG_STREAM_STDERR])
		return fail(c, "AG_EXIT before the end of the program's output");
	if (p[0] > AG_KILLED || (p[0] == AG_EXITED && vx_get_u32(p + 1) > 255) ||
	    (p[0] == AG_KILLED && (vx_get_u32(p + 1) == 0 || vx_get_u32(p + 1) > 64)))
		return fail(c, "AG_EXIT with how %u and value %u", p[0], vx_get_u32(p + 1));
	c->exec = AH_EXEC_EXITED;
	c->ops->exited(c->ctx, p[0], vx_get_u32(p + 1));
	return true;
}

static bool on_control(void *ctx, const struct vx_hdr *h, const uint8_t *p)
{
	struct ah_core *c = ctx;

	if (!c->hello_seen && h->type != AG_HELLO)
		return fail(c, "%s before AG_HELLO", type_name(h->type));
	if (h->type != AG_EOF && h->type != AG_CREDIT && h->chan != AG_STREAM_CONTROL)
		return fail(c, "%s on stream %u", type_name(h->type), h->chan);
	switch (h->type) {
	case AG_HELLO:
		if (c->hello_seen || h->len < 4)
			return fail(c, "a second or short AG_HELLO");
		if (vx_get_u32(p) != VX_PROTOCOL_VER)
			return fail(c, "agent protocol version %u (the host speaks %u)",
				    vx_get_u32(p), VX_PROTOCOL_VER);
		c->hello_seen = true;
		c->ops->hello(c->ctx, vx_get_u32(p), (const char *)p + 4, h->len - 4);
		return true;
	case AG_EOF:
		return h->len == 0 ? on_eof(c, h->chan) : fail(c, "AG_EOF with a payload");
	case AG_CREDIT:
		return h->len == 4 ? on_credit(c, h->chan, vx_get_u32(p))
				   : fail(c, "AG_CREDIT of %u bytes", h->len);
	case AG_STARTED:
		if (h->len != 4 || c->exec != AH_EXEC_SENT)
			return fail(c, "AG_STARTED of %u bytes, or not after AG_EXEC", h->len);
		c->exec = AH_EXEC_RUNNING;
		c->ops->started(c->ctx, vx_get_u32(p));
		return true;
	case AG_EXIT:
		return on_exit_msg(c, p, h->len);
	case AG_ERROR:
		return on_error_msg(c, p, h->len);
	case AG_OK:
		return on_ok(c, p, h->len);
	default:
		return fail(c, "%s, which is not a message the agent sends", type_name(h->type));
	}
}

static const struct vx_parser_ops parser_ops = {on_control, on_data};

void ah_init(struct ah_core *c, const struct ah_ops *ops, void *ctx, struct obuf *out)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->ctx = ctx;
	c->out = out;
	vx_parser_init(&c->parser, &parser_ops, c, 1u << AG_DATA);
}

bool ah_feed(struct ah_core *c, const uint8_t *bytes, size_t n)
{
	if (c->error[0])
		return false;
	vx_parser_feed(&c->parser, bytes, n);
	if (c->parser.error && !c->error[0])
		fail(c, "%s", vx_error_text(c->parser.error));
	return !c->error[0];
}

const char *ah_error(const struct ah_core *c)
{
	return c->error;
}

bool ah_failed(const struct ah_core *c)
{
	return c->error[0] != '\0';
}

/* ------------------------------------------------------------------ to the agent */

static bool put_item(uint8_t *buf, size_t *at, uint16_t tag, const void *p, size_t n)
{
	if (n > UINT16_MAX || *at + 4 + n > VX_MAX_PAYLOAD)
		return false;
	vx_put_u16(buf + *at, tag);
	vx_put_u16(buf + *at + 2, (uint16_t)n);
	memcpy(buf + *at + 4, p, n);
	*at += 4 + n;
	return true;
}

int ah_exec_payload(const char *const *argv, const char *const *env, const char *cwd, bool tty,
		    unsigned rows, unsigned cols, uint8_t *buf, size_t *len)
{
	size_t at = 0;

	for (; argv && *argv; argv++)
		if (!put_item(buf, &at, AG_ITEM_ARG, *argv, strlen(*argv)))
			return -1;
	for (; env && *env; env++)
		if (!put_item(buf, &at, AG_ITEM_ENV, *env, strlen(*env)))
			return -1;
	if (cwd && !put_item(buf, &at, AG_ITEM_CWD, cwd, strlen(cwd)))
		return -1;
	if (tty) {
		uint8_t ws[4];

		vx_put_u16(ws, (uint16_t)rows);
		vx_put_u16(ws + 2, (uint16_t)cols);
		if (!put_item(buf, &at, AG_ITEM_TTY, ws, sizeof(ws)))
			return -1;
	}
	*len = at;
	return 0;
}

bool ah_exec(struct ah_core *c, const uint8_t *payload, size_t len)
{
	uint8_t credit[2][VX_HDR_SIZE + 4];

	/* The exec and the windows for the program's output go together: its first
	 * bytes need not wait for a round trip. */
	if (obuf_room(c->out) < VX_HDR_SIZE + len + sizeof(credit))
		return false;
	emit(c, AG_EXEC, AG_STREAM_CONTROL, payload, len);
	for (unsigned s = AG_STREAM_STDOUT; s <= AG_STREAM_STDERR; s++) {
		c->out_eof[s] = false;
		c->recv_window[s] = AH_WINDOW;
		c->pending_grant[s] = 0;
		emit_u32(c, AG_CREDIT, (uint16_t)s, AH_WINDOW);
	}
	c->send_credit[AG_STREAM_STDIN] = 0;
	c->exec = AH_EXEC_SENT;
	return true;
}

bool ah_put(struct ah_core *c, uint32_t mode, uint32_t flags, const char *path)
{
	uint8_t p[VX_CONTROL_MAX];
	size_t n = strlen(path);

	if (n == 0 || n > sizeof(p) - 8)
		return false;
	vx_put_u32(p, mode);
	vx_put_u32(p + 4, flags);
	memcpy(p + 8, path, n);
	if (!emit(c, AG_PUT, AG_STREAM_CONTROL, p, 8 + n))
		return false;
	c->send_credit[AG_STREAM_FILE] = 0;
	c->xfer = AH_XFER_PUT_ASKED;
	return true;
}

bool ah_put_eof(struct ah_core *c)
{
	if (!emit(c, AG_EOF, AG_STREAM_FILE, NULL, 0))
		return false;
	c->xfer = c->xfer == AH_XFER_PUT ? AH_XFER_PUT_END : AH_XFER_NONE;
	return true;
}

bool ah_get(struct ah_core *c, uint32_t flags, const char *path)
{
	uint8_t p[VX_CONTROL_MAX];
	size_t n = strlen(path);

	if (n == 0 || n > sizeof(p) - 4 || obuf_room(c->out) < 2 * VX_HDR_SIZE + 8 + n)
		return false;
	vx_put_u32(p, flags);
	memcpy(p + 4, path, n);
	emit(c, AG_GET, AG_STREAM_CONTROL, p, 4 + n);
	c->recv_window[AG_STREAM_FILE] = AH_WINDOW;
	c->pending_grant[AG_STREAM_FILE] = 0;
	emit_u32(c, AG_CREDIT, AG_STREAM_FILE, AH_WINDOW);
	c->xfer = AH_XFER_GET_ASKED;
	return true;
}

bool ah_stdin_eof(struct ah_core *c)
{
	return emit(c, AG_EOF, AG_STREAM_STDIN, NULL, 0);
}

bool ah_stop_reading(struct ah_core *c, unsigned stream)
{
	return emit(c, AG_EOF, (uint16_t)stream, NULL, 0);
}

bool ah_signal(struct ah_core *c, int sig)
{
	return emit_u32(c, AG_SIGNAL, AG_STREAM_CONTROL, (uint32_t)sig);
}

bool ah_winsize(struct ah_core *c, unsigned rows, unsigned cols)
{
	uint8_t p[4];

	vx_put_u16(p, (uint16_t)rows);
	vx_put_u16(p + 2, (uint16_t)cols);
	return emit(c, AG_WINSIZE, AG_STREAM_CONTROL, p, sizeof(p));
}

bool ah_shutdown(struct ah_core *c)
{
	return emit(c, AG_SHUTDOWN, AG_STREAM_CONTROL, NULL, 0);
}

bool ah_raw(struct ah_core *c, uint16_t type, uint16_t stream, const void *p, size_t n)
{
	return emit(c, type, stream, p, n);
}

void ah_grant(struct ah_core *c, unsigned stream, uint32_t n)
{
	c->pending_grant[stream] += n;
}

void ah_flush(struct ah_core *c, bool force)
{
	for (unsigned s = AG_STREAM_STDOUT; s <= AG_STREAM_FILE; s++) {
		uint32_t n = c->pending_grant[s];

		if (!n || (!force && n < GRANT_BATCH))
			continue;
		if (!emit_u32(c, AG_CREDIT, (uint16_t)s, n))
			return;
		c->recv_window[s] += n;
		c->pending_grant[s] = 0;
	}
}

bool ah_can_send(const struct ah_core *c, unsigned stream)
{
	return c->send_credit[stream] > 0;
}

uint8_t *ah_data_begin(struct ah_core *c, unsigned stream, size_t limit, size_t *max)
{
	size_t room = obuf_room(c->out), n = c->send_credit[stream];
	uint8_t *p;

	if (stream == AG_STREAM_FILE && c->xfer != AH_XFER_PUT)
		return NULL;
	if (n > limit)
		n = limit;
	if (n > AG_CHUNK)
		n = AG_CHUNK;
	if (room < VX_HDR_SIZE + CONTROL_RESERVE + 1)
		return NULL;
	if (n > room - VX_HDR_SIZE - CONTROL_RESERVE)
		n = room - VX_HDR_SIZE - CONTROL_RESERVE;
	if (n == 0)
		return NULL;
	p = obuf_reserve(c->out, VX_HDR_SIZE + n);
	if (!p)
		return NULL;
	*max = n;
	return p + VX_HDR_SIZE;
}

void ah_data_end(struct ah_core *c, unsigned stream, size_t n)
{
	uint8_t *p;

	if (n == 0)
		return;
	p = c->out->buf + c->out->tail;
	vx_put_hdr(p, AG_DATA, (uint16_t)stream, (uint32_t)n);
	obuf_commit(c->out, VX_HDR_SIZE + n);
	c->send_credit[stream] -= (uint32_t)n;
}
