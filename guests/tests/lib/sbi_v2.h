/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rest of SBI v2.0 that the sbi, timer and hsm guests exercise: error
 * codes, extension and function IDs, HSM suspend types and the legacy v0.1
 * EIDs. sbi.h keeps what every guest needs; this adds what only these test.
 */
#ifndef GUEST_SBI_V2_H
#define GUEST_SBI_V2_H

#include "sbi.h"

#define SBI_ERR_FAILED		  (-1)
#define SBI_ERR_INVALID_PARAM	  (-3)
#define SBI_ERR_DENIED		  (-4)
#define SBI_ERR_INVALID_ADDRESS	  (-5)
#define SBI_ERR_ALREADY_AVAILABLE (-6)

#define SBI_EXT_RFENCE 0x52464E43

#define SBI_BASE_GET_IMPL_ID	  1
#define SBI_BASE_GET_IMPL_VERSION 2
#define SBI_BASE_GET_MVENDORID	  4
#define SBI_BASE_GET_MARCHID	  5
#define SBI_BASE_GET_MIMPID	  6

#define SBI_RFENCE_FENCE_I	   0
#define SBI_RFENCE_SFENCE_VMA	   1
#define SBI_RFENCE_SFENCE_VMA_ASID 2
#define SBI_RFENCE_HFENCE_MIN	   3 /* HFENCE.GVMA_VMID .. HFENCE.VVMA */
#define SBI_RFENCE_HFENCE_MAX	   6

#define SBI_HSM_HART_SUSPEND 3
#define SBI_HSM_SUSPENDED    4

#define SBI_HSM_SUSPEND_RETENTIVE     0x00000000UL
#define SBI_HSM_SUSPEND_NON_RETENTIVE 0x80000000UL

#define SBI_DBCN_WRITE 0
#define SBI_DBCN_READ  1

/* v0.1 calls: one EID each, the result in a0 only. */
#define SBI_LEGACY_SET_TIMER		  0x00
#define SBI_LEGACY_CONSOLE_GETCHAR	  0x02
#define SBI_LEGACY_CLEAR_IPI		  0x03
#define SBI_LEGACY_SEND_IPI		  0x04
#define SBI_LEGACY_REMOTE_FENCE_I	  0x05
#define SBI_LEGACY_REMOTE_SFENCE_VMA	  0x06
#define SBI_LEGACY_REMOTE_SFENCE_VMA_ASID 0x07

/* Interrupt numbers, as scause codes and sie/sip bit positions. */
#define IRQ_S_SOFT  1
#define IRQ_S_TIMER 5
#define SIE_SSIE    (1UL << IRQ_S_SOFT)
#define SIE_STIE    (1UL << IRQ_S_TIMER)
#define SIP_SSIP    SIE_SSIE
#define SIP_STIP    SIE_STIE

struct sbiret sbi_hart_suspend(unsigned long type, unsigned long resume_addr, unsigned long opaque);

#endif
