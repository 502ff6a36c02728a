/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Exit dispatch: what core does about an exit that arch classified (see
 * vireo/vcpu_exit.h). SBI calls go to the SBI table, accesses to unmapped
 * guest-physical addresses to the VM's MMIO bus, wfi to the scheduler; the
 * guest gets the exception the privileged spec defines where one applies;
 * anything else stops that VM with a diagnostic, never the hypervisor.
 */
#ifndef VIREO_EXIT_H
#define VIREO_EXIT_H

#include <vireo/vcpu.h>

/* Handle the exit recorded in v->exit; says what the scheduler does next. */
enum vcpu_action vcpu_handle_exit(struct vcpu *v);
/*
 * The world switch's fast path (arch/riscv/switch.S), right after an SBI call or
 * a guest-page-fault exit, with the guest's registers and trap CSRs saved in *a:
 * 1 if the exit was handled and the guest may go straight back in; 0 to take the
 * ordinary way (an SBI call that may not always continue, an access that is not
 * plain MMIO or that the device refused, or a host interrupt or a request is
 * waiting for the scheduler). Never blocks; a fault is only ever a guarded probe's.
 */
long vcpu_fast_exit(struct vcpu_arch *a);
/* Short identifiers for statistics lines (no spaces), and words for people. */
const char *vcpu_exit_kind_id(enum vcpu_exit_kind kind);
const char *vcpu_exit_kind_name(enum vcpu_exit_kind kind);

#endif
