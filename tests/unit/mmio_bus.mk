# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += mmio_bus
UNIT_SRCS_mmio_bus := hv/core/mmio_bus.c tests/unit/test_mmio_bus.c
