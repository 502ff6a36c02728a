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
#define FAKE_RAM_SPLIT	 (32 * KIB) /* fake_split_ram: where the second run starts */
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
	/* vcpu_arch_read_guest */
	unsigned guest_reads;
	unsigned long guest_read_va;
	/* vcpu_arch_inject_exception */
	unsigned injections;
	enum vcpu_exception injected;
	unsigned long injected_tval;
	/* log_msg */
	unsigned logs;
	char log[256];
	/* vcpu_arch_sse_enter / vcpu_arch_sse_resume */
	unsigned sse_enters, sse_resumes;
	/* sandbox_ready / sandbox_return / sandbox_hostcall: which (0..2) and its arguments */
	unsigned sandbox_calls;
	unsigned sandbox_fid;
	uint64_t sandbox_args[6];
};

/* What the stubs answer. */
struct fake_world {
	uint64_t guest_time;	   /* vcpu_arch_guest_time */
	uint64_t host_time;	   /* vcpu_arch_host_time */
	int input[FAKE_INPUT_MAX]; /* sbi_console_getchar, in order */
	unsigned input_len, input_pos;
	uint64_t counters[3];	  /* vcpu_arch_read_counter: cycle, -, instret */
	unsigned long scounteren; /* vcpu_arch_user_counter_allowed */
	bool loaded;		  /* vcpu_is_loaded (true after fake_reset) */
	bool sandbox;		  /* the VM is a sandbox (sandbox_sbi_available) */
	long sandbox_error;	  /* what the sandbox_* fakes return; they say VCPU_YIELD */
};

/* Guest virtual addresses at or above this one fault in the guest's page tables
 * (vcpu_arch_read_guest); below it they are guest-physical, identity-mapped. */
#define FAKE_UNMAPPED_VA 0xffffffc000000000UL

/* The fake hart's view of a vCPU's VS CSRs and H configuration lives in its vcpu_arch:
 * vs.vsstatus, vs.vsepc, vs.hvip, hcfg.hcounteren, hcfg.henvcfg. Bits the fakes use: */
#define FAKE_SSTATUS_SIE      (1UL << 1)
#define FAKE_SSTATUS_SPIE     (1UL << 5)
#define FAKE_SSTATUS_SPP      (1UL << 8)
#define FAKE_HSTATUS_SPVP     (1UL << 8)
#define FAKE_ENVCFG_ADUE      (1UL << 61)
#define FAKE_ENVCFG_PMM_SHIFT 32

extern struct fake_record fake;
extern struct fake_world world;
extern struct vm fake_vm;
extern uint8_t fake_ram[FAKE_RAM_SIZE];

/* A fresh VM of n vCPUs: vCPU 0 STARTED, the others STOPPED; records and input cleared,
 * Sstc off, guest time 1000, host time 1000, every vCPU loaded and in VS-mode, direct
 * counter access (hcounteren CY|TM|IR). */
void fake_reset(unsigned n);
struct vcpu *fake_vcpu(unsigned id);
/* Make the fake RAM two host runs (guest RAM may be, core/vm.c): the same bytes, but no
 * host pointer spans FAKE_RAM_SPLIT. */
void fake_split_ram(void);
/* Queue bytes for sbi_console_getchar. */
void fake_input(const char *bytes);

#endif
