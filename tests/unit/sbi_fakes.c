// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fakes of the functions hv/sbi/ calls in core, arch and sched, so the SBI
 * dispatch and error paths run on the host. Each stub records its call in
 * `fake` and answers from `world`; the memory ones follow the real
 * semantics (vm_gpa_to_hva exactly as core/vm.c, guest reads identity-mapped
 * over the fake RAM).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/sched.h>
#include <vireo/time.h>
#include <vireo/vcpu_arch_sbi.h>

#include <vireo/sandbox.h>

#include "sbi_fakes.h"

struct cpu_features cpu_features;
struct fake_record fake;
struct fake_world world;
struct vm fake_vm;
uint8_t fake_ram[FAKE_RAM_SIZE] __attribute__((aligned(8)));
static struct vcpu fake_vcpus[VM_MAX_VCPUS];

void fake_reset(unsigned n)
{
	memset(&fake, 0, sizeof(fake));
	memset(&world, 0, sizeof(world));
	memset(&fake_vm, 0, sizeof(fake_vm));
	memset(fake_vcpus, 0, sizeof(fake_vcpus));
	memset(fake_ram, 0, sizeof(fake_ram));
	memset(&cpu_features, 0, sizeof(cpu_features));
	world.guest_time = 1000;
	world.host_time = 1000;
	world.loaded = true;
	fake_vm.state = VM_RUNNING;
	fake_vm.ram_base = FAKE_RAM_BASE;
	fake_vm.ram_size = FAKE_RAM_SIZE;
	guest_mem_add_run(&fake_vm.mem, FAKE_RAM_BASE, FAKE_RAM_SIZE, fake_ram);
	fake_vm.nvcpus = n;
	for (unsigned i = 0; i < n; i++) {
		struct vcpu *v = &fake_vcpus[i];

		v->vm = &fake_vm;
		v->id = i;
		v->hsm = i == 0 ? VCPU_STARTED : VCPU_STOPPED;
		v->timer = (struct vcpu_timer){.deadline = UINT64_MAX};
		v->arch.gprs.hstatus = FAKE_HSTATUS_SPVP; /* it trapped from VS-mode */
		v->arch.gprs.sstatus = FAKE_SSTATUS_SPP;
		v->arch.hcfg.hcounteren = 0x7;
		fake_vm.vcpus[i] = v;
	}
}

void fake_split_ram(void)
{
	memset(&fake_vm.mem, 0, sizeof(fake_vm.mem));
	guest_mem_add_run(&fake_vm.mem, FAKE_RAM_BASE, FAKE_RAM_SPLIT, fake_ram);
	guest_mem_add_run(&fake_vm.mem, FAKE_RAM_BASE + FAKE_RAM_SPLIT,
			  FAKE_RAM_SIZE - FAKE_RAM_SPLIT, fake_ram + FAKE_RAM_SPLIT);
}

struct vcpu *fake_vcpu(unsigned id)
{
	return &fake_vcpus[id];
}

void fake_input(const char *bytes)
{
	while (*bytes && world.input_len < FAKE_INPUT_MAX)
		world.input[world.input_len++] = (unsigned char)*bytes++;
}

static struct vcpu *vcpu_of(struct vcpu_arch *a)
{
	return container_of(a, struct vcpu, arch);
}

/* ---- core/vm.c */

/* As core/vm.c: the whole range inside one run of guest RAM. */
void *vm_gpa_to_hva(struct vm *vm, gpa_t gpa, uint64_t len)
{
	return guest_mem_ptr(&vm->mem, gpa, len);
}

struct vcpu *vm_vcpu(struct vm *vm, unsigned long hartid)
{
	return hartid < vm->nvcpus ? vm->vcpus[hartid] : NULL;
}

void vm_stop(struct vm *vm, int status, const char *why)
{
	vm->state = VM_STOPPING;
	fake.stops++;
	fake.stop_status = status;
	fake.stop_why = why;
}

int sbi_console_getchar(struct vm *vm)
{
	(void)vm;
	if (world.input_pos == world.input_len)
		return -1;
	return world.input[world.input_pos++];
}

/* ---- core/vm_console.c */

void vm_console_putc(struct vm_console *c, uint8_t byte)
{
	(void)c;
	if (fake.console_len < FAKE_CONSOLE_MAX)
		fake.console[fake.console_len++] = (char)byte;
}

void vm_console_write(struct vm_console *c, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		vm_console_putc(c, buf[i]);
}

/* ---- core/vcpu.c */

void vcpu_kick(struct vcpu *v)
{
	fake.kicks[v->id]++;
}

