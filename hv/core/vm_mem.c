// SPDX-License-Identifier: BSD-2-Clause
/* Memory promised to VMs in a long-lived machine; see vireo/vm_mem.h. */
#include <vireo/mm.h>
#include <vireo/printf.h>
#include <vireo/spinlock.h>
#include <vireo/vm.h>
#include <vireo/vm_cow.h>
#include <vireo/vm_mem.h>

static spinlock_t mem_lock = SPINLOCK_INIT;
static uint64_t limit, committed;
static bool started;

void vm_mem_start(void)
{
	uint64_t free = (uint64_t)mm_free_pages() * PAGE_SIZE;

	spin_lock(&mem_lock);
	limit = free > VM_MEM_RESERVE ? free - VM_MEM_RESERVE : 0;
	started = true;
	spin_unlock(&mem_lock);
}

uint64_t vm_mem_need(const struct vm_config *cfg)
{
	uint64_t own = cfg->origin == VM_ORIGIN_FORK
			   ? (cfg->mem_limit ? cfg->mem_limit : VM_FORK_DEFAULT_LIMIT)
			   : ALIGN_UP(cfg->ram_size, 2 * MIB);

	uint64_t more = VM_MEM_OVERHEAD + (uint64_t)cfg->vcpus * VM_MEM_VCPU_OVERHEAD;

	/* Whatever the request said, never wrap: more than there is can only be refused. */
	return own > UINT64_MAX - more ? UINT64_MAX : own + more;
}

int vm_mem_charge(uint64_t bytes)
{
	int err = 0;

	spin_lock(&mem_lock);
	if (started && (bytes > limit || committed > limit - bytes))
		err = -VIREO_ENOMEM;
	else if (started)
		committed += bytes;
	spin_unlock(&mem_lock);
	return err;
}

void vm_mem_release(uint64_t bytes)
{
	spin_lock(&mem_lock);
	committed -= bytes < committed ? bytes : committed;
	spin_unlock(&mem_lock);
}

int vm_mem_commit(struct vm *vm, char *why, size_t size)
{
	uint64_t need = vm_mem_need(&vm->config);

	if (!started)
		return 0;
	if (vm_mem_charge(need)) {
		uint64_t have = vm_mem_limit() - vm_mem_committed();

		if (why && size)
			vireo_snprintf(why, size,
				       "does not fit: it needs %lu MiB, the machine has %lu MiB "
				       "left of %lu MiB for VMs",
				       (unsigned long)((need + MIB - 1) / MIB),
				       (unsigned long)(have / MIB),
				       (unsigned long)(vm_mem_limit() / MIB));
		return -VIREO_ENOMEM;
	}
	vm->committed = need;
	return 0;
}

void vm_mem_uncommit(struct vm *vm)
{
	uint64_t bytes = vm->committed;

	vm->committed = 0;
	/* Forks still map its RAM: that share is released with the RAM (vm_ram_put). */
	if (vm->shared && !vm->cow)
		bytes -=
		    vm_ram_keep_charge(vm->shared, MIN(bytes, ALIGN_UP(vm->ram_size, 2 * MIB)));
	vm_mem_release(bytes);
}

uint64_t vm_mem_committed(void)
{
	return __atomic_load_n(&committed, __ATOMIC_RELAXED);
}

uint64_t vm_mem_limit(void)
{
	return __atomic_load_n(&limit, __ATOMIC_RELAXED);
}
