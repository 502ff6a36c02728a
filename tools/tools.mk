# SPDX-License-Identifier: BSD-2-Clause
# The host tool build/vireo: VM configs -> boot bundle -> QEMU, and `vireo exec` on
# libvireo (tools/libvireo). Plain C with the host compiler; it includes
# hv/include/vireo/bundle.h, the one definition of the bundle layout that the
# hypervisor parses.
include tools/libvireo/libvireo.mk

VIREO_TOOL := $(BUILD)/vireo
VIREO_TOOL_SRCS := tools/vireo.c tools/vireo_exec.c tools/vireo_gdb.c tools/vireo_machine.c
VIREO_TOOL_HDRS := tools/vm_config.h tools/bundle_write.h tools/qemu_run.h tools/vireo_exec.h tools/vireo_gdb.h \
	tools/vireo_machine.h tools/libvireo/machined.h \
	tools/libvireo/include/vireo.h hv/include/vireo/bundle.h hv/include/vireo/types.h
VIREO_TOOL_CFLAGS := -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 -Ihv/include -Itools \
	-Itools/libvireo/include -Itools/libvireo

all: $(VIREO_TOOL)

$(VIREO_TOOL): $(VIREO_TOOL_SRCS) $(VIREO_TOOL_HDRS) $(LIBVIREO_A) tools/tools.mk
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(VIREO_TOOL_CFLAGS) $(VIREO_TOOL_SRCS) $(LIBVIREO_A) -lpthread -lnettle -o $@

# ---------------------------------------------------------------- install
# make install PREFIX=... [DESTDIR=...]: the tool, both libraries, the header, vireo.pc,
# the Python module and what the tool boots by default (Vireo's image, the guest kernel
# and initramfs, in share/vireo, where the library looks for them).
PREFIX ?= /usr/local
PYTHONDIR ?= $(PREFIX)/lib/python3/dist-packages
INSTALL_ROOT := $(DESTDIR)$(PREFIX)

.PHONY: install
install: $(DEPS_STAMP) all linux
	@echo "  INSTALL $(INSTALL_ROOT) (Python module in $(DESTDIR)$(PYTHONDIR))"
	$(Q)install -d $(INSTALL_ROOT)/bin $(INSTALL_ROOT)/lib/pkgconfig $(INSTALL_ROOT)/include \
		$(INSTALL_ROOT)/share/vireo $(DESTDIR)$(PYTHONDIR)/vireo
	$(Q)install -m 755 $(VIREO_TOOL) $(INSTALL_ROOT)/bin/vireo
	$(Q)install -m 644 $(LIBVIREO_A) $(INSTALL_ROOT)/lib/libvireo.a
	$(Q)install -m 755 $(BUILD)/$(LIBVIREO_SONAME) $(INSTALL_ROOT)/lib/$(LIBVIREO_SONAME)
	$(Q)ln -sf $(LIBVIREO_SONAME) $(INSTALL_ROOT)/lib/libvireo.so
	$(Q)install -m 644 tools/libvireo/include/vireo.h $(INSTALL_ROOT)/include/vireo.h
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tools/libvireo/vireo.pc.in \
		| grep -v '^# SPDX' > $(INSTALL_ROOT)/lib/pkgconfig/vireo.pc
	$(Q)install -m 644 $(BUILD)/vireo.bin $(LINUX_IMAGE) $(LINUX_INITRAMFS) \
		$(INSTALL_ROOT)/share/vireo/
	$(Q)install -m 644 tools/python/vireo/__init__.py $(DESTDIR)$(PYTHONDIR)/vireo/
	$(Q)printf '# Written by make install.\nLIBDIR = %s\n' "'$(PREFIX)/lib'" \
		> $(DESTDIR)$(PYTHONDIR)/vireo/_config.py
