// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the MMIO load/store decoder (hv/arch/riscv/insn.c).
 *
 * The encodings in accept_cases and reject_cases were produced once by the cross
 * assembler, not by hand: the asm text of each row was assembled with
 * `riscv64-linux-gnu-as -march=rv64imac_zicsr_zifencei` (rv64gch for the FP and
 * H rows), disassembled with `riscv64-linux-gnu-objdump -d -M numeric,no-aliases`,
 * and the expected fields were derived from the mnemonic and the disassembled
 * register. Nothing here runs the assembler.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/insn.h>

struct decode_case {
	uint64_t insn;
	bool is_store;
	bool sign_extend;
	uint8_t width;
	uint8_t reg;
	uint8_t length;
	const char *text;
};

struct reject_case {
	uint64_t insn;
	const char *text;
};

/* Every integer load/store form with several registers and offsets. */
static const struct decode_case accept_cases[] = {
    {0x00050003, false, true, 1, 0, 4, "lb zero, 0(a0)"},
    {0xfff10503, false, true, 1, 10, 4, "lb a0, -1(sp)"},
    {0x7ffd8f83, false, true, 1, 31, 4, "lb t6, 2047(s11)"},
    {0x00259083, false, true, 2, 1, 4, "lh ra, 2(a1)"},
    {0x80029d83, false, true, 2, 27, 4, "lh s11, -2048(t0)"},
    {0x0045a503, false, true, 4, 10, 4, "lw a0, 4(a1)"},
    {0x00002f83, false, true, 4, 31, 4, "lw t6, 0(zero)"},
    {0xffc4a403, false, true, 4, 8, 4, "lw s0, -4(s1)"},
    {0x00853783, false, false, 8, 15, 4, "ld a5, 8(a0)"},
    {0x01013103, false, false, 8, 2, 4, "ld sp, 16(sp)"},
    {0xff81be03, false, false, 8, 28, 4, "ld t3, -8(gp)"},
    {0x0005c503, false, false, 1, 10, 4, "lbu a0, 0(a1)"},
    {0x001fcf03, false, false, 1, 30, 4, "lbu t5, 1(t6)"},
    {0x00665583, false, false, 2, 11, 4, "lhu a1, 6(a2)"},
    {0xffa9d903, false, false, 2, 18, 4, "lhu s2, -6(s3)"},
    {0x00c6e603, false, false, 4, 12, 4, "lwu a2, 12(a3)"},
    {0x000fef83, false, false, 4, 31, 4, "lwu x31, 0(x31)"},
    {0x00050023, true, false, 1, 0, 4, "sb zero, 0(a0)"},
    {0xfea10fa3, true, false, 1, 10, 4, "sb a0, -1(sp)"},
    {0x7ffd8fa3, true, false, 1, 31, 4, "sb t6, 2047(s11)"},
    {0x00159123, true, false, 2, 1, 4, "sh ra, 2(a1)"},
    {0x81b29023, true, false, 2, 27, 4, "sh s11, -2048(t0)"},
    {0x00a5a223, true, false, 4, 10, 4, "sw a0, 4(a1)"},
    {0x01f02023, true, false, 4, 31, 4, "sw t6, 0(zero)"},
    {0xfe84ae23, true, false, 4, 8, 4, "sw s0, -4(s1)"},
    {0x00f53423, true, false, 8, 15, 4, "sd a5, 8(a0)"},
    {0x00213823, true, false, 8, 2, 4, "sd sp, 16(sp)"},
    {0xffc1bc23, true, false, 8, 28, 4, "sd t3, -8(gp)"},
    {0x01ffb023, true, false, 8, 31, 4, "sd x31, 0(x31)"},
    {0x4080, false, true, 4, 8, 2, "c.lw s0, 0(s1)"},
    {0x41c8, false, true, 4, 10, 2, "c.lw a0, 4(a1)"},
    {0x5c7c, false, true, 4, 15, 2, "c.lw a5, 124(s0)"},
    {0x43a4, false, true, 4, 9, 2, "c.lw s1, 64(a5)"},
    {0x6380, false, false, 8, 8, 2, "c.ld s0, 0(a5)"},
    {0x6690, false, false, 8, 12, 2, "c.ld a2, 8(a3)"},
    {0x7cfc, false, false, 8, 15, 2, "c.ld a5, 248(s1)"},
    {0xc100, true, false, 4, 8, 2, "c.sw s0, 0(a0)"},
    {0xc754, true, false, 4, 13, 2, "c.sw a3, 12(a4)"},
    {0xdc7c, true, false, 4, 15, 2, "c.sw a5, 124(s0)"},
    {0xe004, true, false, 8, 9, 2, "c.sd s1, 0(s0)"},
    {0xfdf8, true, false, 8, 14, 2, "c.sd a4, 248(a1)"},
    {0xeb9c, true, false, 8, 15, 2, "c.sd a5, 16(a5)"},
    {0x4082, false, true, 4, 1, 2, "c.lwsp ra, 0(sp)"},
    {0x4512, false, true, 4, 10, 2, "c.lwsp a0, 4(sp)"},
    {0x5ffe, false, true, 4, 31, 2, "c.lwsp t6, 252(sp)"},
    {0x4122, false, true, 4, 2, 2, "c.lwsp sp, 8(sp)"},
    {0x60a2, false, false, 8, 1, 2, "c.ldsp ra, 8(sp)"},
    {0x6402, false, false, 8, 8, 2, "c.ldsp s0, 0(sp)"},
    {0x7ffe, false, false, 8, 31, 2, "c.ldsp t6, 504(sp)"},
    {0x6192, false, false, 8, 3, 2, "c.ldsp gp, 256(sp)"},
    {0xc002, true, false, 4, 0, 2, "c.swsp zero, 0(sp)"},
    {0xc206, true, false, 4, 1, 2, "c.swsp ra, 4(sp)"},
    {0xdfaa, true, false, 4, 10, 2, "c.swsp a0, 252(sp)"},
    {0xc17e, true, false, 4, 31, 2, "c.swsp t6, 128(sp)"},
    {0xe002, true, false, 8, 0, 2, "c.sdsp zero, 0(sp)"},
    {0xe406, true, false, 8, 1, 2, "c.sdsp ra, 8(sp)"},
    {0xffa2, true, false, 8, 8, 2, "c.sdsp s0, 504(sp)"},
    {0xe0fe, true, false, 8, 31, 2, "c.sdsp t6, 64(sp)"},
};

