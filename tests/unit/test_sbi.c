// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the SBI implementation (hv/sbi/) through sbi_handle_ecall,
 * as a guest would call it: dispatch, the return convention, and every error
 * path the SBI v3.0 specification defines, for every extension Vireo offers
 * (the ones beyond v2.0 -- STA, SUSP, FWFT, DBTR, PMU, SSE -- included), and
 * the hooks core calls at scheduling points. The rest of the hypervisor is
 * faked in sbi_fakes.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/cpu.h>
#include <vireo/ctl_sandbox.h>
#include <vireo/vcpu_arch_sbi.h>
#include <vireo/vm_layout.h>

#include "sbi_fakes.h"

#define NVCPUS	 4
#define SEPC	 0x80001000UL
#define A1_MARK	 0xa1a1a1a1UL /* what a1 holds before a call that must not touch it */
#define RAM_END	 (FAKE_RAM_BASE + FAKE_RAM_SIZE)
#define BAD_ADDR 0x1000UL

#define ERR_NOT_SUPPORTED     ((unsigned long)SBI_ERR_NOT_SUPPORTED)
#define ERR_INVALID_PARAM     ((unsigned long)SBI_ERR_INVALID_PARAM)
#define ERR_INVALID_ADDRESS   ((unsigned long)SBI_ERR_INVALID_ADDRESS)
#define ERR_ALREADY_AVAILABLE ((unsigned long)SBI_ERR_ALREADY_AVAILABLE)
#define ERR_FAILED	      ((unsigned long)SBI_ERR_FAILED)
#define ERR_DENIED	      ((unsigned long)SBI_ERR_DENIED)
#define ERR_ALREADY_STARTED   ((unsigned long)SBI_ERR_ALREADY_STARTED)
#define ERR_ALREADY_STOPPED   ((unsigned long)SBI_ERR_ALREADY_STOPPED)
#define ERR_NO_SHMEM	      ((unsigned long)SBI_ERR_NO_SHMEM)
#define ERR_INVALID_STATE     ((unsigned long)SBI_ERR_INVALID_STATE)
#define ERR_BAD_RANGE	      ((unsigned long)SBI_ERR_BAD_RANGE)
#define ERR_DENIED_LOCKED     ((unsigned long)SBI_ERR_DENIED_LOCKED)

/* Function IDs, spelled out here so that the tests do not just echo the implementation. */
enum {
	BASE_SPEC,
	BASE_IMPL_ID,
	BASE_IMPL_VERSION,
	BASE_PROBE,
	BASE_MVENDOR,
	BASE_MARCH,
	BASE_MIMP
};
enum { HSM_START, HSM_STOP, HSM_STATUS, HSM_SUSPEND };
enum { DBCN_WRITE, DBCN_READ, DBCN_WRITE_BYTE };
enum {
	PMU_NUM_COUNTERS,
	PMU_GET_INFO,
	PMU_CFG_MATCH,
	PMU_START,
	PMU_STOP,
	PMU_FW_READ,
	PMU_FW_READ_HI,
	PMU_SNAPSHOT_SET_SHMEM,
	PMU_EVENT_GET_INFO
};
enum { FWFT_SET, FWFT_GET };
enum {
	DBTR_NUM_TRIGGERS,
	DBTR_SET_SHMEM,
	DBTR_READ,
	DBTR_INSTALL,
	DBTR_UPDATE,
	DBTR_UNINSTALL,
	DBTR_ENABLE,
	DBTR_DISABLE
};
enum {
	SSE_READ_ATTRS,
	SSE_WRITE_ATTRS,
	SSE_REGISTER,
	SSE_UNREGISTER,
	SSE_ENABLE,
	SSE_DISABLE,
	SSE_COMPLETE,
	SSE_INJECT,
	SSE_HART_UNMASK,
	SSE_HART_MASK
};

static int setup(void **state)
{
	(void)state;
	fake_reset(NVCPUS);
	sbi_index_extensions();
	return 0;
}

/* A VS-mode ecall by v with a7 = eid, a6 = fid, a0..a5 = args; a1 starts as args[1]. */
static enum vcpu_action ecall_args(struct vcpu *v, unsigned long eid, unsigned long fid,
				   const unsigned long args[6])
{
	unsigned long *x = v->arch.gprs.x;

	for (unsigned i = 0; i < 6; i++)
		x[REG_A0 + i] = args[i];
	x[REG_A6] = fid;
	x[REG_A7] = eid;
	v->arch.gprs.sepc = SEPC;
	return sbi_handle_ecall(v);
}

#define ECALL(v, eid, fid, ...) ecall_args(v, eid, fid, (const unsigned long[6]){__VA_ARGS__})

static unsigned long a0(unsigned id)
{
	return fake_vcpu(id)->arch.gprs.x[REG_A0];
}

static unsigned long a1(unsigned id)
{
	return fake_vcpu(id)->arch.gprs.x[REG_A1];
}

static unsigned long sepc(unsigned id)
{
	return fake_vcpu(id)->arch.gprs.sepc;
}

/* A returning call: sepc moved past the ecall and a0 holds error. */
static void assert_returned(unsigned id, unsigned long error)
{
	assert_int_equal(sepc(id), SEPC + 4);
	assert_int_equal(a0(id), error);
}

static unsigned total(const unsigned counts[VM_MAX_VCPUS])
{
	unsigned n = 0;

	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		n += counts[i];
	return n;
}

/* Remote fences a vCPU has been asked for (vCPU requests). */
#define FENCE_I(v) (((v)->requests & VCPU_REQ_FENCE_I) != 0)
#define VVMA(v)	   (((v)->requests & VCPU_REQ_HFENCE_VVMA) != 0)

/* ---------------------------------------------------------------- dispatch */

static void dummy_handler(struct sbi_call *call)
{
	(void)call;
}

static void test_find_ext(void **state)
{
	static const struct sbi_ext low = {0x00, 0x0f, "low", dummy_handler};
	static const struct sbi_ext one = {0x10, 0x10, "one", dummy_handler};
	static const struct sbi_ext high = {0x100, ~0UL, "high", dummy_handler};
	static const struct sbi_ext *const table[] = {&low, &one, &high};

	(void)state;
	assert_ptr_equal(sbi_find_ext(table, 3, 0x00), &low);
	assert_ptr_equal(sbi_find_ext(table, 3, 0x0f), &low);
	assert_ptr_equal(sbi_find_ext(table, 3, 0x10), &one);
	assert_null(sbi_find_ext(table, 3, 0x11));
	assert_null(sbi_find_ext(table, 3, 0xff));
	assert_ptr_equal(sbi_find_ext(table, 3, 0x100), &high);
	assert_ptr_equal(sbi_find_ext(table, 3, ~0UL), &high);
	assert_null(sbi_find_ext(table, 0, 0x10));
	assert_null(sbi_find_ext(table, 2, 0x100)); /* only the first n entries count */
}

static void test_extension_table(void **state)
{
	static const struct {
		unsigned long eid;
		const struct sbi_ext *ext;
	} want[] = {
	    {0x00, &sbi_ext_legacy},	    {0x08, &sbi_ext_legacy},
	    {0x0f, &sbi_ext_legacy},	    {0x10, &sbi_ext_base},
	    {0x54494D45, &sbi_ext_time},    {0x735049, &sbi_ext_ipi},
	    {0x52464E43, &sbi_ext_rfence},  {0x48534D, &sbi_ext_hsm},
	    {0x53525354, &sbi_ext_srst},    {0x4442434E, &sbi_ext_dbcn},
	    {0x504D55, &sbi_ext_pmu},	    {0x53555350, &sbi_ext_susp},
	    {0x535441, &sbi_ext_sta},	    {0x535345, &sbi_ext_sse},
	    {0x46574654, &sbi_ext_fwft},    {0x44425452, &sbi_ext_dbtr},
	    {0x0A49524F, &sbi_ext_sandbox},
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		assert_ptr_equal(sbi_find_ext(sbi_extensions, sbi_extension_count, want[i].eid),
				 want[i].ext);
	assert_null(sbi_find_ext(sbi_extensions, sbi_extension_count, 0x11));
	assert_null(sbi_find_ext(sbi_extensions, sbi_extension_count, 0x12345678));
	assert_null(sbi_find_ext(sbi_extensions, sbi_extension_count, 0x0A000000)); /* vendor */
}

static void test_unknown_eid(void **state)
{
	static const unsigned long eids[] = {0x11, 0x12345678, 0x0A000000, 0x0B000000, ~0UL};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(eids); i++) {
		assert_int_equal(ECALL(fake_vcpu(0), eids[i], 0, 1, 2, 3, 4, 5, 6), VCPU_CONTINUE);
		assert_returned(0, ERR_NOT_SUPPORTED);
		assert_int_equal(a1(0), 0); /* value: a1 is written, with 0 */
	}
	assert_int_equal(fake.stops, 0);
}

static void test_unknown_fid(void **state)
{
	static const struct {
		unsigned long eid, fid;
	} bad[] = {
	    {SBI_EXT_BASE, 7},	       {SBI_EXT_BASE, ~0UL}, {SBI_EXT_TIME, 1},
	    {SBI_EXT_IPI, 1},	       {SBI_EXT_RFENCE, 3},  {SBI_EXT_RFENCE, 4},
	    {SBI_EXT_RFENCE, 5},       {SBI_EXT_RFENCE, 6},  {SBI_EXT_RFENCE, 7},
	    {SBI_EXT_HSM, 4},	       {SBI_EXT_SRST, 1},    {SBI_EXT_DBCN, 3},
	    {SBI_EXT_DBCN, 1UL << 40}, {SBI_EXT_PMU, 9},     {SBI_EXT_SUSP, 1},
	    {SBI_EXT_STA, 1},	       {SBI_EXT_SSE, 10},    {SBI_EXT_FWFT, 2},
	    {SBI_EXT_DBTR, 8},	       {SBI_EXT_SSE, ~0UL},
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		/* Arguments that would be valid for FID 0, so only the FID is wrong. */
		assert_int_equal(ECALL(fake_vcpu(0), bad[i].eid, bad[i].fid, 1, 0, 0, 0, 0, 0),
				 VCPU_CONTINUE);
		assert_returned(0, ERR_NOT_SUPPORTED);
	}
	/* Nothing happened as a side effect. */
	assert_int_equal(total(fake.ipis) + total(fake.kicks) + fake.stops, 0);
	assert_int_equal(fake.timer_changes + fake.console_len, 0);
	assert_int_equal(fake_vcpu(1)->hsm, VCPU_STOPPED);
}

/* ---------------------------------------------------------------- BASE */

static void test_base_values(void **state)
{
	(void)state;
	sbi_base_init(0x489, 0x8000000000000007UL, 0x20181004);
	ECALL(fake_vcpu(0), SBI_EXT_BASE, BASE_SPEC, 0, A1_MARK);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 0x03000000); /* v3.0: major 3 in bits 30:24, minor 0 */
	ECALL(fake_vcpu(0), SBI_EXT_BASE, BASE_IMPL_ID, 0, A1_MARK);
	assert_returned(0, 0);
	assert_int_equal(a1(0), SBI_IMPL_ID_VIREO);
	ECALL(fake_vcpu(0), SBI_EXT_BASE, BASE_IMPL_VERSION, 0, A1_MARK);
	assert_returned(0, 0);
	assert_int_not_equal(a1(0), 0);
	ECALL(fake_vcpu(0), SBI_EXT_BASE, BASE_MVENDOR, 0, A1_MARK);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 0x489);
	ECALL(fake_vcpu(0), SBI_EXT_BASE, BASE_MARCH, 0, A1_MARK);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 0x8000000000000007UL);
	ECALL(fake_vcpu(0), SBI_EXT_BASE, BASE_MIMP, 0, A1_MARK);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 0x20181004);
}

static unsigned long probe(unsigned long eid)
{
	ECALL(fake_vcpu(0), SBI_EXT_BASE, BASE_PROBE, eid);
	assert_returned(0, 0);
	return a1(0);
}

static void test_base_probe(void **state)
{
	static const unsigned long present[] = {
	    SBI_EXT_BASE, SBI_EXT_TIME, SBI_EXT_IPI,  SBI_EXT_RFENCE, SBI_EXT_HSM,
	    SBI_EXT_SRST, SBI_EXT_DBCN, SBI_EXT_PMU,  SBI_EXT_SUSP,   SBI_EXT_STA,
	    SBI_EXT_SSE,  SBI_EXT_FWFT, SBI_EXT_DBTR,
	};
	static const unsigned long absent[] = {
	    0x09,
	    0x0f,
	    0x11,
	    0x12345678,
	    0x43505043 /* CPPC */,
	    0x4E41434C /* NACL */,
	    0x4D505859 /* MPXY */,
	    0x0A000000,
	    0x0FFFFFFF,
	    ~0UL,
	};

	(void)state;
	/* The same answers from the index built again (it starts afresh). */
	for (unsigned pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < ARRAY_SIZE(present); i++)
			assert_int_not_equal(probe(present[i]), 0);
		for (unsigned long legacy = 0x00; legacy <= 0x08; legacy++)
			assert_int_not_equal(probe(legacy), 0);
		for (unsigned i = 0; i < ARRAY_SIZE(absent); i++)
			assert_int_equal(probe(absent[i]), 0);
		sbi_index_extensions();
	}
	/* Every extension of the table is found by each of its EIDs, as itself. */
	for (unsigned i = 0; i < sbi_extension_count; i++)
		assert_ptr_equal(sbi_lookup_ext(sbi_extensions[i]->eid_max), sbi_extensions[i]);
}

/* ---------------------------------------------------------------- hart masks */

struct visits {
	unsigned count;
	unsigned ids[VM_MAX_VCPUS * 2];
};

static void record_visit(struct vcpu *target, void *ctx)
{
	struct visits *vs = ctx;

	assert_true(vs->count < ARRAY_SIZE(vs->ids));
	vs->ids[vs->count++] = target->id;
}

static long visit(unsigned long mask, unsigned long base, struct visits *vs)
{
	memset(vs, 0, sizeof(*vs));
	return sbi_for_each_hart(&fake_vm, mask, base, record_visit, vs);
}

/*
 * The sandbox extension: only a sandbox VM has it (probe 0 elsewhere, and every call
 * NOT_SUPPORTED); in one, each FID hands its arguments to core and the vCPU stops as
 * core says, the ecall answered with core's error.
 */
