/* SPDX-License-Identifier: BSD-2-Clause */
/* S-mode CSR access and the bits the test guests use. */
#ifndef GUEST_CSR_H
#define GUEST_CSR_H

#define csr_read(csr)                                                                              \
	({                                                                                         \
		unsigned long __v;                                                                 \
		__asm__ volatile("csrr %0, " #csr : "=r"(__v) : : "memory");                       \
		__v;                                                                               \
	})

#define csr_write(csr, val)                                                                        \
	({                                                                                         \
		unsigned long __v = (unsigned long)(val);                                          \
		__asm__ volatile("csrw " #csr ", %0" : : "rK"(__v) : "memory");                    \
	})

#define csr_set(csr, val)                                                                          \
	({                                                                                         \
		unsigned long __v = (unsigned long)(val);                                          \
		__asm__ volatile("csrs " #csr ", %0" : : "rK"(__v) : "memory");                    \
	})

#define csr_clear(csr, val)                                                                        \
	({                                                                                         \
		unsigned long __v = (unsigned long)(val);                                          \
		__asm__ volatile("csrc " #csr ", %0" : : "rK"(__v) : "memory");                    \
	})

#define SSTATUS_SIE	   (1UL << 1)
#define SSTATUS_SPP	   (1UL << 8)
#define SSTATUS_SUM	   (1UL << 18)
#define SSTATUS_VS_INITIAL (1UL << 9)
#define SSTATUS_FS_INITIAL (1UL << 13)

#define SATP_MODE_SV39 (8UL << 60)

/* scause exception codes (interrupt bit clear). */
#define CAUSE_ILLEGAL_INSN     2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_STORE_ACCESS     7
#define CAUSE_LOAD_PAGE_FAULT  13
#define CAUSE_STORE_PAGE_FAULT 15
#define CAUSE_INTERRUPT	       (1UL << 63)

static inline void sfence_vma_all(void)
{
	__asm__ volatile("sfence.vma" : : : "memory");
}

static inline void sfence_vma_addr(unsigned long va)
{
	__asm__ volatile("sfence.vma %0" : : "r"(va) : "memory");
}

static inline void cpu_relax(void)
{
	/* "pause" is a hint; older assemblers lack Zihintpause, so spell the encoding. */
	__asm__ volatile(".4byte 0x0100000f" : : : "memory");
}

#endif
