// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the MMIO instruction decoder. The input is read as
 * little-endian: a 32-bit instruction word, a 64-bit htinst, a 64-bit raw value.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ihv/include -DVIREO_HOST_TEST \
 *	hv/arch/riscv/insn.c tests/fuzz/fuzz_insn.c -o build/fuzz_insn
 *   build/fuzz_insn -max_total_time=30
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/insn.h>

#define FUZZ_CHECK(cond, what, value)                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s 0x%llx: %s failed\n", what,                            \
				(unsigned long long)(value), #cond);                               \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static uint64_t fuzz_width_mask(unsigned width)
{
	return width == 8 ? UINT64_MAX : (UINT64_C(1) << (width * 8)) - 1;
}

/* What holds for any successful decode, wherever it came from. */
static void fuzz_check_access(const struct insn_mmio *a, const char *what, uint64_t input,
			      uint64_t raw)
{
	uint64_t mask, value;

	FUZZ_CHECK(a->length == 2 || a->length == 4, what, input);
	FUZZ_CHECK(a->width == 1 || a->width == 2 || a->width == 4 || a->width == 8, what, input);
	FUZZ_CHECK(a->reg < 32, what, input);
	FUZZ_CHECK(!a->is_store || !a->sign_extend, what, input);

	mask = fuzz_width_mask(a->width);
	value = insn_load_extend(a, raw);
	/* The low bytes are always the device's; the rest is all zeros or all sign bits. */
	FUZZ_CHECK((value & mask) == (raw & mask), what, input);
	if (a->sign_extend && a->width < 8 && (raw & (mask ^ (mask >> 1))))
		FUZZ_CHECK((value & ~mask) == ~mask, what, input);
	else
		FUZZ_CHECK((value & ~mask) == 0, what, input);
}

static void fuzz_mmio(uint32_t insn, uint64_t raw)
{
	struct insn_mmio a, b, untouched;
	int ret;

	memset(&a, 0x5a, sizeof(a));
	untouched = a;
	ret = insn_decode_mmio(insn, &a);
	FUZZ_CHECK(ret == 0 || ret == -VIREO_EINVAL, "insn", insn);
	if (ret) {
		FUZZ_CHECK(!memcmp(&a, &untouched, sizeof(a)), "insn", insn);
		return;
	}
	fuzz_check_access(&a, "insn", insn, raw);
	FUZZ_CHECK(a.length == insn_length(insn), "insn", insn);
	if (a.length == 4)
		return;
	/* A compressed instruction does not depend on the halfword that follows it. */
	FUZZ_CHECK(insn_decode_mmio(insn ^ 0xffff0000u, &b) == 0, "insn", insn);
	FUZZ_CHECK(!memcmp(&a, &b, sizeof(a)), "insn", insn);
	FUZZ_CHECK(a.width == 4 || a.width == 8, "insn", insn);
	if ((insn & 3) == 0)
		FUZZ_CHECK(a.reg >= 8 && a.reg <= 15, "insn", insn);
}

static void fuzz_htinst(uint64_t htinst, uint64_t raw)
{
	struct insn_mmio a, b, untouched;
	int ret;

	memset(&a, 0x5a, sizeof(a));
	untouched = a;
	ret = insn_decode_htinst(htinst, &a);
	FUZZ_CHECK(ret == 0 || ret == -VIREO_EINVAL, "htinst", htinst);
	if (ret) {
		FUZZ_CHECK(!memcmp(&a, &untouched, sizeof(a)), "htinst", htinst);
		return;
	}
	fuzz_check_access(&a, "htinst", htinst, raw);
	FUZZ_CHECK((htinst & 1) && !(htinst >> 32), "htinst", htinst);
	FUZZ_CHECK(a.length == ((htinst & 2) ? 4 : 2), "htinst", htinst);
	/* Apart from the length it is the same access as the 32-bit instruction. */
	FUZZ_CHECK(insn_decode_mmio((uint32_t)htinst | 2, &b) == 0, "htinst", htinst);
	b.length = a.length;
	FUZZ_CHECK(!memcmp(&a, &b, sizeof(a)), "htinst", htinst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[20] = {0};
	uint32_t insn;
	uint64_t htinst, raw;

	memcpy(buf, data, size < sizeof(buf) ? size : sizeof(buf));
	memcpy(&insn, buf, sizeof(insn));
	memcpy(&htinst, buf + 4, sizeof(htinst));
	memcpy(&raw, buf + 12, sizeof(raw));

	fuzz_mmio(insn, raw);
	fuzz_htinst(htinst, raw);
	/* Random 64-bit values rarely have a clear upper half: try the 32-bit views too. */
	fuzz_htinst((uint32_t)htinst, raw);
	fuzz_htinst(insn, raw);
	fuzz_htinst(insn | 1, raw);
	return 0;
}
