# SPDX-License-Identifier: BSD-2-Clause
# Device timers: arming only brings deadlines closer, expiry, removal.
UNIT_TESTS += devtimer
UNIT_SRCS_devtimer := hv/core/devtimer.c tests/unit/test_devtimer.c
UNIT_DEPS_devtimer := hv/include/vireo/devtimer.h
UNIT_EXTRA_devtimer := -fno-sanitize-recover=all
