// SPDX-License-Identifier: BSD-2-Clause
/*
 * Deciding about an exit. arch/riscv/exit.c has said what happened (struct
 * vcpu_exit); here it meets the VM: its MMIO bus, its SBI, its scheduler.
 * What Vireo cannot handle stops that VM, never the hypervisor.
 */
#include <vireo/exit.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/sbi.h>
#include <vireo/sched.h>
#include <vireo/vm.h>
#include <vireo/vm_cow.h>

static const struct {
	const char *id, *name;
} kinds[VCPU_EXIT_KINDS] = {
    [VCPU_EXIT_INTERRUPT] = {"interrupt", "host interrupt"},
    [VCPU_EXIT_ECALL] = {"sbi", "SBI call"},
    [VCPU_EXIT_GUEST_ACCESS] = {"mmio", "MMIO access"},
    [VCPU_EXIT_PT_WALK] = {"pt_walk", "page-table walk outside RAM"},
    [VCPU_EXIT_FETCH] = {"fetch_fault", "fetch outside RAM"},
    [VCPU_EXIT_WFI] = {"wfi", "wfi"},
    [VCPU_EXIT_ILLEGAL] = {"illegal", "illegal instruction"},
    [VCPU_EXIT_UNREADABLE] = {"unreadable", "unreadable instruction"},
    [VCPU_EXIT_BREAKPOINT] = {"breakpoint", "breakpoint"},
    [VCPU_EXIT_UNKNOWN] = {"other", "unexpected exception"},
    [VCPU_EXIT_CSR] = {"csr", "CSR access"},
};

const char *vcpu_exit_kind_id(enum vcpu_exit_kind kind)
{
	return kind < VCPU_EXIT_KINDS ? kinds[kind].id : "other";
}

const char *vcpu_exit_kind_name(enum vcpu_exit_kind kind)
{
	return kind < VCPU_EXIT_KINDS ? kinds[kind].name : "unexpected exception";
}

/* Stop the VM with a diagnostic naming everything needed to debug the guest. */
static enum vcpu_action vm_fault(struct vcpu *v, const char *what)
{
	char trap[160];

	/* A host that catches faults decides instead (a debugger, a sandbox's handler). */
	if (v->vm->catch & VM_CATCH_FAULT)
		return vm_catch(v, VM_CATCH_FAULT);
	/* An attached debugger is the last catch. */
	if (v->vm->debug.attached)
		return vm_debug_fault(v);
	vcpu_arch_describe_exit(&v->arch, trap, sizeof(trap));
	printk("vireo: VM '%s' vCPU %u: %s (%s; stopping the VM\n", v->vm->name, v->id, what, trap);
	vcpu_dump(v);
	vm_stop(v->vm, VM_STATUS_FAULT, what);
	return VCPU_VM_ENDED;
}

/* The device of an access; NULL for an address no device has. */
static const struct mmio_region *access_device(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;

	return mmio_bus_lookup(&v->vm->bus, e->gpa, e->decoded ? e->access.width : 1);
}

/* Carry out the access on the device the bus found (mmio_bus_read would look again). */
static enum vcpu_action do_guest_access(struct vcpu *v, const struct mmio_region *dev)
{
	const struct vcpu_exit *e = &v->exit;
	const struct insn_mmio *acc = &e->access;
	struct vcpu_arch *a = &v->arch;
	uint64_t offset = e->gpa - dev->base, value = 0;

	if (e->is_store) {
		int err;

		value = insn_load_extend(acc, vcpu_arch_get_reg(a, acc->reg));
		err = dev->ops->write(dev->opaque, offset, acc->width, value);
		/* The device did part of the work and wants the store again: the guest
		 * executes it anew, after the hart has seen to its interrupts and vCPUs. */
		if (err == -VIREO_EBUSY)
			return VCPU_CONTINUE;
		if (err)
			return vm_fault(v, "MMIO store rejected by the device");
	} else {
		if (dev->ops->read(dev->opaque, offset, acc->width, &value))
			return vm_fault(v, "MMIO load rejected by the device");
		vcpu_arch_set_reg(a, acc->reg, insn_load_extend(acc, value));
	}
	vcpu_arch_skip_insn(a, acc->length);
	return VCPU_CONTINUE;
}

static enum vcpu_action handle_guest_access(struct vcpu *v)
{
	const struct mmio_region *dev = access_device(v);

	if (!dev)
		return vm_fault(v, "access to unmapped guest-physical address");
	if (!v->exit.decoded)
		return vm_fault(v, "MMIO access by an instruction Vireo cannot decode");
	return do_guest_access(v, dev);
}

/*
 * The guest's page-table walk read or wrote a guest-physical address that is
 * not RAM (a device's range, or nothing). On real hardware a PTE access to a
 * region that is not memory fails its PMA check: an access fault of the
 * original access's type, with the virtual address it was translating
 * (privileged spec, "Virtual Address Translation Process", step 2).
 */
