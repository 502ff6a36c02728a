/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Vireo's DHCP server (RFC 2131, the subset a client needs): each VM gets
 * one fixed address, known before it boots, so that the host tool can
 * forward a host port to it and so that a VM always finds its address
 * where it left it. The switch hands over every IPv4/UDP frame a VM sends
 * to port 67 and sends back what dhcp_answer builds: DISCOVER gets an
 * OFFER, a REQUEST for the VM's address an ACK (any other address a NAK),
 * INFORM an ACK with the options; everything else (RELEASE, DECLINE,
 * messages for another server) gets nothing. The lease is infinite. Frames
 * are parsed with every length checked; pure logic, unit-tested and fuzzed.
 */
#ifndef VIREO_DHCP_H
#define VIREO_DHCP_H

#include <vireo/types.h>

#define DHCP_SERVER_PORT    67
#define DHCP_CLIENT_PORT    68
#define DHCP_LEASE_INFINITE 0xffffffffu

/* What Vireo's answers say (IPv4 addresses in host order; 0: leave the option out). */
struct dhcp_lease {
	uint32_t client_ip; /* the VM's address; 0: the VM gets no answer */
	uint32_t netmask;
	uint32_t server_ip; /* the server identifier and the answers' source address */
	uint32_t router;
	uint32_t dns;
	uint32_t lease_s;
	uint8_t server_mac[6];
};

enum dhcp_kind {
	DHCP_OTHER,  /* not DHCP: forward it */
	DHCP_CLIENT, /* to a DHCP server (UDP port 67): Vireo's to answer */
	DHCP_SERVER, /* from a DHCP server (UDP 67 -> 68): a VM playing server, dropped */
};

/* What an Ethernet frame of len bytes is, as far as DHCP goes. */
enum dhcp_kind dhcp_classify(const uint8_t *frame, size_t len);
/*
 * The answer to a client's frame (sent from client_mac) as a whole Ethernet
 * frame in out[size]: its length, or 0 when nothing is to be sent.
 */
size_t dhcp_answer(const uint8_t *frame, size_t len, const uint8_t client_mac[6],
		   const struct dhcp_lease *lease, uint8_t *out, size_t size);

#endif
