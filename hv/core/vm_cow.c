// SPDX-License-Identifier: BSD-2-Clause
/*
 * Forks' copy-on-write RAM; see vireo/vm_cow.h.
 *
 * A page of a fork is its own exactly when its G-stage leaf is writable: the
 * shared RAM is mapped read and execute only, a copy read, write and execute.
 * So the G-stage is the one record of what a fork owns, and ending a fork
 * frees the pages behind its writable 4 KiB leaves.
 */
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/sched.h>
#include <vireo/spinlock.h>
#include <vireo/string.h>
#include <vireo/time.h>
#include <vireo/vm.h>
#include <vireo/vm_cow.h>
#include <vireo/vm_mem.h>

#define FLUSH_PAUSE_US	 5     /* how long a waiting hart sleeps before it looks again */
#define FLUSH_TIMEOUT_US 20000 /* a vCPU that never leaves the guest: warn and go on */
#define PAGE_MASK	 (~(uint64_t)(PAGE_SIZE - 1))

static spinlock_t ram_lock = SPINLOCK_INIT; /* refs of every struct vm_ram */

/* The host address of the page at gpa in a set of runs (gpa is in them). */
static uint8_t *run_page(const struct guest_mem *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nruns; i++) {
		const struct guest_mem_run *r = &m->runs[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

/* ---------------------------------------------------------------- the template's RAM */

/* The template reads its RAM as it was; nothing of its own may write it any more (its
 * devices, the host through it): the forks see it. */
static uint8_t *sealed_page(void *ctx, uint64_t gpa)
{
	return run_page(&((struct vm_ram *)ctx)->mem, gpa);
}

static int sealed_privatize(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	(void)gpa;
	(void)len;
	return -VIREO_EBUSY;
}

static uint8_t *sealed_privatize_contig(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	(void)gpa;
	(void)len;
	return NULL;
}

/* Devices keep a copy of the VM's guest_mem: theirs are sealed too. */
static void seal(struct vm *tmpl, struct vm_ram *ram)
{
	ram->sealed =
	    (struct guest_mem_cow){sealed_page, sealed_privatize, sealed_privatize_contig, ram};
	tmpl->mem.cow = &ram->sealed;
	if (tmpl->console_dev)
		tmpl->console_dev->mem.cow = &ram->sealed;
	if (tmpl->disk)
		tmpl->disk->mem.cow = &ram->sealed;
}

/* The template never runs again (VM_RESUME refuses it); if it did, its stores would
 * fault and stop it rather than reach its forks' RAM. */
static void protect(struct vm *tmpl)
{
	for (unsigned i = 0; i < tmpl->mem.nruns; i++) {
		const struct guest_mem_run *r = &tmpl->mem.runs[i];

		if (gstage_unmap(&tmpl->gstage, r->gpa, r->size) ||
		    gstage_map(&tmpl->gstage, r->gpa, (uintptr_t)r->host, r->size,
			       GSTAGE_PERM_R | GSTAGE_PERM_X))
			log_warn("VM '%s': its RAM stays writable in its G-stage", tmpl->name);
	}
	for (unsigned i = 0; i < hart_count(); i++)
		hart_request(hart_by_index(i), HART_REQ_GVMA_FLUSH);
}

/* The template's RAM as a struct vm_ram, one more user counted. */
static struct vm_ram *share(struct vm *tmpl)
{
	struct vm_ram *fresh = kzalloc(sizeof(*fresh)), *ram;
	bool created = false;

	spin_lock(&ram_lock);
	ram = tmpl->shared;
	if (ram) {
		ram->refs++;
	} else if (fresh) {
		ram = fresh;
		fresh = NULL;
		ram->refs = 2; /* the template's and this fork's */
		ram->mem = tmpl->mem;
		ram->mem.cow = NULL;
		seal(tmpl, ram);
		tmpl->shared = ram;
		created = true;
	}
	spin_unlock(&ram_lock);
	if (fresh)
		kfree(fresh);
	if (created)
		protect(tmpl);
	return ram;
}

/* ---------------------------------------------------------------- coherence */

/*
 * The fork's G-stage changed: every hart that may hold its old translations
 * forgets them before the writer goes on. This one now; the others when a vCPU
 * of the fork next enters the guest on them (vcpu.c, vm->gstage_stale), and the
 * ones inside the guest right now are kicked out and waited for.
 */
static void flush(struct vm_cow *cow)
{
	struct vm *vm = cow->vm;
	unsigned long self = BIT(this_hart()->index);
	unsigned long others = __atomic_load_n(&vm->harts_ran, __ATOMIC_SEQ_CST) & ~self;
	uint64_t deadline;

	hart_flush_gstage_vmid(vm->vmid);
	if (!others)
		return;
	__atomic_fetch_or(&vm->gstage_stale, others, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&cow->flushes, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i] && __atomic_load_n(&vm->vcpus[i]->in_guest, __ATOMIC_SEQ_CST))
			vcpu_kick(vm->vcpus[i]);
	deadline = hart_time() + time_us_to_ticks(FLUSH_TIMEOUT_US);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		while (v && __atomic_load_n(&v->in_guest, __ATOMIC_SEQ_CST)) {
			struct hart *h = __atomic_load_n(&v->hart, __ATOMIC_ACQUIRE);

			if (!h || h->index >= 8 * sizeof(long) || BIT(h->index) & self ||
			    !(__atomic_load_n(&vm->gstage_stale, __ATOMIC_SEQ_CST) & BIT(h->index)))
				break;
			/* Another hart may be waiting on this one the same way (both copying
			 * from a device in a vCPU's fast path): this hart's own flush is done. */
			if (__atomic_load_n(&vm->gstage_stale, __ATOMIC_SEQ_CST) & self) {
				__atomic_fetch_and(&vm->gstage_stale, ~self, __ATOMIC_SEQ_CST);
				hart_flush_gstage_vmid(vm->vmid);
			}
			if (hart_time() >= deadline) {
				log_warn("VM '%s': vCPU %u did not flush its G-stage TLB", vm->name,
					 v->id);
				break;
			}
			hart_pause(time_us_to_ticks(FLUSH_PAUSE_US));
			/* The pause borrowed the host timer: the scheduler sets it again. */
			sched_timer_changed();
		}
	}
}

