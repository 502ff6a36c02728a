/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM Generation ID device ("microsoft,vmgenid" in the guest's DT, as
 * Linux's drivers/virt/vmgenid.c reads it since 6.10): 16 bytes that name
 * this generation of the VM, and an interrupt that says they changed. A fork
 * or a restored VM starts as a copy of a running Linux, random number
 * generator state included: every copy would draw the same "random" bytes.
 * Each VM gets its own ID; once a fork or restored VM runs, the interrupt
 * tells its Linux, which reads the new ID and reseeds (add_vmfork_randomness).
 * docs/snapshots.md.
 *
 * MMIO: loads of any width inside the 16 bytes read the ID; everything else in
 * the page reads 0; stores are ignored (the ID is the hypervisor's).
 */
#ifndef VIREO_VGENID_H
#define VIREO_VGENID_H

#include <vireo/irq_line.h>
#include <vireo/mmio_bus.h>
#include <vireo/spinlock.h>
#include <vireo/types.h>

#define VGENID_SIZE 16

struct vgenid {
	spinlock_t lock;
	uint8_t id[VGENID_SIZE];
	struct irq_line irq;
	uint64_t notifies; /* times the guest was told of a new generation */
};

/* A device with this ID (copied), interrupting through irq (may be NULL). */
void vgenid_init(struct vgenid *g, const uint8_t id[VGENID_SIZE], const struct irq_line *irq);
/* Tell the guest its generation changed: an edge on the interrupt line. */
void vgenid_notify(struct vgenid *g);

extern const struct mmio_ops vgenid_mmio_ops;

#endif
