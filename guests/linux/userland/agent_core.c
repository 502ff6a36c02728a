// SPDX-License-Identifier: BSD-2-Clause
/* The agent's protocol engine; see agent_core.h and docs/channel.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_core.h"

/* Room that data never takes from the obuf: replies to the host always fit. */
#define CONTROL_RESERVE (8 * 1024)
/* A grant smaller than this waits for more (or for a flush with force). */
#define GRANT_BATCH (8 * 1024)

static bool fail(struct agent_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct agent_core *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return false;
}

static bool emit(struct agent_core *c, uint16_t type, uint16_t stream, const void *p, size_t n)
{
	return obuf_frame(c->out, type, stream, p, n);
}

static bool send_u32(struct agent_core *c, uint16_t type, uint16_t stream, uint32_t v)
{
	uint8_t p[4];

	vx_put_u32(p, v);
	return emit(c, type, stream, p, sizeof(p));
}

/* ------------------------------------------------------------------ from the host */

/* AG_EXEC items: u16 tag, u16 length, bytes. */
static bool parse_exec(struct agent_core *c, struct agent_exec *x, char **argv, char **env)
{
	size_t nargs = 0, nenv = 0, at = 0;
	uint8_t *b = c->exec_buf;

	memset(x, 0, sizeof(*x));
	while (at < c->exec_len) {
		uint16_t tag, len;
		char *s;

		if (c->exec_len - at < 4)
			return fail(c, "AG_EXEC: an item is cut short");
		tag = vx_get_u16(b + at);
		len = vx_get_u16(b + at + 2);
		at += 4;
		if (len > c->exec_len - at)
			return fail(c, "AG_EXEC: an item runs past the message");
		s = (char *)b + at - 4; /* strings move 4 bytes back over their own header */
		if (tag != AG_ITEM_TTY) {
			if (memchr(b + at, '\0', len))
				return fail(c, "AG_EXEC: a string contains a NUL byte");
			memmove(s, b + at, len);
			s[len] = '\0';
		}
		switch (tag) {
		case AG_ITEM_ARG:
			argv[nargs++] = s;
			break;
		case AG_ITEM_ENV:
			if (!strchr(s, '=') || s[0] == '=')
				return fail(
				    c, "AG_EXEC: environment entry '%.40s' is not NAME=value", s);
			env[nenv++] = s;
			break;
		case AG_ITEM_CWD:
			if (x->cwd || len == 0)
				return fail(c, "AG_EXEC: an empty or second working directory");
			x->cwd = s;
			break;
		case AG_ITEM_TTY:
			if (len != 4 || x->tty)
				return fail(c, "AG_EXEC: a bad or second terminal item");
			x->tty = true;
			x->rows = vx_get_u16(b + at);
			x->cols = vx_get_u16(b + at + 2);
			break;
		default:
			return fail(c, "AG_EXEC: unknown item %u", tag);
		}
		at += len;
	}
	if (nargs == 0 || argv[0][0] == '\0')
		return fail(c, "AG_EXEC without a program");
	argv[nargs] = NULL;
	env[nenv] = NULL;
	x->argv = argv;
	x->env = env;
	return true;
}

static bool run_exec(struct agent_core *c)
{
	/* At most one item per 4 bytes: the pointer arrays cannot overflow. */
	size_t most = c->exec_len / 4 + 1;
	char **argv = calloc(most, sizeof(char *)), **env = calloc(most, sizeof(char *));
	struct agent_exec x;
	bool ok = false;

	if (!argv || !env) {
		fail(c, "out of memory for AG_EXEC");
	} else if (parse_exec(c, &x, argv, env)) {
		c->phase = AGENT_STARTING;
		for (unsigned s = 1; s <= AG_STREAM_STDERR; s++) {
			c->send_credit[s] = 0;
			c->recv_window[s] = 0;
			c->pending_grant[s] = 0;
			c->host_eof[s] = false;
		}
		c->ops->exec(c->ctx, &x);
		ok = true;
	}
	free(argv);
	free(env);
	return ok;
}

