# SPDX-License-Identifier: BSD-2-Clause
# The host device tree parser against DTBs that dtc compiles at build time
# from tests/unit/dts/*.dts (one of them is QEMU's own virt tree).
DTC ?= dtc
UNIT_FDT_DTBS := $(patsubst tests/unit/dts/%.dts,$(BUILD)/unit/dts/%.dtb,\
	$(wildcard tests/unit/dts/*.dts))
UNIT_FDT_LIBFDT := $(addprefix $(LIBFDT_DIR)/,fdt.c fdt_ro.c fdt_addresses.c fdt_strerror.c \
	fdt_rw.c fdt_sw.c fdt_wip.c fdt_empty_tree.c)

# A static pattern rule, so that make keeps the DTBs (they are not intermediates).
# -q: the decompiled QEMU tree has raw phandles, which dtc warns about.
$(UNIT_FDT_DTBS): $(BUILD)/unit/dts/%.dtb: tests/unit/dts/%.dts
	@mkdir -p $(dir $@)
	$(DTC) -q -I dts -O dtb -o $@ $<

# The libfdt sources exist once the tarball is extracted.
$(UNIT_FDT_LIBFDT): | $(LIBFDT_STAMP)

UNIT_TESTS += fdt
UNIT_SRCS_fdt := hv/core/platform.c hv/core/platform_aia.c tests/unit/test_fdt.c $(UNIT_FDT_LIBFDT)
UNIT_DEPS_fdt := $(UNIT_FDT_DTBS)
UNIT_EXTRA_fdt := -DDTB_DIR=\"$(abspath $(BUILD)/unit/dts)\" -Wno-sign-compare \
	-fno-sanitize-recover=all
