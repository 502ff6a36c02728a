/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Start-up code of a sandbox program (vireo_sandbox.h). Vireo enters _start
 * in VS-mode with translation off. vsb_start (vsb.c) never returns: it ends
 * in READY, after which the vCPU runs only the functions the host calls,
 * each returning to vsb_return_stub.
 */
#define SBI_SANDBOX_RETURN 1

	.section .text.entry, "ax"
	.globl _start
_start:
	.option push
	.option norelax
	lla	gp, __global_pointer$
	.option pop
	lla	sp, __stack_top
	/* .bss (the buffers too) starts zeroed; its ends are 16-byte aligned. */
	lla	t0, __bss_start
	lla	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	mv	ra, zero
	call	vsb_start
3:	ebreak
	j	3b

	.text
	/* Where every called function returns, its result in a0: the call is over. */
	.globl vsb_return_stub
vsb_return_stub:
	li	a7, 0x0A49524F
	li	a6, SBI_SANDBOX_RETURN
	ecall
	/* Never resumed here: the next call starts afresh. */
	ebreak
	j	vsb_return_stub