/* Loads/stores that are not integer ones, and other instructions from every quadrant. */
static const struct reject_case reject_cases[] = {
    {0x0045a507, "flw fa0, 4(a1)"},
    {0x00a5a227, "fsw fa0, 4(a1)"},
    {0x00813007, "fld ft0, 8(sp)"},
    {0x00013427, "fsd ft0, 8(sp)"},
    {0x00b6252f, "amoadd.w a0, a1, (a2)"},
    {0x0e63b2af, "amoswap.d.aqrl t0, t1, (t2)"},
    {0x1005a52f, "lr.w a0, (a1)"},
    {0x18b6352f, "sc.d a0, a1, (a2)"},
    {0x00158513, "addi a0, a1, 1"},
    {0x12345537, "lui a0, 0x12345"},
    {0x000000ef, "jal ra, ."},
    {0x00000073, "ecall"},
    {0x10002573, "csrr a0, sstatus"},
    {0x0330000f, "fence rw, rw"},
    {0x0000100f, "fence.i"},
    {0x6805c573, "hlv.w a0, (a1)"},
    {0x6aa5c073, "hsv.w a0, (a1)"},
    {0x2588, "c.fld fa0, 8(a1)"},
    {0xa588, "c.fsd fa0, 8(a1)"},
    {0x2022, "c.fldsp ft0, 8(sp)"},
    {0xa402, "c.fsdsp ft0, 8(sp)"},
    {0x0808, "c.addi4spn a0, sp, 16"},
    {0x0001, "c.nop"},
    {0x0505, "c.addi a0, 1"},
    {0x4505, "c.li a0, 1"},
    {0xa001, "c.j ."},
    {0x852e, "c.mv a0, a1"},
    {0x952e, "c.add a0, a1"},
    {0x8082, "c.jr ra"},
    {0x9002, "c.ebreak"},
    {0x050e, "c.slli a0, 3"},
    /* Hand-made reserved or illegal encodings (objdump prints them as .2byte/.4byte). */
    {0x00000000, "all-zero halfword: defined illegal"},
    {0xffffffff, "all ones"},
    {0x4002, "c.lwsp x0, 0(sp): reserved (rd=0)"},
    {0x507e, "c.lwsp x0, 252(sp): reserved (rd=0)"},
    {0x6002, "c.ldsp x0, 0(sp): reserved (rd=0)"},
    {0x707e, "c.ldsp x0, 504(sp): reserved (rd=0)"},
    {0x8000, "quadrant 0 funct3=100: reserved"},
    {0x9ffc, "quadrant 0 funct3=100, other bits set: reserved"},
    {0x0045f503, "load funct3=111: reserved (would be LDU on RV128)"},
    {0x00a5c223, "store funct3=100: reserved (SQ on RV128)"},
    {0x00a5d223, "store funct3=101: reserved"},
    {0x00a5e223, "store funct3=110: reserved"},
    {0x00a5f223, "store funct3=111: reserved"},
    {0x0045a51f, "48-bit prefix (bits 5:0 = 011111)"},
    {0x0045a53f, "64-bit prefix (bits 6:0 = 0111111)"},
    {0x0045a50b, "custom-0 opcode"},
    {0x0045a50f, "MISC-MEM funct3=2 (LQ on RV128)"},
};

