# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += printf
UNIT_SRCS_printf := hv/lib/printf.c tests/unit/test_printf.c
# Undefined behaviour fails the test instead of printing a note.
# It compares with the C library's printf through formats held in variables.
UNIT_EXTRA_printf := -fno-sanitize-recover=all -Wno-format-nonliteral -Wno-format-security
