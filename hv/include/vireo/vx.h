/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Framing of the Vireo channel (docs/channel.md): every message on every
 * link, host <-> Vireo and host program <-> guest agent, is an 8-byte
 * header and a payload:
 *
 *   offset 0  u32 length of the payload (little-endian), at most VX_MAX_PAYLOAD
 *          4  u16 type
 *          6  u16 channel
 *
 * The parser takes bytes as they come, in pieces of any size, and never
 * buffers a data payload: a streaming type (a bit in `stream_types`) is
 * handed on in chunks as it arrives; any other type is a control message
 * whose payload (at most VX_CONTROL_MAX bytes) is delivered whole. A header
 * that announces more is a protocol error, and the parser stops: whoever
 * sent it is cut off. Pure C with no dependencies: the hypervisor, the host
 * library and the guest agent share it; unit-tested and fuzzed.
 */
#ifndef VIREO_VX_H
#define VIREO_VX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VX_HDR_SIZE	8
#define VX_MAX_PAYLOAD	65536 /* bytes in one frame */
#define VX_CONTROL_MAX	1024  /* bytes in a control message */
#define VX_PROTOCOL_VER 1

/* The link protocol: host program <-> Vireo (docs/channel.md). */
enum vx_link_type {
	LINK_HELLO = 1,
	LINK_OPEN = 2,
	LINK_DATA = 3, /* streaming */
	LINK_CREDIT = 4,
	LINK_CLOSE = 5,
	LINK_VM_EXIT = 6,
	LINK_ERROR = 7,
	LINK_REQUEST = 8,
	LINK_REPLY = 9,
	LINK_EVENT = 10,
};

/* LINK_ERROR codes. */
enum vx_link_error {
	LINK_ERR_TYPE = 1,
	LINK_ERR_CHANNEL = 2,
	LINK_ERR_WINDOW = 3,
	LINK_ERR_TOO_LONG = 4,
	LINK_ERR_PAYLOAD = 5,
};

/* The agent protocol: host program <-> guest agent, inside one link channel. */
enum vx_agent_type {
	AG_HELLO = 1,
	AG_EXEC = 2, /* streaming (the agent gathers it, at most VX_MAX_PAYLOAD) */
	AG_DATA = 3, /* streaming */
	AG_EOF = 4,
	AG_CREDIT = 5,
	AG_SIGNAL = 6,
	AG_WINSIZE = 7,
	AG_STARTED = 8,
	AG_EXIT = 9,
	AG_ERROR = 10,
	AG_PUT = 11,
	AG_OK = 12,
	AG_GET = 13,
	AG_SHUTDOWN = 14,
};

/* Agent streams, and AG_EXEC item tags. */
enum { AG_STREAM_CONTROL, AG_STREAM_STDIN, AG_STREAM_STDOUT, AG_STREAM_STDERR, AG_STREAM_FILE };
enum { AG_ITEM_ARG = 1, AG_ITEM_ENV = 2, AG_ITEM_CWD = 3, AG_ITEM_TTY = 4 };
#define AG_FLAG_TAR 1u

#define VX_WINDOW (64 * 1024) /* the window each side grants when a channel or stream opens */

struct vx_hdr {
	uint32_t len;
	uint16_t type;
	uint16_t chan;
};

/* What went wrong with the byte stream (the parser stops at the first). */
enum vx_error {
	VX_OK = 0,
	VX_ERR_TOO_LONG,     /* a frame longer than VX_MAX_PAYLOAD */
	VX_ERR_CONTROL_LONG, /* a control message longer than VX_CONTROL_MAX */
	VX_ERR_BY_CONSUMER,  /* a callback refused what it got */
};

struct vx_parser;

struct vx_parser_ops {
	/* A whole control message (payload len bytes, possibly 0). Return false to stop. */
	bool (*control)(void *ctx, const struct vx_hdr *h, const uint8_t *payload);
	/* A piece of a streaming frame's payload, at `offset` within it; a frame of
	 * length 0 gives one call with n = 0. `last`: the frame ends with this piece. */
	bool (*data)(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
		     size_t n, bool last);
};

struct vx_parser {
	const struct vx_parser_ops *ops;
	void *ctx;
	uint32_t stream_types; /* bit t: frames of type t stream (t < 32) */
	uint8_t hdr[VX_HDR_SIZE];
	unsigned hdr_have;
	struct vx_hdr cur;
	uint32_t have; /* payload bytes of cur seen so far */
	enum vx_error error;
	uint8_t control[VX_CONTROL_MAX];
};

void vx_parser_init(struct vx_parser *p, const struct vx_parser_ops *ops, void *ctx,
		    uint32_t stream_types);
/* Feed n bytes. Returns how many were used: all of them, or fewer once p->error is set
 * (then nothing more is ever used). */
size_t vx_parser_feed(struct vx_parser *p, const uint8_t *bytes, size_t n);
/* True between frames (no partial header or payload pending). */
bool vx_parser_idle(const struct vx_parser *p);
const char *vx_error_text(enum vx_error e);

/* Encode a header into out[VX_HDR_SIZE]. */
void vx_put_hdr(uint8_t *out, uint16_t type, uint16_t chan, uint32_t len);
/* Little-endian helpers for payloads. */
void vx_put_u16(uint8_t *out, uint16_t v);
void vx_put_u32(uint8_t *out, uint32_t v);
void vx_put_u64(uint8_t *out, uint64_t v);
uint16_t vx_get_u16(const uint8_t *in);
uint32_t vx_get_u32(const uint8_t *in);
uint64_t vx_get_u64(const uint8_t *in);

#endif
