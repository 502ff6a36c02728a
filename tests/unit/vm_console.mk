# SPDX-License-Identifier: BSD-2-Clause
# The VMs' consoles on the shared console, with the real printf, string and time
# code; the hypervisor console, the clock and the scheduler hook are fakes.
UNIT_TESTS += vm_console
UNIT_SRCS_vm_console := hv/core/vm_console.c hv/lib/printf.c hv/lib/string.c hv/lib/time.c \
	tests/unit/test_vm_console.c
UNIT_EXTRA_vm_console := -fno-sanitize-recover=all
