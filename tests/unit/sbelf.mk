# SPDX-License-Identifier: BSD-2-Clause
# libvireo's reader of sandbox programs' symbols, on ELF images built in the test.
UNIT_TESTS += sbelf
UNIT_SRCS_sbelf := tests/unit/test_sbelf.c tools/libvireo/sandbox_elf.c
UNIT_DEPS_sbelf := tools/libvireo/sandbox_elf.h
UNIT_EXTRA_sbelf := -Itools/libvireo -fno-sanitize-recover=all