static void test_sandbox_extension(void **state)
{
	(void)state;
	assert_int_equal(probe(SBI_EXT_VIREO_SANDBOX), 0);
	for (unsigned long fid = 0; fid < 5; fid++) {
		assert_int_equal(ECALL(fake_vcpu(0), SBI_EXT_VIREO_SANDBOX, fid, 1, 2, 3, 4, 5, 6),
				 VCPU_CONTINUE);
		assert_returned(0, ERR_NOT_SUPPORTED);
	}
	assert_int_equal(fake.sandbox_calls, 0);

	world.sandbox = true;
	assert_int_equal(probe(SBI_EXT_VIREO_SANDBOX), 1);
	assert_int_equal(ECALL(fake_vcpu(0), SBI_EXT_VIREO_SANDBOX, SBI_SANDBOX_READY, 0x80000100,
			       1, 9, 9, 9, 9),
			 VCPU_YIELD);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 0);
	assert_int_equal(fake.sandbox_fid, 0);
	assert_int_equal(fake.sandbox_args[0], 0x80000100);
	assert_int_equal(fake.sandbox_args[1], 1);

	world.sandbox_error = -10;
	assert_int_equal(ECALL(fake_vcpu(0), SBI_EXT_VIREO_SANDBOX, SBI_SANDBOX_RETURN, 77),
			 VCPU_YIELD);
	assert_returned(0, (unsigned long)-10);
	assert_int_equal(fake.sandbox_fid, 1);
	assert_int_equal(fake.sandbox_args[0], 77);

	world.sandbox_error = -1;
	assert_int_equal(ECALL(fake_vcpu(0), SBI_EXT_VIREO_SANDBOX, SBI_SANDBOX_HOSTCALL,
			       0x80001000, 3, 10, 11, 12, 13),
			 VCPU_YIELD);
	assert_returned(0, (unsigned long)-1);
	assert_int_equal(fake.sandbox_fid, 2);
	static const uint64_t hostcall_args[6] = {0x80001000, 3, 10, 11, 12, 13};
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(fake.sandbox_args[i], hostcall_args[i]);
	assert_int_equal(fake.sandbox_calls, 3);

	/* The harts' waiting, for benchmarks: answered at once. */
	assert_int_equal(ECALL(fake_vcpu(0), SBI_EXT_VIREO_SANDBOX, SBI_SANDBOX_WAITED),
			 VCPU_CONTINUE);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 12345);
	/* An unknown FID in a sandbox is still only NOT_SUPPORTED. */
	assert_int_equal(ECALL(fake_vcpu(0), SBI_EXT_VIREO_SANDBOX, 4), VCPU_CONTINUE);
	assert_returned(0, ERR_NOT_SUPPORTED);
	assert_int_equal(ECALL(fake_vcpu(0), SBI_EXT_VIREO_SANDBOX, ~0UL), VCPU_CONTINUE);
	assert_returned(0, ERR_NOT_SUPPORTED);
	assert_int_equal(fake.sandbox_calls, 3);
}

static void test_for_each_hart_valid(void **state)
{
	struct visits vs;

	(void)state;
	/* base -1: every hart, whatever the mask says. */
	assert_int_equal(visit(0, -1UL, &vs), SBI_SUCCESS);
	assert_int_equal(vs.count, NVCPUS);
	for (unsigned i = 0; i < NVCPUS; i++)
		assert_int_equal(vs.ids[i], i);
	assert_int_equal(visit(0x5, 0, &vs), SBI_SUCCESS);
	assert_int_equal(vs.count, 2);
	assert_int_equal(vs.ids[0], 0);
	assert_int_equal(vs.ids[1], 2);
	assert_int_equal(visit(0x3, 2, &vs), SBI_SUCCESS); /* harts 2 and 3: the last ones */
	assert_int_equal(vs.count, 2);
	assert_int_equal(vs.ids[0], 2);
	assert_int_equal(vs.ids[1], 3);
	/* An empty mask selects nobody, and nobody is invalid, wherever the base is. */
	assert_int_equal(visit(0, 0, &vs), SBI_SUCCESS);
	assert_int_equal(visit(0, 1000, &vs), SBI_SUCCESS);
	assert_int_equal(visit(0, -2UL, &vs), SBI_SUCCESS);
	assert_int_equal(vs.count, 0);
}

static void test_for_each_hart_invalid(void **state)
{
	static const struct {
		unsigned long mask, base;
	} bad[] = {
	    {1, NVCPUS},	    /* just past the last hart */
	    {0x3, NVCPUS - 1},	    /* last hart good, the next one not: nothing at all */
	    {0x11, 0},		    /* hart 0 good, hart 4 not */
	    {1UL << 63, 0},	    /* bit 63 */
	    {1, -2UL},		    /* the highest base that is not "all" */
	    {0x4, -2UL},	    /* base + bit wraps around to hart 0 */
	    {1UL << 63, -1UL - 62}, /* base + 63 wraps around to hart 0 */
	    {1UL << 63, -1UL - 63}, /* base + 63 is hart -1, which is not "all harts" */
	    {0x2, 1UL << 40},	    /* far away */
	};
	struct visits vs;

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(visit(bad[i].mask, bad[i].base, &vs), SBI_ERR_INVALID_PARAM);
		assert_int_equal(vs.count, 0);
	}
}

/* ---------------------------------------------------------------- IPI */

static void test_ipi(void **state)
{
	(void)state;
	ECALL(fake_vcpu(0), SBI_EXT_IPI, 0, 0x6, 0);
	assert_returned(0, 0);
	assert_int_equal(fake.ipis[0] + fake.ipis[3], 0);
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(fake.ipis[2], 1);
	ECALL(fake_vcpu(0), SBI_EXT_IPI, 0, 0, -1UL);
	assert_returned(0, 0);
	assert_int_equal(total(fake.ipis), 2 + NVCPUS);

	/* One bad hart: INVALID_PARAM and no IPI for the good ones. */
	memset(fake.ipis, 0, sizeof(fake.ipis));
	ECALL(fake_vcpu(0), SBI_EXT_IPI, 0, 0x1 | 1UL << NVCPUS, 0);
	assert_returned(0, ERR_INVALID_PARAM);
	ECALL(fake_vcpu(0), SBI_EXT_IPI, 0, 0x1, NVCPUS);
	assert_returned(0, ERR_INVALID_PARAM);
	assert_int_equal(total(fake.ipis), 0);
}

/* ---------------------------------------------------------------- RFENCE */

static void test_rfence(void **state)
{
	(void)state;
	ECALL(fake_vcpu(0), SBI_EXT_RFENCE, 0, 0x2, 1); /* fence.i on hart 2 */
	assert_returned(0, 0);
	assert_int_equal(FENCE_I(fake_vcpu(2)), 1);
	assert_int_equal(VVMA(fake_vcpu(2)), 0);
	assert_int_equal(fake.kicks[2], 1);
	for (unsigned long fid = 1; fid <= 2; fid++) { /* sfence.vma, sfence.vma.asid */
		ECALL(fake_vcpu(0), SBI_EXT_RFENCE, fid, 0x8, 0, 0, 0x1000, 7);
		assert_returned(0, 0);
		assert_int_equal(VVMA(fake_vcpu(3)), 1);
		fake_vcpu(3)->requests &= ~VCPU_REQ_HFENCE_VVMA;
	}
	ECALL(fake_vcpu(0), SBI_EXT_RFENCE, 1, 0, -1UL, 0, -1UL);
	assert_returned(0, 0);
	for (unsigned i = 0; i < NVCPUS; i++)
		assert_int_equal(VVMA(fake_vcpu(i)), 1);
}

/* A target in its guest is waited for (a pause, not a spin), one that is not is not. */
static void test_rfence_waits_for_a_running_target(void **state)
{
	(void)state;
	fake_vcpu(2)->in_guest = true;
	ECALL(fake_vcpu(0), SBI_EXT_RFENCE, 1, 0x4, 0, 0, -1UL);
	assert_returned(0, 0);
	assert_int_equal(fake.pauses, 1);
	assert_int_equal(fake.timer_changes, 1); /* the pause borrowed the host timer */
	ECALL(fake_vcpu(0), SBI_EXT_RFENCE, 1, 0x8, 0, 0, -1UL);
	assert_int_equal(fake.pauses, 1);
}

static void test_rfence_invalid(void **state)
{
	(void)state;
	for (unsigned long fid = 0; fid <= 2; fid++) {
		ECALL(fake_vcpu(0), SBI_EXT_RFENCE, fid, 0x3, NVCPUS - 1, 0, -1UL);
		assert_returned(0, ERR_INVALID_PARAM);
		ECALL(fake_vcpu(0), SBI_EXT_RFENCE, fid, 0x1, -2UL, 0, -1UL);
		assert_returned(0, ERR_INVALID_PARAM);
	}
	for (unsigned i = 0; i < NVCPUS; i++) {
		assert_int_equal(FENCE_I(fake_vcpu(i)), 0);
		assert_int_equal(VVMA(fake_vcpu(i)), 0);
	}
	assert_int_equal(total(fake.kicks), 0);
}

/* ---------------------------------------------------------------- TIME */

static void test_time_sstc(void **state)
{
	(void)state;
	fake_vcpu(0)->timer.hw = true;
	ECALL(fake_vcpu(0), SBI_EXT_TIME, 0, 5000, A1_MARK);
	assert_returned(0, 0);
	assert_int_equal(fake.vstimecmp_writes, 1);
	assert_int_equal(fake.vstimecmp, 5000);
	/* The hardware raises it: the hart's timer is not recomputed (it matters only
	 * once the vCPU waits in wfi, and the scheduler computes it then). */
	assert_int_equal(fake.timer_changes, 0);
	assert_false(fake_vcpu(0)->timer.pending);
	ECALL(fake_vcpu(0), SBI_EXT_TIME, 0, UINT64_MAX);
	assert_int_equal(fake.vstimecmp, UINT64_MAX);
}

static void test_time_software(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	world.guest_time = 1000;
	ECALL(v, SBI_EXT_TIME, 0, 5000);
	assert_returned(0, 0);
	assert_int_equal(fake.vstimecmp_writes, 0);
	assert_int_equal(v->timer.deadline, 5000);
	assert_false(v->timer.pending);
	assert_int_equal(fake.timer_changes, 1);
	/* A deadline that has passed is pending at once... */
	ECALL(v, SBI_EXT_TIME, 0, 1000);
	assert_true(v->timer.pending);
	assert_int_equal(v->timer.deadline, UINT64_MAX);
	/* ...and the next set_timer withdraws it. */
	ECALL(v, SBI_EXT_TIME, 0, 2000);
	assert_false(v->timer.pending);
	assert_int_equal(v->timer.deadline, 2000);
	v->timer.pending = true; /* as if the scheduler had expired it */
	ECALL(v, SBI_EXT_TIME, 0, UINT64_MAX);
	assert_false(v->timer.pending);
	assert_int_equal(v->timer.deadline, UINT64_MAX);
}

/* ---------------------------------------------------------------- HSM */

static void test_hsm_start(void **state)
{
	struct vcpu *t = fake_vcpu(2);

	(void)state;
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, 2, FAKE_RAM_BASE + 0x100, 0xabcd);
	assert_returned(0, 0);
	assert_int_equal(t->hsm, VCPU_START_PENDING);
	assert_int_equal(t->start_addr, FAKE_RAM_BASE + 0x100);
	assert_int_equal(t->start_opaque, 0xabcd);
	assert_int_equal(fake.kicks[2], 1);
	assert_false(t->lock.locked);
	/* While it is between states, another start is refused (as OpenSBI does). */
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, 2, FAKE_RAM_BASE, 0);
	assert_returned(0, ERR_INVALID_PARAM);
	assert_int_equal(t->start_addr, FAKE_RAM_BASE + 0x100);
	/* Once started: ALREADY_AVAILABLE, also for oneself. */
	t->hsm = VCPU_STARTED;
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, 2, FAKE_RAM_BASE, 0);
	assert_returned(0, ERR_ALREADY_AVAILABLE);
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, 0, FAKE_RAM_BASE, 0);
	assert_returned(0, ERR_ALREADY_AVAILABLE);
	assert_int_equal(fake.kicks[2], 1);
}

static void test_hsm_start_errors(void **state)
{
	static const unsigned long bad_addr[] = {0,	      BAD_ADDR, FAKE_RAM_BASE - 4,
						 RAM_END - 2, RAM_END,	-4UL};

	(void)state;
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, NVCPUS, FAKE_RAM_BASE, 0);
	assert_returned(0, ERR_INVALID_PARAM);
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, -1UL, FAKE_RAM_BASE, 0);
	assert_returned(0, ERR_INVALID_PARAM);
	/* A bad hart id is reported before a bad address. */
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, NVCPUS, BAD_ADDR, 0);
	assert_returned(0, ERR_INVALID_PARAM);
	for (unsigned i = 0; i < ARRAY_SIZE(bad_addr); i++) {
		ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, 1, bad_addr[i], 0);
		assert_returned(0, ERR_INVALID_ADDRESS);
	}
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, 1, RAM_END - 4, 0); /* the last word */
	assert_returned(0, 0);
	assert_int_equal(total(fake.kicks), 1);
}

static void test_hsm_stop(void **state)
{
	struct vcpu *v = fake_vcpu(1);

	(void)state;
	v->hsm = VCPU_STARTED;
	assert_int_equal(ECALL(v, SBI_EXT_HSM, HSM_STOP, 0x55, A1_MARK), VCPU_STOPPED_NOW);
	assert_int_equal(v->hsm, VCPU_STOPPED);
	/* It does not return: the registers are as the guest left them. */
	assert_int_equal(sepc(1), SEPC);
	assert_int_equal(a0(1), 0x55);
	assert_int_equal(a1(1), A1_MARK);
	/* A stopped hart can be started again. */
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_START, 1, FAKE_RAM_BASE, 0);
	assert_returned(0, 0);
	assert_int_equal(v->hsm, VCPU_START_PENDING);
}

static void test_hsm_status(void **state)
{
	static const enum vcpu_hsm_state states[] = {
	    VCPU_STARTED,   VCPU_STOPPED,	  VCPU_START_PENDING,  VCPU_STOP_PENDING,
	    VCPU_SUSPENDED, VCPU_SUSPEND_PENDING, VCPU_RESUME_PENDING,
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(states); i++) {
		fake_vcpu(3)->hsm = states[i];
		ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_STATUS, 3);
		assert_returned(0, 0);
		assert_int_equal(a1(0),
				 i); /* the spec's numbering: STARTED 0 .. RESUME_PENDING 6 */
	}
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_STATUS, NVCPUS);
	assert_returned(0, ERR_INVALID_PARAM);
	ECALL(fake_vcpu(0), SBI_EXT_HSM, HSM_STATUS, -1UL);
	assert_returned(0, ERR_INVALID_PARAM);
}

static void test_hsm_suspend_retentive(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	/* The type is 32 bits: the upper half of a0 is ignored. */
	assert_int_equal(ECALL(v, SBI_EXT_HSM, HSM_SUSPEND, 0xffffffff00000000UL, BAD_ADDR),
			 VCPU_BLOCK);
	assert_returned(0, 0); /* retentive: returns 0 once woken */
	assert_int_equal(v->hsm, VCPU_SUSPENDED);
	assert_true(v->waiting);
	assert_false(v->resume_nonretentive); /* resume_addr unused, even a bad one */
	assert_false(v->lock.locked);
}

static void test_hsm_suspend_non_retentive(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	assert_int_equal(ECALL(v, SBI_EXT_HSM, HSM_SUSPEND, 0x80000000, FAKE_RAM_BASE + 0x40, 77),
			 VCPU_BLOCK);
	assert_int_equal(v->hsm, VCPU_SUSPENDED);
	assert_true(v->waiting);
	assert_true(v->resume_nonretentive);
	assert_int_equal(v->start_addr, FAKE_RAM_BASE + 0x40);
	assert_int_equal(v->start_opaque, 77);
}

