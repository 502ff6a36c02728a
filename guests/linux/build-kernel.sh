#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# build-kernel.sh SOURCE FRAGMENT OUTDIR CROSS_COMPILE JOBS
#
# Builds Linux for Vireo's guest from Debian's kernel source. SOURCE is a
# linux-source-X.Y .deb (the tarball inside is streamed out, never stored) or
# a linux-source tarball. It extracts it, configures allnoconfig + FRAGMENT,
# checks that every line of FRAGMENT took effect, builds Image, and leaves Image, vmlinux (for symbolising guest
# PCs), System.map and .config in OUTDIR. Everything happens in a scratch
# directory that is renamed to OUTDIR only on success, so an interrupted build
# never leaves a half-made cache entry behind. LINUX_KEEP_TREE=1 keeps the
# built tree in OUTDIR/src (1.5 GB) for kernel debugging.
set -euo pipefail

if [ $# -ne 5 ]; then
	echo "usage: $0 SOURCE FRAGMENT OUTDIR CROSS_COMPILE JOBS" >&2
	exit 2
fi
source=$1
fragment=$(realpath "$2")
out=$3
cross=$4
jobs=$5
here=$(dirname "$(realpath "$0")")

work="$out.tmp.$$"
trap 'rm -rf "$work"' EXIT
rm -rf "$work"
mkdir -p "$work/src" "$work/out"

echo "  LINUX   extracting $(basename "$source") to $work"
case $source in
*.deb)
	dpkg-deb --fsys-tarfile "$source" |
		tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$work/src" --strip-components=1
	;;
*)
	tar -xf "$source" -C "$work/src" --strip-components=1
	;;
esac
test -e "$work/src/Makefile" || { echo "build-kernel.sh: no kernel tree in $source" >&2; exit 1; }

# A fixed identity makes `uname -v` and the Image the same on every machine.
kmake() {
	make -C "$work/src" -s ARCH=riscv CROSS_COMPILE="$cross" \
		KBUILD_BUILD_USER=vireo KBUILD_BUILD_HOST=vireo \
		KBUILD_BUILD_VERSION=1 KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 1970" "$@"
}

echo "  LINUX   allnoconfig + $(basename "$fragment")"
kmake KCONFIG_ALLCONFIG="$fragment" allnoconfig
bash "$here/check-config.sh" "$fragment" "$work/src/.config"

echo "  LINUX   building Image with -j$jobs (a few minutes)"
kmake -j"$jobs" Image
# The build may re-run Kconfig; the check holds for the .config it really used.
bash "$here/check-config.sh" "$fragment" "$work/src/.config"

for f in arch/riscv/boot/Image vmlinux System.map .config; do
	cp "$work/src/$f" "$work/out/"
done
if [ "${LINUX_KEEP_TREE:-0}" = 1 ]; then
	mv "$work/src" "$work/out/src"
fi
mkdir -p "$(dirname "$out")"
rm -rf "$out"
mv "$work/out" "$out"
echo "  LINUX   $out/Image ($(stat -c %s "$out/Image") bytes)"