/* ---------------------------------------------------------------- the fork's pages */

/* The worst a copy of the page at gpa costs: the page, and a table per split. */
static uint64_t page_cost(const struct vm_cow *cow, uint64_t gpa)
{
	int level = gstage_leaf_level(&cow->vm->gstage, gpa);

	return PAGE_SIZE * (1 + (uint64_t)(level > 0 ? level : 0));
}

/* Map `to`, a copy of the page at gpa as it reads now, there, writable (under the lock). */
static int install(struct vm_cow *cow, uint64_t gpa, uint8_t *to)
{
	struct gstage *gs = &cow->vm->gstage;
	size_t tables = gs->table_pages;
	paddr_t from;
	int err;

	if (!gstage_translate(gs, gpa, &from, NULL))
		return -VIREO_EINVAL;
	memcpy(to, (const void *)(uintptr_t)from, PAGE_SIZE);
	err = gstage_set_page(gs, gpa, (uintptr_t)to, GSTAGE_PERM_RWX);
	cow->used += (gs->table_pages - tables) * PAGE_SIZE;
	if (!err) {
		cow->used += PAGE_SIZE;
		cow->copies++;
	}
	return err;
}

/* The page at gpa the fork's own (under the lock): 0, 1 if it was already, -VIREO_ENOMEM
 * (its limit, or the machine's memory), -VIREO_EINVAL if it is not RAM. */
static int privatize_page(struct vm_cow *cow, uint64_t gpa)
{
	paddr_t hpa;
	unsigned perms;
	uint8_t *to;
	int err;

	if (!gstage_translate(&cow->vm->gstage, gpa, &hpa, &perms))
		return -VIREO_EINVAL;
	if (perms & GSTAGE_PERM_W)
		return 1;
	if (cow->used + page_cost(cow, gpa) > cow->limit)
		return -VIREO_ENOMEM;
	to = page_alloc(1, PAGE_SIZE);
	if (!to)
		return -VIREO_ENOMEM;
	err = install(cow, gpa, to);
	if (err)
		page_free(to, 1);
	return err;
}

