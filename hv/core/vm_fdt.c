// SPDX-License-Identifier: BSD-2-Clause
/*
 * Writing a VM's device tree with libfdt's sequential-write API. The layout
 * mirrors QEMU's virt machine (and vm_layout.h): a Linux that boots there
 * boots here. The PLIC lists two contexts per hart, <&cpuN-intc 11 &cpuN-intc 9>,
 * so each hart's S-mode context is 2N+1, as in the virtual PLIC. A VM with guest
 * AIA gets an IMSIC (a page per vCPU) and an APLIC in MSI mode in its place.
 */
#include <libfdt.h>
#include <vireo/printf.h>
#include <vireo/string.h>
#include <vireo/vgenid.h>
#include <vireo/vm_fdt.h>
#include <vireo/vm_layout.h>

#define PHANDLE_IRQCHIP	  1 /* the PLIC or the APLIC: the devices' interrupt-parent */
#define PHANDLE_INTC(cpu) (2 + (cpu))
#define PHANDLE_IMSIC	  0x100
#define MAX_CPUS	  32

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		int __err = (expr);                                                                \
		if (__err < 0)                                                                     \
			return __err;                                                              \
	} while (0)

/* "reg" with two address and two size cells. */
static int prop_reg(void *fdt, uint64_t base, uint64_t size)
{
	fdt64_t reg[2] = {cpu_to_fdt64(base), cpu_to_fdt64(size)};

	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

/* An empty property such as "interrupt-controller;" (fdt_property would memcpy from NULL). */
static int prop_empty(void *fdt, const char *name)
{
	void *val;

	return fdt_property_placeholder(fdt, name, 0, &val);
}

static int node_name(char *buf, size_t size, const char *name, uint64_t addr)
{
	vireo_snprintf(buf, size, "%s@%lx", name, (unsigned long)addr);
	return 0;
}

/*
 * The same extensions in the newer binding (riscv,isa-base and the string list
 * riscv,isa-extensions), which kernels prefer: they then take the list as it is
 * instead of guessing from the older string (Linux 6.12 adds zihpm to what it
 * parses out of riscv,isa, whether the guest may read those counters or not).
 * "g" stands for imafd_zicsr_zifencei.
 */
static int write_isa_extensions(void *fdt, const char *isa)
{
	char list[512], base[8];
	size_t n = 0;
	const char *p = isa + 4;

	if (strlen(isa) < 5 || strncmp(isa, "rv", 2) != 0)
		return 0;
	vireo_snprintf(base, sizeof(base), "%.4si", isa);
	for (; *p && *p != '_' && n + 16 < sizeof(list); p++) {
		const char *names = *p == 'g' ? "i\0m\0a\0f\0d\0zicsr\0zifencei" : NULL;
		char one[3] = {*p, 0, 0}; /* a list of one name, ended by an empty one */

		if (!names)
			names = one;
		for (const char *s = names; *s; s += strlen(s) + 1) {
			memcpy(list + n, s, strlen(s) + 1);
			n += strlen(s) + 1;
		}
	}
	while (*p == '_') {
		const char *ext = ++p;
		size_t len;

		while (*p && *p != '_')
			p++;
		len = (size_t)(p - ext);
		if (!len || n + len + 1 > sizeof(list))
			continue;
		memcpy(list + n, ext, len);
		list[n + len] = '\0';
		n += len + 1;
	}
	TRY(fdt_property_string(fdt, "riscv,isa-base", base));
	return fdt_property(fdt, "riscv,isa-extensions", list, (int)n);
}

static int write_cpus(void *fdt, const struct vm_fdt_params *p)
{
	char name[32];

	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", 1));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	TRY(fdt_property_u32(fdt, "timebase-frequency", (uint32_t)p->timebase_hz));
	for (unsigned i = 0; i < p->nvcpus; i++) {
		node_name(name, sizeof(name), "cpu", i);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_u32(fdt, "reg", i));
		TRY(fdt_property_string(fdt, "status", "okay"));
		TRY(fdt_property_string(fdt, "compatible", "riscv"));
		TRY(fdt_property_string(fdt, "riscv,isa", p->isa));
		TRY(write_isa_extensions(fdt, p->isa));
		TRY(fdt_property_string(fdt, "mmu-type", p->mmu_type));
		if (p->cbom_block_size)
			TRY(fdt_property_u32(fdt, "riscv,cbom-block-size", p->cbom_block_size));
		if (p->cboz_block_size)
			TRY(fdt_property_u32(fdt, "riscv,cboz-block-size", p->cboz_block_size));
		TRY(fdt_begin_node(fdt, "interrupt-controller"));
		TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
		TRY(prop_empty(fdt, "interrupt-controller"));
		TRY(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
		TRY(fdt_property_u32(fdt, "phandle", PHANDLE_INTC(i)));
		TRY(fdt_end_node(fdt));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int write_plic(void *fdt, const struct vm_fdt_params *p)
{
	char name[32];
	fdt32_t ext[4 * VM_PLIC_NUM_SOURCES];
	unsigned n = 0;

	for (unsigned i = 0; i < p->nvcpus && n + 4 <= ARRAY_SIZE(ext); i++) {
		ext[n++] = cpu_to_fdt32(PHANDLE_INTC(i));
		ext[n++] = cpu_to_fdt32(11); /* M-mode external: present, never delivered */
		ext[n++] = cpu_to_fdt32(PHANDLE_INTC(i));
		ext[n++] = cpu_to_fdt32(9); /* S-mode external: VSEIP */
	}
	node_name(name, sizeof(name), "plic", VM_PLIC_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "sifive,plic-1.0.0"));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
	TRY(fdt_property_u32(fdt, "#address-cells", 0));
	TRY(prop_empty(fdt, "interrupt-controller"));
	TRY(prop_reg(fdt, VM_PLIC_BASE, VM_PLIC_SIZE));
	TRY(fdt_property_u32(fdt, "riscv,ndev", VM_PLIC_NUM_SOURCES - 1));
	TRY(fdt_property(fdt, "interrupts-extended", ext, n * sizeof(fdt32_t)));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_IRQCHIP));
	return fdt_end_node(fdt);
}

