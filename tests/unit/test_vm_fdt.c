// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the guest device tree (hv/core/vm_fdt.c): trees are built for
 * several VM shapes and read back with libfdt, node by node and property by
 * property; one is also given to dtc. Then the guest ISA string filter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libfdt.h>
#include <vireo/vm_fdt.h>
#include <vireo/vm_layout.h>

#define BUF_SIZE (64 * KIB)
#define ISA	 "rv64imafdc_zicsr_zifencei_zihintpause_sstc"

static struct vm_fdt_params params(unsigned nvcpus)
{
	struct vm_fdt_params p = {
	    .name = "guest-one",
	    .nvcpus = nvcpus,
	    .isa = ISA,
	    .mmu_type = "riscv,sv48",
	    .timebase_hz = 10000000,
	    .ram_base = 0x80000000,
	    .ram_size = 256 * MIB,
	    .bootargs = "console=ttyS0 earlycon=sbi root=/dev/vda rw",
	};

	return p;
}

/* ---------------------------------------------------------------- readers */

static int node_at(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	if (off < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(off));
	return off;
}

static void expect_no_node(const void *fdt, const char *path)
{
	assert_int_equal(fdt_path_offset(fdt, path), -FDT_ERR_NOTFOUND);
}

static const void *prop(const void *fdt, int node, const char *name, int want_len)
{
	int len;
	const void *v = fdt_getprop(fdt, node, name, &len);

	if (!v)
		fail_msg("node %s has no property %s", fdt_get_name(fdt, node, NULL), name);
	if (want_len >= 0 && len != want_len)
		fail_msg("%s/%s is %d bytes, not %d", fdt_get_name(fdt, node, NULL), name, len,
			 want_len);
	return v;
}

static void expect_no_prop(const void *fdt, int node, const char *name)
{
	int len;

	assert_null(fdt_getprop(fdt, node, name, &len));
	assert_int_equal(len, -FDT_ERR_NOTFOUND);
}

static uint32_t cell(const void *p, unsigned i)
{
	fdt32_t v;

	memcpy(&v, (const uint8_t *)p + 4 * i, 4);
	return fdt32_to_cpu(v);
}

static uint32_t prop_u32(const void *fdt, int node, const char *name)
{
	return cell(prop(fdt, node, name, 4), 0);
}

static uint64_t prop_u64(const void *fdt, int node, const char *name)
{
	const void *p = prop(fdt, node, name, 8);

	return (uint64_t)cell(p, 0) << 32 | cell(p, 1);
}

static void expect_str_prop(const void *fdt, int node, const char *name, const char *want)
{
	const char *s = prop(fdt, node, name, (int)strlen(want) + 1);

	assert_string_equal(s, want);
}

static void expect_empty(const void *fdt, int node, const char *name)
{
	prop(fdt, node, name, 0);
}

static void expect_reg(const void *fdt, int node, uint64_t base, uint64_t size)
{
	const void *p = prop(fdt, node, "reg", 16);

	assert_int_equal((uint64_t)cell(p, 0) << 32 | cell(p, 1), base);
	assert_int_equal((uint64_t)cell(p, 2) << 32 | cell(p, 3), size);
}

static int count_subnodes(const void *fdt, int node)
{
	int n = 0, child;

	fdt_for_each_subnode(child, fdt, node) n++;
	return n;
}

/* ---------------------------------------------------------------- the whole tree */

/* riscv,isa-base and riscv,isa-extensions say what riscv,isa says, name by name. */
static void expect_isa_extensions(const void *fdt, int cpu, const char *isa)
{
	char want[512];
	const char *list;
	size_t n = 0;
	int len;

	expect_str_prop(fdt, cpu, "riscv,isa-base",
			strncmp(isa, "rv64", 4) == 0 ? "rv64i" : "rv32i");
	for (const char *p = isa + 4; *p && *p != '_'; p++) {
		want[n++] = *p;
		want[n++] = '\0';
	}
	for (const char *p = strchr(isa, '_'); p; p = strchr(p + 1, '_')) {
		size_t l = strcspn(p + 1, "_");

		memcpy(want + n, p + 1, l);
		n += l;
		want[n++] = '\0';
	}
	list = fdt_getprop(fdt, cpu, "riscv,isa-extensions", &len);
	assert_non_null(list);
	assert_int_equal(len, (int)n);
	assert_memory_equal(list, want, n);
}

