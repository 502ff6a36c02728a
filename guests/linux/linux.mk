# SPDX-License-Identifier: BSD-2-Clause
#
# The Linux guest: Debian's linux-source-6.1 built for rv64 with vireo.config,
# and an initramfs of our own static userland. Included by the top-level
# Makefile; also works standalone:
#   make -f guests/linux/linux.mk [linux]      kernel and initramfs
#   make -f guests/linux/linux.mk linux-kernel     -> $(LINUX_IMAGE)
#   make -f guests/linux/linux.mk linux-initramfs  -> $(LINUX_INITRAMFS)
#   make -f guests/linux/linux.mk linux-qemu       boot both under plain QEMU (no Vireo)
#
# The kernel is built outside the clone, in $(VIREO_CACHE)/linux-<key>, where
# <key> hashes everything that decides the result: the config fragment, this
# file, the build scripts, the tarball's size and date and the compiler
# version. A second make, or another clone on the same machine, reuses it.
# The userland is in userland/userland.mk, outside the key, so that editing
# it does not rebuild the kernel.

LINUX_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

BUILD ?= build
CROSS ?= riscv64-linux-gnu-
PYTHON ?= /usr/bin/python3
QEMU ?= qemu-system-riscv64
LINUX_TARBALL ?= /usr/src/linux-source-6.1.tar.xz
VIREO_CACHE ?= $(if $(HOME),$(HOME)/.cache/vireo,$(abspath $(BUILD))/cache)
# The machine has 2 cores shared with others: build with 2 jobs, niced.
LINUX_JOBS ?= 2

LINUX_IMAGE := $(BUILD)/linux/Image
LINUX_INITRAMFS := $(BUILD)/linux/initramfs.cpio

LINUX_KEY_FILES := $(LINUX_DIR)/vireo.config $(LINUX_DIR)/linux.mk \
	$(LINUX_DIR)/build-kernel.sh $(LINUX_DIR)/check-config.sh
LINUX_KEY := $(shell { cat $(LINUX_KEY_FILES); stat -L -c '%s %Y' $(LINUX_TARBALL); \
	$(CROSS)gcc --version | head -n 1; } 2>/dev/null | sha256sum | cut -c1-16)
LINUX_CACHE := $(VIREO_CACHE)/linux-$(LINUX_KEY)

.PHONY: linux linux-kernel linux-initramfs linux-qemu linux-clean
linux: linux-kernel linux-initramfs
linux-kernel: $(LINUX_IMAGE)
linux-initramfs: $(LINUX_INITRAMFS)

# DEPS_STAMP exists when the top-level Makefile includes us: install packages first.
$(LINUX_CACHE)/Image: | $(DEPS_STAMP)
	@test -r $(LINUX_TARBALL) || { echo "linux.mk: $(LINUX_TARBALL) missing:" \
		"apt-get install linux-source-6.1" >&2; exit 1; }
	nice -n 10 bash $(LINUX_DIR)/build-kernel.sh $(LINUX_TARBALL) $(LINUX_DIR)/vireo.config \
		$(LINUX_CACHE) $(CROSS) $(LINUX_JOBS)

# Which cache entry build/linux holds: switching back to an older key must copy again.
LINUX_KEY_STAMP := $(BUILD)/linux/.kernel-$(LINUX_KEY)
$(LINUX_KEY_STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/linux/.kernel-*
	@touch $@

$(LINUX_IMAGE): $(LINUX_CACHE)/Image $(LINUX_KEY_STAMP)
	cp $< $@
	cp $(LINUX_CACHE)/vmlinux $(LINUX_CACHE)/System.map $(dir $@)
	cp $(LINUX_CACHE)/.config $(dir $@)kernel.config

include $(LINUX_DIR)/userland/userland.mk

# Plain QEMU, the same virt machine Vireo gives its VMs: the reference to compare with.
LINUX_QEMU_SMP ?= 2
LINUX_QEMU_MEM ?= 256M
LINUX_BOOTARGS ?= console=ttyS0 earlycon=sbi
linux-qemu: $(LINUX_IMAGE) $(LINUX_INITRAMFS)
	$(QEMU) -machine virt -cpu rv64 -smp $(LINUX_QEMU_SMP) -m $(LINUX_QEMU_MEM) -nographic \
		-bios default -kernel $(LINUX_IMAGE) -initrd $(LINUX_INITRAMFS) \
		-append "$(LINUX_BOOTARGS)"

linux-clean:
	rm -rf $(BUILD)/linux
