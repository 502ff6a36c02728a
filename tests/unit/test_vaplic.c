// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the virtual APLIC (hv/vdev/aplic.c), driven through its MMIO
 * ops as a guest's driver would and through its wires as devices do; every MSI
 * it sends is recorded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <vireo/vaplic.h>

#define MAX_MSIS	   64
#define NSOURCES	   31
#define NHARTS		   4
#define TARGET(hart, eiid) ((uint32_t)(hart) << APLIC_TARGET_HART_SHIFT | (eiid))

struct msi {
	unsigned hart, eiid;
};

struct fixture {
	struct vaplic a;
	struct msi msis[MAX_MSIS];
	unsigned count;
};

static void record_msi(void *opaque, unsigned hart, unsigned eiid)
{
	struct fixture *f = opaque;

	assert_true(hart < NHARTS); /* MSIs to harts that do not exist are never sent */
	assert_true(f->count < MAX_MSIS);
	f->msis[f->count++] = (struct msi){hart, eiid};
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	vaplic_init(&f->a, NSOURCES, NHARTS, record_msi, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	test_free(*state);
	return 0;
}

static uint32_t rd(struct fixture *f, uint64_t off)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(vaplic_mmio_ops.read(&f->a, off, 4, &v), 0);
	return (uint32_t)v;
}

static void wr(struct fixture *f, uint64_t off, uint32_t v)
{
	assert_int_equal(vaplic_mmio_ops.write(&f->a, off, 4, v), 0);
}

