# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += vx
UNIT_SRCS_vx := hv/lib/vx.c tests/unit/test_vx.c
