// SPDX-License-Identifier: BSD-2-Clause
/*
 * Sandboxes: a VM driven call by call from the host, every exit it cannot
 * handle caught for the host's handler, reset to its loaded state by
 * restoring only the pages it wrote. See vireo/sandbox.h and docs/sandbox.md.
 *
 * Dirty pages are the G-stage's D bits: RAM is mapped with 4 KiB leaves and D
 * clear once the snapshot is taken, a store sets D (QEMU 7.2 does it in
 * hardware; hardware that faults instead comes to sandbox_catch, which sets
 * it), and a reset scans the leaves, copies the written pages back and
 * clears their D bits. The scan costs a load per page of RAM; the stores
 * cost nothing (no exit), which a write-protect scheme could not offer.
 */
#include <vireo/ctl.h>
#include <vireo/devtimer.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/sandbox.h>
#include <vireo/sched.h>
#include <vireo/string.h>
#include <vireo/time.h>
#include <vireo/vm.h>

#define FLUSH_TIMEOUT_US 1000000
#define NEVER		 DEVTIMER_NEVER

struct sandbox_extra {
	gpa_t gpa;
	uint64_t size;
	void *host;
};

struct sandbox {
	struct vm *vm;
	uint32_t state; /* enum ctl_sandbox_state (atomic: the time budget reads it) */
	uint64_t return_pc;
	uint32_t sdk_version;

	/* The loaded state: what a reset returns to (taken by the first OPEN). */
	bool opened;
	uint8_t *snapshot; /* a copy of all of RAM */
	struct vcpu_arch_snapshot regs;

	struct sandbox_extra extra[CTL_SANDBOX_EXTRA_MAX];
	unsigned nextra;
	uint64_t extra_bytes;

	/* The call's time budget: while it runs, `expires` is when it runs out (atomic,
	 * NEVER when it has none or does not run); `left` is what remains while stopped. */
	struct devtimer timer;
	bool budgeted;
	uint64_t left;
	uint64_t expires;

	struct ctl_sandbox_stats stats;
};

static struct sandbox *sandbox_of(const struct vm *vm)
{
	return vm->sandbox;
}

static enum ctl_sandbox_state state_of(const struct sandbox *sb)
{
	return (enum ctl_sandbox_state)__atomic_load_n(&sb->state, __ATOMIC_ACQUIRE);
}

static void set_state(struct sandbox *sb, enum ctl_sandbox_state s)
{
	__atomic_store_n(&sb->state, (uint32_t)s, __ATOMIC_RELEASE);
}

/* ---------------------------------------------------------------- the time budget */

/* A device timer: a call that ran its budget out is asked to stop (vcpu_run_once turns
 * the request into a catch, sandbox_catch checks it is still due). */
static uint64_t budget_expired(struct devtimer *t, uint64_t now)
{
	struct sandbox *sb = container_of(t, struct sandbox, timer);
	uint64_t expires = __atomic_load_n(&sb->expires, __ATOMIC_ACQUIRE);

	if (expires == NEVER)
		return NEVER;
	if (now < expires)
		return expires;
	vcpu_make_request(sb->vm->vcpus[0], VCPU_REQ_STOP);
	return NEVER;
}

/* The call stops (an event for the host): what is left of its budget waits. */
static void budget_pause(struct sandbox *sb)
{
	uint64_t expires = __atomic_exchange_n(&sb->expires, NEVER, __ATOMIC_ACQ_REL);
	uint64_t now = hart_time();

	if (expires != NEVER)
		sb->left = expires > now ? expires - now : 0;
}

/* The call runs again, on what its budget has left. */
static void budget_resume(struct sandbox *sb)
{
	uint64_t expires;

	if (!sb->budgeted)
		return;
	expires = hart_time() + sb->left;
	__atomic_store_n(&sb->expires, expires, __ATOMIC_RELEASE);
	/* This hart's timer carries it (whichever hart gets there first runs it). */
	if (devtimer_arm(&sb->timer, expires))
		sched_timer_changed();
}

static void budget_set(struct sandbox *sb, uint64_t us)
{
	sb->budgeted = us != 0;
	sb->left = us ? time_us_to_ticks(us) : 0;
	__atomic_store_n(&sb->expires, NEVER, __ATOMIC_RELEASE);
}

