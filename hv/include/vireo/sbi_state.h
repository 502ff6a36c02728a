/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the SBI extensions beyond v2.0 remember per vCPU (struct vcpu, `sbi`)
 * and per VM (struct vm, `sbi`): steal-time records, PMU counters, firmware
 * features, software events, debug-trigger shared memory, system suspend.
 * All zero is the reset state of every field, so a vCPU or VM allocated
 * zeroed starts as the SBI specification says a hart or system starts.
 * Only hv/sbi/ reads or writes these fields.
 */
#ifndef VIREO_SBI_STATE_H
#define VIREO_SBI_STATE_H

#include <vireo/spinlock.h>
#include <vireo/types.h>

struct vcpu;

/* STA: the steal-time record of one vCPU (sbi/sta.c). */
struct sbi_sta_vcpu {
	uint8_t *record;      /* host address of the guest's 64-byte record; NULL: not reporting */
	uint64_t record_gpa;  /* ...and its guest-physical address (snapshots) */
	uint32_t sequence;    /* the record's sequence: odd while Vireo writes it */
	uint64_t steal_ns;    /* steal time reported so far */
	bool ready;	      /* runnable and off its hart since ready_since */
	uint64_t ready_since; /* host time (ticks) */
};

/* PMU (sbi/pmu.c). */
#define SBI_PMU_COUNTERS  9  /* 0 cycle, 2 instret (hardware); 1, 3..8 firmware */
#define SBI_PMU_FW_EVENTS 22 /* firmware event codes 0..21 (SBI_PMU_FW_*) */

struct sbi_pmu_counter {
	uint32_t event_idx; /* the event it counts; 0: not configured */
	bool started;
	uint64_t value; /* stopped: the count; started: the count when `mark` was read */
	uint64_t mark;	/* started: the source's reading (hart counter or event tally) */
};

struct sbi_pmu_vcpu {
	struct sbi_pmu_counter ctr[SBI_PMU_COUNTERS];
	/* Firmware events that happened to this vCPU, by code; other harts add to them
	 * (a received IPI or fence is counted by its sender), so only with atomics. */
	uint64_t fw_events[SBI_PMU_FW_EVENTS];
};

/* FWFT: per-vCPU values and locks of the local features (sbi/fwft.c). */
#define SBI_FWFT_LOCAL_FEATURES 6

struct sbi_fwft_vcpu {
	unsigned long value[SBI_FWFT_LOCAL_FEATURES];
	uint32_t locked; /* BIT(feature): set with the LOCK flag until the hart resets */
};

/* SSE: one software event, local (per vCPU) or global (per VM) (sbi/sse.c). */
struct sbi_sse_event {
	uint8_t state; /* SBI_SSE_STATE_*: UNUSED 0, REGISTERED 1, ENABLED 2, RUNNING 3 */
	bool pending;
	uint32_t priority;
	unsigned long config;
	unsigned long preferred_hart; /* global events only; a local one's is its own hart */
	unsigned long entry_pc, entry_arg;
	unsigned long interrupted_sepc, interrupted_flags, interrupted_a6, interrupted_a7;
	struct vcpu *runner; /* global events in RUNNING: the vCPU running the handler */
};

struct sbi_sse_vcpu {
	struct sbi_sse_event local; /* the software-injected local event 0xffff0000 */
	bool unmasked;		    /* sbi_sse_hart_unmask: ready to receive events */
};

/* DBTR (sbi/dbtr.c): the trigger shared memory is set (there are no triggers). */
struct sbi_dbtr_vcpu {
	bool shmem;
};

struct sbi_vcpu_state {
	struct sbi_sta_vcpu sta;
	struct sbi_pmu_vcpu pmu;
	struct sbi_fwft_vcpu fwft;
	struct sbi_sse_vcpu sse;
	struct sbi_dbtr_vcpu dbtr;
	bool system_suspended; /* SUSP: asleep in sbi_system_suspend until a wake-up */
};

struct sbi_vm_state {
	spinlock_t sse_lock;		 /* all SSE state of the VM and of its vCPUs */
	struct sbi_sse_event sse_global; /* the software-injected global event 0xffff8000 */
};

#endif
