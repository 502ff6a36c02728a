// SPDX-License-Identifier: BSD-2-Clause
/*
 * A debugger attached to a VM (vireo/vm_debug.h): breakpoints Vireo plants
 * and owns, single steps, stops of the whole VM, memory by guest-virtual
 * address. The slow path only: the fast paths never come here.
 */
#include <vireo/cpu.h>
#include <vireo/ctl_debug.h>
#include <vireo/guest_pt.h>
#include <vireo/insn_flow.h>
#include <vireo/log.h>
#include <vireo/string.h>
#include <vireo/vcpu_arch_debug.h>
#include <vireo/vm.h>

#define CHUNK 4096 /* memory is translated in 4 KiB pieces: no page is smaller */

static const uint8_t ebreak4[4] = {0x73, 0x00, 0x10, 0x00}; /* INSN_EBREAK, little-endian */
static const uint8_t ebreak2[2] = {0x02, 0x90};		    /* INSN_C_EBREAK */

static const uint8_t *ebreak_of(const struct vm_debug_site *s)
{
	return s->len == 2 ? ebreak2 : ebreak4;
}

/* A breakpoint is as small as the guest's instructions can be. */
static uint8_t site_len(void)
{
	return cpu_isa_has_letter(cpu_guest.isa, 'c') ? 2 : 4;
}

static bool read_pte(void *ctx, uint64_t gpa, uint64_t *pte)
{
	return guest_mem_read(ctx, gpa, pte, sizeof(*pte));
}

static int translate(struct vm *vm, uint64_t satp, uint64_t va, struct guest_pt_walk *w)
{
	return guest_pt_translate(satp, va, read_pte, &vm->mem, w);
}

/* va to guest RAM; false if it is not mapped, or not to RAM. */
static bool translate_ram(struct vm *vm, uint64_t satp, uint64_t va, unsigned len, uint64_t *gpa)
{
	struct guest_pt_walk w;

	if (translate(vm, satp, va, &w) || !guest_mem_contains(&vm->mem, w.gpa, len))
		return false;
	*gpa = w.gpa;
	return true;
}

/* Every vCPU runs fence.i before it runs again: the code under a breakpoint changed. */
static void sync_icache(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_make_request(vm->vcpus[i], VCPU_REQ_FENCE_I);
}

/* ---------------------------------------------------------------- sites (lock held) */

/* The site planted (or lifted for a step) at exactly this address. */
static struct vm_debug_site *site_at(struct vm_debug *d, uint64_t gpa)
{
	for (unsigned i = 0; i < VM_DEBUG_SITES; i++) {
		struct vm_debug_site *s = &d->sites[i];

		if (s->len && (s->planted || s->lifted) && s->gpa == gpa)
			return s;
	}
	return NULL;
}

static struct vm_debug_site *user_site(struct vm_debug *d, uint64_t va)
{
	for (unsigned i = 0; i < VM_DEBUG_SITES; i++) {
		struct vm_debug_site *s = &d->sites[i];

		if (s->len && (s->flags & VM_DEBUG_SITE_USER) && s->va == va)
			return s;
	}
	return NULL;
}

static struct vm_debug_site *new_site(struct vm_debug *d, uint64_t va, uint64_t gpa, uint8_t flags)
{
	for (unsigned i = 0; i < VM_DEBUG_SITES; i++) {
		struct vm_debug_site *s = &d->sites[i];

		if (!s->len) {
			*s = (struct vm_debug_site){
			    .va = va, .gpa = gpa, .len = site_len(), .flags = flags};
			return s;
		}
	}
	return NULL;
}

static void free_site(struct vm_debug_site *s)
{
	memset(s, 0, sizeof(*s));
}

static int plant(struct vm *vm, struct vm_debug_site *s)
{
	if (!guest_mem_read(&vm->mem, s->gpa, s->orig, s->len) ||
	    !guest_mem_write(&vm->mem, s->gpa, ebreak_of(s), s->len))
		return -VIREO_EFAULT;
	s->planted = true;
	return 0;
}