static void check_tree(const void *fdt, int size, const struct vm_fdt_params *p)
{
	char path[64];
	int root, chosen, mem, cpus, soc, plic, uart, node, next, depth = 0;
	uint32_t plic_ph;
	const void *ext;
	unsigned nvirtio = 0;

	assert_true(size > 0);
	assert_int_equal(fdt_check_header(fdt), 0);
	assert_int_equal(fdt_totalsize(fdt), (uint32_t)size);
	assert_int_equal(fdt_num_mem_rsv(fdt), 0);
	/* Every node is reachable and well formed. */
	for (node = 0; node >= 0 && depth >= 0; node = fdt_next_node(fdt, node, &depth))
		assert_non_null(fdt_get_name(fdt, node, NULL));
	assert_int_equal(depth, -1); /* the root is closed, and nothing follows it */
	assert_int_equal(fdt_next_tag(fdt, node, &next), FDT_END);

	root = node_at(fdt, "/");
	assert_int_equal(prop_u32(fdt, root, "#address-cells"), 2);
	assert_int_equal(prop_u32(fdt, root, "#size-cells"), 2);
	expect_str_prop(fdt, root, "compatible", "vireo,vm");
	expect_str_prop(fdt, root, "model", p->name ? p->name : "vireo-vm");
	/* chosen, memory, cpus, soc, hypervisor */
	assert_int_equal(count_subnodes(fdt, root), 5);

	snprintf(path, sizeof(path), "/memory@%llx", (unsigned long long)p->ram_base);
	mem = node_at(fdt, path);
	expect_str_prop(fdt, mem, "device_type", "memory");
	expect_reg(fdt, mem, p->ram_base, p->ram_size);

	/* cpus */
	cpus = node_at(fdt, "/cpus");
	assert_int_equal(prop_u32(fdt, cpus, "#address-cells"), 1);
	assert_int_equal(prop_u32(fdt, cpus, "#size-cells"), 0);
	assert_int_equal(prop_u32(fdt, cpus, "timebase-frequency"), p->timebase_hz);
	assert_int_equal(count_subnodes(fdt, cpus), (int)p->nvcpus);
	for (unsigned i = 0; i < p->nvcpus; i++) {
		int cpu, intc;

		snprintf(path, sizeof(path), "/cpus/cpu@%x", i);
		cpu = node_at(fdt, path);
		expect_str_prop(fdt, cpu, "device_type", "cpu");
		assert_int_equal(prop_u32(fdt, cpu, "reg"), i);
		expect_str_prop(fdt, cpu, "status", "okay");
		expect_str_prop(fdt, cpu, "compatible", "riscv");
		expect_str_prop(fdt, cpu, "riscv,isa", p->isa);
		expect_isa_extensions(fdt, cpu, p->isa);
		expect_str_prop(fdt, cpu, "mmu-type", p->mmu_type);
		assert_int_equal(count_subnodes(fdt, cpu), 1);
		snprintf(path, sizeof(path), "/cpus/cpu@%x/interrupt-controller", i);
		intc = node_at(fdt, path);
		assert_int_equal(prop_u32(fdt, intc, "#interrupt-cells"), 1);
		expect_empty(fdt, intc, "interrupt-controller");
		expect_str_prop(fdt, intc, "compatible", "riscv,cpu-intc");
		assert_int_not_equal(fdt_get_phandle(fdt, intc), 0);
		assert_int_equal(fdt_node_offset_by_phandle(fdt, fdt_get_phandle(fdt, intc)), intc);
	}
	snprintf(path, sizeof(path), "/cpus/cpu@%x", p->nvcpus);
	expect_no_node(fdt, path);

	/* soc and its PLIC */
	soc = node_at(fdt, "/soc");
	assert_int_equal(prop_u32(fdt, soc, "#address-cells"), 2);
	assert_int_equal(prop_u32(fdt, soc, "#size-cells"), 2);
	expect_str_prop(fdt, soc, "compatible", "simple-bus");
	expect_empty(fdt, soc, "ranges");

	plic = node_at(fdt, "/soc/plic@c000000");
	expect_str_prop(fdt, plic, "compatible", "sifive,plic-1.0.0");
	assert_int_equal(prop_u32(fdt, plic, "#interrupt-cells"), 1);
	assert_int_equal(prop_u32(fdt, plic, "#address-cells"), 0);
	expect_empty(fdt, plic, "interrupt-controller");
	expect_reg(fdt, plic, 0x0c000000, 0x04000000);
	assert_int_equal(prop_u32(fdt, plic, "riscv,ndev"), 31);
	plic_ph = fdt_get_phandle(fdt, plic);
	assert_int_not_equal(plic_ph, 0);
	assert_int_equal(fdt_node_offset_by_phandle(fdt, plic_ph), plic);
	ext = prop(fdt, plic, "interrupts-extended", (int)(16 * p->nvcpus));
	for (unsigned i = 0; i < p->nvcpus; i++) {
		int intc;

		snprintf(path, sizeof(path), "/cpus/cpu@%x/interrupt-controller", i);
		intc = node_at(fdt, path);
		/* <&cpuN-intc 11 &cpuN-intc 9>: context 2N is M-mode, 2N+1 S-mode */
		assert_int_equal(cell(ext, 4 * i + 0), fdt_get_phandle(fdt, intc));
		assert_int_equal(cell(ext, 4 * i + 1), 11);
		assert_int_equal(cell(ext, 4 * i + 2), fdt_get_phandle(fdt, intc));
		assert_int_equal(cell(ext, 4 * i + 3), 9);
		assert_int_not_equal(cell(ext, 4 * i), plic_ph);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(cell(ext, 4 * i), cell(ext, 4 * j));
	}

	/* The console UART */
	uart = node_at(fdt, "/soc/serial@10000000");
	expect_str_prop(fdt, uart, "compatible", "ns16550a");
	expect_reg(fdt, uart, 0x10000000, 0x100);
	assert_int_equal(prop_u32(fdt, uart, "interrupts"), 10);
	assert_int_equal(prop_u32(fdt, uart, "interrupt-parent"), plic_ph);
	assert_int_equal(prop_u32(fdt, uart, "clock-frequency"), 3686400);

	/* virtio-mmio slots */
	for (unsigned i = 0; i < 8; i++) {
		uint64_t base = 0x10001000 + 0x1000 * i;

		snprintf(path, sizeof(path), "/soc/virtio_mmio@%llx", (unsigned long long)base);
		if (!(p->virtio_mask & (1u << i))) {
			expect_no_node(fdt, path);
			continue;
		}
		nvirtio++;
		node = node_at(fdt, path);
		expect_str_prop(fdt, node, "compatible", "virtio,mmio");
		expect_reg(fdt, node, base, 0x1000);
		assert_int_equal(prop_u32(fdt, node, "interrupts"), 1 + i);
		assert_int_equal(prop_u32(fdt, node, "interrupt-parent"), plic_ph);
	}

	/* The test device: no interrupt */
	if (p->testdev) {
		node = node_at(fdt, "/soc/test@10100000");
		expect_str_prop(fdt, node, "compatible", "vireo,testdev");
		expect_reg(fdt, node, 0x10100000, 0x1000);
		expect_no_prop(fdt, node, "interrupts");
		expect_no_prop(fdt, node, "interrupt-parent");
	} else {
		expect_no_node(fdt, "/soc/test@10100000");
	}
	/* The Goldfish RTC, where QEMU's virt machine has it */
	if (p->rtc) {
		node = node_at(fdt, "/soc/rtc@101000");
		expect_str_prop(fdt, node, "compatible", "google,goldfish-rtc");
		expect_reg(fdt, node, 0x101000, 0x1000);
		assert_int_equal(prop_u32(fdt, node, "interrupts"), 11);
		assert_int_equal(prop_u32(fdt, node, "interrupt-parent"), plic_ph);
	} else {
		expect_no_node(fdt, "/soc/rtc@101000");
	}
	/* The VM Generation ID, as Linux's vmgenid driver finds it (an edge interrupt) */
	if (p->genid) {
		node = node_at(fdt, "/soc/vmgenid@102000");
		expect_str_prop(fdt, node, "compatible", "microsoft,vmgenid");
		expect_reg(fdt, node, 0x102000, 16);
		assert_int_equal(prop_u32(fdt, node, "interrupts"), 12);
		assert_int_equal(prop_u32(fdt, node, "interrupt-parent"), plic_ph);
	} else {
		expect_no_node(fdt, "/soc/vmgenid@102000");
	}
	assert_int_equal(count_subnodes(fdt, soc), 2 + (int)nvirtio + (p->testdev ? 1 : 0) +
						       (p->rtc ? 1 : 0) + (p->genid ? 1 : 0));

	/* /hypervisor names Vireo, the way systemd-detect-virt reads it */
	node = node_at(fdt, "/hypervisor");
	expect_str_prop(fdt, node, "compatible", "vireo,hypervisor");
	if (p->hypervisor_version)
		expect_str_prop(fdt, node, "version", p->hypervisor_version);
	else
		expect_no_prop(fdt, node, "version");
	assert_int_equal(count_subnodes(fdt, node), 0);

	/* /chosen */
	chosen = node_at(fdt, "/chosen");
	expect_str_prop(fdt, chosen, "bootargs", p->bootargs ? p->bootargs : "");
	assert_int_equal(fdt_path_offset(fdt, prop(fdt, chosen, "stdout-path", -1)), uart);
	if (p->has_initrd) {
		assert_int_equal(prop_u64(fdt, chosen, "linux,initrd-start"), p->initrd_start);
		assert_int_equal(prop_u64(fdt, chosen, "linux,initrd-end"), p->initrd_end);
	} else {
		expect_no_prop(fdt, chosen, "linux,initrd-start");
		expect_no_prop(fdt, chosen, "linux,initrd-end");
	}
	if (p->rng_seed && p->rng_seed_len)
		assert_memory_equal(prop(fdt, chosen, "rng-seed", (int)p->rng_seed_len),
				    p->rng_seed, p->rng_seed_len);
	else
		expect_no_prop(fdt, chosen, "rng-seed");
	if (p->kaslr_seed)
		assert_memory_equal(prop(fdt, chosen, "kaslr-seed", 8), p->kaslr_seed, 8);
	else
		expect_no_prop(fdt, chosen, "kaslr-seed");
}