static bool on_data(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
		    size_t n, bool last)
{
	struct agent_core *c = ctx;

	if (h->type == AG_EXEC) {
		if (offset == 0 && (h->chan != AG_STREAM_CONTROL ||
				    (c->phase != AGENT_IDLE && c->phase != AGENT_DONE) ||
				    c->xfer != AGENT_XFER_NONE))
			return fail(c, "AG_EXEC while a program runs or a transfer is open");
		memcpy(c->exec_buf + offset, bytes, n);
		c->exec_len = offset + n;
		return !last || run_exec(c);
	}
	/* AG_DATA */
	if (offset == 0) {
		unsigned s = h->chan;
		bool open =
		    (s == AG_STREAM_STDIN && c->phase >= AGENT_RUNNING && !c->host_eof[s]) ||
		    (s == AG_STREAM_FILE &&
		     (c->xfer == AGENT_XFER_PUT || c->xfer == AGENT_XFER_PUT_FAILED));

		if (!open)
			return fail(c, "AG_DATA on stream %u, which is not open", s);
		if (h->len > c->recv_window[s])
			return fail(c, "AG_DATA of %u bytes on stream %u beyond the window (%u)",
				    h->len, s, c->recv_window[s]);
		c->recv_window[s] -= h->len;
	}
	if (n && !(h->chan == AG_STREAM_FILE && c->xfer == AGENT_XFER_PUT_FAILED))
		c->ops->data(c->ctx, h->chan, bytes, n);
	return true;
}

static bool on_eof(struct agent_core *c, unsigned s)
{
	if (s == AG_STREAM_FILE && c->xfer == AGENT_XFER_PUT_FAILED) {
		c->xfer = AGENT_XFER_NONE; /* the end of a put already refused */
		return true;
	}
	if (s == AG_STREAM_FILE) {
		if (c->xfer != AGENT_XFER_PUT)
			return fail(c, "AG_EOF on stream 4 without a file being put");
		c->xfer = AGENT_XFER_PUT_END;
	} else if (s >= AG_STREAM_STDIN && s <= AG_STREAM_STDERR) {
		if (c->phase < AGENT_RUNNING || c->host_eof[s])
			return fail(c, "AG_EOF on stream %u, which is not open", s);
		c->host_eof[s] = true;
	} else {
		return fail(c, "AG_EOF on stream %u", s);
	}
	c->ops->eof(c->ctx, s);
	return true;
}

static bool on_credit(struct agent_core *c, unsigned s, uint32_t n)
{
	if (s != AG_STREAM_STDOUT && s != AG_STREAM_STDERR && s != AG_STREAM_FILE)
		return fail(c, "AG_CREDIT on stream %u, where the agent sends nothing", s);
	/* A host may be generous; the agent's buffers do not grow with it. */
	c->send_credit[s] = n > UINT32_MAX - c->send_credit[s] ? UINT32_MAX : c->send_credit[s] + n;
	return true;
}

