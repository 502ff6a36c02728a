// SPDX-License-Identifier: BSD-2-Clause
/*
 * Decode of the guest loads and stores that trap on MMIO.
 *
 * htinst is often 0 (QEMU 7.2 leaves it so on most guest page faults), so the
 * exit path usually hands us the instruction it fetched from guest memory. Only
 * integer loads and stores are emulated: an FP or atomic access to a device is
 * a guest bug, and the caller turns -VIREO_EINVAL into a fault for the guest.
 *
 * On failure *out is left untouched.
 */
#include <vireo/insn.h>

/* Major opcodes (bits 6:0) of the 32-bit integer loads and stores. */
#define INSN_OPCODE_LOAD  0x03
#define INSN_OPCODE_STORE 0x23

/* Quadrants (bits 1:0) of the compressed forms; quadrant 1 has no loads or stores. */
#define INSN_C_Q0 0
#define INSN_C_Q2 2

/* funct3 (bits 15:13) of the compressed integer loads and stores, in quadrants 0 and 2. */
#define INSN_C_LW 2 /* C.LWSP in quadrant 2 */
#define INSN_C_LD 3 /* C.LDSP */
#define INSN_C_SW 6 /* C.SWSP */
#define INSN_C_SD 7 /* C.SDSP */

/* Compressed register fields rd'/rs2' name x8..x15 only. */
#define INSN_C_REG_BASE 8

static uint32_t insn_bits(uint32_t insn, unsigned lo, unsigned count)
{
	return (insn >> lo) & ((UINT32_C(1) << count) - 1);
}

static int insn_set(struct insn_mmio *out, bool is_store, bool sign_extend, unsigned width,
		    unsigned reg, unsigned length)
{
	out->is_store = is_store;
	out->sign_extend = sign_extend;
	out->width = (uint8_t)width;
	out->reg = (uint8_t)reg;
	out->length = (uint8_t)length;
	return 0;
}

/* LB LH LW LD LBU LHU LWU by funct3; funct3 7 is reserved. */
static int insn_decode_load(uint32_t insn, struct insn_mmio *out)
{
	unsigned funct3 = insn_bits(insn, 12, 3);
	unsigned rd = insn_bits(insn, 7, 5);

	if (funct3 == 7)
		return -VIREO_EINVAL;
	/* Bit 2 of funct3 is the "unsigned" bit; LD has nothing to extend. */
	return insn_set(out, false, funct3 < 3, 1u << (funct3 & 3), rd, 4);
}

/* SB SH SW SD by funct3; 4..7 are reserved (or RV128's SQ). */
static int insn_decode_store(uint32_t insn, struct insn_mmio *out)
{
	unsigned funct3 = insn_bits(insn, 12, 3);
	unsigned rs2 = insn_bits(insn, 20, 5);

	if (funct3 > 3)
		return -VIREO_EINVAL;
	return insn_set(out, true, false, 1u << funct3, rs2, 4);
}

static int insn_decode_32(uint32_t insn, struct insn_mmio *out)
{
	switch (insn_bits(insn, 0, 7)) {
	case INSN_OPCODE_LOAD:
		return insn_decode_load(insn, out);
	case INSN_OPCODE_STORE:
		return insn_decode_store(insn, out);
	default:
		return -VIREO_EINVAL;
	}
}

/* C.LW C.LD C.SW C.SD: the data register is rd'/rs2' in bits 4:2. */
static int insn_decode_c_q0(uint32_t insn, struct insn_mmio *out)
{
	unsigned reg = INSN_C_REG_BASE + insn_bits(insn, 2, 3);

	switch (insn_bits(insn, 13, 3)) {
	case INSN_C_LW:
		return insn_set(out, false, true, 4, reg, 2);
	case INSN_C_LD:
		return insn_set(out, false, false, 8, reg, 2);
	case INSN_C_SW:
		return insn_set(out, true, false, 4, reg, 2);
	case INSN_C_SD:
		return insn_set(out, true, false, 8, reg, 2);
	default:
		return -VIREO_EINVAL;
	}
}

/* C.LWSP C.LDSP (rd in bits 11:7, reserved when 0), C.SWSP C.SDSP (rs2 in bits 6:2). */
static int insn_decode_c_q2(uint32_t insn, struct insn_mmio *out)
{
	unsigned rd = insn_bits(insn, 7, 5);
	unsigned rs2 = insn_bits(insn, 2, 5);

	switch (insn_bits(insn, 13, 3)) {
	case INSN_C_LW:
		return rd ? insn_set(out, false, true, 4, rd, 2) : -VIREO_EINVAL;
	case INSN_C_LD:
		return rd ? insn_set(out, false, false, 8, rd, 2) : -VIREO_EINVAL;
	case INSN_C_SW:
		return insn_set(out, true, false, 4, rs2, 2);
	case INSN_C_SD:
		return insn_set(out, true, false, 8, rs2, 2);
	default:
		return -VIREO_EINVAL;
	}
}

