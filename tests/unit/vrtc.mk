# SPDX-License-Identifier: BSD-2-Clause
# The guest's Goldfish RTC model, directly and through an MMIO bus, on a fake clock.
UNIT_TESTS += vrtc
UNIT_SRCS_vrtc := hv/lib/snap_io.c hv/vdev/goldfish_rtc.c hv/core/mmio_bus.c tests/unit/test_vrtc.c
UNIT_DEPS_vrtc := hv/include/vireo/vrtc.h
UNIT_EXTRA_vrtc := -fno-sanitize-recover=all
