// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the VM Generation ID device (hv/vdev/vmgenid.c): the ID reads
 * back at every width and offset, nothing else in the page leaks, stores do
 * not change it, and a notification is one edge on the line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <vireo/vgenid.h>

static unsigned ups, downs;
static bool level;

static void set_level(void *controller, unsigned source, bool on)
{
	(void)controller;
	assert_int_equal(source, 12);
	assert_int_not_equal(on, level);
	level = on;
	if (on)
		ups++;
	else
		downs++;
}

static void test_reads_and_notify(void **state)
{
	static const uint8_t id[VGENID_SIZE] = {1, 2,  3,  4,  5,  6,  7,  8,
						9, 10, 11, 12, 13, 14, 15, 16};
	struct irq_line irq = {.set_level = set_level, .source = 12};
	struct vgenid g;
	uint64_t v;

	(void)state;
	vgenid_init(&g, id, &irq);
	assert_int_equal(vgenid_mmio_ops.read(&g, 0, 8, &v), 0);
	assert_int_equal(v, 0x0807060504030201ULL);
	assert_int_equal(vgenid_mmio_ops.read(&g, 8, 8, &v), 0);
	assert_int_equal(v, 0x100f0e0d0c0b0a09ULL);
	assert_int_equal(vgenid_mmio_ops.read(&g, 15, 1, &v), 0);
	assert_int_equal(v, 16);
	/* Straddling the end: the bytes past it read 0; the rest of the page too. */
	assert_int_equal(vgenid_mmio_ops.read(&g, 14, 4, &v), 0);
	assert_int_equal(v, 0x100f);
	assert_int_equal(vgenid_mmio_ops.read(&g, 0x800, 8, &v), 0);
	assert_int_equal(v, 0);
	/* The guest cannot change it. */
	assert_int_equal(vgenid_mmio_ops.write(&g, 0, 8, 0), 0);
	assert_int_equal(vgenid_mmio_ops.read(&g, 0, 1, &v), 0);
	assert_int_equal(v, 1);
	/* A notification: one edge, the line low again. */
	vgenid_notify(&g);
	assert_int_equal(ups, 1);
	assert_int_equal(downs, 1);
	assert_false(level);
	assert_int_equal(g.notifies, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_and_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
