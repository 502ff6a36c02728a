// SPDX-License-Identifier: BSD-2-Clause
/*
 * Entry points of every test guest. The boot hart arrives at _start with
 * a0 = hart id, a1 = DTB address, MMU off, in S-mode (VS-mode under Vireo);
 * harts started through SBI HSM arrive at _secondary_start.
 */

	.section .text.entry, "ax"
	.globl _start
_start:
	/* Interrupts stay off: no test here wants them. */
	csrw	sie, zero
	csrci	sstatus, 2
	mv	tp, a0			/* current_hartid() reads tp */
	lla	sp, __stack_top
	lla	t0, trap_vector
	csrw	stvec, t0
	/* The loaded image leaves .bss as whatever was in RAM: zero it (8-byte aligned ends). */
	lla	t0, __bss_start
	lla	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	mv	ra, zero
	call	guest_main		/* a0, a1 still hold the hart id and the DTB */
	call	guest_exit		/* exit status in a0; does not return */

	.text
	.globl _secondary_start
/* HSM hart_start target: a0 = hart id, a1 = struct hart_boot * (the opaque word). */
_secondary_start:
	csrw	sie, zero
	csrci	sstatus, 2
	mv	tp, a0
	ld	sp, 0(a1)		/* hart_boot.stack_top */
	lla	t0, trap_vector
	csrw	stvec, t0
	ld	t0, 8(a1)		/* hart_boot.entry */
	ld	a1, 16(a1)		/* hart_boot.arg */
	mv	ra, zero
	jalr	t0
	call	sbi_hart_stop