static void unplant(struct vm *vm, struct vm_debug_site *s)
{
	uint8_t now[4];

	/* A guest that rewrote the code under a breakpoint (Linux patches its own text)
	 * keeps what it wrote. */
	if (guest_mem_read(&vm->mem, s->gpa, now, s->len) && !memcmp(now, ebreak_of(s), s->len))
		guest_mem_write(&vm->mem, s->gpa, s->orig, s->len);
	s->planted = false;
}

/* Memory as the guest had it: the bytes under planted breakpoints instead of them. */
static void shadow_read(struct vm_debug *d, uint64_t gpa, uint8_t *buf, uint64_t n)
{
	for (unsigned i = 0; i < VM_DEBUG_SITES; i++) {
		const struct vm_debug_site *s = &d->sites[i];

		for (unsigned k = 0; s->len && s->planted && k < s->len; k++)
			if (s->gpa + k >= gpa && s->gpa + k - gpa < n)
				buf[s->gpa + k - gpa] = s->orig[k];
	}
}

/* A write went over planted breakpoints: what it wrote there goes under them. */
static void shadow_write(struct vm *vm, uint64_t gpa, const uint8_t *buf, uint64_t n)
{
	struct vm_debug *d = &vm->debug;

	for (unsigned i = 0; i < VM_DEBUG_SITES; i++) {
		struct vm_debug_site *s = &d->sites[i];

		for (unsigned k = 0; s->len && s->planted && k < s->len; k++) {
			if (s->gpa + k < gpa || s->gpa + k - gpa >= n)
				continue;
			s->orig[k] = buf[s->gpa + k - gpa];
			guest_mem_write(&vm->mem, s->gpa + k, ebreak_of(s) + k, 1);
		}
	}
}

static uint32_t mem_locked(struct vm *vm, uint64_t satp, uint64_t va, uint8_t *buf, uint32_t len,
			   bool write)
{
	uint32_t done = 0;

	while (done < len) {
		uint64_t at = va + done,
			 n = MIN((uint64_t)(len - done), CHUNK - (at & (CHUNK - 1)));
		struct guest_pt_walk w;

		if (translate(vm, satp, at, &w))
			break;
		if (write) {
			if (!guest_mem_write(&vm->mem, w.gpa, buf + done, n))
				break;
			shadow_write(vm, w.gpa, buf + done, n);
		} else {
			if (!guest_mem_read(&vm->mem, w.gpa, buf + done, n))
				break;
			shadow_read(&vm->debug, w.gpa, buf + done, n);
		}
		done += (uint32_t)n;
	}
	return done;
}

/* Undo what a step planted and held off: its sites out, lifted ones back, the owner's
 * interrupts back. `loaded`: the owner is the vCPU live on this hart. */
static void end_step_locked(struct vm *vm, bool loaded)
{
	struct vm_debug *d = &vm->debug;

	for (unsigned i = 0; i < VM_DEBUG_SITES; i++) {
		struct vm_debug_site *s = &d->sites[i];

		if (!s->len)
			continue;
		if (s->flags & VM_DEBUG_SITE_STEP) {
			s->flags &= (uint8_t)~VM_DEBUG_SITE_STEP;
			if (!s->flags) {
				if (s->planted)
					unplant(vm, s);
				free_site(s);
				continue;
			}
		}
		if (s->lifted) {
			s->lifted = false;
			if (plant(vm, s))
				free_site(s);
		}
	}
	if (d->step_owner)
		vcpu_arch_unmask_irqs(&d->step_owner->arch, loaded, d->step_sie);
	d->step_owner = NULL;
	__atomic_store_n(&d->step_vcpu, NULL, __ATOMIC_RELEASE);
}

/* Waiting breakpoints that the guest's tables (satp) now map are planted. */
static bool plant_pending_locked(struct vm *vm, uint64_t satp)
{
	struct vm_debug *d = &vm->debug;
	bool any = false;

	for (unsigned i = 0; i < VM_DEBUG_SITES && d->pending; i++) {
		struct vm_debug_site *s = &d->sites[i], *there;
		uint64_t gpa;

		if (!s->len || s->planted || s->lifted ||
		    !translate_ram(vm, satp, s->va, s->len, &gpa))
			continue;
		d->pending--;
		there = site_at(d, gpa);
		if (there) {
			/* Already a site there (another alias of the same code): one will do. */
			there->flags |= VM_DEBUG_SITE_USER;
			there->va = s->va;
			free_site(s);
			continue;
		}
		s->gpa = gpa;
		if (plant(vm, s))
			free_site(s);
		any = true;
	}
	return any;
}

