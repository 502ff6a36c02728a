// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the gdb stub (tools/libvireo/rsp.c, gdb_stub.c): the
 * input is what a hostile debugger sends, fed in pieces whose sizes come from
 * the input, with Vireo's side answering from the input too (results, short
 * or long replies, stop events, the VM's end). Every request the stub makes
 * must be well formed (arguments within CTL_ARGS_MAX, the VM it was given, a
 * vCPU that exists, memory lengths within bounds); every packet it sends must
 * be framed with a correct checksum and fit RSP_MAX_PACKET.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/libvireo/gdb_stub.h"
#include "fuzz_check.h"

#define NVCPUS 3

static const uint8_t *in;
static size_t in_len, in_at;
static unsigned nvcpus;

static uint8_t take(void)
{
	return in_at < in_len ? in[in_at++] : 0;
}

static int fake_request(void *ctx, uint16_t op, const void *args, uint32_t len, void *reply,
			uint32_t cap, uint32_t *got)
{
	const uint8_t *a = args;
	uint8_t how = take();

	(void)ctx;
	*got = 0;
	FUZZ_CHECK(len >= 4 && len <= CTL_ARGS_MAX);
	FUZZ_CHECK(ctl_get_u32(a) == 7);
	if (op != CTL_OP_DBG_ATTACH && op != CTL_OP_DBG_DETACH && op != CTL_OP_VM_PAUSE &&
	    op != CTL_OP_VM_RESUME && op != CTL_OP_VM_STOP && op != CTL_OP_MEM_READ &&
	    op != CTL_OP_MEM_WRITE)
		FUZZ_CHECK(len >= 8 && ctl_get_u32(a + 4) < nvcpus);
	if (op == CTL_OP_DBG_MEM_READ)
		FUZZ_CHECK(len == 24 && ctl_get_u32(a + 8) >= 1 &&
			   ctl_get_u32(a + 8) <= CTL_REPLY_MAX && cap >= ctl_get_u32(a + 8));
	if (op == CTL_OP_DBG_MEM_WRITE)
		FUZZ_CHECK(ctl_get_u32(a + 8) >= 1 && len == 24 + ctl_get_u32(a + 8));
	if (op == CTL_OP_MEM_READ)
		FUZZ_CHECK(len == 16 && ctl_get_u32(a + 4) >= 1 && ctl_get_u32(a + 4) <= cap);
	if (op == CTL_OP_MEM_WRITE)
		FUZZ_CHECK(len == 16 + ctl_get_u32(a + 4));
	if (op == CTL_OP_VCPU_SET_REGS)
		FUZZ_CHECK(len == 8 + CTL_REGS_SIZE);
	if (op == CTL_OP_DBG_ATTACH) {
		if (cap < 8)
			return -22;
		ctl_put_u32(reply, nvcpus);
		ctl_put_u32((uint8_t *)reply + 4, take());
		*got = 8;
		return 0;
	}
	if (how % 8 == 0)
		return -(int)(take() % 40); /* an error (or 0 with nothing) */
	/* A reply of some length within cap, filled from the input. */
	uint32_t n = how % 8 == 1 ? cap : (uint32_t)take() * 17 % (cap + 1);

	for (uint32_t i = 0; i < n; i++)
		((uint8_t *)reply)[i] = take();
	*got = n;
	if (op == CTL_OP_DBG_MEM_READ || op == CTL_OP_DBG_MEM_WRITE)
		return (int)(how % 8 == 2 ? n / 2 : n);
	return how % 8 == 3 ? 1 : 0;
}

static int fake_event(void *ctx, struct ctl_dbg_stop *stop, int *status)
{
	uint8_t e = take();

	(void)ctx;
	if (e % 4)
		return 0;
	memset(stop, 0, sizeof(*stop));
	stop->vcpu = take() % (NVCPUS + 2); /* sometimes one that does not exist */
	stop->reason = take() % 5;
	*status = take();
	return e % 16 == 0 ? 2 : 1;
}

/* Every packet sent: '$', data, '#', two hex digits that are its checksum; acks alone. */
static void fake_send(void *ctx, const void *bytes, size_t n)
{
	const uint8_t *b = bytes;
	uint8_t sum = 0;
	unsigned given;
	char digits[3];

	(void)ctx;
	if (n == 1) {
		FUZZ_CHECK(b[0] == '+' || b[0] == '-');
		return;
	}
	FUZZ_CHECK(n >= 4 && b[0] == '$' && b[n - 3] == '#');
	FUZZ_CHECK(n <= 2 * RSP_MAX_PACKET + 4);
	for (size_t i = 1; i < n - 3; i++) {
		FUZZ_CHECK(b[i] != '$' && b[i] != '#');
		sum = (uint8_t)(sum + b[i]);
	}
	memcpy(digits, b + n - 2, 2);
	digits[2] = '\0';
	FUZZ_CHECK(sscanf(digits, "%2x", &given) == 1 && given == sum);
}

static const struct gdb_stub_backend backend = {fake_request, fake_event, fake_send};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gdb_stub g;

	if (size < 2)
		return 0;
	/* Vireo's answers come from the front, the debugger's bytes from the back half. */
	nvcpus = 1 + data[0] % NVCPUS;
	in = data + 1;
	in_len = (size - 1) / 2;
	in_at = 0;
	const uint8_t *gdb = data + 1 + in_len;
	size_t gdb_len = size - 1 - in_len, at = 0;

	if (gdb_stub_start(&g, &backend, NULL, 7) < 0)
		return 0;
	while (at < gdb_len) {
		size_t piece = 1 + (size_t)(gdb[at] % 64);

		if (piece > gdb_len - at)
			piece = gdb_len - at;
		gdb_stub_feed(&g, gdb + at, piece);
		gdb_stub_poll(&g);
		at += piece;
	}
	gdb_stub_end(&g);
	gdb_stub_free(&g);
	return 0;
}
