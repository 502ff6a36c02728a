// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI SSE (supervisor software events, EID 0x535345, SBI v3.0).
 *
 * Events offered: the two the specification defines for software injection,
 * the local 0xffff0000 (one instance per vCPU) and the global 0xffff8000 (one
 * per VM); both may be injected (STATUS bit 3). The other standard events
 * (RAS 0x0/0x8000/0x100000/0x108000, double trap 0x1, PMU overflow 0x10000)
 * have no source under Vireo: NOT_SUPPORTED. Any other event_id, reserved or
 * platform-specific, is INVALID_PARAM.
 *
 * Delivery rides on the vCPU request mask: whatever may let an event run
 * (inject, enable, unmask, complete) posts VCPU_REQ_SSE to the vCPU that
 * should take it, and on its way into the guest (core/vcpu.c, take_requests)
 * sbi_sse_deliver picks the highest-priority event that is ENABLED and
 * pending, if the vCPU is unmasked and the event outranks the ones already
 * RUNNING there (priority, then the lower event_id), and injects it as the
 * specification's "Software Event Injection" says, in the guest's view of
 * its supervisor state (arch/riscv: vcpu_arch_sse_enter): INTERRUPTED_FLAGS
 * (SPP, SPIE; the guest has no H, Zicfilp or Ssdbltrp, so bits 2..5 are 0),
 * INTERRUPTED_SEPC, _A6, _A7 are saved; a6 = hart id, a7 = ENTRY_ARG, sepc =
 * the interrupted pc, SPP = the interrupted privilege, SPIE = SIE, SIE = 0,
 * and the guest runs ENTRY_PC in VS-mode. A pending event also ends a wfi
 * (never an HSM or system suspend). sbi_sse_complete undoes it from those
 * attributes (the handler may have changed them) and does not return: the
 * interrupted context resumes with its own a0..a5 as the handler left them.
 *
 * A global event goes to its PREFERRED_HART (reset value 0) if that vCPU is
 * unmasked and started, else to the first one that is; if none is, it waits
 * for a vCPU to unmask. Events are masked on every hart at start, as the
 * specification says. A hart reset (HSM hart_start) returns its local event
 * to UNUSED, masks it, and gives back a global event it was running (the
 * handler is gone): ENABLED again.
 *
 * read_attrs/write_attrs: attr_count 0 is INVALID_PARAM, attributes past
 * INTERRUPTED_A7 BAD_RANGE, a buffer not XLEN/8 aligned or not wholly in
 * guest RAM INVALID_ADDRESS. The value of attribute base_attr_id + i is at
 * offset 8 * i: the specification's text says 8 * (base_attr_id + i) but
 * also sizes the buffer 8 * attr_count, and OpenSBI, Linux and kvm-unit-tests
 * all use 8 * i (a one-attribute read into an 8-byte variable). A write
 * checks every attribute first (read-only: DENIED; illegal value:
 * INVALID_PARAM; wrong state: INVALID_STATE, including the INTERRUPTED_*
 * of a global event running on another hart) and writes nothing unless all
 * pass; the error is the first in attribute order.
 *
 * All SSE state of a VM is under its sse_lock (a leaf: under it Vireo only
 * posts requests to vCPUs).
 */
#include <vireo/vcpu_arch_sbi.h>
#include <vireo/vm.h>
#include "sbi_ext.h"

enum {
	SBI_SSE_READ_ATTRS = 0,
	SBI_SSE_WRITE_ATTRS = 1,
	SBI_SSE_REGISTER = 2,
	SBI_SSE_UNREGISTER = 3,
	SBI_SSE_ENABLE = 4,
	SBI_SSE_DISABLE = 5,
	SBI_SSE_COMPLETE = 6,
	SBI_SSE_INJECT = 7,
	SBI_SSE_HART_UNMASK = 8,
	SBI_SSE_HART_MASK = 9,
};

enum { STATE_UNUSED = 0, STATE_REGISTERED = 1, STATE_ENABLED = 2, STATE_RUNNING = 3 };

