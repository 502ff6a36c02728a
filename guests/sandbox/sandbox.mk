# SPDX-License-Identifier: BSD-2-Clause
#
# The sandbox guest SDK (guests/sandbox/sdk: start-up code, linker script,
# header, runtime) and the sandbox programs built with it. Included by the
# top-level Makefile. A program is one or more C files linked with
# $(SANDBOX_SDK_OBJS) and $(SANDBOX_LDS) (see sandbox_program below); output:
# $(BUILD)/sandbox/<name>.elf.

SANDBOX_DIR := guests/sandbox
SANDBOX_OUT := $(BUILD)/sandbox
SANDBOX_LDS := $(SANDBOX_DIR)/sdk/sandbox.ld

SANDBOX_CC := $(CROSS)gcc
SANDBOX_CFLAGS := -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 -g \
	-march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany -mno-relax \
	-ffreestanding -fno-pie -fno-stack-protector -fno-common -fno-strict-aliasing \
	-fno-tree-loop-distribute-patterns \
	-nostdinc -isystem $(shell $(SANDBOX_CC) -print-file-name=include) \
	-I$(SANDBOX_DIR)/sdk -MMD -MP
SANDBOX_LDFLAGS := -nostdlib -no-pie -static -Wl,-T,$(SANDBOX_LDS) -Wl,--build-id=none \
	-Wl,--no-warn-rwx-segments

SANDBOX_SDK_OBJS := $(SANDBOX_OUT)/obj/sdk/crt0.S.o $(SANDBOX_OUT)/obj/sdk/vsb.c.o \
	$(SANDBOX_OUT)/obj/sdk/printf.c.o

$(SANDBOX_OUT)/obj/sdk/%.c.o: $(SANDBOX_DIR)/sdk/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(SANDBOX_CC) $(SANDBOX_CFLAGS) -c $< -o $@

$(SANDBOX_OUT)/obj/sdk/%.S.o: $(SANDBOX_DIR)/sdk/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(SANDBOX_CC) $(SANDBOX_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# The formatter of vsb_printf: the hypervisor's own.
$(SANDBOX_OUT)/obj/sdk/printf.c.o: hv/lib/printf.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(SANDBOX_CC) $(SANDBOX_CFLAGS) -Ihv/include -c $< -o $@

# A program's exported functions are called from the host: no prototypes for them here.
$(SANDBOX_OUT)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(SANDBOX_CC) $(SANDBOX_CFLAGS) -Wno-missing-prototypes -c $< -o $@

# $(call sandbox_program,NAME,SOURCES): $(SANDBOX_OUT)/NAME.elf
define sandbox_program
$(SANDBOX_OUT)/$(1).elf: $(patsubst %,$(SANDBOX_OUT)/obj/%.o,$(2)) $(SANDBOX_SDK_OBJS) $(SANDBOX_LDS)
	@echo "  LD      $$@"
	$$(Q)$$(SANDBOX_CC) $$(SANDBOX_CFLAGS) $$(SANDBOX_LDFLAGS) $$(filter %.o,$$^) -o $$@
SANDBOX_PROGRAMS += $(SANDBOX_OUT)/$(1).elf
-include $(patsubst %,$(SANDBOX_OUT)/obj/%.d,$(2))
endef

SANDBOX_PROGRAMS :=
$(eval $(call sandbox_program,sbtest,$(SANDBOX_DIR)/tests/sbtest.c))
$(eval $(call sandbox_program,sbbench,bench/sandbox/sbbench.c))

.PHONY: sandbox-guests
sandbox-guests: $(SANDBOX_PROGRAMS)
all: sandbox-guests

-include $(SANDBOX_SDK_OBJS:.o=.d)