/* Build into a buffer of exactly BUF_SIZE bytes (so ASan sees any write past it) and check. */
static int build_and_check(const struct vm_fdt_params *p, void **out)
{
	void *buf = malloc(BUF_SIZE);
	int size;

	assert_non_null(buf);
	memset(buf, 0xcc, BUF_SIZE);
	size = vm_fdt_build(buf, BUF_SIZE, p);
	if (size < 0)
		fail_msg("vm_fdt_build: %s", fdt_strerror(size));
	assert_true(size <= BUF_SIZE);
	check_tree(buf, size, p);
	if (out)
		*out = buf;
	else
		free(buf);
	return size;
}

/* ---------------------------------------------------------------- tests */

static const uint8_t seed_a[64] = {0xa5, 1, 2, 3, 4, 5, 6, 7, 8, 9, [63] = 0x5a};

static void test_one_vcpu_minimal(void **state)
{
	struct vm_fdt_params p = params(1);

	(void)state;
	build_and_check(&p, NULL);
}

static void test_four_vcpus_everything(void **state)
{
	struct vm_fdt_params p = params(4);

	(void)state;
	p.has_initrd = true;
	p.initrd_start = 0x88000000;
	p.initrd_end = 0x88123457;
	p.virtio_mask = 0x81; /* slots 0 and 7 */
	p.testdev = true;
	p.rtc = true;
	p.mmu_type = "riscv,sv39";
	p.isa = "rv64imac";
	p.timebase_hz = 1000000;
	build_and_check(&p, NULL);
}

