# SPDX-License-Identifier: BSD-2-Clause
# Snapshot files as a machine's daemon writes and checks them (tools/libvireo/snapfile.c).
UNIT_TESTS += snapfile
UNIT_SRCS_snapfile := tests/unit/test_snapfile.c tools/libvireo/snapfile.c tools/libvireo/hsha.c
UNIT_DEPS_snapfile := tools/libvireo/snapfile.h tools/libvireo/hsha.h
UNIT_EXTRA_snapfile := -Itools/libvireo -lnettle
