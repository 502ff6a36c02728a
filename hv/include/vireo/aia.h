/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hart's side of the Advanced Interrupt Architecture (Smaia/Ssaia): its
 * IMSIC interrupt files, reached through the indirect CSRs (siselect/sireg,
 * vsiselect/vsireg with hstatus.VGEIN) and the claim CSRs (stopei), and the
 * H extension's guest external interrupts (hgeie, hgeip). arch/riscv owns the
 * CSRs; the register numbers and the file's state are plain data that the
 * IMSIC models (vdev/imsic.c) share.
 */
#ifndef VIREO_AIA_H
#define VIREO_AIA_H

#include <vireo/types.h>

/* IMSIC registers behind the iselect CSRs (AIA, "Indirectly accessed interrupt-file registers"). */
#define AIA_ISEL_EIDELIVERY  0x70
#define AIA_ISEL_EITHRESHOLD 0x72
#define AIA_ISEL_EIP0	     0x80
#define AIA_ISEL_EIP63	     0xbf
#define AIA_ISEL_EIE0	     0xc0
#define AIA_ISEL_EIE63	     0xff

#define AIA_EIDELIVERY_ON 1u

/* An interrupt file's MMIO page: a 32-bit write of an identity makes it pending. */
#define AIA_SETEIPNUM_LE 0x0
#define AIA_SETEIPNUM_BE 0x4
#define AIA_FILE_SIZE	 0x1000UL

/* xtopei: the identity in bits 26:16, its priority (the same number) in 10:0. */
#define AIA_TOPEI_ID_SHIFT 16
#define AIA_TOPEI_MASK	   0x7ffu

#define AIA_MAX_IDS   2048 /* identities 1..2047 at most (riscv,num-ids) */
#define AIA_EIX_WORDS (AIA_MAX_IDS / 64)

/* Everything an interrupt file holds: what moves with a vCPU between files. On RV64
 * the eip/eie arrays are 64-bit registers at the even selects (eip0, eip2, ...). */
struct aia_file_regs {
	uint32_t eidelivery;
	uint32_t eithreshold;
	uint64_t eip[AIA_EIX_WORDS];
	uint64_t eie[AIA_EIX_WORDS];
};

/* ---- this hart's S-level interrupt file (Vireo's own device interrupts) */
unsigned long aia_sfile_read(unsigned isel);
void aia_sfile_write(unsigned isel, unsigned long value);
/* Claim the highest-priority pending and enabled identity; 0 if none. */
unsigned aia_sfile_claim(void);

/* ---- guest interrupt files of this hart (1..GEILEN) */
/* GEILEN: how many guest interrupt files this hart has (hgeie's writable bits). */
unsigned aia_probe_geilen(void);
/* Copy a guest file into *regs and clear it (eidelivery 0, nothing pending or enabled). */
void aia_gfile_save(unsigned file, struct aia_file_regs *regs, unsigned num_ids);
/* Load *regs into a guest file (its delivery last, once the rest is in place). */
void aia_gfile_restore(unsigned file, const struct aia_file_regs *regs, unsigned num_ids);
/* An MSI into the interrupt file whose page is at `page` (host-physical). */
void aia_file_send(uintptr_t page, uint32_t id);
/* Which files have an interrupt for their guest pending (hgeip). */
unsigned long aia_gfile_pending(void);
/* The files whose interrupts raise SGEIP (hgeie); SGEI itself stays off (hie). */
void aia_gfile_watch(unsigned long files);
/* This hart's AIA state at boot: hvictl 0, no file in hgeie, SGEI off. */
void aia_init_hart(bool guest_files);

#endif