/* Breakpoints come to Vireo, satp writes trap while breakpoints wait (VM parked). */
static void apply_traps(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu_arch *a = &vm->vcpus[i]->arch;

		vcpu_arch_set_catch(a, vm_catches_breakpoints(vm), vm->catch & VM_CATCH_ILLEGAL);
		vcpu_arch_trap_satp(a, vm->debug.pending != 0);
	}
}

/* ---------------------------------------------------------------- stops */

/* The first stop of a running VM reports; whoever comes second backs off. (Under the
 * lock: the hart has no 1-byte atomic exchange. A pause of the host's that stores
 * `paused` meanwhile only waits for the vCPUs, as it would anyway.) */
static bool claim_stop(struct vm *vm, struct vcpu *v)
{
	bool first;

	spin_lock(&vm->debug.lock);
	first = !__atomic_load_n(&vm->paused, __ATOMIC_ACQUIRE);
	if (first)
		__atomic_store_n(&vm->paused, true, __ATOMIC_SEQ_CST);
	spin_unlock(&vm->debug.lock);
	if (!first)
		return false;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i] != v)
			vcpu_kick(vm->vcpus[i]);
	return true;
}

static void report(struct vcpu *v, uint32_t reason, bool from_exit)
{
	const struct vcpu_exit *e = &v->exit;
	struct ctl_dbg_stop s = {.vcpu = v->id, .reason = reason, .pc = vcpu_arch_pc(&v->arch)};

	if (from_exit) {
		s.cause = e->cause;
		s.tval = vcpu_arch_exit_tval(&v->arch);
		if (reason == CTL_DBG_FAULT &&
		    (e->kind == VCPU_EXIT_GUEST_ACCESS || e->kind == VCPU_EXIT_PT_WALK ||
		     e->kind == VCPU_EXIT_FETCH))
			s.gpa = e->gpa;
	}
	ctl_event(CTL_EVENT_DBG_STOP, v->vm->id, &s, sizeof(s)); /* Vireo is little-endian */
}

enum vcpu_action vm_debug_breakpoint(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vm_debug *d = &vm->debug;
	struct vm_debug_site *s = NULL;
	uint64_t gpa;
	bool step_done = false, stale = false;

	spin_lock(&d->lock);
	if (translate_ram(vm, vcpu_arch_guest_satp(&v->arch, true), vcpu_arch_pc(&v->arch), 2,
			  &gpa))
		s = site_at(d, gpa);
	if (s && s->planted && __atomic_load_n(&d->step_vcpu, __ATOMIC_ACQUIRE) == v) {
		/* Wherever the stepped instruction went, it had a site there. */
		end_step_locked(vm, true);
		step_done = true;
	} else if (s && s->planted && !(s->flags & VM_DEBUG_SITE_USER)) {
		/* A step's site that outlived its step (the host resumed without cleaning
		 * up): take it out and run what was there. */
		if (d->step_owner == v)
			end_step_locked(vm, true);
		else if (s->planted) {
			unplant(vm, s);
			free_site(s);
		}
		stale = true;
	}
	spin_unlock(&d->lock);
	if (step_done || stale)
		sync_icache(vm);
	if (stale)
		return VCPU_CONTINUE;
	if (step_done) {
		report(v, CTL_DBG_STEP, true);
		return VCPU_YIELD;
	}
	if (s && s->planted) {
		/* Another stop is being reported: meet this breakpoint again on resume. */
		if (claim_stop(vm, v))
			report(v, CTL_DBG_BREAKPOINT, true);
		return VCPU_YIELD;
	}
	/* The guest's own ebreak (a BUG or WARN of Linux's): its own business. While
	 * stepping, its trap vector has a site. */
	if (vm->catch & VM_CATCH_BREAKPOINT)
		return vm_catch(v, VM_CATCH_BREAKPOINT);
	vcpu_arch_inject_exception(&v->arch, VCPU_EXC_BREAKPOINT, vcpu_arch_pc(&v->arch));
	return VCPU_CONTINUE;
}

