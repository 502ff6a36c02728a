/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupts of the host machine's own devices (console input, disks, the
 * host channel), through whichever interrupt controller its device tree
 * describes: a PLIC, an APLIC delivering directly to the harts, or an APLIC
 * forwarding MSIs to the harts' IMSICs. Drivers name a source by the number
 * in their node's "interrupts" and never see which one it is.
 */
#ifndef VIREO_HOST_IRQ_H
#define VIREO_HOST_IRQ_H

#include <vireo/types.h>

struct platform;

typedef void (*host_irq_handler)(void *opaque);

/*
 * Choose and set up the controller, once, on the boot hart, after the harts are
 * registered and before the others start (each then calls host_irq_init_hart).
 * Without a usable one, devices that need interrupts are refused (the reason is
 * logged here, once) and everything else works.
 */
void host_irq_init(const struct platform *plat);
/* This hart's part: its PLIC context, APLIC IDC or IMSIC interrupt file. */
void host_irq_init_hart(void);
/* Which controller Vireo uses, in words ("APLIC (MSIs to IMSICs)"); NULL if none. */
const char *host_irq_controller(void);
/*
 * Enable `source` on the hart with logical index `hart_index` and call handler
 * when it fires. 0, or a negative error (host_irq_error says why, in words).
 */
int host_irq_register(unsigned source, unsigned hart_index, host_irq_handler handler, void *opaque);
/* Why the last host_irq_register failed, in words ("" if it did not). */
const char *host_irq_error(void);
/* Claim and dispatch every pending source of this hart (when polling: poll now). */
void host_irq_handle(void);

/*
 * Polling, when the controller's wires do not reach Vireo (host_irq_controller
 * says so): the first hart calls every registered handler once per
 * HOST_IRQ_POLL_US. The scheduler asks when next (UINT64_MAX: never, on this
 * hart) and calls host_irq_poll whenever it looks at its interrupts; it
 * returns true if it polled.
 */
#define HOST_IRQ_POLL_US 1000
bool host_irq_polled(void);
uint64_t host_irq_poll_deadline(void);
bool host_irq_poll(uint64_t now);

/* ---- for the controller drivers (drivers/plic.c, aplic.c, imsic.c) */

#define HOST_IRQ_MAX_SOURCES 1024 /* an APLIC's maximum: sources 1..1023 */

struct host_irqchip {
	const char *name;
	unsigned nsources; /* valid sources are 1..nsources */
	bool polled;	   /* its wires do not reach Vireo: poll the devices instead */
	/* This hart's set-up (hart_index: its logical index). */
	void (*init_hart)(unsigned hart_index);
	/* Route source to the hart and enable it; `level`: level-triggered, else edge. */
	int (*enable)(unsigned source, unsigned hart_index, bool level, const char **why);
	/* Claim this hart's pending sources, calling host_irq_dispatch for each. */
	void (*handle)(unsigned hart_index);
};

/* Run the handler registered for a claimed source. */
void host_irq_dispatch(unsigned source);
/* The position in the device tree's harts (plat->hartids) of the hart with this
 * logical index, or -1. */
int host_irq_dt_position(const struct platform *plat, unsigned hart_index);

/* Each returns the chip, set up, or NULL with *why saying what is wrong. */
const struct host_irqchip *plic_host_init(const struct platform *plat, const char **why);
const struct host_irqchip *aplic_host_init(const struct platform *plat, const char **why);
/* The S-level IMSIC files under an APLIC in MSI mode (aplic_host_init calls it). */
int imsic_host_init(const struct platform *plat, const char **why);
void imsic_host_init_hart(void);

#endif
