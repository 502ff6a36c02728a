# SPDX-License-Identifier: BSD-2-Clause
UNIT_TESTS += sbi
UNIT_SRCS_sbi := hv/sbi/sbi.c hv/sbi/base.c hv/sbi/time.c hv/sbi/ipi.c hv/sbi/rfence.c \
	hv/sbi/hsm.c hv/sbi/srst.c hv/sbi/dbcn.c hv/sbi/legacy.c hv/sbi/hooks.c hv/sbi/sta.c \
	hv/sbi/susp.c hv/sbi/fwft.c hv/sbi/dbtr.c hv/sbi/pmu.c hv/sbi/sse.c hv/sbi/sandbox.c hv/core/vcpu_timer.c \
	hv/lib/time.c hv/core/guest_mem.c tests/unit/sbi_fakes.c tests/unit/test_sbi.c
UNIT_DEPS_sbi := tests/unit/sbi_fakes.h hv/sbi/sbi_ext.h
UNIT_EXTRA_sbi := -fno-sanitize-recover=all
