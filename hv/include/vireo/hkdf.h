/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HMAC-SHA-256 (RFC 2104) and HKDF-SHA-256 (RFC 5869): how Vireo turns one
 * secret (the host's boot seed) into independent per-VM seeds. Host-testable.
 */
#ifndef VIREO_HKDF_H
#define VIREO_HKDF_H

#include <vireo/sha256.h>

/* The most HKDF-Expand can produce: 255 blocks. */
#define HKDF_SHA256_MAX_OUT (255 * SHA256_DIGEST_SIZE)

struct hmac_sha256 {
	struct sha256 inner, outer;
};

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t key_len);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len);
/* Write the MAC and wipe the context. */
void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[SHA256_DIGEST_SIZE]);
void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		 uint8_t out[SHA256_DIGEST_SIZE]);

/* PRK = HMAC(salt, IKM); a NULL or empty salt means 32 zero bytes, as RFC 5869 says. */
void hkdf_sha256_extract(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
			 uint8_t prk[SHA256_DIGEST_SIZE]);
/* OKM = T(1) | T(2) | ... truncated to out_len; -VIREO_EINVAL if out_len is too large. */
int hkdf_sha256_expand(const uint8_t prk[SHA256_DIGEST_SIZE], const void *info, size_t info_len,
		       void *out, size_t out_len);

#endif
