# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += vgenid
UNIT_SRCS_vgenid := hv/vdev/vmgenid.c tests/unit/test_vgenid.c