/* The vCPUs' IMSIC files, one page each, as the riscv,imsics binding has them. */
static int write_imsic(void *fdt, const struct vm_fdt_params *p)
{
	char name[32];
	fdt32_t ext[2 * MAX_CPUS];
	unsigned n = 0;

	for (unsigned i = 0; i < p->nvcpus && n + 2 <= ARRAY_SIZE(ext); i++) {
		ext[n++] = cpu_to_fdt32(PHANDLE_INTC(i));
		ext[n++] = cpu_to_fdt32(9); /* supervisor external: VSEIP */
	}
	node_name(name, sizeof(name), "imsics", VM_IMSIC_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "riscv,imsics"));
	TRY(prop_reg(fdt, VM_IMSIC_BASE, p->nvcpus * VM_IMSIC_STRIDE));
	TRY(fdt_property(fdt, "interrupts-extended", ext, n * sizeof(fdt32_t)));
	TRY(prop_empty(fdt, "msi-controller"));
	TRY(prop_empty(fdt, "interrupt-controller"));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 0));
	TRY(fdt_property_u32(fdt, "riscv,num-ids", p->imsic_num_ids));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_IMSIC));
	return fdt_end_node(fdt);
}

/* The wired sources' APLIC, forwarding MSIs to the IMSIC files. */
static int write_aplic(void *fdt)
{
	char name[32];

	node_name(name, sizeof(name), "aplic", VM_APLIC_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "riscv,aplic"));
	TRY(prop_reg(fdt, VM_APLIC_BASE, VM_APLIC_SIZE));
	TRY(prop_empty(fdt, "interrupt-controller"));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 2));
	TRY(fdt_property_u32(fdt, "msi-parent", PHANDLE_IMSIC));
	TRY(fdt_property_u32(fdt, "riscv,num-sources", VM_PLIC_NUM_SOURCES - 1));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_IRQCHIP));
	return fdt_end_node(fdt);
}

/* An APLIC's specifiers carry the trigger: the UART's line is a level; a virtio-mmio
 * device's may be taken as an edge (its driver acknowledges before it looks at the
 * queues), which spares the guest's APLIC driver a re-trigger write per interrupt. */
#define IRQ_TYPE_EDGE_RISING 1
#define IRQ_TYPE_LEVEL_HIGH  4

static int write_mmio_device(void *fdt, const struct vm_fdt_params *p, const char *node,
			     const char *compatible, uint64_t base, uint64_t size, unsigned irq,
			     unsigned trigger)
{
	char name[48];

	node_name(name, sizeof(name), node, base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", compatible));
	TRY(prop_reg(fdt, base, size));
	if (irq && p->imsic_num_ids) {
		fdt32_t spec[2] = {cpu_to_fdt32(irq), cpu_to_fdt32(trigger)};

		TRY(fdt_property(fdt, "interrupts", spec, sizeof(spec)));
		TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_IRQCHIP));
	} else if (irq) {
		TRY(fdt_property_u32(fdt, "interrupts", irq));
		TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_IRQCHIP));
	}
	return 0;
}

