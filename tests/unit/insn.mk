# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += insn
UNIT_SRCS_insn := hv/arch/riscv/insn.c tests/unit/test_insn.c
