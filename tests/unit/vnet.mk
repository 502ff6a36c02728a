# SPDX-License-Identifier: BSD-2-Clause
# The guest virtio-net card on the real transport, queues and switch, driven as Linux does.
UNIT_TESTS += vnet
UNIT_SRCS_vnet := hv/lib/snap_io.c hv/vdev/virtio_net.c hv/virtio/mmio.c hv/virtio/virtq.c hv/core/guest_mem.c \
	hv/net/switch.c hv/net/mac_table.c hv/net/backlog.c hv/net/frame.c hv/net/dhcp.c \
	hv/lib/string.c tests/unit/test_vnet.c
UNIT_EXTRA_vnet := -fno-sanitize-recover=all
