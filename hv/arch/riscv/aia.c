// SPDX-License-Identifier: BSD-2-Clause
/*
 * IMSIC interrupt files through the AIA CSRs. The S-level file is this hart's
 * own (siselect/sireg/stopei); a guest file is reached from HS-mode through
 * vsiselect/vsireg with hstatus.VGEIN naming it, exactly as VS-mode reaches
 * the file its vCPU runs with. Whatever of the loaded guest's state these
 * borrow (vsiselect, hstatus.VGEIN) is put back before returning.
 */
#include <vireo/aia.h>
#include <vireo/cpu.h>
#include "csr.h"

unsigned long aia_sfile_read(unsigned isel)
{
	csr_write_num(CSR_SISELECT, isel);
	return csr_read_num(CSR_SIREG);
}

void aia_sfile_write(unsigned isel, unsigned long value)
{
	csr_write_num(CSR_SISELECT, isel);
	csr_write_num(CSR_SIREG, value);
}

unsigned aia_sfile_claim(void)
{
	/* A write to stopei claims what it read (AIA, "Supervisor top external interrupt"). */
	unsigned long top = csr_swap_num(CSR_STOPEI, 0);

	return (unsigned)(top >> AIA_TOPEI_ID_SHIFT) & AIA_TOPEI_MASK;
}

unsigned aia_probe_geilen(void)
{
	unsigned long bits;
	unsigned n = 0;

	csr_write_num(CSR_HGEIE, ~0UL);
	bits = csr_read_num(CSR_HGEIE);
	csr_write_num(CSR_HGEIE, 0);
	for (; bits; bits &= bits - 1)
		n++;
	return n;
}

/* The number of 64-bit eip/eie registers that hold identities 0..num_ids. */
static unsigned eix_words(unsigned num_ids)
{
	unsigned w = num_ids / 64 + 1;

	return w < AIA_EIX_WORDS ? w : AIA_EIX_WORDS;
}

struct gfile_window {
	unsigned long hstatus, vsiselect;
};

static void gfile_open(struct gfile_window *w, unsigned file)
{
	w->hstatus = csr_read(hstatus);
	w->vsiselect = csr_read_num(CSR_VSISELECT);
	csr_write(hstatus,
		  (w->hstatus & ~HSTATUS_VGEIN) | ((unsigned long)file << HSTATUS_VGEIN_SHIFT));
}

static void gfile_close(const struct gfile_window *w)
{
	csr_write_num(CSR_VSISELECT, w->vsiselect);
	csr_write(hstatus, w->hstatus);
}

static unsigned long gfile_read(unsigned isel)
{
	csr_write_num(CSR_VSISELECT, isel);
	return csr_read_num(CSR_VSIREG);
}

static void gfile_write(unsigned isel, unsigned long value)
{
	csr_write_num(CSR_VSISELECT, isel);
	csr_write_num(CSR_VSIREG, value);
}

void aia_gfile_save(unsigned file, struct aia_file_regs *regs, unsigned num_ids)
{
	struct gfile_window w;
	unsigned words = eix_words(num_ids);

	gfile_open(&w, file);
	regs->eidelivery = (uint32_t)gfile_read(AIA_ISEL_EIDELIVERY);
	gfile_write(AIA_ISEL_EIDELIVERY, 0);
	regs->eithreshold = (uint32_t)gfile_read(AIA_ISEL_EITHRESHOLD);
	gfile_write(AIA_ISEL_EITHRESHOLD, 0);
	for (unsigned i = 0; i < words; i++) {
		regs->eie[i] = gfile_read(AIA_ISEL_EIE0 + 2 * i);
		gfile_write(AIA_ISEL_EIE0 + 2 * i, 0);
		/* Last: an MSI that lands until here is still in the copy. */
		regs->eip[i] = gfile_read(AIA_ISEL_EIP0 + 2 * i);
		gfile_write(AIA_ISEL_EIP0 + 2 * i, 0);
	}
	for (unsigned i = words; i < AIA_EIX_WORDS; i++)
		regs->eip[i] = regs->eie[i] = 0;
	gfile_close(&w);
}

void aia_gfile_restore(unsigned file, const struct aia_file_regs *regs, unsigned num_ids)
{
	struct gfile_window w;
	unsigned words = eix_words(num_ids);

	gfile_open(&w, file);
	gfile_write(AIA_ISEL_EITHRESHOLD, regs->eithreshold);
	for (unsigned i = 0; i < words; i++) {
		gfile_write(AIA_ISEL_EIE0 + 2 * i, regs->eie[i]);
		/* Set, not overwrite: an MSI may already have arrived in this file. */
		csr_write_num(CSR_VSISELECT, AIA_ISEL_EIP0 + 2 * i);
		csr_set_num(CSR_VSIREG, regs->eip[i]);
	}
	gfile_write(AIA_ISEL_EIDELIVERY, regs->eidelivery);
	gfile_close(&w);
}

void aia_file_send(uintptr_t page, uint32_t id)
{
	*(volatile uint32_t *)(page + AIA_SETEIPNUM_LE) = id;
}

unsigned long aia_gfile_pending(void)
{
	return csr_read_num(CSR_HGEIP);
}

void aia_gfile_watch(unsigned long files)
{
	csr_write_num(CSR_HGEIE, files);
}

void aia_init_hart(bool guest_files)
{
	if (!cpu_features.ssaia)
		return;
	csr_write_num(CSR_HVICTL, 0); /* per vCPU from here: vcpu_arch.c */
	if (!guest_files)
		return;
	aia_gfile_watch(0);
	csr_clear(hie, MIP_SGEIP);
}
