/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where OpenSBI enters Vireo. OpenSBI starts exactly one hart here (its
 * "lottery" winner, with any hart id); the others stay stopped in SBI HSM
 * until hart_start_secondaries() starts them at secondary_entry.
 */
#include "asm_offsets.h"

	.section .text.entry, "ax"
	.global _start
_start:
	/* a0 = boot hart id, a1 = physical address of the device tree */
	csrw	sie, zero
	csrci	sstatus, 2		/* SIE off: the hypervisor polls interrupts */
	lla	t0, host_trap_vector
	csrw	stvec, t0

	/* Clear .bss; boot-time data must not live there before this. */
	lla	t0, __bss_start
	lla	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:
	/* The boot hart takes stack 0; hart_boot_init() points tp at its struct. */
	lla	sp, hart_stacks
	li	t0, HART_STACK_SIZE_ASM
	add	sp, sp, t0
	mv	tp, zero
	mv	fp, zero
	call	vireo_main
3:	wfi
	j	3b

	/* a0 = hart id, a1 = opaque = this hart's struct hart */
	.global secondary_entry
	.text
	.align 2
secondary_entry:
	csrw	sie, zero
	csrci	sstatus, 2
	lla	t0, host_trap_vector
	csrw	stvec, t0
	mv	tp, a1
	ld	sp, HART_STACK_TOP(tp)
	mv	fp, zero
	mv	a0, tp
	call	hart_secondary_main
4:	wfi
	j	4b
