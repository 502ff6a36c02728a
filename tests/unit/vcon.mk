# SPDX-License-Identifier: BSD-2-Clause
# The guest's virtio console through its MMIO registers, with the real transport,
# virtqueues, guest memory and byte rings; the test plays Linux's driver and the channel.
UNIT_TESTS += vcon
UNIT_SRCS_vcon := hv/lib/snap_io.c hv/vdev/virtio_console.c hv/virtio/mmio.c hv/virtio/virtq.c \
	hv/core/guest_mem.c hv/lib/byte_ring.c tests/unit/test_vcon.c
UNIT_EXTRA_vcon := -fno-sanitize-recover=all