/* Source s in mode sm, to (hart, eiid), enabled; the domain's IE on. */
static void route(struct fixture *f, unsigned s, unsigned sm, unsigned hart, unsigned eiid)
{
	wr(f, APLIC_SOURCECFG(s), sm);
	wr(f, APLIC_TARGET(s), TARGET(hart, eiid));
	wr(f, APLIC_SETIENUM, s);
	wr(f, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
}

static void assert_msi(struct fixture *f, unsigned i, unsigned hart, unsigned eiid)
{
	assert_true(i < f->count);
	assert_int_equal(f->msis[i].hart, hart);
	assert_int_equal(f->msis[i].eiid, eiid);
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;

	/* Bit 31 reads one, DM (MSI mode) is fixed at one, IE starts off. */
	assert_int_equal(rd(f, APLIC_DOMAINCFG), 0x80000004);
	wr(f, APLIC_DOMAINCFG, ~0u);
	assert_int_equal(rd(f, APLIC_DOMAINCFG), 0x80000104);
	for (unsigned s = 1; s <= NSOURCES; s++) {
		assert_int_equal(rd(f, APLIC_SOURCECFG(s)), 0);
		assert_int_equal(rd(f, APLIC_TARGET(s)), 0);
	}
	assert_int_equal(rd(f, APLIC_SETIP), 0);
	assert_int_equal(rd(f, APLIC_SETIE), 0);
	/* An inactive source takes no enable, no target, no pending bit. */
	wr(f, APLIC_SETIENUM, 5);
	wr(f, APLIC_TARGET(5), TARGET(1, 9));
	wr(f, APLIC_SETIPNUM, 5);
	vaplic_set_level(&f->a, 5, true);
	assert_int_equal(rd(f, APLIC_SETIE), 0);
	assert_int_equal(rd(f, APLIC_TARGET(5)), 0);
	assert_int_equal(rd(f, APLIC_SETIP), 0);
	assert_int_equal(f->count, 0);
}

/* Edge1: each rising edge is one MSI, a line that stays high is not another. */
static void test_edge_rising(void **state)
{
	struct fixture *f = *state;

	route(f, 1, APLIC_SM_EDGE1, 2, 33);
	vaplic_set_level(&f->a, 1, true);
	assert_int_equal(f->count, 1);
	assert_msi(f, 0, 2, 33);
	assert_int_equal(rd(f, APLIC_SETIP), 0); /* forwarded: no longer pending */
	vaplic_set_level(&f->a, 1, true);
	assert_int_equal(f->count, 1);
	vaplic_set_level(&f->a, 1, false);
	assert_int_equal(f->count, 1);
	vaplic_set_level(&f->a, 1, true);
	assert_int_equal(f->count, 2);
	/* An edge source may be made pending by software at any time. */
	wr(f, APLIC_SETIPNUM_LE, 1);
	assert_int_equal(f->count, 3);
	assert_msi(f, 2, 2, 33);
}

/* Edge0 and Level0 invert the wire. */
static void test_inverted_modes(void **state)
{
	struct fixture *f = *state;

	route(f, 2, APLIC_SM_EDGE0, 0, 4);
	vaplic_set_level(&f->a, 2, true);
	assert_int_equal(f->count, 0);
	vaplic_set_level(&f->a, 2, false);
	assert_int_equal(f->count, 1);
	/* Level0: a low wire is asserted. Configured while the wire is low (0 at reset). */
	route(f, 3, APLIC_SM_LEVEL0, 1, 5);
	assert_int_equal(rd(f, APLIC_IN_CLRIP) >> 3 & 1, 1);
	wr(f, APLIC_SETIPNUM, 3);
	assert_int_equal(f->count, 2);
	assert_msi(f, 1, 1, 5);
	vaplic_set_level(&f->a, 3, true); /* deasserts */
	assert_int_equal(rd(f, APLIC_IN_CLRIP) >> 3 & 1, 0);
	wr(f, APLIC_SETIPNUM, 3);
	assert_int_equal(f->count, 2);
}

/* Level1 in MSI mode: an MSI per rising edge; re-triggering with setipnum works only
 * while the source still asserts (where QEMU 7.2's own APLIC sends regardless). */
static void test_level_retrigger(void **state)
{
	struct fixture *f = *state;

	route(f, 10, APLIC_SM_LEVEL1, 3, 10);
	vaplic_set_level(&f->a, 10, true);
	assert_int_equal(f->count, 1);
	assert_int_equal(rd(f, APLIC_IN_CLRIP), 1u << 10);
	wr(f, APLIC_SETIPNUM_LE, 10); /* still asserted: again */
	assert_int_equal(f->count, 2);
	vaplic_set_level(&f->a, 10, false);
	wr(f, APLIC_SETIPNUM_LE, 10); /* not asserted: nothing */
	wr(f, APLIC_SETIP, 1u << 10);
	assert_int_equal(f->count, 2);
	assert_int_equal(rd(f, APLIC_SETIP), 0);
}

/* A level source's pending bit falls with its wire while the interrupt waits. */
static void test_level_pending_follows_wire(void **state)
{
	struct fixture *f = *state;

	wr(f, APLIC_SOURCECFG(7), APLIC_SM_LEVEL1);
	wr(f, APLIC_TARGET(7), TARGET(0, 7));
	wr(f, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	vaplic_set_level(&f->a, 7, true);
	assert_int_equal(rd(f, APLIC_SETIP), 1u << 7); /* not enabled: it waits */
	vaplic_set_level(&f->a, 7, false);
	assert_int_equal(rd(f, APLIC_SETIP), 0);
	wr(f, APLIC_SETIENUM, 7);
	assert_int_equal(f->count, 0);
}

/* Pending interrupts wait for IE and for their enable bit, then leave. */
static void test_ie_and_enable_gate(void **state)
{
	struct fixture *f = *state;

	wr(f, APLIC_SOURCECFG(4), APLIC_SM_EDGE1);
	wr(f, APLIC_TARGET(4), TARGET(1, 40));
	wr(f, APLIC_SOURCECFG(6), APLIC_SM_DETACHED);
	wr(f, APLIC_TARGET(6), TARGET(2, 60));
	wr(f, APLIC_SETIE, 1u << 4 | 1u << 6);
	assert_int_equal(rd(f, APLIC_SETIE), 1u << 4 | 1u << 6);
	vaplic_set_level(&f->a, 4, true);
	wr(f, APLIC_SETIP, 1u << 6);
	assert_int_equal(rd(f, APLIC_SETIP), 1u << 4 | 1u << 6);
	assert_int_equal(f->count, 0);
	wr(f, APLIC_CLRIENUM, 6);
	wr(f, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	assert_int_equal(f->count, 1);
	assert_msi(f, 0, 1, 40);
	wr(f, APLIC_SETIE, 1u << 6);
	assert_int_equal(f->count, 2);
	assert_msi(f, 1, 2, 60);
	/* clrie by word; in_clrip clears pending bits. */
	wr(f, APLIC_CLRIE, ~0u);
	assert_int_equal(rd(f, APLIC_SETIE), 0);
	wr(f, APLIC_SETIPNUM, 6);
	assert_int_equal(rd(f, APLIC_SETIP), 1u << 6);
	wr(f, APLIC_IN_CLRIP, 1u << 6);
	assert_int_equal(rd(f, APLIC_SETIP), 0);
	wr(f, APLIC_SETIPNUM, 6);
	wr(f, APLIC_CLRIPNUM, 6);
	assert_int_equal(rd(f, APLIC_SETIP), 0);
}

/* A detached source ignores its wire. */
static void test_detached_ignores_wire(void **state)
{
	struct fixture *f = *state;

	route(f, 8, APLIC_SM_DETACHED, 0, 8);
	vaplic_set_level(&f->a, 8, true);
	assert_int_equal(f->count, 0);
	assert_int_equal(rd(f, APLIC_IN_CLRIP), 0);
	wr(f, APLIC_SETIPNUM_BE, __builtin_bswap32(8));
	assert_int_equal(f->count, 1);
}

/* Targets: the guest index is read-only zero; hart indexes past the VM's are dropped. */
static void test_targets(void **state)
{
	struct fixture *f = *state;

	route(f, 9, APLIC_SM_EDGE1, 0, 0);
	wr(f, APLIC_TARGET(9), TARGET(3, 0x7ff) | 5u << APLIC_TARGET_GUEST_SHIFT | 1u << 11);
	assert_int_equal(rd(f, APLIC_TARGET(9)), TARGET(3, 0x7ff));
	wr(f, APLIC_TARGET(9), TARGET(NHARTS, 9));
	wr(f, APLIC_SETIPNUM, 9);
	assert_int_equal(f->count, 0);
	assert_int_equal(rd(f, APLIC_SETIP), 0); /* forwarded, to nowhere */
	/* Making a source inactive forgets its target, enable and pending bit. */
	wr(f, APLIC_SOURCECFG(9), 2); /* reserved mode: inactive */
	assert_int_equal(rd(f, APLIC_SOURCECFG(9)), 0);
	assert_int_equal(rd(f, APLIC_TARGET(9)), 0);
	assert_int_equal(rd(f, APLIC_SETIE), 0);
	/* D (a child domain) does not exist: the mode bits are taken as they are. */
	wr(f, APLIC_SOURCECFG(9), APLIC_SOURCECFG_D | APLIC_SM_EDGE1);
	assert_int_equal(rd(f, APLIC_SOURCECFG(9)), APLIC_SM_EDGE1);
}

/* genmsi sends at once, IE or not. */
static void test_genmsi(void **state)
{
	struct fixture *f = *state;

	wr(f, APLIC_GENMSI, TARGET(2, 77));
	assert_int_equal(f->count, 1);
	assert_msi(f, 0, 2, 77);
	assert_int_equal(rd(f, APLIC_GENMSI) & APLIC_GENMSI_BUSY, 0);
}

/* Only aligned words; sources past num-sources and reserved space are inert. */
static void test_access_rules(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	assert_int_equal(vaplic_mmio_ops.read(&f->a, APLIC_DOMAINCFG, 8, &v), -VIREO_EINVAL);
	assert_int_equal(vaplic_mmio_ops.read(&f->a, APLIC_DOMAINCFG + 1, 1, &v), -VIREO_EINVAL);
	assert_int_equal(vaplic_mmio_ops.write(&f->a, APLIC_SETIPNUM, 2, 1), -VIREO_EINVAL);
	wr(f, APLIC_SOURCECFG(NSOURCES + 1), APLIC_SM_EDGE1);
	assert_int_equal(rd(f, APLIC_SOURCECFG(NSOURCES + 1)), 0);
	vaplic_set_level(&f->a, NSOURCES + 1, true);
	vaplic_set_level(&f->a, 0, true);
	wr(f, APLIC_SETIPNUM, 0xffffffff);
	wr(f, APLIC_SETIENUM, 0xffffffff);
	assert_int_equal(rd(f, APLIC_MMSIADDRCFG), 0);
	assert_int_equal(rd(f, APLIC_IDC(0) + APLIC_IDC_CLAIMI), 0);
	assert_int_equal(rd(f, VAPLIC_SIZE - 4), 0);
	assert_int_equal(rd(f, APLIC_SETIPNUM), 0);
	assert_int_equal(f->count, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_reset_state),
	    T(test_edge_rising),
	    T(test_inverted_modes),
	    T(test_level_retrigger),
	    T(test_level_pending_follows_wire),
	    T(test_ie_and_enable_gate),
	    T(test_detached_ignores_wire),
	    T(test_targets),
	    T(test_genmsi),
	    T(test_access_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
