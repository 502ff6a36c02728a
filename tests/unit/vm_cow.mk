# SPDX-License-Identifier: BSD-2-Clause
# Forks' copy-on-write RAM: core/vm_cow.c over the real G-stage tables and guest memory;
# the page pool, the heap, the harts and vm_stop are fakes in the test.
UNIT_TESTS += vm_cow
UNIT_SRCS_vm_cow := hv/core/vm_cow.c hv/arch/riscv/gstage.c hv/core/guest_mem.c \
	tests/unit/test_vm_cow.c
UNIT_EXTRA_vm_cow := -fno-sanitize-recover=all
