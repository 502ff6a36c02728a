# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += guest_cpu
UNIT_SRCS_guest_cpu := hv/arch/riscv/guest_cpu.c hv/lib/string.c tests/unit/test_guest_cpu.c
