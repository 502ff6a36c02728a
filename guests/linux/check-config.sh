#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check-config.sh FRAGMENT DOTCONFIG
# Fails if any setting of the fragment did not survive into the final .config:
# Kconfig silently drops a symbol whose dependencies are unmet, and we want
# to hear about that at build time, not when the guest fails to boot.
set -eu
frag=$1
config=$2
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		if ! grep -qxF -- "$line" "$config"; then
			sym=${line%%=*}
			got=$(grep -E "^(# )?$sym[= ]" "$config" || echo "(absent)")
			echo "vireo.config: wanted '$line', got '$got'" >&2
			bad=1
		fi
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		if grep -q "^$sym=" "$config"; then
			echo "vireo.config: wanted $sym off, got '$(grep "^$sym=" "$config")'" >&2
			bad=1
		fi
		;;
	esac
done <"$frag"
exit $bad
