// SPDX-License-Identifier: BSD-2-Clause
/* Forks' copy-on-write RAM; see vireo/vm_cow.h. */
#include <vireo/mm.h>
#include <vireo/spinlock.h>
#include <vireo/vm.h>
#include <vireo/vm_cow.h>
#include <vireo/vm_mem.h>

static spinlock_t ram_lock = SPINLOCK_INIT; /* refs of every struct vm_ram */

int vm_cow_attach(struct vm *fork, struct vm *tmpl)
{
	(void)fork;
	(void)tmpl;
	return -VIREO_ENOSYS;
}

void vm_cow_detach(struct vm *fork)
{
	(void)fork;
}

bool vm_cow_fault(struct vcpu *v, uint64_t gpa, bool *stopped)
{
	(void)v;
	(void)gpa;
	*stopped = false;
	return false;
}

int vm_cow_can_fork(struct vm *tmpl)
{
	(void)tmpl;
	return -VIREO_ENOSYS;
}

void vm_ram_put(struct vm_ram *ram)
{
	bool last;

	spin_lock(&ram_lock);
	last = --ram->refs == 0;
	spin_unlock(&ram_lock);
	if (!last)
		return;
	for (unsigned i = 0; i < ram->mem.nruns; i++)
		page_free(ram->mem.runs[i].host, ram->mem.runs[i].size / PAGE_SIZE);
	vm_mem_release(ram->charge);
	kfree(ram);
}

uint64_t vm_ram_keep_charge(struct vm_ram *ram, uint64_t bytes)
{
	ram->charge += bytes;
	return bytes;
}