/*
 * htinst for the same accesses, as the Privileged spec's H chapter defines the
 * transformed instruction: the standard 32-bit encoding with the offset fields
 * (rs1 and the immediate) zeroed, and bit 1 cleared when the trapping
 * instruction was compressed. For the compressed rows the 32-bit form was
 * assembled from the expansion (c.lw a0, 4(a1) -> lw a0, 4(a1)) and then
 * transformed; the length is that of the original instruction.
 */
static const struct decode_case htinst_cases[] = {
    {0x00000003, false, true, 1, 0, 4, "lb zero, 0(a0)"},
    {0x00000503, false, true, 1, 10, 4, "lb a0, -1(sp)"},
    {0x00000f83, false, true, 1, 31, 4, "lb t6, 2047(s11)"},
    {0x00001083, false, true, 2, 1, 4, "lh ra, 2(a1)"},
    {0x00001d83, false, true, 2, 27, 4, "lh s11, -2048(t0)"},
    {0x00002503, false, true, 4, 10, 4, "lw a0, 4(a1)"},
    {0x00002f83, false, true, 4, 31, 4, "lw t6, 0(zero)"},
    {0x00002403, false, true, 4, 8, 4, "lw s0, -4(s1)"},
    {0x00003783, false, false, 8, 15, 4, "ld a5, 8(a0)"},
    {0x00003103, false, false, 8, 2, 4, "ld sp, 16(sp)"},
    {0x00003e03, false, false, 8, 28, 4, "ld t3, -8(gp)"},
    {0x00004503, false, false, 1, 10, 4, "lbu a0, 0(a1)"},
    {0x00004f03, false, false, 1, 30, 4, "lbu t5, 1(t6)"},
    {0x00005583, false, false, 2, 11, 4, "lhu a1, 6(a2)"},
    {0x00005903, false, false, 2, 18, 4, "lhu s2, -6(s3)"},
    {0x00006603, false, false, 4, 12, 4, "lwu a2, 12(a3)"},
    {0x00006f83, false, false, 4, 31, 4, "lwu x31, 0(x31)"},
    {0x00000023, true, false, 1, 0, 4, "sb zero, 0(a0)"},
    {0x00a00023, true, false, 1, 10, 4, "sb a0, -1(sp)"},
    {0x01f00023, true, false, 1, 31, 4, "sb t6, 2047(s11)"},
    {0x00101023, true, false, 2, 1, 4, "sh ra, 2(a1)"},
    {0x01b01023, true, false, 2, 27, 4, "sh s11, -2048(t0)"},
    {0x00a02023, true, false, 4, 10, 4, "sw a0, 4(a1)"},
    {0x01f02023, true, false, 4, 31, 4, "sw t6, 0(zero)"},
    {0x00802023, true, false, 4, 8, 4, "sw s0, -4(s1)"},
    {0x00f03023, true, false, 8, 15, 4, "sd a5, 8(a0)"},
    {0x00203023, true, false, 8, 2, 4, "sd sp, 16(sp)"},
    {0x01c03023, true, false, 8, 28, 4, "sd t3, -8(gp)"},
    {0x01f03023, true, false, 8, 31, 4, "sd x31, 0(x31)"},
    {0x00002401, false, true, 4, 8, 2, "c.lw s0, 0(s1)"},
    {0x00002501, false, true, 4, 10, 2, "c.lw a0, 4(a1)"},
    {0x00002781, false, true, 4, 15, 2, "c.lw a5, 124(s0)"},
    {0x00002481, false, true, 4, 9, 2, "c.lw s1, 64(a5)"},
    {0x00003401, false, false, 8, 8, 2, "c.ld s0, 0(a5)"},
    {0x00003601, false, false, 8, 12, 2, "c.ld a2, 8(a3)"},
    {0x00003781, false, false, 8, 15, 2, "c.ld a5, 248(s1)"},
    {0x00802021, true, false, 4, 8, 2, "c.sw s0, 0(a0)"},
    {0x00d02021, true, false, 4, 13, 2, "c.sw a3, 12(a4)"},
    {0x00f02021, true, false, 4, 15, 2, "c.sw a5, 124(s0)"},
    {0x00903021, true, false, 8, 9, 2, "c.sd s1, 0(s0)"},
    {0x00e03021, true, false, 8, 14, 2, "c.sd a4, 248(a1)"},
    {0x00f03021, true, false, 8, 15, 2, "c.sd a5, 16(a5)"},
    {0x00002081, false, true, 4, 1, 2, "c.lwsp ra, 0(sp)"},
    {0x00002501, false, true, 4, 10, 2, "c.lwsp a0, 4(sp)"},
    {0x00002f81, false, true, 4, 31, 2, "c.lwsp t6, 252(sp)"},
    {0x00002101, false, true, 4, 2, 2, "c.lwsp sp, 8(sp)"},
    {0x00003081, false, false, 8, 1, 2, "c.ldsp ra, 8(sp)"},
    {0x00003401, false, false, 8, 8, 2, "c.ldsp s0, 0(sp)"},
    {0x00003f81, false, false, 8, 31, 2, "c.ldsp t6, 504(sp)"},
    {0x00003181, false, false, 8, 3, 2, "c.ldsp gp, 256(sp)"},
    {0x00002021, true, false, 4, 0, 2, "c.swsp zero, 0(sp)"},
    {0x00102021, true, false, 4, 1, 2, "c.swsp ra, 4(sp)"},
    {0x00a02021, true, false, 4, 10, 2, "c.swsp a0, 252(sp)"},
    {0x01f02021, true, false, 4, 31, 2, "c.swsp t6, 128(sp)"},
    {0x00003021, true, false, 8, 0, 2, "c.sdsp zero, 0(sp)"},
    {0x00103021, true, false, 8, 1, 2, "c.sdsp ra, 8(sp)"},
    {0x00803021, true, false, 8, 8, 2, "c.sdsp s0, 504(sp)"},
    {0x01f03021, true, false, 8, 31, 2, "c.sdsp t6, 64(sp)"},
    /* The rs1 field carries an "address offset" for misaligned accesses: ignored. */
    {0x00032503, false, true, 4, 10, 4, "lw a0 with address offset 6"},
    {0x01f1b021, true, false, 8, 31, 2, "c.sdsp t6 with address offset 3"},
};