enum vcpu_action vm_debug_fault(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vm_debug *d = &vm->debug;
	bool stepping;

	spin_lock(&d->lock);
	stepping = __atomic_load_n(&d->step_vcpu, __ATOMIC_ACQUIRE) == v;
	if (stepping)
		end_step_locked(vm, true);
	spin_unlock(&d->lock);
	if (stepping)
		sync_icache(vm);
	else if (!claim_stop(vm, v))
		return VCPU_YIELD; /* the fault happens again on resume */
	report(v, CTL_DBG_FAULT, true);
	return VCPU_YIELD;
}

bool vm_debug_virtual_insn(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vm_debug *d = &vm->debug;
	bool written, planted = false;

	if (v->exit.from_user || !vcpu_arch_emulate_vm_insn(&v->arch, v->exit.insn, &written))
		return false;
	spin_lock(&d->lock);
	/* Not only after a satp write: QEMU 7.2 traps VS-mode's sfence.vma under VTVM but
	 * not its satp writes, and a guest fences before it relies on new tables. */
	if (d->pending)
		planted = plant_pending_locked(vm, vcpu_arch_guest_satp(&v->arch, true));
	/* Nothing waits any more: this vCPU's satp goes back to the guest alone (the
	 * others' at their own next trap). */
	if (!d->pending)
		vcpu_arch_trap_satp(&v->arch, false);
	spin_unlock(&d->lock);
	if (planted) {
		sync_icache(vm);
		log_info("VM '%s': waiting breakpoints planted (%u still wait)", vm->name,
			 d->pending);
	}
	return true;
}

void vm_debug_hold(struct vm *vm)
{
	__atomic_store_n(&vm->debug.step_vcpu, NULL, __ATOMIC_SEQ_CST);
}

void vm_debug_release(struct vm *vm)
{
	struct vm_debug *d = &vm->debug;

	d->waiting = false;
	if (!d->step_owner || __atomic_load_n(&d->step_vcpu, __ATOMIC_ACQUIRE) || !vm_is_parked(vm))
		return;
	spin_lock(&d->lock);
	end_step_locked(vm, false);
	spin_unlock(&d->lock);
	sync_icache(vm);
}

void vm_debug_vcpu_reset(struct vcpu *v)
{
	vcpu_arch_trap_satp(&v->arch, v->vm->debug.pending != 0);
}

void vm_debug_hold_at_start(struct vm *vm)
{
	vm->paused = true;
	vm->debug.waiting = true;
	/* Its registers are the boot state from the start, for the debugger to read. */
	vcpu_complete_start(vm->vcpus[0]);
	log_info("VM '%s': waiting for a debugger at its first instruction (%#lx)", vm->name,
		 (unsigned long)vm->entry);
}

/* ---------------------------------------------------------------- ops */

int vm_debug_attach(struct vm *vm)
{
	bool parked = vm_is_parked(vm);
	int err;

	if (vm->state != VM_RUNNING)
		return -VIREO_EINVAL;
	if (vm->debug.attached)
		return -VIREO_EBUSY;
	if (!parked && (err = vm_pause(vm)))
		return err;
	vm->debug.attached = true;
	apply_traps(vm);
	if (!parked)
		vm_resume(vm);
	log_info("VM '%s': debugger attached", vm->name);
	return 0;
}

