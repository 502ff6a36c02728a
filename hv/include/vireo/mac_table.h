/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A switch's table of Ethernet addresses: which port each one is behind.
 * Two kinds of entry:
 *  - static: a VM's own address, pinned to its port when the port is
 *    attached; it never ages, never moves, and no other port may use it;
 *  - learned: an address seen as the source of a frame (from the uplink:
 *    the machines behind QEMU's network); it moves with the address and is
 *    forgotten after `max_age` without a frame from it.
 * Open addressing with linear probing and backward-shift deletion, so a
 * lookup touches a handful of slots and nothing ever needs rebuilding. The
 * table is bounded: at most MAC_TABLE_LEARNED learned entries; a new
 * address beyond that replaces the stalest learned one. Pure logic (time is
 * a parameter), host-tested. The caller serialises access (the switch's lock).
 */
#ifndef VIREO_MAC_TABLE_H
#define VIREO_MAC_TABLE_H

#include <vireo/types.h>

#define MAC_TABLE_SLOTS	  512 /* a power of two */
#define MAC_TABLE_LEARNED 256 /* learned entries at most; static ones come on top */
#define MAC_TABLE_STATIC  64

struct mac_entry {
	uint8_t mac[6];
	uint8_t port;
	uint8_t state; /* MAC_ENTRY_FREE, _LEARNED, _STATIC */
	uint64_t seen; /* when a frame last came from it (learned entries) */
};

struct mac_table {
	struct mac_entry slots[MAC_TABLE_SLOTS];
	unsigned nlearned, nstatic;
	uint64_t max_age; /* in the caller's time unit */
};

enum { MAC_ENTRY_FREE, MAC_ENTRY_LEARNED, MAC_ENTRY_STATIC };

void mac_table_init(struct mac_table *t, uint64_t max_age);
/* The port behind mac, or -1 when it is unknown (or its learned entry has aged out). */
int mac_table_lookup(struct mac_table *t, const uint8_t mac[6], uint64_t now);
/*
 * A frame from mac came in on port: learn it, refresh it, or move it there.
 * 0; -VIREO_EEXIST when mac is another port's static address (a spoof: the
 * caller drops the frame); -VIREO_EINVAL for a multicast or zero address.
 */
int mac_table_learn(struct mac_table *t, const uint8_t mac[6], unsigned port, uint64_t now);
/* Pin mac to port. -VIREO_EEXIST when it is already static (on any port), -VIREO_ENOMEM
 * when MAC_TABLE_STATIC are in use, -VIREO_EINVAL for a multicast or zero address. A
 * learned entry for it is replaced. */
int mac_table_add_static(struct mac_table *t, const uint8_t mac[6], unsigned port);
/* Forget every entry, static or learned, that points at port. */
void mac_table_remove_port(struct mac_table *t, unsigned port);
/* Learned entries now in the table (aged ones may still count until they are met). */
unsigned mac_table_learned(const struct mac_table *t);

#endif