static void test_hsm_suspend_errors(void **state)
{
	static const unsigned long invalid[] = {
	    0x00000001,	   0x0fffffff, 0x80000001, 0x8fffffff, /* reserved */
	    0x10000000,	   0x7fffffff, 0x90000000, 0xffffffff, /* platform-specific: none here */
	    0x100000001UL,				       /* truncates to a reserved type */
	};
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(invalid); i++) {
		assert_int_equal(ECALL(v, SBI_EXT_HSM, HSM_SUSPEND, invalid[i], FAKE_RAM_BASE),
				 VCPU_CONTINUE);
		assert_returned(0, ERR_INVALID_PARAM);
	}
	ECALL(v, SBI_EXT_HSM, HSM_SUSPEND, 0x80000000, BAD_ADDR, 0);
	assert_returned(0, ERR_INVALID_ADDRESS);
	ECALL(v, SBI_EXT_HSM, HSM_SUSPEND, 0x80000000, RAM_END, 0);
	assert_returned(0, ERR_INVALID_ADDRESS);
	assert_int_equal(v->hsm, VCPU_STARTED);
	assert_false(v->waiting);
	assert_false(v->resume_nonretentive);
}

/* ---------------------------------------------------------------- SRST */

static void assert_reset_refused(unsigned long type, unsigned long reason)
{
	assert_int_equal(ECALL(fake_vcpu(0), SBI_EXT_SRST, 0, type, reason), VCPU_CONTINUE);
	assert_returned(0, ERR_INVALID_PARAM);
	assert_int_equal(fake.stops, 0);
	assert_int_equal(fake_vm.state, VM_RUNNING);
}

static void test_srst_invalid(void **state)
{
	(void)state;
	assert_reset_refused(3, 0); /* reserved types */
	assert_reset_refused(0xefffffff, 0);
	assert_reset_refused(0xf0000000, 0); /* vendor types: none implemented */
	assert_reset_refused(0xffffffff, 0);
	assert_reset_refused(0, 2); /* reserved reasons */
	assert_reset_refused(0, 0xdfffffff);
	assert_reset_refused(0x100000003UL, 0); /* 32-bit: truncates to 3 */
	assert_reset_refused(0, 0x100000002UL); /* truncates to 2 */
}

/* An accepted reset does not return and stops the VM with the status the reason maps to. */
static void assert_reset(unsigned long type, unsigned long reason, int status, bool reboot)
{
	fake_reset(NVCPUS);
	assert_int_equal(ECALL(fake_vcpu(1), SBI_EXT_SRST, 0, type, reason), VCPU_VM_ENDED);
	assert_int_equal(sepc(1), SEPC);
	assert_int_equal(a0(1), type);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.stop_status, status);
	assert_int_equal(fake_vm.reboot_requested, reboot);
}

static void test_srst_reset(void **state)
{
	(void)state;
	assert_reset(0, 0, 0, false);
	assert_reset(0, 1, 1, false); /* system failure */
	assert_reset(1, 0, 0, true);  /* cold reboot */
	assert_reset(2, 0, 0, true);  /* warm reboot */
	assert_reset(0, VM_EXIT_REASON_STATUS_BASE + 42, 42, false);
	assert_reset(0, VM_EXIT_REASON_STATUS_BASE + 255, 255, false);
	assert_reset(0, 0xe0000000, 1, false); /* implementation-specific: a failure */
	assert_reset(0xffffffff00000000UL, 0xffffffff00000000UL, 0, false); /* upper halves */
	assert_reset(0, 0xffffffff00000001UL, 1, false);
}

/* ---------------------------------------------------------------- DBCN */

static void test_dbcn_write(void **state)
{
	static const char msg[] = "hello, console";
	unsigned long len = sizeof(msg) - 1;

	(void)state;
	memcpy(fake_ram + 0x200, msg, len);
	ECALL(fake_vcpu(0), SBI_EXT_DBCN, DBCN_WRITE, len, FAKE_RAM_BASE + 0x200, 0);
	assert_returned(0, 0);
	assert_int_equal(a1(0), len);
	assert_int_equal(fake.console_len, len);
	assert_memory_equal(fake.console, msg, len);
	/* A buffer that ends at the last byte of RAM is fine. */
	ECALL(fake_vcpu(0), SBI_EXT_DBCN, DBCN_WRITE, 4, RAM_END - 4, 0);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 4);
	/* Nothing to write: nothing to check either. */
	ECALL(fake_vcpu(0), SBI_EXT_DBCN, DBCN_WRITE, 0, BAD_ADDR, 7);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 0);
	assert_int_equal(fake.console_len, len + 4);
}

static void test_dbcn_bad_buffers(void **state)
{
	static const struct {
		unsigned long num, lo, hi;
	} bad[] = {
	    {4, BAD_ADDR, 0},
	    {4, FAKE_RAM_BASE - 2, 0}, /* starts just below RAM */
	    {5, RAM_END - 4, 0},       /* ends just past RAM */
	    {1, RAM_END, 0},
	    {4, FAKE_RAM_BASE, 1}, /* base_addr_hi: beyond 2^64 */
	    {4, FAKE_RAM_BASE, ~0UL},
	    {-1UL, FAKE_RAM_BASE + 0x10, 0},	/* base + num wraps around */
	    {-FAKE_RAM_BASE, FAKE_RAM_BASE, 0}, /* base + num == 2^64 exactly */
	    {FAKE_RAM_SIZE + 1, FAKE_RAM_BASE, 0},
	};

	(void)state;
	fake_input("xyz");
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		for (unsigned long fid = DBCN_WRITE; fid <= DBCN_READ; fid++) {
			ECALL(fake_vcpu(0), SBI_EXT_DBCN, fid, bad[i].num, bad[i].lo, bad[i].hi);
			assert_returned(0, ERR_INVALID_PARAM);
		}
	}
	assert_int_equal(fake.console_len, 0);
	assert_int_equal(world.input_pos, 0); /* a refused read consumes no input */
}

static void test_dbcn_read(void **state)
{
	(void)state;
	ECALL(fake_vcpu(0), SBI_EXT_DBCN, DBCN_READ, 8, FAKE_RAM_BASE + 0x300, 0);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 0); /* no input: 0 bytes, not an error */
	fake_input("abc");
	ECALL(fake_vcpu(0), SBI_EXT_DBCN, DBCN_READ, 2, FAKE_RAM_BASE + 0x300, 0);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 2);
	assert_memory_equal(fake_ram + 0x300, "ab", 2);
	ECALL(fake_vcpu(0), SBI_EXT_DBCN, DBCN_READ, 8, FAKE_RAM_BASE + 0x300, 0);
	assert_int_equal(a1(0), 1);
	assert_int_equal(fake_ram[0x300], 'c');
	assert_int_equal(fake_ram[0x301], 'b'); /* only what was read is written */
}

static void test_dbcn_write_byte(void **state)
{
	(void)state;
	ECALL(fake_vcpu(0), SBI_EXT_DBCN, DBCN_WRITE_BYTE, 0x100 | 'Z', A1_MARK);
	assert_returned(0, 0);
	assert_int_equal(fake.console_len, 1);
	assert_int_equal(fake.console[0], 'Z'); /* the low byte only */
}

/* ---------------------------------------------------------------- legacy */

/* A v0.1 call returns in a0 only: a1 must come back as the guest left it. */
static void legacy(unsigned id, unsigned long eid, unsigned long arg, long want)
{
	assert_int_equal(ECALL(fake_vcpu(id), eid, 0, arg, A1_MARK), VCPU_CONTINUE);
	assert_returned(id, (unsigned long)want);
	assert_int_equal(a1(id), A1_MARK);
}

static void test_legacy_console(void **state)
{
	(void)state;
	legacy(0, 0x01, 'q', 0);
	assert_int_equal(fake.console_len, 1);
	assert_int_equal(fake.console[0], 'q');
	legacy(0, 0x02, 0, -1); /* no input */
	fake_input("k");
	legacy(0, 0x02, 0, 'k');
	legacy(0, 0x02, 0, -1);
}

static void test_legacy_timer_and_clear_ipi(void **state)
{
	(void)state;
	legacy(1, 0x00, 5000, 0);
	assert_int_equal(fake_vcpu(1)->timer.deadline, 5000);
	legacy(2, 0x03, 0, 0); /* nothing pending: 0 */
	assert_int_equal(fake.irq_line_calls, 1);
	assert_int_equal(fake.irq_line_vcpu, 2);
	assert_int_equal(fake.irq_line_irq, VCPU_IRQ_SOFT);
	assert_false(fake.irq_line_level);
	/* A raised line, or an IPI posted and not yet taken: 1, and both go down. */
	fake_vcpu(2)->arch.vs.hvip = BIT(VCPU_IRQ_SOFT);
	legacy(2, 0x03, 0, 1);
	assert_int_equal(fake_vcpu(2)->arch.vs.hvip, 0);
	fake_vcpu(2)->requests = VCPU_REQ_IPI | VCPU_REQ_FENCE_I;
	legacy(2, 0x03, 0, 1);
	assert_int_equal(fake_vcpu(2)->requests, VCPU_REQ_FENCE_I);
	legacy(2, 0x03, 0, 0);
	/* Legacy set_timer counts for the PMU like TIME's. */
	assert_int_equal(fake_vcpu(1)->sbi.pmu.fw_events[SBI_PMU_FW_SET_TIMER], 1);
}

static void test_legacy_send_ipi(void **state)
{
	uint64_t mask = 0xa; /* harts 1 and 3 */

	(void)state;
	memcpy(fake_ram + 0x400, &mask, sizeof(mask));
	legacy(0, 0x04, FAKE_RAM_BASE + 0x400, 0);
	assert_int_equal(fake.guest_read_va, FAKE_RAM_BASE + 0x400);
	assert_int_equal(fake.ipis[1] + fake.ipis[3], 2);
	assert_int_equal(fake.ipis[0] + fake.ipis[2], 0);
	legacy(0, 0x04, 0, 0); /* no mask: every hart */
	assert_int_equal(total(fake.ipis), 2 + NVCPUS);
	/* A mask naming a hart the VM lacks. */
	mask = 1UL << NVCPUS | 1;
	memcpy(fake_ram + 0x400, &mask, sizeof(mask));
	legacy(0, 0x04, FAKE_RAM_BASE + 0x400, SBI_ERR_INVALID_PARAM);
	assert_int_equal(total(fake.ipis), 2 + NVCPUS);
	/* A mask need not be aligned: it is read as the guest would read it. */
	mask = 0x4;
	memcpy(fake_ram + 0x403, &mask, sizeof(mask));
	legacy(0, 0x04, FAKE_RAM_BASE + 0x403, 0);
	assert_int_equal(fake.ipis[2], 2);
}

/* v3.0: a fault taken reading the mask goes to the guest, sepc at the ecall. */
static void assert_mask_fault(unsigned long eid, unsigned long ptr, enum vcpu_exception exc,
			      unsigned long tval)
{
	struct vcpu *v = fake_vcpu(0);

	fake.injections = 0;
	assert_int_equal(ECALL(v, eid, 0, ptr, A1_MARK), VCPU_CONTINUE);
	assert_int_equal(sepc(0), SEPC); /* not returned: the trap handler runs next */
	assert_int_equal(a0(0), ptr);
	assert_int_equal(a1(0), A1_MARK);
	assert_int_equal(fake.injections, 1);
	assert_int_equal(fake.injected, exc);
	assert_int_equal(fake.injected_tval, tval);
}

static void test_legacy_mask_faults(void **state)
{
	(void)state;
	for (unsigned long eid = 0x04; eid <= 0x07; eid++) {
		assert_mask_fault(eid, FAKE_UNMAPPED_VA + 8, VCPU_EXC_LOAD_PAGE_FAULT,
				  FAKE_UNMAPPED_VA + 8);
		assert_mask_fault(eid, BAD_ADDR, VCPU_EXC_LOAD_ACCESS, BAD_ADDR);
		/* The read fails at the first byte past RAM. */
		assert_mask_fault(eid, RAM_END - 3, VCPU_EXC_LOAD_ACCESS, RAM_END);
	}
	assert_int_equal(total(fake.ipis) + total(fake.kicks), 0);
	assert_int_equal(fake_vcpu(0)->sbi.pmu.fw_events[SBI_PMU_FW_ACCESS_LOAD], 8);
}

static void test_legacy_fences(void **state)
{
	uint64_t mask = 0x4;

	(void)state;
	memcpy(fake_ram + 0x408, &mask, sizeof(mask));
	legacy(0, 0x05, FAKE_RAM_BASE + 0x408, 0);
	assert_int_equal(FENCE_I(fake_vcpu(2)), 1);
	legacy(0, 0x06, FAKE_RAM_BASE + 0x408, 0);
	assert_int_equal(VVMA(fake_vcpu(2)), 1);
	fake_vcpu(2)->requests &= ~VCPU_REQ_HFENCE_VVMA;
	legacy(0, 0x07, FAKE_RAM_BASE + 0x408, 0);
	assert_int_equal(VVMA(fake_vcpu(2)), 1);
	assert_int_equal(FENCE_I(fake_vcpu(1)) + VVMA(fake_vcpu(1)), 0);
	/* Each kind counts as its own PMU firmware event, on both sides. */
	assert_int_equal(fake_vcpu(0)->sbi.pmu.fw_events[SBI_PMU_FW_FENCE_I_SENT], 1);
	assert_int_equal(fake_vcpu(2)->sbi.pmu.fw_events[SBI_PMU_FW_FENCE_I_RECEIVED], 1);
	assert_int_equal(fake_vcpu(0)->sbi.pmu.fw_events[SBI_PMU_FW_SFENCE_VMA_SENT], 1);
	assert_int_equal(fake_vcpu(2)->sbi.pmu.fw_events[SBI_PMU_FW_SFENCE_VMA_RECEIVED], 1);
	assert_int_equal(fake_vcpu(0)->sbi.pmu.fw_events[SBI_PMU_FW_SFENCE_VMA_ASID_SENT], 1);
	assert_int_equal(fake_vcpu(2)->sbi.pmu.fw_events[SBI_PMU_FW_SFENCE_VMA_ASID_RECEIVED], 1);
}

static void test_legacy_shutdown_and_unknown(void **state)
{
	(void)state;
	legacy(0, 0x09, 0, SBI_ERR_NOT_SUPPORTED); /* legacy range, but not a v0.1 call */
	legacy(0, 0x0f, 0, SBI_ERR_NOT_SUPPORTED);
	assert_int_equal(ECALL(fake_vcpu(0), 0x08, 0, 0, A1_MARK), VCPU_VM_ENDED);
	assert_int_equal(sepc(0), SEPC);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.stop_status, 0);
}

/* ---------------------------------------------------------------- STA */

#define STA_REC	     0x500UL /* offset of a 64-byte aligned record in the fake RAM */
#define SHMEM_OFF    (~0UL)
#define TICKS_PER_MS 10000UL /* the default 10 MHz timebase */

static uint32_t sta_sequence(void)
{
	uint32_t v;

	memcpy(&v, fake_ram + STA_REC, 4);
	return v;
}

static uint64_t sta_steal(void)
{
	uint64_t v;

	memcpy(&v, fake_ram + STA_REC + 8, 8);
	return v;
}

static void test_sta_set_shmem(void **state)
{
	struct vcpu *v = fake_vcpu(1);

	(void)state;
	memset(fake_ram + STA_REC, 0xa5, 128);
	ECALL(v, SBI_EXT_STA, 0, FAKE_RAM_BASE + STA_REC, 0, 0, A1_MARK);
	assert_returned(1, 0);
	assert_int_equal(a1(1), 0);
	for (unsigned i = 0; i < 64; i++) /* zeroed before returning */
		assert_int_equal(fake_ram[STA_REC + i], 0);
	assert_int_equal(fake_ram[STA_REC + 64], 0xa5); /* and no more */
	assert_ptr_equal(v->sbi.sta.record, fake_ram + STA_REC);
	/* All-ones in both halves stops the reporting. */
	ECALL(v, SBI_EXT_STA, 0, SHMEM_OFF, SHMEM_OFF, 0);
	assert_returned(1, 0);
	assert_null(v->sbi.sta.record);
	/* The last 64 bytes of RAM are fine. */
	ECALL(v, SBI_EXT_STA, 0, RAM_END - 64, 0, 0);
	assert_returned(1, 0);
}