/* ---------------------------------------------------------------- life */

int sandbox_create(struct vm *vm)
{
	struct sandbox *sb;

	if (vm->nvcpus != 1) {
		log_error("VM '%s': a sandbox has one vCPU (%u asked for)", vm->name, vm->nvcpus);
		return -VIREO_EINVAL;
	}
	sb = kzalloc(sizeof(*sb));
	if (!sb)
		return -VIREO_ENOMEM;
	sb->vm = vm;
	sb->expires = NEVER;
	devtimer_init(&sb->timer, budget_expired);
	vm->sandbox = sb;
	return 0;
}

static void free_extra(struct sandbox *sb)
{
	for (unsigned i = 0; i < sb->nextra; i++)
		page_free(sb->extra[i].host, sb->extra[i].size / PAGE_SIZE);
	sb->nextra = 0;
	sb->extra_bytes = 0;
}

void sandbox_destroy(struct vm *vm)
{
	struct sandbox *sb = sandbox_of(vm);
	int32_t status = vm->exit_status;

	if (!sb)
		return;
	/* After this the budget's callback is not running and never will. */
	devtimer_remove(&sb->timer);
	ctl_event(CTL_EVENT_SANDBOX_EXIT, vm->id, &status, sizeof(status));
	/* The VM's G-stage goes with it, and its VMID is flushed before it is reused. */
	free_extra(sb);
	if (sb->snapshot)
		page_free(sb->snapshot, vm->ram_size / PAGE_SIZE);
	kfree(sb);
	vm->sandbox = NULL;
}

bool sandbox_sbi_available(const struct vcpu *v)
{
	return v->vm->sandbox != NULL;
}

/* The vCPU parks at the end of this exit (its VM paused), the host hears why. */
static enum vcpu_action stop_for_host(struct vcpu *v, uint16_t event, const void *data,
				      uint32_t len)
{
	struct vm *vm = v->vm;

	/* Paused first: the host may answer the event at once. */
	__atomic_store_n(&vm->paused, true, __ATOMIC_SEQ_CST);
	ctl_event(event, vm->id, data, len);
	return VCPU_YIELD;
}

/* ---------------------------------------------------------------- the guest's calls */

long sandbox_ready(struct vcpu *v, uint64_t return_pc, uint64_t sdk_version,
		   enum vcpu_action *action)
{
	struct sandbox *sb = sandbox_of(v->vm);
	struct ctl_sandbox_ready r = {
	    .ram_base = v->vm->ram_base,
	    .ram_size = v->vm->ram_size,
	    .return_pc = return_pc,
	    .sdk_version = (uint32_t)sdk_version,
	};

	if (!sb)
		return -2; /* SBI_ERR_NOT_SUPPORTED */
	if (state_of(sb) != CTL_SANDBOX_BOOTING)
		return -10; /* SBI_ERR_INVALID_STATE: it is ready already */
	sb->return_pc = return_pc;
	sb->sdk_version = (uint32_t)sdk_version;
	/* From here every exit it cannot handle is the host's (catches pause the VM), and
	 * no exception goes to a handler of its own. */
	v->vm->catch = VM_CATCH_ALL;
	vcpu_arch_delegate_nothing(&v->arch);
	set_state(sb, CTL_SANDBOX_IDLE);
	*action = stop_for_host(v, CTL_EVENT_SANDBOX_READY, &r, sizeof(r));
	return 0;
}

long sandbox_return(struct vcpu *v, uint64_t result, enum vcpu_action *action)
{
	struct sandbox *sb = sandbox_of(v->vm);

	if (!sb)
		return -2;
	if (state_of(sb) != CTL_SANDBOX_RUNNING)
		return -10; /* no call to return from */
	budget_pause(sb);
	set_state(sb, CTL_SANDBOX_IDLE);
	*action = stop_for_host(v, CTL_EVENT_SANDBOX_RETURN, &result, sizeof(result));
	return 0;
}

