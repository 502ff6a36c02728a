# SPDX-License-Identifier: BSD-2-Clause
#
# The Linux guest: Debian 13's linux-source-6.12 built for rv64 with
# vireo.config, and an initramfs with Debian 13's static BusyBox and our own
# init. Included by the top-level Makefile; also works standalone:
#   make -f guests/linux/linux.mk [linux]      kernel and initramfs
#   make -f guests/linux/linux.mk linux-kernel     -> $(LINUX_IMAGE)
#   make -f guests/linux/linux.mk linux-initramfs  -> $(LINUX_INITRAMFS)
#   make -f guests/linux/linux.mk linux-qemu       boot both under plain QEMU (no Vireo)
#
# The Debian packages come from scripts/debian-fetch.sh, cached in
# $(VIREO_CACHE)/apt-trixie. The kernel is built outside the clone, in
# $(VIREO_CACHE)/linux-<key>, where <key> hashes everything that decides the
# result (see kernel.sh): a second make, or another clone on the same
# machine, reuses it. Both rules run every time, and are quick when nothing
# changed: they replace a file only when its content differs.

LINUX_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
LINUX_TOP := $(patsubst %/,%,$(dir $(patsubst %/,%,$(dir $(LINUX_DIR)))))

BUILD ?= build
CROSS ?= riscv64-linux-gnu-
PYTHON ?= /usr/bin/python3
QEMU ?= qemu-system-riscv64
# The kernel source package, from Debian 13; its version is whatever the mirror has.
LINUX_SOURCE_PKG ?= linux-source-6.12
VIREO_CACHE ?= $(if $(HOME),$(HOME)/.cache/vireo,$(abspath $(BUILD))/cache)
# The machine has 2 cores shared with others: build with 2 jobs, niced.
LINUX_JOBS ?= 2

LINUX_IMAGE := $(BUILD)/linux/Image
LINUX_INITRAMFS := $(BUILD)/linux/initramfs.cpio
LINUX_FETCH := VIREO_CACHE=$(VIREO_CACHE) bash $(LINUX_TOP)/scripts/debian-fetch.sh

.PHONY: linux linux-kernel linux-initramfs linux-qemu linux-clean linux-force
linux: linux-kernel linux-initramfs
linux-kernel: $(LINUX_IMAGE)
linux-initramfs: $(LINUX_INITRAMFS)
linux-force:

# DEPS_STAMP exists when the top-level Makefile includes us: install packages first.
$(LINUX_IMAGE): linux-force | $(DEPS_STAMP)
	@bash $(LINUX_DIR)/kernel.sh $(LINUX_SOURCE_PKG) $(LINUX_DIR)/vireo.config \
		$(VIREO_CACHE) $(CROSS) $(LINUX_JOBS) $(BUILD)/linux

include $(LINUX_DIR)/userland/userland.mk

# Plain QEMU, the same virt machine Vireo gives its VMs: the reference to compare with.
LINUX_QEMU_SMP ?= 2
LINUX_QEMU_MEM ?= 256M
# QEMU 7.2's OpenSBI 1.1 has no debug console (DBCN), and this kernel has no SBI v0.1
# console calls: the early console is the UART that the DT's stdout-path names.
LINUX_BOOTARGS ?= console=ttyS0 earlycon
linux-qemu: $(LINUX_IMAGE) $(LINUX_INITRAMFS)
	$(QEMU) -machine virt -cpu rv64 -smp $(LINUX_QEMU_SMP) -m $(LINUX_QEMU_MEM) -nographic \
		-bios default -kernel $(LINUX_IMAGE) -initrd $(LINUX_INITRAMFS) \
		-append "$(LINUX_BOOTARGS)"

linux-clean:
	rm -rf $(BUILD)/linux
