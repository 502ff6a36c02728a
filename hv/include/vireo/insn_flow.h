/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where an instruction may go next: the successors of one RV64GC instruction,
 * for single-stepping a guest by planting breakpoints after it (vm_debug).
 * Pure logic: host-tested and fuzzed (the instruction is the guest's).
 */
#ifndef VIREO_INSN_FLOW_H
#define VIREO_INSN_FLOW_H

#include <vireo/types.h>

#define INSN_EBREAK   0x00100073u /* 32-bit ebreak */
#define INSN_C_EBREAK 0x9002u	  /* 16-bit c.ebreak */

struct insn_successors {
	unsigned n;	/* addresses in pc[]: 1, or 2 for a conditional branch */
	uint64_t pc[2]; /* pc[0] is always the next instruction in line or the jump's target */
	bool sret;	/* an sret: it goes on at the guest's sepc, which the caller knows */
	bool wfi;	/* a wfi: it may go on at pc[0] without running (a wfi may end at once) */
};

/*
 * The successors of the instruction at pc (raw bits: a compressed one in the
 * low halfword) when its registers are x[0..31] (x[0] is read as 0). An
 * instruction that may trap goes to the guest's trap vector too, which the
 * caller adds: this names only where it goes when it completes. Whatever is
 * not a jump, branch, sret or wfi (reserved encodings too) goes on in line.
 */
void insn_successors(uint32_t insn, uint64_t pc, const uint64_t x[32], struct insn_successors *out);

#endif