int insn_decode_mmio(uint32_t insn, struct insn_mmio *out)
{
	switch (insn_bits(insn, 0, 2)) {
	case INSN_C_Q0:
		return insn_decode_c_q0(insn, out);
	case INSN_C_Q2:
		return insn_decode_c_q2(insn, out);
	case 3:
		return insn_decode_32(insn, out);
	default:
		return -VIREO_EINVAL;
	}
}

int insn_decode_htinst(uint64_t htinst, struct insn_mmio *out)
{
	struct insn_mmio access;
	int ret;

	/*
	 * A transformed instruction has bit 0 set and fits in 32 bits. Bit 1 only
	 * records whether the original was compressed; the rest is the 32-bit
	 * encoding, so decode it as one and take the length from bit 1.
	 */
	if (!(htinst & 1) || (htinst >> 32))
		return -VIREO_EINVAL;
	ret = insn_decode_32((uint32_t)htinst | 2, &access);
	if (ret)
		return ret;
	access.length = (htinst & 2) ? 4 : 2;
	*out = access;
	return 0;
}

static uint64_t insn_width_mask(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (width * 8)) - 1;
}

uint64_t insn_load_extend(const struct insn_mmio *access, uint64_t raw)
{
	uint64_t value = raw & insn_width_mask(access->width);
	uint64_t sign;

	if (access->is_store || !access->sign_extend || access->width == 0 || access->width >= 8)
		return value;
	/* Flipping then subtracting the sign bit sign-extends without a signed shift. */
	sign = UINT64_C(1) << (access->width * 8 - 1);
	return (value ^ sign) - sign;
}

/* Major opcodes that write memory: integer and FP stores, AMOs (LR excepted). */
#define INSN_OPCODE_STORE_FP 0x27
#define INSN_OPCODE_AMO	     0x2f
#define INSN_AMO_LR	     0x02 /* funct5 of LR.W/LR.D: a load */

int insn_access_kind(uint32_t insn)
{
	if ((insn & 3) != 3) {
		unsigned funct3 = insn_bits(insn, 13, 3);

		/* Quadrants 0 and 2: funct3 4..7 are the stores (C.FSD C.SW C.SD and the SP
		 * forms), 1..3 the loads; funct3 0 is neither (C.ADDI4SPN, C.SLLI). */
		if ((insn & 3) == INSN_C_Q0 || (insn & 3) == INSN_C_Q2) {
			if (funct3 >= 5)
				return 1;
			if (funct3 >= 1 && funct3 <= 3)
				return 0;
		}
		return -1;
	}
	switch (insn & 0x7f) {
	case INSN_OPCODE_STORE:
	case INSN_OPCODE_STORE_FP:
		return 1;
	case INSN_OPCODE_AMO:
		return insn_bits(insn, 27, 5) == INSN_AMO_LR ? 0 : 1;
	case INSN_OPCODE_LOAD:
	case 0x07: /* LOAD-FP */
		return 0;
	default:
		return -1;
	}
}

int insn_decode_csr(uint32_t insn, struct insn_csr *out)
{
	unsigned funct3 = (insn >> 12) & 7;

	if ((insn & 0x7f) != 0x73 || (funct3 & 3) == 0)
		return -VIREO_EINVAL; /* not SYSTEM, or ecall/ebreak/wfi/sret... (funct3 0, 4) */
	out->csr = (uint16_t)(insn >> 20);
	out->rd = (uint8_t)((insn >> 7) & 31);
	out->src = (uint8_t)((insn >> 15) & 31);
	out->imm = (funct3 & 4) != 0;
	out->op = (funct3 & 3) == 1 ? INSN_CSR_RW : (funct3 & 3) == 2 ? INSN_CSR_RS : INSN_CSR_RC;
	/* The privileged spec's rules on which side effects happen: csrrw always writes
	 * and reads only for rd != x0; csrrs/csrrc always read and write only for a
	 * non-zero operand (register x0, or immediate 0). */
	out->writes = out->op == INSN_CSR_RW || out->src != 0;
	out->reads = out->op != INSN_CSR_RW || out->rd != 0;
	return 0;
}
