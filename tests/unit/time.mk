# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += time
UNIT_SRCS_time := hv/lib/time.c tests/unit/test_time.c
