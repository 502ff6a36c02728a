/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A vCPU's IMSIC interrupt file, for VMs with guest AIA. While the vCPU sits
 * on a hart that has a free guest interrupt file (GEILEN of them per hart),
 * the file is that hardware one: hstatus.VGEIN names it, the guest reads and
 * claims its interrupts through its own CSRs with no exit, and Vireo injects
 * an interrupt by writing its identity into the file's MMIO page: the guest
 * takes it at once if it runs, and a waiting one's hart is kicked. When
 * the hart has none free (more vCPUs than files), the file is a software one
 * (vdev/imsic.c): the guest's CSR accesses trap and are emulated, its output
 * is the vCPU's VSEIP line. The state moves with the vCPU: to software when it
 * leaves its hart (the scheduler's push migration, a VM's end), into a hardware
 * file on the next hart when it is loaded there and one is free.
 *
 * Locking: aia.lock guards the binding and the software file. It is taken
 * under the vAPLIC's lock (its MSIs) and takes no other lock. The binding only
 * changes on the vCPU's own hart (the CSRs of a hart's files are that hart's).
 */
#ifndef VIREO_VCPU_AIA_H
#define VIREO_VCPU_AIA_H

#include <vireo/spinlock.h>
#include <vireo/types.h>
#include <vireo/vimsic.h>

struct vcpu;
struct platform;

struct vcpu_aia {
	spinlock_t lock;
	bool on;       /* the VM has guest AIA: an IMSIC per vCPU */
	unsigned file; /* its guest interrupt file on `hart_index`, 0: the software one */
	unsigned hart_index;
	uintptr_t page;		   /* the hardware file's MMIO page */
	struct vimsic_file sw;	   /* the state while it has no hardware file */
	uint64_t msis_hw, msis_sw; /* MSIs delivered into each kind of file */
	uint64_t moves;		   /* times its state left a hardware file */
};

/* At boot: where the harts' guest files are (the host IMSIC), how many each has. */
void vcpu_aia_setup(const struct platform *plat);
/* Can a VM get guest AIA here: IMSIC CSRs for the guest (Ssaia) and an IMSIC to
 * mirror. `hardware`: and guest interrupt files (else every vCPU's is software). */
bool vcpu_aia_possible(bool hardware);
/* Identities per file (the host IMSIC's riscv,num-ids), guest files per hart. */
unsigned vcpu_aia_num_ids(void);
unsigned vcpu_aia_files_per_hart(void);

/* A new vCPU's file: software, reset; `on` says whether the VM has AIA at all. */
void vcpu_aia_init(struct vcpu *v, bool on);
/* An MSI with this identity for the vCPU (from the vAPLIC or another vCPU). */
void vcpu_aia_deliver(struct vcpu *v, uint32_t id);
/* On its hart, as it is loaded: into a hardware file if one is free. */
void vcpu_aia_load(struct vcpu *v);
/* On its hart, before it leaves it for good: back into its software file. */
void vcpu_aia_release(struct vcpu *v);
/* On its hart: an interrupt waits in its hardware file (the software one drives the
 * vCPU's VSEIP line instead). An MSI into the file of a waiting vCPU kicks its hart. */
bool vcpu_aia_pending(struct vcpu *v);

/* An access to the IMSIC's CSRs (sireg, stopei) that trapped: emulate it on the
 * software file. False if it is no such access (an illegal instruction). */
bool vcpu_aia_csr(struct vcpu *v);

#endif
