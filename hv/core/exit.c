// SPDX-License-Identifier: BSD-2-Clause
/*
 * Deciding about an exit. arch/riscv/exit.c has said what happened (struct
 * vcpu_exit); here it meets the VM: its MMIO bus, its SBI, its scheduler.
 * What Vireo cannot handle stops that VM, never the hypervisor.
 */
#include <vireo/exit.h>
#include <vireo/log.h>
#include <vireo/sbi.h>
#include <vireo/vm.h>

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
    [VCPU_EXIT_UNKNOWN] = {"other", "unexpected exception"},
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

	vcpu_arch_describe_exit(&v->arch, trap, sizeof(trap));
	printk("vireo: VM '%s' vCPU %u: %s (%s; stopping the VM\n", v->vm->name, v->id, what, trap);
	vcpu_dump(v);
	vm_stop(v->vm, VM_STATUS_FAULT, what);
	return VCPU_VM_ENDED;
}

static enum vcpu_action handle_guest_access(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;
	const struct insn_mmio *acc = &e->access;
	const struct mmio_region *dev;
	struct vcpu_arch *a = &v->arch;
	uint64_t offset, value = 0;

	dev = mmio_bus_find(&v->vm->bus, e->gpa, e->decoded ? acc->width : 1);
	if (!dev)
		return vm_fault(v, "access to unmapped guest-physical address");
	if (!e->decoded)
		return vm_fault(v, "MMIO access by an instruction Vireo cannot decode");
	/* The bus found the device once; call it directly (mmio_bus_read would look again). */
	offset = e->gpa - dev->base;
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

enum vcpu_action vcpu_handle_exit(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;

	if (e->kind < VCPU_EXIT_KINDS)
		v->exit_kinds[e->kind]++;
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
	case VCPU_EXIT_ILLEGAL:
		/* Anything else VS-mode may not do is, to the guest, an illegal instruction. */
		vcpu_arch_inject_exception(&v->arch, VCPU_EXC_ILLEGAL_INSN, e->insn);
		return VCPU_CONTINUE;
	case VCPU_EXIT_FETCH:
		return vm_fault(v, "instruction fetch from outside guest RAM");
	case VCPU_EXIT_UNREADABLE:
		return vm_fault(v, "cannot read the trapping instruction");
	default:
		return vm_fault(v, "unexpected exception from the guest");
	}
}
