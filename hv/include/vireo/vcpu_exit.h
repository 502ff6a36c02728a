/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Why a guest left, in terms core can act on. arch/riscv reads the trap
 * CSRs, decodes the instruction where one matters and fills a struct
 * vcpu_exit (vcpu_arch_classify_exit); core/exit.c decides what to do with
 * it and never sees a cause number or a CSR. The record is plain data, so
 * the dispatch is unit-tested on the host with hand-made exits.
 */
#ifndef VIREO_VCPU_EXIT_H
#define VIREO_VCPU_EXIT_H

#include <vireo/insn.h>
#include <vireo/types.h>

enum vcpu_exit_kind {
	VCPU_EXIT_INTERRUPT, /* a host interrupt arrived while the guest ran */
	VCPU_EXIT_ECALL,     /* an SBI call from VS-mode: a0..a7 hold it */
	/* A load or store to a guest-physical address with no G-stage mapping: MMIO, or a
	 * wild access. `gpa`, `is_store`; `decoded` says whether `access` is valid. */
	VCPU_EXIT_GUEST_ACCESS,
	/* The guest's own page-table walk (an implicit access of a load, store or fetch)
	 * touched an unmapped guest-physical address: never an access to emulate. */
	VCPU_EXIT_PT_WALK,
	VCPU_EXIT_FETCH,      /* instruction fetch from an unmapped guest-physical address */
	VCPU_EXIT_WFI,	      /* wfi; `from_user` when the guest ran it in VU-mode */
	VCPU_EXIT_ILLEGAL,    /* another instruction the guest may not run here: `insn` */
	VCPU_EXIT_UNREADABLE, /* a trapping instruction Vireo could not read from the guest */
	VCPU_EXIT_BREAKPOINT, /* ebreak, when the guest's breakpoints come to Vireo (a catch) */
	VCPU_EXIT_UNKNOWN,    /* an exception Vireo does not expect: a diagnostic, no action */
	/* A CSR access VS-mode may not make by itself: `csr` (and `insn`), with the guest's
	 * *iselect in `csr_select` (the IMSIC's CSRs of a vCPU without a guest file). */
	VCPU_EXIT_CSR,
	VCPU_EXIT_KINDS
};

/* What the original access of a guest-page fault was (for the fault injected back). */
enum vcpu_access { VCPU_ACCESS_LOAD, VCPU_ACCESS_STORE, VCPU_ACCESS_FETCH };

/* Only the fields its kind names are defined (the classification sets no others). */
struct vcpu_exit {
	enum vcpu_exit_kind kind;
	unsigned long cause; /* the architecture's cause number: diagnostics only */
	uint64_t gpa;	     /* GUEST_ACCESS, PT_WALK, FETCH */
	unsigned long gva;   /* the guest-virtual address of the access (PT_WALK) */
	enum vcpu_access access_type;
	bool is_store; /* GUEST_ACCESS: a store (else a load) */
	bool decoded;  /* GUEST_ACCESS: `access` describes the instruction */
	struct insn_mmio access;
	uint32_t insn;		  /* WFI, ILLEGAL, CSR: the instruction, read from guest memory */
	struct insn_csr csr;	  /* CSR */
	unsigned long csr_select; /* CSR: the guest's siselect (vsiselect) at the exit */
	bool from_user;		  /* the guest was in user mode (VU) when it trapped */
};

#endif
