/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtual PLIC every VM gets: a register model of the RISC-V PLIC
 * (riscv-plic-1.0.0, SiFive layout, as on QEMU's virt machine), driven by the
 * guest through trapped MMIO and by virtual devices through irq_line.
 *
 * Context layout (pitfall 7 of the design guide): hart h owns context 2*h
 * (M-mode external interrupt; its registers exist but it is never delivered
 * to a guest) and context 2*h+1 (S-mode external interrupt, delivered by the
 * hypervisor as VSEIP).
 *
 * Locking: each instance has its own spinlock; every entry point takes it.
 * The notify callback runs with that lock held, so that notifications for
 * one context can never be reordered: it must only record the new level
 * (e.g. set the vCPU's VSEIP and kick its hart) and must not call back into
 * this PLIC. Lock order: device (e.g. UART) -> PLIC -> whatever notify takes.
 */
#ifndef VIREO_VPLIC_H
#define VIREO_VPLIC_H

#include <vireo/types.h>
#include <vireo/spinlock.h>
#include <vireo/mmio_bus.h>
#include <vireo/vm_layout.h>

#define VPLIC_MAX_HARTS	   16
#define VPLIC_MAX_CONTEXTS (2 * VPLIC_MAX_HARTS)
#define VPLIC_MAX_SOURCES  VM_PLIC_NUM_SOURCES /* ids 0..31, 0 reserved */
#define VPLIC_WORDS	   ((VPLIC_MAX_SOURCES + 31) / 32)
#define VPLIC_PRIO_MASK	   7U /* 3-bit priorities and thresholds */

/* Register map (offsets from the PLIC base). */
#define VPLIC_PRIORITY_BASE	0x0UL
#define VPLIC_PENDING_BASE	0x1000UL
#define VPLIC_ENABLE_BASE	0x2000UL
#define VPLIC_ENABLE_STRIDE	0x80UL
#define VPLIC_CONTEXT_BASE	0x200000UL
#define VPLIC_CONTEXT_STRIDE	0x1000UL
#define VPLIC_CONTEXT_THRESHOLD 0x0UL
#define VPLIC_CONTEXT_CLAIM	0x4UL

typedef void (*vplic_notify_fn)(void *opaque, unsigned context, bool pending);

struct vplic_context {
	uint32_t enable[VPLIC_WORDS];
	uint8_t threshold;
	bool output; /* last level reported through notify */
};

struct vplic {
	spinlock_t lock;
	unsigned num_sources; /* valid ids are 1..num_sources-1 */
	unsigned num_contexts;
	uint8_t priority[VPLIC_MAX_SOURCES];
	uint32_t pending[VPLIC_WORDS];
	uint32_t in_service[VPLIC_WORDS]; /* claimed, not yet completed */
	uint32_t level[VPLIC_WORDS];	  /* current input line levels */
	struct vplic_context ctx[VPLIC_MAX_CONTEXTS];
	vplic_notify_fn notify;
	void *opaque;
};

/*
 * num_sources counts source 0, as VM_PLIC_NUM_SOURCES does (the guest DT's
 * riscv,ndev is num_sources - 1); both counts are clamped to the maximums.
 * All outputs start low; notify is not called here.
 */
void vplic_init(struct vplic *p, unsigned num_sources, unsigned num_contexts,
		vplic_notify_fn notify, void *opaque);

struct snap_writer;
struct snap_reader;
/* Snapshots (vireo/vm_snapshot.h): priorities, pending, claimed, levels, enables and
 * thresholds. Load keeps only sources and contexts that exist, reports every output
 * through notify, and is -VIREO_EINVAL (all cleared) when the state is not this PLIC's. */
void vplic_save(struct vplic *p, struct snap_writer *w);
int vplic_load(struct vplic *p, struct snap_reader *r);

/* An input line changed level; the signature of irq_line's set_level. */
void vplic_set_level(void *plic, unsigned source, bool level);

/* The current output for a context (false for a context that does not exist). */
bool vplic_context_pending(struct vplic *p, unsigned context);

/*
 * MMIO: naturally aligned 32-bit accesses only, as the PLIC defines; any
 * other width or alignment is rejected (-VIREO_EINVAL) so the VM stops with
 * a diagnostic. Reserved space and absent sources/contexts read 0 and
 * ignore writes.
 */
extern const struct mmio_ops vplic_mmio_ops;

#endif
