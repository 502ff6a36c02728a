// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the software IMSIC interrupt file (hv/vdev/imsic.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <vireo/vimsic.h>

#define EIP(w)	  (AIA_ISEL_EIP0 + 2 * (w))
#define EIE(w)	  (AIA_ISEL_EIE0 + 2 * (w))
#define TOPEI(id) ((uint32_t)(id) << 16 | (id))

static uint64_t rd(struct vimsic_file *f, unsigned isel)
{
	uint64_t old = 0xdead;

	assert_int_equal(vimsic_rmw(f, isel, 0, 0, &old), 0);
	return old;
}

static void wr(struct vimsic_file *f, unsigned isel, uint64_t value)
{
	uint64_t old;

	assert_int_equal(vimsic_rmw(f, isel, value, ~0ULL, &old), 0);
}

static void enable(struct vimsic_file *f, unsigned id)
{
	uint64_t old;

	assert_int_equal(vimsic_rmw(f, EIE(id / 64), ~0ULL, 1ULL << (id % 64), &old), 0);
}

static void test_reset_state(void **state)
{
	struct vimsic_file f;

	(void)state;
	vimsic_init(&f, 255);
	assert_int_equal(rd(&f, AIA_ISEL_EIDELIVERY), 0);
	assert_int_equal(rd(&f, AIA_ISEL_EITHRESHOLD), 0);
	for (unsigned w = 0; w < 4; w++) {
		assert_int_equal(rd(&f, EIP(w)), 0);
		assert_int_equal(rd(&f, EIE(w)), 0);
	}
	assert_int_equal(vimsic_topei(&f), 0);
	assert_false(vimsic_output(&f));
}

/* An MSI is pending at once; it interrupts only once enabled and with delivery on. */
static void test_pending_enable_delivery(void **state)
{
	struct vimsic_file f;

	(void)state;
	vimsic_init(&f, 255);
	vimsic_set_pending(&f, 9);
	assert_int_equal(rd(&f, EIP(0)), 1u << 9);
	assert_int_equal(vimsic_topei(&f), 0); /* not enabled */
	enable(&f, 9);
	assert_int_equal(vimsic_topei(&f), TOPEI(9));
	assert_false(vimsic_output(&f)); /* delivery off */
	wr(&f, AIA_ISEL_EIDELIVERY, 1);
	assert_true(vimsic_output(&f));
	assert_int_equal(vimsic_claim(&f), TOPEI(9));
	assert_int_equal(rd(&f, EIP(0)), 0);
	assert_false(vimsic_output(&f));
	assert_int_equal(vimsic_claim(&f), 0);
}

/* Smaller identities first, across words; the threshold hides id >= threshold. */
static void test_priority_and_threshold(void **state)
{
	struct vimsic_file f;

	(void)state;
	vimsic_init(&f, 255);
	wr(&f, AIA_ISEL_EIDELIVERY, 1);
	wr(&f, EIE(0), ~0ULL);
	wr(&f, EIE(2), ~0ULL);
	vimsic_set_pending(&f, 150);
	vimsic_set_pending(&f, 70);
	assert_int_equal(vimsic_topei(&f), TOPEI(150)); /* eie1 (ids 64..127) is off */
	wr(&f, EIE(1), ~0ULL);
	assert_int_equal(vimsic_topei(&f), TOPEI(70));
	wr(&f, AIA_ISEL_EITHRESHOLD, 70);
	assert_int_equal(vimsic_topei(&f), 0); /* 70 is not below 70 */
	assert_false(vimsic_output(&f));
	vimsic_set_pending(&f, 3);
	assert_int_equal(vimsic_topei(&f), TOPEI(3));
	assert_int_equal(vimsic_claim(&f), TOPEI(3));
	wr(&f, AIA_ISEL_EITHRESHOLD, 0);
	assert_int_equal(vimsic_claim(&f), TOPEI(70));
	assert_int_equal(vimsic_claim(&f), TOPEI(150));
	assert_int_equal(vimsic_claim(&f), 0);
}

/* Identity 0 and identities past num_ids do not exist. */
static void test_out_of_range_identities(void **state)
{
	struct vimsic_file f;

	(void)state;
	vimsic_init(&f, 63);
	vimsic_set_pending(&f, 0);
	vimsic_set_pending(&f, 64);
	vimsic_set_pending(&f, 2047);
	vimsic_set_pending(&f, 0xffffffff);
	assert_int_equal(rd(&f, EIP(0)), 0);
	assert_int_equal(rd(&f, EIP(1)), 0);
	wr(&f, EIE(0), ~0ULL);
	assert_int_equal(rd(&f, EIE(0)), ~1ULL); /* bit 0 is identity 0: read-only zero */
	wr(&f, EIE(1), ~0ULL);
	assert_int_equal(rd(&f, EIE(1)), 0);
	vimsic_set_pending(&f, 63);
	assert_int_equal(rd(&f, EIP(0)), 1ULL << 63);
}

/* Software may set and clear pending bits through eip itself (csrrs/csrrc). */
static void test_rmw_masks(void **state)
{
	struct vimsic_file f;
	uint64_t old;

	(void)state;
	vimsic_init(&f, 255);
	assert_int_equal(vimsic_rmw(&f, EIP(0), ~0ULL, 0x30, &old), 0); /* csrrs: set 4, 5 */
	assert_int_equal(old, 0);
	assert_int_equal(vimsic_rmw(&f, EIP(0), 0, 0x10, &old), 0); /* csrrc: clear 4 */
	assert_int_equal(old, 0x30);
	assert_int_equal(rd(&f, EIP(0)), 0x20);
	/* eidelivery keeps only its bit 0; eithreshold keeps 11 bits. */
	wr(&f, AIA_ISEL_EIDELIVERY, 0x40000001);
	assert_int_equal(rd(&f, AIA_ISEL_EIDELIVERY), 1);
	wr(&f, AIA_ISEL_EITHRESHOLD, 0xffff);
	assert_int_equal(rd(&f, AIA_ISEL_EITHRESHOLD), 0x7ff);
}

/* Only the IMSIC's selects exist: odd eip/eie (RV32 halves) and reserved ones do not. */
static void test_bad_selects(void **state)
{
	static const unsigned bad[] = {0x0,  0x30, 0x6f, 0x71, 0x73, 0x7f,
				       0x81, 0xbf, 0xc1, 0xff, 0x100};
	struct vimsic_file f;
	uint64_t old;

	(void)state;
	vimsic_init(&f, 255);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vimsic_rmw(&f, bad[i], 1, ~0ULL, &old), -VIREO_EINVAL);
	/* The last words of the largest file exist. */
	vimsic_init(&f, 2047);
	wr(&f, EIE(31), ~0ULL);
	assert_int_equal(rd(&f, EIE(31)), ~0ULL);
	vimsic_set_pending(&f, 2047);
	wr(&f, AIA_ISEL_EIDELIVERY, 1);
	assert_int_equal(vimsic_topei(&f), TOPEI(2047));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reset_state),
	    cmocka_unit_test(test_pending_enable_delivery),
	    cmocka_unit_test(test_priority_and_threshold),
	    cmocka_unit_test(test_out_of_range_identities),
	    cmocka_unit_test(test_rmw_masks),
	    cmocka_unit_test(test_bad_selects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
