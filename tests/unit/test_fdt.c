// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the host device tree parser (hv/core/platform.c).
 *
 * The DTBs are compiled by dtc at build time from the .dts files in tests/unit/dts (see
 * fdt.mk) into DTB_DIR. qemu-virt-smp4-2g.dts is QEMU's own virt tree; the
 * others are written for one edge case each. Some cases are made at run time
 * by editing a copy of minimal.dtb with libfdt.
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

/* Room for run-time edits of a loaded tree. */
#define EDIT_ROOM 16384

/* Load DTB_DIR/<name>.dtb into a malloc'd buffer with `extra` spare bytes. */
static void *load_dtb(const char *name, size_t extra)
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
	buf = malloc((size_t)size + extra);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	assert_int_equal(fdt_check_header(buf), 0);
	if (extra)
		assert_int_equal(fdt_open_into(buf, buf, (int)((size_t)size + extra)), 0);
	return buf;
}

/* Parse a tree that must parse; the result is checked by the caller. */
static void parse_ok(const void *fdt, struct platform *plat)
{
	const char *why = NULL;
	int err = platform_parse(fdt, plat, &why);

	if (err)
		fail_msg("platform_parse failed: %d (%s)", err, why ? why : "?");
}

static void assert_range(const struct mem_range *r, uint64_t start, uint64_t end)
{
	assert_int_equal(r->start, start);
	assert_int_equal(r->end, end);
}

static void assert_mmio(const struct platform_mmio *m, uint64_t base, uint64_t size, unsigned irq)
{
	assert_true(m->present);
	assert_int_equal(m->base, base);
	assert_int_equal(m->size, size);
	assert_int_equal(m->irq, irq);
}

/* ---- QEMU's own tree. */