/* htinst values that carry no usable load/store: the caller must fetch the instruction. */
static const struct reject_case htinst_reject_cases[] = {
    {0, "htinst not provided"},
    {INSN_HTINST_PT_WALK_READ, "pseudo-instruction: guest page-table walk read"},
    {INSN_HTINST_PT_WALK_WRITE, "pseudo-instruction: guest page-table walk write"},
    {0x00002500, "bit 0 clear (would be lw a0 from a compressed original)"},
    {0x00002502, "bit 0 clear, bit 1 set"},
    {0x00002507, "transformed flw fa0"},
    {0x00002505, "transformed c.flw-like FP load, compressed original"},
    {0x00a02227, "transformed fsw fa0"},
    {0x00a03025, "transformed c.fsdsp-like FP store, compressed original"},
    {0x00b0252f, "transformed amoadd.w a0, a1"},
    {0x1000252f, "transformed lr.w a0"},
    {0x00007503, "transformed load funct3=111 (reserved)"},
    {0x00a04023, "transformed store funct3=100 (reserved)"},
    {0x00000073, "ecall"},
    {0x100002503ULL, "lw a0 with bits above 31 set"},
    {0x8000000000002503ULL, "lw a0 with bit 63 set"},
    {UINT64_MAX, "all ones"},
};

static void check_access(const struct insn_mmio *got, const struct decode_case *want,
			 uint64_t input, const char *what)
{
	if (got->is_store != want->is_store || got->sign_extend != want->sign_extend ||
	    got->width != want->width || got->reg != want->reg || got->length != want->length)
		fail_msg("%s 0x%llx (%s): got store=%d sext=%d width=%u reg=%u len=%u, "
			 "want store=%d sext=%d width=%u reg=%u len=%u",
			 what, (unsigned long long)input, want->text, got->is_store,
			 got->sign_extend, got->width, got->reg, got->length, want->is_store,
			 want->sign_extend, want->width, want->reg, want->length);
}