void vcpu_post_ipi(struct vcpu *v)
{
	fake.ipis[v->id]++;
}

void vcpu_make_request(struct vcpu *v, unsigned long requests)
{
	v->requests |= requests;
	vcpu_kick(v);
}

unsigned long vcpu_pending_requests(const struct vcpu *v)
{
	return v->requests;
}

/* ---- arch/riscv/hart.c (lib/time.c is the real one, at its default 10 MHz) */

/* The other harts run meanwhile: every vCPU that was in its guest comes out. */
void hart_pause(uint64_t ticks)
{
	(void)ticks;
	fake.pauses++;
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		fake_vcpus[i].in_guest = false;
}

/* ---- core/sched.c */

void sched_timer_changed(void)
{
	fake.timer_changes++;
}

/* ---- arch/riscv/vcpu_arch.c */

void vcpu_arch_set_irq_line(struct vcpu_arch *a, unsigned irq, bool level)
{
	if (level)
		a->vs.hvip |= 1UL << irq;
	else
		a->vs.hvip &= ~(1UL << irq);
	fake.irq_line_calls++;
	fake.irq_line_vcpu = vcpu_of(a)->id;
	fake.irq_line_irq = irq;
	fake.irq_line_level = level;
}

void vcpu_arch_set_vstimecmp(struct vcpu_arch *a, uint64_t deadline)
{
	a->vs.vstimecmp = deadline;
	fake.vstimecmp_writes++;
	fake.vstimecmp = deadline;
}

uint64_t vcpu_arch_sstc_deadline(struct vcpu_arch *a, bool loaded)
{
	(void)loaded;
	return a->vs.vstimecmp;
}

uint64_t vcpu_arch_guest_time(const struct vcpu_arch *a)
{
	(void)a;
	return world.guest_time;
}

/* Guest time is host time + htimedelta (a restored VM's clock); no wrap in these tests. */
uint64_t vcpu_arch_host_deadline(const struct vcpu_arch *a, uint64_t guest_deadline)
{
	if (guest_deadline == UINT64_MAX)
		return UINT64_MAX;
	return guest_deadline - (uint64_t)a->hcfg.htimedelta;
}

uint64_t vcpu_arch_host_time(void)
{
	return world.host_time;
}

void vcpu_arch_inject_exception(struct vcpu_arch *a, enum vcpu_exception exc, unsigned long tval)
{
	(void)a;
	fake.injections++;
	fake.injected = exc;
	fake.injected_tval = tval;
}

/* Below FAKE_UNMAPPED_VA the guest's virtual addresses are guest-physical; at and above
 * it its page tables map nothing. */
enum vcpu_guest_fault vcpu_arch_read_guest(struct vcpu_arch *a, unsigned long va, void *buf,
					   size_t len, unsigned long *fault_va)
{
	uint8_t *out = buf;

	fake.guest_reads++;
	fake.guest_read_va = va;
	for (size_t i = 0; i < len; i++) {
		uint8_t *p;

		if (va + i >= FAKE_UNMAPPED_VA) {
			*fault_va = va + i;
			return VCPU_GUEST_PAGE_FAULT;
		}
		p = vm_gpa_to_hva(vcpu_of(a)->vm, va + i, 1);
		if (!p) {
			*fault_va = va + i;
			return VCPU_GUEST_ACCESS_FAULT;
		}
		out[i] = *p;
	}
	return VCPU_GUEST_OK;
}

bool vcpu_arch_irq_line(struct vcpu_arch *a, unsigned irq)
{
	return (a->vs.hvip >> irq) & 1;
}

uint64_t vcpu_arch_read_counter(unsigned counter)
{
	return counter < 3 ? world.counters[counter] : 0;
}

void vcpu_arch_counter_direct(struct vcpu_arch *a, unsigned counter, bool direct, bool loaded)
{
	(void)loaded;
	if (direct)
		a->hcfg.hcounteren |= 1UL << counter;
	else
		a->hcfg.hcounteren &= ~(1UL << counter);
}

bool vcpu_arch_user_counter_allowed(struct vcpu_arch *a, unsigned counter)
{
	(void)a;
	return (world.scounteren >> counter) & 1;
}

void vcpu_arch_set_pte_ad_hw(struct vcpu_arch *a, bool on, bool loaded)
{
	(void)loaded;
	if (on)
		a->hcfg.henvcfg |= FAKE_ENVCFG_ADUE;
	else
		a->hcfg.henvcfg &= ~FAKE_ENVCFG_ADUE;
}

