/* SPDX-License-Identifier: BSD-2-Clause */
/* CSR numbers, fields and accessors for HS-mode. Private to arch/riscv. */
#ifndef VIREO_ARCH_CSR_H
#define VIREO_ARCH_CSR_H

/* sstatus */
#define SSTATUS_SIE	   (1UL << 1)
#define SSTATUS_SPIE	   (1UL << 5)
#define SSTATUS_SPP	   (1UL << 8)
#define SSTATUS_VS	   (3UL << 9)
#define SSTATUS_VS_OFF	   (0UL << 9)
#define SSTATUS_VS_INITIAL (1UL << 9)
#define SSTATUS_VS_CLEAN   (2UL << 9)
#define SSTATUS_VS_DIRTY   (3UL << 9)
#define SSTATUS_FS	   (3UL << 13)
#define SSTATUS_FS_OFF	   (0UL << 13)
#define SSTATUS_FS_INITIAL (1UL << 13)
#define SSTATUS_FS_CLEAN   (2UL << 13)
#define SSTATUS_FS_DIRTY   (3UL << 13)
#define SSTATUS_SUM	   (1UL << 18)
#define SSTATUS_MXR	   (1UL << 19)
#define SSTATUS_UXL_64	   (2UL << 32)

/* hstatus */
#define HSTATUS_VSBE	(1UL << 5)
#define HSTATUS_GVA	(1UL << 6)
#define HSTATUS_SPV	(1UL << 7)
#define HSTATUS_SPVP	(1UL << 8)
#define HSTATUS_HU	(1UL << 9)
#define HSTATUS_VGEIN	(0x3fUL << 12)
#define HSTATUS_VTVM	(1UL << 20)
#define HSTATUS_VTW	(1UL << 21)
#define HSTATUS_VTSR	(1UL << 22)
#define HSTATUS_VSXL_64 (2UL << 32)

/* Interrupt numbers and bits (sip/sie/hvip/hideleg). */
#define IRQ_S_SOFT   1
#define IRQ_VS_SOFT  2
#define IRQ_S_TIMER  5
#define IRQ_VS_TIMER 6
#define IRQ_S_EXT    9
#define IRQ_VS_EXT   10
#define IRQ_S_GEXT   12
#define MIP_SSIP     (1UL << IRQ_S_SOFT)
#define MIP_VSSIP    (1UL << IRQ_VS_SOFT)
#define MIP_STIP     (1UL << IRQ_S_TIMER)
#define MIP_VSTIP    (1UL << IRQ_VS_TIMER)
#define MIP_SEIP     (1UL << IRQ_S_EXT)
#define MIP_VSEIP    (1UL << IRQ_VS_EXT)
#define MIP_SGEIP    (1UL << IRQ_S_GEXT)

/* AIA (Smaia/Ssaia) and the H extension's guest external interrupts, by number: the
 * assembler may not know their names. */
#define CSR_SISELECT	    0x150
#define CSR_SIREG	    0x151
#define CSR_STOPEI	    0x15c
#define CSR_VSISELECT	    0x250
#define CSR_VSIREG	    0x251
#define CSR_HVICTL	    0x609
#define CSR_HGEIE	    0x607
#define CSR_HGEIP	    0xe12
#define HSTATUS_VGEIN_SHIFT 12
#define HVICTL_IID_SEI	    (9UL << 16)
#define HVICTL_IPRIO_LOWEST 255UL

/* scause exception codes. */
#define CAUSE_INTERRUPT		   (1UL << 63)
#define EXC_INST_MISALIGNED	   0
#define EXC_INST_ACCESS		   1
#define EXC_ILLEGAL_INSN	   2
#define EXC_BREAKPOINT		   3
#define EXC_LOAD_MISALIGNED	   4
#define EXC_LOAD_ACCESS		   5
#define EXC_STORE_MISALIGNED	   6
#define EXC_STORE_ACCESS	   7
#define EXC_ECALL_U		   8 /* also from VU-mode */
#define EXC_ECALL_HS		   9
#define EXC_ECALL_VS		   10
#define EXC_INST_PAGE_FAULT	   12
#define EXC_LOAD_PAGE_FAULT	   13
#define EXC_STORE_PAGE_FAULT	   15
#define EXC_INST_GUEST_PAGE_FAULT  20
#define EXC_LOAD_GUEST_PAGE_FAULT  21
#define EXC_VIRTUAL_INSTRUCTION	   22
#define EXC_STORE_GUEST_PAGE_FAULT 23

