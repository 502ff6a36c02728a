# SPDX-License-Identifier: BSD-2-Clause
# What clients and a machine's daemon say to each other (tools/libvireo/mproto.c).
UNIT_TESTS += mproto
UNIT_SRCS_mproto := tests/unit/test_mproto.c tools/libvireo/mproto.c hv/lib/vx.c
UNIT_DEPS_mproto := tools/libvireo/mproto.h
UNIT_EXTRA_mproto := -Itools/libvireo
