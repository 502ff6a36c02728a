// SPDX-License-Identifier: BSD-2-Clause
/* vCPU life: entering the guest, requests and interrupts to inject, kicks, HSM start. */
#include <vireo/cpu.h>
#include <vireo/exit.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/sbi.h>
#include <vireo/vcpu.h>
#include <vireo/vm.h>

bool vcpu_is_loaded(const struct vcpu *v)
{
	return this_hart()->current == v;
}

void vcpu_kick(struct vcpu *v)
{
	/* On our own hart this only flags the request (no IPI): the running vCPU's loop
	 * returns to the scheduler, which then sees the change. */
	struct hart *h = __atomic_load_n(&v->hart, __ATOMIC_ACQUIRE);

	if (h)
		hart_request(h, HART_REQ_KICK);
}

void vcpu_make_request(struct vcpu *v, unsigned long requests)
{
	__atomic_fetch_or(&v->requests, requests, __ATOMIC_SEQ_CST);
	vcpu_kick(v);
}

unsigned long vcpu_pending_requests(const struct vcpu *v)
{
	return __atomic_load_n(&v->requests, __ATOMIC_ACQUIRE);
}

void vcpu_set_ext_irq(struct vcpu *v, bool level)
{
	__atomic_store_n(&v->ext_irq, level, __ATOMIC_SEQ_CST);
	vcpu_kick(v);
}

void vcpu_post_ipi(struct vcpu *v)
{
	vcpu_make_request(v, VCPU_REQ_IPI);
}

/* Interrupt lines that are up in software but not yet in the guest's CSRs. */
static unsigned long software_pending(struct vcpu *v)
{
	unsigned long extra = 0;

	if (__atomic_load_n(&v->ext_irq, __ATOMIC_ACQUIRE))
		extra |= BIT(VCPU_IRQ_EXT);
	if (vcpu_pending_requests(v) & VCPU_REQ_IPI)
		extra |= BIT(VCPU_IRQ_SOFT);
	if (vcpu_timer_line(v))
		extra |= BIT(VCPU_IRQ_TIMER);
	/* Its hardware guest interrupt file's interrupt is in no line of ours. */
	if (v->aia.file && vcpu_aia_pending(v))
		extra |= BIT(VCPU_IRQ_EXT);
	return extra;
}

bool vcpu_has_wakeup_irq(struct vcpu *v, bool loaded)
{
	/* A stop is taken by running (vcpu_run_once), whatever it waits for. */
	if (vcpu_pending_requests(v) & VCPU_REQ_STOP)
		return true;
	/* An SBI software event ends a wfi too (not an HSM or system suspend). */
	if (v->hsm == VCPU_STARTED && (vcpu_pending_requests(v) & VCPU_REQ_SSE))
		return true;
	return vcpu_arch_irq_wakes(&v->arch, loaded, software_pending(v));
}

void vcpu_wake(struct vcpu *v)
{
	v->waiting = false;
	if (v->hsm == VCPU_SUSPENDED) {
		/* Resuming from a suspend: non-retentive ones restart at their resume address,
		 * with the interrupt that woke them still pending and their timer armed. */
		if (v->resume_nonretentive) {
			v->resume_nonretentive = false;
			vcpu_arch_resume_at(&v->arch, vcpu_is_loaded(v), v->start_addr, v->id,
					    v->start_opaque);
			sbi_vcpu_resumed(v);
		}
		v->hsm = VCPU_STARTED;
	}
	/* Runnable from now; off its hart, it waits for it (SBI steal time). */
	if (!vcpu_is_loaded(v))
		sbi_vcpu_ready(v);
}

void vcpu_reset(struct vcpu *v, unsigned long entry, unsigned long a0, unsigned long a1)
{
	bool loaded = vcpu_is_loaded(v);

	vcpu_arch_reset(&v->arch, entry, a0, a1, v->vm->hgatp, cpu_features.sstc);
	/* What the host catches survives the guest's resets (a hart_start). */
	vcpu_arch_set_catch(&v->arch, vm_catches_breakpoints(v->vm),
			    v->vm->catch & VM_CATCH_ILLEGAL);
	vm_debug_vcpu_reset(v);
	vcpu_timer_reset(v, cpu_features.sstc);
	v->waiting = false;
	/* The reset cleared the guest's interrupt lines: nothing is applied any more. */
	v->ext_applied = false;
	/* A (re)started hart begins with no interrupt pending, as after a real reset. */
	__atomic_fetch_and(&v->requests, ~VCPU_REQ_IPI, __ATOMIC_SEQ_CST);
	if (loaded) {
		/* Make the fresh CSR state live now. */
		this_hart()->current = NULL;
		vcpu_arch_load(&v->arch);
		this_hart()->current = v;
	}
}

