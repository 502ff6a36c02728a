// SPDX-License-Identifier: BSD-2-Clause
/*
 * VMID allocation. VMID 0 is the hypervisor's "no guest"; VMs get 1..max.
 * A recycled VMID may still have G-stage TLB entries from its previous VM
 * on some hart, so every hart is asked to flush it before running anything.
 */
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/spinlock.h>
#include <vireo/vmid.h>

#define VMID_TRACKED 64 /* at most this many VMs exist at once */

static spinlock_t vmid_lock = SPINLOCK_INIT;
static uint64_t vmid_used = 1; /* bit 0: VMID 0, never handed out */

unsigned vmid_alloc(void)
{
	unsigned limit = cpu_features.vmid_bits >= 6 ? VMID_TRACKED : 1u << cpu_features.vmid_bits;
	unsigned vmid = 0;

	spin_lock(&vmid_lock);
	for (unsigned i = 1; i < limit; i++) {
		if (!(vmid_used & (1ULL << i))) {
			vmid_used |= 1ULL << i;
			vmid = i;
			break;
		}
	}
	spin_unlock(&vmid_lock);
	if (vmid)
		for (unsigned i = 0; i < hart_count(); i++)
			hart_request(hart_by_index(i), HART_REQ_GVMA_FLUSH);
	return vmid;
}

void vmid_free(unsigned vmid)
{
	spin_lock(&vmid_lock);
	vmid_used &= ~(1ULL << vmid);
	spin_unlock(&vmid_lock);
}
