// SPDX-License-Identifier: BSD-2-Clause
/* HMAC-SHA-256 (RFC 2104) and HKDF-SHA-256 (RFC 5869). Every secret buffer is wiped after use. */
#include <vireo/hkdf.h>
#include <vireo/string.h>

#define IPAD 0x36
#define OPAD 0x5c

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t key_len)
{
	uint8_t k[SHA256_BLOCK_SIZE] = {0}, pad[SHA256_BLOCK_SIZE];

	/* A key longer than a block is hashed first; a shorter one is zero-padded. */
	if (key_len > SHA256_BLOCK_SIZE)
		sha256(key, key_len, k);
	else if (key_len)
		memcpy(k, key, key_len);
	for (unsigned i = 0; i < SHA256_BLOCK_SIZE; i++)
		pad[i] = k[i] ^ IPAD;
	sha256_init(&h->inner);
	sha256_update(&h->inner, pad, sizeof(pad));
	for (unsigned i = 0; i < SHA256_BLOCK_SIZE; i++)
		pad[i] = k[i] ^ OPAD;
	sha256_init(&h->outer);
	sha256_update(&h->outer, pad, sizeof(pad));
	secure_wipe(k, sizeof(k));
	secure_wipe(pad, sizeof(pad));
}

void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len)
{
	sha256_update(&h->inner, data, len);
}

void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[SHA256_DIGEST_SIZE])
{
	uint8_t inner[SHA256_DIGEST_SIZE];

	sha256_final(&h->inner, inner);
	sha256_update(&h->outer, inner, sizeof(inner));
	sha256_final(&h->outer, out);
	secure_wipe(inner, sizeof(inner));
}

void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		 uint8_t out[SHA256_DIGEST_SIZE])
{
	struct hmac_sha256 h;

	hmac_sha256_init(&h, key, key_len);
	hmac_sha256_update(&h, data, len);
	hmac_sha256_final(&h, out);
}

void hkdf_sha256_extract(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
			 uint8_t prk[SHA256_DIGEST_SIZE])
{
	static const uint8_t zeros[SHA256_DIGEST_SIZE];

	if (!salt || salt_len == 0) {
		salt = zeros;
		salt_len = sizeof(zeros);
	}
	hmac_sha256(salt, salt_len, ikm, ikm_len, prk);
}

int hkdf_sha256_expand(const uint8_t prk[SHA256_DIGEST_SIZE], const void *info, size_t info_len,
		       void *out, size_t out_len)
{
	uint8_t t[SHA256_DIGEST_SIZE];
	uint8_t *dst = out;
	size_t done = 0;

	if (out_len > HKDF_SHA256_MAX_OUT)
		return -VIREO_EINVAL;
	/* T(i) = HMAC(PRK, T(i-1) | info | i), with T(0) empty. */
	for (uint8_t i = 1; done < out_len; i++) {
		struct hmac_sha256 h;
		size_t take;

		hmac_sha256_init(&h, prk, SHA256_DIGEST_SIZE);
		if (i > 1)
			hmac_sha256_update(&h, t, sizeof(t));
		hmac_sha256_update(&h, info, info_len);
		hmac_sha256_update(&h, &i, 1);
		hmac_sha256_final(&h, t);
		take = MIN(out_len - done, sizeof(t));
		memcpy(dst + done, t, take);
		done += take;
	}
	secure_wipe(t, sizeof(t));
	return 0;
}