/* A fork that cannot have the page it writes stops, alone. */
static void out_of_memory(struct vm_cow *cow)
{
	log_info("VM '%s': copy-on-write stops at %lu KiB of its limit of %lu KiB (%lu pages "
		 "copied)",
		 cow->vm->name, (unsigned long)(cow->used / KIB), (unsigned long)(cow->limit / KIB),
		 (unsigned long)cow->copies);
	vm_stop(cow->vm, VM_STATUS_MEMORY, "out of memory for its copy-on-write pages");
}

/* guest_mem: the page at gpa as the fork sees it now. */
static uint8_t *fork_page(void *ctx, uint64_t gpa)
{
	struct vm_cow *cow = ctx;
	paddr_t hpa;
	bool mapped;

	spin_lock(&cow->lock);
	mapped = gstage_translate(&cow->vm->gstage, gpa, &hpa, NULL);
	spin_unlock(&cow->lock);
	return mapped ? (uint8_t *)(uintptr_t)hpa : run_page(&cow->ram->mem, gpa);
}

/* guest_mem: a device is about to write [gpa, gpa + len). */
static int fork_privatize(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vm_cow *cow = ctx;
	bool changed = false;
	int err = 0;

	if (!len)
		return 0;
	spin_lock(&cow->lock);
	for (uint64_t p = gpa & PAGE_MASK; p <= (gpa + len - 1) && !err; p += PAGE_SIZE) {
		err = privatize_page(cow, p);
		changed |= err == 0;
		err = err < 0 ? err : 0;
	}
	spin_unlock(&cow->lock);
	if (changed)
		flush(cow);
	if (err == -VIREO_ENOMEM)
		out_of_memory(cow);
	return err ? -VIREO_ENOMEM : 0;
}

/* How many of the n pages from first are private (under the lock); *apart if those are
 * not where one run from the first would put them. */
static unsigned private_pages(struct vm_cow *cow, uint64_t first, unsigned n, paddr_t *base,
			      bool *apart)
{
	unsigned count = 0;

	*apart = false;
	for (unsigned i = 0; i < n; i++) {
		paddr_t hpa;
		unsigned perms;

		if (!gstage_translate(&cow->vm->gstage, first + i * PAGE_SIZE, &hpa, &perms) ||
		    !(perms & GSTAGE_PERM_W))
			continue;
		if (!count && i == 0)
			*base = hpa;
		else if (!count || hpa != *base + i * PAGE_SIZE)
			*apart = true;
		count++;
	}
	return count;
}

/* n fresh contiguous pages for [first, first + n pages), none of them private yet (under
 * the lock); NULL at the limit or short of memory. */
static uint8_t *privatize_run(struct vm_cow *cow, uint64_t first, unsigned n)
{
	/* Splits: at most two tables for the first page, and one per 2 MiB after it. */
	uint64_t cost =
	    (uint64_t)n * PAGE_SIZE + page_cost(cow, first) + PAGE_SIZE * (2 + (uint64_t)n / 512);
	uint8_t *to;

	if (cow->used + cost > cow->limit)
		return NULL;
	to = page_alloc(n, PAGE_SIZE);
	if (!to)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		if (install(cow, first + i * PAGE_SIZE, to + i * PAGE_SIZE)) {
			/* Those mapped stay the fork's (they are right); the rest go back. */
			page_free(to + i * PAGE_SIZE, n - i);
			return NULL;
		}
	}
	return to;
}

/* guest_mem: a device keeps a pointer to [gpa, gpa + len) (a virtqueue ring). */
static uint8_t *fork_privatize_contig(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vm_cow *cow = ctx;
	uint64_t first = gpa & PAGE_MASK;
	unsigned n;
	paddr_t base = 0;
	bool apart, at_limit = false;
	uint8_t *host = NULL;
	unsigned have;

	if (!len || gpa + len - 1 < gpa)
		return NULL;
	n = (unsigned)((((gpa + len - 1) & PAGE_MASK) - first) / PAGE_SIZE + 1);
	spin_lock(&cow->lock);
	have = private_pages(cow, first, n, &base, &apart);
	if (have == n && !apart) {
		host = (uint8_t *)(uintptr_t)base + (gpa - first);
	} else if (!have) {
		host = privatize_run(cow, first, n);
		at_limit = !host;
		if (host)
			host += gpa - first;
	}
	spin_unlock(&cow->lock);
	if (host && !have)
		flush(cow);
	if (at_limit)
		out_of_memory(cow);
	return host;
}

