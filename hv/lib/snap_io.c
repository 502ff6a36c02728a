// SPDX-License-Identifier: BSD-2-Clause
/* Bounded reads and writes of saved VM state; see vireo/snap_io.h. */
#include <vireo/snap_io.h>
#include <vireo/string.h>

static void put(struct snap_writer *w, uint64_t v, unsigned n)
{
	if (w->failed || w->size - w->len < n) {
		w->failed = true;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		w->buf[w->len + i] = (uint8_t)(v >> (8 * i));
	w->len += n;
}

void snap_put_u8(struct snap_writer *w, uint8_t v)
{
	put(w, v, 1);
}

void snap_put_u16(struct snap_writer *w, uint16_t v)
{
	put(w, v, 2);
}

void snap_put_u32(struct snap_writer *w, uint32_t v)
{
	put(w, v, 4);
}

void snap_put_u64(struct snap_writer *w, uint64_t v)
{
	put(w, v, 8);
}

void snap_put_bytes(struct snap_writer *w, const void *p, size_t n)
{
	if (w->failed || w->size - w->len < n) {
		w->failed = true;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static uint64_t get(struct snap_reader *r, unsigned n)
{
	uint64_t v = 0;

	if (r->failed || r->len - r->pos < n) {
		r->failed = true;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->buf[r->pos + i] << (8 * i);
	r->pos += n;
	return v;
}

uint8_t snap_get_u8(struct snap_reader *r)
{
	return (uint8_t)get(r, 1);
}

uint16_t snap_get_u16(struct snap_reader *r)
{
	return (uint16_t)get(r, 2);
}

uint32_t snap_get_u32(struct snap_reader *r)
{
	return (uint32_t)get(r, 4);
}

uint64_t snap_get_u64(struct snap_reader *r)
{
	return get(r, 8);
}

void snap_get_bytes(struct snap_reader *r, void *p, size_t n)
{
	if (r->failed || r->len - r->pos < n) {
		r->failed = true;
		memset(p, 0, n);
		return;
	}
	memcpy(p, r->buf + r->pos, n);
	r->pos += n;
}

bool snap_get_bool(struct snap_reader *r)
{
	uint8_t v = snap_get_u8(r);

	if (v > 1)
		r->failed = true;
	return v == 1;
}

uint32_t snap_get_below(struct snap_reader *r, uint32_t limit)
{
	uint32_t v = snap_get_u32(r);

	if (v >= limit) {
		r->failed = true;
		return 0;
	}
	return v;
}

size_t snap_left(const struct snap_reader *r)
{
	return r->failed ? 0 : r->len - r->pos;
}
