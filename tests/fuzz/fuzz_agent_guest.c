// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the guest agent's parsing of what the host sends
 * (guests/linux/userland/agent_core.c). The input is a script: bytes from a
 * hostile host, in pieces of any size, interleaved with what the agent
 * itself does (starting the program or failing to, its exit, accepting or
 * refusing copies, grants, output), so that every state is reached. The
 * engine must never hand on more stdin or file bytes than the agent granted,
 * never parse an AG_EXEC into something other than NUL-terminated strings,
 * and once it has cut the host off it must stay so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_core.h"
#include "fuzz_check.h"

static struct agent_core core;
static struct obuf out;
static uint64_t granted[AG_NSTREAMS], received[AG_NSTREAMS];
static bool exec_asked, put_asked, get_asked;

static void touch(const char *s)
{
	volatile size_t n = strlen(s); /* must be terminated */

	(void)n;
}

static void on_exec(void *ctx, const struct agent_exec *x)
{
	(void)ctx;
	FUZZ_CHECK(x->argv && x->argv[0] && x->env);
	for (char **a = x->argv; *a; a++)
		touch(*a);
	for (char **e = x->env; *e; e++)
		FUZZ_CHECK(strchr(*e, '=') != NULL);
	if (x->cwd)
		touch(x->cwd);
	exec_asked = true;
}

static void on_data(void *ctx, unsigned stream, const uint8_t *bytes, size_t n)
{
	volatile uint8_t sink = 0;

	(void)ctx;
	FUZZ_CHECK(stream == AG_STREAM_STDIN || stream == AG_STREAM_FILE);
	for (size_t i = 0; i < n; i++)
		sink ^= bytes[i];
	(void)sink;
	received[stream] += n;
	FUZZ_CHECK(received[stream] <= granted[stream]);
}

static void on_eof(void *ctx, unsigned stream)
{
	(void)ctx;
	FUZZ_CHECK(stream >= AG_STREAM_STDIN && stream <= AG_STREAM_FILE);
}

static void on_signal(void *ctx, int sig)
{
	(void)ctx;
	FUZZ_CHECK(sig >= 1 && sig <= 64);
}

static void on_winsize(void *ctx, unsigned rows, unsigned cols)
{
	(void)ctx;
	FUZZ_CHECK(rows <= 65535 && cols <= 65535);
}

static void on_put(void *ctx, uint32_t mode, uint32_t flags, const char *path)
{
	(void)ctx;
	(void)mode;
	(void)flags;
	touch(path);
	put_asked = true;
}

static void on_get(void *ctx, uint32_t flags, const char *path)
{
	(void)ctx;
	(void)flags;
	touch(path);
	get_asked = true;
}

static void on_shutdown(void *ctx)
{
	(void)ctx;
}

static const struct agent_core_ops ops = {on_exec,    on_data, on_eof, on_signal,
					  on_winsize, on_put,  on_get, on_shutdown};

/* What the agent does: op selects. */
static void agent_action(uint8_t op)
{
	size_t max;
	uint8_t *p;

	switch (op % 9) {
	case 0:
		if (exec_asked) {
			exec_asked = false;
			if (op & 0x10) {
				agent_core_exec_failed(&core, 2, "no such program");
			} else {
				agent_core_started(&core, 42);
				received[AG_STREAM_STDIN] = 0;
				granted[AG_STREAM_STDIN] = VX_WINDOW;
			}
		}
		break;
	case 1:
		if (core.phase == AGENT_RUNNING) {
			agent_core_eof(&core, AG_STREAM_STDOUT);
			agent_core_eof(&core, AG_STREAM_STDERR);
			agent_core_exit(&core, op & 1, op & 0x3f);
		}
		break;
	case 2:
		if (put_asked) {
			put_asked = false;
			if (op & 0x10) {
				agent_core_xfer_error(&core, 13, "denied");
			} else {
				agent_core_put_accept(&core);
				received[AG_STREAM_FILE] = 0;
				granted[AG_STREAM_FILE] = VX_WINDOW;
			}
		}
		break;
	case 3:
		if (core.xfer == AGENT_XFER_PUT_END)
			op & 0x10 ? agent_core_xfer_error(&core, 5, "io")
				  : agent_core_put_done(&core);
		else if (core.xfer == AGENT_XFER_PUT && (op & 0x20))
			agent_core_xfer_error(&core, 28, "no space");
		break;
	case 4:
		if (get_asked) {
			get_asked = false;
			op & 0x10 ? agent_core_xfer_error(&core, 2, "gone")
				  : agent_core_get_ok(&core, 0, 0644);
		} else if (core.xfer == AGENT_XFER_GET) {
			agent_core_get_end(&core);
		}
		break;
	case 5:
		for (unsigned s = AG_STREAM_STDIN; s <= AG_STREAM_FILE; s += 3) {
			uint64_t n = received[s] + VX_WINDOW - granted[s];

			if (granted[s]) {
				agent_core_grant(&core, s, (uint32_t)n);
				granted[s] += n;
			}
		}
		agent_core_flush(&core, true);
		break;
	default:
		p = agent_core_data_begin(&core, AG_STREAM_STDOUT + op % 3, op, &max);
		if (p) {
			memset(p, op, max);
			agent_core_data_end(&core, AG_STREAM_STDOUT + op % 3, max);
		}
		break;
	}
	obuf_consume(&out, obuf_len(&out)); /* the host reads everything */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool broken = false;

	if (!out.buf && obuf_init(&out, 256 * 1024))
		abort();
	obuf_consume(&out, obuf_len(&out));
	agent_core_init(&core, &ops, NULL, &out);
	memset(granted, 0, sizeof(granted));
	memset(received, 0, sizeof(received));
	exec_asked = put_asked = get_asked = false;
	for (size_t i = 0; i < size;) {
		uint8_t op = data[i++];

		if (op & 0x80) {
			agent_action(op & 0x7f);
			continue;
		}
		size_t n = op & 0x40 ? (size_t)(op & 0x3f) * 64 + 1 : (size_t)(op & 0x3f) + 1;

		if (n > size - i)
			n = size - i;
		if (!agent_core_feed(&core, data + i, n))
			broken = true;
		FUZZ_CHECK(!broken || agent_core_failed(&core));
		i += n;
	}
	return 0;
}
