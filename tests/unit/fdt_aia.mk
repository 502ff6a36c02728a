# SPDX-License-Identifier: BSD-2-Clause
# The AIA half of the host device tree parser, against QEMU's aia=aplic and
# aia=aplic-imsic trees as OpenSBI hands them on, and trees written for edge
# cases (the DTBs are built by the rule in fdt.mk).
UNIT_TESTS += fdt_aia
UNIT_SRCS_fdt_aia := hv/core/platform.c hv/core/platform_aia.c tests/unit/test_fdt_aia.c \
	$(UNIT_FDT_LIBFDT)
UNIT_DEPS_fdt_aia := $(UNIT_FDT_DTBS)
UNIT_EXTRA_fdt_aia := -DDTB_DIR=\"$(abspath $(BUILD)/unit/dts)\" -Wno-sign-compare \
	-fno-sanitize-recover=all
