/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fill every FP or vector register with a pattern (base + register number)
 * and check it later: proof that a hypervisor kept them across vCPU switches.
 * The caller turns sstatus.FS / sstatus.VS on first.
 *   void fregs_fill(unsigned long base);    long fregs_check(unsigned long base);
 *   void vregs_fill(unsigned long base);    long vregs_check(unsigned long base);
 * The checks return -1, or the number of the first register that differs.
 * The vector ones use e64 with vl = 1 (element 0 of each register), and leave
 * vl = 1, vtype = e64/m1 for the caller to check too.
 */
	.text
	.option push
	.option arch, +d
	.globl	fregs_fill
	.balign	4
fregs_fill:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	addi	t0, a0, \n
	fmv.d.x	f\n, t0
	.endr
	ret

	.globl	fregs_check
	.balign	4
fregs_check:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	addi	t0, a0, \n
	fmv.x.d	t1, f\n
	li	a1, \n
	bne	t0, t1, 1f
	.endr
	li	a0, -1
	ret
1:	mv	a0, a1
	ret
	.option pop

	.option push
	.option arch, +v
	.globl	vregs_fill
	.balign	4
vregs_fill:
	vsetivli zero, 1, e64, m1, ta, ma
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	addi	t0, a0, \n
	vmv.s.x	v\n, t0
	.endr
	ret

	.globl	vregs_check
	.balign	4
vregs_check:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	addi	t0, a0, \n
	vmv.x.s	t1, v\n
	li	a1, \n
	bne	t0, t1, 1f
	.endr
	li	a0, -1
	ret
1:	mv	a0, a1
	ret

	.globl	vregs_vl
	.balign	4
vregs_vl:
	csrr	a0, vl
	ret

	.globl	vregs_vtype
	.balign	4
vregs_vtype:
	csrr	a0, vtype
	ret
	.option pop