static bool take_path(struct agent_core *c, const uint8_t *p, size_t n, char *out)
{
	if (n == 0 || memchr(p, '\0', n))
		return fail(c, "a path that is empty or contains a NUL byte");
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static bool on_control(void *ctx, const struct vx_hdr *h, const uint8_t *p)
{
	struct agent_core *c = ctx;
	char path[VX_CONTROL_MAX + 1];

	if (h->type != AG_EOF && h->type != AG_CREDIT && h->chan != AG_STREAM_CONTROL)
		return fail(c, "message type %u on stream %u", h->type, h->chan);
	switch (h->type) {
	case AG_EOF:
		return h->len == 0 ? on_eof(c, h->chan) : fail(c, "AG_EOF with a payload");
	case AG_CREDIT:
		if (h->len != 4)
			return fail(c, "AG_CREDIT of %u bytes", h->len);
		return on_credit(c, h->chan, vx_get_u32(p));
	case AG_SIGNAL:
		if (h->len != 4)
			return fail(c, "AG_SIGNAL of %u bytes", h->len);
		if (vx_get_u32(p) == 0 || vx_get_u32(p) > 64)
			return fail(c, "AG_SIGNAL %u is no signal", vx_get_u32(p));
		if (c->phase == AGENT_RUNNING)
			c->ops->signal(c->ctx, (int)vx_get_u32(p));
		return true;
	case AG_WINSIZE:
		if (h->len != 4)
			return fail(c, "AG_WINSIZE of %u bytes", h->len);
		if (c->phase == AGENT_RUNNING)
			c->ops->winsize(c->ctx, vx_get_u16(p), vx_get_u16(p + 2));
		return true;
	case AG_PUT:
		if (h->len < 9 || c->xfer != AGENT_XFER_NONE)
			return fail(c, "AG_PUT while a transfer is open, or too short");
		if (!take_path(c, p + 8, h->len - 8, path))
			return false;
		c->xfer = AGENT_XFER_PUT_ASKED;
		c->ops->put(c->ctx, vx_get_u32(p), vx_get_u32(p + 4), path);
		return true;
	case AG_GET:
		if (h->len < 5 || c->xfer != AGENT_XFER_NONE)
			return fail(c, "AG_GET while a transfer is open, or too short");
		if (!take_path(c, p + 4, h->len - 4, path))
			return false;
		c->xfer = AGENT_XFER_GET;
		c->send_credit[AG_STREAM_FILE] = 0;
		c->ops->get(c->ctx, vx_get_u32(p), path);
		return true;
	case AG_SHUTDOWN:
		c->ops->shutdown(c->ctx);
		return true;
	default:
		return fail(c, "message type %u is not one the host sends", h->type);
	}
}

static const struct vx_parser_ops parser_ops = {on_control, on_data};

void agent_core_init(struct agent_core *c, const struct agent_core_ops *ops, void *ctx,
		     struct obuf *out)
{
	memset(c, 0, offsetof(struct agent_core, exec_buf));
	c->ops = ops;
	c->ctx = ctx;
	c->out = out;
	vx_parser_init(&c->parser, &parser_ops, c, 1u << AG_EXEC | 1u << AG_DATA);
}

bool agent_core_feed(struct agent_core *c, const uint8_t *bytes, size_t n)
{
	if (c->error[0])
		return false;
	vx_parser_feed(&c->parser, bytes, n);
	if (c->parser.error && !c->error[0])
		fail(c, "%s", vx_error_text(c->parser.error));
	return !c->error[0];
}

bool agent_core_failed(const struct agent_core *c)
{
	return c->error[0] != '\0';
}

/* ------------------------------------------------------------------ to the host */

static bool send_text(struct agent_core *c, uint16_t type, uint32_t v, const char *text)
{
	uint8_t p[VX_CONTROL_MAX];
	size_t len = strnlen(text, sizeof(p) - 4);

	vx_put_u32(p, v);
	memcpy(p + 4, text, len);
	return emit(c, type, AG_STREAM_CONTROL, p, 4 + len);
}

bool agent_core_hello(struct agent_core *c, const char *text)
{
	return send_text(c, AG_HELLO, VX_PROTOCOL_VER, text);
}

bool agent_core_started(struct agent_core *c, uint32_t pid)
{
	c->phase = AGENT_RUNNING;
	if (!send_u32(c, AG_STARTED, AG_STREAM_CONTROL, pid))
		return false;
	c->recv_window[AG_STREAM_STDIN] = VX_WINDOW;
	return send_u32(c, AG_CREDIT, AG_STREAM_STDIN, VX_WINDOW);
}

bool agent_core_exec_failed(struct agent_core *c, uint32_t err, const char *text)
{
	c->phase = AGENT_IDLE;
	return send_text(c, AG_ERROR, err, text);
}

bool agent_core_exit(struct agent_core *c, unsigned how, uint32_t value)
{
	uint8_t p[5];

	c->phase = AGENT_DONE;
	p[0] = (uint8_t)how;
	vx_put_u32(p + 1, value);
	return emit(c, AG_EXIT, AG_STREAM_CONTROL, p, sizeof(p));
}

bool agent_core_error(struct agent_core *c, uint32_t err, const char *text)
{
	return send_text(c, AG_ERROR, err, text);
}

bool agent_core_eof(struct agent_core *c, unsigned stream)
{
	return emit(c, AG_EOF, (uint16_t)stream, NULL, 0);
}

bool agent_core_put_accept(struct agent_core *c)
{
	c->xfer = AGENT_XFER_PUT;
	c->recv_window[AG_STREAM_FILE] = VX_WINDOW;
	c->pending_grant[AG_STREAM_FILE] = 0;
	return send_u32(c, AG_CREDIT, AG_STREAM_FILE, VX_WINDOW);
}

bool agent_core_put_done(struct agent_core *c)
{
	c->xfer = AGENT_XFER_NONE;
	c->pending_grant[AG_STREAM_FILE] = 0; /* nothing more comes: no use granting */
	return emit(c, AG_OK, AG_STREAM_CONTROL, NULL, 0);
}

bool agent_core_get_ok(struct agent_core *c, uint32_t flags, uint32_t mode)
{
	uint8_t p[8];

	vx_put_u32(p, flags);
	vx_put_u32(p + 4, mode);
	return emit(c, AG_OK, AG_STREAM_CONTROL, p, sizeof(p));
}

bool agent_core_xfer_error(struct agent_core *c, uint32_t err, const char *text)
{
	/* A put refused midway: what the host still sends on stream 4 is within the
	 * window it had and is dropped, up to its AG_EOF, which ends the put. */
	c->xfer = c->xfer == AGENT_XFER_PUT ? AGENT_XFER_PUT_FAILED : AGENT_XFER_NONE;
	c->pending_grant[AG_STREAM_FILE] = 0;
	return send_text(c, AG_ERROR, err, text);
}

bool agent_core_get_end(struct agent_core *c)
{
	c->xfer = AGENT_XFER_NONE;
	return agent_core_eof(c, AG_STREAM_FILE);
}

void agent_core_grant(struct agent_core *c, unsigned stream, uint32_t n)
{
	c->pending_grant[stream] += n;
}

void agent_core_flush(struct agent_core *c, bool force)
{
	for (unsigned s = AG_STREAM_STDIN; s <= AG_STREAM_FILE; s++) {
		uint32_t n = c->pending_grant[s];

		if (!n || (!force && n < GRANT_BATCH))
			continue;
		if (!send_u32(c, AG_CREDIT, (uint16_t)s, n))
			return;
		c->recv_window[s] += n;
		c->pending_grant[s] = 0;
	}
}

bool agent_core_can_send(const struct agent_core *c, unsigned stream)
{
	return c->send_credit[stream] > 0;
}

uint8_t *agent_core_data_begin(struct agent_core *c, unsigned stream, size_t limit, size_t *max)
{
	size_t room = obuf_room(c->out), n = c->send_credit[stream];
	uint8_t *p;

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

void agent_core_data_end(struct agent_core *c, unsigned stream, size_t n)
{
	uint8_t *p;

	if (n == 0)
		return;
	/* The reserve of data_begin is still there: the tail has not moved. */
	p = c->out->buf + c->out->tail;
	vx_put_hdr(p, AG_DATA, (uint16_t)stream, (uint32_t)n);
	obuf_commit(c->out, VX_HDR_SIZE + n);
	c->send_credit[stream] -= (uint32_t)n;
}
