// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the MMIO test device (hv/vdev/testdev.c): memory-like data
 * bytes at every width, little-endian, and the read-only registers that
 * record the last data access. Most tests call the device's ops directly;
 * one goes through an MMIO bus the way the guest-page-fault path does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/mmio_bus.h>
#include <vireo/testdev.h>

static const unsigned widths[] = {1, 2, 4, 8};

static uint64_t mask_of(unsigned width)
{
	return width == 8 ? ~0ULL : (1ULL << (8 * width)) - 1;
}

static uint64_t rd(struct testdev *t, uint64_t offset, unsigned width)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5aULL;

	assert_int_equal(testdev_mmio_ops.read(t, offset, width, &v), 0);
	return v;
}

static void wr(struct testdev *t, uint64_t offset, unsigned width, uint64_t value)
{
	assert_int_equal(testdev_mmio_ops.write(t, offset, width, value), 0);
}

static void expect_last(struct testdev *t, uint64_t width, uint64_t is_write, uint64_t count,
			uint64_t offset)
{
	assert_int_equal(rd(t, TESTDEV_LAST_WIDTH, 8), width);
	assert_int_equal(rd(t, TESTDEV_LAST_IS_WRITE, 8), is_write);
	assert_int_equal(rd(t, TESTDEV_ACCESS_COUNT, 8), count);
	assert_int_equal(rd(t, TESTDEV_LAST_OFFSET, 8), offset);
}

