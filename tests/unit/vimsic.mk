# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += vimsic
UNIT_SRCS_vimsic := hv/vdev/imsic.c tests/unit/test_vimsic.c
