/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest agent's side of the agent protocol (docs/channel.md), without any
 * I/O: bytes from the host go in (agent_core_feed), checked against the
 * protocol's order and the windows this side granted, and come out as calls
 * of struct agent_core_ops; what the agent says goes out as frames appended
 * to an obuf. The I/O loop (agent.c) runs programs and moves the bytes.
 * Compiles for the guest and for the host (unit tests, fuzzer).
 */
#ifndef VIREO_AGENT_CORE_H
#define VIREO_AGENT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_proto.h"
#include "obuf.h"

/* An AG_EXEC, valid during the exec call only. */
struct agent_exec {
	char **argv;	 /* NULL-terminated, at least the program */
	char **env;	 /* NULL-terminated NAME=value entries */
	const char *cwd; /* NULL: the agent's default */
	bool tty;
	unsigned rows, cols;
};

struct agent_core_ops {
	/* The I/O layer answers with agent_core_started() or agent_core_exec_failed(). */
	void (*exec)(void *ctx, const struct agent_exec *x);
	/* Bytes for the program's stdin (stream 1) or the file being put (stream 4). */
	void (*data)(void *ctx, unsigned stream, const uint8_t *bytes, size_t n);
	/* 1: stdin ends; 4: the file being put is complete; 2, 3: the host stops reading. */
	void (*eof)(void *ctx, unsigned stream);
	void (*signal)(void *ctx, int sig);
	void (*winsize)(void *ctx, unsigned rows, unsigned cols);
	/* Answer with agent_core_put_accept() or agent_core_xfer_error(). */
	void (*put)(void *ctx, uint32_t mode, uint32_t flags, const char *path);
	/* Answer with agent_core_get_ok() or agent_core_xfer_error(). */
	void (*get)(void *ctx, uint32_t flags, const char *path);
	void (*shutdown)(void *ctx);
};

enum agent_phase { AGENT_IDLE, AGENT_STARTING, AGENT_RUNNING, AGENT_DONE };
enum agent_xfer {
	AGENT_XFER_NONE,
	AGENT_XFER_PUT_ASKED,  /* AG_PUT received, not answered yet */
	AGENT_XFER_PUT,	       /* accepted: bytes come on stream 4 */
	AGENT_XFER_PUT_END,    /* AG_EOF received: AG_OK or AG_ERROR to send */
	AGENT_XFER_PUT_FAILED, /* refused midway: drop stream 4 up to the host's AG_EOF */
	AGENT_XFER_GET,
};

struct agent_core {
	struct vx_parser parser;
	const struct agent_core_ops *ops;
	void *ctx;
	struct obuf *out;
	enum agent_phase phase;
	enum agent_xfer xfer;
	uint32_t send_credit[AG_NSTREAMS]; /* bytes we may still send on each stream */
	uint32_t recv_window[AG_NSTREAMS]; /* bytes the host may still send on each stream */
	uint32_t pending_grant[AG_NSTREAMS];
	bool host_eof[AG_NSTREAMS];
	size_t exec_len;
	char error[160]; /* why the host was cut off */
	uint8_t exec_buf[VX_MAX_PAYLOAD];
};

void agent_core_init(struct agent_core *c, const struct agent_core_ops *ops, void *ctx,
		     struct obuf *out);
/* Feed bytes from the host. false once the host broke the protocol (c->error says how). */
bool agent_core_feed(struct agent_core *c, const uint8_t *bytes, size_t n);
bool agent_core_failed(const struct agent_core *c);

/*
 * What the agent says. Each returns false when the frame does not fit in the
 * obuf: the host has stopped reading while it keeps asking, which the I/O
 * layer treats as a broken host.
 */
bool agent_core_hello(struct agent_core *c, const char *text);
bool agent_core_started(struct agent_core *c, uint32_t pid);
bool agent_core_exec_failed(struct agent_core *c, uint32_t err, const char *text);
bool agent_core_exit(struct agent_core *c, unsigned how, uint32_t value);
bool agent_core_error(struct agent_core *c, uint32_t err, const char *text);
bool agent_core_eof(struct agent_core *c, unsigned stream);
bool agent_core_put_accept(struct agent_core *c);
bool agent_core_put_done(struct agent_core *c);
bool agent_core_get_ok(struct agent_core *c, uint32_t flags, uint32_t mode);
/* The transfer failed (before or during): AG_ERROR, and it is over. */
bool agent_core_xfer_error(struct agent_core *c, uint32_t err, const char *text);
/* The file of an AG_GET is all sent: AG_EOF on stream 4, and it is over. */
bool agent_core_get_end(struct agent_core *c);

/* n more bytes of a stream (1 or 4) were consumed: grant them (sent by agent_core_flush). */
void agent_core_grant(struct agent_core *c, unsigned stream, uint32_t n);
/* Send pending grants that are worth a frame (or all with force). */
void agent_core_flush(struct agent_core *c, bool force);

/*
 * Zero-copy data (streams 2, 3, 4): room for up to *max bytes (no more than
 * the host's credit and `limit`), or NULL when there is no credit or room.
 * Fill some and call agent_core_data_end() with how many (0 is fine).
 */
uint8_t *agent_core_data_begin(struct agent_core *c, unsigned stream, size_t limit, size_t *max);
void agent_core_data_end(struct agent_core *c, unsigned stream, size_t n);
/* Whether stream s has credit from the host. */
bool agent_core_can_send(const struct agent_core *c, unsigned stream);

#endif