static void test_shapes(void **state)
{
	static const unsigned ncpus[] = {1, 2, 3, 4, 16};
	static const unsigned masks[] = {0, 0x1, 0x2, 0xff, 0x1ff, 0xffffff00};

	(void)state;
	for (unsigned c = 0; c < ARRAY_SIZE(ncpus); c++) {
		for (unsigned m = 0; m < ARRAY_SIZE(masks); m++) {
			for (unsigned t = 0; t < 4; t++) {
				struct vm_fdt_params p = params(ncpus[c]);

				p.virtio_mask = masks[m];
				p.testdev = t & 1;
				p.has_initrd = t & 2;
				p.rtc = (t + m) & 1;
				p.genid = (t + c) & 1;
				p.initrd_start = 0x84000000 + t;
				p.initrd_end = 0x84400000 + m;
				p.ram_base = c & 1 ? 0x100000000ULL : 0x80000000;
				p.ram_size = (c + 1) * GIB;
				build_and_check(&p, NULL);
			}
		}
	}
}

/* The VM's seeds go into /chosen byte for byte; the hypervisor node carries the version. */
static void test_seeds_and_hypervisor(void **state)
{
	struct vm_fdt_params p = params(2);
	uint8_t kaslr[8] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};

	(void)state;
	p.rng_seed = seed_a;
	p.rng_seed_len = sizeof(seed_a);
	p.kaslr_seed = kaslr;
	p.hypervisor_version = "9.8.7";
	p.rtc = true;
	build_and_check(&p, NULL);
	/* Without seeds (Vireo has no entropy): neither property, not an empty one. */
	p.rng_seed = NULL;
	p.kaslr_seed = NULL;
	p.hypervisor_version = NULL;
	build_and_check(&p, NULL);
	p.rng_seed = seed_a;
	p.rng_seed_len = 0;
	build_and_check(&p, NULL);
}

