#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# kernel.sh PACKAGE FRAGMENT CACHE CROSS_COMPILE JOBS OUTDIR
#
# Makes sure OUTDIR holds the guest kernel (Image, vmlinux, System.map,
# kernel.config) built from the current Debian 13 PACKAGE (linux-source-X.Y)
# with FRAGMENT. The kernel itself is built once per key, in CACHE/linux-<key>,
# where <key> hashes everything that decides the result: the package and its
# version, the fragment, the build scripts and the compiler. A second run, or
# another clone on the same machine, only compares files: no network (see
# scripts/debian-fetch.sh) and no build. Files in OUTDIR are replaced only when
# they differ, so their dates say when the kernel really changed.
set -euo pipefail

if [ $# -ne 6 ]; then
	echo "usage: $0 PACKAGE FRAGMENT CACHE CROSS_COMPILE JOBS OUTDIR" >&2
	exit 2
fi
pkg=$1
fragment=$2
cache=$3
cross=$4
jobs=$5
out=$6
here=$(dirname "$(realpath "$0")")
top=$(dirname "$(dirname "$here")")

deb=$(VIREO_CACHE="$cache" bash "$top/scripts/debian-fetch.sh" "$pkg" | tail -n 1)
version=$(dpkg-deb -f "$deb" Version)
key=$({
	echo "$pkg $version"
	cat "$fragment" "$here/kernel.sh" "$here/build-kernel.sh" "$here/check-config.sh"
	"${cross}gcc" --version | head -n 1
} | sha256sum | cut -c1-16)
entry="$cache/linux-$key"

if [ ! -e "$entry/Image" ]; then
	echo "  LINUX   $pkg $version, key $key: not cached, building"
	start=$(date +%s)
	nice -n 10 bash "$here/build-kernel.sh" "$deb" "$fragment" "$entry" "$cross" "$jobs"
	echo "  LINUX   built in $(($(date +%s) - start)) s"
fi
[ -e "$entry/version" ] || echo "$pkg $version" >"$entry/version"

mkdir -p "$out"
update() {
	if ! cmp -s "$1" "$2"; then
		cp "$1" "$2.tmp"
		mv "$2.tmp" "$2"
		echo "  CP      $2"
	fi
}
update "$entry/vmlinux" "$out/vmlinux"
update "$entry/System.map" "$out/System.map"
update "$entry/.config" "$out/kernel.config"
update "$entry/version" "$out/kernel.version"
# The Image last: make and the tests take it as the sign that the rest is there.
update "$entry/Image" "$out/Image"
