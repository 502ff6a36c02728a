// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the channel framing (hv/lib/vx.c): the input is a
 * byte stream from a hostile peer, fed in pieces whose sizes also come from
 * the input. Every piece the parser hands on must lie inside its frame, in
 * order; control payloads never exceed VX_CONTROL_MAX; once the parser
 * reports an error it never consumes another byte.
 */
#include <stdio.h>
#include <stdlib.h>

#include <vireo/vx.h>

#include "fuzz_check.h"

static uint32_t next_offset;
static unsigned refuse_after;

static bool on_control(void *ctx, const struct vx_hdr *h, const uint8_t *payload)
{
	volatile uint8_t sink = 0;

	(void)ctx;
	FUZZ_CHECK(h->len <= VX_CONTROL_MAX);
	for (uint32_t i = 0; i < h->len; i++)
		sink ^= payload[i];
	(void)sink;
	return refuse_after-- != 0;
}

static bool on_data(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
		    size_t n, bool last)
{
	volatile uint8_t sink = 0;

	(void)ctx;
	FUZZ_CHECK(h->len <= VX_MAX_PAYLOAD);
	FUZZ_CHECK(offset == next_offset);
	FUZZ_CHECK(offset + n <= h->len);
	FUZZ_CHECK(last == (offset + n == h->len));
	for (size_t i = 0; i < n; i++)
		sink ^= bytes[i];
	(void)sink;
	next_offset = last ? 0 : offset + (uint32_t)n;
	return refuse_after-- != 0;
}

static const struct vx_parser_ops ops = {on_control, on_data};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_parser p;
	size_t at = 0;

	if (size < 2)
		return 0;
	next_offset = 0;
	refuse_after = data[0] ? data[0] : UINT32_MAX;
	vx_parser_init(&p, &ops, NULL, (uint32_t)data[1] << 1);
	at = 2;
	while (at < size) {
		size_t piece = 1 + data[at] % 64;
		size_t n = piece < size - at ? piece : size - at;
		bool failed = p.error != VX_OK;
		size_t used = vx_parser_feed(&p, data + at, n);

		FUZZ_CHECK(used <= n);
		FUZZ_CHECK(!failed || used == 0);
		FUZZ_CHECK(used == n || p.error != VX_OK);
		at += n;
	}
	return 0;
}
