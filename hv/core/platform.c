// SPDX-License-Identifier: BSD-2-Clause
/* Reading the host device tree with libfdt. */
#include <libfdt.h>
#include <vireo/platform.h>
#include <vireo/string.h>
#include "platform_fdt.h"

static uint64_t read_cells(const fdt32_t *cells, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 32) | fdt32_to_cpu(cells[i]);
	return v;
}

/* The idx-th (address, size) pair of a node's "reg", using its parent's cell sizes. */
static bool reg_entry(const void *fdt, int node, int idx, uint64_t *base, uint64_t *size)
{
	int parent = fdt_parent_offset(fdt, node);
	int ac = fdt_address_cells(fdt, parent);
	int sc = fdt_size_cells(fdt, parent);
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (!reg || ac < 1 || ac > 2 || sc < 0 || sc > 2)
		return false;
	if ((idx + 1) * (ac + sc) * 4 > len)
		return false;
	reg += idx * (ac + sc);
	*base = read_cells(reg, ac);
	*size = sc ? read_cells(reg + ac, sc) : 0;
	return true;
}

static bool node_enabled(const void *fdt, int node)
{
	const char *status = fdt_getprop(fdt, node, "status", NULL);

	return !status || !strcmp(status, "okay") || !strcmp(status, "ok");
}

static uint32_t prop_u32(const void *fdt, int node, const char *name, uint32_t fallback)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	return p && len >= 4 ? fdt32_to_cpu(*p) : fallback;
}

static void parse_memory(const void *fdt, struct platform *plat)
{
	int node;

	fdt_for_each_subnode(node, fdt, 0)
	{
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		uint64_t base, size;
		if (!type || strcmp(type, "memory") || !node_enabled(fdt, node))
			continue;
		for (int i = 0; reg_entry(fdt, node, i, &base, &size); i++) {
			if (size && plat->nram < PLATFORM_MAX_RAM)
				plat->ram[plat->nram++] = (struct mem_range){base, base + size};
		}
	}
}

static void add_reserved(struct platform *plat, uint64_t base, uint64_t size)
{
	if (size && plat->nreserved < PLATFORM_MAX_RESERVED)
		plat->reserved[plat->nreserved++] = (struct mem_range){base, base + size};
}

static void parse_reserved(const void *fdt, struct platform *plat)
{
	int n = fdt_num_mem_rsv(fdt);
	int parent = fdt_path_offset(fdt, "/reserved-memory");
	int node;

	for (int i = 0; i < n; i++) {
		uint64_t base, size;
		if (fdt_get_mem_rsv(fdt, i, &base, &size) == 0)
			add_reserved(plat, base, size);
	}
	if (parent < 0)
		return;
	fdt_for_each_subnode(node, fdt, parent)
	{
		uint64_t base, size;
		for (int i = 0; reg_entry(fdt, node, i, &base, &size); i++)
			add_reserved(plat, base, size);
	}
}

static int parse_cpus(const void *fdt, struct platform *plat, const char **why)
{
	int cpus = fdt_path_offset(fdt, "/cpus");
	int node;

	if (cpus < 0) {
		*why = "no /cpus node";
		return -VIREO_ENOENT;
	}
	plat->timebase_hz = prop_u32(fdt, cpus, "timebase-frequency", 0);
	fdt_for_each_subnode(node, fdt, cpus)
	{
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		int len;
		const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
		if (!type || strcmp(type, "cpu") || !reg || len < 4 || !node_enabled(fdt, node))
			continue;
		if (plat->timebase_hz == 0)
			plat->timebase_hz = prop_u32(fdt, node, "timebase-frequency", 0);
		if (plat->nharts == 0) {
			const char *isa = fdt_getprop(fdt, node, "riscv,isa", NULL);
			strlcpy(plat->isa, isa ? isa : "", sizeof(plat->isa));
			plat->cbom_block_size = prop_u32(fdt, node, "riscv,cbom-block-size", 0);
			plat->cboz_block_size = prop_u32(fdt, node, "riscv,cboz-block-size", 0);
		}
		if (plat->nharts == VIREO_MAX_HARTS) {
			plat->harts_skipped++;
			continue;
		}
		plat->hartids[plat->nharts++] = (unsigned long)read_cells(reg, len >= 8 ? 2 : 1);
	}
	if (plat->nharts == 0) {
		*why = "no enabled cpu in /cpus";
		return -VIREO_ENOENT;
	}
	if (plat->timebase_hz == 0) {
		*why = "no timebase-frequency";
		return -VIREO_ENOENT;
	}
	return 0;
}

static void fill_mmio(const void *fdt, int node, struct platform_mmio *dev)
{
	int len;
	const fdt32_t *irq = fdt_getprop(fdt, node, "interrupts", &len);

	dev->present = reg_entry(fdt, node, 0, &dev->base, &dev->size);
	dev->irq = irq && len >= 4 ? fdt32_to_cpu(irq[0]) : 0;
	/* An APLIC's specifiers have two cells: the source and its trigger type. */
	dev->irq_type = irq && len >= 8 ? fdt32_to_cpu(irq[1]) : 0;
}

/* Hart id of the cpu node that owns the interrupt controller with this phandle. */
static bool intc_hartid(const void *fdt, uint32_t phandle, unsigned long *hartid)
{
	int intc = fdt_node_offset_by_phandle(fdt, phandle);
	int cpu = intc >= 0 ? fdt_parent_offset(fdt, intc) : -1;
	int len;
	const fdt32_t *reg = cpu >= 0 ? fdt_getprop(fdt, cpu, "reg", &len) : NULL;

	if (!reg || len < 4)
		return false;
	*hartid = (unsigned long)read_cells(reg, len >= 8 ? 2 : 1);
	return true;
}

