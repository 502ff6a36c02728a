# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += virtq
UNIT_SRCS_virtq := hv/virtio/virtq.c hv/core/guest_mem.c tests/unit/test_virtq.c
