# SPDX-License-Identifier: BSD-2-Clause
# SHA-256, HMAC-SHA-256 and HKDF-SHA-256 against the NIST and RFC 4231 / 5869 vectors.
UNIT_TESTS += crypto
UNIT_SRCS_crypto := hv/lib/sha256.c hv/lib/hkdf.c tests/unit/test_crypto.c
UNIT_DEPS_crypto := hv/include/vireo/sha256.h hv/include/vireo/hkdf.h
UNIT_EXTRA_crypto := -fno-sanitize-recover=all
