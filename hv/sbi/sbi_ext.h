/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Between the files of hv/sbi/ only: what each extension does at the points
 * of a vCPU's life that sbi/hooks.c receives from core (see vireo/sbi.h).
 */
#ifndef VIREO_SBI_EXT_H
#define VIREO_SBI_EXT_H

#include <vireo/sbi.h>

/* A guest-physical shared-memory range given as (lo, hi) on RV64: its host address, or
 * NULL if any byte of it is not guest RAM (hi != 0 is beyond 2^64: never RAM) or it
 * spans two of the host runs guest RAM is made of (only for small aligned areas that
 * cannot: runs are 2 MiB aligned). */
void *sbi_shmem(struct vcpu *v, unsigned long lo, unsigned long hi, uint64_t size);
/* The same check for a range accessed by copying (guest_mem_read/write): all RAM. */
bool sbi_shmem_ok(struct vcpu *v, unsigned long lo, unsigned long hi, uint64_t size);

/* STA (sta.c). `now` is host time in ticks. */
void sbi_sta_sched_in(struct vcpu *v, uint64_t now);
void sbi_sta_sched_out(struct vcpu *v, uint64_t now, bool runnable);
void sbi_sta_ready(struct vcpu *v, uint64_t now);
void sbi_sta_reset(struct vcpu *v);

/* PMU (pmu.c). */
void sbi_pmu_sched_in(struct vcpu *v);
void sbi_pmu_sched_out(struct vcpu *v);
void sbi_pmu_reset(struct vcpu *v);
void sbi_pmu_resumed(struct vcpu *v);

/* FWFT (fwft.c). */
void sbi_fwft_reset(struct vcpu *v);
void sbi_fwft_resumed(struct vcpu *v);

/* SSE (sse.c). */
void sbi_sse_reset(struct vcpu *v);

/* DBTR (dbtr.c). */
void sbi_dbtr_reset(struct vcpu *v);

/* SUSP (susp.c). */
void sbi_susp_resumed(struct vcpu *v);

#endif
