// SPDX-License-Identifier: BSD-2-Clause
/* The remote serial protocol's framing; see rsp.h. */
#include <stdlib.h>
#include <string.h>

#include "rsp.h"

#define INTERRUPT 0x03

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void rsp_init(struct rsp *r, const struct rsp_ops *ops, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->ctx = ctx;
}

void rsp_free(struct rsp *r)
{
	free(r->last);
	r->last = NULL;
	r->last_len = 0;
}

void rsp_set_no_ack(struct rsp *r)
{
	r->no_ack = true;
	rsp_free(r);
}

static void ack(struct rsp *r, char c)
{
	if (!r->no_ack)
		r->ops->send(r->ctx, &c, 1);
}

static void take(struct rsp *r, uint8_t c)
{
	if (r->len < RSP_MAX_PACKET)
		r->buf[r->len++] = (char)c;
	else
		r->overflow = true;
}

static void packet_done(struct rsp *r, uint8_t given)
{
	if (given != r->sum) {
		r->bad_checksums++;
		ack(r, '-');
		return;
	}
	ack(r, '+');
	r->buf[r->len] = '\0';
	r->ops->packet(r->ctx, r->overflow ? NULL : r->buf, r->overflow ? 0 : r->len);
}

static void feed_one(struct rsp *r, uint8_t c)
{
	int v;

	switch (r->state) {
	case RSP_IDLE:
		if (c == '$') {
			r->state = RSP_DATA;
			r->len = 0;
			r->sum = 0;
			r->overflow = false;
		} else if (c == INTERRUPT) {
			r->ops->interrupt(r->ctx);
		} else if (c == '-' && r->last && !r->no_ack) {
			r->ops->send(r->ctx, r->last, r->last_len);
		}
		/* '+' and anything else between packets: nothing to do. */
		return;
	case RSP_DATA:
		if (c == '#') {
			r->state = RSP_CSUM1;
			return;
		}
		/* A '$' inside a packet starts it over: the debugger gave up on the last. */
		if (c == '$') {
			r->len = 0;
			r->sum = 0;
			r->overflow = false;
			return;
		}
		r->sum = (uint8_t)(r->sum + c);
		if (c == '}')
			r->state = RSP_ESCAPE;
		else
			take(r, c);
		return;
	case RSP_ESCAPE:
		r->sum = (uint8_t)(r->sum + c);
		take(r, c ^ 0x20);
		r->state = RSP_DATA;
		return;
	case RSP_CSUM1:
		v = hex_value(c);
		r->given = (uint8_t)(v < 0 ? 0 : v);
		r->state = v < 0 ? RSP_IDLE : RSP_CSUM2;
		if (v < 0) {
			r->bad_checksums++;
			ack(r, '-');
		}
		return;
	case RSP_CSUM2:
		v = hex_value(c);
		r->state = RSP_IDLE;
		if (v < 0) {
			r->bad_checksums++;
			ack(r, '-');
			return;
		}
		packet_done(r, (uint8_t)(r->given << 4 | v));
		return;
	}
}

void rsp_feed(struct rsp *r, const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		feed_one(r, bytes[i]);
}

void rsp_send(struct rsp *r, const char *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* Every byte may need an escape: at most 2 * len + 4. */
	char *out = malloc(2 * len + 4);
	size_t o = 0;
	uint8_t sum = 0;

	if (!out)
		return;
	out[o++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)data[i];

		if (c == '#' || c == '$' || c == '}' || c == '*') {
			out[o++] = '}';
			sum = (uint8_t)(sum + '}');
			c ^= 0x20;
		}
		out[o++] = (char)c;
		sum = (uint8_t)(sum + c);
	}
	out[o++] = '#';
	out[o++] = hex[sum >> 4];
	out[o++] = hex[sum & 15];
	r->ops->send(r->ctx, out, o);
	free(r->last);
	r->last = NULL;
	r->last_len = 0;
	if (r->no_ack) {
		free(out);
		return;
	}
	r->last = out;
	r->last_len = o;
}
