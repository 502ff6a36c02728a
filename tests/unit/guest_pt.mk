# SPDX-License-Identifier: BSD-2-Clause
# The guest's page tables walked in software (debugger memory and breakpoints by
# guest-virtual address), and the successors of an instruction (single steps).
UNIT_TESTS += guest_pt
UNIT_SRCS_guest_pt := hv/arch/riscv/guest_pt.c hv/arch/riscv/insn_flow.c tests/unit/test_guest_pt.c
UNIT_EXTRA_guest_pt := -fno-sanitize-recover=all
