# SPDX-License-Identifier: BSD-2-Clause
# The per-hart scheduler with the real vCPU timer and timebase conversions; the
# harts, their clock and interrupts, and the vCPUs' trips into guests are fakes.
# test_sched.c compiles sched.c in (its per-hart state is file-static) so that
# every test starts from a fresh scheduler.
UNIT_TESTS += sched
UNIT_SRCS_sched := hv/core/vcpu_timer.c hv/core/devtimer.c hv/lib/time.c tests/unit/test_sched.c
UNIT_DEPS_sched := hv/core/sched.c
UNIT_EXTRA_sched := -fno-sanitize-recover=all
