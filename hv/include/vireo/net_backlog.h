/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A switch port's backlog: frames for the port that it had no room for,
 * kept until it has. Bounded (NET_BACKLOG_SLOTS frames, copied into the
 * owner's store) and fair between the ports that sent them:
 *  - each source has its own FIFO; they are served round-robin, one frame
 *    per source per round, so a source that floods gets no more of the
 *    port's room than one that sends a frame now and then;
 *  - when the store is full, the source with the most frames waiting loses
 *    its oldest one to the newcomer ("longest queue drop"); if the
 *    newcomer's source is (one of) the longest itself, the new frame is the
 *    one dropped. A flood can only ever crowd out itself.
 * Pure logic, host-tested. The caller serialises access (the switch's lock).
 */
#ifndef VIREO_NET_BACKLOG_H
#define VIREO_NET_BACKLOG_H

#include <vireo/net_frame.h>
#include <vireo/types.h>

#define NET_BACKLOG_SLOTS   64
#define NET_BACKLOG_SOURCES 32	 /* source indices 0..31 */
#define NET_BACKLOG_SLOT    1536 /* bytes per frame slot (>= NET_FRAME_MAX) */
#define NET_BACKLOG_BYTES   (NET_BACKLOG_SLOTS * NET_BACKLOG_SLOT)
#define NET_BACKLOG_NONE    0xff

_Static_assert(NET_BACKLOG_SLOT >= NET_FRAME_MAX, "a backlog slot holds any frame");

struct net_backlog {
	uint8_t *store; /* NET_BACKLOG_BYTES: slot i at store + i * NET_BACKLOG_SLOT */
	uint16_t len[NET_BACKLOG_SLOTS];
	uint8_t next[NET_BACKLOG_SLOTS]; /* the source's FIFO, or the free list */
	uint8_t free;
	uint8_t head[NET_BACKLOG_SOURCES], tail[NET_BACKLOG_SOURCES];
	uint8_t count[NET_BACKLOG_SOURCES];
	unsigned total;
	unsigned rr;	  /* the source served next (or the first after it with frames) */
	uint64_t dropped; /* frames it had to let go */
};

void net_backlog_init(struct net_backlog *b, uint8_t *store);
/* Drop everything. */
void net_backlog_clear(struct net_backlog *b);
/* Keep a copy of f from source src; false when f itself was dropped (f.len must be at
 * most NET_BACKLOG_SLOT, src below NET_BACKLOG_SOURCES). */
bool net_backlog_push(struct net_backlog *b, unsigned src, const struct net_frame *f);
/* The frame to deliver next, in round-robin order, without taking it; false if none. */
bool net_backlog_peek(struct net_backlog *b, struct net_frame *f, unsigned *src);
/* Take away the frame net_backlog_peek returned; the next source's turn comes. */
void net_backlog_pop(struct net_backlog *b);
/* Forget the frames of one source (it left the network). */
void net_backlog_drop_source(struct net_backlog *b, unsigned src);

static inline unsigned net_backlog_count(const struct net_backlog *b)
{
	return b->total;
}

#endif
