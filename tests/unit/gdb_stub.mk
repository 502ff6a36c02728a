# SPDX-License-Identifier: BSD-2-Clause
# The gdb stub: the remote protocol's framing and its packets against a fake Vireo.
UNIT_TESTS += gdb_stub
UNIT_SRCS_gdb_stub := tools/libvireo/rsp.c tools/libvireo/gdb_stub.c tests/unit/test_gdb_stub.c
UNIT_DEPS_gdb_stub := tools/libvireo/rsp.h tools/libvireo/gdb_stub.h
UNIT_EXTRA_gdb_stub := -Itools/libvireo -fno-sanitize-recover=all
