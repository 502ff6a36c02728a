# SPDX-License-Identifier: BSD-2-Clause
# The host tool's bundle writer, read back with the hypervisor's bundle parser.
UNIT_TESTS += bundle_write
UNIT_SRCS_bundle_write := tools/bundle_write.c tools/vm_config.c hv/core/bundle.c hv/lib/printf.c \
	tests/unit/test_bundle_write.c
UNIT_DEPS_bundle_write := tools/bundle_write.h tools/vm_config.h hv/include/vireo/bundle.h
UNIT_EXTRA_bundle_write := -Itools -fno-sanitize-recover=all
