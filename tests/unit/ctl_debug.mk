# SPDX-License-Identifier: BSD-2-Clause
# The debugger's ops and its state (core/ctl_debug.c, core/vm_debug.c) with the real
# page-table walk, instruction successors and guest memory; the hart is a fake.
UNIT_TESTS += ctl_debug
UNIT_SRCS_ctl_debug := hv/core/ctl_debug.c hv/core/ctl_args.c hv/core/vm_debug.c hv/arch/riscv/guest_pt.c \
	hv/arch/riscv/insn_flow.c hv/core/guest_mem.c tests/unit/test_ctl_debug.c
UNIT_EXTRA_ctl_debug := -fno-sanitize-recover=all