/* hgatp */
#define HGATP_MODE_SHIFT  60
#define HGATP_MODE_OFF	  0UL
#define HGATP_MODE_SV39X4 8UL
#define HGATP_MODE_SV48X4 9UL
#define HGATP_MODE_SV57X4 10UL
#define HGATP_VMID_SHIFT  44
#define HGATP_VMID_MASK	  (0x3fffUL << HGATP_VMID_SHIFT)
#define HGATP_PPN_MASK	  ((1UL << 44) - 1)

/* henvcfg (and senvcfg, whose low bits are the same) */
#define HENVCFG_FIOM	   (1UL << 0)
#define HENVCFG_CBIE_INVAL (3UL << 4) /* cbo.inval invalidates (01 would make it a flush) */
#define HENVCFG_CBCFE	   (1UL << 6)
#define HENVCFG_CBZE	   (1UL << 7)
#define HENVCFG_ADUE	   (1UL << 61)
#define HENVCFG_STCE	   (1UL << 63)
#define HENVCFG_PBMTE	   (1UL << 62)

/* hcounteren */
#define HCOUNTEREN_CY (1UL << 0)
#define HCOUNTEREN_TM (1UL << 1)
#define HCOUNTEREN_IR (1UL << 2)

#ifndef __ASSEMBLY__
#include <vireo/types.h>

#define csr_read(csr)                                                                              \
	({                                                                                         \
		unsigned long __v;                                                                 \
		__asm__ volatile("csrr %0, " #csr : "=r"(__v)::"memory");                          \
		__v;                                                                               \
	})
#define csr_write(csr, val)                                                                        \
	({ __asm__ volatile("csrw " #csr ", %0" ::"rK"((unsigned long)(val)) : "memory"); })
#define csr_swap(csr, val)                                                                         \
	({                                                                                         \
		unsigned long __v = (unsigned long)(val);                                          \
		__asm__ volatile("csrrw %0, " #csr ", %1" : "=r"(__v) : "rK"(__v) : "memory");     \
		__v;                                                                               \
	})
/* For CSRs named by a macro (a number the assembler has no name for): expand first. */
#define csr_read_num(num)	csr_read(num)
#define csr_write_num(num, val) csr_write(num, val)
#define csr_swap_num(num, val)	csr_swap(num, val)
#define csr_set_num(num, val)	csr_set(num, val)
#define csr_clear_num(num, val) csr_clear(num, val)
#define CSR_SSTATEEN0		0x10c

#define csr_set(csr, val)                                                                          \
	({ __asm__ volatile("csrs " #csr ", %0" ::"rK"((unsigned long)(val)) : "memory"); })
#define csr_clear(csr, val)                                                                        \
	({ __asm__ volatile("csrc " #csr ", %0" ::"rK"((unsigned long)(val)) : "memory"); })

static inline void hfence_gvma_all(void)
{
	__asm__ volatile(".option push\n.option arch, +h\nhfence.gvma zero, zero\n.option pop" ::
			     : "memory");
}

static inline void hfence_gvma_vmid(unsigned long vmid)
{
	__asm__ volatile(
	    ".option push\n.option arch, +h\nhfence.gvma zero, %0\n.option pop" ::"r"(vmid)
	    : "memory");
}

/* Flush the VS-stage TLB of the VMID currently in hgatp. */
static inline void hfence_vvma_all(void)
{
	__asm__ volatile(".option push\n.option arch, +h\nhfence.vvma zero, zero\n.option pop" ::
			     : "memory");
}

static inline void hfence_vvma_addr(unsigned long vaddr)
{
	__asm__ volatile(
	    ".option push\n.option arch, +h\nhfence.vvma %0, zero\n.option pop" ::"r"(vaddr)
	    : "memory");
}

static inline void hfence_vvma_asid(unsigned long asid)
{
	__asm__ volatile(
	    ".option push\n.option arch, +h\nhfence.vvma zero, %0\n.option pop" ::"r"(asid)
	    : "memory");
}

static inline void hfence_vvma_addr_asid(unsigned long vaddr, unsigned long asid)
{
	__asm__ volatile(
	    ".option push\n.option arch, +h\nhfence.vvma %0, %1\n.option pop" ::"r"(vaddr),
	    "r"(asid)
	    : "memory");
}

static inline void wfi(void)
{
	__asm__ volatile("wfi" ::: "memory");
}

static inline void fence_i(void)
{
	__asm__ volatile("fence.i" ::: "memory");
}
#endif

#endif
