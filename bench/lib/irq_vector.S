// SPDX-License-Identifier: BSD-2-Clause
/*
 * The micro-benchmark's trap vector. Interrupts are what the benchmarks time,
 * so this vector stamps instret and time first, before anything else runs,
 * then acknowledges the interrupt and returns; it touches only t0, t1 and its
 * hart's struct bench_hart (micro.c), which sscratch points at. A supervisor
 * external interrupt is the UART's (irq_uart): its interrupt enable is cleared
 * (the line drops), then it is claimed at the PLIC (and completed) or at this
 * hart's IMSIC file (stopei). Anything that is not a supervisor timer, software
 * or external interrupt goes on to the runtime's trap_vector, which reports it
 * as an unexpected trap.
 */

#define BH_SAVE_T0	0
#define BH_SAVE_T1	8
#define BH_IRQ_INSTRET	16
#define BH_IRQ_TIME	24
#define BH_TIMER_IRQS	32
#define BH_SOFT_IRQS	40
#define BH_EXT_CLAIM	48
#define BH_EXT_IRQS	56
#define UART_IER	0x10000001

	.text
	.globl bench_vector
	.balign 4
bench_vector:
	csrrw	sp, sscratch, sp	/* sp = struct bench_hart, sscratch = the old sp */
	sd	t0, BH_SAVE_T0(sp)
	sd	t1, BH_SAVE_T1(sp)
	csrr	t0, instret
	csrr	t1, time
	sd	t0, BH_IRQ_INSTRET(sp)
	sd	t1, BH_IRQ_TIME(sp)
	csrr	t0, scause
	bgez	t0, 9f			/* an exception */
	slli	t0, t0, 1
	srli	t0, t0, 1
	li	t1, 5
	beq	t0, t1, 5f
	li	t1, 9
	beq	t0, t1, 7f
	li	t1, 1
	bne	t0, t1, 9f
	/* Supervisor software interrupt: acknowledge and count. */
	csrci	sip, 2
	ld	t0, BH_SOFT_IRQS(sp)
	addi	t0, t0, 1
	sd	t0, BH_SOFT_IRQS(sp)
	j	8f
5:	/* Supervisor timer interrupt: mask it (the benchmark re-arms) and count. */
	li	t0, 32
	csrc	sie, t0
	ld	t0, BH_TIMER_IRQS(sp)
	addi	t0, t0, 1
	sd	t0, BH_TIMER_IRQS(sp)
8:	ld	t0, BH_SAVE_T0(sp)
	ld	t1, BH_SAVE_T1(sp)
	csrrw	sp, sscratch, sp
	sret
9:	ld	t0, BH_SAVE_T0(sp)
	ld	t1, BH_SAVE_T1(sp)
	csrrw	sp, sscratch, sp
	j	trap_vector
7:	/* Supervisor external interrupt: the UART's line drops, then the claim. */
	li	t0, UART_IER
	sb	zero, 0(t0)
	ld	t0, BH_EXT_CLAIM(sp)
	beqz	t0, 6f
	lw	t1, 0(t0)		/* PLIC: claim, then complete */
	sw	t1, 0(t0)
	j	4f
6:	csrrw	t1, 0x15c, zero		/* IMSIC: stopei claims */
4:	ld	t0, BH_EXT_IRQS(sp)
	addi	t0, t0, 1
	sd	t0, BH_EXT_IRQS(sp)
	j	8b
