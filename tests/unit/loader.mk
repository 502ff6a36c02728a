# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += loader
UNIT_SRCS_loader := hv/core/loader.c hv/core/guest_mem.c tests/unit/test_loader.c
# Undefined behaviour fails the test instead of printing a note.
UNIT_EXTRA_loader := -fno-sanitize-recover=all
