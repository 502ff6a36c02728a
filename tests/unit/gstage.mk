# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += gstage
UNIT_SRCS_gstage := hv/arch/riscv/gstage.c tests/unit/test_gstage.c
# Undefined behaviour fails the test instead of printing a note.
UNIT_EXTRA_gstage := -fno-sanitize-recover=all