static void test_sta_errors(void **state)
{
	static const struct {
		unsigned long lo, hi, flags, error;
	} bad[] = {
	    {FAKE_RAM_BASE, 0, 1, ERR_INVALID_PARAM},		  /* flags must be 0 */
	    {SHMEM_OFF, SHMEM_OFF, 1UL << 63, ERR_INVALID_PARAM}, /* also to disable */
	    {FAKE_RAM_BASE + 32, 0, 0, ERR_INVALID_PARAM},	  /* not 64-byte aligned */
	    {SHMEM_OFF, 0, 0, ERR_INVALID_PARAM},		  /* only one half all-ones */
	    {0, SHMEM_OFF, 0, ERR_INVALID_ADDRESS},		  /* high half: beyond RAM */
	    {FAKE_RAM_BASE, 1, 0, ERR_INVALID_ADDRESS},
	    {BAD_ADDR, 0, 0, ERR_INVALID_ADDRESS},
	    {FAKE_RAM_BASE - 64, 0, 0, ERR_INVALID_ADDRESS},
	    {RAM_END, 0, 0, ERR_INVALID_ADDRESS},
	    {-64UL, 0, 0, ERR_INVALID_ADDRESS},
	};
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	ECALL(v, SBI_EXT_STA, 0, FAKE_RAM_BASE + STA_REC, 0, 0); /* a record in place */
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		ECALL(v, SBI_EXT_STA, 0, bad[i].lo, bad[i].hi, bad[i].flags, A1_MARK);
		assert_returned(0, bad[i].error);
		/* A failed call changes nothing. */
		assert_ptr_equal(v->sbi.sta.record, fake_ram + STA_REC);
	}
}

/* Steal: runnable and off the hart, from the moment it left (or woke) to the next load. */
static void test_sta_steal_time(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	ECALL(v, SBI_EXT_STA, 0, FAKE_RAM_BASE + STA_REC, 0, 0);
	world.host_time = 100 * TICKS_PER_MS;
	sbi_vcpu_sched_in(v); /* nothing stolen yet; the record is written, sequence even */
	assert_int_equal(sta_sequence(), 2);
	assert_int_equal(sta_steal(), 0);
	/* Preempted while runnable: preempted = 1, and the clock runs. */
	sbi_vcpu_sched_out(v);
	assert_int_equal(sta_sequence(), 4);
	assert_int_equal(fake_ram[STA_REC + 16], 1);
	world.host_time += 3 * TICKS_PER_MS;
	sbi_vcpu_sched_in(v);
	assert_int_equal(sta_sequence(), 6);
	assert_int_equal(sta_steal(), 3000000); /* 3 ms in ns */
	assert_int_equal(fake_ram[STA_REC + 16], 0);
	assert_int_equal(fake_ram[STA_REC + 4], 0); /* flags stay 0 */
	/* Leaving to wait (wfi) is idle time, not stolen; being woken off the hart is. */
	v->waiting = true;
	sbi_vcpu_sched_out(v);
	assert_int_equal(sta_sequence(), 6); /* nothing to say */
	world.host_time += 50 * TICKS_PER_MS;
	v->waiting = false;
	sbi_vcpu_ready(v);
	world.host_time += 2 * TICKS_PER_MS;
	sbi_vcpu_ready(v); /* a second wake-up does not move the start */
	world.host_time += 1 * TICKS_PER_MS;
	sbi_vcpu_sched_in(v);
	assert_int_equal(sta_steal(), 6000000);
	/* Stopped harts and ending VMs are not runnable either. */
	v->hsm = VCPU_STOPPED;
	sbi_vcpu_sched_out(v);
	v->hsm = VCPU_STARTED;
	fake_vm.state = VM_STOPPING;
	sbi_vcpu_sched_out(v);
	world.host_time += 10 * TICKS_PER_MS;
	fake_vm.state = VM_RUNNING;
	sbi_vcpu_sched_in(v);
	assert_int_equal(sta_steal(), 6000000);
	assert_int_equal(sta_sequence() % 2, 0);
	/* Setting the record again starts from 0, as the zeroed record says. */
	ECALL(v, SBI_EXT_STA, 0, FAKE_RAM_BASE + STA_REC, 0, 0);
	sbi_vcpu_sched_out(v);
	world.host_time += TICKS_PER_MS;
	sbi_vcpu_sched_in(v);
	assert_int_equal(sta_steal(), 1000000);
}

static void test_sta_off_and_reset(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	/* Without a record, nothing is written anywhere. */
	sbi_vcpu_sched_out(v);
	world.host_time += TICKS_PER_MS;
	sbi_vcpu_sched_in(v);
	for (unsigned i = 0; i < FAKE_RAM_SIZE; i++)
		assert_int_equal(fake_ram[i], 0);
	/* A hart reset (HSM hart_start) stops the reporting. */
	ECALL(v, SBI_EXT_STA, 0, FAKE_RAM_BASE + STA_REC, 0, 0);
	sbi_vcpu_hart_reset(v);
	assert_null(v->sbi.sta.record);
	sbi_vcpu_sched_in(v);
	assert_int_equal(sta_sequence(), 0);
	/* A non-retentive resume keeps it. */
	ECALL(v, SBI_EXT_STA, 0, FAKE_RAM_BASE + STA_REC, 0, 0);
	sbi_vcpu_resumed(v);
	assert_non_null(v->sbi.sta.record);
}

/* ---------------------------------------------------------------- SUSP */

static void test_susp_suspend_to_ram(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	/* sleep_type is 32 bits: 0x1_00000000 is SUSPEND_TO_RAM. */
	assert_int_equal(ECALL(v, SBI_EXT_SUSP, 0, 1UL << 32, FAKE_RAM_BASE + 0x100, 0x55, A1_MARK),
			 VCPU_BLOCK);
	/* It does not return: it resumes at resume_addr. */
	assert_int_equal(sepc(0), SEPC);
	assert_int_equal(a1(0), FAKE_RAM_BASE + 0x100);
	assert_int_equal(v->hsm, VCPU_SUSPENDED);
	assert_true(v->waiting);
	assert_true(v->resume_nonretentive);
	assert_int_equal(v->start_addr, FAKE_RAM_BASE + 0x100);
	assert_int_equal(v->start_opaque, 0x55);
	assert_true(v->sbi.system_suspended);
	assert_false(v->lock.locked);
	assert_non_null(strstr(fake.log, "suspended to RAM"));
	/* The wake-up (core/vcpu.c) resets it and calls the hook: a line, once. */
	sbi_vcpu_resumed(v);
	assert_false(v->sbi.system_suspended);
	assert_non_null(strstr(fake.log, "resumed"));
	unsigned logs = fake.logs;
	sbi_vcpu_resumed(v); /* an HSM non-retentive resume: no line */
	assert_int_equal(fake.logs, logs);
}

static void test_susp_errors(void **state)
{
	static const unsigned long bad_types[] = {1, 0x7fffffff, 0x80000000, 0xffffffff,
						  0x100000001UL};
	static const enum vcpu_hsm_state busy[] = {VCPU_STARTED, VCPU_START_PENDING, VCPU_SUSPENDED,
						   VCPU_STOP_PENDING};
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(bad_types); i++) {
		/* The type is checked first: a bad address does not change the answer. */
		assert_int_equal(ECALL(v, SBI_EXT_SUSP, 0, bad_types[i], BAD_ADDR), VCPU_CONTINUE);
		assert_returned(0, ERR_INVALID_PARAM);
	}
	ECALL(v, SBI_EXT_SUSP, 0, 0, BAD_ADDR);
	assert_returned(0, ERR_INVALID_ADDRESS);
	ECALL(v, SBI_EXT_SUSP, 0, 0, RAM_END - 2);
	assert_returned(0, ERR_INVALID_ADDRESS);
	/* Every other vCPU must be STOPPED; the address is checked before that. */
	for (unsigned i = 0; i < ARRAY_SIZE(busy); i++) {
		fake_vcpu(3)->hsm = busy[i];
		ECALL(v, SBI_EXT_SUSP, 0, 0, BAD_ADDR);
		assert_returned(0, ERR_INVALID_ADDRESS);
		ECALL(v, SBI_EXT_SUSP, 0, 0, FAKE_RAM_BASE);
		assert_returned(0, ERR_DENIED);
	}
	assert_int_equal(v->hsm, VCPU_STARTED);
	assert_false(v->waiting || v->sbi.system_suspended);
	assert_int_equal(fake.logs, 0);
}

/* ---------------------------------------------------------------- FWFT */

enum {
	FEAT_MISALIGNED,
	FEAT_LANDING_PAD,
	FEAT_SHADOW_STACK,
	FEAT_DOUBLE_TRAP,
	FEAT_PTE_AD,
	FEAT_PMLEN
};
#define FWFT_LOCK 1UL

static void fwft_get(unsigned long feature, unsigned long error, unsigned long value)
{
	ECALL(fake_vcpu(0), SBI_EXT_FWFT, FWFT_GET, feature, A1_MARK);
	assert_returned(0, error);
	assert_int_equal(a1(0), value);
}

static void fwft_set(unsigned long feature, unsigned long value, unsigned long flags,
		     unsigned long error)
{
	ECALL(fake_vcpu(0), SBI_EXT_FWFT, FWFT_SET, feature, value, flags);
	assert_returned(0, error);
}

/* A hart like QEMU 7.2's under OpenSBI v1.1: none of the features. */
static void test_fwft_nothing_offered(void **state)
{
	static const unsigned long reserved[] = {
	    6,		0x3fffffff, /* local, reserved */
	    0x40000000, 0x7fffffff, /* local, platform-specific: none implemented */
	    0x80000000, 0xbfffffff, /* global, reserved */
	    0xc0000000, 0xffffffff, /* global, platform-specific */
	};

	(void)state;
	for (unsigned long f = FEAT_MISALIGNED; f <= FEAT_PMLEN; f++) {
		fwft_get(f, ERR_NOT_SUPPORTED, 0);
		fwft_set(f, 0, 0, ERR_NOT_SUPPORTED);
		fwft_set(f, 1, FWFT_LOCK, ERR_NOT_SUPPORTED);
		fwft_get(f | 1UL << 32, ERR_NOT_SUPPORTED, 0); /* feature is 32 bits */
	}
	for (unsigned i = 0; i < ARRAY_SIZE(reserved); i++) {
		fwft_get(reserved[i], ERR_DENIED, 0);
		fwft_set(reserved[i], 0, 0, ERR_DENIED);
	}
	assert_int_equal(fake_vcpu(0)->arch.hcfg.henvcfg, 0);
}

static void test_fwft_pte_ad_hw_updating(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	cpu_features.fwft_svadu = true;
	fwft_get(FEAT_PTE_AD, 0, 0); /* reset value 0 */
	fwft_set(FEAT_PTE_AD, 1, 0, 0);
	fwft_get(FEAT_PTE_AD, 0, 1);
	assert_true(v->arch.hcfg.henvcfg & FAKE_ENVCFG_ADUE);
	fwft_set(FEAT_PTE_AD, 0, 0, 0);
	assert_false(v->arch.hcfg.henvcfg & FAKE_ENVCFG_ADUE);
	fwft_set(FEAT_PTE_AD, 2, 0, ERR_INVALID_PARAM); /* values 0 and 1 only */
	fwft_set(FEAT_PTE_AD, 1, 2, ERR_INVALID_PARAM); /* reserved flag bits */
	fwft_set(FEAT_PTE_AD, 1, FWFT_LOCK | 1UL << 63, ERR_INVALID_PARAM);
	fwft_get(FEAT_PTE_AD, 0, 0); /* failed sets changed nothing */
	/* LOCK: set, then no change at all, even to the same value, until a hart reset. */
	fwft_set(FEAT_PTE_AD, 1, FWFT_LOCK, 0);
	fwft_set(FEAT_PTE_AD, 0, 0, ERR_DENIED_LOCKED);
	fwft_set(FEAT_PTE_AD, 1, 0, ERR_DENIED_LOCKED);
	fwft_set(FEAT_PTE_AD, 0, FWFT_LOCK, ERR_DENIED_LOCKED);
	fwft_get(FEAT_PTE_AD, 0, 1);
	/* Other vCPUs have their own. */
	ECALL(fake_vcpu(1), SBI_EXT_FWFT, FWFT_GET, FEAT_PTE_AD);
	assert_returned(1, 0);
	assert_int_equal(a1(1), 0);
	/* A non-retentive resume resets the hart configuration; the value is put back. */
	v->arch.hcfg.henvcfg = 0;
	sbi_vcpu_resumed(v);
	assert_true(v->arch.hcfg.henvcfg & FAKE_ENVCFG_ADUE);
	fwft_set(FEAT_PTE_AD, 0, 0, ERR_DENIED_LOCKED);
	/* A hart reset: reset value, unlocked. */
	sbi_vcpu_hart_reset(v);
	fwft_get(FEAT_PTE_AD, 0, 0);
	fwft_set(FEAT_PTE_AD, 1, 0, 0);
}

static void test_fwft_pointer_masking(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	cpu_features.fwft_pmlen7 = true; /* PMLEN 16 does not stick on this hart */
	fwft_get(FEAT_PMLEN, 0, 0);
	fwft_set(FEAT_PMLEN, 7, 0, 0);
	fwft_get(FEAT_PMLEN, 0, 7);
	assert_int_equal(v->arch.hcfg.henvcfg >> FAKE_ENVCFG_PMM_SHIFT, 2);
	fwft_set(FEAT_PMLEN, 16, 0, ERR_INVALID_PARAM);
	fwft_set(FEAT_PMLEN, 8, 0, ERR_INVALID_PARAM);
	fwft_set(FEAT_PMLEN, 1, 0, ERR_INVALID_PARAM);
	fwft_get(FEAT_PMLEN, 0, 7);
	fwft_set(FEAT_PMLEN, 0, 0, 0);
	assert_int_equal(v->arch.hcfg.henvcfg, 0);
	cpu_features.fwft_pmlen16 = true;
	fwft_set(FEAT_PMLEN, 16, 0, 0);
	assert_int_equal(v->arch.hcfg.henvcfg >> FAKE_ENVCFG_PMM_SHIFT, 3);
}

static void test_fwft_misaligned_delegation(void **state)
{
	(void)state;
	cpu_features.fwft_misaligned_deleg = true;
	fwft_get(FEAT_MISALIGNED, 0, 1); /* Vireo always delegates them */
	fwft_set(FEAT_MISALIGNED, 1, 0, 0);
	fwft_set(FEAT_MISALIGNED, 0, 0, ERR_DENIED); /* it would have to emulate them */
	fwft_set(FEAT_MISALIGNED, 2, 0, ERR_INVALID_PARAM);
	fwft_set(FEAT_MISALIGNED, 1, FWFT_LOCK, 0);
	fwft_set(FEAT_MISALIGNED, 0, 0, ERR_DENIED_LOCKED);
	fwft_get(FEAT_MISALIGNED, 0, 1);
	/* Landing pads, shadow stacks, double traps: never, whatever the probes say. */
	for (unsigned long f = FEAT_LANDING_PAD; f <= FEAT_DOUBLE_TRAP; f++)
		fwft_get(f, ERR_NOT_SUPPORTED, 0);
}

