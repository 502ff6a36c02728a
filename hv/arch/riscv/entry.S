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
	/*
	 * a0 = hart id, a1 = physical address of the device tree. OpenSBI normally
	 * sends one hart here, but now and then a second arrives too (seen about once
	 * in twenty -smp 4 boots): a lottery picks the boot hart, and the others wait
	 * for the boot hart to hand them their struct hart (see hart.c).
	 */
	lla	t0, boot_lottery
	li	t1, 1
	amoswap.w.aq t1, t1, (t0)
	bnez	t1, lottery_loser
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

	/* A hart that lost the lottery: wait, touching nothing but .data, until the
	 * boot hart posts this hart id in the mailbox with its struct hart. */
lottery_loser:
	csrw	sie, zero
	csrci	sstatus, 2
1:	lla	t0, late_hart_mailbox_id
	ld	t1, 0(t0)
	bne	t1, a0, 1b
	fence	r, r		/* the id is posted after the struct pointer */
	lla	t0, late_hart_mailbox_hart
	ld	a1, 0(t0)
	j	secondary_entry

	.data
	.align 3
boot_lottery:
	.word 0
	.align 3
	.global late_hart_mailbox_id, late_hart_mailbox_hart
late_hart_mailbox_id:
	.dword -1
late_hart_mailbox_hart:
	.dword 0

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
