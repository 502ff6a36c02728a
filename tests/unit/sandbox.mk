# SPDX-License-Identifier: BSD-2-Clause
# Sandboxes: core/sandbox.c and its ops on the real G-stage tables and guest memory; the
# VM, its hart, the timers and the channel are fakes in the test.
UNIT_TESTS += sandbox
UNIT_SRCS_sandbox := hv/core/sandbox.c hv/core/ctl_sandbox.c hv/core/ctl_args.c hv/arch/riscv/gstage.c \
	hv/core/guest_mem.c hv/lib/time.c tests/unit/test_sandbox.c
UNIT_EXTRA_sandbox := -fno-sanitize-recover=all
