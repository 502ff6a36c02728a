// SPDX-License-Identifier: BSD-2-Clause
/* SHA-256 with the x86-64 SHA extensions when the CPU has them; see hsha.h. */
#include <string.h>

#include "hsha.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static const uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/*
 * Whole 64-byte blocks. The extensions keep the working variables as two vectors,
 * ABEF and CDGH; sha256rnds2 does two rounds, msg1/msg2 the message schedule four
 * words at a time (Intel's "SHA extensions" paper has the shape).
 */
__attribute__((target("sha,sse4.1,ssse3"))) static void
compress_ni(uint32_t state[8], const uint8_t *data, size_t blocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i s0, s1, tmp, msg, m[4], save0, save1;

	tmp = _mm_loadu_si128((const __m128i *)&state[0]); /* A B C D (lane 0 = A) */
	s1 = _mm_loadu_si128((const __m128i *)&state[4]);  /* E F G H */
	tmp = _mm_shuffle_epi32(tmp, 0xB1);
	s1 = _mm_shuffle_epi32(s1, 0x1B);
	s0 = _mm_alignr_epi8(tmp, s1, 8);    /* ABEF */
	s1 = _mm_blend_epi16(s1, tmp, 0xF0); /* CDGH */
	for (; blocks; blocks--, data += 64) {
		save0 = s0;
		save1 = s1;
#pragma GCC unroll 16
		for (unsigned g = 0; g < 16; g++) {
			if (g < 4)
				m[g] = _mm_shuffle_epi8(
				    _mm_loadu_si128((const __m128i *)(data + 16 * g)), bswap);
			msg =
			    _mm_add_epi32(m[g % 4], _mm_loadu_si128((const __m128i *)&k256[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
			if (g >= 3 && g < 15) {
				tmp = _mm_alignr_epi8(m[g % 4], m[(g + 3) % 4], 4);
				m[(g + 1) % 4] = _mm_add_epi32(m[(g + 1) % 4], tmp);
				m[(g + 1) % 4] = _mm_sha256msg2_epu32(m[(g + 1) % 4], m[g % 4]);
			}
			msg = _mm_shuffle_epi32(msg, 0x0E);
			s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
			if (g >= 1 && g < 13)
				m[(g + 3) % 4] = _mm_sha256msg1_epu32(m[(g + 3) % 4], m[g % 4]);
		}
		s0 = _mm_add_epi32(s0, save0);
		s1 = _mm_add_epi32(s1, save1);
	}
	tmp = _mm_shuffle_epi32(s0, 0x1B);
	s1 = _mm_shuffle_epi32(s1, 0xB1);
	s0 = _mm_blend_epi16(tmp, s1, 0xF0);
	s1 = _mm_alignr_epi8(s1, tmp, 8);
	_mm_storeu_si128((__m128i *)&state[0], s0);
	_mm_storeu_si128((__m128i *)&state[4], s1);
}

static bool cpu_has_sha(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)); /* SHA */
}
#else
static void compress_ni(uint32_t state[8], const uint8_t *data, size_t blocks)
{
	(void)state;
	(void)data;
	(void)blocks;
}

static bool cpu_has_sha(void)
{
	return false;
}
#endif

static int fast_state = -1; /* -1: not asked yet */

bool hsha_fast_available(void)
{
	return cpu_has_sha();
}

void hsha_set_fast(bool on)
{
	fast_state = on && cpu_has_sha();
}

void hsha_init(struct hsha *h)
{
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	if (fast_state < 0)
		fast_state = cpu_has_sha();
	memset(h, 0, sizeof(*h));
	h->fast = fast_state;
	if (!h->fast)
		sha256_init(&h->ref);
	memcpy(h->state, h0, sizeof(h0));
}

void hsha_update(struct hsha *h, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!h->fast) {
		sha256_update(&h->ref, data, len);
		return;
	}
	h->length += len;
	if (h->used) {
		size_t n = SHA256_BLOCK_SIZE - h->used < len ? SHA256_BLOCK_SIZE - h->used : len;

		memcpy(h->block + h->used, p, n);
		h->used += n;
		p += n;
		len -= n;
		if (h->used < SHA256_BLOCK_SIZE)
			return;
		compress_ni(h->state, h->block, 1);
		h->used = 0;
	}
	if (len >= SHA256_BLOCK_SIZE) {
		compress_ni(h->state, p, len / SHA256_BLOCK_SIZE);
		p += len / SHA256_BLOCK_SIZE * SHA256_BLOCK_SIZE;
		len %= SHA256_BLOCK_SIZE;
	}
	memcpy(h->block, p, len);
	h->used = len;
}

void hsha_final(struct hsha *h, uint8_t out[SHA256_DIGEST_SIZE])
{
	uint64_t bits = h->length * 8;

	if (!h->fast) {
		sha256_final(&h->ref, out);
		return;
	}
	h->block[h->used++] = 0x80;
	if (h->used > 56) {
		memset(h->block + h->used, 0, SHA256_BLOCK_SIZE - h->used);
		compress_ni(h->state, h->block, 1);
		h->used = 0;
	}
	memset(h->block + h->used, 0, 56 - h->used);
	for (unsigned i = 0; i < 8; i++)
		h->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	compress_ni(h->state, h->block, 1);
	for (unsigned i = 0; i < 8; i++)
		for (unsigned j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(h->state[i] >> (24 - 8 * j));
	memset(h, 0, sizeof(*h));
}

void hsha(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE])
{
	struct hsha h;

	hsha_init(&h);
	hsha_update(&h, data, len);
	hsha_final(&h, out);
}
