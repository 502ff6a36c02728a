/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SBI beyond v2.0 that the sbi, sta, susp, pmu and sse guests exercise:
 * the v3.0 error codes and the IDs of STA, SUSP, PMU, FWFT, SSE and DBTR.
 */
#ifndef GUEST_SBI_V3_H
#define GUEST_SBI_V3_H

#include "sbi_v2.h"

#define SBI_SPEC_VERSION_3_0 0x03000000L

#define SBI_ERR_ALREADY_STARTED (-7)
#define SBI_ERR_ALREADY_STOPPED (-8)
#define SBI_ERR_NO_SHMEM	(-9)
#define SBI_ERR_INVALID_STATE	(-10)
#define SBI_ERR_BAD_RANGE	(-11)
#define SBI_ERR_DENIED_LOCKED	(-14)

#define SBI_EXT_PMU  0x504D55
#define SBI_EXT_SUSP 0x53555350
#define SBI_EXT_STA  0x535441
#define SBI_EXT_SSE  0x535345
#define SBI_EXT_FWFT 0x46574654
#define SBI_EXT_DBTR 0x44425452

#define SBI_SHMEM_DISABLE (~0UL)

/* STA */
#define SBI_STA_SET_SHMEM 0

/* SUSP */
#define SBI_SUSP_SYSTEM_SUSPEND 0
#define SBI_SUSP_TO_RAM		0

/* PMU */
enum {
	SBI_PMU_NUM_COUNTERS = 0,
	SBI_PMU_COUNTER_GET_INFO = 1,
	SBI_PMU_COUNTER_CFG_MATCH = 2,
	SBI_PMU_COUNTER_START = 3,
	SBI_PMU_COUNTER_STOP = 4,
	SBI_PMU_COUNTER_FW_READ = 5,
	SBI_PMU_COUNTER_FW_READ_HI = 6,
	SBI_PMU_SNAPSHOT_SET_SHMEM = 7,
	SBI_PMU_EVENT_GET_INFO = 8,
};
#define SBI_PMU_CFG_SKIP_MATCH	    (1UL << 0)
#define SBI_PMU_CFG_CLEAR_VALUE	    (1UL << 1)
#define SBI_PMU_CFG_AUTO_START	    (1UL << 2)
#define SBI_PMU_START_SET_INIT	    (1UL << 0)
#define SBI_PMU_START_INIT_SNAPSHOT (1UL << 1)
#define SBI_PMU_STOP_RESET	    (1UL << 0)
#define SBI_PMU_STOP_TAKE_SNAPSHOT  (1UL << 1)
#define SBI_PMU_EVENT_CYCLES	    0x00001UL
#define SBI_PMU_EVENT_INSTRUCTIONS  0x00002UL
#define SBI_PMU_EVENT_FW(code)	    (0xf0000UL | (code))
#define SBI_PMU_INFO_FIRMWARE	    (1UL << 63)
enum {
	SBI_PMU_FW_MISALIGNED_LOAD = 0,
	SBI_PMU_FW_ACCESS_LOAD = 2,
	SBI_PMU_FW_ILLEGAL_INSN = 4,
	SBI_PMU_FW_SET_TIMER = 5,
	SBI_PMU_FW_IPI_SENT = 6,
	SBI_PMU_FW_IPI_RECEIVED = 7,
	SBI_PMU_FW_FENCE_I_SENT = 8,
	SBI_PMU_FW_FENCE_I_RECEIVED = 9,
	SBI_PMU_FW_HFENCE_GVMA_SENT = 14,
};

/* FWFT */
#define SBI_FWFT_SET	  0
#define SBI_FWFT_GET	  1
#define SBI_FWFT_SET_LOCK (1UL << 0)
enum {
	SBI_FWFT_MISALIGNED_EXC_DELEG = 0,
	SBI_FWFT_LANDING_PAD = 1,
	SBI_FWFT_SHADOW_STACK = 2,
	SBI_FWFT_DOUBLE_TRAP = 3,
	SBI_FWFT_PTE_AD_HW_UPDATING = 4,
	SBI_FWFT_POINTER_MASKING_PMLEN = 5,
};

/* SSE */
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
#define SBI_SSE_EVENT_LOCAL_SOFTWARE  0xffff0000UL
#define SBI_SSE_EVENT_GLOBAL_SOFTWARE 0xffff8000UL
enum {
	SBI_SSE_ATTR_STATUS = 0,
	SBI_SSE_ATTR_PRIORITY = 1,
	SBI_SSE_ATTR_CONFIG = 2,
	SBI_SSE_ATTR_PREFERRED_HART = 3,
	SBI_SSE_ATTR_ENTRY_PC = 4,
	SBI_SSE_ATTR_ENTRY_ARG = 5,
	SBI_SSE_ATTR_INTERRUPTED_SEPC = 6,
	SBI_SSE_ATTR_INTERRUPTED_FLAGS = 7,
	SBI_SSE_ATTR_INTERRUPTED_A6 = 8,
	SBI_SSE_ATTR_INTERRUPTED_A7 = 9,
};
#define SBI_SSE_STATUS_STATE(s)	  ((s)&3)
#define SBI_SSE_STATUS_PENDING	  (1UL << 2)
#define SBI_SSE_STATUS_INJECTABLE (1UL << 3)
enum { SBI_SSE_UNUSED, SBI_SSE_REGISTERED, SBI_SSE_ENABLED, SBI_SSE_RUNNING };

/* DBTR */
enum {
	SBI_DBTR_NUM_TRIGGERS = 0,
	SBI_DBTR_SET_SHMEM = 1,
	SBI_DBTR_READ_TRIGGERS = 2,
	SBI_DBTR_INSTALL_TRIGGERS = 3,
	SBI_DBTR_UPDATE_TRIGGERS = 4,
	SBI_DBTR_UNINSTALL_TRIGGERS = 5,
	SBI_DBTR_ENABLE_TRIGGERS = 6,
	SBI_DBTR_DISABLE_TRIGGERS = 7,
};

/* Calls with up to five arguments (the rest zero). */
static inline struct sbiret sbi_call5(unsigned long eid, unsigned long fid, unsigned long a0,
				      unsigned long a1, unsigned long a2, unsigned long a3,
				      unsigned long a4)
{
	return sbi_call(eid, fid, a0, a1, a2, a3, a4, 0);
}

static inline struct sbiret sbi_call3(unsigned long eid, unsigned long fid, unsigned long a0,
				      unsigned long a1, unsigned long a2)
{
	return sbi_call(eid, fid, a0, a1, a2, 0, 0, 0);
}

#endif
