/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host's side of the agent protocol (docs/channel.md), without I/O:
 * bytes from the guest agent go in (ah_feed) and are checked against
 * everything the protocol promises -- the order of a run, the windows this
 * side granted, the shape of every payload -- and come out as calls of
 * struct ah_ops. What the host says is appended as frames to an obuf. The
 * agent is untrusted: the first broken promise stops the parser for good
 * and ah_error() says what it was. Used by the library's session loop,
 * unit-tested against the real agent and fuzzed.
 */
#ifndef VIREO_AGENT_HOST_H
#define VIREO_AGENT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_proto.h"
#include "obuf.h"

/*
 * The window the host grants for what it receives (the program's stdout and stderr, the
 * file of an AG_GET): more than the protocol's initial 64 KiB, so that the credit's round
 * trip through QEMU, Vireo and the guest does not stall a fast writer. The host's buffer
 * for each stream is exactly this big: memory stays bounded, only larger.
 */
#define AH_WINDOW (256 * 1024)

struct ah_ops {
	void (*hello)(void *ctx, uint32_t version, const char *text, size_t len);
	void (*started)(void *ctx, uint32_t pid);
	/* AG_EXEC refused: err is a Linux errno. */
	void (*exec_failed)(void *ctx, uint32_t err, const char *text, size_t len);
	/* Output: stream 2 or 3, or 4 (the file of an AG_GET). */
	void (*data)(void *ctx, unsigned stream, const uint8_t *bytes, size_t n);
	/* Stream 2 or 3 ends. */
	void (*eof)(void *ctx, unsigned stream);
	void (*exited)(void *ctx, unsigned how, uint32_t value);
	/* An AG_PUT was accepted: its bytes may go (ah_data_begin on stream 4). */
	void (*put_accepted)(void *ctx);
	/* An AG_PUT or AG_GET ended: ok, or the agent's errno and text. */
	void (*xfer_done)(void *ctx, bool ok, uint32_t err, const char *text, size_t len);
	/* An AG_GET was accepted: flags (AG_FLAG_TAR or 0) and the file's mode. */
	void (*get_started)(void *ctx, uint32_t flags, uint32_t mode);
	/* An AG_ERROR outside any request: the agent gave up on us. */
	void (*failed)(void *ctx, uint32_t err, const char *text, size_t len);
};

enum ah_exec_state { AH_EXEC_NONE, AH_EXEC_SENT, AH_EXEC_RUNNING, AH_EXEC_EXITED };
enum ah_xfer_state {
	AH_XFER_NONE,
	AH_XFER_PUT_ASKED,  /* AG_PUT sent: waiting for AG_CREDIT on 4, or AG_ERROR */
	AH_XFER_PUT,	    /* sending the bytes */
	AH_XFER_PUT_END,    /* AG_EOF sent: waiting for AG_OK or AG_ERROR */
	AH_XFER_PUT_FAILED, /* refused midway: the host still owes AG_EOF on 4 */
	AH_XFER_GET_ASKED,  /* AG_GET sent: waiting for AG_OK or AG_ERROR */
	AH_XFER_GET,	    /* receiving; ends with AG_EOF on 4, or AG_ERROR */
};

struct ah_core {
	struct vx_parser parser;
	const struct ah_ops *ops;
	void *ctx;
	struct obuf *out;
	bool hello_seen;
	enum ah_exec_state exec;
	enum ah_xfer_state xfer;
	bool out_eof[AG_NSTREAMS];
	uint32_t send_credit[AG_NSTREAMS];
	uint32_t recv_window[AG_NSTREAMS];
	uint32_t pending_grant[AG_NSTREAMS];
	char error[200];
};

void ah_init(struct ah_core *c, const struct ah_ops *ops, void *ctx, struct obuf *out);
/* Bytes from the agent; false once it broke the protocol (then ah_error() says how). */
bool ah_feed(struct ah_core *c, const uint8_t *bytes, size_t n);
const char *ah_error(const struct ah_core *c);
bool ah_failed(const struct ah_core *c);

/* An AG_EXEC payload from its parts (env entries NAME=value; cwd may be NULL; rows 0: no
 * terminal). 0 and *len, or -1 when it would be longer than VX_MAX_PAYLOAD. */
int ah_exec_payload(const char *const *argv, const char *const *env, const char *cwd, bool tty,
		    unsigned rows, unsigned cols, uint8_t *buf, size_t *len);

/* What the host says; false when the obuf has no room (the caller waits and retries). */
bool ah_exec(struct ah_core *c, const uint8_t *payload, size_t len);
bool ah_put(struct ah_core *c, uint32_t mode, uint32_t flags, const char *path);
/* The end of the put's bytes (also owed after a put refused midway). */
bool ah_put_eof(struct ah_core *c);
bool ah_get(struct ah_core *c, uint32_t flags, const char *path);
bool ah_stdin_eof(struct ah_core *c);
/* The host stops reading stream 2 or 3: the program sees a broken pipe. */
bool ah_stop_reading(struct ah_core *c, unsigned stream);
bool ah_signal(struct ah_core *c, int sig);
bool ah_winsize(struct ah_core *c, unsigned rows, unsigned cols);
bool ah_shutdown(struct ah_core *c);
/* A test hook: any frame at all (the fuzzers' and hostile tests' way to misbehave). */
bool ah_raw(struct ah_core *c, uint16_t type, uint16_t stream, const void *p, size_t n);

/* n bytes of stream 2, 3 or 4 were consumed: grant them again (sent by ah_flush). */
void ah_grant(struct ah_core *c, unsigned stream, uint32_t n);
void ah_flush(struct ah_core *c, bool force);

/* Zero-copy data on stream 1 or 4, as in agent_core.h. */
uint8_t *ah_data_begin(struct ah_core *c, unsigned stream, size_t limit, size_t *max);
void ah_data_end(struct ah_core *c, unsigned stream, size_t n);
bool ah_can_send(const struct ah_core *c, unsigned stream);

#endif