long sandbox_hostcall(struct vcpu *v, uint64_t name_gpa, uint64_t name_len, const uint64_t args[4],
		      enum vcpu_action *action)
{
	struct sandbox *sb = sandbox_of(v->vm);
	uint8_t ev[CTL_SANDBOX_HOSTCALL_SIZE + CTL_SANDBOX_NAME_MAX];
	struct ctl_sandbox_hostcall h = {.name_len = (uint32_t)name_len};

	if (!sb)
		return -2;
	if (state_of(sb) != CTL_SANDBOX_RUNNING)
		return -10;
	if (name_len == 0 || name_len > CTL_SANDBOX_NAME_MAX)
		return -3; /* SBI_ERR_INVALID_PARAM */
	if (!guest_mem_read(&v->vm->mem, name_gpa, ev + sizeof(h), name_len))
		return -5; /* SBI_ERR_INVALID_ADDRESS */
	memcpy(h.args, args, sizeof(h.args));
	memcpy(ev, &h, sizeof(h)); /* Vireo is little-endian, like the wire */
	budget_pause(sb);
	sb->stats.hostcalls++;
	set_state(sb, CTL_SANDBOX_HOSTCALL);
	*action = stop_for_host(v, CTL_EVENT_SANDBOX_HOSTCALL, ev, sizeof(h) + (uint32_t)name_len);
	/* Until the host answers, a0 says it failed (a host that resets never answers). */
	return -1;
}

/* ---------------------------------------------------------------- catches */

enum vcpu_action sandbox_catch(struct vcpu *v, unsigned why)
{
	struct sandbox *sb = sandbox_of(v->vm);
	const struct vcpu_exit *e = &v->exit;
	struct ctl_sandbox_caught c = {.why = why, .pc = vcpu_arch_pc(&v->arch)};
	uint64_t t0 = hart_instret();
	enum vcpu_action act;

	if (state_of(sb) != CTL_SANDBOX_RUNNING) {
		/* A stop asked for by a budget already paused; or a guest that was never
		 * given a call to run (it cannot be: it runs only in calls). */
		if (why == VM_CATCH_STOP)
			return VCPU_CONTINUE;
		log_warn("VM '%s': caught outside a call (state %u)", v->vm->name, state_of(sb));
	}
	if (why == VM_CATCH_STOP) {
		uint64_t expires = __atomic_load_n(&sb->expires, __ATOMIC_ACQUIRE);

		/* Asked for by a budget that has been renewed since, or by nobody we know. */
		if (expires == NEVER || hart_time() < expires)
			return VCPU_CONTINUE;
		c.why = CTL_SANDBOX_CATCH_TIMEOUT;
	} else {
		c.cause = e->cause;
		c.tval = vcpu_arch_exit_tval(&v->arch);
		if (e->kind == VCPU_EXIT_GUEST_ACCESS || e->kind == VCPU_EXIT_PT_WALK ||
		    e->kind == VCPU_EXIT_FETCH)
			c.gpa = e->gpa;
		if (e->kind == VCPU_EXIT_ILLEGAL || e->kind == VCPU_EXIT_WFI)
			c.insn = e->insn;
		/* Hardware that does not set G-stage dirty bits itself faults on the first
		 * store to a clean page: that is ours to set, and the store goes again. */
		if (sb->opened && e->kind == VCPU_EXIT_GUEST_ACCESS && e->is_store &&
		    gstage_set_dirty(&v->vm->gstage, e->gpa)) {
			hart_flush_gstage_tlb();
			return VCPU_CONTINUE;
		}
	}
	c.x[0] = c.pc;
	for (unsigned i = 1; i < 32; i++)
		c.x[i] = vcpu_arch_get_reg(&v->arch, i);
	budget_pause(sb);
	sb->stats.catches++;
	set_state(sb, CTL_SANDBOX_CAUGHT);
	act = stop_for_host(v, CTL_EVENT_SANDBOX_CAUGHT, &c, sizeof(c));
	sb->stats.catch_out_insns += hart_instret() - t0;
	return act;
}

/* ---------------------------------------------------------------- the host's ops */

/* The sandbox of a VM, parked (waiting for it to be): NULL with *err set. */
static struct sandbox *parked(struct vm *vm, int *err)
{
	struct sandbox *sb = sandbox_of(vm);