/* ---------------------------------------------------------------- the interface */

/* The fork maps every run read and execute only; the first write to a page faults. */
static int map_shared(struct vm *fork)
{
	for (unsigned i = 0; i < fork->mem.nruns; i++) {
		const struct guest_mem_run *r = &fork->mem.runs[i];
		int err = gstage_map(&fork->gstage, r->gpa, (uintptr_t)r->host, r->size,
				     GSTAGE_PERM_R | GSTAGE_PERM_X);

		if (err) {
			log_error("VM '%s': cannot map the shared RAM in its G-stage (%d)",
				  fork->name, err);
			return err;
		}
	}
	return 0;
}

int vm_cow_attach(struct vm *fork, struct vm *tmpl)
{
	struct vm_cow *cow;
	struct vm_ram *ram;

	if (!tmpl || tmpl->cow || tmpl->sandbox || fork == tmpl)
		return -VIREO_EINVAL;
	cow = kzalloc(sizeof(*cow));
	if (!cow)
		return -VIREO_ENOMEM;
	ram = share(tmpl);
	if (!ram) {
		kfree(cow);
		return -VIREO_ENOMEM;
	}
	cow->vm = fork;
	cow->ram = ram;
	cow->limit = fork->config.mem_limit ? fork->config.mem_limit : VM_FORK_DEFAULT_LIMIT;
	cow->ops = (struct guest_mem_cow){fork_page, fork_privatize, fork_privatize_contig, cow};
	/* From here vm_free ends it (vm_cow_detach), whatever else fails. */
	fork->cow = cow;
	fork->ram_base = tmpl->ram_base;
	fork->ram_size = tmpl->ram_size;
	fork->mem = ram->mem;
	fork->mem.cow = &cow->ops;
	return map_shared(fork);
}

static void free_copy(void *ctx, gpa_t gpa, paddr_t hpa)
{
	(void)ctx;
	(void)gpa;
	page_free((void *)(uintptr_t)hpa, 1);
}

void vm_cow_detach(struct vm *fork)
{
	struct vm_cow *cow = fork->cow;

	if (!cow)
		return;
	log_info("VM '%s': copy-on-write: %lu pages copied, %lu KiB of %lu KiB used, %lu remote "
		 "flushes",
		 fork->name, (unsigned long)cow->copies, (unsigned long)(cow->used / KIB),
		 (unsigned long)(cow->limit / KIB), (unsigned long)cow->flushes);
	/* Its copies are the writable leaves (the shared RAM is never mapped writable). */
	if (fork->gstage.root)
		for (unsigned i = 0; i < fork->mem.nruns; i++)
			gstage_for_each_page(&fork->gstage, fork->mem.runs[i].gpa,
					     fork->mem.runs[i].size, GSTAGE_PERM_W, free_copy,
					     NULL);
	fork->mem.cow = NULL;
	fork->mem.nruns = 0;
	fork->cow = NULL;
	vm_ram_put(cow->ram);
	kfree(cow);
}

bool vm_cow_fault(struct vcpu *v, uint64_t gpa, bool *stopped)
{
	struct vm_cow *cow = v->vm->cow;
	int err;

	*stopped = false;
	if (!cow || !guest_mem_contains(&v->vm->mem, gpa, 1))
		return false;
	spin_lock(&cow->lock);
	err = privatize_page(cow, gpa & PAGE_MASK);
	spin_unlock(&cow->lock);
	if (err == -VIREO_EINVAL)
		return false;
	if (err < 0) {
		out_of_memory(cow);
		*stopped = true;
		return true;
	}
	/* 1: another vCPU copied it first; this hart may still hold the read-only leaf. */
	if (err)
		hart_flush_gstage_vmid(v->vm->vmid);
	else
		flush(cow);
	return true;
}

int vm_cow_can_fork(struct vm *tmpl)
{
	if (!tmpl || tmpl->cow || tmpl->sandbox || tmpl->config.sandbox || tmpl->aia ||
	    tmpl->net_dev || tmpl->config.net)
		return -VIREO_EINVAL;
	if (!vm_is_parked(tmpl))
		return -VIREO_EBUSY;
	return 0;
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