enum {
	ATTR_STATUS = 0,
	ATTR_PRIORITY = 1,
	ATTR_CONFIG = 2,
	ATTR_PREFERRED_HART = 3,
	ATTR_ENTRY_PC = 4,
	ATTR_ENTRY_ARG = 5,
	ATTR_INTERRUPTED_SEPC = 6,
	ATTR_INTERRUPTED_FLAGS = 7,
	ATTR_INTERRUPTED_A6 = 8,
	ATTR_INTERRUPTED_A7 = 9,
	ATTR_COUNT = 10,
};

#define EVENT_LOCAL_SOFTWARE  0xffff0000u
#define EVENT_GLOBAL_SOFTWARE 0xffff8000u
#define STATUS_PENDING	      BIT(2)
#define STATUS_INJECTABLE     BIT(3)
#define CONFIG_ONESHOT	      BIT(0)
#define FLAGS_VALID	      (VCPU_SSE_FLAG_SPP | VCPU_SSE_FLAG_SPIE)

/* Standard events without a source here. */
static bool standard_unsupported(uint32_t id)
{
	return id == 0x00000000 || id == 0x00000001 || id == 0x00008000 || id == 0x00010000 ||
	       id == 0x00100000 || id == 0x00108000;
}

static long unknown_event_error(uint32_t id)
{
	return standard_unsupported(id) ? SBI_ERR_NOT_SUPPORTED : SBI_ERR_INVALID_PARAM;
}

/* The event `id` as vCPU v sees it (a local one: v's own); NULL if not offered. */
static struct sbi_sse_event *lookup(struct vcpu *v, uint32_t id)
{
	if (id == EVENT_LOCAL_SOFTWARE)
		return &v->sbi.sse.local;
	if (id == EVENT_GLOBAL_SOFTWARE)
		return &v->vm->sbi.sse_global;
	return NULL;
}

static bool is_global(const struct vcpu *v, const struct sbi_sse_event *e)
{
	return e == &v->vm->sbi.sse_global;
}

static uint32_t event_id(const struct vcpu *v, const struct sbi_sse_event *e)
{
	return is_global(v, e) ? EVENT_GLOBAL_SOFTWARE : EVENT_LOCAL_SOFTWARE;
}

/* a outranks b: lower priority value, then lower event_id. */
static bool outranks(const struct vcpu *v, const struct sbi_sse_event *a,
		     const struct sbi_sse_event *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return event_id(v, a) < event_id(v, b);
}

static bool running_on(const struct vcpu *v, const struct sbi_sse_event *e)
{
	return e->state == STATE_RUNNING && (!is_global(v, e) || e->runner == v);
}

static bool deliverable(const struct sbi_sse_event *e)
{
	return e->state == STATE_ENABLED && e->pending;
}

/* The highest-priority event running on v, or NULL. */
static struct sbi_sse_event *top_running(struct vcpu *v)
{
	struct sbi_sse_event *local = &v->sbi.sse.local, *global = &v->vm->sbi.sse_global;
	struct sbi_sse_event *top = running_on(v, local) ? local : NULL;

	if (running_on(v, global) && (!top || outranks(v, global, top)))
		top = global;
	return top;
}

/* Ready to receive events: unmasked and running guest code. */
static bool receives(struct vcpu *v)
{
	return v->sbi.sse.unmasked && __atomic_load_n(&v->hsm, __ATOMIC_ACQUIRE) == VCPU_STARTED;
}

static struct vcpu *global_target(struct vm *vm)
{
	struct vcpu *preferred = vm_vcpu(vm, vm->sbi.sse_global.preferred_hart);

	if (preferred && receives(preferred))
		return preferred;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (receives(vm->vcpus[i]))
			return vm->vcpus[i];
	return preferred ? preferred : vm->vcpus[0];
}

/* Ask the vCPUs that may run a pending event to look (the lock held). */
static void kick_pending(struct vcpu *v)
{
	spin_assert_held(&v->vm->sbi.sse_lock);
	if (deliverable(&v->sbi.sse.local))
		vcpu_make_request(v, VCPU_REQ_SSE);
	if (deliverable(&v->vm->sbi.sse_global))
		vcpu_make_request(global_target(v->vm), VCPU_REQ_SSE);
}

