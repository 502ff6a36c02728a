// SPDX-License-Identifier: BSD-2-Clause
/* vCPU life: entering the guest, interrupts to inject, kicks, HSM start. */
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/sched.h>
#include <vireo/string.h>
#include <vireo/vcpu.h>
#include <vireo/vm.h>

void vcpu_kick(struct vcpu *v)
{
	/* On our own hart this only flags the request (no IPI): the running vCPU's loop
	 * returns to the scheduler, which then sees the change. */
	if (v->hart)
		hart_request(v->hart, HART_REQ_KICK);
}

void vcpu_set_ext_irq(struct vcpu *v, bool level)
{
	__atomic_store_n(&v->ext_irq, level, __ATOMIC_SEQ_CST);
	vcpu_kick(v);
}

void vcpu_post_ipi(struct vcpu *v)
{
	__atomic_store_n(&v->posted_ssip, 1, __ATOMIC_SEQ_CST);
	vcpu_kick(v);
}

static unsigned long software_pending(struct vcpu *v)
{
	unsigned long extra = 0;

	if (__atomic_load_n(&v->ext_irq, __ATOMIC_ACQUIRE))
		extra |= BIT(VCPU_IRQ_EXT);
	if (__atomic_load_n(&v->posted_ssip, __ATOMIC_ACQUIRE))
		extra |= BIT(VCPU_IRQ_SOFT);
	if (v->timer_pending)
		extra |= BIT(VCPU_IRQ_TIMER);
	return extra;
}

bool vcpu_has_wakeup_irq(struct vcpu *v, bool loaded)
{
	return vcpu_arch_irq_wakes(&v->arch, loaded, software_pending(v));
}

void vcpu_wake(struct vcpu *v)
{
	v->waiting = false;
	if (v->hsm == VCPU_SUSPENDED) {
		/* Resuming from a suspend: non-retentive ones restart at their resume address. */
		if (v->resume_nonretentive) {
			v->resume_nonretentive = false;
			vcpu_reset(v, v->start_addr, v->id, v->start_opaque);
		}
		v->hsm = VCPU_STARTED;
	}
}

void vcpu_reset(struct vcpu *v, unsigned long entry, unsigned long a0, unsigned long a1)
{
	bool loaded = this_hart()->current == v;

	vcpu_arch_reset(&v->arch, entry, a0, a1, v->vm->hgatp, cpu_features.sstc);
	v->timer_deadline = UINT64_MAX;
	v->timer_pending = false;
	v->waiting = false;
	/* The reset cleared hvip: nothing is applied any more. */
	v->ext_applied = false;
	v->timer_applied = false;
	/* A (re)started hart begins with no interrupt pending, as after a real reset. */
	__atomic_store_n(&v->posted_ssip, 0, __ATOMIC_SEQ_CST);
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
		v->hsm = VCPU_STARTED;
	}
	spin_unlock(&v->lock);
}

/* Bring the guest's interrupt lines up to date on the (loaded) vCPU. */
/* Lines are written to hvip only when they change: most exits change none, and
 * this runs on every entry. hvip travels with the vCPU (saved on put, restored
 * on load), so what was applied stays applied wherever it runs next. */
static void apply_irqs(struct vcpu *v)
{
	bool ext = __atomic_load_n(&v->ext_irq, __ATOMIC_ACQUIRE) != 0;

	if (ext != v->ext_applied) {
		vcpu_arch_set_irq_line(&v->arch, VCPU_IRQ_EXT, ext);
		v->ext_applied = ext;
	}
	if (!cpu_features.sstc && v->timer_pending != v->timer_applied) {
		vcpu_arch_set_irq_line(&v->arch, VCPU_IRQ_TIMER, v->timer_pending);
		v->timer_applied = v->timer_pending;
	}
	/* An IPI is an edge: once in hvip it stays until the guest clears it. */
	if (__atomic_load_n(&v->posted_ssip, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&v->posted_ssip, 0, __ATOMIC_ACQ_REL))
		vcpu_arch_set_irq_line(&v->arch, VCPU_IRQ_SOFT, true);
}

/* Remote fences posted for this vCPU (taken only if there are any). */
static void apply_fences(struct vcpu *v)
{
	if (!__atomic_load_n(&v->fence_i_pending, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&v->vvma_flush_pending, __ATOMIC_ACQUIRE))
		return;
	vcpu_arch_apply_fences(&v->arch,
			       __atomic_exchange_n(&v->fence_i_pending, 0, __ATOMIC_ACQ_REL),
			       __atomic_exchange_n(&v->vvma_flush_pending, 0, __ATOMIC_ACQ_REL));
}

enum vcpu_action vcpu_run_once(struct vcpu *v)
{
	apply_irqs(v);
	/* Announce first, then take the pending fences: a remote fence requested after
	 * this point sees in_guest and waits for the kick to bring us out. */
	__atomic_store_n(&v->in_guest, true, __ATOMIC_SEQ_CST);
	apply_fences(v);
	vcpu_arch_run(&v->arch);
	__atomic_store_n(&v->in_guest, false, __ATOMIC_SEQ_CST);
	v->exits++;
	return vcpu_handle_exit(v);
}

void vcpu_dump(const struct vcpu *v)
{
	printk("vireo: VM '%s' vCPU %u (on hart %lu), %lu exits:\n", v->vm->name, v->id,
	       v->hart ? v->hart->hartid : 0UL, (unsigned long)v->exits);
	vcpu_arch_dump(&v->arch);
}
