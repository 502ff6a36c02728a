// SPDX-License-Identifier: BSD-2-Clause
/*
 * The successors of an instruction (vireo/insn_flow.h): the jumps and
 * branches of RV64I and of the C extension (unprivileged spec, chapters
 * "RV32I Base Integer Instruction Set" 2.5 and "C" 16.4), sret and wfi.
 */
#include <vireo/insn_flow.h>

#define OP_BRANCH 0x63
#define OP_JALR	  0x67
#define OP_JAL	  0x6f
#define INSN_SRET 0x10200073u
#define INSN_WFI  0x10500073u

static uint64_t bit(uint32_t insn, unsigned from, unsigned to)
{
	return (uint64_t)((insn >> from) & 1) << to;
}

static uint64_t field(uint32_t insn, unsigned lo, unsigned count)
{
	return (insn >> lo) & ((1u << count) - 1);
}

/* Sign-extend an immediate whose top bit is `top`. */
static uint64_t sext(uint64_t v, unsigned top)
{
	uint64_t sign = 1ULL << top;

	return (v ^ sign) - sign;
}

static uint64_t reg(const uint64_t x[32], unsigned r)
{
	return r ? x[r] : 0;
}

static void one(struct insn_successors *out, uint64_t pc)
{
	out->n = 1;
	out->pc[0] = pc;
}

static void two(struct insn_successors *out, uint64_t next, uint64_t target)
{
	out->n = 2;
	out->pc[0] = next;
	out->pc[1] = target;
}

static void successors_32(uint32_t insn, uint64_t pc, const uint64_t x[32],
			  struct insn_successors *out)
{
	uint64_t imm;

	switch (insn & 0x7f) {
	case OP_JAL:
		imm = bit(insn, 31, 20) | field(insn, 21, 10) << 1 | bit(insn, 20, 11) |
		      field(insn, 12, 8) << 12;
		one(out, pc + sext(imm, 20));
		return;
	case OP_JALR:
		if (field(insn, 12, 3) != 0)
			break;
		imm = sext(field(insn, 20, 12), 11);
		one(out, (reg(x, (unsigned)field(insn, 15, 5)) + imm) & ~1ULL);
		return;
	case OP_BRANCH:
		/* funct3 2 and 3 are reserved: an illegal instruction, which traps. */
		if (field(insn, 12, 3) == 2 || field(insn, 12, 3) == 3)
			break;
		imm = bit(insn, 31, 12) | field(insn, 25, 6) << 5 | field(insn, 8, 4) << 1 |
		      bit(insn, 7, 11);
		two(out, pc + 4, pc + sext(imm, 12));
		return;
	default:
		break;
	}
	one(out, pc + 4);
	out->sret = insn == INSN_SRET;
	out->wfi = insn == INSN_WFI;
}

/* Quadrant 1: C.J, C.BEQZ, C.BNEZ (C.JAL is RV32's: here it is C.ADDIW). */
static bool successors_c1(uint32_t insn, uint64_t pc, const uint64_t x[32],
			  struct insn_successors *out)
{
	uint64_t imm;

	switch (field(insn, 13, 3)) {
	case 5: /* C.J */
		imm = bit(insn, 12, 11) | bit(insn, 11, 4) | field(insn, 9, 2) << 8 |
		      bit(insn, 8, 10) | bit(insn, 7, 6) | bit(insn, 6, 7) |
		      field(insn, 3, 3) << 1 | bit(insn, 2, 5);
		one(out, pc + sext(imm, 11));
		return true;
	case 6: /* C.BEQZ */
	case 7: /* C.BNEZ */
		imm = bit(insn, 12, 8) | field(insn, 10, 2) << 3 | field(insn, 5, 2) << 6 |
		      field(insn, 3, 2) << 1 | bit(insn, 2, 5);
		(void)x;
		two(out, pc + 2, pc + sext(imm, 8));
		return true;
	default:
		return false;
	}
}

/* Quadrant 2, funct3 4: C.JR and C.JALR (rs1 != 0, rs2 = 0). */
static bool successors_c2(uint32_t insn, const uint64_t x[32], struct insn_successors *out)
{
	unsigned rs1 = (unsigned)field(insn, 7, 5);

	if (field(insn, 13, 3) != 4 || field(insn, 2, 5) != 0 || rs1 == 0)
		return false;
	one(out, reg(x, rs1) & ~1ULL);
	return true;
}

void insn_successors(uint32_t insn, uint64_t pc, const uint64_t x[32], struct insn_successors *out)
{
	*out = (struct insn_successors){0};
	if ((insn & 3) == 3) {
		successors_32(insn, pc, x, out);
		return;
	}
	if ((insn & 3) == 1 && successors_c1(insn, pc, x, out))
		return;
	if ((insn & 3) == 2 && successors_c2(insn, x, out))
		return;
	one(out, pc + 2);
}