/* ---------------------------------------------------------------- DBTR */

static void dbtr(unsigned long fid, unsigned long a0_, unsigned long a1_, unsigned long a2_,
		 unsigned long error)
{
	ECALL(fake_vcpu(0), SBI_EXT_DBTR, fid, a0_, a1_, a2_);
	assert_returned(0, error);
}

static void test_dbtr_no_triggers(void **state)
{
	static const unsigned long tdata1[] = {0, 1, 2UL << 60, 6UL << 60, ~0UL};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(tdata1); i++) {
		ECALL(fake_vcpu(0), SBI_EXT_DBTR, DBTR_NUM_TRIGGERS, tdata1[i], A1_MARK);
		assert_returned(0, 0);
		assert_int_equal(a1(0), 0); /* trig_max = 0: M-mode owns the triggers */
	}
	/* No shared memory yet. */
	dbtr(DBTR_READ, 0, 1, 0, ERR_NO_SHMEM);
	dbtr(DBTR_INSTALL, 1, 0, 0, ERR_NO_SHMEM);
	dbtr(DBTR_UPDATE, 1, 0, 0, ERR_NO_SHMEM);
	assert_int_equal(a1(0), 0);
	/* Sets of triggers: an empty one is fine, any index is past trig_max. */
	for (unsigned long fid = DBTR_UNINSTALL; fid <= DBTR_DISABLE; fid++) {
		dbtr(fid, 0, 0, 0, 0);
		dbtr(fid, 5, 0, 0, 0);
		dbtr(fid, 0, 1, 0, ERR_INVALID_PARAM);
		dbtr(fid, 3, 1UL << 63, 0, ERR_INVALID_PARAM);
	}
}

static void test_dbtr_shmem(void **state)
{
	(void)state;
	dbtr(DBTR_SET_SHMEM, FAKE_RAM_BASE, 0, 1, ERR_INVALID_PARAM);	  /* flags */
	dbtr(DBTR_SET_SHMEM, SHMEM_OFF, SHMEM_OFF, 1, ERR_INVALID_PARAM); /* flags */
	dbtr(DBTR_SET_SHMEM, FAKE_RAM_BASE + 4, 0, 0, ERR_INVALID_PARAM); /* XLEN/8 aligned */
	dbtr(DBTR_SET_SHMEM, BAD_ADDR, 0, 0, ERR_INVALID_ADDRESS);
	dbtr(DBTR_SET_SHMEM, RAM_END, 0, 0, ERR_INVALID_ADDRESS);
	dbtr(DBTR_SET_SHMEM, FAKE_RAM_BASE, 1, 0, ERR_INVALID_ADDRESS);
	dbtr(DBTR_READ, 0, 0, 0, ERR_NO_SHMEM); /* none of those set it */
	dbtr(DBTR_SET_SHMEM, FAKE_RAM_BASE + 0x600, 0, 0, 0);
	/* With the shared memory: every index is out of range. */
	dbtr(DBTR_READ, 0, 0, 0, ERR_BAD_RANGE);
	dbtr(DBTR_READ, 0, 1, 0, ERR_BAD_RANGE);
	dbtr(DBTR_INSTALL, 0, 0, 0, ERR_BAD_RANGE);
	dbtr(DBTR_INSTALL, 1, 0, 0, ERR_BAD_RANGE);
	dbtr(DBTR_UPDATE, 1, 0, 0, ERR_BAD_RANGE);
	assert_int_equal(a1(0), 0);
	/* Other vCPUs have their own shared memory. */
	ECALL(fake_vcpu(1), SBI_EXT_DBTR, DBTR_READ, 0, 1);
	assert_returned(1, ERR_NO_SHMEM);
	/* Disabled again, and by a hart reset. */
	dbtr(DBTR_SET_SHMEM, SHMEM_OFF, SHMEM_OFF, 0, 0);
	dbtr(DBTR_INSTALL, 1, 0, 0, ERR_NO_SHMEM);
	dbtr(DBTR_SET_SHMEM, RAM_END - 8, 0, 0, 0);
	sbi_vcpu_hart_reset(fake_vcpu(0));
	dbtr(DBTR_UPDATE, 1, 0, 0, ERR_NO_SHMEM);
}

/* ---------------------------------------------------------------- PMU */

#define EV_CYCLES	     0x00001UL
#define EV_INSTRUCTIONS	     0x00002UL
#define EV_FW(code)	     (0xf0000UL | (code))
#define ALL_COUNTERS	     0x1ffUL
#define CFG_SKIP_MATCH	     1UL
#define CFG_CLEAR_VALUE	     2UL
#define CFG_AUTO_START	     4UL
#define START_INIT	     1UL
#define STOP_RESET	     1UL
#define INSN_CSRR_A0_CYCLE   0xc0002573u /* csrrs a0, cycle, zero */
#define INSN_CSRR_A5_INSTRET 0xc02027f3u /* csrrs a5, instret, zero */

static unsigned long pmu(unsigned id, unsigned long fid, unsigned long a0_, unsigned long a1_,
			 unsigned long a2_, unsigned long a3_, unsigned long a4_)
{
	ECALL(fake_vcpu(id), SBI_EXT_PMU, fid, a0_, a1_, a2_, a3_, a4_);
	return a0(id);
}

/* counter_config_matching on vCPU 0 over every counter; the counter index or -1. */
static long pmu_match(unsigned long flags, unsigned long event, unsigned long data)
{
	if (pmu(0, PMU_CFG_MATCH, 0, ALL_COUNTERS, flags, event, data) != 0)
		return -1;
	return (long)a1(0);
}

static unsigned long fw_read(unsigned id, unsigned long idx)
{
	assert_int_equal(pmu(id, PMU_FW_READ, idx, 0, 0, 0, 0), 0);
	return a1(id);
}

static void test_pmu_counters(void **state)
{
	(void)state;
	ECALL(fake_vcpu(0), SBI_EXT_PMU, PMU_NUM_COUNTERS, 0, A1_MARK);
	assert_returned(0, 0);
	assert_int_equal(a1(0), 9);
	/* 0 and 2: the cycle and instret CSRs, 64 bits wide (width field = bits - 1). */
	assert_int_equal(pmu(0, PMU_GET_INFO, 0, 0, 0, 0, 0), 0);
	assert_int_equal(a1(0), 0xc00UL | 63UL << 12);
	assert_int_equal(pmu(0, PMU_GET_INFO, 2, 0, 0, 0, 0), 0);
	assert_int_equal(a1(0), 0xc02UL | 63UL << 12);
	/* The others: firmware counters (type bit XLEN-1). */
	for (unsigned long idx = 1; idx < 9; idx += idx == 1 ? 2 : 1) {
		assert_int_equal(pmu(0, PMU_GET_INFO, idx, 0, 0, 0, 0), 0);
		assert_int_equal(a1(0), 1UL << 63 | 63UL << 12);
	}
	assert_int_equal(pmu(0, PMU_GET_INFO, 9, 0, 0, 0, 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_GET_INFO, -1UL, 0, 0, 0, 0), ERR_INVALID_PARAM);
	/* Snapshots are an optional part Vireo does not offer. */
	assert_int_equal(pmu(0, PMU_SNAPSHOT_SET_SHMEM, FAKE_RAM_BASE, 0, 0, 0, 0),
			 ERR_NOT_SUPPORTED);
}

static void test_pmu_config_matching(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	cpu_features.pmu_cycle = cpu_features.pmu_instret = true;
	/* Firmware events go to the first free firmware counter, in index order. */
	assert_int_equal(pmu_match(0, EV_FW(SBI_PMU_FW_SET_TIMER), 0), 1);
	assert_int_equal(pmu_match(0, EV_FW(SBI_PMU_FW_SET_TIMER), 0), 3);
	assert_int_equal(pmu_match(0, EV_FW(SBI_PMU_FW_IPI_SENT), 0), 4);
	/* The fixed events to their counters; reads of those CSRs now trap to Vireo. */
	assert_int_equal(pmu_match(0, EV_CYCLES, 0), 0);
	assert_int_equal(v->arch.hcfg.hcounteren, 0x6);
	assert_int_equal(pmu_match(0, EV_INSTRUCTIONS, 0), 2);
	assert_int_equal(v->arch.hcfg.hcounteren, 0x2);	  /* time stays direct */
	assert_int_equal(pmu_match(0, EV_CYCLES, 0), -1); /* the only one is taken */
	assert_int_equal(a0(0), ERR_NOT_SUPPORTED);
	/* What nothing here counts. */
	static const unsigned long none[] = {
	    0x00003,			       /* cache references */
	    0x0000a,			       /* ref cycles */
	    0x10000,			       /* a cache event */
	    0x20000,			       /* raw (deprecated) */
	    0x30000,			       /* raw v2 */
	    EV_FW(SBI_PMU_FW_MISALIGNED_LOAD), /* delegated to the guest */
	    EV_FW(SBI_PMU_FW_MISALIGNED_STORE),
	    EV_FW(SBI_PMU_FW_SFENCE_VMA_ASID_RECEIVED + 1), /* HFENCE.GVMA sent */
	    EV_FW(21),
	    EV_FW(22),				    /* reserved */
	    EV_FW(256),				    /* implementation-specific */
	    EV_FW(0xffff),			    /* platform */
	    0x100000 | EV_FW(SBI_PMU_FW_SET_TIMER), /* bits above 19 */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(none); i++)
		assert_int_equal(pmu_match(0, none[i], 0), -1);
	/* event_data must be 0 for these events. */
	assert_int_equal(pmu_match(0, EV_FW(SBI_PMU_FW_SET_TIMER), 1), -1);
	assert_int_equal(a0(0), ERR_NOT_SUPPORTED);
	/* Bad sets and flags. */
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 9, 1, 0, EV_FW(5), 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 8, 3, 0, EV_FW(5), 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_CFG_MATCH, -1UL, 2, 0, EV_FW(5), 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 0, 1UL << 63, 0, EV_FW(5), 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 0, ALL_COUNTERS, 1UL << 8, EV_FW(5), 0),
			 ERR_INVALID_PARAM);
	/* An empty set: no counter can count it. */
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 0, 0, 0, EV_FW(5), 0), ERR_NOT_SUPPORTED);
	/* Filter hints (bits 3..7) are accepted and ignored. */
	assert_int_equal(pmu_match(0xf8, EV_FW(SBI_PMU_FW_FENCE_I_SENT), 0), 5);
}

static void test_pmu_skip_match_and_flags(void **state)
{
	(void)state;
	cpu_features.pmu_cycle = true;
	/* SKIP_MATCH: the first counter of the set, if it can count the event. */
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 0, 1, CFG_SKIP_MATCH, EV_CYCLES, 0), 0);
	assert_int_equal(a1(0), 0);
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 0, 1, CFG_SKIP_MATCH, EV_CYCLES, 0), 0); /* again */
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 1, 1, CFG_SKIP_MATCH, EV_CYCLES, 0),
			 ERR_NOT_SUPPORTED);
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 2, 5, CFG_SKIP_MATCH, EV_FW(5), 0),
			 ERR_NOT_SUPPORTED); /* counter 2 counts instructions only */
	/* Without Vireo being able to read cycle, no cycles. */
	cpu_features.pmu_cycle = false;
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 0, 1, CFG_SKIP_MATCH, EV_CYCLES, 0),
			 ERR_NOT_SUPPORTED);
	/* CLEAR_VALUE and AUTO_START. */
	fake_vcpu(0)->sbi.pmu.ctr[1].value = 99;
	assert_int_equal(pmu_match(CFG_CLEAR_VALUE | CFG_AUTO_START, EV_FW(5), 0), 1);
	assert_true(fake_vcpu(0)->sbi.pmu.ctr[1].started);
	assert_int_equal(fw_read(0, 1), 0);
	ECALL(fake_vcpu(0), SBI_EXT_TIME, 0, 5000);
	assert_int_equal(fw_read(0, 1), 1);
	/* A started counter is not picked, even with SKIP_MATCH. */
	assert_int_equal(pmu(0, PMU_CFG_MATCH, 1, 1, CFG_SKIP_MATCH, EV_FW(5), 0),
			 ERR_NOT_SUPPORTED);
}

static void test_pmu_firmware_counting(void **state)
{
	(void)state;
	assert_int_equal(pmu_match(0, EV_FW(SBI_PMU_FW_SET_TIMER), 0), 1);
	ECALL(fake_vcpu(0), SBI_EXT_TIME, 0, 5000); /* not started: not counted */
	assert_int_equal(fw_read(0, 1), 0);
	assert_int_equal(pmu(0, PMU_START, 1, 1, START_INIT, 100, 0), 0);
	for (unsigned i = 0; i < 3; i++)
		ECALL(fake_vcpu(0), SBI_EXT_TIME, 0, 5000);
	ECALL(fake_vcpu(0), 0x00, 0, 6000);	    /* legacy set_timer */
	ECALL(fake_vcpu(1), SBI_EXT_TIME, 0, 5000); /* another vCPU's: not ours */
	assert_int_equal(fw_read(0, 1), 104);
	assert_int_equal(pmu(0, PMU_FW_READ_HI, 1, 0, 0, 0, 0), 0); /* RV64: 0 */
	assert_int_equal(a1(0), 0);
	/* Stopped: it holds. Started again without a value: it goes on from there. */
	assert_int_equal(pmu(0, PMU_STOP, 1, 1, 0, 0, 0), 0);
	ECALL(fake_vcpu(0), SBI_EXT_TIME, 0, 5000);
	assert_int_equal(fw_read(0, 1), 104);
	assert_int_equal(pmu(0, PMU_START, 1, 1, 0, 7, 0), 0);
	ECALL(fake_vcpu(0), SBI_EXT_TIME, 0, 5000);
	assert_int_equal(fw_read(0, 1), 105);
	/* IPIs and fences: sent on the sender, received on each target. */
	assert_int_equal(pmu_match(CFG_AUTO_START, EV_FW(SBI_PMU_FW_IPI_SENT), 0), 3);
	assert_int_equal(pmu(2, PMU_CFG_MATCH, 0, ALL_COUNTERS, CFG_AUTO_START,
			     EV_FW(SBI_PMU_FW_IPI_RECEIVED), 0),
			 0);
	unsigned long rx = a1(2);
	assert_int_equal(pmu(2, PMU_CFG_MATCH, 0, ALL_COUNTERS, CFG_AUTO_START,
			     EV_FW(SBI_PMU_FW_SFENCE_VMA_ASID_RECEIVED), 0),
			 0);
	unsigned long asid_rx = a1(2);
	ECALL(fake_vcpu(0), SBI_EXT_IPI, 0, 0x6, 0);  /* harts 1 and 2 */
	ECALL(fake_vcpu(0), SBI_EXT_IPI, 0, 0, -1UL); /* all four */
	ECALL(fake_vcpu(0), SBI_EXT_RFENCE, 2, 0x4, 0, 0, -1UL, 1);
	ECALL(fake_vcpu(0), SBI_EXT_RFENCE, 1, 0x4, 0, 0, -1UL);
	assert_int_equal(fw_read(0, 3), 6);
	assert_int_equal(fw_read(2, rx), 2);
	assert_int_equal(fw_read(2, asid_rx), 1);
}