/* No name and no bootargs: defaults, still a valid tree. */
static void test_defaults(void **state)
{
	struct vm_fdt_params p = params(2);

	(void)state;
	p.name = NULL;
	p.bootargs = NULL;
	build_and_check(&p, NULL);
}

/* Every buffer smaller than the tree fails cleanly; the exact size works. */
static void test_buffer_too_small(void **state)
{
	struct vm_fdt_params p = params(4);
	int need;

	(void)state;
	p.has_initrd = true;
	p.initrd_start = 0x88000000;
	p.initrd_end = 0x88100000;
	p.virtio_mask = 0x3;
	p.testdev = true;
	p.rtc = true;
	p.rng_seed = seed_a;
	p.rng_seed_len = sizeof(seed_a);
	p.kaslr_seed = seed_a + 8;
	p.hypervisor_version = "0.1.0";
	need = build_and_check(&p, NULL);
	for (int size = 0; size < need; size++) {
		/* Exactly `size` bytes, so that ASan catches a write past the end. */
		void *buf = malloc(size ? (size_t)size : 1);
		int ret;

		assert_non_null(buf);
		ret = vm_fdt_build(buf, (size_t)size, &p);
		if (ret != -FDT_ERR_NOSPACE)
			fail_msg("buffer of %d bytes (%d needed): %d", size, need, ret);
		free(buf);
	}
	{
		void *buf = malloc((size_t)need);

		assert_non_null(buf);
		assert_int_equal(vm_fdt_build(buf, (size_t)need, &p), need);
		check_tree(buf, need, &p);
		free(buf);
	}
}

/* Guest AIA: an IMSIC (a page per vCPU, their S external interrupts) and an APLIC in MSI
 * mode in place of the PLIC; the devices' specifiers name a source and a trigger. */
static void test_aia_tree(void **state)
{
	struct vm_fdt_params p = params(3);
	void *fdt = malloc(BUF_SIZE);
	char path[64];
	int size, imsic, aplic, node;
	uint32_t imsic_ph, aplic_ph;
	const void *ext, *spec;

	(void)state;
	assert_non_null(fdt);
	p.isa = ISA "_ssaia";
	p.imsic_num_ids = 255;
	p.virtio_mask = 0x3;
	size = vm_fdt_build(fdt, BUF_SIZE, &p);
	assert_true(size > 0);
	expect_no_node(fdt, "/soc/plic@c000000");

	imsic = node_at(fdt, "/soc/imsics@28000000");
	expect_str_prop(fdt, imsic, "compatible", "riscv,imsics");
	expect_reg(fdt, imsic, VM_IMSIC_BASE, 3 * VM_IMSIC_STRIDE);
	expect_empty(fdt, imsic, "msi-controller");
	expect_empty(fdt, imsic, "interrupt-controller");
	assert_int_equal(prop_u32(fdt, imsic, "#interrupt-cells"), 0);
	assert_int_equal(prop_u32(fdt, imsic, "riscv,num-ids"), 255);
	expect_no_prop(fdt, imsic, "riscv,guest-index-bits"); /* the guest's harts have no H */
	imsic_ph = fdt_get_phandle(fdt, imsic);
	assert_int_not_equal(imsic_ph, 0);
	ext = prop(fdt, imsic, "interrupts-extended", 3 * 8);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%x/interrupt-controller", i);
		assert_int_equal(cell(ext, 2 * i), fdt_get_phandle(fdt, node_at(fdt, path)));
		assert_int_equal(cell(ext, 2 * i + 1), 9);
		snprintf(path, sizeof(path), "/cpus/cpu@%x", i);
		expect_str_prop(fdt, node_at(fdt, path), "riscv,isa", ISA "_ssaia");
	}

	aplic = node_at(fdt, "/soc/aplic@d000000");
	expect_str_prop(fdt, aplic, "compatible", "riscv,aplic");
	expect_reg(fdt, aplic, VM_APLIC_BASE, VM_APLIC_SIZE);
	expect_empty(fdt, aplic, "interrupt-controller");
	assert_int_equal(prop_u32(fdt, aplic, "#interrupt-cells"), 2);
	assert_int_equal(prop_u32(fdt, aplic, "msi-parent"), imsic_ph);
	assert_int_equal(prop_u32(fdt, aplic, "riscv,num-sources"), VM_PLIC_NUM_SOURCES - 1);
	expect_no_prop(fdt, aplic, "interrupts-extended");
	aplic_ph = fdt_get_phandle(fdt, aplic);
	assert_int_not_equal(aplic_ph, 0);

	/* The UART's line is a level; virtio's are taken on their rising edge. */
	node = node_at(fdt, "/soc/serial@10000000");
	assert_int_equal(prop_u32(fdt, node, "interrupt-parent"), aplic_ph);
	spec = prop(fdt, node, "interrupts", 8);
	assert_int_equal(cell(spec, 0), VM_UART_IRQ);
	assert_int_equal(cell(spec, 1), 4);
	for (unsigned i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/soc/virtio_mmio@%lx", VM_VIRTIO_BASE + 0x1000UL * i);
		node = node_at(fdt, path);
		assert_int_equal(prop_u32(fdt, node, "interrupt-parent"), aplic_ph);
		spec = prop(fdt, node, "interrupts", 8);
		assert_int_equal(cell(spec, 0), VM_VIRTIO_IRQ_BASE + i);
		assert_int_equal(cell(spec, 1), 1);
	}
	free(fdt);
}

