// SPDX-License-Identifier: BSD-2-Clause
/* Traps in HS-mode: guarded probes, everything else is a hypervisor bug. */
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/panic.h>
#include <vireo/trap.h>
#include "csr.h"

static const char *const gpr_names[32] = {
    "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "s0", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5",  "a6",  "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

const char *trap_gpr_name(unsigned reg);
const char *trap_gpr_name(unsigned reg)
{
	return reg < 32 ? gpr_names[reg] : "?";
}

void host_trap(struct trap_frame *frame);
void host_trap(struct trap_frame *frame)
{
	struct hart *h = this_hart();

	if (!(frame->scause & CAUSE_INTERRUPT) && h && h->guard_active) {
		/* A probe faulted as it may: note why and step over the instruction. */
		uint16_t low = *(const uint16_t *)frame->sepc;
		h->guard_cause = frame->scause;
		frame->sepc += (low & 3) == 3 ? 4 : 2;
		return;
	}
	panic_with_frame(frame, "unexpected trap in the hypervisor: scause %#lx stval %#lx",
			 frame->scause, frame->stval);
}

void trap_dump_frame(const struct trap_frame *frame)
{
	for (unsigned i = 0; i < 32; i += 4)
		printk("  %-4s %016lx  %-4s %016lx  %-4s %016lx  %-4s %016lx\n", gpr_names[i],
		       i ? frame->regs[i] : 0, gpr_names[i + 1], frame->regs[i + 1],
		       gpr_names[i + 2], frame->regs[i + 2], gpr_names[i + 3], frame->regs[i + 3]);
	printk("  sepc %016lx sstatus %016lx scause %016lx stval %016lx\n", frame->sepc,
	       frame->sstatus, frame->scause, frame->stval);
}

void trap_dump_csrs(void)
{
	printk("  sstatus %016lx  sepc   %016lx  scause %016lx  stval  %016lx\n", csr_read(sstatus),
	       csr_read(sepc), csr_read(scause), csr_read(stval));
	printk("  hstatus %016lx  hedeleg %015lx  hideleg %015lx  hvip   %016lx\n",
	       csr_read(hstatus), csr_read(hedeleg), csr_read(hideleg), csr_read(hvip));
	printk("  hgatp   %016lx  htval  %016lx  htinst %016lx\n", csr_read(hgatp), csr_read(htval),
	       csr_read(htinst));
	printk("  vsstatus %015lx  vsie   %016lx  vstvec %016lx  vsscratch %013lx\n",
	       csr_read(vsstatus), csr_read(vsie), csr_read(vstvec), csr_read(vsscratch));
	printk("  vsepc   %016lx  vscause %015lx  vstval %016lx  vsatp  %016lx\n", csr_read(vsepc),
	       csr_read(vscause), csr_read(vstval), csr_read(vsatp));
}

void trap_init_hart(void)
{
	extern char host_trap_vector[];

	csr_write(stvec, (unsigned long)host_trap_vector);
	csr_write(sscratch, 0);
}
