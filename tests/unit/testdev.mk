# SPDX-License-Identifier: BSD-2-Clause
# The MMIO test device, directly and through an MMIO bus.
UNIT_TESTS += testdev
UNIT_SRCS_testdev := hv/vdev/testdev.c hv/core/mmio_bus.c tests/unit/test_testdev.c
# Undefined behaviour fails the test instead of printing a note.
UNIT_EXTRA_testdev := -fno-sanitize-recover=all
