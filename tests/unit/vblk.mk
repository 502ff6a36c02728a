# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += vblk
UNIT_SRCS_vblk := hv/vdev/virtio_blk.c tests/unit/test_vblk.c
