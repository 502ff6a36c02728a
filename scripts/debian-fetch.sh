#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# debian-fetch.sh PACKAGE...
#
# Downloads the current Debian 13 (trixie) binary packages named, for
# riscv64 (or arch "all"), and prints the path of each cached .deb on
# standard output, one a line, in the order asked. Messages go to stderr.
#
# The machine's own apt setup is never touched: apt gets a private sources
# list, state and cache under $VIREO_CACHE/apt-trixie/ (default
# ~/.cache/vireo), and verifies the archive's signatures with
# debian-archive-keyring. The mirror is the one the machine already uses for
# bookworm (/etc/apt/sources.list.d/debian.sources, else
# /etc/apt/sources.list), so no host name is written down here.
#
# Network use: `apt-get update` only when the private lists are missing or
# older than a week; a package is downloaded only when its candidate version
# is not in the cache yet. When the network fails, the newest cached .deb of
# the package is used instead, with a warning.
set -euo pipefail

SUITE=trixie
ARCH=riscv64
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MAX_LIST_AGE_DAYS=7

root="${VIREO_CACHE:-$HOME/.cache/vireo}/apt-trixie"
debs="$root/debs"

say() { echo "debian-fetch: $*" >&2; }

if [ $# -eq 0 ]; then
	echo "usage: $0 PACKAGE..." >&2
	exit 2
fi

# The URI of the machine's bookworm entry: deb822 first, then one-line style.
mirror_uri() {
	local f=/etc/apt/sources.list.d/debian.sources uri
	if [ -r "$f" ]; then
		uri=$(awk '
			/^[ \t]*$/ { if (suite && uris) { print uris; exit } suite = 0; uris = ""; next }
			/^[ \t]*#/ { next }
			tolower($1) == "uris:" { uris = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == "bookworm") suite = 1 }
			END { if (suite && uris) print uris }' "$f" | head -n 1)
		if [ -n "$uri" ]; then
			echo "$uri"
			return
		fi
	fi
	f=/etc/apt/sources.list
	if [ -r "$f" ]; then
		# deb [options] URI bookworm components...
		uri=$(sed -n 's/^[ \t]*deb[ \t]\+\(\[[^]]*\][ \t]\+\)\{0,1\}\([^ \t]\+\)[ \t]\+bookworm[ \t].*/\2/p' \
			"$f" | head -n 1)
		if [ -n "$uri" ]; then
			echo "$uri"
			return
		fi
	fi
	return 1
}

mkdir -p "$root/lists/partial" "$root/cache/archives/partial" "$root/etc" "$debs" "$root/tmp"

# One fetch at a time per cache (make -j may start two).
exec 9>"$root/lock"
flock 9

apt_opts=(
	-o "Dir::Etc::SourceList=$root/etc/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::Etc::Preferences=/dev/null"
	-o "Dir::Etc::PreferencesParts=/dev/null"
	-o "Dir::State::Lists=$root/lists"
	-o "Dir::State::status=/dev/null"
	-o "Dir::Cache=$root/cache"
	-o "APT::Architecture=$ARCH"
	-o "APT::Architectures=$ARCH"
	-o "Acquire::Languages=none"
)
# As root, apt downloads as the unprivileged _apt user, which cannot enter
# ~root; the files are checked against the signed lists either way.
if [ "$(id -u)" -eq 0 ]; then
	apt_opts+=(-o "APT::Sandbox::User=root")
fi

if uri=$(mirror_uri); then
	new="deb [arch=$ARCH signed-by=$KEYRING] $uri $SUITE main"
	if [ ! -r "$root/etc/sources.list" ] || [ "$(cat "$root/etc/sources.list")" != "$new" ]; then
		echo "$new" >"$root/etc/sources.list"
		rm -f "$root/lists/updated"
	fi
elif [ ! -r "$root/etc/sources.list" ]; then
	say "no bookworm entry in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
fi

have_lists() { compgen -G "$root/lists/*_Packages*" >/dev/null; }

stale=1
if have_lists && [ -e "$root/lists/updated" ] &&
	[ -z "$(find "$root/lists/updated" -mtime +$MAX_LIST_AGE_DAYS)" ]; then
	stale=0
fi
if [ $stale = 1 ] && [ -r "$root/etc/sources.list" ]; then
	say "apt-get update ($SUITE, $ARCH)"
	if apt-get "${apt_opts[@]}" -q=2 update >"$root/update.log" 2>&1 &&
		! grep -q '^[WE]:' "$root/update.log"; then
		touch "$root/lists/updated"
	else
		sed 's/^/  /' "$root/update.log" >&2
		say "apt-get update failed; using what is cached"
	fi
fi

newest_cached() {
	# Highest version among the cached .debs of package $1.
	local best="" f v
	for f in "$debs/$1"_*.deb; do
		[ -e "$f" ] || continue
		v=$(dpkg-deb -f "$f" Version)
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$(dpkg-deb -f "$best" Version)"; then
			best=$f
		fi
	done
	[ -n "$best" ] && echo "$best"
}

status=0
for pkg in "$@"; do
	ver=""
	# apt-cache cannot keep its cache here and takes a second to rebuild it:
	# remember each candidate until the lists change.
	memo="$root/candidates/$pkg"
	if [ -s "$memo" ] && [ "$memo" -nt "$root/lists/updated" ] &&
		[ "$memo" -nt "$root/etc/sources.list" ]; then
		ver=$(cat "$memo")
	elif have_lists; then
		ver=$(apt-cache "${apt_opts[@]}" policy "$pkg" 2>/dev/null |
			sed -n 's/^ *Candidate: *//p' | head -n 1)
		[ "$ver" = "(none)" ] && ver=""
		if [ -n "$ver" ]; then
			mkdir -p "$root/candidates"
			echo "$ver" >"$memo"
		fi
	fi
	if [ -n "$ver" ]; then
		# apt names files with the epoch's ':' as %3a; keep our own name simple.
		file_ver=${ver//:/%3a}
		want=$(compgen -G "$debs/${pkg}_${file_ver}_*.deb" | head -n 1 || true)
		if [ -n "$want" ]; then
			echo "$want"
			continue
		fi
		say "downloading $pkg $ver"
		tmp=$(mktemp -d "$root/tmp/dl.XXXXXX")
		if (cd "$tmp" && apt-get "${apt_opts[@]}" -q=2 download "$pkg=$ver" >&2); then
			f=$(compgen -G "$tmp/${pkg}_*.deb" | head -n 1 || true)
			if [ -n "$f" ]; then
				mv "$f" "$debs/"
				rm -rf "$tmp"
				echo "$debs/$(basename "$f")"
				continue
			fi
		fi
		rm -rf "$tmp"
		say "downloading $pkg $ver failed"
	fi
	if f=$(newest_cached "$pkg"); then
		say "using cached $(basename "$f") (could not get the current candidate)"
		echo "$f"
	else
		say "$pkg: cannot download it from $SUITE and none is cached"
		status=1
	fi
done
exit $status
