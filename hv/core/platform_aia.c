// SPDX-License-Identifier: BSD-2-Clause
/*
 * The AIA half of the host device tree: the APLIC domain and the IMSICs that
 * deliver to supervisor level (the devicetree bindings riscv,aplic and
 * riscv,imsics, as QEMU's virt machine writes them with aia=aplic or
 * aia=aplic-imsic and OpenSBI leaves them: the machine-level nodes disabled).
 *
 * An interrupt controller is "supervisor level" when the harts' interrupts it
 * drives are their supervisor external interrupt (9 in interrupts-extended);
 * an APLIC in MSI mode is when its msi-parent is such an IMSIC.
 */
#include <libfdt.h>
#include <vireo/platform.h>
#include "platform_fdt.h"

#define IRQ_S_EXT		  9
#define IMSIC_PAGE_SHIFT	  12
#define IMSIC_DEFAULT_GROUP_SHIFT 24 /* the binding's default riscv,group-index-shift */

/* The logical position (DT order) of the hart that owns this interrupt controller. */
static int hart_position(const void *fdt, const struct platform *plat, uint32_t intc_phandle)
{
	unsigned long hartid;

	if (!platform_intc_hartid(fdt, intc_phandle, &hartid))
		return -1;
	for (unsigned h = 0; h < plat->nharts; h++)
		if (plat->hartids[h] == hartid)
			return (int)h;
	return -1;
}

/* True if any <phandle irq> pair of the node's interrupts-extended is a supervisor
 * external interrupt. */
static bool drives_supervisor(const void *fdt, int node)
{
	int len;
	const fdt32_t *ie = fdt_getprop(fdt, node, "interrupts-extended", &len);

	for (int i = 0; ie && (i + 1) * 8 <= len; i++)
		if (fdt32_to_cpu(ie[2 * i + 1]) == IRQ_S_EXT)
			return true;
	return false;
}

static unsigned bits_for(unsigned n)
{
	unsigned bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

/* The file at relative offset `reloff` into the node's "reg" entries, taken in order. */
static uint64_t file_address(const void *fdt, int node, uint64_t reloff)
{
	uint64_t base, size;

	for (int i = 0; platform_reg_entry(fdt, node, i, &base, &size); i++) {
		if (reloff < size)
			return base + reloff;
		reloff -= size;
	}
	return 0;
}

/* The hart index an APLIC writes into a target register for the file at `addr`: the
 * group and hart fields of the address (AIA, "Addresses and data for outgoing MSIs"). */
static unsigned msi_hart_index(const struct platform_imsic *im, uint64_t addr)
{
	uint64_t ppn = addr >> IMSIC_PAGE_SHIFT;
	unsigned hart = (unsigned)(ppn >> im->guest_index_bits) & ((1u << im->hart_index_bits) - 1);
	unsigned group =
	    (unsigned)(addr >> im->group_index_shift) & ((1u << im->group_index_bits) - 1);

	return group << im->hart_index_bits | hart;
}

static void parse_imsic(const void *fdt, int node, struct platform *plat)
{
	struct platform_imsic *im = &plat->imsic;
	int len;
	const fdt32_t *ie = fdt_getprop(fdt, node, "interrupts-extended", &len);
	unsigned entries = ie ? (unsigned)len / 8 : 0;
	uint64_t stride;

	im->num_ids = platform_prop_u32(fdt, node, "riscv,num-ids", 0);
	im->guest_index_bits = platform_prop_u32(fdt, node, "riscv,guest-index-bits", 0);
	im->hart_index_bits =
	    platform_prop_u32(fdt, node, "riscv,hart-index-bits", bits_for(entries));
	im->group_index_bits = platform_prop_u32(fdt, node, "riscv,group-index-bits", 0);
	im->group_index_shift =
	    platform_prop_u32(fdt, node, "riscv,group-index-shift", IMSIC_DEFAULT_GROUP_SHIFT);
	if (im->num_ids == 0 || im->guest_index_bits > 6 || im->hart_index_bits > 14 ||
	    im->group_index_bits > 7 || im->group_index_shift > 55)
		return;
	stride = 1ull << (im->guest_index_bits + IMSIC_PAGE_SHIFT);
	/* Entry i of interrupts-extended is the hart whose file is the i-th in "reg". */
	for (unsigned i = 0; i < entries; i++) {
		int h = hart_position(fdt, plat, fdt32_to_cpu(ie[2 * i]));
		uint64_t addr = file_address(fdt, node, i * stride);

		if (h < 0 || !addr || fdt32_to_cpu(ie[2 * i + 1]) != IRQ_S_EXT)
			continue;
		im->file[h] = addr;
		im->hart_index[h] = msi_hart_index(im, addr);
		im->present = true;
	}
}

/* Is the node with this phandle a supervisor-level IMSIC? */
static bool is_supervisor_imsic(const void *fdt, uint32_t phandle)
{
	int node = fdt_node_offset_by_phandle(fdt, phandle);

	return node >= 0 && fdt_node_check_compatible(fdt, node, "riscv,imsics") == 0 &&
	       platform_node_enabled(fdt, node) && drives_supervisor(fdt, node);
}

static void parse_aplic(const void *fdt, int node, struct platform *plat)
{
	struct platform_aplic *ap = &plat->aplic;
	int len;
	const fdt32_t *msi_parent = fdt_getprop(fdt, node, "msi-parent", &len);
	const fdt32_t *ie;

	if (msi_parent && len >= 4) {
		if (!is_supervisor_imsic(fdt, fdt32_to_cpu(msi_parent[0])))
			return;
		ap->msi = true;
	} else {
		if (!drives_supervisor(fdt, node))
			return;
		/* Direct delivery: the i-th pair of interrupts-extended is IDC i. */
		ie = fdt_getprop(fdt, node, "interrupts-extended", &len);
		for (int i = 0; ie && (i + 1) * 8 <= len; i++) {
			int h = hart_position(fdt, plat, fdt32_to_cpu(ie[2 * i]));

			if (h >= 0 && fdt32_to_cpu(ie[2 * i + 1]) == IRQ_S_EXT)
				ap->idc[h] = i;
		}
	}
	ap->nsources = platform_prop_u32(fdt, node, "riscv,num-sources", 0);
	ap->present = platform_reg_entry(fdt, node, 0, &ap->base, &ap->size) && ap->nsources;
}

bool platform_parse_aia_node(const void *fdt, int node, struct platform *plat)
{
	if (fdt_node_check_compatible(fdt, node, "riscv,aplic") == 0) {
		if (!plat->aplic.present)
			parse_aplic(fdt, node, plat);
		return true;
	}
	if (fdt_node_check_compatible(fdt, node, "riscv,imsics") == 0) {
		if (!plat->imsic.present && drives_supervisor(fdt, node))
			parse_imsic(fdt, node, plat);
		return true;
	}
	return false;
}
