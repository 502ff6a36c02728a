/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The world switch. vcpu_arch_run(ctx) saves the host's callee-saved
 * registers in ctx, points stvec at vcpu_exit_vector and sscratch at ctx,
 * loads the guest's registers and srets into VS-mode. The next trap from
 * the guest (V=1: an exception not delegated to it, or any HS interrupt)
 * lands in vcpu_exit_vector, which saves the guest, restores the host and
 * returns from vcpu_arch_run as if it were an ordinary call.
 */
#include "asm_offsets.h"

#define GX(n) (VCPU_GPRS_X + 8 * (n))
#define HS(n) (VCPU_HOST_S + 8 * (n))

/* vcpu_fast_exit(ctx in a0) on the host's stack, tp, gp and stvec: its answer in t1,
 * ctx back in a0 (kept in s1, which the caller has saved), stvec on the exit vector.
 * Inline: ra and the other callee-saved registers may still be the guest's. */
.macro CALL_FAST_EXIT
	mv	s1, a0
	ld	sp, VCPU_HOST_SP(a0)
	ld	tp, VCPU_HOST_TP(a0)
	ld	gp, VCPU_HOST_GP(a0)
	ld	t0, VCPU_HOST_STVEC(a0)
	csrw	stvec, t0
	call	vcpu_fast_exit
	mv	t1, a0
	mv	a0, s1
	lla	t0, vcpu_exit_vector
	csrw	stvec, t0
.endm

	.text
	.align 2
	.global vcpu_arch_run
vcpu_arch_run:
	sd	ra, VCPU_HOST_RA(a0)
	sd	sp, VCPU_HOST_SP(a0)
	sd	gp, VCPU_HOST_GP(a0)
	sd	tp, VCPU_HOST_TP(a0)
	sd	s0, HS(0)(a0)
	sd	s1, HS(1)(a0)
	sd	s2, HS(2)(a0)
	sd	s3, HS(3)(a0)
	sd	s4, HS(4)(a0)
	sd	s5, HS(5)(a0)
	sd	s6, HS(6)(a0)
	sd	s7, HS(7)(a0)
	sd	s8, HS(8)(a0)
	sd	s9, HS(9)(a0)
	sd	s10, HS(10)(a0)
	sd	s11, HS(11)(a0)

	ld	t0, VCPU_GPRS_SSTATUS(a0)
	csrrw	t0, sstatus, t0
	sd	t0, VCPU_HOST_SSTATUS(a0)
	ld	t0, VCPU_GPRS_HSTATUS(a0)
	csrrw	t0, hstatus, t0
	sd	t0, VCPU_HOST_HSTATUS(a0)
	lla	t0, vcpu_exit_vector
	csrrw	t0, stvec, t0
	sd	t0, VCPU_HOST_STVEC(a0)
	csrrw	t0, sscratch, a0
	sd	t0, VCPU_HOST_SSCRATCH(a0)
	ld	t0, VCPU_GPRS_SEPC(a0)
	csrw	sepc, t0

.Lenter_guest:
	ld	x1, GX(1)(a0)
	ld	x2, GX(2)(a0)
	ld	x3, GX(3)(a0)
	ld	x4, GX(4)(a0)
	ld	x5, GX(5)(a0)
	ld	x6, GX(6)(a0)
	ld	x7, GX(7)(a0)
	ld	x8, GX(8)(a0)
	ld	x9, GX(9)(a0)
	ld	x11, GX(11)(a0)
	ld	x12, GX(12)(a0)
	ld	x13, GX(13)(a0)
	ld	x14, GX(14)(a0)
	ld	x15, GX(15)(a0)
	ld	x16, GX(16)(a0)
	ld	x17, GX(17)(a0)
	ld	x18, GX(18)(a0)
	ld	x19, GX(19)(a0)
	ld	x20, GX(20)(a0)
	ld	x21, GX(21)(a0)
	ld	x22, GX(22)(a0)
	ld	x23, GX(23)(a0)
	ld	x24, GX(24)(a0)
	ld	x25, GX(25)(a0)
	ld	x26, GX(26)(a0)
	ld	x27, GX(27)(a0)
	ld	x28, GX(28)(a0)
	ld	x29, GX(29)(a0)
	ld	x30, GX(30)(a0)
	ld	x31, GX(31)(a0)
	ld	x10, GX(10)(a0)
	sret

	.align 2
