/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An Ethernet frame on its way through the switch: a list of pieces of
 * host memory (a guest's transmit buffers, an uplink receive buffer, a
 * backlog slot), read in place. Frames carry no FCS; the largest is a
 * 1500-byte payload with one VLAN tag. Pure helpers, host-tested.
 */
#ifndef VIREO_NET_FRAME_H
#define VIREO_NET_FRAME_H

#include <vireo/types.h>

#define NET_ETH_ALEN   6
#define NET_ETH_HLEN   14			 /* destination, source, EtherType */
#define NET_FRAME_MAX  (NET_ETH_HLEN + 4 + 1500) /* 1518 */
#define NET_FRAME_SEGS 16

#define NET_ETHERTYPE_IPV4 0x0800
#define NET_ETHERTYPE_ARP  0x0806

struct net_seg {
	const uint8_t *p;
	uint32_t len;
};

struct net_frame {
	uint32_t len; /* the sum of the pieces */
	unsigned nsegs;
	struct net_seg segs[NET_FRAME_SEGS];
};

/* A frame in one piece. */
static inline void net_frame_flat(struct net_frame *f, const void *p, uint32_t len)
{
	f->len = len;
	f->nsegs = 1;
	f->segs[0] = (struct net_seg){p, len};
}

/* Append a piece; false when there are NET_FRAME_SEGS already (nothing changes). */
bool net_frame_add(struct net_frame *f, const void *p, uint32_t len);
/* Copy bytes [off, off + n) of the frame to dst; returns how many there were. */
uint32_t net_frame_read(const struct net_frame *f, uint32_t off, void *dst, uint32_t n);

static inline bool net_mac_multicast(const uint8_t mac[6])
{
	return mac[0] & 1; /* broadcast too */
}

static inline bool net_mac_equal(const uint8_t a[6], const uint8_t b[6])
{
	for (unsigned i = 0; i < 6; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

#endif
