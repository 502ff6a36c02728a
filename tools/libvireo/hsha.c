// SPDX-License-Identifier: BSD-2-Clause
/* SHA-256 for snapshot files, on Nettle; see hsha.h. */
#include "hsha.h"

void hsha_init(struct hsha *h)
{
	sha256_init(&h->ctx);
}

void hsha_update(struct hsha *h, const void *data, size_t len)
{
	sha256_update(&h->ctx, len, data);
}

void hsha_final(struct hsha *h, uint8_t out[HSHA_DIGEST_SIZE])
{
	sha256_digest(&h->ctx, HSHA_DIGEST_SIZE, out);
}

void hsha(const void *data, size_t len, uint8_t out[HSHA_DIGEST_SIZE])
{
	struct hsha h;

	hsha_init(&h);
	hsha_update(&h, data, len);
	hsha_final(&h, out);
}