int vm_debug_detach(struct vm *vm)
{
	struct vm_debug *d = &vm->debug;
	bool parked = vm_is_parked(vm);
	int err;

	if (!d->attached)
		return 0;
	if (!parked && (err = vm_pause(vm)))
		return err;
	spin_lock(&d->lock);
	end_step_locked(vm, false);
	for (unsigned i = 0; i < VM_DEBUG_SITES; i++) {
		if (d->sites[i].len && d->sites[i].planted)
			unplant(vm, &d->sites[i]);
		free_site(&d->sites[i]);
	}
	d->pending = 0;
	d->attached = false;
	spin_unlock(&d->lock);
	apply_traps(vm);
	sync_icache(vm);
	if (!parked)
		vm_resume(vm);
	log_info("VM '%s': debugger detached", vm->name);
	return 0;
}

int vm_debug_break_set(struct vm *vm, struct vcpu *v, uint64_t va)
{
	struct vm_debug *d = &vm->debug;
	uint8_t len = site_len();
	struct guest_pt_walk w;
	struct vm_debug_site *s;
	int err;

	if (!d->attached || (va & (len - 1)))
		return -VIREO_EINVAL;
	if (!vm_is_parked(vm))
		return -VIREO_EBUSY;
	spin_lock(&d->lock);
	if (user_site(d, va)) {
		spin_unlock(&d->lock);
		return 0;
	}
	err = translate(vm, vcpu_arch_guest_satp(&v->arch, false), va, &w);
	if (err == -VIREO_EFAULT || (!err && !guest_mem_contains(&vm->mem, w.gpa, len))) {
		/* Not mapped to RAM yet (a kernel's address while its MMU is still off): it
		 * waits, and satp writes are watched until it can go in. */
		s = new_site(d, va, 0, VM_DEBUG_SITE_USER);
		if (s)
			d->pending++;
		spin_unlock(&d->lock);
		if (!s)
			return -VIREO_ENOSPC;
		apply_traps(vm);
		return 1;
	}
	if (!err) {
		s = site_at(d, w.gpa);
		if (s && (s->flags & VM_DEBUG_SITE_USER)) {
			err = -VIREO_EEXIST; /* another address of the same code has one */
		} else if (s) {
			s->flags |= VM_DEBUG_SITE_USER;
			s->va = va;
		} else {
			s = new_site(d, va, w.gpa, VM_DEBUG_SITE_USER);
			err = !s ? -VIREO_ENOSPC : plant(vm, s);
			if (err && s)
				free_site(s);
		}
	}
	spin_unlock(&d->lock);
	if (!err)
		sync_icache(vm);
	return err;
}

int vm_debug_break_clear(struct vm *vm, struct vcpu *v, uint64_t va)
{
	struct vm_debug *d = &vm->debug;
	struct vm_debug_site *s;
	bool waiting = false;

	(void)v;
	if (!d->attached)
		return -VIREO_EINVAL;
	if (!vm_is_parked(vm))
		return -VIREO_EBUSY;
	spin_lock(&d->lock);
	s = user_site(d, va);
	if (s) {
		s->flags &= (uint8_t)~VM_DEBUG_SITE_USER;
		if (!s->planted && !s->lifted) {
			d->pending--;
			waiting = true;
			free_site(s);
		} else if (!s->flags) {
			if (s->planted)
				unplant(vm, s);
			free_site(s);
		}
	}
	spin_unlock(&d->lock);
	if (!s)
		return -VIREO_ENOENT;
	if (waiting)
		apply_traps(vm);
	else
		sync_icache(vm);
	return 0;
}

/* The instruction at pc as the guest has it (under any breakpoint); false if it is not
 * readable (the guest would take a fetch fault). */
static bool read_insn_locked(struct vm *vm, uint64_t satp, uint64_t pc, uint32_t *insn)
{
	uint8_t b[4] = {0};

	if (mem_locked(vm, satp, pc, b, 2, false) != 2)
		return false;
	if ((b[0] & 3) == 3 && mem_locked(vm, satp, pc + 2, b + 2, 2, false) != 2)
		return false;
	*insn = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return true;
}

