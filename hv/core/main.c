// SPDX-License-Identifier: BSD-2-Clause
/* Boot: from OpenSBI's jump to the scheduler on every hart. */
#include <libfdt.h>
#include <vireo/console.h>
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/host_irq.h>
#include <vireo/host_rtc.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/panic.h>
#include <vireo/platform.h>
#include <vireo/power.h>
#include <vireo/sbi.h>
#include <vireo/time.h>
#include <vireo/trap.h>
#include <vireo/vireo.h>
#include <vireo/vm_seed.h>

extern char __image_start[], __image_end[];

static struct platform host_platform;

static void print_banner(unsigned long boot_hartid)
{
	const struct cpu_features *f = &cpu_features;
	uint64_t ram = platform_ram_size(&host_platform);

	printk("\nVireo " VIREO_VERSION " - a type-1 hypervisor for RISC-V (H extension)\n");
	printk("vireo: boot hart %lu, %u hart%s\n", boot_hartid, host_platform.nharts,
	       host_platform.nharts == 1 ? "" : "s");
	printk("vireo: RAM %lu MiB at %#lx\n", (unsigned long)(ram / MIB),
	       (unsigned long)host_platform.ram[0].start);
	printk("vireo: ISA %s\n", f->isa);
	printk("vireo: H extension: present\n");
	printk("vireo: G-stage modes:%s%s%s, VMID bits: %u\n", f->sv39x4 ? " Sv39x4" : "",
	       f->sv48x4 ? " Sv48x4" : "", f->sv57x4 ? " Sv57x4" : "", f->vmid_bits);
	printk("vireo: Sstc: %s\n", f->sstc ? "present" : "absent");
	printk("vireo: timebase %lu Hz\n", (unsigned long)host_platform.timebase_hz);
}

static void init_memory(const void *fdt)
{
	struct mem_range reserved[PLATFORM_MAX_RESERVED + 3];
	unsigned n = 0;

	for (unsigned i = 0; i < host_platform.nreserved; i++)
		reserved[n++] = host_platform.reserved[i];
	reserved[n++] = (struct mem_range){(uintptr_t)__image_start, (uintptr_t)__image_end};
	reserved[n++] = (struct mem_range){(uintptr_t)fdt, (uintptr_t)fdt + fdt_totalsize(fdt)};
	if (host_platform.has_initrd)
		reserved[n++] = host_platform.initrd;
	/* QEMU's virt machine starts with all RAM zeroed; anywhere else assume nothing. */
	mm_init(host_platform.ram, host_platform.nram, reserved, n,
		fdt_node_check_compatible(fdt, 0, "riscv-virtio") == 0);
	log_info("memory: %lu MiB free for VMs and the hypervisor",
		 (unsigned long)(mm_free_pages() * PAGE_SIZE / MIB));
}

static void init_console(void)
{
	if (host_platform.uart.present)
		console_init(host_platform.uart.base, host_platform.uart_reg_shift,
			     host_platform.uart_io_width);
	if (host_platform.finisher.present)
		power_init(host_platform.finisher.base);
}

static void secondary_main(struct hart *h)
{
	trap_init_hart();
	cpu_init_hart();
	host_irq_init_hart();
	log_debug("hart %lu online", h->hartid);
	vireo_hart_loop();
}

void vireo_main(unsigned long boot_hartid, const void *fdt);
void vireo_main(unsigned long boot_hartid, const void *fdt)
{
	const char *why;

	hart_boot_init(boot_hartid);
	console_attach_log();
	trap_init_hart();
	if (platform_parse(fdt, &host_platform, &why) != 0)
		panic("cannot use the device tree at %p: %s", fdt, why);
	init_console();
	time_init(host_platform.timebase_hz);
	cpu_probe(host_platform.isa, host_platform.cbom_block_size, host_platform.cboz_block_size);
	if (!cpu_features.h) {
		printk("vireo: this CPU has no H extension (QEMU: -cpu rv64,h=true)\n");
		power_off(1);
	}
	cpu_init_hart();
	sbi_index_extensions();
	print_banner(boot_hartid);
	host_rtc_init(&host_platform.rtc, host_platform.timebase_hz);
	/* The DTB is Vireo's to edit: the host's seed is wiped from it here. */
	vm_seed_init((void *)(uintptr_t)fdt, &host_platform);
	for (unsigned i = 0; i < host_platform.nharts; i++)
		hart_register(host_platform.hartids[i]);
	if (host_platform.harts_skipped)
		log_warn("%u harts beyond the first %u are left unused",
			 host_platform.harts_skipped, VIREO_MAX_HARTS);
	init_memory(fdt);
	/* Before the other harts start: each sets up its own part of it. */
	host_irq_init(&host_platform);
	hart_start_secondaries(secondary_main);
	log_info("%u harts online", vireo_online_harts());
	vireo_start_vms(&host_platform);
	vireo_hart_loop();
}