vcpu_exit_vector:
	csrrw	a0, sscratch, a0	/* a0 = ctx, sscratch = guest a0 */
	/* The registers C may clobber, and s1 (ours below), first: enough for an SBI
	 * call or the hart's IPI in the fast path (.Lfast_call). */
	sd	x1, GX(1)(a0)
	sd	x2, GX(2)(a0)
	sd	x3, GX(3)(a0)
	sd	x4, GX(4)(a0)
	sd	x5, GX(5)(a0)
	sd	x6, GX(6)(a0)
	sd	x7, GX(7)(a0)
	sd	x9, GX(9)(a0)
	sd	x11, GX(11)(a0)
	sd	x12, GX(12)(a0)
	sd	x13, GX(13)(a0)
	sd	x14, GX(14)(a0)
	sd	x15, GX(15)(a0)
	sd	x16, GX(16)(a0)
	sd	x17, GX(17)(a0)
	sd	x28, GX(28)(a0)
	sd	x29, GX(29)(a0)
	sd	x30, GX(30)(a0)
	sd	x31, GX(31)(a0)
	csrr	t0, sscratch
	sd	t0, GX(10)(a0)

	csrr	t0, sepc
	sd	t0, VCPU_GPRS_SEPC(a0)
	/* The trap CSRs first: a guarded probe in the fast path would overwrite them
	 * (an SBI call needs none of them). */
	csrr	t1, scause
	sd	t1, VCPU_EXIT_SCAUSE(a0)
	li	t2, VCPU_ARCH_CAUSE_ECALL_VS_ASM
	beq	t1, t2, .Lfast_call
	li	t2, VCPU_ARCH_CAUSE_HOST_IPI_ASM
	beq	t1, t2, .Lfast_call
	/* Anything else may read or write any register through ctx: all of them. */
	sd	x8, GX(8)(a0)
	sd	x18, GX(18)(a0)
	sd	x19, GX(19)(a0)
	sd	x20, GX(20)(a0)
	sd	x21, GX(21)(a0)
	sd	x22, GX(22)(a0)
	sd	x23, GX(23)(a0)
	sd	x24, GX(24)(a0)
	sd	x25, GX(25)(a0)
	sd	x26, GX(26)(a0)
	sd	x27, GX(27)(a0)
	csrr	t0, stval
	sd	t0, VCPU_EXIT_STVAL(a0)
	csrr	t0, htval
	sd	t0, VCPU_EXIT_HTVAL(a0)
	csrr	t0, htinst
	sd	t0, VCPU_EXIT_HTINST(a0)

	/*
	 * The fast path: an SBI call, an MMIO access or the IPI of another hart that core
	 * can answer with nothing else to do (see vcpu_fast_exit) goes straight back to
	 * the guest, without restoring the host and going round the scheduler. The
	 * guest's sstatus and hstatus stay live meanwhile (copied into ctx for the code
	 * that reads the guest's privilege from them; the C code touches no FP); stvec
	 * is the host's, so a probe's fault or a bug traps where they are handled.
	 */
	li	t2, VCPU_ARCH_CAUSE_LOAD_GPF_ASM
	beq	t1, t2, .Lfast
	li	t2, VCPU_ARCH_CAUSE_STORE_GPF_ASM
	bne	t1, t2, .Lslow
.Lfast:
	csrr	t0, sstatus
	sd	t0, VCPU_GPRS_SSTATUS(a0)
	csrr	t0, hstatus
	sd	t0, VCPU_GPRS_HSTATUS(a0)
	CALL_FAST_EXIT
	beqz	t1, .Lslow
	/* Answered: back into the guest with the registers core left in ctx. */
	ld	t0, VCPU_GPRS_SEPC(a0)
	csrw	sepc, t0
	csrw	sscratch, a0
	j	.Lenter_guest

	/*
	 * An SBI call or the hart's IPI (whose answers touch no register but a0-a7 and
	 * sepc, and neither sstatus nor hstatus in ctx, which are stale here): s0 and
	 * s2-s11 still hold the guest's values (C preserves them)
	 * and are not in ctx yet. Answered, only what was saved comes back; declined,
	 * the rest is saved before the ordinary way.
	 */
