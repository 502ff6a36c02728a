/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Traps taken while Vireo itself runs (V=0). The hypervisor keeps
 * sstatus.SIE off, so these are exceptions: bugs (panic) or probes under the
 * trap guard, which host_trap() skips past before we return here.
 */
#include "asm_offsets.h"

	.text
	.align 2
	.global host_trap_vector
host_trap_vector:
	addi	sp, sp, -TRAP_FRAME_SIZE
	sd	x1, 8(sp)
	sd	x3, 24(sp)
	sd	x4, 32(sp)
	sd	x5, 40(sp)
	sd	x6, 48(sp)
	sd	x7, 56(sp)
	sd	x8, 64(sp)
	sd	x9, 72(sp)
	sd	x10, 80(sp)
	sd	x11, 88(sp)
	sd	x12, 96(sp)
	sd	x13, 104(sp)
	sd	x14, 112(sp)
	sd	x15, 120(sp)
	sd	x16, 128(sp)
	sd	x17, 136(sp)
	sd	x18, 144(sp)
	sd	x19, 152(sp)
	sd	x20, 160(sp)
	sd	x21, 168(sp)
	sd	x22, 176(sp)
	sd	x23, 184(sp)
	sd	x24, 192(sp)
	sd	x25, 200(sp)
	sd	x26, 208(sp)
	sd	x27, 216(sp)
	sd	x28, 224(sp)
	sd	x29, 232(sp)
	sd	x30, 240(sp)
	sd	x31, 248(sp)
	addi	t0, sp, TRAP_FRAME_SIZE
	sd	t0, 16(sp)		/* the sp at the time of the trap */
	csrr	t0, sepc
	sd	t0, TRAP_FRAME_SEPC(sp)
	csrr	t0, sstatus
	sd	t0, TRAP_FRAME_SSTATUS(sp)
	csrr	t0, scause
	sd	t0, TRAP_FRAME_SCAUSE(sp)
	csrr	t0, stval
	sd	t0, TRAP_FRAME_STVAL(sp)

	mv	a0, sp
	call	host_trap

	ld	t0, TRAP_FRAME_SEPC(sp)
	csrw	sepc, t0
	ld	t0, TRAP_FRAME_SSTATUS(sp)
	csrw	sstatus, t0
	ld	x1, 8(sp)
	ld	x3, 24(sp)
	ld	x4, 32(sp)
	ld	x5, 40(sp)
	ld	x6, 48(sp)
	ld	x7, 56(sp)
	ld	x8, 64(sp)
	ld	x9, 72(sp)
	ld	x10, 80(sp)
	ld	x11, 88(sp)
	ld	x12, 96(sp)
	ld	x13, 104(sp)
	ld	x14, 112(sp)
	ld	x15, 120(sp)
	ld	x16, 128(sp)
	ld	x17, 136(sp)
	ld	x18, 144(sp)
	ld	x19, 152(sp)
	ld	x20, 160(sp)
	ld	x21, 168(sp)
	ld	x22, 176(sp)
	ld	x23, 184(sp)
	ld	x24, 192(sp)
	ld	x25, 200(sp)
	ld	x26, 208(sp)
	ld	x27, 216(sp)
	ld	x28, 224(sp)
	ld	x29, 232(sp)
	ld	x30, 240(sp)
	ld	x31, 248(sp)
	addi	sp, sp, TRAP_FRAME_SIZE
	sret

/* Snapshot this hart's GPRs into a struct trap_frame (for panic()). */
	.global trap_capture_registers
trap_capture_registers:
	sd	x1, 8(a0)
	sd	x2, 16(a0)
	sd	x3, 24(a0)
	sd	x4, 32(a0)
	sd	x5, 40(a0)
	sd	x6, 48(a0)
	sd	x7, 56(a0)
	sd	x8, 64(a0)
	sd	x9, 72(a0)
	sd	x10, 80(a0)
	sd	x11, 88(a0)
	sd	x12, 96(a0)
	sd	x13, 104(a0)
	sd	x14, 112(a0)
	sd	x15, 120(a0)
	sd	x16, 128(a0)
	sd	x17, 136(a0)
	sd	x18, 144(a0)
	sd	x19, 152(a0)
	sd	x20, 160(a0)
	sd	x21, 168(a0)
	sd	x22, 176(a0)
	sd	x23, 184(a0)
	sd	x24, 192(a0)
	sd	x25, 200(a0)
	sd	x26, 208(a0)
	sd	x27, 216(a0)
	sd	x28, 224(a0)
	sd	x29, 232(a0)
	sd	x30, 240(a0)
	sd	x31, 248(a0)
	sd	ra, TRAP_FRAME_SEPC(a0)
	csrr	t0, sstatus
	sd	t0, TRAP_FRAME_SSTATUS(a0)
	csrr	t0, scause
	sd	t0, TRAP_FRAME_SCAUSE(a0)
	csrr	t0, stval
	sd	t0, TRAP_FRAME_STVAL(a0)
	ret