static void test_pmu_start_stop_errors(void **state)
{
	(void)state;
	assert_int_equal(pmu_match(0, EV_FW(SBI_PMU_FW_SET_TIMER), 0), 1);
	/* Counters without an event, and counters that do not exist. */
	assert_int_equal(pmu(0, PMU_START, 1, 5, 0, 0, 0), ERR_INVALID_PARAM); /* 3: nothing */
	assert_int_equal(pmu(0, PMU_START, 9, 1, 0, 0, 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_STOP, 8, 2, 0, 0, 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_START, 1, 1, 4, 0, 0), ERR_INVALID_PARAM); /* flags */
	assert_int_equal(pmu(0, PMU_STOP, 1, 1, 4, 0, 0), ERR_INVALID_PARAM);
	/* Snapshots: there is no snapshot memory. */
	assert_int_equal(pmu(0, PMU_START, 1, 1, 2, 0, 0), ERR_NO_SHMEM);
	assert_int_equal(pmu(0, PMU_STOP, 1, 1, 2, 0, 0), ERR_NO_SHMEM);
	assert_false(fake_vcpu(0)->sbi.pmu.ctr[1].started);
	/* Twice. */
	assert_int_equal(pmu(0, PMU_STOP, 1, 1, 0, 0, 0), ERR_ALREADY_STOPPED);
	assert_int_equal(pmu(0, PMU_START, 1, 1, 0, 0, 0), 0);
	assert_int_equal(pmu(0, PMU_START, 1, 1, START_INIT, 50, 0), ERR_ALREADY_STARTED);
	assert_int_equal(fw_read(0, 1), 0); /* the refused start set nothing */
	assert_int_equal(pmu(0, PMU_STOP, 1, 1, 0, 0, 0), 0);
	assert_int_equal(pmu(0, PMU_STOP, 1, 1, 0, 0, 0), ERR_ALREADY_STOPPED);
	/* RESET frees the counter, started or not (Linux probes events that way). */
	assert_int_equal(pmu(0, PMU_STOP, 1, 1, STOP_RESET, 0, 0), ERR_ALREADY_STOPPED);
	assert_int_equal(pmu(0, PMU_START, 1, 1, 0, 0, 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu_match(0, EV_FW(SBI_PMU_FW_SET_TIMER), 0), 1);
	/* fw_read(_hi) of hardware or missing counters. */
	assert_int_equal(pmu(0, PMU_FW_READ, 0, 0, 0, 0, 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_FW_READ, 2, 0, 0, 0, 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_FW_READ, 9, 0, 0, 0, 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_FW_READ_HI, 0, 0, 0, 0, 0), ERR_INVALID_PARAM);
	assert_int_equal(pmu(0, PMU_FW_READ_HI, -1UL, 0, 0, 0, 0), ERR_INVALID_PARAM);
}

static void test_pmu_hardware_counters(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	cpu_features.pmu_cycle = cpu_features.pmu_instret = true;
	/* Not configured: the guest reads the hart's counters itself; nothing to emulate. */
	assert_false(sbi_pmu_emulate_counter_read(v, INSN_CSRR_A0_CYCLE, false));
	assert_int_equal(pmu_match(0, EV_CYCLES, 0), 0);
	world.counters[0] = 50000;
	assert_int_equal(pmu(0, PMU_START, 0, 1, START_INIT, 1000, 0), 0);
	world.counters[0] = 50500;
	v->arch.gprs.sepc = SEPC;
	assert_true(sbi_pmu_emulate_counter_read(v, INSN_CSRR_A0_CYCLE, false));
	assert_int_equal(a0(0), 1500);
	assert_int_equal(sepc(0), SEPC + 4);
	/* Only while it is on a hart: what other vCPUs ran meanwhile is not counted. */
	world.counters[0] = 51000;
	sbi_vcpu_sched_out(v);
	world.counters[0] = 10; /* another hart, another counter */
	sbi_vcpu_sched_in(v);
	world.counters[0] = 110;
	assert_true(sbi_pmu_emulate_counter_read(v, INSN_CSRR_A0_CYCLE, false));
	assert_int_equal(a0(0), 2100);
	/* Stopped: it holds still. */
	assert_int_equal(pmu(0, PMU_STOP, 0, 1, 0, 0, 0), 0);
	world.counters[0] = 9999;
	assert_true(sbi_pmu_emulate_counter_read(v, INSN_CSRR_A0_CYCLE, false));
	assert_int_equal(a0(0), 2100);
	/* From user mode only if the guest's own scounteren allows it. */
	assert_false(sbi_pmu_emulate_counter_read(v, INSN_CSRR_A0_CYCLE, true));
	world.scounteren = 1;
	assert_true(sbi_pmu_emulate_counter_read(v, INSN_CSRR_A0_CYCLE, true));
	/* Other encodings of a read: csrrc rd, cycle, x0; csrrsi/csrrci with 0. */
	assert_true(sbi_pmu_emulate_counter_read(v, 0xc0003573u, false));
	assert_true(sbi_pmu_emulate_counter_read(v, 0xc0006573u, false));
	assert_true(sbi_pmu_emulate_counter_read(v, 0xc0007573u, false));
	/* Not reads: writes, a non-zero rs1/uimm, other CSRs; and a read into x0. */
	assert_false(sbi_pmu_emulate_counter_read(v, 0xc0001573u, false));	    /* csrrw */
	assert_false(sbi_pmu_emulate_counter_read(v, 0xc0005573u, false));	    /* csrrwi */
	assert_false(sbi_pmu_emulate_counter_read(v, 0xc000a573u, false));	    /* rs1 = x1 */
	assert_false(sbi_pmu_emulate_counter_read(v, 0xc0106573u, false));	    /* time */
	assert_false(sbi_pmu_emulate_counter_read(v, 0xc8002573u, false));	    /* cycleh */
	assert_false(sbi_pmu_emulate_counter_read(v, 0x10500073u, false));	    /* wfi */
	assert_false(sbi_pmu_emulate_counter_read(v, INSN_CSRR_A5_INSTRET, false)); /* not ours */
	v->arch.gprs.sepc = SEPC;
	assert_true(sbi_pmu_emulate_counter_read(v, 0xc0002073u, false)); /* csrr zero, cycle */
	assert_int_equal(v->arch.gprs.x[0], 0);
	/* instret too. */
	assert_int_equal(pmu_match(CFG_AUTO_START, EV_INSTRUCTIONS, 0), 2);
	world.counters[2] = 7;
	assert_true(sbi_pmu_emulate_counter_read(v, INSN_CSRR_A5_INSTRET, false));
	assert_int_equal(v->arch.gprs.x[15], 7);
	/* A non-retentive resume resets hcounteren: the reads must trap again. */
	v->arch.hcfg.hcounteren = 0x7;
	sbi_vcpu_resumed(v);
	assert_int_equal(v->arch.hcfg.hcounteren, 0x2);
	/* RESET gives the guest its direct reads back; a hart reset forgets it all. */
	assert_int_equal(pmu(0, PMU_STOP, 0, 1, STOP_RESET, 0, 0), ERR_ALREADY_STOPPED);
	assert_int_equal(v->arch.hcfg.hcounteren, 0x3);
	sbi_vcpu_hart_reset(v);
	assert_int_equal(v->sbi.pmu.ctr[2].event_idx, 0);
	assert_false(v->sbi.pmu.ctr[2].started);
}

#define EVINFO 0x700UL /* 16-byte aligned event-info entries in the fake RAM */

static void put_event(unsigned i, uint32_t idx, uint32_t output, uint64_t data)
{
	memcpy(fake_ram + EVINFO + 16 * i, &idx, 4);
	memcpy(fake_ram + EVINFO + 16 * i + 4, &output, 4);
	memcpy(fake_ram + EVINFO + 16 * i + 8, &data, 8);
}

static uint32_t event_output(unsigned i)
{
	uint32_t out;

	memcpy(&out, fake_ram + EVINFO + 16 * i + 4, 4);
	return out;
}

static void test_pmu_event_get_info(void **state)
{
	(void)state;
	cpu_features.pmu_cycle = true;
	put_event(0, EV_CYCLES, 0xdead, 0);
	put_event(1, EV_INSTRUCTIONS, 0xdead, 0); /* HS cannot read instret here */
	put_event(2, EV_FW(SBI_PMU_FW_SET_TIMER), 0xdead, 0);
	put_event(3, EV_FW(SBI_PMU_FW_SET_TIMER), 0xdead, 5); /* event_data must be 0 */
	put_event(4, 0x10000, 0xdead, 0);
	put_event(5, EV_CYCLES, 0xdead, 5); /* no event_data for hardware events: ignored */
	put_event(6, EV_FW(SBI_PMU_FW_MISALIGNED_LOAD), 0xdead, 0);
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, FAKE_RAM_BASE + EVINFO, 0, 7, 0, 0), 0);
	static const uint32_t want[] = {1, 0, 1, 0, 0, 1, 0};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		assert_int_equal(event_output(i), want[i]);
	/* Errors, and nothing written with them. */
	put_event(0, EV_CYCLES, 0xdead, 0);
	put_event(1, 0x100000 | EV_CYCLES, 0xdead, 0); /* reserved bits of event_idx */
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, FAKE_RAM_BASE + EVINFO, 0, 2, 0, 0),
			 ERR_INVALID_PARAM);
	assert_int_equal(event_output(0), 0xdead);
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, FAKE_RAM_BASE + EVINFO, 0, 1, 1, 0),
			 ERR_INVALID_PARAM); /* flags */
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, FAKE_RAM_BASE + EVINFO + 8, 0, 1, 0, 0),
			 ERR_INVALID_PARAM); /* 16-byte alignment */
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, FAKE_RAM_BASE + EVINFO, 1, 1, 0, 0),
			 ERR_INVALID_ADDRESS);
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, BAD_ADDR, 0, 1, 0, 0), ERR_INVALID_ADDRESS);
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, RAM_END - 16, 0, 2, 0, 0), ERR_INVALID_ADDRESS);
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, FAKE_RAM_BASE, 0, 1UL << 60, 0, 0),
			 ERR_INVALID_ADDRESS); /* 16 * n wraps around */
	assert_int_equal(event_output(0), 0xdead);
	/* No entries: nothing to do. */
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, BAD_ADDR, 0, 0, 0, 0), 0);
}

/* More than Vireo's limit of 65536 entries (1 MiB) in RAM: FAILED, nothing written. */
static void test_pmu_event_get_info_limit(void **state)
{
	static uint8_t big_ram[(65536 + 1) * 16] __attribute__((aligned(16)));
	uint32_t out;

	(void)state;
	memset(&fake_vm.mem, 0, sizeof(fake_vm.mem));
	guest_mem_add_run(&fake_vm.mem, FAKE_RAM_BASE, sizeof(big_ram), big_ram);
	memset(big_ram, 0, sizeof(big_ram));
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, FAKE_RAM_BASE, 0, 65537, 0, 0), ERR_FAILED);
	memcpy(&out, big_ram + 4, 4);
	assert_int_equal(out, 0);
	memset(big_ram + 4, 0xff, 4);
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, FAKE_RAM_BASE, 0, 65536, 0, 0), 0);
	memcpy(&out, big_ram + 4, 4);
	assert_int_equal(out, 0); /* event 0 exists in no table: not supported, but written */
}

/* ---------------------------------------------------------------- SSE */

#define EV_LOCAL    0xffff0000UL
#define EV_GLOBAL   0xffff8000UL
#define HANDLER	    0x80002000UL
#define HANDLER_ARG 0xabcUL
#define ATTRS	    0x800UL /* the attribute buffer in the fake RAM */
#define GUEST_VSEPC 0x80004440UL
#define A6_MARK	    0x6666UL
#define A7_MARK	    0x7777UL
enum {
	A_STATUS,
	A_PRIO,
	A_CONFIG,
	A_PREF_HART,
	A_ENTRY_PC,
	A_ENTRY_ARG,
	A_INT_SEPC,
	A_INT_FLAGS,
	A_INT_A6,
	A_INT_A7
};

static unsigned long sse(unsigned id, unsigned long fid, unsigned long a0_, unsigned long a1_,
			 unsigned long a2_)
{
	ECALL(fake_vcpu(id), SBI_EXT_SSE, fid, a0_, a1_, a2_);
	return a0(id);
}

static unsigned long sse_attr(unsigned id, unsigned long event, unsigned attr)
{
	unsigned long v;

	ECALL(fake_vcpu(id), SBI_EXT_SSE, SSE_READ_ATTRS, event, attr, 1, FAKE_RAM_BASE + ATTRS);
	assert_int_equal(a0(id), 0);
	memcpy(&v, fake_ram + ATTRS, sizeof(v));
	return v;
}

static unsigned long sse_set_attr(unsigned id, unsigned long event, unsigned attr,
				  unsigned long value)
{
	memcpy(fake_ram + ATTRS, &value, sizeof(value));
	ECALL(fake_vcpu(id), SBI_EXT_SSE, SSE_WRITE_ATTRS, event, attr, 1, FAKE_RAM_BASE + ATTRS);
	return a0(id);
}

/* What core/vcpu.c does on the vCPU's way into the guest. */
static bool enter_guest(unsigned id)
{
	struct vcpu *v = fake_vcpu(id);
	unsigned before = fake.sse_enters;

	if (v->requests & VCPU_REQ_SSE) {
		v->requests &= ~VCPU_REQ_SSE;
		sbi_sse_deliver(v);
	}
	return fake.sse_enters != before;
}

/* vCPU id running guest code at pc with interrupts on and its own sepc, a6, a7. */
static void guest_at(unsigned id, unsigned long pc)
{
	struct vcpu_arch *a = &fake_vcpu(id)->arch;

	a->gprs.sepc = pc;
	a->vs.vsepc = GUEST_VSEPC;
	a->vs.vsstatus = FAKE_SSTATUS_SIE | FAKE_SSTATUS_SPIE;
	a->gprs.x[REG_A6] = A6_MARK;
	a->gprs.x[REG_A7] = A7_MARK;
}

static void ready_event(unsigned id, unsigned long event)
{
	assert_int_equal(sse(id, SSE_REGISTER, event, HANDLER, HANDLER_ARG), 0);
	assert_int_equal(sse(id, SSE_ENABLE, event, 0, 0), 0);
}

static void test_sse_event_ids(void **state)
{
	static const struct {
		unsigned long id, error;
	} bad[] = {
	    {0x00000000, ERR_NOT_SUPPORTED}, /* RAS, double trap, PMU overflow: no source */
	    {0x00000001, ERR_NOT_SUPPORTED}, {0x00008000, ERR_NOT_SUPPORTED},
	    {0x00010000, ERR_NOT_SUPPORTED}, {0x00100000, ERR_NOT_SUPPORTED},
	    {0x00108000, ERR_NOT_SUPPORTED}, {0x00000002, ERR_INVALID_PARAM}, /* reserved */
	    {0x00004000, ERR_INVALID_PARAM},				      /* platform */
	    {0x0000c000, ERR_INVALID_PARAM}, {0xffff0001, ERR_INVALID_PARAM},
	    {0xffff4000, ERR_INVALID_PARAM}, {0xffff8001, ERR_INVALID_PARAM},
	    {0xffffc000, ERR_INVALID_PARAM}, {0x12345678, ERR_INVALID_PARAM},
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		for (unsigned long fid = SSE_READ_ATTRS; fid <= SSE_INJECT; fid++) {
			if (fid == SSE_COMPLETE)
				continue;
			ECALL(fake_vcpu(0), SBI_EXT_SSE, fid, bad[i].id, fid <= 1 ? 0 : HANDLER, 1,
			      FAKE_RAM_BASE + ATTRS, 0);
			assert_returned(0, bad[i].error);
		}
	}
	/* event_id is 32 bits. */
	assert_int_equal(sse(0, SSE_REGISTER, 1UL << 32 | EV_LOCAL, HANDLER, 0), 0);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_STATUS), 0x9); /* REGISTERED, injectable */
}