.Lfast_call:
	CALL_FAST_EXIT
	beqz	t1, .Lcall_declined
	ld	t0, VCPU_GPRS_SEPC(a0)
	csrw	sepc, t0
	csrw	sscratch, a0
	ld	x1, GX(1)(a0)
	ld	x2, GX(2)(a0)
	ld	x3, GX(3)(a0)
	ld	x4, GX(4)(a0)
	ld	x5, GX(5)(a0)
	ld	x6, GX(6)(a0)
	ld	x7, GX(7)(a0)
	ld	x9, GX(9)(a0)
	ld	x11, GX(11)(a0)
	ld	x12, GX(12)(a0)
	ld	x13, GX(13)(a0)
	ld	x14, GX(14)(a0)
	ld	x15, GX(15)(a0)
	ld	x16, GX(16)(a0)
	ld	x17, GX(17)(a0)
	ld	x28, GX(28)(a0)
	ld	x29, GX(29)(a0)
	ld	x30, GX(30)(a0)
	ld	x31, GX(31)(a0)
	ld	x10, GX(10)(a0)
	sret
.Lcall_declined:
	sd	x8, GX(8)(a0)
	sd	x18, GX(18)(a0)
	sd	x19, GX(19)(a0)
	sd	x20, GX(20)(a0)
	sd	x21, GX(21)(a0)
	sd	x22, GX(22)(a0)
	sd	x23, GX(23)(a0)
	sd	x24, GX(24)(a0)
	sd	x25, GX(25)(a0)
	sd	x26, GX(26)(a0)
	sd	x27, GX(27)(a0)
	j	.Lslow

.Lslow:
	ld	t1, VCPU_HOST_SSTATUS(a0)
	csrrw	t0, sstatus, t1
	sd	t0, VCPU_GPRS_SSTATUS(a0)
	ld	t1, VCPU_HOST_HSTATUS(a0)
	csrrw	t0, hstatus, t1
	sd	t0, VCPU_GPRS_HSTATUS(a0)
	ld	t0, VCPU_HOST_STVEC(a0)
	csrw	stvec, t0
	ld	t0, VCPU_HOST_SSCRATCH(a0)
	csrw	sscratch, t0

	ld	ra, VCPU_HOST_RA(a0)
	ld	sp, VCPU_HOST_SP(a0)
	ld	gp, VCPU_HOST_GP(a0)
	ld	tp, VCPU_HOST_TP(a0)
	ld	s0, HS(0)(a0)
	ld	s1, HS(1)(a0)
	ld	s2, HS(2)(a0)
	ld	s3, HS(3)(a0)
	ld	s4, HS(4)(a0)
	ld	s5, HS(5)(a0)
	ld	s6, HS(6)(a0)
	ld	s7, HS(7)(a0)
	ld	s8, HS(8)(a0)
	ld	s9, HS(9)(a0)
	ld	s10, HS(10)(a0)
	ld	s11, HS(11)(a0)
	ret

/*
 * FP save/restore. The hypervisor itself is built without F/D, so guest FP
 * registers stay live in the hart across exits; they are only saved when a
 * different vCPU is about to run here. sstatus.FS must be non-Off around these.
 */
	.option push
	.option arch, +d
	.global vcpu_fp_save
vcpu_fp_save:
	fsd	f0, VCPU_FP_F + 0(a0)
	fsd	f1, VCPU_FP_F + 8(a0)
	fsd	f2, VCPU_FP_F + 16(a0)
	fsd	f3, VCPU_FP_F + 24(a0)
	fsd	f4, VCPU_FP_F + 32(a0)
	fsd	f5, VCPU_FP_F + 40(a0)
	fsd	f6, VCPU_FP_F + 48(a0)
	fsd	f7, VCPU_FP_F + 56(a0)
	fsd	f8, VCPU_FP_F + 64(a0)
	fsd	f9, VCPU_FP_F + 72(a0)
	fsd	f10, VCPU_FP_F + 80(a0)
	fsd	f11, VCPU_FP_F + 88(a0)
	fsd	f12, VCPU_FP_F + 96(a0)
	fsd	f13, VCPU_FP_F + 104(a0)
	fsd	f14, VCPU_FP_F + 112(a0)
	fsd	f15, VCPU_FP_F + 120(a0)
	fsd	f16, VCPU_FP_F + 128(a0)
	fsd	f17, VCPU_FP_F + 136(a0)
	fsd	f18, VCPU_FP_F + 144(a0)
	fsd	f19, VCPU_FP_F + 152(a0)
	fsd	f20, VCPU_FP_F + 160(a0)
	fsd	f21, VCPU_FP_F + 168(a0)
	fsd	f22, VCPU_FP_F + 176(a0)
	fsd	f23, VCPU_FP_F + 184(a0)
	fsd	f24, VCPU_FP_F + 192(a0)
	fsd	f25, VCPU_FP_F + 200(a0)
	fsd	f26, VCPU_FP_F + 208(a0)
	fsd	f27, VCPU_FP_F + 216(a0)
	fsd	f28, VCPU_FP_F + 224(a0)
	fsd	f29, VCPU_FP_F + 232(a0)
	fsd	f30, VCPU_FP_F + 240(a0)
	fsd	f31, VCPU_FP_F + 248(a0)
	frcsr	t0
	sw	t0, VCPU_FP_FCSR(a0)
	ret

	.global vcpu_fp_restore
