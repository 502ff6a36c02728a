# SPDX-License-Identifier: BSD-2-Clause
# libvireo: a program in a fresh Linux VM as a subprocess (include/vireo.h).
# One set of position-independent objects makes both libraries:
#   build/libvireo.a, build/libvireo.so (-> libvireo.so.0), and build/vireo links the
# static one. Only the functions of vireo.h are exported from the shared library.
LIBVIREO_SONAME := libvireo.so.0
LIBVIREO_SRCS := $(wildcard tools/libvireo/*.c) hv/lib/vx.c tools/vm_config.c \
	tools/bundle_write.c tools/qemu_run.c
LIBVIREO_HDRS := $(wildcard tools/libvireo/*.h tools/libvireo/include/*.h) tools/vm_config.h \
	tools/bundle_write.h tools/qemu_run.h $(wildcard hv/include/vireo/*.h)
LIBVIREO_OBJS := $(LIBVIREO_SRCS:%.c=$(BUILD)/libvireo-obj/%.o)
LIBVIREO_CFLAGS := -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 -g -fPIC \
	-fvisibility=hidden -Ihv/include -Itools -Itools/libvireo -Itools/libvireo/include \
	-DVIREO_VERSION_STRING=\"$(VERSION)\"
LIBVIREO_A := $(BUILD)/libvireo.a
LIBVIREO_SO := $(BUILD)/libvireo.so

$(BUILD)/libvireo-obj/%.o: %.c $(LIBVIREO_HDRS) tools/libvireo/libvireo.mk
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(HOST_CC) $(LIBVIREO_CFLAGS) -c $< -o $@

$(LIBVIREO_A): $(LIBVIREO_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/$(LIBVIREO_SONAME): $(LIBVIREO_OBJS)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) -shared -Wl,-soname,$(LIBVIREO_SONAME) -Wl,--no-undefined -o $@ $^ -lpthread -lnettle

$(LIBVIREO_SO): $(BUILD)/$(LIBVIREO_SONAME)
	$(Q)ln -sf $(LIBVIREO_SONAME) $@

.PHONY: libvireo
libvireo: $(LIBVIREO_A) $(LIBVIREO_SO)
all: libvireo