static void test_qemu_virt(void **state)
{
	struct platform plat;
	void *fdt = load_dtb("qemu-virt-smp4-2g", 0);

	(void)state;
	parse_ok(fdt, &plat);

	assert_int_equal(plat.nram, 1);
	assert_range(&plat.ram[0], 0x80000000, 0x100000000);
	assert_int_equal(platform_ram_size(&plat), 2 * GIB);
	assert_int_equal(plat.nreserved, 0);

	assert_int_equal(plat.nharts, 4);
	assert_int_equal(plat.harts_skipped, 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(plat.hartids[i], i);
	assert_int_equal(plat.timebase_hz, 10000000);
	assert_string_equal(plat.isa,
			    "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc");

	assert_mmio(&plat.uart, 0x10000000, 0x100, 10);
	assert_int_equal(plat.uart_reg_shift, 0);
	assert_int_equal(plat.uart_io_width, 1);

	assert_mmio(&plat.plic, 0xc000000, 0x600000, 0);
	assert_int_equal(plat.plic_ndev, 0x60);
	/* <&cpu0 11 &cpu0 9 &cpu1 11 &cpu1 9 ...>: the S contexts are the odd ones. */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(plat.plic_s_context[i], 2 * i + 1);
	for (unsigned i = 4; i < VIREO_MAX_HARTS; i++)
		assert_int_equal(plat.plic_s_context[i], -1);

	/* Eight slots, in DT order (QEMU lists them from the top down). */
	assert_int_equal(plat.nvirtio, 8);
	for (unsigned i = 0; i < 8; i++)
		assert_mmio(&plat.virtio[i], 0x10008000 - 0x1000 * i, 0x1000, 8 - i);

	/* "sifive,test1", "sifive,test0", "syscon": found by its second compatible. */
	assert_mmio(&plat.finisher, 0x100000, 0x1000, 0);

	/* The wall clock, and the boot seed: found where it is, 32 bytes, not copied. */
	assert_mmio(&plat.rtc, 0x101000, 0x1000, 11);
	static const uint8_t seed_start[] = {0x0c, 0x2a, 0xc7, 0x04, 0x3e, 0x4e};
	int chosen = fdt_path_offset(fdt, "/chosen"), len;
	assert_int_equal(plat.rng_seed_len, 32);
	assert_ptr_equal(plat.rng_seed, fdt_getprop(fdt, chosen, "rng-seed", &len));
	assert_memory_equal(plat.rng_seed, seed_start, sizeof(seed_start));

	assert_false(plat.has_initrd);
	free(fdt);
}

/* ---- Hand-written edge cases. */

static void test_sparse_harts(void **state)
{
	struct platform plat;
	void *fdt = load_dtb("sparse-harts", 0);

	(void)state;
	parse_ok(fdt, &plat);

	/* Enabled harts only, in DT order, not sorted. */
	assert_int_equal(plat.nharts, 2);
	assert_int_equal(plat.hartids[0], 5);
	assert_int_equal(plat.hartids[1], 3);
	assert_int_equal(plat.harts_skipped, 0);
	/* The ISA of the first enabled hart, not of the disabled one before it. */
	assert_string_equal(plat.isa, "rv64imafdch_zicsr_zifencei");
	/* No timebase in /cpus: the cpu node's. */
	assert_int_equal(plat.timebase_hz, 1000000);

	/* Contexts 2 and 3 belong to the disabled hart 4. */
	assert_int_equal(plat.plic_s_context[0], 1);
	assert_int_equal(plat.plic_s_context[1], 5);
	for (unsigned i = 2; i < VIREO_MAX_HARTS; i++)
		assert_int_equal(plat.plic_s_context[i], -1);
	assert_mmio(&plat.plic, 0xc000000, 0x4000000, 0);
	assert_int_equal(plat.plic_ndev, 53);
	free(fdt);
}

static void test_memory_one_cell(void **state)
{
	struct platform plat;
	void *fdt = load_dtb("sparse-harts", 0);

	(void)state;
	parse_ok(fdt, &plat);
	/* Two memory nodes; the disabled third is not RAM. */
	assert_int_equal(plat.nram, 2);
	assert_range(&plat.ram[0], 0x80000000, 0xa0000000);
	assert_range(&plat.ram[1], 0xc0000000, 0xd0000000);
	assert_int_equal(platform_ram_size(&plat), 768 * MIB);
	free(fdt);
}

static void test_reserved_memory(void **state)
{
	struct platform plat;
	void *fdt = load_dtb("sparse-harts", 0);

	(void)state;
	parse_ok(fdt, &plat);
	/* /memreserve/ first, then every reg range of /reserved-memory's children;
	 * the child with no reg (a dynamic pool) reserves nothing. */
	assert_int_equal(plat.nreserved, 5);
	assert_range(&plat.reserved[0], 0x88000000, 0x88001000);
	assert_range(&plat.reserved[1], 0x90000000, 0x90200000);
	assert_range(&plat.reserved[2], 0x80000000, 0x80040000);
	assert_range(&plat.reserved[3], 0x9f000000, 0x9f100000);
	assert_range(&plat.reserved[4], 0x9f800000, 0x9f802000);
	free(fdt);
}

static void test_uart_reg_shift_and_width(void **state)
{
	struct platform plat;
	void *fdt = load_dtb("sparse-harts", 0);

	(void)state;
	parse_ok(fdt, &plat);
	/* "snps,dw-apb-uart", "ns16550a": found by its second compatible. */
	assert_mmio(&plat.uart, 0x10000000, 0x100, 33);
	assert_int_equal(plat.uart_reg_shift, 2);
	assert_int_equal(plat.uart_io_width, 4);
	assert_int_equal(plat.nvirtio, 0);
	assert_false(plat.finisher.present);
	free(fdt);
}

static void test_initrd_32bit_cells(void **state)
{
	struct platform plat;
	void *fdt = load_dtb("sparse-harts", 0);

	(void)state;
	parse_ok(fdt, &plat);
	assert_true(plat.has_initrd);
	assert_range(&plat.initrd, 0x84000000, 0x84123456);
	free(fdt);
}

static void test_wide_cells(void **state)
{
	struct platform plat;
	void *fdt = load_dtb("wide-cells", 0);

	(void)state;
	parse_ok(fdt, &plat);

	/* Two ranges from one node, the size-0 node skipped, status "ok" counts. */
	assert_int_equal(plat.nram, 3);
	assert_range(&plat.ram[0], 0x80000000, 0xc0000000);
	assert_range(&plat.ram[1], 0x100000000, 0x180000000);
	assert_range(&plat.ram[2], 0x200000000, 0x210000000);
	assert_int_equal(platform_ram_size(&plat), 3 * GIB + 256 * MIB);
	assert_int_equal(plat.nreserved, 0);

	/* Two-cell hart ids. */
	assert_int_equal(plat.nharts, 2);
	assert_int_equal(plat.hartids[0], 0x100000002UL);
	assert_int_equal(plat.hartids[1], 0);
	assert_string_equal(plat.isa, "rv64gch");
	/* /cpus has the say over a cpu node. */
	assert_int_equal(plat.timebase_hz, 24000000);

	/* The PLIC lists hart 0 first: the hart of index 0 has context 3. */
	assert_mmio(&plat.plic, 0xc000000, 0x4000000, 0);
	assert_int_equal(plat.plic_ndev, 31);
	assert_int_equal(plat.plic_s_context[0], 3);
	assert_int_equal(plat.plic_s_context[1], 1);
	assert_int_equal(plat.plic_s_context[2], -1);

	/* The disabled 16550 is passed over; defaults for shift and width. */
	assert_mmio(&plat.uart, 0x10010000, 0x1000, 12);
	assert_int_equal(plat.uart_reg_shift, 0);
	assert_int_equal(plat.uart_io_width, 1);

	/* The disabled slot is not a slot. */
	assert_int_equal(plat.nvirtio, 2);
	assert_mmio(&plat.virtio[0], 0x10008000, 0x1000, 8);
	assert_mmio(&plat.virtio[1], 0x10001000, 0x1000, 1);
	assert_false(plat.virtio[2].present);

	assert_mmio(&plat.finisher, 0x100000, 0x1000, 0);

	/* 64-bit initrd cells. */
	assert_true(plat.has_initrd);
	assert_range(&plat.initrd, 0x100000000, 0x100200000);
	free(fdt);
}

static void test_minimal(void **state)
{
	struct platform plat;
	void *fdt = load_dtb("minimal", 0);

	(void)state;
	memset(&plat, 0x5a, sizeof(plat)); /* the parser must clear what it does not set */
	parse_ok(fdt, &plat);
	assert_int_equal(plat.nram, 1);
	assert_range(&plat.ram[0], 0x80000000, 0x88000000);
	assert_int_equal(plat.nreserved, 0);
	assert_int_equal(plat.nharts, 1);
	assert_int_equal(plat.hartids[0], 0);
	assert_int_equal(plat.harts_skipped, 0);
	assert_string_equal(plat.isa, "rv64imac");
	assert_int_equal(plat.timebase_hz, 10000000);
	assert_false(plat.uart.present);
	assert_false(plat.plic.present);
	assert_false(plat.finisher.present);
	assert_false(plat.rtc.present);
	assert_null(plat.rng_seed);
	assert_int_equal(plat.rng_seed_len, 0);
	assert_int_equal(plat.nvirtio, 0);
	assert_int_equal(plat.plic_ndev, 0);
	/* No PLIC: no hart has an S context. */
	for (unsigned i = 0; i < VIREO_MAX_HARTS; i++)
		assert_int_equal(plat.plic_s_context[i], -1);
	assert_false(plat.has_initrd);
	free(fdt);
}

/* ---- Error paths. */

static void expect_error(const void *fdt, int want, const char *why_contains)
{
	struct platform plat;
	const char *why = NULL;

	assert_int_equal(platform_parse(fdt, &plat, &why), want);
	assert_non_null(why);
	if (!strstr(why, why_contains))
		fail_msg("reason \"%s\" does not mention \"%s\"", why, why_contains);
}

static void test_error_no_memory(void **state)
{
	void *fdt = load_dtb("no-memory", 0);

	(void)state;
	expect_error(fdt, -VIREO_ENOENT, "memory");
	free(fdt);
}

static void test_error_no_cpus(void **state)
{
	void *fdt = load_dtb("no-cpus", 0);

	(void)state;
	expect_error(fdt, -VIREO_ENOENT, "/cpus");
	free(fdt);
}

static void test_error_no_enabled_cpu(void **state)
{
	void *fdt = load_dtb("no-enabled-cpu", 0);

	(void)state;
	expect_error(fdt, -VIREO_ENOENT, "cpu");
	free(fdt);
}

static void test_error_no_timebase(void **state)
{
	void *fdt = load_dtb("no-timebase", 0);

	(void)state;
	expect_error(fdt, -VIREO_ENOENT, "timebase");
	free(fdt);
}

static void test_error_bad_header(void **state)
{
	static uint64_t garbage[64];
	void *fdt = load_dtb("minimal", 0);
	size_t size = fdt_totalsize(fdt);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(garbage); i++)
		garbage[i] = 0x0123456789abcdefULL * (i + 1);
	expect_error(garbage, -VIREO_EINVAL, "device tree");
	memset(garbage, 0, sizeof(garbage));
	expect_error(garbage, -VIREO_EINVAL, "device tree");

	/* A good tree with its magic broken. */
	void *bad = malloc(size);
	assert_non_null(bad);
	memcpy(bad, fdt, size);
	((uint8_t *)bad)[0] ^= 0xff;
	expect_error(bad, -VIREO_EINVAL, "device tree");

	/* ... with a version libfdt does not know. */
	memcpy(bad, fdt, size);
	fdt_set_version(bad, 99);
	fdt_set_last_comp_version(bad, 99);
	expect_error(bad, -VIREO_EINVAL, "device tree");

	/* ... with blocks that point past its end. */
	memcpy(bad, fdt, size);
	fdt_set_off_dt_strings(bad, (uint32_t)size + 64);
	expect_error(bad, -VIREO_EINVAL, "device tree");
	free(bad);
	free(fdt);
}

