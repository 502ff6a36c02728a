/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rest of the hypervisor as the SBI code sees it, faked for host tests:
 * one VM with a few vCPUs and a small RAM buffer, and recording stubs for
 * every function hv/sbi/ calls outside itself (see sbi_fakes.c).
 */
#ifndef SBI_FAKES_H
#define SBI_FAKES_H

#include <vireo/sbi.h>
#include <vireo/vm.h>

#define FAKE_RAM_BASE	 0x80000000UL
#define FAKE_RAM_SIZE	 (64 * KIB)
#define FAKE_CONSOLE_MAX 256
#define FAKE_INPUT_MAX	 16

/* What the stubs saw, reset by fake_reset(). */
struct fake_record {
	unsigned kicks[VM_MAX_VCPUS];
	unsigned ipis[VM_MAX_VCPUS];
	/* vcpu_arch_set_irq_line */
	unsigned irq_line_calls;
	unsigned irq_line_vcpu, irq_line_irq;
	bool irq_line_level;
	/* vcpu_arch_set_vstimecmp */
	unsigned vstimecmp_writes;
	uint64_t vstimecmp;
	unsigned timer_changes; /* sched_timer_changed */
	unsigned pauses;	/* hart_pause */
	/* vm_stop */
	unsigned stops;
	int stop_status;
	const char *stop_why;
	/* vm_console_putc */
	char console[FAKE_CONSOLE_MAX];
	size_t console_len;
	/* vcpu_arch_read_guest_u64 */
	unsigned guest_reads;
	unsigned long guest_read_va;
};

/* What the stubs answer. */
struct fake_world {
	uint64_t guest_time;	   /* vcpu_arch_guest_time */
	int input[FAKE_INPUT_MAX]; /* sbi_console_getchar, in order */
	unsigned input_len, input_pos;
};

extern struct fake_record fake;
extern struct fake_world world;
extern struct vm fake_vm;
extern uint8_t fake_ram[FAKE_RAM_SIZE];

/* A fresh VM of n vCPUs: vCPU 0 STARTED, the others STOPPED; records and input cleared,
 * Sstc off, guest time 1000. */
void fake_reset(unsigned n);
struct vcpu *fake_vcpu(unsigned id);
/* Queue bytes for sbi_console_getchar. */
void fake_input(const char *bytes);

#endif
