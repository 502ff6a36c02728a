/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SHA-256 (FIPS 180-4). Used to derive per-VM boot seeds (with HMAC and HKDF,
 * see hkdf.h), never for anything that needs to be fast. Host-testable.
 */
#ifndef VIREO_SHA256_H
#define VIREO_SHA256_H

#include <vireo/types.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE  64

struct sha256 {
	uint32_t state[8];
	uint64_t length; /* bytes hashed so far */
	uint8_t block[SHA256_BLOCK_SIZE];
	size_t used; /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Write the digest and wipe the context. */
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_SIZE]);
/* One call: out = SHA-256(data). */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);

/* Overwrite secret bytes in a way the compiler may not drop. */
void secure_wipe(void *p, size_t len);

#endif
