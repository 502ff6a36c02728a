// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for Vireo's DHCP server: any frame, sitting at the very
 * end of its buffer (so that ASan sees a read past it), is classified and
 * answered. An answer must be a whole, consistent frame: from the server's
 * address, its IP and UDP lengths agreeing with its size, and its yiaddr
 * either 0 or the VM's own address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/dhcp.h>

#include "fuzz_check.h"

static const uint8_t client[6] = {0x52, 0x54, 0, 0xaa, 0xbb, 0xcc};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_lease lease = {
	    .client_ip = 0x0a00020f,
	    .netmask = 0xffffff00,
	    .server_ip = 0x0a000202,
	    .router = size & 1 ? 0x0a000202 : 0,
	    .dns = size & 2 ? 0x0a000203 : 0,
	    .lease_s = DHCP_LEASE_INFINITE,
	    .server_mac = {0x52, 0x56, 0x69, 0x72, 0x65, 0x6f},
	};
	uint8_t out[1518];
	uint8_t *frame = malloc(size ? size : 1);
	enum dhcp_kind kind;
	size_t n;

	memcpy(frame, data, size);
	kind = dhcp_classify(frame, size);
	FUZZ_CHECK(kind == DHCP_OTHER || kind == DHCP_CLIENT || kind == DHCP_SERVER);
	n = dhcp_answer(frame, size, client, &lease, out, size % 7 == 3 ? 300 : sizeof(out));
	if (n) {
		uint32_t yiaddr = (uint32_t)out[58] << 24 | out[59] << 16 | out[60] << 8 | out[61];

		FUZZ_CHECK(kind == DHCP_CLIENT);
		FUZZ_CHECK(n >= 14 + 20 + 8 + 300 && n <= sizeof(out));
		FUZZ_CHECK(memcmp(out + 6, lease.server_mac, 6) == 0);
		FUZZ_CHECK((size_t)(out[16] << 8 | out[17]) == n - 14);
		FUZZ_CHECK((size_t)(out[38] << 8 | out[39]) == n - 34);
		FUZZ_CHECK(yiaddr == 0 || yiaddr == lease.client_ip);
	}
	free(frame);
	return 0;
}
