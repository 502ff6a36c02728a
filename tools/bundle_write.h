/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packing a boot bundle from parsed VM definitions. The layout is the one in
 * hv/include/vireo/bundle.h (the hypervisor's parser reads the same struct):
 * header, VM table, then each VM's kernel and initrd in order, every image on
 * a 4 KiB boundary, zero padding between them and nothing after the last.
 */
#ifndef VIREO_TOOLS_BUNDLE_WRITE_H
#define VIREO_TOOLS_BUNDLE_WRITE_H

#include <stdint.h>
#include <stdio.h>

#include <vireo/bundle.h>

#include "vm_config.h"

#define BUNDLE_WRITE_ALIGN 4096

/* The fixed fields of one VM entry; offsets and sizes are left 0. */
void bundle_write_entry(const struct vm_config_vm *vm, struct bundle_vm *entry);

/*
 * Write the bundle of cfg's VMs to out (out_name names it in messages).
 * flags: BUNDLE_SELFTEST_PANIC and friends. 0, or -1 with *err set (free it).
 */
int bundle_write(const struct vm_config *cfg, uint32_t flags, FILE *out, const char *out_name,
		 char **err);
/* The same into a new file at path; a partial file is removed on error. */
int bundle_write_file(const struct vm_config *cfg, uint32_t flags, const char *path, char **err);

#endif
