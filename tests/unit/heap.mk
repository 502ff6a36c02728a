# SPDX-License-Identifier: BSD-2-Clause
# The heap's page source in the test is a page_pool over a host buffer.
UNIT_TESTS += heap
UNIT_SRCS_heap := hv/core/heap.c hv/core/page_pool.c tests/unit/test_heap.c
# Undefined behaviour fails the test instead of printing a note.
UNIT_EXTRA_heap := -fno-sanitize-recover=all