	*err = 0;
	if (!sb) {
		*err = -VIREO_ENOENT;
		return NULL;
	}
	if (state_of(sb) == CTL_SANDBOX_BOOTING || state_of(sb) == CTL_SANDBOX_RUNNING) {
		*err = -VIREO_EBUSY;
		return NULL;
	}
	if (!vm_is_parked(vm))
		*err = vm_pause(vm);
	return *err ? NULL : sb;
}

/* Let it run again (it is parked, its state set). */
static void run_again(struct sandbox *sb)
{
	set_state(sb, CTL_SANDBOX_RUNNING);
	budget_resume(sb);
	vm_resume(sb->vm);
}

/*
 * Every hart's G-stage TLB forgets what it held before the VM runs again, or a page
 * written since the reset may not set its dirty bit, and an unmapped page may still be
 * reached. The other harts flush when they take the request, before they run
 * anything; this waits until each has taken it.
 */
static void flush_everywhere(void)
{
	uint64_t deadline = hart_time() + time_us_to_ticks(FLUSH_TIMEOUT_US);

	for (unsigned i = 0; i < hart_count(); i++) {
		struct hart *h = hart_by_index(i);

		if (h == this_hart())
			hart_flush_gstage_tlb();
		else if (h->online)
			hart_request(h, HART_REQ_GVMA_FLUSH);
	}
	for (unsigned i = 0; i < hart_count(); i++) {
		struct hart *h = hart_by_index(i);

		while (h != this_hart() && h->online &&
		       (__atomic_load_n(&h->requests, __ATOMIC_ACQUIRE) & HART_REQ_GVMA_FLUSH)) {
			if (hart_time() >= deadline) {
				log_warn("sandbox: hart %lu did not flush its G-stage TLB",
					 h->hartid);
				break;
			}
			hart_pause(time_us_to_ticks(1));
		}
	}
}

static void snapshot_page(void *ctx, gpa_t page)
{
	struct sandbox *sb = ctx;
	struct vm *vm = sb->vm;
	void *to = vm_gpa_to_hva(vm, page, PAGE_SIZE);

	/* RAM runs are 2 MiB aligned: a page is always in one. */
	if (to)
		memcpy(to, sb->snapshot + (page - vm->ram_base), PAGE_SIZE);
}

int sandbox_open(struct vm *vm, struct ctl_sandbox_info *info)
{
	int err;
	struct sandbox *sb = parked(vm, &err);

	if (!sb)
		return err;
	if (!sb->opened) {
		uint8_t *snap = page_alloc(vm->ram_size / PAGE_SIZE, PAGE_SIZE);

		if (!snap)
			return -VIREO_ENOMEM;
		if (!guest_mem_read(&vm->mem, vm->ram_base, snap, vm->ram_size)) {
			page_free(snap, vm->ram_size / PAGE_SIZE);
			return -VIREO_EFAULT;
		}
		err = gstage_track_dirty(&vm->gstage, vm->ram_base, vm->ram_size);
		if (err) {
			page_free(snap, vm->ram_size / PAGE_SIZE);
			return err;
		}
		flush_everywhere();
		sb->snapshot = snap;
		vcpu_arch_snapshot(&vm->vcpus[0]->arch, &sb->regs);
		sb->opened = true;
	}
	*info = (struct ctl_sandbox_info){
	    .vm = vm->id,
	    .state = state_of(sb),
	    .ram_base = vm->ram_base,
	    .ram_size = vm->ram_size,
	    .return_pc = sb->return_pc,
	    .sdk_version = sb->sdk_version,
	    .timebase_hz = (uint32_t)time_timebase_hz(),
	};
	return 0;
}