static void test_sse_states(void **state)
{
	(void)state;
	for (unsigned long ev = EV_LOCAL; ev <= EV_GLOBAL; ev += EV_GLOBAL - EV_LOCAL) {
		assert_int_equal(sse_attr(1, ev, A_STATUS), 0x8); /* UNUSED, injectable */
		assert_int_equal(sse(1, SSE_UNREGISTER, ev, 0, 0), ERR_INVALID_STATE);
		assert_int_equal(sse(1, SSE_ENABLE, ev, 0, 0), ERR_INVALID_STATE);
		assert_int_equal(sse(1, SSE_DISABLE, ev, 0, 0), ERR_INVALID_STATE);
		assert_int_equal(sse(1, SSE_REGISTER, ev, HANDLER + 1, 0), ERR_INVALID_PARAM);
		assert_int_equal(sse(1, SSE_REGISTER, ev, HANDLER + 2, 42), 0); /* 2-byte aligned */
		assert_int_equal(sse_attr(1, ev, A_ENTRY_PC), HANDLER + 2);
		assert_int_equal(sse_attr(1, ev, A_ENTRY_ARG), 42);
		assert_int_equal(sse(1, SSE_REGISTER, ev, HANDLER, 0), ERR_INVALID_STATE);
		assert_int_equal(sse(1, SSE_DISABLE, ev, 0, 0), ERR_INVALID_STATE);
		assert_int_equal(sse(1, SSE_ENABLE, ev, 0, 0), 0);
		assert_int_equal(sse_attr(1, ev, A_STATUS), 0xa); /* ENABLED */
		assert_int_equal(sse(1, SSE_ENABLE, ev, 0, 0), ERR_INVALID_STATE);
		assert_int_equal(sse(1, SSE_UNREGISTER, ev, 0, 0), ERR_INVALID_STATE);
		assert_int_equal(sse(1, SSE_DISABLE, ev, 0, 0), 0);
		assert_int_equal(sse(1, SSE_UNREGISTER, ev, 0, 0), 0);
		assert_int_equal(sse_attr(1, ev, A_STATUS), 0x8);
	}
	/* The local event is per hart: vCPU 2's is its own; the global one is shared. */
	assert_int_equal(sse(1, SSE_REGISTER, EV_LOCAL, HANDLER, 0), 0);
	assert_int_equal(sse_attr(2, EV_LOCAL, A_STATUS), 0x8);
	assert_int_equal(sse(1, SSE_REGISTER, EV_GLOBAL, HANDLER, 0), 0);
	assert_int_equal(sse_attr(2, EV_GLOBAL, A_STATUS), 0x9);
	/* Mask and unmask: masked at start. */
	assert_int_equal(sse(1, SSE_HART_MASK, 0, 0, 0), ERR_ALREADY_STOPPED);
	assert_int_equal(sse(1, SSE_HART_UNMASK, 0, 0, 0), 0);
	assert_int_equal(sse(1, SSE_HART_UNMASK, 0, 0, 0), ERR_ALREADY_STARTED);
	assert_int_equal(sse(1, SSE_HART_MASK, 0, 0, 0), 0);
	assert_int_equal(sse(1, SSE_HART_MASK, 0, 0, 0), ERR_ALREADY_STOPPED);
	assert_false(fake_vm.sbi.sse_lock.locked);
}

static void test_sse_attributes(void **state)
{
	unsigned long values[10];

	(void)state;
	assert_int_equal(sse(3, SSE_REGISTER, EV_LOCAL, HANDLER, HANDLER_ARG), 0);
	/* All ten at once, at offsets 8 * i. */
	ECALL(fake_vcpu(3), SBI_EXT_SSE, SSE_READ_ATTRS, EV_LOCAL, 0, 10, FAKE_RAM_BASE + ATTRS);
	assert_returned(3, 0);
	memcpy(values, fake_ram + ATTRS, sizeof(values));
	assert_int_equal(values[A_STATUS], 0x9);
	assert_int_equal(values[A_PRIO], 0);
	assert_int_equal(values[A_CONFIG], 0);
	assert_int_equal(values[A_PREF_HART], 3); /* a local event's: its own hart */
	assert_int_equal(values[A_ENTRY_PC], HANDLER);
	assert_int_equal(values[A_ENTRY_ARG], HANDLER_ARG);
	/* A range in the middle lands at the start of the buffer. */
	ECALL(fake_vcpu(3), SBI_EXT_SSE, SSE_READ_ATTRS, EV_LOCAL, 4, 2, FAKE_RAM_BASE + ATTRS);
	memcpy(values, fake_ram + ATTRS, 2 * sizeof(values[0]));
	assert_int_equal(values[0], HANDLER);
	assert_int_equal(values[1], HANDLER_ARG);
	/* Range and buffer errors, for both functions. */
	for (unsigned long fid = SSE_READ_ATTRS; fid <= SSE_WRITE_ATTRS; fid++) {
		static const struct {
			unsigned long base, count, lo, hi, error;
		} bad[] = {
		    {0, 0, FAKE_RAM_BASE + ATTRS, 0, ERR_INVALID_PARAM},
		    {9, 2, FAKE_RAM_BASE + ATTRS, 0, ERR_BAD_RANGE},
		    {10, 1, FAKE_RAM_BASE + ATTRS, 0, ERR_BAD_RANGE},
		    {0xffffffff, 1, FAKE_RAM_BASE + ATTRS, 0, ERR_BAD_RANGE},
		    {1, 0xffffffff, FAKE_RAM_BASE + ATTRS, 0, ERR_BAD_RANGE},
		    {0, 1, FAKE_RAM_BASE + ATTRS + 4, 0, ERR_INVALID_ADDRESS},
		    {0, 1, BAD_ADDR, 0, ERR_INVALID_ADDRESS},
		    {0, 2, RAM_END - 8, 0, ERR_INVALID_ADDRESS},
		    {0, 1, FAKE_RAM_BASE, 1, ERR_INVALID_ADDRESS},
		};
		for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
			ECALL(fake_vcpu(3), SBI_EXT_SSE, fid, EV_LOCAL, bad[i].base, bad[i].count,
			      bad[i].lo, bad[i].hi);
			assert_returned(3, bad[i].error);
		}
	}
	/* Writes: read-only attributes, illegal values, states. */
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_STATUS, 0), ERR_DENIED);
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_ENTRY_PC, HANDLER), ERR_DENIED);
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_ENTRY_ARG, 1), ERR_DENIED);
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_PREF_HART, 3), ERR_DENIED); /* local: RO */
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_PRIO, 1UL << 32), ERR_INVALID_PARAM);
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_CONFIG, 2), ERR_INVALID_PARAM);
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_PRIO, 0xffffffff), 0);
	assert_int_equal(sse_attr(3, EV_LOCAL, A_PRIO), 0xffffffff);
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_CONFIG, 1), 0);
	for (unsigned attr = A_INT_SEPC; attr <= A_INT_A7; attr++) /* only while RUNNING */
		assert_int_equal(sse_set_attr(3, EV_LOCAL, attr, 0), ERR_INVALID_STATE);
	assert_int_equal(sse_set_attr(3, EV_GLOBAL, A_PREF_HART, NVCPUS), ERR_INVALID_PARAM);
	assert_int_equal(sse_set_attr(3, EV_GLOBAL, A_PREF_HART, 2), 0); /* UNUSED is fine */
	assert_int_equal(sse_attr(0, EV_GLOBAL, A_PREF_HART), 2);
	/* Several at once: checked first, all or nothing, the first error in id order. */
	values[0] = 7; /* PRIORITY */
	values[1] = 4; /* CONFIG: reserved bit */
	values[2] = 0; /* PREFERRED_HART: read-only here */
	memcpy(fake_ram + ATTRS, values, 3 * sizeof(values[0]));
	ECALL(fake_vcpu(3), SBI_EXT_SSE, SSE_WRITE_ATTRS, EV_LOCAL, 1, 3, FAKE_RAM_BASE + ATTRS);
	assert_returned(3, ERR_INVALID_PARAM);
	assert_int_equal(sse_attr(3, EV_LOCAL, A_PRIO), 0xffffffff);
	values[1] = 0;
	memcpy(fake_ram + ATTRS, values, 3 * sizeof(values[0]));
	ECALL(fake_vcpu(3), SBI_EXT_SSE, SSE_WRITE_ATTRS, EV_LOCAL, 1, 3, FAKE_RAM_BASE + ATTRS);
	assert_returned(3, ERR_DENIED);
	ECALL(fake_vcpu(3), SBI_EXT_SSE, SSE_WRITE_ATTRS, EV_LOCAL, 1, 2, FAKE_RAM_BASE + ATTRS);
	assert_returned(3, 0);
	assert_int_equal(sse_attr(3, EV_LOCAL, A_PRIO), 7);
	assert_int_equal(sse_attr(3, EV_LOCAL, A_CONFIG), 0);
	/* Once enabled, priority and config are fixed. */
	assert_int_equal(sse(3, SSE_ENABLE, EV_LOCAL, 0, 0), 0);
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_PRIO, 1), ERR_INVALID_STATE);
	assert_int_equal(sse_set_attr(3, EV_LOCAL, A_CONFIG, 1), ERR_INVALID_STATE);
	assert_int_equal(sse(3, SSE_REGISTER, EV_GLOBAL, HANDLER, 0), 0);
	assert_int_equal(sse(3, SSE_ENABLE, EV_GLOBAL, 0, 0), 0);
	assert_int_equal(sse_set_attr(3, EV_GLOBAL, A_PREF_HART, 1), ERR_INVALID_STATE);
}

static void test_sse_inject_and_complete(void **state)
{
	struct vcpu *v = fake_vcpu(0);
	unsigned long *x = v->arch.gprs.x;

	(void)state;
	ready_event(0, EV_LOCAL);
	/* Masked: the event stays pending. */
	assert_int_equal(sse(0, SSE_INJECT, EV_LOCAL, 0, 0), 0);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_STATUS), 0xe); /* ENABLED, pending */
	guest_at(0, 0x80003000);
	assert_false(enter_guest(0));
	/* Unmasking lets it run on the way back into the guest, right after the ecall. */
	assert_int_equal(sse(0, SSE_HART_UNMASK, 0, 0, 0), 0);
	x[REG_A6] = A6_MARK;
	x[REG_A7] = A7_MARK;
	v->arch.vs.vsepc = GUEST_VSEPC;
	v->arch.vs.vsstatus = FAKE_SSTATUS_SIE | FAKE_SSTATUS_SPIE;
	assert_true(enter_guest(0));
	assert_int_equal(sepc(0), HANDLER);
	assert_int_equal(x[REG_A6], 0); /* the hart id */
	assert_int_equal(x[REG_A7], HANDLER_ARG);
	assert_int_equal(v->arch.vs.vsepc, SEPC + 4); /* the interrupted pc */
	assert_int_equal(v->arch.vs.vsstatus, FAKE_SSTATUS_SPP | FAKE_SSTATUS_SPIE); /* SIE 0 */
	assert_int_equal(sse_attr(0, EV_LOCAL, A_STATUS), 0x0b); /* RUNNING, not pending */
	assert_int_equal(sse_attr(0, EV_LOCAL, A_INT_SEPC), GUEST_VSEPC);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_INT_FLAGS), VCPU_SSE_FLAG_SPIE);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_INT_A6), A6_MARK);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_INT_A7), A7_MARK);
	/* The handler may change where and how the interrupted context resumes. */
	assert_int_equal(sse_set_attr(0, EV_LOCAL, A_INT_A7, 0x77), 0);
	assert_int_equal(sse_set_attr(0, EV_LOCAL, A_INT_FLAGS, 4), ERR_INVALID_PARAM); /* SPV */
	assert_int_equal(sse(0, SSE_DISABLE, EV_LOCAL, 0, 0), ERR_INVALID_STATE);
	/* complete: back to the interrupted context, which gets no return values. */
	x[REG_A0] = 0xa0;
	x[REG_A1] = 0xa1;
	v->arch.gprs.sepc = HANDLER + 0x40;
	x[REG_A7] = SBI_EXT_SSE;
	x[REG_A6] = SSE_COMPLETE;
	assert_int_equal(sbi_handle_ecall(v), VCPU_CONTINUE);
	assert_int_equal(sepc(0), SEPC + 4);
	assert_int_equal(x[REG_A0], 0xa0);
	assert_int_equal(x[REG_A1], 0xa1);
	assert_int_equal(x[REG_A6], A6_MARK);
	assert_int_equal(x[REG_A7], 0x77);
	assert_int_equal(v->arch.vs.vsepc, GUEST_VSEPC);
	assert_int_equal(v->arch.vs.vsstatus, FAKE_SSTATUS_SIE | FAKE_SSTATUS_SPIE);
	assert_true(v->arch.gprs.sstatus & FAKE_SSTATUS_SPP); /* back in VS-mode */
	assert_int_equal(sse_attr(0, EV_LOCAL, A_STATUS), 0xa);
	/* Nothing running: complete just returns SUCCESS. */
	assert_int_equal(sse(0, SSE_COMPLETE, 0, 0, 0), 0);
	assert_int_equal(sepc(0), SEPC + 4);
	assert_int_equal(fake.sse_resumes, 1);
}

static void test_sse_interrupted_user_mode(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	ready_event(0, EV_LOCAL);
	assert_int_equal(sse(0, SSE_HART_UNMASK, 0, 0, 0), 0);
	assert_int_equal(sse(0, SSE_INJECT, EV_LOCAL, 0, 0), 0);
	/* The guest was in VU-mode (an interrupt-style delivery while it ran user code). */
	guest_at(0, 0x10000);
	v->arch.gprs.hstatus &= ~FAKE_HSTATUS_SPVP;
	v->arch.gprs.sstatus &= ~FAKE_SSTATUS_SPP;
	v->arch.vs.vsstatus = FAKE_SSTATUS_SPP; /* its SPP from an older trap, SIE off */
	assert_true(enter_guest(0));
	assert_int_equal(v->arch.vs.vsstatus & FAKE_SSTATUS_SPP, 0); /* interrupted: user */
	assert_true(v->arch.gprs.hstatus & FAKE_HSTATUS_SPVP);	     /* handler: VS-mode */
	assert_int_equal(sse_attr(0, EV_LOCAL, A_INT_FLAGS), VCPU_SSE_FLAG_SPP);
	assert_int_equal(sse(0, SSE_COMPLETE, 0, 0, 0), 0); /* not returned: a0 as it was */
	assert_int_equal(sepc(0), 0x10000);
	assert_false(v->arch.gprs.hstatus & FAKE_HSTATUS_SPVP); /* back in VU-mode */
	assert_int_equal(v->arch.vs.vsstatus, FAKE_SSTATUS_SPP);
}

