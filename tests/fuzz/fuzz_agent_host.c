// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for libvireo's parsing of what the guest agent sends
 * (tools/libvireo/agent_host.c). The input is a script: bytes from a hostile
 * agent, in pieces of any size, interleaved with what the host itself does
 * (exec, put, get, grants, stdin), so that every state of a run is reached.
 * Whatever comes, the engine must never hand on more output than the host
 * granted, never a piece of a stream that is not open, and once it has found
 * the agent broken it must stay so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_host.h"
#include "fuzz_check.h"

static struct ah_core core;
static struct obuf out;
static uint64_t granted[AG_NSTREAMS], received[AG_NSTREAMS];

static void on_hello(void *ctx, uint32_t version, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	FUZZ_CHECK(version == VX_PROTOCOL_VER && len <= VX_CONTROL_MAX);
}

static void on_started(void *ctx, uint32_t pid)
{
	(void)ctx;
	(void)pid;
	FUZZ_CHECK(core.exec == AH_EXEC_RUNNING);
}

static void on_text(void *ctx, uint32_t err, const char *text, size_t len)
{
	volatile char sink = 0;

	(void)ctx;
	(void)err;
	FUZZ_CHECK(len <= VX_CONTROL_MAX);
	for (size_t i = 0; i < len; i++)
		sink ^= text[i];
	(void)sink;
}

static void on_data(void *ctx, unsigned stream, const uint8_t *bytes, size_t n)
{
	volatile uint8_t sink = 0;

	(void)ctx;
	FUZZ_CHECK(stream == AG_STREAM_STDOUT || stream == AG_STREAM_STDERR ||
		   stream == AG_STREAM_FILE);
	for (size_t i = 0; i < n; i++)
		sink ^= bytes[i];
	(void)sink;
	received[stream] += n;
	FUZZ_CHECK(received[stream] <= granted[stream]);
}

static void on_eof(void *ctx, unsigned stream)
{
	(void)ctx;
	FUZZ_CHECK(stream == AG_STREAM_STDOUT || stream == AG_STREAM_STDERR);
}

static void on_exited(void *ctx, unsigned how, uint32_t value)
{
	(void)ctx;
	FUZZ_CHECK(how <= AG_KILLED &&
		   (how == AG_KILLED ? value >= 1 && value <= 64 : value <= 255));
	FUZZ_CHECK(core.out_eof[AG_STREAM_STDOUT] && core.out_eof[AG_STREAM_STDERR]);
}

static void on_put_accepted(void *ctx)
{
	(void)ctx;
}

static void on_xfer_done(void *ctx, bool ok, uint32_t err, const char *text, size_t len)
{
	(void)ok;
	on_text(ctx, err, text, len);
}

static void on_get_started(void *ctx, uint32_t flags, uint32_t mode)
{
	(void)ctx;
	FUZZ_CHECK((flags & ~AG_FLAG_TAR) == 0 && mode <= 07777);
}

static const struct ah_ops ops = {on_hello,	  on_started, on_text,	       on_data,
				  on_eof,	  on_exited,  on_put_accepted, on_xfer_done,
				  on_get_started, on_text};

/* What the host does: op selects, the rest of the script its arguments. */
static void host_action(uint8_t op)
{
	static const char *const argv[] = {"prog", "arg", NULL};
	uint8_t payload[64];
	size_t len, max;
	uint8_t *p;

	switch (op % 10) {
	case 0:
		if (ah_exec_payload(argv, NULL, "/", op & 0x10, 24, 80, payload, &len) == 0 &&
		    ah_exec(&core, payload, len)) {
			received[AG_STREAM_STDOUT] = received[AG_STREAM_STDERR] = 0;
			granted[AG_STREAM_STDOUT] = granted[AG_STREAM_STDERR] = AH_WINDOW;
		}
		break;
	case 1:
		ah_put(&core, 0644, op & 0x10 ? AG_FLAG_TAR : 0, "/tmp/x");
		break;
	case 2:
		ah_put_eof(&core);
		break;
	case 3:
		if (ah_get(&core, AG_FLAG_AUTO, "/tmp/x")) {
			received[AG_STREAM_FILE] = 0;
			granted[AG_STREAM_FILE] = AH_WINDOW;
		}
		break;
	case 4:
		for (unsigned s = AG_STREAM_STDOUT; s <= AG_STREAM_FILE; s++) {
			/* Give back what came: the window is what it was. */
			uint64_t n = received[s] + AH_WINDOW - granted[s];

			ah_grant(&core, s, (uint32_t)n);
			granted[s] += n;
		}
		ah_flush(&core, true);
		break;
	case 5:
	case 6:
		p = ah_data_begin(&core, op % 10 == 5 ? AG_STREAM_STDIN : AG_STREAM_FILE, op, &max);
		if (p) {
			memset(p, op, max);
			ah_data_end(&core, op % 10 == 5 ? AG_STREAM_STDIN : AG_STREAM_FILE, max);
		}
		break;
	case 7:
		ah_stdin_eof(&core);
		break;
	case 8:
		ah_signal(&core, op & 31);
		ah_winsize(&core, op, op);
		break;
	default:
		ah_stop_reading(&core, AG_STREAM_STDOUT + (op & 1));
		break;
	}
	obuf_consume(&out, obuf_len(&out)); /* the agent reads everything */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool broken = false;

	if (!out.buf && obuf_init(&out, 256 * 1024))
		abort();
	obuf_consume(&out, obuf_len(&out));
	ah_init(&core, &ops, NULL, &out);
	memset(granted, 0, sizeof(granted));
	memset(received, 0, sizeof(received));
	for (size_t i = 0; i < size;) {
		uint8_t op = data[i++];

		if (op & 0x80) {
			host_action(op & 0x7f);
			continue;
		}
		/* A piece of the agent's byte stream: 1..64 bytes, or up to 4 KiB. */
		size_t n = op & 0x40 ? (size_t)(op & 0x3f) * 64 + 1 : (size_t)(op & 0x3f) + 1;

		if (n > size - i)
			n = size - i;
		if (!ah_feed(&core, data + i, n))
			broken = true;
		FUZZ_CHECK(!broken || ah_failed(&core));
		i += n;
	}
	return 0;
}
