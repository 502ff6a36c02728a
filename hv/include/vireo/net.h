/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Vireo's Ethernet switch. The machine has a few networks, each named (a
 * VM's config says `net = NAME`); each network is a learning L2 switch with
 * ports: one per VM on it (its virtio-net card, vdev/virtio_net.c) and, on
 * the network named "default", the uplink (QEMU's virtio-net, drivers/
 * virtio_net.c, behind which QEMU's user-mode network gives the host's
 * network). Frames never cross from one network to another: a network only
 * knows its own ports.
 *
 * Forwarding, for a frame that a port sends into its network:
 *  - its length must be 14..NET_FRAME_MAX and its source address the
 *    port's own (a VM port), or any unicast address that is not a VM's (the
 *    uplink): anything else is dropped and counted (`spoofed`);
 *  - the source is learned (vireo/mac_table.h; a VM's address is pinned to
 *    its port from the start, so it is never flooded for);
 *  - a DHCP request from a VM is answered by Vireo (net/dhcp.c), never
 *    forwarded; a DHCP server's answer sent by a VM is dropped;
 *  - broadcast and multicast go to every other port of the network; a known
 *    unicast address to its port; an unknown unicast address only to the
 *    uplink (it cannot be a VM's: those are all known), else nowhere.
 *
 * Fair service. A port that cannot take a frame now (a VM with no receive
 * buffers posted, an uplink whose transmit ring is full) gets it in its
 * backlog (vireo/net_backlog.h): a bounded store, shared fairly between the
 * sources (the longest source queue loses a frame when it is full) and
 * drained round-robin by source when the port has room again. The work of
 * forwarding is done on the sender's time: a VM's frames in its own exits,
 * the uplink's in its interrupt.
 *
 * Locking: one spinlock per network guards its ports, address table,
 * backlogs and counters. A port's `deliver` and `want_room` are called with
 * it held and take only their own device's lock (network -> device, see
 * docs/architecture.md); a device calls net_send and net_port_room without
 * holding its own lock. Pure logic: unit-tested with fake ports on the host.
 */
#ifndef VIREO_NET_H
#define VIREO_NET_H

#include <vireo/mac_table.h>
#include <vireo/net_backlog.h>
#include <vireo/net_frame.h>
#include <vireo/spinlock.h>
#include <vireo/types.h>

#define NET_NAME_MAX	 16 /* with the terminating NUL */
#define NET_MAX_PORTS	 NET_BACKLOG_SOURCES
#define NET_MAX_NETWORKS 8
#define NET_DEFAULT	 "default" /* the network with the uplink */
#define NET_MAC_AGE_MS	 (300 * 1000)

/* Addressing of every network (IPv4, host order): QEMU's user-mode network's. */
#define NET_IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))
#define NET_SUBNET	   NET_IP(10, 0, 2, 0)
#define NET_NETMASK	   NET_IP(255, 255, 255, 0)
#define NET_GATEWAY	   NET_IP(10, 0, 2, 2) /* the host, through QEMU; Vireo's DHCP server */
#define NET_DNS		   NET_IP(10, 0, 2, 3) /* QEMU's DNS forwarder */
#define NET_FIRST_VM_HOST  15		       /* VM n (from 1) is 10.0.2.(14 + n) */

enum net_deliver {
	NET_TAKEN,   /* the port has it */
	NET_FULL,    /* no room now: keep it, the port will call net_port_room */
	NET_REFUSED, /* never: the port is down or its buffer is unusable (dropped) */
};

struct net_port;

struct net_port_ops {
	/* Take the frame now. Called with the network's lock held. */
	enum net_deliver (*deliver)(struct net_port *p, const struct net_frame *f);
	/* Ask to be told (net_port_room) when there is room again (true), or stop (false). */
	void (*want_room)(struct net_port *p, bool want);
};

struct net_port_stats {
	uint64_t sent;	   /* frames the port put into the switch and it forwarded */
	uint64_t received; /* frames the port took */
	uint64_t spoofed;  /* sent with a source address not its own: dropped */
	uint64_t dropped;  /* for the port, but it had no room or refused them */
	uint64_t dhcp;	   /* DHCP answers Vireo gave it */
};

struct net_port {
	/* Set by the owner before net_attach. */
	const struct net_port_ops *ops;
	const char *name;	/* for messages: the VM's name, or "uplink" */
	bool uplink;		/* sends for many addresses (not a VM's); one per network */
	uint8_t mac[6];		/* a VM port: its only source address */
	uint32_t ipv4;		/* a VM port: the address DHCP gives it (0: none) */
	uint8_t *backlog_store; /* NET_BACKLOG_BYTES, the owner's */

	/* The switch's, under the network's lock. */
	struct net_switch *net; /* NULL when detached */
	unsigned index;
	struct net_backlog backlog;
	struct net_port_stats stats;
	uint64_t malformed; /* counted by the device (atomically): frames it could not parse */
};

struct net_switch {
	spinlock_t lock;
	char name[NET_NAME_MAX];
	struct net_port *ports[NET_MAX_PORTS];
	struct net_port *uplink;
	struct mac_table macs;
	uint64_t unknown; /* unicast frames for an address nobody has: dropped */
	/* Scratch for DHCP, under the lock (hypervisor stacks are small). */
	uint8_t frame[NET_FRAME_MAX];
	uint8_t reply[NET_FRAME_MAX];
};

/* Milliseconds of some monotonic clock (MAC ageing); Vireo sets it at boot. */
void net_set_clock(uint64_t (*now_ms)(void));

/* Set up a network (the registry below does this for the machine's networks). */
void net_switch_init(struct net_switch *sw, const char *name);
/* The machine's network of that name, created on first use; NULL when the name is
 * not 1..NET_NAME_MAX-1 characters or NET_MAX_NETWORKS exist already. */
struct net_switch *net_get(const char *name);
/* Call fn for every network of the machine. */
void net_for_each(void (*fn)(struct net_switch *sw, void *arg), void *arg);

/*
 * Put a port on a network. 0; -VIREO_EBUSY when the network is full or already
 * has an uplink; -VIREO_EEXIST when a VM port's address is another port's;
 * -VIREO_EINVAL for a VM port whose address is not unicast, or no backlog store.
 */
int net_attach(struct net_switch *sw, struct net_port *p);
/* Take it off: from then on nothing is delivered to it; its backlog is dropped. */
void net_detach(struct net_port *p);
/* A frame the port sends (see the top of this file). The frame's memory is the
 * caller's again when this returns. */
void net_send(struct net_port *src, const struct net_frame *f);
/* The port has room again: hand it what waits in its backlog. */
void net_port_room(struct net_port *p);
/* A frame the device could not parse (bad header, too long, broken chain). */
void net_port_malformed(struct net_port *p);
/* "52:54:00:12:34:56" into buf (at least 18 bytes). */
void net_format_mac(char *buf, const uint8_t mac[6]);

#endif