vcpu_fp_restore:
	fld	f0, VCPU_FP_F + 0(a0)
	fld	f1, VCPU_FP_F + 8(a0)
	fld	f2, VCPU_FP_F + 16(a0)
	fld	f3, VCPU_FP_F + 24(a0)
	fld	f4, VCPU_FP_F + 32(a0)
	fld	f5, VCPU_FP_F + 40(a0)
	fld	f6, VCPU_FP_F + 48(a0)
	fld	f7, VCPU_FP_F + 56(a0)
	fld	f8, VCPU_FP_F + 64(a0)
	fld	f9, VCPU_FP_F + 72(a0)
	fld	f10, VCPU_FP_F + 80(a0)
	fld	f11, VCPU_FP_F + 88(a0)
	fld	f12, VCPU_FP_F + 96(a0)
	fld	f13, VCPU_FP_F + 104(a0)
	fld	f14, VCPU_FP_F + 112(a0)
	fld	f15, VCPU_FP_F + 120(a0)
	fld	f16, VCPU_FP_F + 128(a0)
	fld	f17, VCPU_FP_F + 136(a0)
	fld	f18, VCPU_FP_F + 144(a0)
	fld	f19, VCPU_FP_F + 152(a0)
	fld	f20, VCPU_FP_F + 160(a0)
	fld	f21, VCPU_FP_F + 168(a0)
	fld	f22, VCPU_FP_F + 176(a0)
	fld	f23, VCPU_FP_F + 184(a0)
	fld	f24, VCPU_FP_F + 192(a0)
	fld	f25, VCPU_FP_F + 200(a0)
	fld	f26, VCPU_FP_F + 208(a0)
	fld	f27, VCPU_FP_F + 216(a0)
	fld	f28, VCPU_FP_F + 224(a0)
	fld	f29, VCPU_FP_F + 232(a0)
	fld	f30, VCPU_FP_F + 240(a0)
	fld	f31, VCPU_FP_F + 248(a0)
	lw	t0, VCPU_FP_FCSR(a0)
	fscsr	t0
	ret
	.option pop

/*
 * V save/restore, the same way as FP: the guest's vector registers stay live in
 * the hart across exits (Vireo itself has no V code) and are saved only when
 * another vCPU is about to run here. Whole registers, 8 at a time (e8, m8 covers
 * 8 * vlenb bytes), then vl/vtype (vsetvl gives them back exactly), vstart, vcsr.
 * sstatus.VS must be non-Off around these.
 */
	.option push
	.option arch, +v
	.global vcpu_vector_save
vcpu_vector_save:
	csrr	t0, vstart
	sd	t0, VCPU_V_VSTART(a0)
	csrr	t0, vl
	sd	t0, VCPU_V_VL(a0)
	csrr	t0, vtype
	sd	t0, VCPU_V_VTYPE(a0)
	csrr	t0, vcsr
	sd	t0, VCPU_V_VCSR(a0)
	ld	t1, VCPU_V_REGS(a0)
	vsetvli	t2, zero, e8, m8, ta, ma
	vse8.v	v0, (t1)
	add	t1, t1, t2
	vse8.v	v8, (t1)
	add	t1, t1, t2
	vse8.v	v16, (t1)
	add	t1, t1, t2
	vse8.v	v24, (t1)
	ret

	.global vcpu_vector_restore
vcpu_vector_restore:
	ld	t1, VCPU_V_REGS(a0)
	vsetvli	t2, zero, e8, m8, ta, ma
	vle8.v	v0, (t1)
	add	t1, t1, t2
	vle8.v	v8, (t1)
	add	t1, t1, t2
	vle8.v	v16, (t1)
	add	t1, t1, t2
	vle8.v	v24, (t1)
	ld	t0, VCPU_V_VL(a0)
	ld	t1, VCPU_V_VTYPE(a0)
	vsetvl	zero, t0, t1
	ld	t0, VCPU_V_VSTART(a0)
	csrw	vstart, t0
	ld	t0, VCPU_V_VCSR(a0)
	csrw	vcsr, t0
	ret
	.option pop
