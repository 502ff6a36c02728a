# SPDX-License-Identifier: BSD-2-Clause
# The guest device tree, read back with libfdt (compiled in from its source).
UNIT_VM_FDT_LIBFDT := $(addprefix $(LIBFDT_DIR)/,fdt.c fdt_ro.c fdt_rw.c fdt_sw.c fdt_wip.c \
	fdt_strerror.c fdt_addresses.c fdt_empty_tree.c)
# The libfdt sources exist once the tarball is extracted.
$(UNIT_VM_FDT_LIBFDT): | $(LIBFDT_STAMP)

UNIT_TESTS += vm_fdt
UNIT_SRCS_vm_fdt := hv/core/vm_fdt.c hv/lib/printf.c tests/unit/test_vm_fdt.c $(UNIT_VM_FDT_LIBFDT)
UNIT_EXTRA_vm_fdt := -Wno-sign-compare -fno-sanitize-recover=all