void vcpu_complete_start(struct vcpu *v)
{
	spin_lock(&v->lock);
	if (v->hsm == VCPU_START_PENDING) {
		vcpu_reset(v, v->start_addr, v->id, v->start_opaque);
		sbi_vcpu_hart_reset(v);
		v->hsm = VCPU_STARTED;
	}
	spin_unlock(&v->lock);
}

/* Bring the guest's interrupt lines up to date on the (loaded) vCPU. Lines are
 * written only when they change: most exits change none, and this runs on every
 * entry. The lines travel with the vCPU (saved on put, restored on load), so
 * what was applied stays applied wherever it runs next. */
static void apply_irqs(struct vcpu *v)
{
	bool ext = __atomic_load_n(&v->ext_irq, __ATOMIC_ACQUIRE) != 0;

	if (ext != v->ext_applied) {
		vcpu_arch_set_irq_line(&v->arch, VCPU_IRQ_EXT, ext);
		v->ext_applied = ext;
	}
	/* Only the software timer has a line to drive (and the Sstc one never differs). */
	if (v->timer.pending != v->timer.applied)
		vcpu_timer_apply(v);
}

/* Take the posted requests among `which` (only if there are any: the atomic is not
 * free); the others stay posted. */
static void take_requests(struct vcpu *v, unsigned long which)
{
	unsigned long req;

	if (!(__atomic_load_n(&v->requests, __ATOMIC_RELAXED) & which))
		return;
	req = __atomic_fetch_and(&v->requests, ~which, __ATOMIC_ACQ_REL) & which;
	/* An IPI is an edge: once raised it stays until the guest clears it. */
	if (req & VCPU_REQ_IPI)
		vcpu_arch_set_irq_line(&v->arch, VCPU_IRQ_SOFT, true);
	if (req & VCPU_REQ_FENCES)
		vcpu_arch_apply_fences(&v->arch, req & VCPU_REQ_FENCE_I,
				       req & VCPU_REQ_HFENCE_VVMA);
	/* Last: an SBI software event's handler starts from the state all else left. */
	if (req & VCPU_REQ_SSE)
		sbi_sse_deliver(v);
}

/*
 * On the way into the guest (in_guest already announced): the VM's harts are noted, and
 * a fork whose G-stage changed since this hart last ran it forgets the old leaves here
 * (vm_cow.c sets the bit, then waits for vCPUs in the guest to clear theirs).
 */
static void sync_gstage(struct vcpu *v)
{
	struct vm *vm = v->vm;
	unsigned long bit = BIT(this_hart()->index);

	if (!(__atomic_load_n(&vm->harts_ran, __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(&vm->harts_ran, bit, __ATOMIC_SEQ_CST);
	if (vm->cow && (__atomic_load_n(&vm->gstage_stale, __ATOMIC_SEQ_CST) & bit)) {
		__atomic_fetch_and(&vm->gstage_stale, ~bit, __ATOMIC_SEQ_CST);
		hart_flush_gstage_vmid(vm->vmid);
	}
}

void vcpu_refresh_entry(struct vcpu *v)
{
	apply_irqs(v);
	sync_gstage(v);
	take_requests(v, VCPU_REQ_IPI | VCPU_REQ_FENCES);
}

enum vcpu_action vcpu_run_once(struct vcpu *v)
{
	/* Asked to stop: a catch instead of the trip into the guest, unless whoever asked
	 * no longer wants it. */
	if (__atomic_load_n(&v->requests, __ATOMIC_RELAXED) & VCPU_REQ_STOP) {
		enum vcpu_action stop;

		__atomic_fetch_and(&v->requests, ~VCPU_REQ_STOP, __ATOMIC_ACQ_REL);
		stop = vm_catch(v, VM_CATCH_STOP);
		if (stop != VCPU_CONTINUE)
			return stop;
	}
	apply_irqs(v);
	/* Announce first, then take the requests: a remote fence requested after this
	 * point sees in_guest and waits for the kick to bring us out. */
	__atomic_store_n(&v->in_guest, true, __ATOMIC_SEQ_CST);
	sync_gstage(v);
	take_requests(v, ~VCPU_REQ_STOP);
	vcpu_arch_run(&v->arch);
	__atomic_store_n(&v->in_guest, false, __ATOMIC_SEQ_CST);
	if (!v->exit_answered && !v->exit_classified) {
		v->exits++;
		vcpu_arch_classify_exit(&v->arch, &v->exit);
	}
	v->exit_classified = false;
	return vcpu_handle_exit(v);
}

void vcpu_dump(const struct vcpu *v)
{
	printk("vireo: VM '%s' vCPU %u (on hart %lu), %lu exits:\n", v->vm->name, v->id,
	       v->hart ? v->hart->hartid : 0UL, (unsigned long)v->exits);
	vcpu_arch_dump(&v->arch);
}
