# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += page_pool
UNIT_SRCS_page_pool := hv/core/page_pool.c tests/unit/test_page_pool.c
# Undefined behaviour fails the test instead of printing a note.
UNIT_EXTRA_page_pool := -fno-sanitize-recover=all