/* dtc, if installed, must accept the tree without a complaint. */
static void test_dtc_accepts(void **state)
{
	struct vm_fdt_params p = params(4);
	char dir[] = "/tmp/vireo-vm-fdt-XXXXXX";
	char dtb[96], dts[96], err[96], cmd[512];
	void *buf;
	int size;
	FILE *fp;
	char line[512];

	(void)state;
	if (access("/usr/bin/dtc", X_OK) != 0) {
		skip();
		return;
	}
	p.has_initrd = true;
	p.initrd_start = 0x88000000;
	p.initrd_end = 0x88100000;
	p.virtio_mask = 0x5;
	p.testdev = true;
	p.rtc = true;
	p.rng_seed = seed_a;
	p.rng_seed_len = sizeof(seed_a);
	p.kaslr_seed = seed_a + 56;
	p.hypervisor_version = "0.1.0";
	size = build_and_check(&p, &buf);
	assert_non_null(mkdtemp(dir));
	snprintf(dtb, sizeof(dtb), "%s/vm.dtb", dir);
	snprintf(dts, sizeof(dts), "%s/vm.dts", dir);
	snprintf(err, sizeof(err), "%s/dtc.err", dir);
	fp = fopen(dtb, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, (size_t)size, fp), (size_t)size);
	assert_int_equal(fclose(fp), 0);
	free(buf);

	snprintf(cmd, sizeof(cmd), "/usr/bin/dtc -I dtb -O dts -o %s %s 2>%s", dts, dtb, err);
	assert_int_equal(system(cmd), 0);
	/*
	 * dtc 1.6's interrupt_provider check wants #address-cells in every
	 * interrupt controller; QEMU's own virt tree has none in its cpu intc nodes
	 * either, and Linux does not need one. Any other warning fails.
	 */
	fp = fopen(err, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		if (strstr(line, "Warning (interrupt_provider): /cpus/cpu@") &&
		    strstr(line,
			   "/interrupt-controller: Missing #address-cells in interrupt provider"))
			continue;
		fail_msg("dtc warned: %s", line);
	}
	fclose(fp);
	/* The decompiled tree names what it should. */
	fp = fopen(dts, "rb");
	assert_non_null(fp);
	{
		char text[16384];
		size_t n = fread(text, 1, sizeof(text) - 1, fp);

		text[n] = '\0';
		assert_non_null(strstr(text, "serial@10000000 {"));
		assert_non_null(strstr(text, "stdout-path = \"/soc/serial@10000000\";"));
		assert_non_null(strstr(text, "riscv,isa = \"" ISA "\";"));
	}
	fclose(fp);
	unlink(dtb);
	unlink(dts);
	unlink(err);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_vcpu_minimal),
	    cmocka_unit_test(test_four_vcpus_everything),
	    cmocka_unit_test(test_shapes),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_seeds_and_hypervisor),
	    cmocka_unit_test(test_buffer_too_small),
	    cmocka_unit_test(test_dtc_accepts),
	    cmocka_unit_test(test_aia_tree),
	};

	return cmocka_run_group_tests_name("vm_fdt", tests, NULL, NULL);
}
