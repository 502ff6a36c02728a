/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The register map of one APLIC interrupt domain (RISC-V AIA, "Advanced
 * Platform-Level Interrupt Controller"), shared by the host's APLIC driver and
 * the guests' virtual APLIC. Offsets are from the domain's base; every register
 * is 32 bits.
 */
#ifndef VIREO_APLIC_REGS_H
#define VIREO_APLIC_REGS_H

#define APLIC_DOMAINCFG		 0x0000
#define APLIC_DOMAINCFG_IE	 (1u << 8)
#define APLIC_DOMAINCFG_DM	 (1u << 2) /* MSI delivery mode */
#define APLIC_DOMAINCFG_BE	 (1u << 0)
#define APLIC_DOMAINCFG_RO80	 (1u << 31) /* reads as one */
#define APLIC_SOURCECFG(s)	 (0x0004 + 4 * ((s)-1))
#define APLIC_SOURCECFG_D	 (1u << 10)
#define APLIC_SOURCECFG_CHILD	 0x3ffu
#define APLIC_SOURCECFG_SM	 0x7u
#define APLIC_SM_INACTIVE	 0
#define APLIC_SM_DETACHED	 1
#define APLIC_SM_EDGE1		 4
#define APLIC_SM_EDGE0		 5
#define APLIC_SM_LEVEL1		 6
#define APLIC_SM_LEVEL0		 7
#define APLIC_MMSIADDRCFG	 0x1bc0 /* machine-level domains only */
#define APLIC_SMSIADDRCFGH	 0x1bcc
#define APLIC_SETIP		 0x1c00
#define APLIC_SETIPNUM		 0x1cdc
#define APLIC_IN_CLRIP		 0x1d00
#define APLIC_CLRIPNUM		 0x1ddc
#define APLIC_SETIE		 0x1e00
#define APLIC_SETIENUM		 0x1edc
#define APLIC_CLRIE		 0x1f00
#define APLIC_CLRIENUM		 0x1fdc
#define APLIC_SETIPNUM_LE	 0x2000
#define APLIC_SETIPNUM_BE	 0x2004
#define APLIC_GENMSI		 0x3000
#define APLIC_TARGET(s)		 (0x3004 + 4 * ((s)-1))
#define APLIC_TARGET_HART_SHIFT	 18
#define APLIC_TARGET_HART_MASK	 0x3fffu
#define APLIC_TARGET_GUEST_SHIFT 12
#define APLIC_TARGET_GUEST_MASK	 0x3fu
#define APLIC_TARGET_EIID_MASK	 0x7ffu
#define APLIC_TARGET_IPRIO_MASK	 0xffu
#define APLIC_GENMSI_BUSY	 (1u << 12)
/* Interrupt delivery control (direct mode): one 32-byte block per hart index. */
#define APLIC_IDC(i)	     (0x4000 + 32 * (i))
#define APLIC_IDC_IDELIVERY  0x00
#define APLIC_IDC_IFORCE     0x04
#define APLIC_IDC_ITHRESHOLD 0x08
#define APLIC_IDC_TOPI	     0x18
#define APLIC_IDC_CLAIMI     0x1c
#define APLIC_TOPI_ID_SHIFT  16
#define APLIC_MAX_SOURCES    1024 /* sources 1..1023 */

#endif