void sbi_sse_deliver(struct vcpu *v)
{
	struct sbi_sse_event *local = &v->sbi.sse.local, *global = &v->vm->sbi.sse_global;
	struct sbi_sse_event *pick = NULL, *top;
	struct vcpu_arch *a = &v->arch;

	spin_lock(&v->vm->sbi.sse_lock);
	if (!v->sbi.sse.unmasked)
		goto out;
	if (deliverable(local))
		pick = local;
	if (deliverable(global) && (!pick || outranks(v, global, pick)))
		pick = global;
	top = top_running(v);
	if (!pick || (top && !outranks(v, pick, top)))
		goto out;
	pick->pending = false;
	pick->state = STATE_RUNNING;
	if (pick == global)
		pick->runner = v;
	pick->interrupted_a6 = vcpu_arch_get_reg(a, REG_A6);
	pick->interrupted_a7 = vcpu_arch_get_reg(a, REG_A7);
	vcpu_arch_sse_enter(a, pick->entry_pc, &pick->interrupted_flags, &pick->interrupted_sepc);
	vcpu_arch_set_reg(a, REG_A6, v->id);
	vcpu_arch_set_reg(a, REG_A7, pick->entry_arg);
out:
	spin_unlock(&v->vm->sbi.sse_lock);
}

static unsigned long attr_value(struct vcpu *v, const struct sbi_sse_event *e, unsigned attr)
{
	switch (attr) {
	case ATTR_STATUS:
		return e->state | (e->pending ? STATUS_PENDING : 0) | STATUS_INJECTABLE;
	case ATTR_PRIORITY:
		return e->priority;
	case ATTR_CONFIG:
		return e->config;
	case ATTR_PREFERRED_HART:
		return is_global(v, e) ? e->preferred_hart : v->id;
	case ATTR_ENTRY_PC:
		return e->entry_pc;
	case ATTR_ENTRY_ARG:
		return e->entry_arg;
	case ATTR_INTERRUPTED_SEPC:
		return e->interrupted_sepc;
	case ATTR_INTERRUPTED_FLAGS:
		return e->interrupted_flags;
	case ATTR_INTERRUPTED_A6:
		return e->interrupted_a6;
	default:
		return e->interrupted_a7;
	}
}

/* May attribute `attr` take `value` now? SBI_SUCCESS or the error. */
static long check_write(struct vcpu *v, const struct sbi_sse_event *e, unsigned attr,
			unsigned long value)
{
	bool before_enable = e->state == STATE_UNUSED || e->state == STATE_REGISTERED;

	switch (attr) {
	case ATTR_PRIORITY:
		if (value > UINT32_MAX)
			return SBI_ERR_INVALID_PARAM;
		return before_enable ? SBI_SUCCESS : SBI_ERR_INVALID_STATE;
	case ATTR_CONFIG:
		if (value & ~CONFIG_ONESHOT)
			return SBI_ERR_INVALID_PARAM;
		return before_enable ? SBI_SUCCESS : SBI_ERR_INVALID_STATE;
	case ATTR_PREFERRED_HART:
		if (!is_global(v, e))
			return SBI_ERR_DENIED; /* read-only for a local event */
		if (!vm_vcpu(v->vm, value))
			return SBI_ERR_INVALID_PARAM;
		return before_enable ? SBI_SUCCESS : SBI_ERR_INVALID_STATE;
	case ATTR_INTERRUPTED_FLAGS:
		if (value & ~FLAGS_VALID)
			return SBI_ERR_INVALID_PARAM;
		return running_on(v, e) ? SBI_SUCCESS : SBI_ERR_INVALID_STATE;
	case ATTR_INTERRUPTED_SEPC:
	case ATTR_INTERRUPTED_A6:
	case ATTR_INTERRUPTED_A7:
		return running_on(v, e) ? SBI_SUCCESS : SBI_ERR_INVALID_STATE;
	default:
		return SBI_ERR_DENIED; /* STATUS, ENTRY_PC, ENTRY_ARG */
	}
}