static void test_sse_priorities(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	assert_int_equal(sse_set_attr(0, EV_LOCAL, A_PRIO, 5), 0);
	assert_int_equal(sse_set_attr(0, EV_GLOBAL, A_PRIO, 1), 0);
	ready_event(0, EV_LOCAL);
	assert_int_equal(sse(0, SSE_REGISTER, EV_GLOBAL, HANDLER + 0x100, 0x99), 0);
	assert_int_equal(sse(0, SSE_ENABLE, EV_GLOBAL, 0, 0), 0);
	assert_int_equal(sse(0, SSE_INJECT, EV_LOCAL, 0, 0), 0);
	assert_int_equal(sse(0, SSE_INJECT, EV_GLOBAL, 12345, 0), 0); /* hart_id ignored */
	assert_int_equal(sse(0, SSE_HART_UNMASK, 0, 0, 0), 0);
	/* Both pending: the global one has the higher priority (lower value). */
	guest_at(0, 0x80003000);
	assert_true(enter_guest(0));
	assert_int_equal(sepc(0), HANDLER + 0x100);
	assert_int_equal(fake_vm.sbi.sse_global.runner, v);
	/* The local one does not preempt it... */
	v->requests |= VCPU_REQ_SSE;
	assert_false(enter_guest(0));
	/* ...it runs when the global one completes. */
	assert_int_equal(sse(0, SSE_COMPLETE, 0, 0, 0), 0);
	assert_int_equal(sepc(0), 0x80003000);
	assert_true(enter_guest(0));
	assert_int_equal(sepc(0), HANDLER);
	assert_int_equal(fake.sse_enters, 2);
	/* A higher one injected while the local one runs preempts it, then gives it back. */
	v->arch.gprs.sepc = HANDLER + 0x10; /* inside the local handler */
	assert_int_equal(sse(0, SSE_INJECT, EV_GLOBAL, 0, 0), 0);
	assert_true(enter_guest(0));
	assert_int_equal(sepc(0), HANDLER + 0x100);
	/* It saved the local handler's sepc (the local event's interrupted pc)... */
	assert_int_equal(sse_attr(0, EV_GLOBAL, A_INT_SEPC), 0x80003000);
	assert_int_equal(fake_vcpu(0)->arch.vs.vsepc, SEPC + 4);
	/* ...and gives it back: the local handler goes on, then completes in turn. */
	assert_int_equal(sse(0, SSE_COMPLETE, 0, 0, 0), 0); /* the global one */
	assert_int_equal(sepc(0), SEPC + 4);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_STATUS), 0xb);
	assert_int_equal(sse(0, SSE_COMPLETE, 0, 0, 0), 0); /* then the local one */
	assert_int_equal(sepc(0), 0x80003000);
	/* Same priority: the lower event id first. */
	fake_reset(NVCPUS);
	ready_event(0, EV_LOCAL);
	ready_event(0, EV_GLOBAL);
	assert_int_equal(sse(0, SSE_HART_UNMASK, 0, 0, 0), 0);
	assert_int_equal(sse(0, SSE_INJECT, EV_GLOBAL, 0, 0), 0);
	assert_int_equal(sse(0, SSE_INJECT, EV_LOCAL, 0, 0), 0);
	guest_at(0, 0x80003000);
	assert_true(enter_guest(0));
	assert_int_equal(sse_attr(0, EV_LOCAL, A_STATUS), 0x3 | 0x8);
}

static void test_sse_targets(void **state)
{
	(void)state;
	ready_event(0, EV_LOCAL);
	/* A local event injected into another hart: that hart's own instance. */
	assert_int_equal(sse(0, SSE_INJECT, EV_LOCAL, 2, 0), 0);
	assert_int_equal(sse_attr(2, EV_LOCAL, A_STATUS), 0xc);	    /* UNUSED, pending */
	assert_int_equal(fake_vcpu(2)->requests & VCPU_REQ_SSE, 0); /* not enabled: no kick */
	assert_int_equal(sse(0, SSE_INJECT, EV_LOCAL, NVCPUS, 0), ERR_INVALID_PARAM);
	assert_int_equal(sse(0, SSE_INJECT, EV_LOCAL, -1UL, 0), ERR_INVALID_PARAM);
	/* Enabled later, it is asked for at once. */
	fake_vcpu(2)->hsm = VCPU_STARTED;
	ready_event(2, EV_LOCAL);
	assert_true(fake_vcpu(2)->requests & VCPU_REQ_SSE);
	/* A global event goes to its preferred hart if that one takes events... */
	fake_vcpu(1)->hsm = VCPU_STARTED;
	assert_int_equal(sse_set_attr(0, EV_GLOBAL, A_PREF_HART, 1), 0);
	ready_event(0, EV_GLOBAL);
	assert_int_equal(sse(1, SSE_HART_UNMASK, 0, 0, 0), 0);
	assert_int_equal(sse(2, SSE_HART_UNMASK, 0, 0, 0), 0);
	fake_vcpu(1)->requests = fake_vcpu(2)->requests = 0;
	assert_int_equal(sse(0, SSE_INJECT, EV_GLOBAL, 0, 0), 0);
	assert_true(fake_vcpu(1)->requests & VCPU_REQ_SSE);
	guest_at(1, 0x80003000);
	assert_true(enter_guest(1));
	assert_int_equal(fake_vm.sbi.sse_global.runner, fake_vcpu(1));
	/* Only the hart running it may change its interrupted state or complete it. */
	assert_int_equal(sse_set_attr(2, EV_GLOBAL, A_INT_SEPC, 0), ERR_INVALID_STATE);
	assert_int_equal(sse_set_attr(1, EV_GLOBAL, A_INT_SEPC, 0x80003000), 0);
	assert_int_equal(sse(2, SSE_COMPLETE, 0, 0, 0), 0); /* nothing of vCPU 2's runs */
	assert_int_equal(fake.sse_resumes, 0);
	assert_int_equal(sse(1, SSE_COMPLETE, 0, 0, 0), 0);
	assert_int_equal(fake.sse_resumes, 1);
	/* ...else to the first hart that takes events. */
	assert_int_equal(sse(1, SSE_HART_MASK, 0, 0, 0), 0);
	fake_vcpu(2)->requests = 0;
	assert_int_equal(sse(0, SSE_INJECT, EV_GLOBAL, 0, 0), 0);
	assert_true(fake_vcpu(2)->requests & VCPU_REQ_SSE);
	/* A vCPU that is masked when the request comes does not take it. */
	assert_int_equal(sse(2, SSE_HART_MASK, 0, 0, 0), 0);
	assert_false(enter_guest(2));
	assert_int_equal(sse_attr(0, EV_GLOBAL, A_STATUS), 0xe);
	/* Unmasking asks for it again. */
	assert_int_equal(sse(2, SSE_HART_UNMASK, 0, 0, 0), 0);
	assert_true(enter_guest(2));
}

static void test_sse_oneshot_and_reset(void **state)
{
	struct vcpu *v = fake_vcpu(0);

	(void)state;
	assert_int_equal(sse_set_attr(0, EV_LOCAL, A_CONFIG, 1), 0); /* one-shot */
	ready_event(0, EV_LOCAL);
	assert_int_equal(sse(0, SSE_HART_UNMASK, 0, 0, 0), 0);
	assert_int_equal(sse(0, SSE_INJECT, EV_LOCAL, 0, 0), 0);
	guest_at(0, 0x80003000);
	assert_true(enter_guest(0));
	/* Injected again while it runs: pending, but one-shot means disabled on completion. */
	assert_int_equal(sse(0, SSE_INJECT, EV_LOCAL, 0, 0), 0);
	assert_int_equal(sse(0, SSE_COMPLETE, 0, 0, 0), 0);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_STATUS), 0x5 | 0x8); /* REGISTERED, pending */
	assert_false(enter_guest(0));
	/* A global event running on a hart that is reset goes back to ENABLED; the hart's
	 * own event and its mask are reset. */
	ready_event(0, EV_GLOBAL);
	assert_int_equal(sse(0, SSE_INJECT, EV_GLOBAL, 0, 0), 0);
	assert_true(enter_guest(0));
	sbi_vcpu_hart_reset(v);
	assert_int_equal(sse_attr(0, EV_GLOBAL, A_STATUS), 0xa);
	assert_null(fake_vm.sbi.sse_global.runner);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_STATUS), 0x8);
	assert_int_equal(sse(0, SSE_HART_MASK, 0, 0, 0), ERR_ALREADY_STOPPED);
}

/* Guest RAM may be several host runs (core/vm.c): a buffer across two is still RAM. */
static void test_buffers_spanning_ram_runs(void **state)
{
	unsigned long at = FAKE_RAM_BASE + FAKE_RAM_SPLIT - 16, values[4];
	uint32_t idx = EV_FW(SBI_PMU_FW_SET_TIMER), out;

	(void)state;
	fake_split_ram();
	assert_int_equal(sse(0, SSE_REGISTER, EV_LOCAL, HANDLER, HANDLER_ARG), 0);
	ECALL(fake_vcpu(0), SBI_EXT_SSE, SSE_READ_ATTRS, EV_LOCAL, 2, 4, at);
	assert_returned(0, 0);
	memcpy(values, fake_ram + FAKE_RAM_SPLIT - 16, sizeof(values));
	assert_int_equal(values[2], HANDLER);
	assert_int_equal(values[3], HANDLER_ARG);
	values[0] = 9;
	memcpy(fake_ram + FAKE_RAM_SPLIT - 8, values, 2 * sizeof(values[0])); /* PRIO, CONFIG */
	values[1] = 1;
	memcpy(fake_ram + FAKE_RAM_SPLIT, &values[1], sizeof(values[1]));
	ECALL(fake_vcpu(0), SBI_EXT_SSE, SSE_WRITE_ATTRS, EV_LOCAL, 1, 2, at + 8);
	assert_returned(0, 0);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_PRIO), 9);
	assert_int_equal(sse_attr(0, EV_LOCAL, A_CONFIG), 1);
	/* Two event-info entries, one each side of the seam. */
	memcpy(fake_ram + FAKE_RAM_SPLIT - 16, &idx, 4);
	memset(fake_ram + FAKE_RAM_SPLIT - 12, 0, 12);
	memcpy(fake_ram + FAKE_RAM_SPLIT, &idx, 4);
	memset(fake_ram + FAKE_RAM_SPLIT + 4, 0, 12);
	assert_int_equal(pmu(0, PMU_EVENT_GET_INFO, at, 0, 2, 0, 0), 0);
	memcpy(&out, fake_ram + FAKE_RAM_SPLIT - 12, 4);
	assert_int_equal(out, 1);
	memcpy(&out, fake_ram + FAKE_RAM_SPLIT + 4, 4);
	assert_int_equal(out, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_find_ext, setup),
	    cmocka_unit_test_setup(test_extension_table, setup),
	    cmocka_unit_test_setup(test_unknown_eid, setup),
	    cmocka_unit_test_setup(test_unknown_fid, setup),
	    cmocka_unit_test_setup(test_sandbox_extension, setup),
	    cmocka_unit_test_setup(test_base_values, setup),
	    cmocka_unit_test_setup(test_base_probe, setup),
	    cmocka_unit_test_setup(test_for_each_hart_valid, setup),
	    cmocka_unit_test_setup(test_for_each_hart_invalid, setup),
	    cmocka_unit_test_setup(test_ipi, setup),
	    cmocka_unit_test_setup(test_rfence, setup),
	    cmocka_unit_test_setup(test_rfence_waits_for_a_running_target, setup),
	    cmocka_unit_test_setup(test_rfence_invalid, setup),
	    cmocka_unit_test_setup(test_time_sstc, setup),
	    cmocka_unit_test_setup(test_time_software, setup),
	    cmocka_unit_test_setup(test_hsm_start, setup),
	    cmocka_unit_test_setup(test_hsm_start_errors, setup),
	    cmocka_unit_test_setup(test_hsm_stop, setup),
	    cmocka_unit_test_setup(test_hsm_status, setup),
	    cmocka_unit_test_setup(test_hsm_suspend_retentive, setup),
	    cmocka_unit_test_setup(test_hsm_suspend_non_retentive, setup),
	    cmocka_unit_test_setup(test_hsm_suspend_errors, setup),
	    cmocka_unit_test_setup(test_srst_invalid, setup),
	    cmocka_unit_test_setup(test_srst_reset, setup),
	    cmocka_unit_test_setup(test_dbcn_write, setup),
	    cmocka_unit_test_setup(test_dbcn_bad_buffers, setup),
	    cmocka_unit_test_setup(test_dbcn_read, setup),
	    cmocka_unit_test_setup(test_dbcn_write_byte, setup),
	    cmocka_unit_test_setup(test_legacy_console, setup),
	    cmocka_unit_test_setup(test_legacy_timer_and_clear_ipi, setup),
	    cmocka_unit_test_setup(test_legacy_send_ipi, setup),
	    cmocka_unit_test_setup(test_legacy_mask_faults, setup),
	    cmocka_unit_test_setup(test_legacy_fences, setup),
	    cmocka_unit_test_setup(test_legacy_shutdown_and_unknown, setup),
	    cmocka_unit_test_setup(test_sta_set_shmem, setup),
	    cmocka_unit_test_setup(test_sta_errors, setup),
	    cmocka_unit_test_setup(test_sta_steal_time, setup),
	    cmocka_unit_test_setup(test_sta_off_and_reset, setup),
	    cmocka_unit_test_setup(test_susp_suspend_to_ram, setup),
	    cmocka_unit_test_setup(test_susp_errors, setup),
	    cmocka_unit_test_setup(test_fwft_nothing_offered, setup),
	    cmocka_unit_test_setup(test_fwft_pte_ad_hw_updating, setup),
	    cmocka_unit_test_setup(test_fwft_pointer_masking, setup),
	    cmocka_unit_test_setup(test_fwft_misaligned_delegation, setup),
	    cmocka_unit_test_setup(test_dbtr_no_triggers, setup),
	    cmocka_unit_test_setup(test_dbtr_shmem, setup),
	    cmocka_unit_test_setup(test_pmu_counters, setup),
	    cmocka_unit_test_setup(test_pmu_config_matching, setup),
	    cmocka_unit_test_setup(test_pmu_skip_match_and_flags, setup),
	    cmocka_unit_test_setup(test_pmu_firmware_counting, setup),
	    cmocka_unit_test_setup(test_pmu_start_stop_errors, setup),
	    cmocka_unit_test_setup(test_pmu_hardware_counters, setup),
	    cmocka_unit_test_setup(test_pmu_event_get_info, setup),
	    cmocka_unit_test_setup(test_pmu_event_get_info_limit, setup),
	    cmocka_unit_test_setup(test_sse_event_ids, setup),
	    cmocka_unit_test_setup(test_sse_states, setup),
	    cmocka_unit_test_setup(test_sse_attributes, setup),
	    cmocka_unit_test_setup(test_sse_inject_and_complete, setup),
	    cmocka_unit_test_setup(test_sse_interrupted_user_mode, setup),
	    cmocka_unit_test_setup(test_sse_priorities, setup),
	    cmocka_unit_test_setup(test_sse_targets, setup),
	    cmocka_unit_test_setup(test_sse_oneshot_and_reset, setup),
	    cmocka_unit_test_setup(test_buffers_spanning_ram_runs, setup),
	};

	return cmocka_run_group_tests_name("sbi", tests, NULL, NULL);
}
