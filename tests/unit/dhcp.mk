# SPDX-License-Identifier: BSD-2-Clause
# Vireo's DHCP server (hv/net/dhcp.c): answers, their checksums, hostile frames.
UNIT_TESTS += dhcp
UNIT_SRCS_dhcp := hv/net/dhcp.c tests/unit/test_dhcp.c
UNIT_EXTRA_dhcp := -fno-sanitize-recover=all
