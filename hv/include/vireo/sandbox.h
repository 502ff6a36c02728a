/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sandboxes (core/sandbox.c): a VM configured `sandbox = yes` that runs one
 * program of the guest SDK and is driven from the host, call by call
 * (docs/sandbox.md; the wire in vireo/ctl_sandbox.h).
 *
 * Life: the VM boots into the program's start-up code, which calls READY
 * (SBI): the VM parks, idle. The host OPENs it (the loaded state becomes the
 * snapshot, dirty pages are tracked from then on), then CALLs a function: the
 * vCPU runs it until it RETURNs, makes a HOSTCALL, or is caught (any fault,
 * breakpoint or illegal instruction, its time budget); each parks the VM and
 * sends the host an event. The host ANSWERs a host call, CONTINUEs a caught
 * call (maybe after MAPping memory for it), or RESETs the sandbox to the
 * snapshot, restoring only the pages written since the last reset.
 *
 * Who runs what: the SBI calls and the catches run on the vCPU's hart, in its
 * exit; the ops run in the control plane, with the VM parked (they wait for
 * it); the time budget is a device timer. A sandbox has one vCPU and no
 * devices. Lock order: none is held across another module's call.
 */
#ifndef VIREO_SANDBOX_H
#define VIREO_SANDBOX_H

#include <vireo/ctl_sandbox.h>
#include <vireo/types.h>
#include <vireo/vcpu.h>

struct vm;
struct sandbox;

/* The VM is a sandbox: its state, before it boots (vm_create). 0 or -VIREO_ENOMEM. */
int sandbox_create(struct vm *vm);
/* The VM is being freed: the host hears CTL_EVENT_SANDBOX_EXIT; everything is released. */
void sandbox_destroy(struct vm *vm);

/* SBI calls of the guest (sbi/sandbox.c), on its hart. Each returns an SBI error for the
 * guest (a0) and sets *action; a call that stops the vCPU answers the host later. */
long sandbox_ready(struct vcpu *v, uint64_t return_pc, uint64_t sdk_version,
		   enum vcpu_action *action);
long sandbox_return(struct vcpu *v, uint64_t result, enum vcpu_action *action);
long sandbox_hostcall(struct vcpu *v, uint64_t name_gpa, uint64_t name_len, const uint64_t args[4],
		      enum vcpu_action *action);
/* The VM may use the SBI extension (a sandbox VM). */
bool sandbox_sbi_available(const struct vcpu *v);

/* A catch of a sandbox VM (vm_catch): the host hears CTL_EVENT_SANDBOX_CAUGHT with the
 * registers. VCPU_CONTINUE when it is no catch after all: a store to a page whose dirty
 * bit software keeps, a stop requested by a time budget that has been renewed since. */
enum vcpu_action sandbox_catch(struct vcpu *v, unsigned why);
/* The host wrote [gpa, gpa + len) of the VM's RAM behind its back (MEM_WRITE): those
 * pages are dirty for the next reset. */
void sandbox_written(struct vm *vm, gpa_t gpa, uint64_t len);

/* The control plane's ops (core/ctl_sandbox.c checks the arguments' shapes). Each waits
 * for the VM to be parked and returns 0 (or a count) or -VIREO_E*: -VIREO_EBUSY when
 * the sandbox is not in a state the op applies to. */
int sandbox_open(struct vm *vm, struct ctl_sandbox_info *info);
int sandbox_call(struct vm *vm, const struct ctl_sandbox_call *call);
int sandbox_answer(struct vm *vm, int64_t error, uint64_t value);
int sandbox_continue(struct vm *vm, const struct ctl_sandbox_continue *c, const uint64_t *regs);
/* Returns pages restored; *unmapped counts extra pages taken away. */
int sandbox_reset(struct vm *vm, uint32_t flags, uint32_t *unmapped);
int sandbox_map(struct vm *vm, gpa_t gpa, uint64_t size, uint32_t perms);
int sandbox_read(struct vm *vm, gpa_t gpa, void *buf, uint32_t len);
int sandbox_write(struct vm *vm, gpa_t gpa, const void *buf, uint32_t len);
int sandbox_stats(struct vm *vm, struct ctl_sandbox_stats *stats);

#endif
