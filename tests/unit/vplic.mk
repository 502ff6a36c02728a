# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += vplic
UNIT_SRCS_vplic := hv/lib/snap_io.c hv/vdev/plic.c tests/unit/test_vplic.c
