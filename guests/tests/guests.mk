# SPDX-License-Identifier: BSD-2-Clause
#
# Bare-metal test guests: small S-mode kernels that Vireo runs as VMs and the
# integration tests boot. Included by the top-level Makefile; also standalone:
#   make -f guests/tests/guests.mk                 build every guest
#   make -f guests/tests/guests.mk guests-qemu GUEST=hello [GUEST_SMP=4]
#                                                  run one under plain QEMU + OpenSBI
# Output: $(BUILD)/guests/<name>.elf and $(BUILD)/guests/<name>.bin.

BUILD ?= build
CROSS ?= riscv64-linux-gnu-
QEMU ?= qemu-system-riscv64

GUEST_NAMES := hello paging mmio unmapped traps smp sbi timer hsm exitcode hostile ramcheck aia \
	cpustate conform platform sta susp pmu sse ctl gdb snap cow

GUEST_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
GUEST_HV := $(if $(filter guests/tests,$(GUEST_DIR)),hv,$(GUEST_DIR)/../../hv)
GUEST_OUT := $(BUILD)/guests
GUEST_LDS := $(GUEST_DIR)/lib/guest.ld

GUEST_CC := $(CROSS)gcc
GUEST_CFLAGS := -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 -g \
	-march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
	-ffreestanding -fno-pie -fno-stack-protector -fno-common -fno-strict-aliasing \
	-fno-tree-loop-distribute-patterns -ffunction-sections -fdata-sections \
	-nostdinc -isystem $(shell $(GUEST_CC) -print-file-name=include) \
	-I$(GUEST_DIR)/lib -I$(GUEST_HV)/include -MMD -MP
# -fno-tree-loop-distribute-patterns: memset() must not compile into a call to itself.
GUEST_LDFLAGS := -nostdlib -no-pie -static -Wl,--gc-sections -Wl,-T,$(GUEST_LDS) \
	-Wl,--build-id=none -Wl,--no-warn-rwx-segments

GUEST_LIB_SRCS := $(wildcard $(GUEST_DIR)/lib/*.c $(GUEST_DIR)/lib/*.S)
GUEST_LIB_OBJS := $(GUEST_LIB_SRCS:$(GUEST_DIR)/lib/%=$(GUEST_OUT)/obj/lib/%.o) \
	$(GUEST_OUT)/obj/lib/hv-printf.c.o $(GUEST_OUT)/obj/lib/hv-sha256.c.o
GUEST_MAIN_OBJS := $(GUEST_NAMES:%=$(GUEST_OUT)/obj/%.c.o)
GUEST_ELFS := $(GUEST_NAMES:%=$(GUEST_OUT)/%.elf)
GUEST_BINS := $(GUEST_NAMES:%=$(GUEST_OUT)/%.bin)

.PHONY: guests guests-clean guests-qemu
guests: $(GUEST_ELFS) $(GUEST_BINS)

$(GUEST_OUT)/obj/lib/%.c.o: $(GUEST_DIR)/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/obj/lib/%.S.o: $(GUEST_DIR)/lib/%.S
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# The one formatter of the project, shared with the hypervisor.
$(GUEST_OUT)/obj/lib/hv-printf.c.o: $(GUEST_HV)/lib/printf.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

# SHA-256, for guests that print fingerprints of secrets rather than the secrets.
$(GUEST_OUT)/obj/lib/hv-sha256.c.o: $(GUEST_HV)/lib/sha256.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -I$(GUEST_HV)/include/libc -c $< -o $@

$(GUEST_MAIN_OBJS): $(GUEST_OUT)/obj/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_ELFS): $(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj/%.c.o $(GUEST_LIB_OBJS) $(GUEST_LDS)
	@echo "  LD      $@"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) $(filter %.o,$^) -o $@

$(GUEST_BINS): $(GUEST_OUT)/%.bin: $(GUEST_OUT)/%.elf
	$(Q)$(CROSS)objcopy -O binary $< $@

GUEST ?= hello
GUEST_SMP ?= 1
guests-qemu: $(GUEST_OUT)/$(GUEST).bin
	$(QEMU) -machine virt -cpu rv64 -smp $(GUEST_SMP) -m 256M -nographic -bios default \
		-kernel $<

guests-clean:
	rm -rf $(GUEST_OUT)

-include $(GUEST_MAIN_OBJS:.o=.d) $(GUEST_LIB_OBJS:.o=.d)
