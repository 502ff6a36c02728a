/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What clients and a machine's daemon say to each other (docs/machine.md,
 * "The machine's socket"): frames of the channel's framing (vireo/vx.h) on a
 * unix stream socket. A request is a frame of type MP_REQUEST, a reply one of
 * type MP_REPLY; each holds lines "key=value\n", the first of a request
 * "op=NAME", the first of a reply "ok=1" or "error=ERRNO" (then
 * "message=..."). Values hold no newline; a key may repeat (a list). After a
 * reply "ok=1" to op=exec or op=attach, the socket carries the agent protocol
 * (docs/channel.md) of that VM, both ways, and nothing else.
 *
 * Everything a peer sends is checked: a frame over MP_MAX or of another type
 * is the end of the connection.
 */
#ifndef VIREO_MPROTO_H
#define VIREO_MPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_REQUEST 1
#define MP_REPLY   2
#define MP_MAX	   (64 * 1024)

/* A message being written. */
struct mp_msg {
	char *text;
	size_t len, cap;
	bool failed; /* out of memory, or a value with a newline */
};

void mp_init(struct mp_msg *m);
void mp_free(struct mp_msg *m);
/* Add "key=value" (printf-style value); a value with a newline fails the message. */
void mp_add(struct mp_msg *m, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reading: the value of the n-th line with this key (0 the first), copied into buf;
 * NULL if there is none (or it does not fit). */
const char *mp_get_nth(const char *text, size_t len, const char *key, unsigned n, char *buf,
		       size_t size);
const char *mp_get(const char *text, size_t len, const char *key, char *buf, size_t size);
/* A number value; false if absent or not a number. */
bool mp_get_u64(const char *text, size_t len, const char *key, uint64_t *out);
bool mp_get_i64(const char *text, size_t len, const char *key, int64_t *out);
/* Well-formed text: lines "key=value\n", keys of [a-z0-9_-], no NUL, at most MP_MAX. */
bool mp_valid(const char *text, size_t len);

/* Blocking helpers for a client: send one frame; read one frame (malloc'ed payload,
 * NUL-terminated) within timeout_ms (-1: forever). 0 or -errno. */
int mp_send(int fd, uint16_t type, const void *payload, size_t len);
int mp_recv(int fd, uint16_t *type, char **payload, size_t *len, int timeout_ms);

#endif
