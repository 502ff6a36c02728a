/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-VM boot seeds (the guest's /chosen/rng-seed and kaslr-seed).
 *
 * At boot Vireo takes one secret: the host's /chosen/rng-seed (QEMU puts 32
 * random bytes there), or else raw output of the hart's entropy source. It is
 * condensed with HKDF-Extract into a key that never leaves the hypervisor, and
 * wiped from the host's device tree. Each seed a VM gets is then
 * HKDF-Expand(key, label | counter | VMID | name): the counter grows with every
 * seed handed out, so two VMs, or one VM booted twice, never get the same
 * bytes, and knowing one VM's seed tells nothing about another's.
 * Without either source there is no key, and guests get no seed rather than
 * a predictable one.
 */
#ifndef VIREO_VM_SEED_H
#define VIREO_VM_SEED_H

#include <vireo/platform.h>
#include <vireo/sha256.h>
#include <vireo/types.h>

#define VM_SEED_RNG_SIZE   64 /* /chosen/rng-seed */
#define VM_SEED_KASLR_SIZE 8  /* /chosen/kaslr-seed, a u64 */

struct vm_seeds {
	uint8_t rng[VM_SEED_RNG_SIZE];
	uint8_t kaslr[VM_SEED_KASLR_SIZE];
};

/* Boot hart, once: take the host's seed from fdt (and wipe it there and in plat),
 * or fall back to the hart's entropy source. Logs where the key came from. */
void vm_seed_init(void *fdt, struct platform *plat);
/* Fresh seeds for a VM; false (and *out zeroed) if Vireo has no key. */
bool vm_seed_derive(const char *vm_name, unsigned vmid, struct vm_seeds *out);

/* Once the seeds are in the guest's device tree, no other copy should remain. */
static inline void vm_seed_wipe(struct vm_seeds *s)
{
	secure_wipe(s, sizeof(*s));
}

#endif
