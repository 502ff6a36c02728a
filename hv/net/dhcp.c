// SPDX-License-Identifier: BSD-2-Clause
/* Vireo's DHCP server; see vireo/dhcp.h. */
#include <vireo/dhcp.h>
#include <vireo/string.h>

#define ETH_HLEN	 14
#define IP_HLEN		 20 /* what we send; what we read may carry options */
#define UDP_HLEN	 8
#define BOOTP_FIXED	 236 /* op .. file */
#define BOOTP_MAGIC	 0x63825363u
#define BOOTP_MIN	 300 /* BOOTP messages are padded to this (RFC 1542) */
#define BOOTP_FLAG_BCAST 0x8000

/* Offsets in the BOOTP message. */
#define B_OP	 0
#define B_HTYPE	 1
#define B_HLEN	 2
#define B_XID	 4
#define B_FLAGS	 10
#define B_CIADDR 12
#define B_YIADDR 16
#define B_GIADDR 24
#define B_CHADDR 28
#define B_MAGIC	 236
#define B_OPTS	 240

/* Options and message types. */
#define OPT_PAD	      0
#define OPT_NETMASK   1
#define OPT_ROUTER    3
#define OPT_DNS	      6
#define OPT_BROADCAST 28
#define OPT_REQ_IP    50
#define OPT_LEASE     51
#define OPT_MSG_TYPE  53
#define OPT_SERVER_ID 54
#define OPT_END	      255

enum { DISCOVER = 1, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Where the UDP header and its payload are, for an unfragmented IPv4/UDP frame. */
struct udp_view {
	const uint8_t *udp;
	size_t udp_len; /* header and payload, as the UDP header says (checked) */
};

static bool find_udp(const uint8_t *frame, size_t len, struct udp_view *v)
{
	const uint8_t *ip = frame + ETH_HLEN;
	size_t ihl, total;

	if (len < ETH_HLEN + IP_HLEN || get16(frame + 12) != 0x0800)
		return false;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	total = get16(ip + 2);
	/* IPv4, a sane header, the whole datagram in the frame, UDP, not a fragment. */
	if ((ip[0] >> 4) != 4 || ihl < IP_HLEN || total < ihl + UDP_HLEN ||
	    total > len - ETH_HLEN || ip[9] != 17 || (get16(ip + 6) & 0x3fff))
		return false;
	v->udp = ip + ihl;
	v->udp_len = get16(v->udp + 4);
	return v->udp_len >= UDP_HLEN && v->udp_len <= total - ihl;
}

enum dhcp_kind dhcp_classify(const uint8_t *frame, size_t len)
{
	struct udp_view v;

