/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtual APLIC of a VM with guest AIA: one supervisor-level interrupt
 * domain in MSI delivery mode (RISC-V AIA, "Advanced Platform-Level Interrupt
 * Controller"), which the guest programs through trapped MMIO and virtual
 * devices drive through irq_line. It owns the wired sources (UART, virtio-
 * mmio) and forwards each interrupt as an MSI to the vCPU its target register
 * names: hart index = vCPU id, EIID = the identity in the vCPU's IMSIC file.
 *
 * It has no child domains and no direct mode (domaincfg.DM reads one), its
 * target registers have no guest index (the guest's harts have no H), and the
 * MSI address registers of machine-level domains read zero.
 *
 * Locking: each instance has its own lock; every entry point takes it. The msi
 * callback runs with it held (so MSIs leave in order) and must not call back
 * into this APLIC. Lock order: device -> vAPLIC -> whatever msi takes.
 */
#ifndef VIREO_VAPLIC_H
#define VIREO_VAPLIC_H

#include <vireo/aplic_regs.h>
#include <vireo/mmio_bus.h>
#include <vireo/spinlock.h>
#include <vireo/types.h>

#define VAPLIC_MAX_SOURCES 63 /* sources 1..63 */
#define VAPLIC_WORDS	   ((VAPLIC_MAX_SOURCES + 1 + 31) / 32)
#define VAPLIC_SIZE	   0x4000UL /* the control region; no IDCs in MSI mode */

/* An MSI leaves for the vCPU with this hart index, carrying this identity. */
typedef void (*vaplic_msi_fn)(void *opaque, unsigned hart_index, unsigned eiid);

struct vaplic {
	spinlock_t lock;
	unsigned nsources; /* sources 1..nsources (riscv,num-sources) */
	unsigned nharts;   /* hart indexes 0..nharts-1 exist; MSIs to others are dropped */
	uint32_t domaincfg;
	uint32_t genmsi;
	uint32_t sourcecfg[VAPLIC_MAX_SOURCES + 1];
	uint32_t target[VAPLIC_MAX_SOURCES + 1];
	uint32_t pending[VAPLIC_WORDS];
	uint32_t enabled[VAPLIC_WORDS];
	uint32_t input[VAPLIC_WORDS]; /* the wires' levels, whatever the source mode */
	vaplic_msi_fn msi;
	void *opaque;
};

/* A domain after reset: every source inactive, IE off. nsources is clamped to the
 * maximum; msi is not called here. */
void vaplic_init(struct vaplic *a, unsigned nsources, unsigned nharts, vaplic_msi_fn msi,
		 void *opaque);

/* A wire changed level; the signature of irq_line's set_level. */
void vaplic_set_level(void *aplic, unsigned source, bool level);

/*
 * MMIO: naturally aligned 32-bit accesses only (the APLIC defines no others);
 * any other width or alignment is rejected (-VIREO_EINVAL) so the VM stops
 * with a diagnostic. Reserved space reads 0 and ignores writes.
 */
extern const struct mmio_ops vaplic_mmio_ops;

#endif