/* ---- Edge cases made at run time from minimal.dtb. */

static void test_more_harts_than_supported(void **state)
{
	const unsigned extra = VIREO_MAX_HARTS + 3; /* plus cpu@0: MAX + 4 enabled */
	void *fdt = load_dtb("minimal", EDIT_ROOM);
	int cpus = fdt_path_offset(fdt, "/cpus");
	struct platform plat;

	(void)state;
	assert_true(cpus >= 0);
	/* Added at the front, so they come out in reverse: 100 + extra - 1 first. */
	for (unsigned i = 0; i < extra; i++) {
		char name[32];
		snprintf(name, sizeof(name), "cpu@%x", 100 + i);
		int node = fdt_add_subnode(fdt, cpus, name);
		assert_true(node >= 0);
		assert_int_equal(fdt_setprop_string(fdt, node, "device_type", "cpu"), 0);
		assert_int_equal(fdt_setprop_u32(fdt, node, "reg", 100 + i), 0);
		assert_int_equal(fdt_setprop_string(fdt, node, "riscv,isa", "rv64imac"), 0);
	}
	parse_ok(fdt, &plat);
	assert_int_equal(plat.nharts, VIREO_MAX_HARTS);
	assert_int_equal(plat.harts_skipped, extra + 1 - VIREO_MAX_HARTS);
	for (unsigned i = 0; i < VIREO_MAX_HARTS; i++)
		assert_int_equal(plat.hartids[i], 100 + extra - 1 - i);
	free(fdt);
}