static int write_soc(void *fdt, const struct vm_fdt_params *p)
{
	TRY(fdt_begin_node(fdt, "soc"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_string(fdt, "compatible", "simple-bus"));
	TRY(prop_empty(fdt, "ranges"));
	if (p->imsic_num_ids) {
		TRY(write_imsic(fdt, p));
		TRY(write_aplic(fdt));
	} else {
		TRY(write_plic(fdt, p));
	}
	TRY(write_mmio_device(fdt, p, "serial", "ns16550a", VM_UART_BASE, VM_UART_SIZE, VM_UART_IRQ,
			      IRQ_TYPE_LEVEL_HIGH));
	TRY(fdt_property_u32(fdt, "clock-frequency", 3686400));
	TRY(fdt_end_node(fdt));
	for (unsigned i = 0; i < VM_VIRTIO_SLOTS; i++) {
		if (!(p->virtio_mask & BIT(i)))
			continue;
		TRY(write_mmio_device(fdt, p, "virtio_mmio", "virtio,mmio",
				      VM_VIRTIO_BASE + i * VM_VIRTIO_STRIDE, VM_VIRTIO_STRIDE,
				      VM_VIRTIO_IRQ_BASE + i, IRQ_TYPE_EDGE_RISING));
		TRY(fdt_end_node(fdt));
	}
	if (p->testdev) {
		TRY(write_mmio_device(fdt, p, "test", "vireo,testdev", VM_TESTDEV_BASE,
				      VM_TESTDEV_SIZE, 0, 0));
		TRY(fdt_end_node(fdt));
	}
	if (p->rtc) {
		TRY(write_mmio_device(fdt, p, "rtc", "google,goldfish-rtc", VM_RTC_BASE,
				      VM_RTC_SIZE, VM_RTC_IRQ, IRQ_TYPE_LEVEL_HIGH));
		TRY(fdt_end_node(fdt));
	}
	if (p->genid) {
		TRY(write_mmio_device(fdt, p, "vmgenid", "microsoft,vmgenid", VM_GENID_BASE,
				      VGENID_SIZE, VM_GENID_IRQ, IRQ_TYPE_EDGE_RISING));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

/* Who runs this VM, the way Linux and systemd look for it (systemd-detect-virt reads
 * /proc/device-tree/hypervisor/compatible). */
static int write_hypervisor(void *fdt, const struct vm_fdt_params *p)
{
	TRY(fdt_begin_node(fdt, "hypervisor"));
	TRY(fdt_property_string(fdt, "compatible", VM_HYPERVISOR_COMPATIBLE));
	if (p->hypervisor_version)
		TRY(fdt_property_string(fdt, "version", p->hypervisor_version));
	return fdt_end_node(fdt);
}

static int write_chosen(void *fdt, const struct vm_fdt_params *p)
{
	char path[48];

	TRY(fdt_begin_node(fdt, "chosen"));
	TRY(fdt_property_string(fdt, "bootargs", p->bootargs ? p->bootargs : ""));
	vireo_snprintf(path, sizeof(path), "/soc/serial@%lx", VM_UART_BASE);
	TRY(fdt_property_string(fdt, "stdout-path", path));
	if (p->has_initrd) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", p->initrd_start));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", p->initrd_end));
	}
	/* Boot entropy, this VM's own (Linux credits rng-seed and then removes it). */
	if (p->rng_seed && p->rng_seed_len)
		TRY(fdt_property(fdt, "rng-seed", p->rng_seed, (int)p->rng_seed_len));
	if (p->kaslr_seed)
		TRY(fdt_property(fdt, "kaslr-seed", p->kaslr_seed, 8));
	return fdt_end_node(fdt);
}

int vm_fdt_build(void *buf, size_t size, const struct vm_fdt_params *p)
{
	char name[32];

	TRY(fdt_create(buf, (int)size));
	TRY(fdt_finish_reservemap(buf));
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt_property_u32(buf, "#address-cells", 2));
	TRY(fdt_property_u32(buf, "#size-cells", 2));
	TRY(fdt_property_string(buf, "compatible", "vireo,vm"));
	TRY(fdt_property_string(buf, "model", p->name ? p->name : "vireo-vm"));
	TRY(write_chosen(buf, p));
	node_name(name, sizeof(name), "memory", p->ram_base);
	TRY(fdt_begin_node(buf, name));
	TRY(fdt_property_string(buf, "device_type", "memory"));
	TRY(prop_reg(buf, p->ram_base, p->ram_size));
	TRY(fdt_end_node(buf));
	TRY(write_cpus(buf, p));
	TRY(write_soc(buf, p));
	TRY(write_hypervisor(buf, p));
	TRY(fdt_end_node(buf));
	TRY(fdt_finish(buf));
	return (int)fdt_totalsize(buf);
}
