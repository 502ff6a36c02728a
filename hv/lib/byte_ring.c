// SPDX-License-Identifier: BSD-2-Clause
/* Single-producer single-consumer byte ring; see vireo/byte_ring.h. */
#include <vireo/byte_ring.h>
#include <vireo/string.h>

void byte_ring_init(struct byte_ring *r, uint8_t *buf, uint32_t size)
{
	r->buf = buf;
	r->size = size;
	r->head = 0;
	r->tail = 0;
}

uint32_t byte_ring_used(const struct byte_ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

uint32_t byte_ring_free(const struct byte_ring *r)
{
	return r->size - byte_ring_used(r);
}

uint8_t *byte_ring_write_ptr(struct byte_ring *r, uint32_t *len)
{
	uint32_t head = r->head; /* ours */
	uint32_t at = head & (r->size - 1);
	uint32_t free = r->size - (head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE));

	*len = MIN(free, r->size - at);
	return r->buf + at;
}

void byte_ring_commit(struct byte_ring *r, uint32_t n)
{
	__atomic_store_n(&r->head, r->head + n, __ATOMIC_RELEASE);
}

const uint8_t *byte_ring_read_ptr(const struct byte_ring *r, uint32_t *len)
{
	uint32_t tail = r->tail; /* ours */
	uint32_t at = tail & (r->size - 1);
	uint32_t used = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) - tail;

	*len = MIN(used, r->size - at);
	return r->buf + at;
}

void byte_ring_consume(struct byte_ring *r, uint32_t n)
{
	__atomic_store_n(&r->tail, r->tail + n, __ATOMIC_RELEASE);
}

uint32_t byte_ring_put(struct byte_ring *r, const void *data, uint32_t n)
{
	const uint8_t *p = data;
	uint32_t done = 0;

	while (done < n) {
		uint32_t len;
		uint8_t *dst = byte_ring_write_ptr(r, &len);

		if (!len)
			break;
		len = MIN(len, n - done);
		memcpy(dst, p + done, len);
		byte_ring_commit(r, len);
		done += len;
	}
	return done;
}

uint32_t byte_ring_get(struct byte_ring *r, void *out, uint32_t n)
{
	uint8_t *p = out;
	uint32_t done = 0;

	while (done < n) {
		uint32_t len;
		const uint8_t *src = byte_ring_read_ptr(r, &len);

		if (!len)
			break;
		len = MIN(len, n - done);
		memcpy(p + done, src, len);
		byte_ring_consume(r, len);
		done += len;
	}
	return done;
}
