# SPDX-License-Identifier: BSD-2-Clause
# The host tool build/vireo: VM configs -> boot bundle -> QEMU, and `vireo exec` on
# libvireo (tools/libvireo). Plain C with the host compiler; it includes
# hv/include/vireo/bundle.h, the one definition of the bundle layout that the
# hypervisor parses.
include tools/libvireo/libvireo.mk

VIREO_TOOL := $(BUILD)/vireo
VIREO_TOOL_SRCS := tools/vireo.c tools/vireo_exec.c
VIREO_TOOL_HDRS := tools/vm_config.h tools/bundle_write.h tools/qemu_run.h tools/vireo_exec.h \
	tools/libvireo/include/vireo.h hv/include/vireo/bundle.h hv/include/vireo/types.h
VIREO_TOOL_CFLAGS := -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 -Ihv/include -Itools \
	-Itools/libvireo/include

all: $(VIREO_TOOL)

$(VIREO_TOOL): $(VIREO_TOOL_SRCS) $(VIREO_TOOL_HDRS) $(LIBVIREO_A) tools/tools.mk
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(VIREO_TOOL_CFLAGS) $(VIREO_TOOL_SRCS) $(LIBVIREO_A) -lpthread -o $@
