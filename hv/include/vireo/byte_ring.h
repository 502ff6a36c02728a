/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A byte ring with one producer and one consumer, each under a lock of its
 * own (they never hold the other's): the producer advances `head`, the
 * consumer `tail`, with release/acquire ordering, so bytes are visible before
 * the index that publishes them. Both sides work on contiguous stretches
 * (write_ptr/commit, read_ptr/consume), so data goes straight between a
 * ring and guest or device memory. The size is a power of two. Pure.
 */
#ifndef VIREO_BYTE_RING_H
#define VIREO_BYTE_RING_H

#include <vireo/types.h>

struct byte_ring {
	uint8_t *buf;
	uint32_t size; /* a power of two */
	uint32_t head; /* producer: bytes ever written */
	uint32_t tail; /* consumer: bytes ever read */
};

/* buf of size bytes (a power of two), empty. */
void byte_ring_init(struct byte_ring *r, uint8_t *buf, uint32_t size);
uint32_t byte_ring_used(const struct byte_ring *r);
uint32_t byte_ring_free(const struct byte_ring *r);
/* Producer: the next contiguous free stretch (*len bytes, 0 when full), then commit n <= *len. */
uint8_t *byte_ring_write_ptr(struct byte_ring *r, uint32_t *len);
void byte_ring_commit(struct byte_ring *r, uint32_t n);
/* Consumer: the next contiguous stretch of data (*len bytes, 0 when empty), then consume n. */
const uint8_t *byte_ring_read_ptr(const struct byte_ring *r, uint32_t *len);
void byte_ring_consume(struct byte_ring *r, uint32_t n);
/* Copy in / out as much as fits / is there; returns the bytes moved. */
uint32_t byte_ring_put(struct byte_ring *r, const void *data, uint32_t n);
uint32_t byte_ring_get(struct byte_ring *r, void *out, uint32_t n);

#endif
