# SPDX-License-Identifier: BSD-2-Clause
# The switch (hv/net/): forwarding, address table, fair backlog and DHCP, on fake ports.
UNIT_TESTS += net_switch
UNIT_SRCS_net_switch := hv/net/switch.c hv/net/mac_table.c hv/net/backlog.c hv/net/frame.c \
	hv/net/dhcp.c hv/lib/string.c tests/unit/test_net_switch.c
UNIT_EXTRA_net_switch := -fno-sanitize-recover=all
