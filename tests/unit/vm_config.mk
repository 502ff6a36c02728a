# SPDX-License-Identifier: BSD-2-Clause
# The host tool's config files and --vm specs (tools/vm_config.c).
UNIT_TESTS += vm_config
UNIT_SRCS_vm_config := tools/vm_config.c tests/unit/test_vm_config.c
UNIT_DEPS_vm_config := tools/vm_config.h hv/include/vireo/bundle.h
UNIT_EXTRA_vm_config := -Itools -fno-sanitize-recover=all
