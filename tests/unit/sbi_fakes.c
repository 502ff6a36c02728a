// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fakes of the functions hv/sbi/ calls in core, arch and sched, so the SBI
 * dispatch and error paths run on the host. Each stub records its call in
 * `fake` and answers from `world`; the memory ones follow the real
 * semantics (vm_gpa_to_hva exactly as core/vm.c, guest reads identity-mapped
 * over the fake RAM).
 */
#include <string.h>

#include <vireo/cpu.h>
#include <vireo/sched.h>

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
		fake_vm.vcpus[i] = v;
	}
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

/* ---- core/sched.c */

void sched_timer_changed(void)
{
	fake.timer_changes++;
}

/* ---- arch/riscv/vcpu_arch.c */

void vcpu_arch_set_irq_line(struct vcpu_arch *a, unsigned irq, bool level)
{
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

/* The guest's MMU is off in these tests: its virtual addresses are guest-physical. */
int vcpu_arch_read_guest_u64(struct vcpu_arch *a, unsigned long guest_va, uint64_t *value)
{
	uint8_t *p;

	fake.guest_reads++;
	fake.guest_read_va = guest_va;
	p = vm_gpa_to_hva(vcpu_of(a)->vm, guest_va, sizeof(*value));
	if (!p || guest_va % 8)
		return -VIREO_EFAULT;
	memcpy(value, p, sizeof(*value));
	return 0;
}
