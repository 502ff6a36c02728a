/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A VM's real-time clock: the Goldfish RTC model (vrtc.h) on the VM's bus at
 * VM_RTC_BASE, fed by the host's wall clock (host_rtc.h) plus the VM's offset,
 * its alarm on a device timer (devtimer.h) and its interrupt on the VM's PLIC.
 */
#ifndef VIREO_VM_RTC_H
#define VIREO_VM_RTC_H

#include <vireo/types.h>

struct vm;

/* Create the RTC of vm (vm->rtc) with the configured offset and map it. */
int vm_rtc_create(struct vm *vm);
/* Stop its alarm and free it; after this no alarm of the VM can fire. NULL-safe. */
void vm_rtc_destroy(struct vm *vm);
/* The clock's offset to the host's now (configured, plus what the guest set), in ns. */
int64_t vm_rtc_offset_ns(struct vm *vm);
struct snap_writer;
struct snap_reader;
/* Its state in a snapshot (vireo/vrtc.h); the VM has an RTC. */
void vm_rtc_save(struct vm *vm, struct snap_writer *w);
int vm_rtc_load(struct vm *vm, struct snap_reader *r);

#endif