/* Back to the snapshot (the VM parked): pages written, extra memory, registers. */
static int restore(struct sandbox *sb, uint32_t flags, uint32_t *unmapped)
{
	struct vm *vm = sb->vm;
	size_t pages;

	if (!sb->opened)
		return -VIREO_EINVAL;
	pages = gstage_collect_dirty(&vm->gstage, vm->ram_base, vm->ram_size, snapshot_page, sb);
	if (flags & CTL_SANDBOX_RESET_FULL) {
		guest_mem_write(&vm->mem, vm->ram_base, sb->snapshot, vm->ram_size);
		pages = vm->ram_size / PAGE_SIZE;
	}
	*unmapped = 0;
	for (unsigned i = 0; i < sb->nextra; i++) {
		gstage_unmap(&vm->gstage, sb->extra[i].gpa, sb->extra[i].size);
		*unmapped += (uint32_t)(sb->extra[i].size / PAGE_SIZE);
	}
	/* Cleared D bits and unmapped pages are forgotten everywhere before the extra
	 * memory goes back to the pool and before the guest runs. */
	if (pages || sb->nextra)
		flush_everywhere();
	free_extra(sb);
	vcpu_arch_restore(&vm->vcpus[0]->arch, &sb->regs);
	budget_set(sb, 0);
	sb->stats.resets++;
	sb->stats.pages_restored += pages;
	set_state(sb, CTL_SANDBOX_IDLE);
	return (int)pages;
}

int sandbox_reset(struct vm *vm, uint32_t flags, uint32_t *unmapped)
{
	int err;
	struct sandbox *sb = parked(vm, &err);

	if (!sb)
		return err;
	return restore(sb, flags, unmapped);
}

int sandbox_call(struct vm *vm, const struct ctl_sandbox_call *call)
{
	int err;
	struct sandbox *sb = parked(vm, &err);
	struct vcpu_arch *a;
	uint32_t unmapped;

	if (!sb)
		return err;
	if (!sb->opened)
		return -VIREO_EINVAL;
	if (call->flags & CTL_SANDBOX_CALL_RESET) {
		err = restore(sb, 0, &unmapped);
		if (err < 0)
			return err;
	} else if (state_of(sb) != CTL_SANDBOX_IDLE) {
		return -VIREO_EBUSY;
	}
	/* Every call starts from the registers of the loaded state: its stack, its global
	 * pointer; then the function, its arguments and the way back. */
	a = &vm->vcpus[0]->arch;
	vcpu_arch_restore(a, &sb->regs);
	vcpu_arch_set_pc(a, call->pc);
	vcpu_arch_set_reg(a, REG_RA, sb->return_pc);
	for (unsigned i = 0; i < 6; i++)
		vcpu_arch_set_reg(a, REG_A0 + i, call->args[i]);
	budget_set(sb, call->budget_us);
	sb->stats.calls++;
	run_again(sb);
	return 0;
}

int sandbox_answer(struct vm *vm, int64_t error, uint64_t value)
{
	int err;
	struct sandbox *sb = parked(vm, &err);
	struct vcpu_arch *a;

	if (!sb)
		return err;
	if (state_of(sb) != CTL_SANDBOX_HOSTCALL)
		return -VIREO_EBUSY;
	a = &vm->vcpus[0]->arch;
	vcpu_arch_set_reg(a, REG_A0, (unsigned long)error);
	vcpu_arch_set_reg(a, REG_A1, value);
	run_again(sb);
	return 0;
}

int sandbox_continue(struct vm *vm, const struct ctl_sandbox_continue *c, const uint64_t *regs)
{
	int err;
	uint64_t t0 = hart_instret();
	struct sandbox *sb = parked(vm, &err);
	struct vcpu_arch *a;

	if (!sb)
		return err;
	if (state_of(sb) != CTL_SANDBOX_CAUGHT)
		return -VIREO_EBUSY;
	a = &vm->vcpus[0]->arch;
	if (regs)
		for (unsigned i = 1; i < 32; i++)
			vcpu_arch_set_reg(a, i, regs[i - 1]);
	if (c->flags & CTL_SANDBOX_CONTINUE_PC)
		vcpu_arch_set_pc(a, c->pc);
	if (c->flags & CTL_SANDBOX_CONTINUE_BUDGET)
		budget_set(sb, c->budget_us);
	run_again(sb);
	sb->stats.continues++;
	sb->stats.continue_in_insns += hart_instret() - t0;
	return 0;
}