static void check_decode(uint32_t insn, const struct decode_case *want)
{
	struct insn_mmio got;
	int ret;

	memset(&got, 0xa5, sizeof(got));
	ret = insn_decode_mmio(insn, &got);
	if (ret != 0)
		fail_msg("decode 0x%08x (%s): returned %d", insn, want->text, ret);
	check_access(&got, want, insn, "decode");
}

static void test_decode_accepts_every_form(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(accept_cases); i++)
		check_decode((uint32_t)accept_cases[i].insn, &accept_cases[i]);
}

/*
 * The exit path fetches two halfwords at sepc whatever the instruction is, so a
 * compressed instruction arrives with the next instruction (or anything else,
 * e.g. at the end of a page) in the upper halfword; it must be ignored.
 */
static void test_decode_compressed_ignores_upper_halfword(void **state)
{
	static const uint32_t upper[] = {0x0000, 0xffff, 0xdead, 0x0003, 0x2503, 0xc002, 0x8000};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(accept_cases); i++) {
		if (accept_cases[i].length != 2)
			continue;
		for (size_t j = 0; j < ARRAY_SIZE(upper); j++)
			check_decode((uint32_t)accept_cases[i].insn | upper[j] << 16,
				     &accept_cases[i]);
	}
}

static void check_reject(int (*decode)(uint64_t, struct insn_mmio *), const struct reject_case *c)
{
	struct insn_mmio got, untouched;
	int ret;

	memset(&got, 0xa5, sizeof(got));
	memcpy(&untouched, &got, sizeof(got));
	ret = decode(c->insn, &got);
	if (ret != -VIREO_EINVAL)
		fail_msg("0x%llx (%s): returned %d, want %d", (unsigned long long)c->insn, c->text,
			 ret, -VIREO_EINVAL);
	if (memcmp(&got, &untouched, sizeof(got)) != 0)
		fail_msg("0x%llx (%s): output written on failure", (unsigned long long)c->insn,
			 c->text);
}

static int decode_mmio_wide(uint64_t insn, struct insn_mmio *out)
{
	return insn_decode_mmio((uint32_t)insn, out);
}

static void test_decode_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(reject_cases); i++)
		check_reject(decode_mmio_wide, &reject_cases[i]);
}

/* Reserved and FP compressed forms stay rejected whatever follows them. */
static void test_decode_rejects_compressed_with_upper_halfword(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(reject_cases); i++) {
		struct reject_case c = reject_cases[i];

		if (insn_length((uint32_t)c.insn) != 2)
			continue;
		c.insn |= 0x2503u << 16; /* the low half of "lw a0, ..." */
		check_reject(decode_mmio_wide, &c);
	}
}

/*
 * Every 16-bit encoding. The expected counts come from disassembling all 49152
 * halfwords with bits 1:0 != 11 with objdump: 2048 each of c.lw c.ld c.sw c.sd
 * c.swsp c.sdsp, 1984 each of c.lwsp c.ldsp (the 64 with rd=0 are reserved).
 */
static void test_decode_all_compressed(void **state)
{
	/* Indexed by quadrant (0 or 2) / 2, is_store, width == 8. */
	static const unsigned want[2][2][2] = {{{2048, 2048}, {2048, 2048}},
					       {{1984, 1984}, {2048, 2048}}};
	unsigned count[2][2][2] = {0};
	unsigned total = 0;

	(void)state;
	for (uint32_t insn = 0; insn < 0x10000; insn++) {
		struct insn_mmio a, b;
		unsigned quadrant = insn & 3;

		if (quadrant == 3)
			continue;
		if (insn_decode_mmio(insn, &a) != 0) {
			assert_int_equal(insn_decode_mmio(insn | 0x12340000u, &b), -VIREO_EINVAL);
			continue;
		}
		assert_true(quadrant == 0 || quadrant == 2);
		assert_int_equal(a.length, 2);
		assert_true(a.width == 4 || a.width == 8);
		assert_int_equal(a.sign_extend, !a.is_store && a.width == 4);
		if (quadrant == 0)
			assert_in_range(a.reg, 8, 15);
		else if (!a.is_store)
			assert_int_not_equal(a.reg, 0);
		assert_int_equal(insn_decode_mmio(insn | 0xfedc0000u, &b), 0);
		assert_memory_equal(&a, &b, sizeof(a));
		count[quadrant / 2][a.is_store][a.width == 8]++;
		total++;
	}
	assert_memory_equal(count, want, sizeof(count));
	assert_int_equal(total, 16256);
}

