// SPDX-License-Identifier: BSD-2-Clause
/* The outgoing frame queue; see obuf.h. */
#include <stdlib.h>
#include <string.h>

#include <vireo/vx.h>

#include "obuf.h"

int obuf_init(struct obuf *o, size_t cap)
{
	o->buf = malloc(cap);
	o->cap = o->buf ? cap : 0;
	o->head = o->tail = 0;
	return o->buf ? 0 : -1;
}

void obuf_free(struct obuf *o)
{
	free(o->buf);
	o->buf = NULL;
	o->cap = o->head = o->tail = 0;
}

size_t obuf_len(const struct obuf *o)
{
	return o->tail - o->head;
}

size_t obuf_room(const struct obuf *o)
{
	return o->cap - obuf_len(o);
}

bool obuf_empty(const struct obuf *o)
{
	return o->tail == o->head;
}

uint8_t *obuf_reserve(struct obuf *o, size_t n)
{
	if (n > obuf_room(o))
		return NULL;
	if (o->cap - o->tail < n) {
		memmove(o->buf, o->buf + o->head, obuf_len(o));
		o->tail -= o->head;
		o->head = 0;
	}
	return o->buf + o->tail;
}

void obuf_commit(struct obuf *o, size_t n)
{
	o->tail += n;
}

bool obuf_frame(struct obuf *o, uint16_t type, uint16_t chan, const void *payload, size_t len)
{
	uint8_t *p = obuf_reserve(o, VX_HDR_SIZE + len);

	if (!p || len > VX_MAX_PAYLOAD)
		return false;
	vx_put_hdr(p, type, chan, (uint32_t)len);
	if (len)
		memcpy(p + VX_HDR_SIZE, payload, len);
	obuf_commit(o, VX_HDR_SIZE + len);
	return true;
}

const uint8_t *obuf_data(const struct obuf *o)
{
	return o->buf + o->head;
}

void obuf_consume(struct obuf *o, size_t n)
{
	o->head += n;
	if (o->head == o->tail)
		o->head = o->tail = 0;
}