int sandbox_map(struct vm *vm, gpa_t gpa, uint64_t size, uint32_t perms)
{
	int err;
	struct sandbox *sb = parked(vm, &err);
	unsigned gperms = (perms & 1 ? GSTAGE_PERM_R : 0) | (perms & 2 ? GSTAGE_PERM_W : 0) |
			  (perms & 4 ? GSTAGE_PERM_X : 0);
	void *host;

	if (!sb)
		return err;
	if (!gperms || (perms & ~7u) || !size || !IS_ALIGNED(gpa, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE) || gpa + size < gpa)
		return -VIREO_EINVAL;
	if (sb->nextra == CTL_SANDBOX_EXTRA_MAX || size > CTL_SANDBOX_EXTRA_BYTES - sb->extra_bytes)
		return -VIREO_ENOMEM;
	host = page_alloc(size / PAGE_SIZE, PAGE_SIZE);
	if (!host)
		return -VIREO_ENOMEM;
	/* Over RAM or another mapping: EEXIST; beyond the G-stage's reach: EINVAL. A sandbox
	 * has no devices, so there is nothing else to shadow. */
	err = gstage_map(&vm->gstage, gpa, (uintptr_t)host, size, gperms);
	if (err) {
		page_free(host, size / PAGE_SIZE);
		return err;
	}
	sb->extra[sb->nextra++] = (struct sandbox_extra){gpa, size, host};
	sb->extra_bytes += size;
	return 0;
}

/* Host address of [gpa, gpa + len) in RAM or in one extra mapping, else NULL. */
static uint8_t *sandbox_hva(struct sandbox *sb, gpa_t gpa, uint32_t len)
{
	uint8_t *p = vm_gpa_to_hva(sb->vm, gpa, len);

	for (unsigned i = 0; !p && i < sb->nextra; i++) {
		const struct sandbox_extra *x = &sb->extra[i];

		if (gpa >= x->gpa && gpa - x->gpa < x->size && len <= x->size - (gpa - x->gpa))
			p = (uint8_t *)x->host + (gpa - x->gpa);
	}
	return p;
}

int sandbox_read(struct vm *vm, gpa_t gpa, void *buf, uint32_t len)
{
	struct sandbox *sb = sandbox_of(vm);
	const uint8_t *p;

	if (!sb)
		return -VIREO_ENOENT;
	if (!len || len > CTL_SANDBOX_RW_MAX)
		return -VIREO_EINVAL;
	/* RAM across two runs is copied piece by piece; extra memory is in one piece. */
	if (guest_mem_read(&vm->mem, gpa, buf, len))
		return 0;
	p = sandbox_hva(sb, gpa, len);
	if (!p)
		return -VIREO_EFAULT;
	memcpy(buf, p, len);
	return 0;
}

void sandbox_written(struct vm *vm, gpa_t gpa, uint64_t len)
{
	struct sandbox *sb = sandbox_of(vm);

	if (!sb || !sb->opened || !len)
		return;
	for (gpa_t page = ALIGN_DOWN(gpa, PAGE_SIZE);
	     page < gpa + len && page >= ALIGN_DOWN(gpa, PAGE_SIZE); page += PAGE_SIZE)
		gstage_set_dirty(&vm->gstage, page);
}

int sandbox_write(struct vm *vm, gpa_t gpa, const void *buf, uint32_t len)
{
	struct sandbox *sb = sandbox_of(vm);
	uint8_t *p;

	if (!sb)
		return -VIREO_ENOENT;
	if (!len || len > CTL_SANDBOX_RW_MAX)
		return -VIREO_EINVAL;
	if (guest_mem_write(&vm->mem, gpa, buf, len)) {
		/* Written behind the guest's back: the reset must know. A running guest may
		 * have the page in its TLB as clean, which changes nothing: the bit is set. */
		sandbox_written(vm, gpa, len);
		return 0;
	}
	p = sandbox_hva(sb, gpa, len);
	if (!p)
		return -VIREO_EFAULT;
	memcpy(p, buf, len);
	return 0;
}

int sandbox_stats(struct vm *vm, struct ctl_sandbox_stats *stats)
{
	struct sandbox *sb = sandbox_of(vm);

	if (!sb)
		return -VIREO_ENOENT;
	*stats = sb->stats;
	return 0;
}
