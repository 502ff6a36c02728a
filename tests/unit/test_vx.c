// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the channel framing (hv/lib/vx.c): frames split anywhere,
 * control messages whole, data streamed without buffering, and the limits
 * that cut off a sender that lies about lengths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/vx.h>

#define T_CONTROL 1
#define T_DATA	  3

struct seen {
	unsigned controls, datas, ends;
	struct vx_hdr last;
	uint8_t control[VX_CONTROL_MAX];
	uint8_t data[4 * VX_MAX_PAYLOAD];
	size_t data_len;
	uint32_t next_offset;
	bool refuse;
};

static bool on_control(void *ctx, const struct vx_hdr *h, const uint8_t *payload)
{
	struct seen *s = ctx;

	s->controls++;
	s->last = *h;
	memcpy(s->control, payload, h->len);
	return !s->refuse;
}

static bool on_data(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
		    size_t n, bool last)
{
	struct seen *s = ctx;

	/* Pieces come in order, never past the frame. */
	assert_int_equal(offset, s->next_offset);
	assert_true(offset + n <= h->len);
	assert_int_equal(last, offset + n == h->len);
	memcpy(s->data + s->data_len, bytes, n);
	s->data_len += n;
	s->datas++;
	s->next_offset = last ? 0 : offset + (uint32_t)n;
	s->ends += last;
	s->last = *h;
	return !s->refuse;
}

static const struct vx_parser_ops ops = {on_control, on_data};

static size_t frame(uint8_t *out, uint16_t type, uint16_t chan, const void *payload, uint32_t len)
{
	vx_put_hdr(out, type, chan, len);
	memcpy(out + VX_HDR_SIZE, payload, len);
	return VX_HDR_SIZE + len;
}

static void test_byte_order(void **state)
{
	uint8_t b[8];

	(void)state;
	vx_put_hdr(b, 0x0203, 0x0405, 0x06070809);
	assert_memory_equal(b, "\x09\x08\x07\x06\x03\x02\x05\x04", 8);
	vx_put_u64(b, 0x1122334455667788ULL);
	assert_int_equal(vx_get_u64(b), 0x1122334455667788ULL);
	assert_int_equal(vx_get_u32(b), 0x55667788);
	assert_int_equal(vx_get_u16(b + 6), 0x1122);
}

/* The same stream cut into every piece size gives the same messages. */
static void test_split_anywhere(void **state)
{
	static uint8_t stream[4096];
	size_t n = 0;

	(void)state;
	n += frame(stream + n, T_CONTROL, 0, "hello", 5);
	n += frame(stream + n, T_DATA, 7, "0123456789abcdef", 16);
	n += frame(stream + n, T_CONTROL, 9, "", 0);
	n += frame(stream + n, T_DATA, 7, "", 0);
	n += frame(stream + n, T_DATA, 8, "xyz", 3);
	for (size_t piece = 1; piece <= n; piece++) {
		struct seen s = {0};
		struct vx_parser p;

		vx_parser_init(&p, &ops, &s, 1u << T_DATA);
		for (size_t at = 0; at < n; at += piece) {
			size_t len = n - at < piece ? n - at : piece;
			assert_int_equal(vx_parser_feed(&p, stream + at, len), len);
		}
		assert_int_equal(p.error, VX_OK);
		assert_true(vx_parser_idle(&p));
		assert_int_equal(s.controls, 2);
		assert_int_equal(s.ends, 3);
		assert_int_equal(s.data_len, 19);
		assert_memory_equal(s.data, "0123456789abcdefxyz", 19);
		assert_int_equal(s.last.chan, 8);
	}
}

static void test_limits(void **state)
{
	uint8_t b[VX_HDR_SIZE + VX_CONTROL_MAX + 1] = {0};
	struct seen s = {0};
	struct vx_parser p;

	(void)state;
	/* A control message at the limit is fine; one byte more cuts the sender off. */
	vx_parser_init(&p, &ops, &s, 1u << T_DATA);
	vx_put_hdr(b, T_CONTROL, 0, VX_CONTROL_MAX);
	assert_int_equal(vx_parser_feed(&p, b, VX_HDR_SIZE + VX_CONTROL_MAX),
			 VX_HDR_SIZE + VX_CONTROL_MAX);
	assert_int_equal(s.controls, 1);
	vx_put_hdr(b, T_CONTROL, 0, VX_CONTROL_MAX + 1);
	assert_int_equal(vx_parser_feed(&p, b, sizeof(b)), VX_HDR_SIZE);
	assert_int_equal(p.error, VX_ERR_CONTROL_LONG);
	assert_int_equal(vx_parser_feed(&p, b, 10), 0);
	assert_int_equal(s.controls, 1);
	/* A data frame over 64 KiB, likewise, before any of it is delivered. */
	vx_parser_init(&p, &ops, &s, 1u << T_DATA);
	vx_put_hdr(b, T_DATA, 1, VX_MAX_PAYLOAD + 1);
	assert_int_equal(vx_parser_feed(&p, b, sizeof(b)), VX_HDR_SIZE);
	assert_int_equal(p.error, VX_ERR_TOO_LONG);
	assert_int_equal(s.datas, 0);
	assert_string_equal(vx_error_text(VX_ERR_TOO_LONG),
			    "frame longer than the protocol allows");
}

static void test_consumer_refuses(void **state)
{
	uint8_t b[64];
	struct seen s = {.refuse = true};
	struct vx_parser p;
	size_t n = frame(b, T_CONTROL, 0, "no", 2);

	(void)state;
	n += frame(b + n, T_CONTROL, 0, "never", 5);
	vx_parser_init(&p, &ops, &s, 0);
	assert_int_equal(vx_parser_feed(&p, b, n), VX_HDR_SIZE + 2);
	assert_int_equal(p.error, VX_ERR_BY_CONSUMER);
	assert_int_equal(s.controls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_byte_order),
	    cmocka_unit_test(test_split_anywhere),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_consumer_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
