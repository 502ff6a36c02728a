# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += vaplic
UNIT_SRCS_vaplic := hv/lib/snap_io.c hv/vdev/aplic.c tests/unit/test_vaplic.c
