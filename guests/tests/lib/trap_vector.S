// SPDX-License-Identifier: BSD-2-Clause
/*
 * Guest trap vector (stvec, direct mode). Everything runs in S-mode on one
 * stack, so the frame goes on the current stack; this also makes nested traps
 * work. The layout is struct trap_frame (guest.h): x0..x31, then sepc,
 * sstatus, scause, stval. A hook may change any of them; sepc is written back.
 */

#define FRAME_SIZE	(36 * 8)
#define FRAME_SEPC	(32 * 8)
#define FRAME_SSTATUS	(33 * 8)
#define FRAME_SCAUSE	(34 * 8)
#define FRAME_STVAL	(35 * 8)

	.text
	.globl trap_vector
	.balign 4
trap_vector:
	addi	sp, sp, -FRAME_SIZE
	sd	zero, 0(sp)
	sd	x1, 8(sp)
	.irp	n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	sd	x\n, (\n * 8)(sp)
	.endr
	addi	t0, sp, FRAME_SIZE
	sd	t0, 16(sp)		/* sp as it was before the trap */
	csrr	t0, sepc
	sd	t0, FRAME_SEPC(sp)
	csrr	t0, sstatus
	sd	t0, FRAME_SSTATUS(sp)
	csrr	t0, scause
	sd	t0, FRAME_SCAUSE(sp)
	csrr	t0, stval
	sd	t0, FRAME_STVAL(sp)

	mv	a0, sp
	call	trap_dispatch

	ld	t0, FRAME_SEPC(sp)
	csrw	sepc, t0
	ld	x1, 8(sp)
	.irp	n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	x\n, (\n * 8)(sp)
	.endr
	ld	sp, 16(sp)		/* last: it is the base of every load above */
	sret

/*
 * For code that borrows sp for something other than a stack (the mmio guest's
 * c.lwsp tests point it at a device) and keeps a good sp in sscratch: take
 * that stack, make stvec the normal vector again so that nested traps use the
 * stack they are on, then go the usual way.
 */
	.globl trap_vector_sscratch_sp
	.balign 4
trap_vector_sscratch_sp:
	csrr	sp, sscratch
	addi	sp, sp, -16
	sd	t0, 0(sp)
	lla	t0, trap_vector
	csrw	stvec, t0
	ld	t0, 0(sp)
	addi	sp, sp, 16
	j	trap_vector