static enum vcpu_action handle_pt_walk(struct vcpu *v)
{
	static const enum vcpu_exception fault[] = {
	    [VCPU_ACCESS_LOAD] = VCPU_EXC_LOAD_ACCESS,
	    [VCPU_ACCESS_STORE] = VCPU_EXC_STORE_ACCESS,
	    [VCPU_ACCESS_FETCH] = VCPU_EXC_FETCH_ACCESS,
	};

	vcpu_arch_inject_exception(&v->arch, fault[v->exit.access_type], v->exit.gva);
	if (v->exit.access_type != VCPU_ACCESS_FETCH)
		sbi_pmu_count(v, v->exit.access_type == VCPU_ACCESS_STORE ? SBI_PMU_FW_ACCESS_STORE
									  : SBI_PMU_FW_ACCESS_LOAD);
	return VCPU_CONTINUE;
}

/* wfi in VS-mode waits for an interrupt; in VU-mode it is what a kernel on bare
 * hardware would see from its user programs: an illegal instruction. */
static enum vcpu_action handle_wfi(struct vcpu *v)
{
	if (v->exit.from_user) {
		vcpu_arch_inject_exception(&v->arch, VCPU_EXC_ILLEGAL_INSN, v->exit.insn);
		return VCPU_CONTINUE;
	}
	vcpu_arch_skip_insn(&v->arch, 4);
	v->waiting = true;
	return VCPU_BLOCK;
}

/* Anything the scheduler must see before the guest runs again: then no fast return.
 * (A device that moved a deadline leaves the hart's timer to be reprogrammed.) */
static bool hart_has_work(const struct vcpu *v)
{
	return hart_pending_irqs() || __atomic_load_n(&this_hart()->requests, __ATOMIC_RELAXED) ||
	       vcpu_pending_requests(v) || sched_timer_is_dirty();
}

/* An MMIO access, classified (the fetch of the instruction is the costly part: the
 * ordinary way reuses this classification instead of doing it again). */
static long fast_guest_access(struct vcpu *v)
{
	const struct mmio_region *dev = NULL;
	enum vcpu_action action;

	v->exits++;
	vcpu_arch_classify_exit(&v->arch, &v->exit);
	if (v->exit.kind == VCPU_EXIT_GUEST_ACCESS && v->exit.decoded)
		dev = access_device(v);
	if (!dev) {
		v->exit_classified = true;
		return 0;
	}
	v->exit_kinds[VCPU_EXIT_GUEST_ACCESS]++;
	action = do_guest_access(v, dev);
	/* A device that refused stopped the VM: the ordinary way takes it from there. */
	if (action != VCPU_CONTINUE || hart_has_work(v)) {
		v->exit_answered = true;
		v->answer = action;
		return 0;
	}
	return 1;
}

/*
 * Another hart's IPI to a vCPU that has the hart to itself: a kick with a request
 * for it (an IPI, a fence, an interrupt line), nothing the scheduler must see. Made
 * live here, and the guest goes back in. Anything more, and the ordinary way.
 */
static long fast_host_ipi(struct vcpu *v)
{
	struct hart *h = this_hart();
	unsigned long kick = HART_REQ_KICK;

	/* The world switch saved only what C may clobber and returns only that: nothing
	 * here changes a guest register (vcpu_refresh_entry leaves an SBI event's delivery,
	 * which does, posted; hart_has_work below then sends it the ordinary way). */
	if (!sched_vcpu_alone(v) || hart_pending_irqs() != HART_IRQ_IPI || sched_timer_is_dirty() ||
	    v->vm->state != VM_RUNNING || __atomic_load_n(&v->vm->paused, __ATOMIC_ACQUIRE))
		return 0;
	/* Acknowledge first: an IPI sent after this raises it again. */
	hart_ack_ipi();
	if (!__atomic_compare_exchange_n(&h->requests, &kick, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE) &&
	    kick != 0)
		return 0; /* the scheduler's to see (the IPI is taken; its requests stay) */
	v->exits++;
	v->exit_kinds[VCPU_EXIT_INTERRUPT]++;
	vcpu_refresh_entry(v);
	if (hart_has_work(v)) {
		v->exit_answered = true;
		v->answer = VCPU_CONTINUE;
		return 0;
	}
	return 1;
}

/* An SBI call the world switch may answer itself (sbi_call_is_fast). */
static long fast_ecall(struct vcpu *v)
{
	struct vcpu_arch *a = &v->arch;

	if (!sbi_call_is_fast(vcpu_arch_get_reg(a, REG_A7), vcpu_arch_get_reg(a, REG_A6)))
		return 0;
	v->exits++;
	v->exit_kinds[VCPU_EXIT_ECALL]++;
	sbi_handle_ecall(v);
	/* It may have posted something for us (an IPI to ourselves): then the slow way,
	 * with the call already answered. */
	if (hart_has_work(v)) {
		v->exit_answered = true;
		v->answer = VCPU_CONTINUE;
		return 0;
	}
	return 1;
}