static void write_attr(struct sbi_sse_event *e, unsigned attr, unsigned long value)
{
	switch (attr) {
	case ATTR_PRIORITY:
		e->priority = (uint32_t)value;
		break;
	case ATTR_CONFIG:
		e->config = value;
		break;
	case ATTR_PREFERRED_HART:
		e->preferred_hart = value;
		break;
	case ATTR_INTERRUPTED_SEPC:
		e->interrupted_sepc = value;
		break;
	case ATTR_INTERRUPTED_FLAGS:
		e->interrupted_flags = value;
		break;
	case ATTR_INTERRUPTED_A6:
		e->interrupted_a6 = value;
		break;
	default:
		e->interrupted_a7 = value;
		break;
	}
}

/* The arguments of read_attrs/write_attrs: the event, the range, the buffer. */
struct attr_args {
	struct sbi_sse_event *e;
	unsigned base, count;
	gpa_t buffer;
};

static long attr_args(struct sbi_call *call, struct attr_args *out)
{
	uint32_t id = (uint32_t)call->args[0];
	uint32_t base = (uint32_t)call->args[1], count = (uint32_t)call->args[2];
	unsigned long lo = call->args[3], hi = call->args[4];

	out->e = lookup(call->vcpu, id);
	if (!out->e)
		return unknown_event_error(id);
	if (count == 0)
		return SBI_ERR_INVALID_PARAM;
	if ((uint64_t)base + count > ATTR_COUNT)
		return SBI_ERR_BAD_RANGE;
	if (!IS_ALIGNED(lo, sizeof(unsigned long)) ||
	    !sbi_shmem_ok(call->vcpu, lo, hi, (uint64_t)count * sizeof(unsigned long)))
		return SBI_ERR_INVALID_ADDRESS;
	out->buffer = lo;
	out->base = base;
	out->count = count;
	return SBI_SUCCESS;
}

static void sse_read_attrs(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;
	unsigned long values[ATTR_COUNT];
	struct attr_args args;

	call->error = attr_args(call, &args);
	if (call->error)
		return;
	spin_lock(&v->vm->sbi.sse_lock);
	for (unsigned i = 0; i < args.count; i++)
		values[i] = attr_value(v, args.e, args.base + i);
	spin_unlock(&v->vm->sbi.sse_lock);
	guest_mem_write(&v->vm->mem, args.buffer, values, args.count * sizeof(values[0]));
}

static void sse_write_attrs(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;
	unsigned long values[ATTR_COUNT];
	struct attr_args args;

	call->error = attr_args(call, &args);
	if (call->error)
		return;
	/* Read the guest's buffer once: it may change it behind our back. */
	guest_mem_read(&v->vm->mem, args.buffer, values, args.count * sizeof(values[0]));
	spin_lock(&v->vm->sbi.sse_lock);
	for (unsigned i = 0; i < args.count && !call->error; i++)
		call->error = check_write(v, args.e, args.base + i, values[i]);
	if (!call->error)
		for (unsigned i = 0; i < args.count; i++)
			write_attr(args.e, args.base + i, values[i]);
	spin_unlock(&v->vm->sbi.sse_lock);
}

/* The event of a call that names one in a0; NULL with call->error set. */
static struct sbi_sse_event *call_event(struct sbi_call *call)
{
	uint32_t id = (uint32_t)call->args[0];
	struct sbi_sse_event *e = lookup(call->vcpu, id);

	if (!e)
		call->error = unknown_event_error(id);
	return e;
}

/* Move the event from state `from` to `to`, else INVALID_STATE. */
static void transition(struct sbi_call *call, unsigned from, unsigned to)
{
	struct vcpu *v = call->vcpu;
	struct sbi_sse_event *e = call_event(call);

	if (!e)
		return;
	spin_lock(&v->vm->sbi.sse_lock);
	if (e->state == from) {
		e->state = (uint8_t)to;
		call->error = SBI_SUCCESS;
		if (to == STATE_ENABLED)
			kick_pending(v);
	} else {
		call->error = SBI_ERR_INVALID_STATE;
	}
	spin_unlock(&v->vm->sbi.sse_lock);
}

static void sse_register(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;
	struct sbi_sse_event *e = call_event(call);
	unsigned long entry_pc = call->args[1];

	if (!e)
		return;
	if (entry_pc & 1) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	spin_lock(&v->vm->sbi.sse_lock);
	if (e->state == STATE_UNUSED) {
		e->entry_pc = entry_pc;
		e->entry_arg = call->args[2];
		e->state = STATE_REGISTERED;
		call->error = SBI_SUCCESS;
	} else {
		call->error = SBI_ERR_INVALID_STATE;
	}
	spin_unlock(&v->vm->sbi.sse_lock);
}

