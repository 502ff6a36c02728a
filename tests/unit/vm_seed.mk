# SPDX-License-Identifier: BSD-2-Clause
# Per-VM boot seeds: from a host DTB's rng-seed (or a fake entropy source) into guest DTBs.
UNIT_VM_SEED_LIBFDT := $(addprefix $(LIBFDT_DIR)/,fdt.c fdt_ro.c fdt_rw.c fdt_sw.c fdt_wip.c \
	fdt_strerror.c fdt_addresses.c fdt_empty_tree.c)
$(UNIT_VM_SEED_LIBFDT): | $(LIBFDT_STAMP)

UNIT_TESTS += vm_seed
UNIT_SRCS_vm_seed := hv/core/vm_seed.c hv/core/vm_fdt.c hv/core/platform.c hv/core/platform_aia.c hv/lib/hkdf.c \
	hv/lib/sha256.c hv/lib/printf.c tests/unit/test_vm_seed.c $(UNIT_VM_SEED_LIBFDT)
UNIT_DEPS_vm_seed := hv/include/vireo/vm_seed.h
UNIT_EXTRA_vm_seed := -Wno-sign-compare -fno-sanitize-recover=all