/* Exactly the eleven opcode/funct3 pairs of RV64I loads and stores decode as 32-bit forms. */
static void test_decode_all_32bit_opcodes(void **state)
{
	unsigned accepted = 0;

	(void)state;
	for (uint32_t opcode = 3; opcode < 0x80; opcode += 4) {
		for (uint32_t funct3 = 0; funct3 < 8; funct3++) {
			/* Fill the register and immediate fields with a mix of ones and zeros. */
			uint32_t insn = (0xa5a5a5a5u & ~0x707fu) | funct3 << 12 | opcode;
			struct insn_mmio a;

			if (insn_decode_mmio(insn, &a) != 0)
				continue;
			assert_true((opcode == 0x03 && funct3 != 7) ||
				    (opcode == 0x23 && funct3 < 4));
			assert_int_equal(a.length, 4);
			accepted++;
		}
	}
	assert_int_equal(accepted, 11);
}

static void test_htinst_transformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(htinst_cases); i++) {
		const struct decode_case *c = &htinst_cases[i];
		struct insn_mmio got;
		int ret;

		memset(&got, 0xa5, sizeof(got));
		ret = insn_decode_htinst(c->insn, &got);
		if (ret != 0)
			fail_msg("htinst 0x%llx (%s): returned %d", (unsigned long long)c->insn,
				 c->text, ret);
		check_access(&got, c, c->insn, "htinst");
	}
}

/* htinst and the fetched instruction must agree on everything. */
static void test_htinst_matches_fetched_decode(void **state)
{
	(void)state;
	assert_int_equal(ARRAY_SIZE(htinst_cases), ARRAY_SIZE(accept_cases) + 2);
	for (size_t i = 0; i < ARRAY_SIZE(accept_cases); i++) {
		struct insn_mmio from_insn, from_htinst;

		assert_int_equal(insn_decode_mmio((uint32_t)accept_cases[i].insn, &from_insn), 0);
		assert_int_equal(insn_decode_htinst(htinst_cases[i].insn, &from_htinst), 0);
		assert_memory_equal(&from_insn, &from_htinst, sizeof(from_insn));
	}
}

static void test_htinst_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(htinst_reject_cases); i++)
		check_reject(insn_decode_htinst, &htinst_reject_cases[i]);
}

struct extend_case {
	struct insn_mmio access;
	uint64_t raw;
	uint64_t want;
	const char *text;
};

#define LOAD(w, s)                                                                                 \
	{                                                                                          \
		.is_store = false, .sign_extend = (s), .width = (w), .length = 4                   \
	}
#define STORE(w)                                                                                   \
	{                                                                                          \
		.is_store = true, .sign_extend = false, .width = (w), .length = 4                  \
	}

static const struct extend_case extend_cases[] = {
    {LOAD(1, true), 0x80, 0xffffffffffffff80ULL, "lb, top bit set"},
    {LOAD(1, true), 0xff, UINT64_MAX, "lb -1"},
    {LOAD(1, true), 0x7f, 0x7f, "lb, top bit clear"},
    {LOAD(1, true), 0xdeadbeefcafe1280ULL, 0xffffffffffffff80ULL, "lb, garbage above"},
    {LOAD(1, true), 0xffffffffffffff7fULL, 0x7f, "lb, ones above, top bit clear"},
    {LOAD(1, false), 0x80, 0x80, "lbu, top bit set"},
    {LOAD(1, false), 0xffffffffffffffffULL, 0xff, "lbu, ones above"},
    {LOAD(2, true), 0x8000, 0xffffffffffff8000ULL, "lh, top bit set"},
    {LOAD(2, true), 0x12348001, 0xffffffffffff8001ULL, "lh, garbage above"},
    {LOAD(2, true), 0xffff7fff, 0x7fff, "lh, top bit clear"},
    {LOAD(2, false), 0xffff8001, 0x8001, "lhu, top bit set"},
    {LOAD(4, true), 0x80000000, 0xffffffff80000000ULL, "lw, top bit set"},
    {LOAD(4, true), 0xdeadbeef80000001ULL, 0xffffffff80000001ULL, "lw, garbage above"},
    {LOAD(4, true), 0xffffffff7fffffffULL, 0x7fffffff, "lw, top bit clear"},
    {LOAD(4, false), 0xdeadbeef80000000ULL, 0x80000000, "lwu, top bit set"},
    {LOAD(4, false), 0xffffffff, 0xffffffff, "lwu all ones"},
    {LOAD(8, false), 0x8000000000000000ULL, 0x8000000000000000ULL, "ld, top bit set"},
    {LOAD(8, false), 0x0123456789abcdefULL, 0x0123456789abcdefULL, "ld"},
    {LOAD(8, true), 0x8000000000000001ULL, 0x8000000000000001ULL, "ld flagged signed"},
    {STORE(1), 0xffffffffffffff80ULL, 0x80, "sb, top bit set"},
    {STORE(1), 0x1234, 0x34, "sb"},
    {STORE(2), 0xffffffffffff8000ULL, 0x8000, "sh, top bit set"},
    {STORE(4), 0xffffffff80000000ULL, 0x80000000, "sw, top bit set"},
    {STORE(4), 0x123456789abcdef0ULL, 0x9abcdef0, "sw"},
    {STORE(8), 0xfedcba9876543210ULL, 0xfedcba9876543210ULL, "sd"},
    /* A store never sign-extends, even if the flag were set. */
    {{.is_store = true, .sign_extend = true, .width = 1}, 0xff, 0xff, "sb flagged signed"},
};