static void sse_complete(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu;
	struct sbi_sse_event *e;

	spin_lock(&v->vm->sbi.sse_lock);
	e = top_running(v);
	call->error = SBI_SUCCESS;
	if (e) {
		e->state = (e->config & CONFIG_ONESHOT) ? STATE_REGISTERED : STATE_ENABLED;
		e->runner = NULL;
		vcpu_arch_sse_resume(&v->arch, e->interrupted_flags, e->interrupted_sepc);
		vcpu_arch_set_reg(&v->arch, REG_A6, e->interrupted_a6);
		vcpu_arch_set_reg(&v->arch, REG_A7, e->interrupted_a7);
		/* The interrupted context resumes as it was: no return values. */
		call->no_return = true;
		kick_pending(v);
	}
	spin_unlock(&v->vm->sbi.sse_lock);
}

static void sse_inject(struct sbi_call *call)
{
	struct vcpu *v = call->vcpu, *target = v;
	uint32_t id = (uint32_t)call->args[0];
	struct sbi_sse_event *e = call_event(call);

	if (!e)
		return;
	if (!is_global(v, e)) {
		target = vm_vcpu(v->vm, call->args[1]);
		if (!target) {
			call->error = SBI_ERR_INVALID_PARAM;
			return;
		}
		e = lookup(target, id);
	}
	spin_lock(&v->vm->sbi.sse_lock);
	e->pending = true;
	if (e->state == STATE_ENABLED)
		vcpu_make_request(is_global(v, e) ? global_target(v->vm) : target, VCPU_REQ_SSE);
	spin_unlock(&v->vm->sbi.sse_lock);
	call->error = SBI_SUCCESS;
}

static void sse_set_mask(struct sbi_call *call, bool unmask)
{
	struct vcpu *v = call->vcpu;

	spin_lock(&v->vm->sbi.sse_lock);
	if (v->sbi.sse.unmasked == unmask) {
		call->error = unmask ? SBI_ERR_ALREADY_STARTED : SBI_ERR_ALREADY_STOPPED;
	} else {
		v->sbi.sse.unmasked = unmask;
		call->error = SBI_SUCCESS;
		if (unmask)
			kick_pending(v);
	}
	spin_unlock(&v->vm->sbi.sse_lock);
}

void sbi_sse_reset(struct vcpu *v)
{
	struct sbi_sse_event *global = &v->vm->sbi.sse_global;

	spin_lock(&v->vm->sbi.sse_lock);
	v->sbi.sse = (struct sbi_sse_vcpu){0};
	if (running_on(v, global)) {
		global->state = STATE_ENABLED;
		global->runner = NULL;
		kick_pending(v);
	}
	spin_unlock(&v->vm->sbi.sse_lock);
}

static void sse_handler(struct sbi_call *call)
{
	switch (call->fid) {
	case SBI_SSE_READ_ATTRS:
		sse_read_attrs(call);
		break;
	case SBI_SSE_WRITE_ATTRS:
		sse_write_attrs(call);
		break;
	case SBI_SSE_REGISTER:
		sse_register(call);
		break;
	case SBI_SSE_UNREGISTER:
		transition(call, STATE_REGISTERED, STATE_UNUSED);
		break;
	case SBI_SSE_ENABLE:
		transition(call, STATE_REGISTERED, STATE_ENABLED);
		break;
	case SBI_SSE_DISABLE:
		transition(call, STATE_ENABLED, STATE_REGISTERED);
		break;
	case SBI_SSE_COMPLETE:
		sse_complete(call);
		break;
	case SBI_SSE_INJECT:
		sse_inject(call);
		break;
	case SBI_SSE_HART_UNMASK:
		sse_set_mask(call, true);
		break;
	case SBI_SSE_HART_MASK:
		sse_set_mask(call, false);
		break;
	default:
		break;
	}
}

const struct sbi_ext sbi_ext_sse = {SBI_EXT_SSE, SBI_EXT_SSE, "sse", sse_handler};
