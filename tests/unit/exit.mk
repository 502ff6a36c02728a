# SPDX-License-Identifier: BSD-2-Clause
# The exit dispatch against a real MMIO bus and the real load extension; SBI,
# vm_stop, diagnostics and exception injection are fakes in the test.
UNIT_TESTS += exit
UNIT_SRCS_exit := hv/core/exit.c hv/core/mmio_bus.c hv/arch/riscv/insn.c tests/unit/test_exit.c
UNIT_EXTRA_exit := -fno-sanitize-recover=all
