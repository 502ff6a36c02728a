# SPDX-License-Identifier: BSD-2-Clause
# The guest agent and libvireo against each other over a socketpair, both built for the host.
UNIT_TESTS += agent
UNIT_SRCS_agent := tests/unit/test_agent.c guests/linux/userland/agent.c \
	guests/linux/userland/agent_core.c tests/unit/clock_sync_stub.c $(LIBVIREO_SRCS)
UNIT_DEPS_agent := $(LIBVIREO_HDRS) $(wildcard guests/linux/userland/agent*.h)
UNIT_EXTRA_agent := -Itools -Itools/libvireo -Itools/libvireo/include -Iguests/linux/userland \
	-fno-sanitize-recover=all -lpthread -lnettle
