#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Extract libfdt's upstream source from Debian's linux-source tarball.
set -euo pipefail
tarball=$1
dest=$2
if [ ! -f "$tarball" ]; then
	echo "vireo: $tarball not found (Debian package linux-source-6.1)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "vireo: extracting libfdt from $tarball"
tar -xf "$tarball" -C "$tmp" --wildcards '*/scripts/dtc/libfdt/*'
mkdir -p "$dest"
cp "$tmp"/*/scripts/dtc/libfdt/*.[ch] "$dest"/
