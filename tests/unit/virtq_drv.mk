# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += virtq_drv
UNIT_SRCS_virtq_drv := hv/virtio/virtq_drv.c hv/lib/string.c tests/unit/test_virtq_drv.c
