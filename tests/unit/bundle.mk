# SPDX-License-Identifier: BSD-2-Clause
# The bundle parser against bundles made in memory, and against one that the
# host packer ($(BUILD)/vireo, built from tools/) writes here, so that both agree on the layout.
UNIT_BUNDLE_DIR := $(BUILD)/unit/bundle
UNIT_BUNDLE_SAMPLE := $(BUILD)/unit/bundle-sample.bin
UNIT_BUNDLE_INPUTS := $(addprefix $(UNIT_BUNDLE_DIR)/,kernel-a.bin initrd-a.bin kernel-b.bin)

# Odd sizes, so that the packer has to pad every image to its 4 KiB boundary.
$(UNIT_BUNDLE_DIR)/kernel-a.bin: UNIT_BUNDLE_BYTES := 5000
$(UNIT_BUNDLE_DIR)/initrd-a.bin: UNIT_BUNDLE_BYTES := 3333
$(UNIT_BUNDLE_DIR)/kernel-b.bin: UNIT_BUNDLE_BYTES := 8193
$(UNIT_BUNDLE_INPUTS): tests/unit/bundle.mk
	@mkdir -p $(dir $@)
	$(Q)head -c $(UNIT_BUNDLE_BYTES) /dev/urandom > $@.tmp && mv $@.tmp $@

# Every field set to something other than its default (bootargs with a comma and
# '=' in it), and a second VM at the limits; test_bundle.c expects exactly this.
UNIT_BUNDLE_VM_A := name=a,kernel=$(UNIT_BUNDLE_DIR)/kernel-a.bin
UNIT_BUNDLE_VM_A := $(UNIT_BUNDLE_VM_A),initrd=$(UNIT_BUNDLE_DIR)/initrd-a.bin,memory=8M
UNIT_BUNDLE_VM_A := $(UNIT_BUNDLE_VM_A),vcpus=2,harts=1-2,testdev=1,bootargs=x=1,y
UNIT_BUNDLE_VM_B := name=second.vm-2,kernel=$(UNIT_BUNDLE_DIR)/kernel-b.bin,memory=4M,vcpus=16

$(UNIT_BUNDLE_SAMPLE): $(BUILD)/vireo $(UNIT_BUNDLE_INPUTS)
	$(Q)$(BUILD)/vireo pack -o $@.tmp --vm $(UNIT_BUNDLE_VM_A) --vm $(UNIT_BUNDLE_VM_B)
	$(Q)mv $@.tmp $@

UNIT_TESTS += bundle
UNIT_SRCS_bundle := hv/core/bundle.c hv/lib/printf.c tests/unit/test_bundle.c
UNIT_DEPS_bundle := $(UNIT_BUNDLE_SAMPLE)
UNIT_EXTRA_bundle := -DSAMPLE_BUNDLE=\"$(abspath $(UNIT_BUNDLE_SAMPLE))\" \
	-DSAMPLE_DIR=\"$(abspath $(UNIT_BUNDLE_DIR))\" -fno-sanitize-recover=all
