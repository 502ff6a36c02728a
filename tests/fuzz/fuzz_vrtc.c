// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the guest Goldfish RTC (hv/vdev/goldfish_rtc.c). The
 * input is a script of guest MMIO accesses (any offset in the page, any
 * width, any value), host clock steps and timer expiries. After every step
 * the model must hold its invariants: the interrupt line is exactly "fired
 * and not cleared" AND "enabled"; a timer deadline it asks for is never in
 * the past (that would be an interrupt storm); a 64-bit time just written
 * reads back as written.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *	-Ihv/include -DVIREO_HOST_TEST hv/vdev/goldfish_rtc.c tests/fuzz/fuzz_vrtc.c \
 *	-o build/fuzz_vrtc
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/vrtc.h>

#include "fuzz_check.h"

static uint64_t host_ns;
static bool line;
static uint64_t asked; /* the earliest wake-up the model asked for since the last expiry */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static uint64_t now_ns(void *ctx)
{
	(void)ctx;
	return host_ns;
}

static void alarm_due(void *ctx, uint64_t ns)
{
	(void)ctx;
	FUZZ_CHECK(ns == VRTC_NEVER || ns > host_ns);
	if (ns < asked)
		asked = ns;
}

static void set_level(void *controller, unsigned source, bool level)
{
	(void)controller;
	FUZZ_CHECK(source == 11);
	line = level;
}

static void check_invariants(struct vrtc *r)
{
	FUZZ_CHECK(line == (r->irq_pending && r->irq_enabled));
}

static void mmio(struct vrtc *r, struct input *in)
{
	static const unsigned widths[] = {1, 2, 4, 8};
	uint64_t offset = take(in, 2) % 0x1000;
	unsigned width = widths[take(in, 1) % 4];
	bool write = take(in, 1) & 1;
	uint64_t value = take(in, 8);

	if (offset + width > 0x1000)
		return; /* the bus never passes an access across the region's end */
	if (write) {
		FUZZ_CHECK(vrtc_mmio_ops.write(r, offset, width, value) == 0);
	} else {
		value = 0xdead;
		FUZZ_CHECK(vrtc_mmio_ops.read(r, offset, width, &value) == 0);
		FUZZ_CHECK(value <= UINT32_MAX);
	}
}

/* A time set the way Linux sets it reads back the way Linux reads it. */
static void set_and_read_time(struct vrtc *r, struct input *in)
{
	uint64_t t = take(in, 8), lo, hi;

	vrtc_mmio_ops.write(r, VRTC_TIME_HIGH, 4, t >> 32);
	vrtc_mmio_ops.write(r, VRTC_TIME_LOW, 4, (uint32_t)t);
	vrtc_mmio_ops.read(r, VRTC_TIME_LOW, 4, &lo);
	vrtc_mmio_ops.read(r, VRTC_TIME_HIGH, 4, &hi);
	FUZZ_CHECK((hi << 32 | lo) == t);
}

static void expire(struct vrtc *r)
{
	uint64_t due = vrtc_alarm_check(r);

	FUZZ_CHECK(due == VRTC_NEVER || due > host_ns);
	asked = due;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct vrtc r;
	struct vrtc_clock clock = {now_ns, alarm_due, NULL};
	struct irq_line irq = {set_level, NULL, 11};

	host_ns = take(&in, 8);
	line = false;
	asked = VRTC_NEVER;
	vrtc_init(&r, &clock, (int64_t)take(&in, 8), &irq);
	while (in.left) {
		switch (take(&in, 1) % 5) {
		case 0:
		case 1:
			mmio(&r, &in);
			break;
		case 2: {
			uint64_t step = take(&in, 8) >> (take(&in, 1) % 64);
			host_ns = step > UINT64_MAX - host_ns ? UINT64_MAX : host_ns + step;
			break;
		}
		case 3:
			/* The timer comes at the deadline asked for, or early (a spurious wake-up).
			 */
			if (asked != VRTC_NEVER && asked > host_ns && (take(&in, 1) & 1))
				host_ns = asked;
			expire(&r);
			break;
		default:
			set_and_read_time(&r, &in);
			break;
		}
		check_invariants(&r);
	}
	return 0;
}
