// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the per-VM MMIO bus (hv/core/mmio_bus.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/mmio_bus.h>

/* A device that records how it was called. */
struct fake_dev {
	unsigned reads, writes;
	uint64_t offset;
	unsigned width;
	uint64_t value;	  /* last value written, or what a read returns */
	int ret;	  /* what the callbacks return */
	bool leave_value; /* a buggy read that does not set *value */
};

static int fake_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct fake_dev *dev = opaque;

	dev->reads++;
	dev->offset = offset;
	dev->width = width;
	if (!dev->leave_value)
		*value = dev->value;
	return dev->ret;
}

static int fake_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct fake_dev *dev = opaque;

	dev->writes++;
	dev->offset = offset;
	dev->width = width;
	dev->value = value;
	return dev->ret;
}

static const struct mmio_ops fake_ops = {.read = fake_read, .write = fake_write};

/*
 * The layout most tests use. D sits at address 0 so that an access whose end
 * wraps past UINT64_MAX would land in it if the range check overflowed; TOP
 * ends at the last byte a region may cover (base + size == UINT64_MAX).
 */
enum { DEV_D, DEV_A, DEV_B, DEV_TOP, DEV_COUNT, DEV_NONE = -1 };

#define D_BASE	 0x0ULL
#define D_SIZE	 0x100ULL
#define A_BASE	 0x1000ULL
#define A_SIZE	 0x1000ULL
#define B_BASE	 0x10000000ULL
#define B_SIZE	 0x100ULL
#define TOP_SIZE 0xfffULL
#define TOP_BASE (UINT64_MAX - TOP_SIZE)

struct fixture {
	struct mmio_bus bus;
	struct fake_dev dev[DEV_COUNT];
};

static int fixture_setup(void **state)
{
	static const struct {
		gpa_t base;
		uint64_t size;
		const char *name;
	} layout[DEV_COUNT] = {
	    [DEV_D] = {D_BASE, D_SIZE, "d"},
	    [DEV_A] = {A_BASE, A_SIZE, "a"},
	    [DEV_B] = {B_BASE, B_SIZE, "b"},
	    [DEV_TOP] = {TOP_BASE, TOP_SIZE, "top"},
	};
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	/* Garbage in the unused slots must not matter. */
	memset(&f->bus, 0x5a, sizeof(f->bus));
	mmio_bus_init(&f->bus);
	for (int i = 0; i < DEV_COUNT; i++)
		assert_int_equal(mmio_bus_register(&f->bus, layout[i].base, layout[i].size,
						   &fake_ops, &f->dev[i], layout[i].name),
				 0);
	assert_int_equal(f->bus.count, DEV_COUNT);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	free(*state);
	return 0;
}

static int dev_index(const struct fixture *f, const struct mmio_region *region)
{
	if (!region)
		return DEV_NONE;
	for (int i = 0; i < DEV_COUNT; i++)
		if (region->opaque == &f->dev[i])
			return i;
	fail_msg("region %p is not one of the fixture's", (const void *)region);
	return DEV_NONE;
}

