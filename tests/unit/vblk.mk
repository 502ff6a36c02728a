# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += vblk
UNIT_SRCS_vblk := hv/lib/snap_io.c hv/vdev/virtio_blk.c hv/virtio/mmio.c hv/virtio/virtq.c hv/core/guest_mem.c \
	tests/unit/test_vblk.c
