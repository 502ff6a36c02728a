/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SHA-256 for snapshot files on the host: the x86-64 SHA extensions when the
 * CPU has them (a snapshot's RAM is tens of MiB, hashed when it is written
 * and twice when it is restored: the portable hv/lib/sha256.c does about 100
 * MB/s here, the extensions over a GB/s), else hv/lib/sha256.c. Both give the
 * same digest (tests/unit/test_snapfile.c compares them).
 */
#ifndef VIREO_HSHA_H
#define VIREO_HSHA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vireo/sha256.h>

struct hsha {
	bool fast;
	struct sha256 ref; /* !fast */
	uint32_t state[8]; /* fast */
	uint64_t length;
	uint8_t block[SHA256_BLOCK_SIZE];
	size_t used;
};

void hsha_init(struct hsha *h);
void hsha_update(struct hsha *h, const void *data, size_t len);
void hsha_final(struct hsha *h, uint8_t out[SHA256_DIGEST_SIZE]);
void hsha(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);
/* Whether the fast path is there; tests turn it off to compare both. */
bool hsha_fast_available(void);
void hsha_set_fast(bool on);

#endif