/* Work for the scheduler is looked for after the answer (it may come from the answer
 * itself): then the ordinary way, with the exit already answered. */
long vcpu_fast_exit(struct vcpu_arch *a)
{
	struct vcpu *v = container_of(a, struct vcpu, arch);

	if (vcpu_arch_exit_is_ecall(a))
		return fast_ecall(v);
	if (vcpu_arch_exit_is_host_ipi(a))
		return fast_host_ipi(v);
	return fast_guest_access(v);
}

/* What VS-mode may not do: watched, emulated, caught, or the guest's illegal instruction. */
static enum vcpu_action handle_illegal(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;

	/* A satp write a debugger watches for its waiting breakpoints. */
	if (vm_debug_virtual_insn(v))
		return VCPU_CONTINUE;
	sbi_pmu_count(v, SBI_PMU_FW_ILLEGAL_INSN);
	/* A read of a counter the guest's SBI PMU virtualises is answered here. */
	if (sbi_pmu_emulate_counter_read(v, e->insn, e->from_user))
		return VCPU_CONTINUE;
	if (v->vm->catch & VM_CATCH_ILLEGAL)
		return vm_catch(v, VM_CATCH_ILLEGAL);
	vcpu_arch_inject_exception(&v->arch, VCPU_EXC_ILLEGAL_INSN, e->insn);
	return VCPU_CONTINUE;
}

/*
 * A fork writes a page it still shares with its template (vm_cow.c): a store or AMO
 * (store guest-page fault), or the guest's own page-table walk setting A/D bits (any
 * walk that faults inside a fork's RAM is a write: all of it is readable). The page
 * is copied and the access goes again; a fork at its memory limit has been stopped.
 */
static bool cow_write(struct vcpu *v, enum vcpu_action *action)
{
	const struct vcpu_exit *e = &v->exit;
	bool stopped;

	if (!v->vm->cow ||
	    !((e->kind == VCPU_EXIT_GUEST_ACCESS && e->is_store) || e->kind == VCPU_EXIT_PT_WALK) ||
	    !vm_cow_fault(v, e->gpa, &stopped))
		return false;
	*action = stopped ? VCPU_VM_ENDED : VCPU_CONTINUE;
	return true;
}

enum vcpu_action vcpu_handle_exit(struct vcpu *v)
{
	enum vcpu_action cow_action;

	const struct vcpu_exit *e = &v->exit;

	/* The fast path handled it already and only wants the scheduler to look. */
	if (v->exit_answered) {
		v->exit_answered = false;
		return v->answer;
	}
	if (e->kind < VCPU_EXIT_KINDS)
		v->exit_kinds[e->kind]++;
	/* Before anything takes it for MMIO or the guest's own fault. */
	if (cow_write(v, &cow_action))
		return cow_action;
	switch (e->kind) {
	case VCPU_EXIT_INTERRUPT:
		/* The hart loop services it before re-entering. */
		return VCPU_CONTINUE;
	case VCPU_EXIT_ECALL:
		return sbi_handle_ecall(v);
	case VCPU_EXIT_GUEST_ACCESS:
		return handle_guest_access(v);
	case VCPU_EXIT_PT_WALK:
		return handle_pt_walk(v);
	case VCPU_EXIT_WFI:
		return handle_wfi(v);
	case VCPU_EXIT_CSR:
		/* The IMSIC's CSRs of a vCPU whose file is in software; any other CSR (a
		 * counter the SBI PMU virtualises, say) is what an illegal one is. */
		if (vcpu_aia_csr(v))
			return VCPU_CONTINUE;
		return handle_illegal(v);
	case VCPU_EXIT_ILLEGAL:
		return handle_illegal(v);
	case VCPU_EXIT_BREAKPOINT:
		if (v->vm->debug.attached)
			return vm_debug_breakpoint(v);
		if (v->vm->catch & VM_CATCH_BREAKPOINT)
			return vm_catch(v, VM_CATCH_BREAKPOINT);
		/* Caught no more (the catch changes only at the next load): the guest's own. */
		vcpu_arch_inject_exception(&v->arch, VCPU_EXC_BREAKPOINT, vcpu_arch_pc(&v->arch));
		return VCPU_CONTINUE;
	case VCPU_EXIT_FETCH:
		return vm_fault(v, "instruction fetch from outside guest RAM");
	case VCPU_EXIT_UNREADABLE:
		return vm_fault(v, "cannot read the trapping instruction");
	default:
		return vm_fault(v, "unexpected exception from the guest");
	}
}
