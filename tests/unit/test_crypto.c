// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of hv/lib/sha256.c and hv/lib/hkdf.c: the FIPS 180-2 example
 * messages, messages around the padding boundaries, RFC 4231 (HMAC-SHA-256)
 * and RFC 5869 (HKDF-SHA-256) test cases, and the API's edges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/hkdf.h>
#include <vireo/sha256.h>

/* "0a1b..." into bytes; returns the length. */
static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void expect_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[512];
	size_t n = unhex(want_hex, want, sizeof(want));

	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

static void expect_sha256(const void *msg, size_t len, const char *want)
{
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256(msg, len, d);
	expect_hex(d, sizeof(d), want);
}

/* ---------------------------------------------------------------- SHA-256 */

static void test_sha256_fips_examples(void **state)
{
	(void)state;
	expect_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	expect_sha256(two, strlen(two),
		      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	const char *four = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
			   "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	expect_sha256(four, strlen(four),
		      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_sha256_million_a_in_odd_pieces(void **state)
{
	static uint8_t a[1000];
	struct sha256 s;
	uint8_t d[SHA256_DIGEST_SIZE];
	size_t left = 1000000, piece = 1;

	(void)state;
	memset(a, 'a', sizeof(a));
	sha256_init(&s);
	/* Pieces of every size 1..999 cross the block boundary at every offset. */
	while (left) {
		size_t n = piece < left ? piece : left;
		sha256_update(&s, a, n);
		left -= n;
		piece = piece % 999 + 1;
	}
	sha256_final(&s, d);
	expect_hex(d, sizeof(d),
		   "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths where the padding needs one more block, or just does not. */
static void test_sha256_padding_boundaries(void **state)
{
	static const struct {
		size_t len;
		const char *digest;
	} cases[] = {
	    {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
	    {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
	    {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
	    {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
	    {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
	    {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
	    {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
	};
	uint8_t msg[128];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_sha256(msg, cases[i].len, cases[i].digest);
}

static void test_sha256_final_wipes_the_context(void **state)
{
	struct sha256 s;
	uint8_t d[SHA256_DIGEST_SIZE];
	static const uint8_t zero[sizeof(struct sha256)];

	(void)state;
	sha256_init(&s);
	sha256_update(&s, "secret", 6);
	sha256_final(&s, d);
	assert_memory_equal(&s, zero, sizeof(s));
}

/* ---------------------------------------------------------------- HMAC (RFC 4231) */

static void expect_hmac(const char *key_hex, const void *data, size_t len, const char *want)
{
	uint8_t key[256], mac[SHA256_DIGEST_SIZE];
	size_t klen = unhex(key_hex, key, sizeof(key));

	hmac_sha256(key, klen, data, len, mac);
	expect_hex(mac, sizeof(mac), want);
}

static void test_hmac_rfc4231(void **state)
{
	char aa131[2 * 131 + 1];
	uint8_t dd[50];

	(void)state;
	/* Test case 1: a 20-byte key. */
	expect_hmac("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", 8,
		    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* Test case 2: a key shorter than the output. */
	expect_hmac("4a656665", "what do ya want for nothing?", 28,
		    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Test case 3: 50 bytes of 0xdd under 20 bytes of 0xaa. */
	memset(dd, 0xdd, sizeof(dd));
	expect_hmac("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", dd, sizeof(dd),
		    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	/* Test cases 6 and 7: a key longer than a block is hashed first. */
	for (int i = 0; i < 131; i++)
		memcpy(aa131 + 2 * i, "aa", 2);
	aa131[262] = '\0';
	const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	expect_hmac(aa131, t6, strlen(t6),
		    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	const char *t7 = "This is a test using a larger than block-size key and a larger than "
			 "block-size data. The key needs to be hashed before being used by the "
			 "HMAC algorithm.";
	expect_hmac(aa131, t7, strlen(t7),
		    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void test_hmac_in_pieces_equals_one_call(void **state)
{
	struct hmac_sha256 h;
	uint8_t a[SHA256_DIGEST_SIZE], b[SHA256_DIGEST_SIZE];
	const char *msg = "what do ya want for nothing?";

	(void)state;
	hmac_sha256("Jefe", 4, msg, strlen(msg), a);
	hmac_sha256_init(&h, "Jefe", 4);
	for (const char *p = msg; *p; p++)
		hmac_sha256_update(&h, p, 1);
	hmac_sha256_final(&h, b);
	assert_memory_equal(a, b, sizeof(a));
}

/* ---------------------------------------------------------------- HKDF (RFC 5869) */

struct hkdf_case {
	const char *ikm, *salt, *info;
	size_t len;
	const char *prk, *okm;
};

static void run_hkdf(const struct hkdf_case *c)
{
	uint8_t ikm[128], salt[128], info[128], prk[SHA256_DIGEST_SIZE], okm[128];
	size_t ni = unhex(c->ikm, ikm, sizeof(ikm));
	size_t ns = unhex(c->salt, salt, sizeof(salt));
	size_t nf = unhex(c->info, info, sizeof(info));

	hkdf_sha256_extract(ns ? salt : NULL, ns, ikm, ni, prk);
	expect_hex(prk, sizeof(prk), c->prk);
	assert_int_equal(hkdf_sha256_expand(prk, info, nf, okm, c->len), 0);
	expect_hex(okm, c->len, c->okm);
}

static void test_hkdf_rfc5869(void **state)
{
	static const struct hkdf_case cases[] = {
	    /* A.1: basic. */
	    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
	     "f0f1f2f3f4f5f6f7f8f9", 42,
	     "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
	     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b8871858"
	     "65"},
	    /* A.2: longer inputs and output (three blocks). */
	    {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728"
	     "292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
	     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788"
	     "898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
	     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8"
	     "d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
	     82, "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
	     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac78272"
	     "71cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f"
	     "1d87"},
	    /* A.3: no salt, no info. */
	    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
	     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
	     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96"
	     "c8"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_hkdf(&cases[i]);
}

static void test_hkdf_output_limits(void **state)
{
	static uint8_t out[HKDF_SHA256_MAX_OUT + 1];
	uint8_t prk[SHA256_DIGEST_SIZE] = {1, 2, 3}, short_out[10];

	(void)state;
	assert_int_equal(hkdf_sha256_expand(prk, "x", 1, out, HKDF_SHA256_MAX_OUT), 0);
	assert_int_equal(hkdf_sha256_expand(prk, "x", 1, out, HKDF_SHA256_MAX_OUT + 1),
			 -VIREO_EINVAL);
	/* A shorter output is a prefix of a longer one (same PRK and info). */
	assert_int_equal(hkdf_sha256_expand(prk, "x", 1, short_out, sizeof(short_out)), 0);
	assert_memory_equal(short_out, out, sizeof(short_out));
	assert_int_equal(hkdf_sha256_expand(prk, "x", 1, out, 0), 0);
}

static void test_hkdf_info_separates_outputs(void **state)
{
	uint8_t prk[SHA256_DIGEST_SIZE] = {9}, a[64], b[64];

	(void)state;
	hkdf_sha256_expand(prk, "vm 1", 4, a, sizeof(a));
	hkdf_sha256_expand(prk, "vm 2", 4, b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_fips_examples),
	    cmocka_unit_test(test_sha256_million_a_in_odd_pieces),
	    cmocka_unit_test(test_sha256_padding_boundaries),
	    cmocka_unit_test(test_sha256_final_wipes_the_context),
	    cmocka_unit_test(test_hmac_rfc4231),
	    cmocka_unit_test(test_hmac_in_pieces_equals_one_call),
	    cmocka_unit_test(test_hkdf_rfc5869),
	    cmocka_unit_test(test_hkdf_output_limits),
	    cmocka_unit_test(test_hkdf_info_separates_outputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
