/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A bounded byte queue of outgoing frames: appended at the tail, written out
 * from the head. Contiguous (compacted when the tail runs out of room), so a
 * frame's payload can be read straight into it behind its header. Shared by
 * the host library and the guest agent.
 */
#ifndef VIREO_OBUF_H
#define VIREO_OBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct obuf {
	uint8_t *buf;
	size_t cap;
	size_t head, tail; /* pending bytes are buf[head..tail) */
};

/* 0, or -1 when out of memory. */
int obuf_init(struct obuf *o, size_t cap);
void obuf_free(struct obuf *o);
size_t obuf_len(const struct obuf *o);
size_t obuf_room(const struct obuf *o);
bool obuf_empty(const struct obuf *o);
/* n contiguous bytes at the tail (compacting first if needed), or NULL if they do not fit. */
uint8_t *obuf_reserve(struct obuf *o, size_t n);
/* n bytes written at the tail (n no more than the last reserve) are now pending. */
void obuf_commit(struct obuf *o, size_t n);
/* Append a frame: header and payload. false if it does not fit (nothing appended). */
bool obuf_frame(struct obuf *o, uint16_t type, uint16_t chan, const void *payload, size_t len);
/* The pending bytes, and dropping n of them from the head once written. */
const uint8_t *obuf_data(const struct obuf *o);
void obuf_consume(struct obuf *o, size_t n);

#endif
