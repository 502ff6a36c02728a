/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * user_enter(fn, arg, sp): save the S-mode callee-saved registers, sret into
 * U-mode at fn(arg) on the given stack, with ra pointing at an ecall, so that
 * returning from fn traps too. The trap hook (user.c) sends the hart back to
 * user_resume in S-mode on the saved stack, which returns from user_enter.
 */
	.text
	.globl	user_enter
	.balign	4
user_enter:
	addi	sp, sp, -112
	sd	ra, 0(sp)
	sd	s0, 8(sp)
	sd	s1, 16(sp)
	sd	s2, 24(sp)
	sd	s3, 32(sp)
	sd	s4, 40(sp)
	sd	s5, 48(sp)
	sd	s6, 56(sp)
	sd	s7, 64(sp)
	sd	s8, 72(sp)
	sd	s9, 80(sp)
	sd	s10, 88(sp)
	sd	s11, 96(sp)
	lla	t0, user_kernel_sp
	sd	sp, 0(t0)
	csrw	sepc, a0
	li	t1, 0x100		/* sstatus.SPP: back to U-mode */
	csrc	sstatus, t1
	mv	a0, a1
	mv	sp, a2
	lla	ra, user_exit_ecall
	sret

	.globl	user_exit_ecall
	.balign	4
user_exit_ecall:
	ecall
	j	user_exit_ecall

	.globl	user_resume
	.balign	4
user_resume:
	ld	ra, 0(sp)
	ld	s0, 8(sp)
	ld	s1, 16(sp)
	ld	s2, 24(sp)
	ld	s3, 32(sp)
	ld	s4, 40(sp)
	ld	s5, 48(sp)
	ld	s6, 56(sp)
	ld	s7, 64(sp)
	ld	s8, 72(sp)
	ld	s9, 80(sp)
	ld	s10, 88(sp)
	ld	s11, 96(sp)
	addi	sp, sp, 112
	ret
