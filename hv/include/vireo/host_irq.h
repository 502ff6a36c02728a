/* SPDX-License-Identifier: BSD-2-Clause */
/* Interrupts of the host machine's own devices, through the host PLIC. */
#ifndef VIREO_HOST_IRQ_H
#define VIREO_HOST_IRQ_H

#include <vireo/types.h>

typedef void (*host_irq_handler)(void *opaque);

/* s_context[i] is the PLIC's S-mode context of the hart with logical index i (not DT order). */
void host_irq_init(uintptr_t plic_base, unsigned ndev, const int *s_context, unsigned nharts);
/* Enable `source` on `hart_index` and call handler when it fires. */
int host_irq_register(unsigned source, unsigned hart_index, host_irq_handler handler, void *opaque);
/* Claim and dispatch every pending source of this hart's context. */
void host_irq_handle(void);

#endif
