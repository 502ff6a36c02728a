// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of Vireo's DHCP server (hv/net/dhcp.c): what it answers to
 * each kind of client message, that its answers are well-formed (lengths,
 * IP and UDP checksums, options), and that truncated or lying frames get no
 * answer and no out-of-bounds read (the frames sit at the end of a buffer,
 * under ASan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/dhcp.h>

#define ETH 14
#define IP  20
#define UDP 8
#define B   (ETH + IP + UDP) /* the BOOTP message */

static const uint8_t client[6] = {0x52, 0x54, 0, 0xaa, 0xbb, 0xcc};
static const uint8_t server_mac[6] = {0x52, 0x56, 0x69, 0x72, 0x65, 0x6f};

static const struct dhcp_lease lease = {
    .client_ip = 0x0a00020f, /* 10.0.2.15 */
    .netmask = 0xffffff00,
    .server_ip = 0x0a000202,
    .router = 0x0a000202,
    .dns = 0x0a000203,
    .lease_s = DHCP_LEASE_INFINITE,
    .server_mac = {0x52, 0x56, 0x69, 0x72, 0x65, 0x6f},
};

static uint8_t req[600];
static uint8_t out[1518];

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

/* A client message; extra options (code, len, value...) come before END. Returns its length. */
static size_t build(int type, uint32_t ciaddr, uint16_t flags, const uint8_t *opts, size_t nopts)
{
	uint8_t *o = req + B + 240;
	size_t len;

	memset(req, 0, sizeof(req));
	memset(req, 0xff, 6);
	memcpy(req + 6, client, 6);
	req[12] = 0x08;
	req[ETH] = 0x45;
	req[ETH + 9] = 17;
	req[ETH + IP + 1] = 68;
	req[ETH + IP + 3] = 67;
	req[B] = 1;
	req[B + 1] = 1;
	req[B + 2] = 6;
	put32(req + B + 4, 0x12345678);
	req[B + 10] = (uint8_t)(flags >> 8);
	req[B + 11] = (uint8_t)flags;
	put32(req + B + 12, ciaddr);
	memcpy(req + B + 28, client, 6);
	put32(req + B + 236, 0x63825363);
	*o++ = 53;
	*o++ = 1;
	*o++ = (uint8_t)type;
	if (nopts)
		memcpy(o, opts, nopts);
	o += nopts;
	*o++ = 255;
	len = (size_t)(o - req);
	req[ETH + IP + 4] = (uint8_t)((len - ETH - IP) >> 8);
	req[ETH + IP + 5] = (uint8_t)(len - ETH - IP);
	req[ETH + 2] = (uint8_t)((len - ETH) >> 8);
	req[ETH + 3] = (uint8_t)(len - ETH);
	return len;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The answer's headers agree with its length and its checksums hold. */
static void check_answer(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + ETH, *udp = ip + IP;
	uint32_t pseudo;

	assert_true(len >= B + 300);
	assert_memory_equal(f + 6, server_mac, 6);
	assert_int_equal(get16(f + 12), 0x0800);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(get16(ip + 2), len - ETH);
	assert_int_equal(sum16(ip, IP, 0), 0xffff);
	assert_int_equal(get16(udp), 67);
	assert_int_equal(get16(udp + 2), 68);
	assert_int_equal(get16(udp + 4), len - ETH - IP);
	pseudo = sum16(ip + 12, 8, 17 + (uint32_t)(len - ETH - IP));
	assert_int_equal(sum16(udp, len - ETH - IP, pseudo), 0xffff);
	assert_int_equal(f[B], 2);
	assert_int_equal(get32(f + B + 4), 0x12345678);
	assert_memory_equal(f + B + 28, client, 6);
	assert_int_equal(get32(f + B + 236), 0x63825363);
}

/* The value of option `code` in an answer, or NULL. */
static const uint8_t *option(const uint8_t *f, size_t len, uint8_t code)
{
	for (size_t i = B + 240; i + 1 < len && f[i] != 255; i += 2u + f[i + 1])
		if (f[i] == code)
			return f + i + 2;
	return NULL;
}

static void test_discover_gets_an_offer(void **state)
{
	size_t n;

	(void)state;
	n = dhcp_answer(req, build(1, 0, 0, NULL, 0), client, &lease, out, sizeof(out));
	assert_true(n > 0);
	check_answer(out, n);
	assert_memory_equal(out, client, 6);
	assert_int_equal(get32(out + ETH + 16), lease.client_ip);
	assert_int_equal(get32(out + B + 16), lease.client_ip);
	assert_int_equal(option(out, n, 53)[0], 2);
	assert_int_equal(get32(option(out, n, 54)), lease.server_ip);
	assert_int_equal(get32(option(out, n, 51)), DHCP_LEASE_INFINITE);
	assert_int_equal(get32(option(out, n, 1)), 0xffffff00);
	assert_int_equal(get32(option(out, n, 28)), 0x0a0002ff);
	assert_int_equal(get32(option(out, n, 3)), lease.router);
	assert_int_equal(get32(option(out, n, 6)), lease.dns);
	/* With the broadcast flag, to everyone. */
	n = dhcp_answer(req, build(1, 0, 0x8000, NULL, 0), client, &lease, out, sizeof(out));
	check_answer(out, n);
	assert_memory_equal(out, "\xff\xff\xff\xff\xff\xff", 6);
	assert_int_equal(get32(out + ETH + 16), 0xffffffff);
}

static void test_request(void **state)
{
	const uint8_t mine[] = {50, 4, 10, 0, 2, 15, 54, 4, 10, 0, 2, 2};
	const uint8_t other[] = {50, 4, 10, 0, 2, 99};
	const uint8_t other_server[] = {50, 4, 10, 0, 2, 15, 54, 4, 10, 0, 2, 9};
	size_t n;

	(void)state;
	n = dhcp_answer(req, build(3, 0, 0, mine, sizeof(mine)), client, &lease, out, sizeof(out));
	check_answer(out, n);
	assert_int_equal(option(out, n, 53)[0], 5);
	assert_int_equal(get32(out + B + 16), lease.client_ip);
	/* Renewing: no option 50, the address in ciaddr. */
	n = dhcp_answer(req, build(3, lease.client_ip, 0, NULL, 0), client, &lease, out,
			sizeof(out));
	check_answer(out, n);
	assert_int_equal(option(out, n, 53)[0], 5);
	assert_int_equal(get32(out + B + 12), lease.client_ip);
	/* Another address: NAK, broadcast, without a lease. */
	n = dhcp_answer(req, build(3, 0, 0, other, sizeof(other)), client, &lease, out,
			sizeof(out));
	check_answer(out, n);
	assert_int_equal(option(out, n, 53)[0], 6);
	assert_int_equal(get32(out + B + 16), 0);
	assert_null(option(out, n, 51));
	assert_memory_equal(out, "\xff\xff\xff\xff\xff\xff", 6);
	/* Meant for another server: silence. */
	assert_int_equal(dhcp_answer(req, build(3, 0, 0, other_server, sizeof(other_server)),
				     client, &lease, out, sizeof(out)),
			 0);
}

static void test_inform_release_decline(void **state)
{
	size_t n;

	(void)state;
	n = dhcp_answer(req, build(8, lease.client_ip, 0, NULL, 0), client, &lease, out,
			sizeof(out));
	check_answer(out, n);
	assert_int_equal(option(out, n, 53)[0], 5);
	assert_int_equal(get32(out + B + 16), 0);
	assert_null(option(out, n, 51)); /* no lease time for INFORM */
	assert_non_null(option(out, n, 3));
	assert_int_equal(get32(out + ETH + 16), lease.client_ip);
	assert_int_equal(
	    dhcp_answer(req, build(8, 0, 0, NULL, 0), client, &lease, out, sizeof(out)), 0);
	assert_int_equal(dhcp_answer(req, build(7, lease.client_ip, 0, NULL, 0), client, &lease,
				     out, sizeof(out)),
			 0);
	assert_int_equal(
	    dhcp_answer(req, build(4, 0, 0, NULL, 0), client, &lease, out, sizeof(out)), 0);
	assert_int_equal(
	    dhcp_answer(req, build(2, 0, 0, NULL, 0), client, &lease, out, sizeof(out)), 0);
}

static void test_no_address_no_router(void **state)
{
	struct dhcp_lease l = lease;
	size_t n;

	(void)state;
	l.router = l.dns = 0;
	n = dhcp_answer(req, build(1, 0, 0, NULL, 0), client, &l, out, sizeof(out));
	check_answer(out, n);
	assert_null(option(out, n, 3));
	assert_null(option(out, n, 6));
	l.client_ip = 0;
	assert_int_equal(dhcp_answer(req, build(1, 0, 0, NULL, 0), client, &l, out, sizeof(out)),
			 0);
	assert_int_equal(dhcp_answer(req, build(3, 0, 0, NULL, 0), client, &l, out, sizeof(out)),
			 0);
	/* Too small an output buffer: no answer rather than a partial one. */
	assert_int_equal(dhcp_answer(req, build(1, 0, 0, NULL, 0), client, &lease, out, 200), 0);
}

static void test_classify(void **state)
{
	size_t len = build(1, 0, 0, NULL, 0);

	(void)state;
	assert_int_equal(dhcp_classify(req, len), DHCP_CLIENT);
	req[ETH + IP + 1] = 67;
	req[ETH + IP + 3] = 68;
	assert_int_equal(dhcp_classify(req, len), DHCP_SERVER);
	req[ETH + IP + 3] = 69;
	assert_int_equal(dhcp_classify(req, len), DHCP_OTHER);
	len = build(1, 0, 0, NULL, 0);
	req[ETH + 9] = 6; /* TCP */
	assert_int_equal(dhcp_classify(req, len), DHCP_OTHER);
	len = build(1, 0, 0, NULL, 0);
	req[ETH + 6] = 0x20; /* more fragments */
	assert_int_equal(dhcp_classify(req, len), DHCP_OTHER);
	len = build(1, 0, 0, NULL, 0);
	req[12] = 0x86; /* IPv6 */
	assert_int_equal(dhcp_classify(req, len), DHCP_OTHER);
	assert_int_equal(dhcp_classify(req, 20), DHCP_OTHER);
}

/* Every truncation of a good request, placed at the very end of its buffer: no answer
 * to the short ones that cut into the message, never a read past the end. */
static void test_truncated_and_lying_frames(void **state)
{
	const uint8_t opts[] = {50, 4, 10, 0, 2, 15};
	size_t full = build(3, 0, 0, opts, sizeof(opts));

	(void)state;
	for (size_t cut = 0; cut <= full; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		size_t n;

		memcpy(copy, req, cut);
		n = dhcp_answer(copy, cut, client, &lease, out, sizeof(out));
		if (cut < full)
			assert_int_equal(n, 0); /* the IP length says more than there is */
		else
			assert_true(n > 0);
		free(copy);
	}
	/* The UDP length longer than the IP datagram; an IP header length of 4 words; an
	 * option running past the end; a hardware address that is not Ethernet's. */
	build(1, 0, 0, NULL, 0);
	req[ETH + IP + 5] += 1;
	assert_int_equal(dhcp_answer(req, full, client, &lease, out, sizeof(out)), 0);
	full = build(1, 0, 0, NULL, 0);
	req[ETH] = 0x44;
	assert_int_equal(dhcp_answer(req, full, client, &lease, out, sizeof(out)), 0);
	full = build(1, 0, 0, (const uint8_t[]){12, 200, 'x'}, 3);
	assert_int_equal(dhcp_answer(req, full, client, &lease, out, sizeof(out)), 0);
	full = build(1, 0, 0, NULL, 0);
	req[B + 2] = 8;
	assert_int_equal(dhcp_answer(req, full, client, &lease, out, sizeof(out)), 0);
	/* No message type: no answer; options without END still count. */
	full = build(1, 0, 0, NULL, 0);
	req[B + 240] = 0; /* the type option becomes pads and garbage */
	assert_int_equal(dhcp_answer(req, full, client, &lease, out, sizeof(out)), 0);
	full = build(1, 0, 0, NULL, 0);
	req[full - 1] = 0; /* END becomes a pad */
	assert_true(dhcp_answer(req, full, client, &lease, out, sizeof(out)) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_discover_gets_an_offer),
	    cmocka_unit_test(test_request),
	    cmocka_unit_test(test_inform_release_decline),
	    cmocka_unit_test(test_no_address_no_router),
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_truncated_and_lying_frames),
	};

	return cmocka_run_group_tests_name("dhcp", tests, NULL, NULL);
}
