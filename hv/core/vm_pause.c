// SPDX-License-Identifier: BSD-2-Clause
/*
 * Pausing a VM (vireo/vm.h): its vCPUs stop being scheduled, and each hart
 * that has one loaded saves it to memory the next time round its loop
 * (sched_park_current). Then the whole state of the VM is in memory, for the
 * control plane to read, change or copy, and nothing runs it until resumed.
 * A catch pauses it from one of its own exits, for the host to decide.
 */
#include <vireo/ctl.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/sandbox.h>
#include <vireo/sched.h>
#include <vireo/time.h>
#include <vireo/vm.h>

#define PAUSE_TIMEOUT_US 1000000
#define PAUSE_POLL_US	 50

bool vm_is_parked(const struct vm *vm)
{
	if (!__atomic_load_n(&vm->paused, __ATOMIC_ACQUIRE))
		return false;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];

		if (__atomic_load_n(&v->loaded, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&v->in_guest, __ATOMIC_ACQUIRE))
			return false;
	}
	return true;
}

static void kick_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_kick(vm->vcpus[i]);
}

int vm_pause(struct vm *vm)
{
	uint64_t deadline = hart_time() + time_us_to_ticks(PAUSE_TIMEOUT_US);

	if (vm->state != VM_RUNNING)
		return -VIREO_EINVAL;
	__atomic_store_n(&vm->paused, true, __ATOMIC_SEQ_CST);
	vm_debug_hold(vm); /* a vCPU being single-stepped stops too */
	kick_all(vm);
	for (;;) {
		/* One of them may be loaded on this very hart. */
		sched_park_current();
		if (vm_is_parked(vm))
			return 0;
		if (hart_time() >= deadline)
			break;
		hart_pause(time_us_to_ticks(PAUSE_POLL_US));
	}
	log_warn("VM '%s': its vCPUs did not leave their harts; not paused", vm->name);
	vm_resume(vm);
	return -VIREO_EBUSY;
}

void vm_resume(struct vm *vm)
{
	vm_debug_release(vm);
	__atomic_store_n(&vm->paused, false, __ATOMIC_SEQ_CST);
	/* Their harts may be asleep with nothing else to run. */
	kick_all(vm);
}

_Static_assert(VM_CATCH_FAULT == CTL_CATCH_FAULT && VM_CATCH_BREAKPOINT == CTL_CATCH_BREAKPOINT &&
		   VM_CATCH_ILLEGAL == CTL_CATCH_ILLEGAL,
	       "the wire's catch bits");

int vm_set_catch(struct vm *vm, unsigned catch)
{
	bool was_paused = vm_is_parked(vm);
	int err;

	if (catch & ~VM_CATCH_ALL)
		return -VIREO_EINVAL;
	/* Parked, every vCPU loads its delegation afresh when it runs again. */
	if (!was_paused && (err = vm_pause(vm)))
		return err;
	vm->catch = catch;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_arch_set_catch(&vm->vcpus[i]->arch, vm_catches_breakpoints(vm),
				    catch & VM_CATCH_ILLEGAL);
	if (!was_paused)
		vm_resume(vm);
	return 0;
}

enum vcpu_action vm_catch(struct vcpu *v, unsigned why)
{
	struct vm *vm = v->vm;
	const struct vcpu_exit *e = &v->exit;
	struct ctl_caught c = {
	    .vcpu = v->id,
	    .why = why,
	    .cause = e->cause,
	    .pc = vcpu_arch_pc(&v->arch),
	    .tval = vcpu_arch_exit_tval(&v->arch),
	    .kind = e->kind,
	};

	/* A sandbox's catches go to its handler, with the registers. */
	if (vm->sandbox)
		return sandbox_catch(v, why);
	if (e->kind == VCPU_EXIT_GUEST_ACCESS || e->kind == VCPU_EXIT_PT_WALK ||
	    e->kind == VCPU_EXIT_FETCH)
		c.gpa = e->gpa;
	if (e->kind == VCPU_EXIT_ILLEGAL || e->kind == VCPU_EXIT_WFI)
		c.insn = e->insn;
	/* Stopped on request: between exits, no exit to tell of. */
	if (why == VM_CATCH_STOP)
		c = (struct ctl_caught){.vcpu = v->id, .why = why, .pc = c.pc};
	/* Paused first: the host may act on the event at once. This vCPU leaves the
	 * guest now (not runnable any more); the others at their next exit. */
	__atomic_store_n(&vm->paused, true, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i] != v)
			vcpu_kick(vm->vcpus[i]);
	ctl_event(CTL_EVENT_CAUGHT, vm->id, &c, sizeof(c)); /* Vireo is little-endian */
	return VCPU_YIELD;
}