static void parse_plic_contexts(const void *fdt, int node, struct platform *plat)
{
	int len;
	const fdt32_t *ie = fdt_getprop(fdt, node, "interrupts-extended", &len);

	for (unsigned i = 0; i < VIREO_MAX_HARTS; i++)
		plat->plic_s_context[i] = -1;
	if (!ie)
		return;
	/* Pairs of <intc-phandle irq>; the context number is the pair's index. */
	for (int ctx = 0; (ctx + 1) * 8 <= len; ctx++) {
		unsigned long hartid;
		uint32_t irq = fdt32_to_cpu(ie[2 * ctx + 1]);
		if (irq != 9 || !intc_hartid(fdt, fdt32_to_cpu(ie[2 * ctx]), &hartid))
			continue;
		for (unsigned h = 0; h < plat->nharts; h++)
			if (plat->hartids[h] == hartid)
				plat->plic_s_context[h] = ctx;
	}
}

static void parse_devices(const void *fdt, struct platform *plat)
{
	int node;

	for (node = fdt_next_node(fdt, -1, NULL); node >= 0;
	     node = fdt_next_node(fdt, node, NULL)) {
		if (!node_enabled(fdt, node))
			continue;
		if (!plat->uart.present && (fdt_node_check_compatible(fdt, node, "ns16550a") == 0 ||
					    fdt_node_check_compatible(fdt, node, "ns16550") == 0)) {
			fill_mmio(fdt, node, &plat->uart);
			plat->uart_reg_shift = prop_u32(fdt, node, "reg-shift", 0);
			plat->uart_io_width = prop_u32(fdt, node, "reg-io-width", 1);
		} else if (!plat->plic.present &&
			   (fdt_node_check_compatible(fdt, node, "riscv,plic0") == 0 ||
			    fdt_node_check_compatible(fdt, node, "sifive,plic-1.0.0") == 0)) {
			fill_mmio(fdt, node, &plat->plic);
			plat->plic_ndev = prop_u32(fdt, node, "riscv,ndev", 0);
			parse_plic_contexts(fdt, node, plat);
		} else if (platform_parse_aia_node(fdt, node, plat)) {
			continue;
		} else if (fdt_node_check_compatible(fdt, node, "virtio,mmio") == 0) {
			if (plat->nvirtio < PLATFORM_MAX_VIRTIO)
				fill_mmio(fdt, node, &plat->virtio[plat->nvirtio++]);
		} else if (!plat->finisher.present &&
			   fdt_node_check_compatible(fdt, node, "sifive,test0") == 0) {
			fill_mmio(fdt, node, &plat->finisher);
		} else if (!plat->rtc.present &&
			   fdt_node_check_compatible(fdt, node, "google,goldfish-rtc") == 0) {
			fill_mmio(fdt, node, &plat->rtc);
		}
	}
}

/* Where the boot loader's random seed is: only its place is recorded, never a copy. */
static void parse_rng_seed(const void *fdt, int chosen, struct platform *plat)
{
	int len;
	const uint8_t *seed = fdt_getprop(fdt, chosen, "rng-seed", &len);

	if (seed && len > 0) {
		plat->rng_seed = seed;
		plat->rng_seed_len = (uint32_t)len;
	}
}

static void parse_chosen(const void *fdt, struct platform *plat)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	int len_s, len_e;
	const fdt32_t *s, *e;

	if (chosen < 0)
		return;
	parse_rng_seed(fdt, chosen, plat);
	s = fdt_getprop(fdt, chosen, "linux,initrd-start", &len_s);
	e = fdt_getprop(fdt, chosen, "linux,initrd-end", &len_e);
	if (!s || !e || (len_s != 4 && len_s != 8) || (len_e != 4 && len_e != 8))
		return;
	plat->initrd.start = read_cells(s, len_s / 4);
	plat->initrd.end = read_cells(e, len_e / 4);
	plat->has_initrd = plat->initrd.end > plat->initrd.start;
}

int platform_parse(const void *fdt, struct platform *plat, const char **why)
{
	int err;

	memset(plat, 0, sizeof(*plat));
	for (unsigned i = 0; i < VIREO_MAX_HARTS; i++) {
		plat->plic_s_context[i] = -1; /* also when there is no PLIC node */
		plat->aplic.idc[i] = -1;
	}
	*why = "";
	if (fdt_check_header(fdt) != 0) {
		*why = "not a valid flattened device tree";
		return -VIREO_EINVAL;
	}
	parse_memory(fdt, plat);
	if (plat->nram == 0) {
		*why = "no memory node";
		return -VIREO_ENOENT;
	}
	parse_reserved(fdt, plat);
	err = parse_cpus(fdt, plat, why);
	if (err)
		return err;
	parse_devices(fdt, plat);
	parse_chosen(fdt, plat);
	return 0;
}

/* The helpers above, for the AIA half of the parser (platform_aia.c). */
bool platform_reg_entry(const void *fdt, int node, int idx, uint64_t *base, uint64_t *size)
{
	return reg_entry(fdt, node, idx, base, size);
}

bool platform_node_enabled(const void *fdt, int node)
{
	return node_enabled(fdt, node);
}

uint32_t platform_prop_u32(const void *fdt, int node, const char *name, uint32_t fallback)
{
	return prop_u32(fdt, node, name, fallback);
}

bool platform_intc_hartid(const void *fdt, uint32_t phandle, unsigned long *hartid)
{
	return intc_hartid(fdt, phandle, hartid);
}

uint64_t platform_ram_size(const struct platform *plat)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < plat->nram; i++)
		total += plat->ram[i].end - plat->ram[i].start;
	return total;
}