	if (!find_udp(frame, len, &v))
		return DHCP_OTHER;
	if (get16(v.udp + 2) == DHCP_SERVER_PORT)
		return DHCP_CLIENT;
	if (get16(v.udp) == DHCP_SERVER_PORT && get16(v.udp + 2) == DHCP_CLIENT_PORT)
		return DHCP_SERVER;
	return DHCP_OTHER;
}

/* The options a client sent that matter here. */
struct request {
	const uint8_t *bootp;
	int type;	 /* 0 if absent */
	uint32_t req_ip; /* option 50, 0 if absent */
	uint32_t server; /* option 54, 0 if absent */
	bool have_server;
};

static bool parse_options(const uint8_t *opt, size_t len, struct request *r)
{
	size_t i = 0;

	while (i < len) {
		uint8_t code = opt[i++];
		uint8_t n;

		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			return true;
		if (i >= len)
			return false;
		n = opt[i++];
		if (n > len - i)
			return false;
		if (code == OPT_MSG_TYPE && n == 1)
			r->type = opt[i];
		else if (code == OPT_REQ_IP && n == 4)
			r->req_ip = get32(opt + i);
		else if (code == OPT_SERVER_ID && n == 4) {
			r->server = get32(opt + i);
			r->have_server = true;
		}
		i += n;
	}
	return true; /* no END: what was there still counts */
}

static bool parse_request(const uint8_t *frame, size_t len, struct request *r)
{
	struct udp_view v;
	const uint8_t *b;
	size_t blen;

	memset(r, 0, sizeof(*r));
	if (!find_udp(frame, len, &v) || get16(v.udp + 2) != DHCP_SERVER_PORT)
		return false;
	b = v.udp + UDP_HLEN;
	blen = v.udp_len - UDP_HLEN;
	if (blen < B_OPTS || b[B_OP] != 1 || b[B_HTYPE] != 1 || b[B_HLEN] != 6 ||
	    get32(b + B_MAGIC) != BOOTP_MAGIC)
		return false;
	r->bootp = b;
	return parse_options(b + B_OPTS, blen - B_OPTS, r) && r->type;
}

/* The one's-complement sum of RFC 1071, folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Options of an answer, appended at *at; the caller leaves room for all of them. */
static uint8_t *opt32(uint8_t *at, uint8_t code, uint32_t v)
{
	at[0] = code;
	at[1] = 4;
	put32(at + 2, v);
	return at + 6;
}

static size_t write_options(uint8_t *opts, int type, bool with_lease, const struct dhcp_lease *l)
{
	uint8_t *at = opts;

	*at++ = OPT_MSG_TYPE;
	*at++ = 1;
	*at++ = (uint8_t)type;
	at = opt32(at, OPT_SERVER_ID, l->server_ip);
	if (type != NAK) {
		if (with_lease) /* not in the answer to INFORM */
			at = opt32(at, OPT_LEASE, l->lease_s);
		at = opt32(at, OPT_NETMASK, l->netmask);
		at = opt32(at, OPT_BROADCAST, (l->client_ip & l->netmask) | ~l->netmask);
		if (l->router)
			at = opt32(at, OPT_ROUTER, l->router);
		if (l->dns)
			at = opt32(at, OPT_DNS, l->dns);
	}
	*at++ = OPT_END;
	return (size_t)(at - opts);
}

/*
 * Which answer a request gets, and the address in it (yiaddr); 0 for none.
 * INFORM gets an ACK without an address (the client has one).
 */
static int decide(const struct request *r, const struct dhcp_lease *l, uint32_t *yiaddr)
{
	uint32_t ciaddr = get32(r->bootp + B_CIADDR);
	uint32_t want;

	*yiaddr = 0;
	if (r->have_server && r->server != l->server_ip)
		return 0; /* the client talks to another server */
	switch (r->type) {
	case DISCOVER:
		*yiaddr = l->client_ip;
		return l->client_ip ? OFFER : 0;
	case REQUEST:
		if (!l->client_ip)
			return 0;
		want = r->req_ip ? r->req_ip : ciaddr;
		if (want != l->client_ip)
			return NAK;
		*yiaddr = l->client_ip;
		return ACK;
	case INFORM:
		return ciaddr ? ACK : 0;
	default:
		return 0; /* RELEASE, DECLINE, or a server's message */
	}
}

size_t dhcp_answer(const uint8_t *frame, size_t len, const uint8_t client_mac[6],
		   const struct dhcp_lease *l, uint8_t *out, size_t size)
{
	static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct request r;
	uint32_t yiaddr, dst_ip, sum;
	uint8_t *ip, *udp, *b;
	size_t opts_len, bootp_len, udp_len, total;
	bool bcast;
	int type;

	if (!parse_request(frame, len, &r))
		return 0;
	type = decide(&r, l, &yiaddr);
	/* Room for the largest answer: headers, BOOTP and every option. */
	if (!type || size < ETH_HLEN + IP_HLEN + UDP_HLEN + B_OPTS + 64)
		return 0;
	memset(out, 0, ETH_HLEN + IP_HLEN + UDP_HLEN + B_OPTS + 64);
	ip = out + ETH_HLEN;
	udp = ip + IP_HLEN;
	b = udp + UDP_HLEN;

	/* BOOTP: the client's transaction, hardware address and relay; our answer. */
	b[B_OP] = 2;
	b[B_HTYPE] = 1;
	b[B_HLEN] = 6;
	memcpy(b + B_XID, r.bootp + B_XID, 4);
	memcpy(b + B_FLAGS, r.bootp + B_FLAGS, 2);
	if (type == ACK)
		memcpy(b + B_CIADDR, r.bootp + B_CIADDR, 4);
	put32(b + B_YIADDR, yiaddr);
	memcpy(b + B_GIADDR, r.bootp + B_GIADDR, 4);
	memcpy(b + B_CHADDR, r.bootp + B_CHADDR, 16);
	put32(b + B_MAGIC, BOOTP_MAGIC);
	opts_len = write_options(b + B_OPTS, type, yiaddr != 0, l);
	bootp_len = MAX(B_OPTS + opts_len, (size_t)BOOTP_MIN);
	udp_len = UDP_HLEN + bootp_len;
	total = IP_HLEN + udp_len;

	/* A client without an address (or one told NAK) is answered by broadcast if it
	 * asked for that; else at its hardware address and the address it is given. */
	bcast = type == NAK || (get16(r.bootp + B_FLAGS) & BOOTP_FLAG_BCAST);
	dst_ip = bcast ? 0xffffffffu : (yiaddr ? yiaddr : get32(r.bootp + B_CIADDR));
	memcpy(out, bcast ? bcast_mac : client_mac, 6);
	memcpy(out + 6, l->server_mac, 6);
	put16(out + 12, 0x0800);

	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)total);
	ip[8] = 64; /* TTL */
	ip[9] = 17; /* UDP */
	put32(ip + 12, l->server_ip);
	put32(ip + 16, dst_ip);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));

	put16(udp, DHCP_SERVER_PORT);
	put16(udp + 2, DHCP_CLIENT_PORT);
	put16(udp + 4, (uint16_t)udp_len);
	/* The pseudo-header (addresses, protocol, length), then the datagram. */
	sum = csum_add(0, ip + 12, 8) + 17 + (uint32_t)udp_len;
	sum = csum_fold(csum_add(sum, udp, udp_len));
	put16(udp + 6, sum ? (uint16_t)sum : 0xffff);
	return ETH_HLEN + total;
}
