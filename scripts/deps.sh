#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian packages Vireo needs to build, run and test, if missing.
# Runs as root (apt-get); otherwise names what is missing and how to get it.
set -euo pipefail

PACKAGES=(
	make gcc libc6-dev                  # host tools and unit tests
	gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu libc6-dev-riscv64-cross
	qemu-system-misc                    # qemu-system-riscv64 with OpenSBI v1.1
	device-tree-compiler libfdt-dev     # dtc for test DTBs
	linux-source-6.1                    # libfdt source for the hypervisor
	debian-archive-keyring              # debian-fetch.sh: trixie's kernel source and BusyBox
	python3 python3-pytest python3-pexpect
	libcmocka-dev                       # unit-test framework
	nettle-dev                          # libvireo: SHA-256 of snapshot files
	bc bison flex libssl-dev libelf-dev cpio xz-utils  # guest kernel build
	e2fsprogs                           # mke2fs -d / debugfs for disk tests
	clang-format cppcheck               # make format / make lint
	clang libclang-rt-14-dev            # make fuzz: libFuzzer
	gnuplot-nox                         # make bench: the plot of the ratios
	gdb-multiarch                       # test_gdb.py: vireo run --gdb, a debugger for guests
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "vireo: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "vireo: not root; run as root:  apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