static void test_initrd_edge_cases(void **state)
{
	void *fdt = load_dtb("minimal", EDIT_ROOM);
	struct platform plat;
	int chosen = fdt_add_subnode(fdt, 0, "chosen");
	const fdt32_t three_cells[3] = {cpu_to_fdt32(0), cpu_to_fdt32(0x1000),
					cpu_to_fdt32(0x2000)};

	(void)state;
	assert_true(chosen >= 0);

	/* Only a start: no initrd. */
	assert_int_equal(fdt_setprop_u32(fdt, chosen, "linux,initrd-start", 0x84000000), 0);
	parse_ok(fdt, &plat);
	assert_false(plat.has_initrd);

	/* 32-bit start, 64-bit end: each read at its own size. */
	assert_int_equal(fdt_setprop_u64(fdt, chosen, "linux,initrd-end", 0x84800000), 0);
	parse_ok(fdt, &plat);
	assert_true(plat.has_initrd);
	assert_range(&plat.initrd, 0x84000000, 0x84800000);

	/* An empty or backwards range is no initrd. */
	assert_int_equal(fdt_setprop_u32(fdt, chosen, "linux,initrd-end", 0x84000000), 0);
	parse_ok(fdt, &plat);
	assert_false(plat.has_initrd);
	assert_int_equal(fdt_setprop_u32(fdt, chosen, "linux,initrd-end", 0x83000000), 0);
	parse_ok(fdt, &plat);
	assert_false(plat.has_initrd);

	/* A property of 3 cells is neither form. */
	assert_int_equal(
	    fdt_setprop(fdt, chosen, "linux,initrd-end", three_cells, sizeof(three_cells)), 0);
	parse_ok(fdt, &plat);
	assert_false(plat.has_initrd);
	free(fdt);
}

