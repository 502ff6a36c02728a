# SPDX-License-Identifier: BSD-2-Clause
# The control plane: its queue and dispatch on the real channel core and framing, and
# the core ops against fake VMs (whatever bytes the host sends, bounds hold).
UNIT_TESTS += ctl
UNIT_SRCS_ctl := hv/core/ctl.c hv/core/ctl_vm.c hv/core/ctl_args.c hv/core/chan.c hv/core/guest_mem.c \
	hv/lib/vx.c hv/lib/byte_ring.c hv/lib/printf.c tests/unit/ctl_tables_stub.c \
	tests/unit/test_ctl.c
UNIT_EXTRA_ctl := -fno-sanitize-recover=all -DCTL_STUB_HAVE_CORE
