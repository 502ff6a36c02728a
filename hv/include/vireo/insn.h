/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decoding of the guest load/store instructions that trap on MMIO.
 * Pure logic: compiles for the host too, where it is unit-tested and fuzzed.
 */
#ifndef VIREO_INSN_H
#define VIREO_INSN_H

#include <vireo/types.h>

/* What a trapped integer load or store does. */
struct insn_mmio {
	bool is_store;
	/* Loads only: sign- (true) or zero-extend (false) to 64 bits; false for LD/C.LD. */
	bool sign_extend;
	uint8_t width;	/* access width in bytes: 1, 2, 4 or 8 */
	uint8_t reg;	/* rd of a load, rs2 of a store: x0..x31 */
	uint8_t length; /* length of the guest's instruction in bytes: 2 or 4 */
};

/* htinst value for "fault during the guest's own page-table walk" (not an access). */
#define INSN_HTINST_PT_WALK_READ  0x3000
#define INSN_HTINST_PT_WALK_WRITE 0x3020

/*
 * Decode a raw instruction as fetched from guest memory (16 bits for compressed
 * forms, 32 bits otherwise; the upper halfword is ignored for compressed forms).
 * Returns 0, or -VIREO_EINVAL if it is not an RV64 integer load or store.
 */
int insn_decode_mmio(uint32_t insn, struct insn_mmio *out);

/*
 * Decode htinst if it holds a transformed load/store (bit 0 set). Bit 1 of a
 * transformed instruction is clear when the original instruction was compressed.
 * Returns 0, or -VIREO_EINVAL if htinst carries nothing usable (0, a
 * pseudo-instruction, or not a load/store): the caller then fetches the
 * instruction from guest memory instead.
 */
int insn_decode_htinst(uint64_t htinst, struct insn_mmio *out);

/* Length of an instruction from its low halfword: 2 or 4. */
static inline unsigned insn_length(uint32_t insn)
{
	return (insn & 3) == 3 ? 4 : 2;
}

/*
 * Does the instruction read (0) or write (1) memory, whatever its kind (integer,
 * FP, vector excepted, AMO, compressed)? -1 when it is no memory access Vireo
 * knows. Stores and AMOs write; LR reads.
 */
int insn_access_kind(uint32_t insn);

/* Extend the raw value read from a device the way the load says. */
uint64_t insn_load_extend(const struct insn_mmio *access, uint64_t raw);

/* A Zicsr instruction: csrrw/csrrs/csrrc and their immediate forms. */
enum insn_csr_op { INSN_CSR_RW, INSN_CSR_RS, INSN_CSR_RC };

struct insn_csr {
	uint16_t csr;	     /* the CSR's number */
	uint8_t rd;	     /* x0..x31: where the old value goes (x0: nowhere) */
	enum insn_csr_op op; /* write, set bits or clear bits */
	bool imm;	     /* the operand is `src` itself (uimm), not register x`src` */
	uint8_t src;	     /* rs1, or the 5-bit immediate */
	bool writes;	     /* it writes the CSR (csrrs/csrrc with x0 or 0 do not) */
	bool reads;	     /* it reads the CSR (csrrw/csrrwi with rd = x0 do not) */
};

/* Decode a CSR instruction; 0, or -VIREO_EINVAL if it is none. */
int insn_decode_csr(uint32_t insn, struct insn_csr *out);

#endif