static void test_register_cases(void **state)
{
	static const struct {
		gpa_t base;
		uint64_t size;
		int want;
		const char *text;
	} cases[] = {
	    {A_BASE, A_SIZE, -VIREO_EEXIST, "same range as A"},
	    {A_BASE + 0x10, 0x10, -VIREO_EEXIST, "inside A"},
	    {A_BASE - 0x10, A_SIZE + 0x20, -VIREO_EEXIST, "contains A"},
	    {A_BASE - 0x10, 0x11, -VIREO_EEXIST, "overlaps A's first byte"},
	    {A_BASE + A_SIZE - 1, 0x10, -VIREO_EEXIST, "overlaps A's last byte"},
	    {D_BASE, 0x20000000, -VIREO_EEXIST, "spans D, A and B"},
	    {TOP_BASE - 1, 2, -VIREO_EEXIST, "overlaps TOP's first byte"},
	    {UINT64_MAX - 1, 1, -VIREO_EEXIST, "TOP's last byte"},
	    {D_BASE + D_SIZE, A_BASE - D_SIZE, 0, "fills the gap between D and A exactly"},
	    {A_BASE + A_SIZE, 0x1000, 0, "adjacent above A"},
	    {B_BASE - 0x1000, 0x1000, 0, "adjacent below B"},
	    {TOP_BASE - 0x1000, 0x1000, 0, "adjacent below TOP"},
	    {0x20000000, 1, 0, "one byte"},
	    {0x20000000, 0, -VIREO_EINVAL, "size 0"},
	    {A_BASE, 0, -VIREO_EINVAL, "size 0 inside A"},
	    {UINT64_MAX, 1, -VIREO_EINVAL, "ends at 2^64"},
	    {UINT64_MAX, 2, -VIREO_EINVAL, "wraps past 2^64"},
	    {0x20000000, UINT64_MAX, -VIREO_EINVAL, "huge size wraps"},
	    {1, UINT64_MAX, -VIREO_EINVAL, "1 + UINT64_MAX wraps to 0"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fixture *f;
		struct fake_dev dev = {0};
		int ret;

		fixture_setup((void **)&f);
		ret = mmio_bus_register(&f->bus, cases[i].base, cases[i].size, &fake_ops, &dev,
					cases[i].text);
		if (ret != cases[i].want)
			fail_msg("%s: register [0x%llx, +0x%llx) returned %d, want %d",
				 cases[i].text, (unsigned long long)cases[i].base,
				 (unsigned long long)cases[i].size, ret, cases[i].want);
		assert_int_equal(f->bus.count, DEV_COUNT + (ret == 0));
		if (ret == 0) {
			const struct mmio_region *r =
			    mmio_bus_find(&f->bus, cases[i].base + cases[i].size - 1, 1);

			assert_non_null(r);
			assert_ptr_equal(r->opaque, &dev);
			assert_string_equal(r->name, cases[i].text);
		}
		fixture_teardown((void **)&f);
	}
}

static void test_register_rejects_missing_ops(void **state)
{
	static const struct mmio_ops no_read = {.write = fake_write};
	static const struct mmio_ops no_write = {.read = fake_read};
	struct mmio_bus bus;

	(void)state;
	mmio_bus_init(&bus);
	assert_int_equal(mmio_bus_register(&bus, 0x1000, 0x100, NULL, NULL, "x"), -VIREO_EINVAL);
	assert_int_equal(mmio_bus_register(&bus, 0x1000, 0x100, &no_read, NULL, "x"),
			 -VIREO_EINVAL);
	assert_int_equal(mmio_bus_register(&bus, 0x1000, 0x100, &no_write, NULL, "x"),
			 -VIREO_EINVAL);
	assert_int_equal(bus.count, 0);
}

static void test_register_until_full(void **state)
{
	struct mmio_bus bus;
	struct fake_dev dev = {0};

	(void)state;
	mmio_bus_init(&bus);
	for (unsigned i = 0; i < MMIO_BUS_MAX_REGIONS; i++)
		assert_int_equal(
		    mmio_bus_register(&bus, 0x1000 * (i + 1), 0x1000, &fake_ops, &dev, "slot"), 0);
	assert_int_equal(mmio_bus_register(&bus, 0x1000000, 0x1000, &fake_ops, &dev, "one more"),
			 -VIREO_ENOMEM);
	assert_int_equal(bus.count, MMIO_BUS_MAX_REGIONS);
	/* Every slot, the last included, is still found. */
	for (unsigned i = 0; i < MMIO_BUS_MAX_REGIONS; i++)
		assert_ptr_equal(mmio_bus_find(&bus, 0x1000 * (i + 1) + 0xff8, 8), &bus.regions[i]);
	assert_null(mmio_bus_find(&bus, 0x1000000, 1));
}

static void test_init_forgets_regions(void **state)
{
	struct fixture *f = *state;

	mmio_bus_init(&f->bus);
	assert_int_equal(f->bus.count, 0);
	assert_null(mmio_bus_find(&f->bus, A_BASE, 4));
	assert_int_equal(mmio_bus_register(&f->bus, A_BASE, A_SIZE, &fake_ops, NULL, "again"), 0);
}

static void test_find_cases(void **state)
{
	static const struct {
		gpa_t addr;
		unsigned width;
		int want;
		const char *text;
	} cases[] = {
	    {A_BASE, 1, DEV_A, "A's first byte"},
	    {A_BASE, 8, DEV_A, "A's first doubleword"},
	    {A_BASE + A_SIZE - 8, 8, DEV_A, "A's last doubleword"},
	    {A_BASE + A_SIZE - 1, 1, DEV_A, "A's last byte"},
	    {A_BASE, A_SIZE, DEV_A, "all of A"},
	    {A_BASE + 3, 4, DEV_A, "misaligned inside A"},
	    {A_BASE + A_SIZE - 4, 8, DEV_NONE, "straddles A's end"},
	    {A_BASE + A_SIZE - 1, 2, DEV_NONE, "last byte of A and one past"},
	    {A_BASE - 1, 2, DEV_NONE, "straddles A's start"},
	    {A_BASE - 4, 8, DEV_NONE, "straddles A's start by 4"},
	    {A_BASE, A_SIZE + 1, DEV_NONE, "one more than A"},
	    {A_BASE + A_SIZE, 1, DEV_NONE, "one past A"},
	    {A_BASE - 1, 1, DEV_NONE, "one before A"},
	    {A_BASE, 0, DEV_NONE, "width 0"},
	    {D_BASE, 1, DEV_D, "address 0"},
	    {D_BASE + D_SIZE - 8, 8, DEV_D, "D's last doubleword"},
	    {B_BASE + 0x80, 4, DEV_B, "inside B"},
	    {B_BASE + B_SIZE, 4, DEV_NONE, "just past B"},
	    {0x80000000, 8, DEV_NONE, "RAM, unmapped"},
	    {TOP_BASE, 8, DEV_TOP, "TOP's first doubleword"},
	    {UINT64_MAX - 8, 8, DEV_TOP, "TOP's last doubleword"},
	    {UINT64_MAX - 1, 1, DEV_TOP, "TOP's last byte"},
	    {UINT64_MAX - 7, 8, DEV_NONE, "past TOP by one byte"},
	    /* These end past 2^64: a wrapping check would find D at address 0. */
	    {UINT64_MAX, 1, DEV_NONE, "the last address"},
	    {UINT64_MAX, 8, DEV_NONE, "wraps to 7"},
	    {UINT64_MAX - 3, 8, DEV_NONE, "wraps to 4"},
	    {UINT64_MAX - 1, 2, DEV_NONE, "wraps to 0"},
	    {UINT64_MAX - 0x7f, 0x100, DEV_NONE, "wraps to 0x80, inside D"},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int got = dev_index(f, mmio_bus_find(&f->bus, cases[i].addr, cases[i].width));

		if (got != cases[i].want)
			fail_msg("%s: find(0x%llx, %u) gave device %d, want %d", cases[i].text,
				 (unsigned long long)cases[i].addr, cases[i].width, got,
				 cases[i].want);
	}
}

static void check_calls(const struct fixture *f, int dev, bool write)
{
	for (int i = 0; i < DEV_COUNT; i++) {
		bool called = i == dev;

		assert_int_equal(f->dev[i].reads, called && !write);
		assert_int_equal(f->dev[i].writes, called && write);
	}
}

struct access_case {
	bool write;
	gpa_t addr;
	unsigned width;
	uint64_t value;
	int want_ret;
	int want_dev;
	uint64_t want_offset;
	const char *text;
};

static const struct access_case access_cases[] = {
    {false, A_BASE, 4, 0x11223344, 0, DEV_A, 0, "read A at 0"},
    {false, A_BASE + 0x10, 8, 0x8877665544332211ULL, 0, DEV_A, 0x10, "read A+0x10, 8 bytes"},
    {false, B_BASE + 0xff, 1, 0xab, 0, DEV_B, 0xff, "read B's last byte"},
    {false, D_BASE + 2, 2, 0xbeef, 0, DEV_D, 2, "read D+2"},
    {false, UINT64_MAX - 8, 8, 0x1234, 0, DEV_TOP, TOP_SIZE - 8, "read TOP's end"},
    {true, A_BASE + 0x20, 4, 0xdeadbeef, 0, DEV_A, 0x20, "write A+0x20"},
    {true, B_BASE, 8, 0xfedcba9876543210ULL, 0, DEV_B, 0, "write B at 0"},
    {true, D_BASE + 0xfe, 2, 0x8001, 0, DEV_D, 0xfe, "write D's last halfword"},
    {false, 0x80000000, 4, 0, -VIREO_ENOENT, DEV_NONE, 0, "read unmapped"},
    {true, 0x80000000, 4, 1, -VIREO_ENOENT, DEV_NONE, 0, "write unmapped"},
    {false, A_BASE + A_SIZE - 4, 8, 0, -VIREO_ENOENT, DEV_NONE, 0, "read straddling A's end"},
    {true, A_BASE - 2, 4, 1, -VIREO_ENOENT, DEV_NONE, 0, "write straddling A's start"},
    {false, UINT64_MAX, 8, 0, -VIREO_ENOENT, DEV_NONE, 0, "read wrapping past 2^64"},
    {true, UINT64_MAX - 3, 8, 1, -VIREO_ENOENT, DEV_NONE, 0, "write wrapping past 2^64"},
    {false, A_BASE, 0, 0, -VIREO_EINVAL, DEV_NONE, 0, "read width 0"},
    {false, A_BASE, 3, 0, -VIREO_EINVAL, DEV_NONE, 0, "read width 3"},
    {true, A_BASE, 16, 1, -VIREO_EINVAL, DEV_NONE, 0, "write width 16"},
    {true, A_BASE, 5, 1, -VIREO_EINVAL, DEV_NONE, 0, "write width 5"},
};

static void run_access(struct fixture *f, const struct access_case *c)
{
	uint64_t value = 0xa5a5a5a5a5a5a5a5ULL;
	int ret;

	memset(f->dev, 0, sizeof(f->dev));
	if (c->want_dev != DEV_NONE)
		f->dev[c->want_dev].value = c->value;
	if (c->write)
		ret = mmio_bus_write(&f->bus, c->addr, c->width, c->value);
	else
		ret = mmio_bus_read(&f->bus, c->addr, c->width, &value);
	if (ret != c->want_ret)
		fail_msg("%s: returned %d, want %d", c->text, ret, c->want_ret);
	check_calls(f, c->want_dev, c->write);
	if (c->want_dev == DEV_NONE)
		return;
	assert_int_equal(f->dev[c->want_dev].offset, c->want_offset);
	assert_int_equal(f->dev[c->want_dev].width, c->width);
	if (c->write)
		assert_int_equal(f->dev[c->want_dev].value, c->value);
	else
		assert_int_equal(value, c->value);
}

static void test_access_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(access_cases); i++)
		run_access(*state, &access_cases[i]);
}

