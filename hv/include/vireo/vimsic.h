/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An IMSIC interrupt file in software: the register model of one supervisor-
 * level file (RISC-V AIA, "Incoming MSI Controller"), for a vCPU that has no
 * hardware guest interrupt file. Its state is struct aia_file_regs, the same
 * one a hardware file is saved into, so a vCPU moves between the two by
 * copying it. Pure logic, host-testable; the caller does the locking.
 *
 * Identities are 1..num_ids; a smaller identity has priority. The file asks
 * for an interrupt (vimsic_output) when delivery is on and an identity is
 * both pending and enabled, below the threshold when one is set.
 */
#ifndef VIREO_VIMSIC_H
#define VIREO_VIMSIC_H

#include <vireo/aia.h>
#include <vireo/types.h>

struct vimsic_file {
	struct aia_file_regs regs;
	unsigned num_ids; /* identities 1..num_ids (63..2047, one less than a multiple of 64) */
};

/* A file after reset: nothing pending or enabled, delivery off. */
void vimsic_init(struct vimsic_file *f, unsigned num_ids);

/* An MSI with this identity arrived (a write to seteipnum); out-of-range ones are
 * ignored, as identity 0 is. */
void vimsic_set_pending(struct vimsic_file *f, uint32_t id);

/* The topei CSRs' value: the best pending and enabled identity as (id << 16 | id), or 0. */
uint32_t vimsic_topei(const struct vimsic_file *f);
/* A write to the topei CSR: claim (clear the pending bit of) what topei says; returns it. */
uint32_t vimsic_claim(struct vimsic_file *f);
/* The interrupt the file asks for (a level: its VSEIP). */
bool vimsic_output(const struct vimsic_file *f);

/*
 * Read-modify-write of the register the iselect CSR selects, as a CSR instruction on
 * the ireg CSR does it: new = (old & ~mask) | (value & mask), *old returned. Returns 0,
 * or -VIREO_EINVAL for a select that is no register of an IMSIC file on RV64
 * (outside 0x70..0xff, a reserved one, or an odd eip/eie): an illegal
 * instruction for the guest.
 */
int vimsic_rmw(struct vimsic_file *f, unsigned isel, uint64_t value, uint64_t mask, uint64_t *old);

#endif
