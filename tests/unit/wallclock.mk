# SPDX-License-Identifier: BSD-2-Clause
# Counter ticks <-> wall-clock ns, and dates for the log.
UNIT_TESTS += wallclock
UNIT_SRCS_wallclock := hv/lib/wallclock.c hv/lib/time.c tests/unit/test_wallclock.c
UNIT_DEPS_wallclock := hv/include/vireo/wallclock.h
UNIT_EXTRA_wallclock := -fno-sanitize-recover=all
