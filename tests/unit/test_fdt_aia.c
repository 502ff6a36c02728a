// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the AIA half of the host device tree parser
 * (hv/core/platform_aia.c): which APLIC and IMSIC are the supervisor-level
 * ones, direct or MSI delivery, IDC order, interrupt files and the hart
 * indexes an APLIC's MSIs name them by. The DTBs come from tests/unit/dts
 * (fdt.mk compiles them); qemu-virt-aplic*.dts are QEMU 7.2's trees as
 * OpenSBI v1.1 passes them on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libfdt.h>
#include <vireo/platform.h>
#include <vireo/string.h>

#ifndef DTB_DIR
#error "DTB_DIR must name the directory of the compiled test DTBs"
#endif

/* hv/lib/string.c provides this on the target; glibc 2.36 has none. */
size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

static void *load_dtb(const char *name)
{
	char path[512];
	FILE *f;
	long size;
	void *buf;

	snprintf(path, sizeof(path), "%s/%s.dtb", DTB_DIR, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (is it built? see tests/unit/fdt.mk)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = malloc((size_t)size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	assert_int_equal(fdt_check_header(buf), 0);
	return buf;
}

static void parse(const char *name, struct platform *plat)
{
	void *fdt = load_dtb(name);
	const char *why = NULL;

	if (platform_parse(fdt, plat, &why))
		fail_msg("platform_parse(%s) failed: %s", name, why ? why : "?");
	free(fdt);
}

/* aia=aplic: the S-level APLIC delivers directly, IDC i = hart i; no IMSIC, no PLIC. */
static void test_qemu_aplic_direct(void **state)
{
	struct platform plat;

	(void)state;
	parse("qemu-virt-aplic", &plat);
	assert_false(plat.plic.present);
	assert_true(plat.aplic.present);
	assert_false(plat.aplic.msi);
	assert_int_equal(plat.aplic.base, 0xd000000);
	assert_int_equal(plat.aplic.size, 0x8000);
	assert_int_equal(plat.aplic.nsources, 96);
	assert_int_equal(plat.aplic.idc[0], 0);
	assert_int_equal(plat.aplic.idc[1], 1);
	assert_int_equal(plat.aplic.idc[2], -1);
	assert_false(plat.imsic.present);
	/* The devices' two-cell specifiers: source and trigger type (level high). */
	assert_int_equal(plat.uart.irq, 10);
	assert_int_equal(plat.uart.irq_type, PLATFORM_IRQ_LEVEL_HIGH);
	assert_true(plat.nvirtio > 0);
	assert_int_equal(plat.virtio[0].irq_type, PLATFORM_IRQ_LEVEL_HIGH);
}

/* aia=aplic-imsic,aia-guests=3: MSI mode, the S-level IMSIC with 4-page strides. */
static void test_qemu_aplic_imsic(void **state)
{
	struct platform plat;

	(void)state;
	parse("qemu-virt-aplic-imsic", &plat);
	assert_true(plat.aplic.present);
	assert_true(plat.aplic.msi);
	assert_int_equal(plat.aplic.base, 0xd000000);
	assert_int_equal(plat.aplic.idc[0], -1);
	assert_true(plat.imsic.present);
	assert_int_equal(plat.imsic.num_ids, 255);
	assert_int_equal(plat.imsic.guest_index_bits, 2);
	assert_int_equal(plat.imsic.hart_index_bits, 1); /* two harts: the binding's default */
	assert_int_equal(plat.imsic.group_index_bits, 0);
	assert_int_equal(plat.imsic.group_index_shift, 24);
	assert_int_equal(plat.imsic.file[0], 0x28000000);
	assert_int_equal(plat.imsic.file[1], 0x28004000);
	assert_int_equal(plat.imsic.file[2], 0);
	assert_int_equal(plat.imsic.hart_index[0], 0);
	assert_int_equal(plat.imsic.hart_index[1], 1);
}

/* The PLIC machine has none of it. */
static void test_qemu_plic_has_no_aia(void **state)
{
	struct platform plat;

	(void)state;
	parse("qemu-virt-smp4-2g", &plat);
	assert_true(plat.plic.present);
	assert_false(plat.aplic.present);
	assert_false(plat.imsic.present);
	for (int i = 0; i < 4; i++)
		assert_int_equal(plat.aplic.idc[i], -1);
	/* One-cell specifiers have no trigger type. */
	assert_int_equal(plat.uart.irq, 10);
	assert_int_equal(plat.uart.irq_type, 0);
}

/* Machine-level nodes left enabled are skipped; IDCs follow interrupts-extended, not
 * the harts' order; edge-triggered specifiers are kept as such. */
static void test_edge_direct_reverse_idcs(void **state)
{
	struct platform plat;

	(void)state;
	parse("aia-edge", &plat);
	assert_int_equal(plat.nharts, 2);
	assert_int_equal(plat.hartids[0], 2);
	assert_int_equal(plat.hartids[1], 5);
	assert_true(plat.aplic.present);
	assert_int_equal(plat.aplic.base, 0xd000000);
	assert_int_equal(plat.aplic.nsources, 64);
	assert_false(plat.aplic.msi);
	assert_int_equal(plat.aplic.idc[0], 1); /* hart 2 is the second entry */
	assert_int_equal(plat.aplic.idc[1], 0); /* hart 5 is the first */
	assert_false(plat.imsic.present);	/* only a machine-level one */
	assert_int_equal(plat.virtio[0].irq, 1);
	assert_int_equal(plat.virtio[0].irq_type, PLATFORM_IRQ_EDGE_RISING);
}

/* Files in two ranges and two groups: addresses walk the ranges in order, and the
 * hart index is group << hart-index-bits | hart field of the address. */
static void test_imsic_groups_and_ranges(void **state)
{
	static const uint64_t files[4] = {0x28000000, 0x28004000, 0x38000000, 0x38004000};
	struct platform plat;

	(void)state;
	parse("aia-imsic-groups", &plat);
	assert_true(plat.aplic.present);
	assert_int_equal(plat.aplic.base, 0xd000000); /* not the one under the M-level IMSIC */
	assert_true(plat.aplic.msi);
	assert_true(plat.imsic.present);
	assert_int_equal(plat.imsic.num_ids, 255);
	assert_int_equal(plat.imsic.guest_index_bits, 2);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(plat.imsic.file[i], files[i]);
		assert_int_equal(plat.imsic.hart_index[i], i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qemu_aplic_direct),
	    cmocka_unit_test(test_qemu_aplic_imsic),
	    cmocka_unit_test(test_qemu_plic_has_no_aia),
	    cmocka_unit_test(test_edge_direct_reverse_idcs),
	    cmocka_unit_test(test_imsic_groups_and_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
