/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The framing of gdb's remote serial protocol (GDB manual, appendix "GDB
 * Remote Serial Protocol", "Overview"), without I/O: bytes from the debugger
 * go in (rsp_feed), whole packets with a good checksum come out as calls of
 * struct rsp_ops, and replies go out framed (rsp_send). Acknowledgements
 * ('+'/'-') are sent and taken until no-ack mode (QStartNoAckMode); a 0x03
 * between packets is an interrupt (Ctrl-C). Escaped bytes ('}' then the byte
 * XOR 0x20) are undone before the packet is handed on, so binary packets (X)
 * arrive as their bytes. Everything from the socket is untrusted: a packet
 * longer than RSP_MAX_PACKET is answered with an empty packet call
 * (data NULL) and never buffered beyond that bound; garbage between packets
 * is skipped.
 */
#ifndef VIREO_RSP_H
#define VIREO_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest packet taken or sent (what qSupported's PacketSize says, in bytes). */
#define RSP_MAX_PACKET 16384

struct rsp_ops {
	/* A packet with a good checksum, unescaped; data NULL when it was too long. Its
	 * bytes are valid until the call returns (len < RSP_MAX_PACKET, and data[len]
	 * is a NUL for the convenience of parsers). */
	void (*packet)(void *ctx, const char *data, size_t len);
	/* Ctrl-C from the debugger. */
	void (*interrupt)(void *ctx);
	/* Bytes for the debugger (a framed packet, or an ack). */
	void (*send)(void *ctx, const void *bytes, size_t n);
};

struct rsp {
	const struct rsp_ops *ops;
	void *ctx;
	enum { RSP_IDLE, RSP_DATA, RSP_ESCAPE, RSP_CSUM1, RSP_CSUM2 } state;
	bool no_ack;
	bool overflow; /* the packet being read did not fit */
	uint8_t sum;   /* running checksum of the raw bytes */
	uint8_t given; /* the first checksum digit's value */
	size_t len;
	char buf[RSP_MAX_PACKET + 1];
	/* The last packet sent, for a '-' (retransmit); empty in no-ack mode. */
	char *last;
	size_t last_len;
	unsigned bad_checksums; /* for diagnostics and tests */
};

void rsp_init(struct rsp *r, const struct rsp_ops *ops, void *ctx);
void rsp_free(struct rsp *r);
void rsp_feed(struct rsp *r, const uint8_t *bytes, size_t n);
/* Send a packet: '$', data with '#', '$', '}' and '*' escaped, '#', checksum. */
void rsp_send(struct rsp *r, const char *data, size_t len);
/* From the next packet on, no acknowledgements either way. */
void rsp_set_no_ack(struct rsp *r);

#endif