static void test_device_error_is_returned(void **state)
{
	struct fixture *f = *state;
	uint64_t value;

	f->dev[DEV_B].ret = -VIREO_EIO;
	assert_int_equal(mmio_bus_read(&f->bus, B_BASE, 4, &value), -VIREO_EIO);
	assert_int_equal(mmio_bus_write(&f->bus, B_BASE, 4, 0), -VIREO_EIO);
	assert_int_equal(f->dev[DEV_B].reads, 1);
	assert_int_equal(f->dev[DEV_B].writes, 1);
}

/* A read handler that forgets *value must not hand the caller's stack to the guest. */
static void test_read_value_zeroed_for_lazy_device(void **state)
{
	struct fixture *f = *state;
	uint64_t value = 0xa5a5a5a5a5a5a5a5ULL;

	f->dev[DEV_A].leave_value = true;
	assert_int_equal(mmio_bus_read(&f->bus, A_BASE, 8, &value), 0);
	assert_int_equal(value, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_cases),
	    cmocka_unit_test(test_register_rejects_missing_ops),
	    cmocka_unit_test(test_register_until_full),
	    cmocka_unit_test_setup_teardown(test_init_forgets_regions, fixture_setup,
					    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_find_cases, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_access_cases, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_device_error_is_returned, fixture_setup,
					    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_read_value_zeroed_for_lazy_device, fixture_setup,
					    fixture_teardown),
	};

	return cmocka_run_group_tests_name("mmio_bus", tests, NULL, NULL);
}
