# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += vuart
UNIT_SRCS_vuart := hv/lib/snap_io.c hv/vdev/uart16550.c tests/unit/test_vuart.c