void vcpu_arch_set_pointer_masking(struct vcpu_arch *a, unsigned pmlen, bool loaded)
{
	unsigned long pmm = pmlen == 16 ? 3 : pmlen == 7 ? 2 : 0;

	(void)loaded;
	a->hcfg.henvcfg &= ~(3UL << FAKE_ENVCFG_PMM_SHIFT);
	a->hcfg.henvcfg |= pmm << FAKE_ENVCFG_PMM_SHIFT;
}

/* The specification's injection and completion, on the fake CSRs in vcpu_arch. */
static void set_privilege(struct vcpu_arch *a, bool supervisor)
{
	if (supervisor) {
		a->gprs.sstatus |= FAKE_SSTATUS_SPP;
		a->gprs.hstatus |= FAKE_HSTATUS_SPVP;
	} else {
		a->gprs.sstatus &= ~FAKE_SSTATUS_SPP;
		a->gprs.hstatus &= ~FAKE_HSTATUS_SPVP;
	}
}

void vcpu_arch_sse_enter(struct vcpu_arch *a, unsigned long entry_pc, unsigned long *flags,
			 unsigned long *sepc)
{
	unsigned long st = a->vs.vsstatus;

	fake.sse_enters++;
	*flags = ((st & FAKE_SSTATUS_SPP) ? VCPU_SSE_FLAG_SPP : 0) |
		 ((st & FAKE_SSTATUS_SPIE) ? VCPU_SSE_FLAG_SPIE : 0);
	*sepc = a->vs.vsepc;
	a->vs.vsepc = a->gprs.sepc;
	st &= ~(FAKE_SSTATUS_SPP | FAKE_SSTATUS_SPIE);
	if (a->gprs.hstatus & FAKE_HSTATUS_SPVP)
		st |= FAKE_SSTATUS_SPP;
	if (st & FAKE_SSTATUS_SIE)
		st |= FAKE_SSTATUS_SPIE;
	st &= ~FAKE_SSTATUS_SIE;
	a->vs.vsstatus = st;
	a->gprs.sepc = entry_pc;
	set_privilege(a, true);
}

void vcpu_arch_sse_resume(struct vcpu_arch *a, unsigned long flags, unsigned long sepc)
{
	unsigned long st = a->vs.vsstatus;

	fake.sse_resumes++;
	a->gprs.sepc = a->vs.vsepc;
	set_privilege(a, (st & FAKE_SSTATUS_SPP) != 0);
	st &= ~FAKE_SSTATUS_SIE;
	if (st & FAKE_SSTATUS_SPIE)
		st |= FAKE_SSTATUS_SIE;
	st &= ~(FAKE_SSTATUS_SPIE | FAKE_SSTATUS_SPP);
	if (flags & VCPU_SSE_FLAG_SPIE)
		st |= FAKE_SSTATUS_SPIE;
	if (flags & VCPU_SSE_FLAG_SPP)
		st |= FAKE_SSTATUS_SPP;
	a->vs.vsstatus = st;
	a->vs.vsepc = sepc;
}

/* ---- core/vcpu.c (more) */

bool vcpu_is_loaded(const struct vcpu *v)
{
	(void)v;
	return world.loaded;
}

/* ---- lib/log.c */

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	fake.logs++;
	va_start(ap, fmt);
	vsnprintf(fake.log, sizeof(fake.log), fmt, ap);
	va_end(ap);
}

/* core/sandbox.c as the sandbox SBI extension sees it. */
bool sandbox_sbi_available(const struct vcpu *v)
{
	(void)v;
	return world.sandbox;
}

static long sandbox_record(unsigned fid, const uint64_t *args, unsigned n, enum vcpu_action *action)
{
	fake.sandbox_calls++;
	fake.sandbox_fid = fid;
	for (unsigned i = 0; i < n; i++)
		fake.sandbox_args[i] = args[i];
	*action = VCPU_YIELD;
	return world.sandbox_error;
}

long sandbox_ready(struct vcpu *v, uint64_t return_pc, uint64_t sdk_version,
		   enum vcpu_action *action)
{
	uint64_t args[2] = {return_pc, sdk_version};

	(void)v;
	return sandbox_record(0, args, 2, action);
}

long sandbox_return(struct vcpu *v, uint64_t result, enum vcpu_action *action)
{
	(void)v;
	return sandbox_record(1, &result, 1, action);
}

long sandbox_hostcall(struct vcpu *v, uint64_t name_gpa, uint64_t name_len, const uint64_t args[4],
		      enum vcpu_action *action)
{
	uint64_t all[6] = {name_gpa, name_len, args[0], args[1], args[2], args[3]};

	(void)v;
	return sandbox_record(2, all, 6, action);
}

uint64_t hart_waited(void)
{
	return 12345;
}