static int setup(void **state)
{
	struct testdev *t = malloc(sizeof(*t));

	if (!t)
		return -1;
	memset(t, 0xee, sizeof(*t));
	testdev_init(t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_register_map(void **state)
{
	(void)state;
	assert_int_equal(TESTDEV_DATA, 0);
	assert_int_equal(TESTDEV_DATA_SIZE, 0x100);
	assert_int_equal(TESTDEV_LAST_WIDTH, 0x100);
	assert_int_equal(TESTDEV_LAST_IS_WRITE, 0x108);
	assert_int_equal(TESTDEV_ACCESS_COUNT, 0x110);
	assert_int_equal(TESTDEV_LAST_OFFSET, 0x118);
	assert_int_equal(VM_TESTDEV_SIZE, 0x1000);
}

static void test_init_state(void **state)
{
	struct testdev *t = *state;

	for (unsigned i = 0; i < TESTDEV_DATA_SIZE; i++)
		assert_int_equal(t->data[i], 0);
	expect_last(t, 0, 0, 0, 0);
	for (uint64_t off = 0; off < TESTDEV_DATA_SIZE; off += 8)
		assert_int_equal(rd(t, off, 8), 0);
	/* Re-initialising clears what was there. */
	wr(t, 0x10, 8, ~0ULL);
	testdev_init(t);
	assert_int_equal(t->data[0x10], 0);
	expect_last(t, 0, 0, 0, 0);
}

/* Every width at every offset where it fits, aligned or not: what is written reads back. */
static void test_every_width_every_offset(void **state)
{
	struct testdev *t = *state;
	uint64_t count = 0;

	for (unsigned w = 0; w < 4; w++) {
		unsigned width = widths[w];

		for (uint64_t off = 0; off + width <= TESTDEV_DATA_SIZE; off++) {
			uint64_t value =
			    (0x8877665544332211ULL * (off + 1)) ^ (0x0101010101ULL * width);

			testdev_init(t);
			count = 0;
			wr(t, off, width, value);
			count++;
			expect_last(t, width, 1, count, off);
			assert_int_equal(rd(t, off, width), value & mask_of(width));
			count++;
			expect_last(t, width, 0, count, off);
			/* Bytes around the access are untouched. */
			for (unsigned i = 0; i < TESTDEV_DATA_SIZE; i++) {
				uint8_t want = 0;

				if (i >= off && i < off + width)
					want = (uint8_t)(value >> (8 * (i - off)));
				assert_int_equal(t->data[i], want);
			}
		}
	}
}

static void test_little_endian(void **state)
{
	struct testdev *t = *state;

	wr(t, 0x20, 8, 0x0807060504030201ULL);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(t->data[0x20 + i], i + 1);
	assert_int_equal(rd(t, 0x20, 1), 0x01);
	assert_int_equal(rd(t, 0x27, 1), 0x08);
	assert_int_equal(rd(t, 0x20, 2), 0x0201);
	assert_int_equal(rd(t, 0x21, 2), 0x0302);
	assert_int_equal(rd(t, 0x20, 4), 0x04030201);
	assert_int_equal(rd(t, 0x23, 4), 0x07060504);
	assert_int_equal(rd(t, 0x24, 4), 0x08070605);
	assert_int_equal(rd(t, 0x21, 8), 0x0008070605040302ULL); /* 0x28 is still 0 */

	/* Narrow writes replace only their bytes. */
	wr(t, 0x22, 2, 0xbbaa);
	assert_int_equal(rd(t, 0x20, 8), 0x08070605bbaa0201ULL);
	wr(t, 0x27, 1, 0xff);
	assert_int_equal(rd(t, 0x20, 8), 0xff070605bbaa0201ULL);
	wr(t, 0x24, 4, 0xdeadbeef);
	assert_int_equal(rd(t, 0x20, 8), 0xdeadbeefbbaa0201ULL);
	/* Bits of the value beyond the width are ignored. */
	wr(t, 0x30, 1, 0x1234);
	wr(t, 0x31, 2, 0xabcdef);
	assert_int_equal(rd(t, 0x30, 4), 0x00cdef34);
	/* The high bytes of a load are zero (sign extension is the decoder's job). */
	wr(t, 0x40, 8, ~0ULL);
	assert_int_equal(rd(t, 0x40, 1), 0xff);
	assert_int_equal(rd(t, 0x40, 2), 0xffff);
	assert_int_equal(rd(t, 0x40, 4), 0xffffffffULL);
	assert_int_equal(rd(t, 0x40, 8), ~0ULL);
}

/* The first and last bytes of the data window. */
static void test_data_edges(void **state)
{
	struct testdev *t = *state;

	wr(t, 0, 8, 0x1122334455667788ULL);
	wr(t, 0xf8, 8, 0x99aabbccddeeff00ULL);
	assert_int_equal(rd(t, 0, 1), 0x88);
	assert_int_equal(rd(t, 0xff, 1), 0x99);
	assert_int_equal(rd(t, 0xfe, 2), 0x99aa);
	assert_int_equal(rd(t, 0xfc, 4), 0x99aabbccULL);
	expect_last(t, 4, 0, 6, 0xfc);
}

static void test_registers(void **state)
{
	struct testdev *t = *state;

	wr(t, 0x13, 2, 0xabcd);
	expect_last(t, 2, 1, 1, 0x13);
	(void)rd(t, 0x80, 8);
	expect_last(t, 8, 0, 2, 0x80);
	wr(t, 0xff, 1, 1);
	expect_last(t, 1, 1, 3, 0xff);
	(void)rd(t, 0x7c, 4);
	expect_last(t, 4, 0, 4, 0x7c);

	/* Register reads are not data accesses: reading them again changes nothing. */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(rd(t, TESTDEV_ACCESS_COUNT, 8), 4);
		assert_int_equal(rd(t, TESTDEV_LAST_WIDTH, 4), 4);
		assert_int_equal(rd(t, TESTDEV_LAST_OFFSET, 8), 0x7c);
	}
	expect_last(t, 4, 0, 4, 0x7c);
}

/* Registers are read-only: a write to one changes nothing and is not counted. */
static void test_register_writes_ignored(void **state)
{
	struct testdev *t = *state;
	static const uint64_t regs[] = {TESTDEV_LAST_WIDTH, TESTDEV_LAST_IS_WRITE,
					TESTDEV_ACCESS_COUNT, TESTDEV_LAST_OFFSET};

	wr(t, 0x44, 4, 0x11223344);
	(void)rd(t, 0x40, 2);
	expect_last(t, 2, 0, 2, 0x40);
	for (unsigned r = 0; r < ARRAY_SIZE(regs); r++) {
		for (unsigned w = 0; w < 4; w++)
			wr(t, regs[r], widths[w], 0x7777777777777777ULL);
	}
	expect_last(t, 2, 0, 2, 0x40);
	/* The data stayed as it was. */
	assert_int_equal(rd(t, 0x40, 8), 0x1122334400000000ULL);
}

/*
 * Past the data, off the registers (inside a register, between and after
 * them, and accesses that straddle the end of the data): reads give 0,
 * writes do nothing, neither counts.
 */
static void test_beyond_data(void **state)
{
	static const uint64_t offsets[] = {0x101, 0x104, 0x10c, 0x117, 0x120,
					   0x128, 0x200, 0x800, 0xff8, 0xfff};
	struct testdev *t = *state;

	for (unsigned i = 0; i < TESTDEV_DATA_SIZE; i++)
		t->data[i] = (uint8_t)(0xc0 + i);
	wr(t, 0x10, 1, 0x5e);
	expect_last(t, 1, 1, 1, 0x10);
	for (unsigned i = 0; i < ARRAY_SIZE(offsets); i++) {
		for (unsigned w = 0; w < 4; w++) {
			if (offsets[i] + widths[w] > VM_TESTDEV_SIZE)
				continue;
			assert_int_equal(rd(t, offsets[i], widths[w]), 0);
			wr(t, offsets[i], widths[w], ~0ULL);
		}
	}
	/* Straddling the end of the data: neither data nor a register. */
	for (unsigned w = 1; w < 4; w++) {
		for (uint64_t off = TESTDEV_DATA_SIZE - widths[w] + 1; off < TESTDEV_DATA_SIZE;
		     off++) {
			assert_int_equal(rd(t, off, widths[w]), 0);
			wr(t, off, widths[w], 0);
		}
	}
	expect_last(t, 1, 1, 1, 0x10);
	for (unsigned i = 0; i < TESTDEV_DATA_SIZE; i++)
		assert_int_equal(t->data[i], i == 0x10 ? 0x5e : (uint8_t)(0xc0 + i));
}

/* Through an MMIO bus at the guest address the VM layout gives the device. */
static void test_through_bus(void **state)
{
	struct testdev *t = *state;
	struct mmio_bus bus;
	uint64_t v = 0;

	mmio_bus_init(&bus);
	assert_int_equal(mmio_bus_register(&bus, VM_TESTDEV_BASE, VM_TESTDEV_SIZE,
					   &testdev_mmio_ops, t, "testdev"),
			 0);
	assert_int_equal(mmio_bus_write(&bus, VM_TESTDEV_BASE + 0x18, 4, 0xcafef00d), 0);
	assert_int_equal(mmio_bus_read(&bus, VM_TESTDEV_BASE + 0x1a, 2, &v), 0);
	assert_int_equal(v, 0xcafe);
	assert_int_equal(mmio_bus_read(&bus, VM_TESTDEV_BASE + TESTDEV_ACCESS_COUNT, 8, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(mmio_bus_read(&bus, VM_TESTDEV_BASE + TESTDEV_LAST_OFFSET, 8, &v), 0);
	assert_int_equal(v, 0x1a);
	assert_int_equal(mmio_bus_read(&bus, VM_TESTDEV_BASE + TESTDEV_LAST_WIDTH, 8, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(mmio_bus_read(&bus, VM_TESTDEV_BASE + VM_TESTDEV_SIZE - 8, 8, &v), 0);
	assert_int_equal(v, 0);
	/* Past the device's window: not the device's business. */
	assert_int_equal(mmio_bus_read(&bus, VM_TESTDEV_BASE + VM_TESTDEV_SIZE, 1, &v),
			 -VIREO_ENOENT);
	assert_int_equal(t->access_count, 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_map),
	    T(test_init_state),
	    T(test_every_width_every_offset),
	    T(test_little_endian),
	    T(test_data_edges),
	    T(test_registers),
	    T(test_register_writes_ignored),
	    T(test_beyond_data),
	    T(test_through_bus),
	};
#undef T

	return cmocka_run_group_tests_name("testdev", tests, NULL, NULL);
}