static void test_too_many_ranges(void **state)
{
	void *fdt = load_dtb("minimal", EDIT_ROOM);
	int mem = fdt_path_offset(fdt, "/memory@80000000");
	fdt64_t reg[2 * (PLATFORM_MAX_RAM + 2)];
	struct platform plat;

	(void)state;
	assert_true(mem >= 0);
	/* PLATFORM_MAX_RAM + 2 ranges of 16 MiB, 32 MiB apart: the first MAX are kept. */
	for (unsigned i = 0; i < PLATFORM_MAX_RAM + 2; i++) {
		reg[2 * i] = cpu_to_fdt64(0x80000000ULL + i * 32 * MIB);
		reg[2 * i + 1] = cpu_to_fdt64(16 * MIB);
	}
	assert_int_equal(fdt_setprop(fdt, mem, "reg", reg, sizeof(reg)), 0);
	/* PLATFORM_MAX_RESERVED + 4 /memreserve/ entries: the first MAX are kept. */
	for (unsigned i = 0; i < PLATFORM_MAX_RESERVED + 4; i++)
		assert_int_equal(fdt_add_mem_rsv(fdt, 0x80000000ULL + i * PAGE_SIZE, PAGE_SIZE), 0);
	parse_ok(fdt, &plat);
	assert_int_equal(plat.nram, PLATFORM_MAX_RAM);
	for (unsigned i = 0; i < PLATFORM_MAX_RAM; i++)
		assert_range(&plat.ram[i], 0x80000000ULL + i * 32 * MIB,
			     0x80000000ULL + i * 32 * MIB + 16 * MIB);
	assert_int_equal(platform_ram_size(&plat), PLATFORM_MAX_RAM * 16 * MIB);
	assert_int_equal(plat.nreserved, PLATFORM_MAX_RESERVED);
	for (unsigned i = 0; i < PLATFORM_MAX_RESERVED; i++)
		assert_range(&plat.reserved[i], 0x80000000ULL + i * PAGE_SIZE,
			     0x80000000ULL + (i + 1) * PAGE_SIZE);
	free(fdt);
}

static void test_long_isa_truncated(void **state)
{
	void *fdt = load_dtb("minimal", EDIT_ROOM);
	int cpu = fdt_path_offset(fdt, "/cpus/cpu@0");
	char isa[PLATFORM_ISA_MAX + 40];
	struct platform plat;

	(void)state;
	assert_true(cpu >= 0);
	memset(isa, 'x', sizeof(isa) - 1);
	memcpy(isa, "rv64gc_", 7);
	isa[sizeof(isa) - 1] = '\0';
	assert_int_equal(fdt_setprop_string(fdt, cpu, "riscv,isa", isa), 0);
	parse_ok(fdt, &plat);
	assert_int_equal(strlen(plat.isa), PLATFORM_ISA_MAX - 1);
	assert_memory_equal(plat.isa, isa, PLATFORM_ISA_MAX - 1);

	/* No riscv,isa at all: an empty string. */
	assert_int_equal(fdt_delprop(fdt, cpu, "riscv,isa"), 0);
	parse_ok(fdt, &plat);
	assert_string_equal(plat.isa, "");
	free(fdt);
}

static void test_cpu_without_reg_or_type_ignored(void **state)
{
	void *fdt = load_dtb("minimal", EDIT_ROOM);
	int cpus = fdt_path_offset(fdt, "/cpus");
	struct platform plat;

	(void)state;
	/* A cpu with no reg, and a node with a reg but no device_type: neither is a hart. */
	int a = fdt_add_subnode(fdt, cpus, "cpu@9");
	assert_true(a >= 0);
	assert_int_equal(fdt_setprop_string(fdt, a, "device_type", "cpu"), 0);
	int b = fdt_add_subnode(fdt, cpus, "thing@8");
	assert_true(b >= 0);
	assert_int_equal(fdt_setprop_u32(fdt, b, "reg", 8), 0);
	parse_ok(fdt, &plat);
	assert_int_equal(plat.nharts, 1);
	assert_int_equal(plat.hartids[0], 0);
	free(fdt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qemu_virt),
	    cmocka_unit_test(test_sparse_harts),
	    cmocka_unit_test(test_memory_one_cell),
	    cmocka_unit_test(test_reserved_memory),
	    cmocka_unit_test(test_uart_reg_shift_and_width),
	    cmocka_unit_test(test_initrd_32bit_cells),
	    cmocka_unit_test(test_wide_cells),
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_error_no_memory),
	    cmocka_unit_test(test_error_no_cpus),
	    cmocka_unit_test(test_error_no_enabled_cpu),
	    cmocka_unit_test(test_error_no_timebase),
	    cmocka_unit_test(test_error_bad_header),
	    cmocka_unit_test(test_more_harts_than_supported),
	    cmocka_unit_test(test_initrd_edge_cases),
	    cmocka_unit_test(test_too_many_ranges),
	    cmocka_unit_test(test_long_isa_truncated),
	    cmocka_unit_test(test_cpu_without_reg_or_type_ignored),
	};

	return cmocka_run_group_tests_name("fdt", tests, NULL, NULL);
}