static void test_load_extend(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(extend_cases); i++) {
		const struct extend_case *c = &extend_cases[i];
		uint64_t got = insn_load_extend(&c->access, c->raw);

		if (got != c->want)
			fail_msg("%s: extend 0x%llx gave 0x%llx, want 0x%llx", c->text,
				 (unsigned long long)c->raw, (unsigned long long)got,
				 (unsigned long long)c->want);
	}
}

/* The decoder's flags and insn_load_extend together give what the guest register gets. */
static void test_decode_then_extend(void **state)
{
	static const struct {
		uint32_t insn;
		uint64_t raw;
		uint64_t want;
		const char *text;
	} cases[] = {
	    {0xfff10503, 0xa5a5a5a5a5a5a580ULL, 0xffffffffffffff80ULL, "lb a0, -1(sp)"},
	    {0x0005c503, 0xa5a5a5a5a5a5a580ULL, 0x80, "lbu a0, 0(a1)"},
	    {0x00259083, 0x00000000ffff8765ULL, 0xffffffffffff8765ULL, "lh ra, 2(a1)"},
	    {0x00665583, 0x00000000ffff8765ULL, 0x8765, "lhu a1, 6(a2)"},
	    {0x0045a503, 0x1111111180000000ULL, 0xffffffff80000000ULL, "lw a0, 4(a1)"},
	    {0x00c6e603, 0x1111111180000000ULL, 0x80000000, "lwu a2, 12(a3)"},
	    {0x00853783, 0x8000000000000000ULL, 0x8000000000000000ULL, "ld a5, 8(a0)"},
	    {0x41c8, 0x1111111180000000ULL, 0xffffffff80000000ULL, "c.lw a0, 4(a1)"},
	    {0x5ffe, 0x00000000fffffffeULL, UINT64_MAX - 1, "c.lwsp t6, 252(sp)"},
	    {0x7ffe, 0x8000000000000000ULL, 0x8000000000000000ULL, "c.ldsp t6, 504(sp)"},
	    {0xfea10fa3, 0xffffffffffffff80ULL, 0x80, "sb a0, -1(sp)"},
	    {0xc206, 0xffffffff80000000ULL, 0x80000000, "c.swsp ra, 4(sp)"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct insn_mmio access;
		uint64_t got;

		assert_int_equal(insn_decode_mmio(cases[i].insn, &access), 0);
		got = insn_load_extend(&access, cases[i].raw);
		if (got != cases[i].want)
			fail_msg("%s: 0x%llx gave 0x%llx, want 0x%llx", cases[i].text,
				 (unsigned long long)cases[i].raw, (unsigned long long)got,
				 (unsigned long long)cases[i].want);
	}
}

static void test_insn_length(void **state)
{
	(void)state;
	assert_int_equal(insn_length(0x0045a503), 4);
	assert_int_equal(insn_length(0x41c8), 2);
	assert_int_equal(insn_length(0xc002), 2);
	assert_int_equal(insn_length(0x6002), 2);
	assert_int_equal(insn_length(0xffff0001), 2);
}

/* Read or write, for any memory instruction (the page-table-walk exit needs it). */
static void test_access_kind(void **state)
{
	static const struct {
		uint32_t insn;
		int kind;
	} cases[] = {
	    {0x0005b503, 0},  /* ld a0,0(a1) */
	    {0x00a5b023, 1},  /* sd a0,0(a1) */
	    {0x0005b507, 0},  /* fld fa0,0(a1) */
	    {0x00a5b027, 1},  /* fsd fa0,0(a1) */
	    {0x00b5302f, 1},  /* amoadd.d zero,a1,(a0) */
	    {0x1005b52f, 0},  /* lr.d a0,(a1) */
	    {0x18b5352f, 1},  /* sc.d a0,a1,(a0) */
	    {0x6188, 0},      /* c.ld a0,0(a1) */
	    {0xe188, 1},      /* c.sd a0,0(a1) */
	    {0x4502, 0},      /* c.lwsp a0,0(sp) */
	    {0xc02a, 1},      /* c.swsp a0,0(sp) */
	    {0xa02a, 1},      /* c.fsdsp fa0,0(sp) */
	    {0x2188, 0},      /* c.fld fa0,0(a1) */
	    {0x0028, -1},     /* c.addi4spn */
	    {0x0505, -1},     /* c.addi (quadrant 1) */
	    {0x00b50533, -1}, /* add a0,a0,a1 */
	    {0x10500073, -1}, /* wfi */
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(insn_access_kind(cases[i].insn), cases[i].kind);
}

/* Zicsr instructions: which CSR, which register, which side effects. */
static void test_decode_csr(void **state)
{
	struct insn_csr c;

	(void)state;
	/* csrr a0, sireg = csrrs a0, 0x151, x0: reads, does not write. */
	assert_int_equal(insn_decode_csr(0x15102573, &c), 0);
	assert_int_equal(c.csr, 0x151);
	assert_int_equal(c.rd, 10);
	assert_int_equal(c.op, INSN_CSR_RS);
	assert_false(c.imm);
	assert_int_equal(c.src, 0);
	assert_true(c.reads);
	assert_false(c.writes);
	/* csrw sireg, a1 = csrrw x0, 0x151, a1: writes, does not read. */
	assert_int_equal(insn_decode_csr(0x15159073, &c), 0);
	assert_int_equal(c.op, INSN_CSR_RW);
	assert_int_equal(c.rd, 0);
	assert_int_equal(c.src, 11);
	assert_true(c.writes);
	assert_false(c.reads);
	/* csrrw a0, stopei, zero: the claim Linux makes (reads and writes). */
	assert_int_equal(insn_decode_csr(0x15c01573, &c), 0);
	assert_int_equal(c.csr, 0x15c);
	assert_true(c.reads && c.writes);
	/* csrrci a2, sireg, 3: clear bits 0 and 1, immediate. */
	assert_int_equal(insn_decode_csr(0x1511f673, &c), 0);
	assert_int_equal(c.op, INSN_CSR_RC);
	assert_true(c.imm);
	assert_int_equal(c.src, 3);
	assert_int_equal(c.rd, 12);
	assert_true(c.writes);
	/* csrrsi x0, sireg, 0: neither writes; it still reads (rd only says where to). */
	assert_int_equal(insn_decode_csr(0x15106073, &c), 0);
	assert_true(c.reads);
	assert_false(c.writes);
	/* Not CSR instructions: wfi, ecall, a load, funct3 4. */
	assert_int_equal(insn_decode_csr(0x10500073, &c), -VIREO_EINVAL);
	assert_int_equal(insn_decode_csr(0x00000073, &c), -VIREO_EINVAL);
	assert_int_equal(insn_decode_csr(0x00052503, &c), -VIREO_EINVAL);
	assert_int_equal(insn_decode_csr(0x15104073, &c), -VIREO_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_accepts_every_form),
	    cmocka_unit_test(test_decode_compressed_ignores_upper_halfword),
	    cmocka_unit_test(test_decode_rejects),
	    cmocka_unit_test(test_decode_rejects_compressed_with_upper_halfword),
	    cmocka_unit_test(test_decode_all_compressed),
	    cmocka_unit_test(test_decode_all_32bit_opcodes),
	    cmocka_unit_test(test_htinst_transformed),
	    cmocka_unit_test(test_htinst_matches_fetched_decode),
	    cmocka_unit_test(test_htinst_rejects),
	    cmocka_unit_test(test_load_extend),
	    cmocka_unit_test(test_decode_then_extend),
	    cmocka_unit_test(test_insn_length),
	    cmocka_unit_test(test_access_kind),
	    cmocka_unit_test(test_decode_csr),
	};

	return cmocka_run_group_tests_name("insn", tests, NULL, NULL);
}