/* Sites at each place the instruction at pc may go; how many could be planted. */
static unsigned plant_step_sites(struct vm *vm, const struct ctl_regs *r, uint64_t pc_gpa,
				 bool pc_ok, const struct insn_successors *next)
{
	struct vm_debug *d = &vm->debug;
	uint64_t targets[4];
	unsigned n = 0, planted = 0;

	for (unsigned i = 0; pc_ok && i < next->n; i++)
		targets[n++] = next->pc[i];
	if (pc_ok && next->sret)
		targets[n++] = r->sepc;
	/* An exception (or the guest's own ebreak) goes to its trap vector's base. */
	targets[n++] = r->stvec & ~3ULL;
	for (unsigned i = 0; i < n; i++) {
		struct vm_debug_site *s;
		uint64_t gpa;

		/* A jump to itself is not caught: the step would end before it starts. */
		if (!translate_ram(vm, r->satp, targets[i], site_len(), &gpa) ||
		    (pc_ok && gpa == pc_gpa))
			continue;
		s = site_at(d, gpa);
		if (s && s->planted) {
			s->flags |= VM_DEBUG_SITE_STEP;
			planted++;
			continue;
		}
		s = new_site(d, targets[i], gpa, VM_DEBUG_SITE_STEP);
		if (s && plant(vm, s) == 0)
			planted++;
		else if (s)
			free_site(s);
	}
	return planted;
}

int vm_debug_step(struct vm *vm, struct vcpu *v)
{
	struct vm_debug *d = &vm->debug;
	struct insn_successors next = {0};
	struct vm_debug_site *lift;
	struct ctl_regs r;
	uint64_t pc_gpa = 0;
	uint32_t insn = 0;
	bool pc_ok;

	if (!d->attached)
		return -VIREO_EINVAL;
	if (!vm_is_parked(vm) || v->hsm != VCPU_STARTED)
		return -VIREO_EBUSY;
	vcpu_arch_get_regs(&v->arch, &r);
	spin_lock(&d->lock);
	if (d->step_owner)
		end_step_locked(vm, false);
	pc_ok = read_insn_locked(vm, r.satp, r.x[0], &insn) &&
		translate_ram(vm, r.satp, r.x[0], 2, &pc_gpa);
	if (pc_ok) {
		r.x[0] = 0; /* x[] is the registers now: x0 reads 0 */
		insn_successors(insn, vcpu_arch_pc(&v->arch), r.x, &next);
	}
	if (next.wfi) {
		/* A wfi may end at once: stepped without running (it would wait with the
		 * interrupts held off). */
		spin_unlock(&d->lock);
		vcpu_arch_skip_insn(&v->arch, 4);
		v->waiting = false;
		report(v, CTL_DBG_STEP, false);
		return 0;
	}
	/* A breakpoint at pc itself is taken out for the step: the instruction runs. */
	lift = pc_ok ? site_at(d, pc_gpa) : NULL;
	if (lift && lift->planted) {
		unplant(vm, lift);
		lift->lifted = true;
	}
	if (!plant_step_sites(vm, &r, pc_gpa, pc_ok, &next)) {
		end_step_locked(vm, false);
		spin_unlock(&d->lock);
		return -VIREO_EFAULT;
	}
	d->step_owner = v;
	d->step_sie = vcpu_arch_mask_irqs(&v->arch, false);
	spin_unlock(&d->lock);
	sync_icache(vm);
	v->waiting = false; /* a wfi may end at any time: this is one of those */
	__atomic_store_n(&d->step_vcpu, v, __ATOMIC_SEQ_CST);
	vcpu_kick(v);
	return 0;
}

int vm_debug_mem(struct vm *vm, struct vcpu *v, uint64_t va, void *buf, uint32_t len, bool write)
{
	uint32_t done;

	if (!vm_is_parked(vm))
		return -VIREO_EBUSY;
	spin_lock(&vm->debug.lock);
	done = mem_locked(vm, vcpu_arch_guest_satp(&v->arch, false), va, buf, len, write);
	spin_unlock(&vm->debug.lock);
	if (write && done)
		sync_icache(vm);
	return done ? (int)done : -VIREO_EFAULT;
}

int vm_debug_translate(struct vm *vm, struct vcpu *v, uint64_t va, struct guest_pt_walk *out)
{
	if (!vm_is_parked(vm))
		return -VIREO_EBUSY;
	return translate(vm, vcpu_arch_guest_satp(&v->arch, false), va, out);
}
