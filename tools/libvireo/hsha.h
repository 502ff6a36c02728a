/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SHA-256 for snapshot files on the host, from Nettle (nettle-dev): a
 * snapshot's RAM is tens of MiB, hashed when it is written and twice when it
 * is restored, and Nettle runs on the CPU's SHA extensions where there are
 * some. The same digest as the hypervisor's own hv/lib/sha256.c
 * (tests/unit/test_snapfile.c compares them).
 */
#ifndef VIREO_HSHA_H
#define VIREO_HSHA_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

#define HSHA_DIGEST_SIZE SHA256_DIGEST_SIZE

struct hsha {
	struct sha256_ctx ctx;
};

void hsha_init(struct hsha *h);
void hsha_update(struct hsha *h, const void *data, size_t len);
void hsha_final(struct hsha *h, uint8_t out[HSHA_DIGEST_SIZE]);
void hsha(const void *data, size_t len, uint8_t out[HSHA_DIGEST_SIZE]);

#endif
