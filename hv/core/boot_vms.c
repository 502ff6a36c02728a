// SPDX-License-Identifier: BSD-2-Clause
/* From the boot bundle to running VMs; the host console's input to the focused VM. */
#include <vireo/blk.h>
#include <vireo/bundle.h>
#include <vireo/console.h>
#include <vireo/host_irq.h>
#include <vireo/log.h>
#include <vireo/panic.h>
#include <vireo/power.h>
#include <vireo/sbi.h>
#include <vireo/sbi_host.h>
#include <vireo/string.h>
#include <vireo/uart.h>
#include <vireo/vireo.h>
#include <vireo/vm.h>
#include <vireo/vcpu_aia.h>
#include <vireo/vm_chan.h>
#include <vireo/vm_mem.h>
#include <vireo/vm_net.h>

static void config_from_bundle(const struct bundle *b, const struct bundle_vm *e,
			       struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strlcpy(cfg->name, e->name, sizeof(cfg->name));
	strlcpy(cfg->bootargs, e->bootargs, sizeof(cfg->bootargs));
	cfg->ram_size = e->ram_size;
	cfg->vcpus = e->vcpus;
	cfg->hart_affinity = e->hart_affinity;
	cfg->kernel = b->base + e->kernel_offset;
	cfg->kernel_size = e->kernel_size;
	cfg->initrd = e->initrd_size ? b->base + e->initrd_offset : NULL;
	cfg->initrd_size = e->initrd_size;
	cfg->testdev = (e->flags & BUNDLE_VM_TESTDEV) != 0;
	cfg->console_muted = (e->flags & BUNDLE_VM_NO_CONSOLE) != 0;
	cfg->irqchip = (e->flags & BUNDLE_VM_IRQCHIP_PLIC)  ? VM_IRQCHIP_PLIC
		       : (e->flags & BUNDLE_VM_IRQCHIP_AIA) ? VM_IRQCHIP_AIA
							    : VM_IRQCHIP_AUTO;
	cfg->disk = (e->disk_flags & BUNDLE_DISK_PRESENT) != 0;
	cfg->disk_read_only = (e->disk_flags & BUNDLE_DISK_READONLY) != 0;
	cfg->disk_host = e->disk_host;
	cfg->disk_first_sector = e->disk_first_sector;
	cfg->disk_sectors = e->disk_sectors;
	cfg->no_rtc = (e->flags & BUNDLE_VM_NO_RTC) != 0;
	cfg->debug_wait = (e->flags & BUNDLE_VM_DEBUG_WAIT) != 0;
	cfg->sandbox = (e->flags & BUNDLE_VM_SANDBOX) != 0;
	/* bundle_parse has kept it within BUNDLE_RTC_OFFSET_MAX: no overflow here. */
	cfg->rtc_offset_ns = e->rtc_offset * (int64_t)1000000000;
	cfg->net = (e->flags & BUNDLE_VM_NET) != 0;
	if (cfg->net) {
		strlcpy(cfg->net_name, e->net_name, sizeof(cfg->net_name));
		memcpy(cfg->mac, e->mac, sizeof(cfg->mac));
		cfg->ipv4 = (uint32_t)e->ipv4[0] << 24 | (uint32_t)e->ipv4[1] << 16 |
			    (uint32_t)e->ipv4[2] << 8 | e->ipv4[3];
	}
}

#define CONSOLE_ESCAPE 0x1d /* Ctrl-]: the next key is for Vireo, not the guest */

/* Keys after the escape: 1-9 = give that VM the keyboard, d = dump vCPUs, else help. */
static void console_command(int c)
{
	if (c >= '1' && c <= '9') {
		char name[VM_NAME_MAX] = "?";
		if (vm_console_set_focus((unsigned)(c - '0'))) {
			vm_console_focus_name(name, sizeof(name));
			log_info("console input goes to VM %c '%s'", c, name);
		} else {
			log_info("no VM %c takes console input", c);
		}
		return;
	}
	if (c == 'd') {
		vm_dump_all();
		vm_net_dump();
		return;
	}
	log_info("console keys: Ctrl-] 1..9 = send input to VM n, Ctrl-] d = dump vCPUs, "
		 "Ctrl-] Ctrl-] = a literal Ctrl-]");
}

/* Host console input goes to the focused VM's UART (and its SBI console). */
static void console_rx(void *opaque)
{
	static bool escaped;
	int c;

	(void)opaque;
	while ((c = console_getc()) >= 0) {
		if (!escaped && c == CONSOLE_ESCAPE) {
			escaped = true;
			continue;
		}
		if (escaped && c != CONSOLE_ESCAPE) {
			escaped = false;
			console_command(c);
			continue;
		}
		escaped = false;
		vm_console_deliver((uint8_t)c);
	}
}

static void init_console_input(const struct platform *plat)
{
	if (!host_irq_controller() || !plat->uart.present || !plat->uart.irq)
		return;
	if (host_irq_register(plat->uart.irq, 0, console_rx, NULL) == 0)
		console_enable_rx_irq();
	else
		log_warn("console input: %s", host_irq_error());
}

void vireo_start_vms(const struct platform *plat)
{
	struct vm *vms[BUNDLE_MAX_VMS];
	unsigned created = 0;
	struct bundle b = {0};
	char why[160];

	sbi_base_init(sbi_host_mvendorid(), sbi_host_marchid(), sbi_host_mimpid());
	if (!plat->has_initrd) {
		log_info("no boot bundle (QEMU -initrd): no VMs to run; powering off");
		power_off(0);
	}
	if (bundle_parse((const void *)(uintptr_t)plat->initrd.start,
			 plat->initrd.end - plat->initrd.start, &b, why, sizeof(why)) != 0) {
		log_error("boot bundle: %s", why);
		power_off(1);
	}
	if (b.header->flags & BUNDLE_SELFTEST_PANIC)
		panic("self-test: the boot bundle asked for a panic");
	blk_host_probe(plat);
	vm_net_boot(plat);
	vm_chan_init(plat);
	vcpu_aia_setup(plat);
	if (vcpu_aia_possible(true))
		log_info("guest AIA: %u guest interrupt files per hart, %u identities each",
			 vcpu_aia_files_per_hart(), vcpu_aia_num_ids());
	/* A machine's VMs come and go, several at a time: their lines say whose they are. */
	vm_console_configure(b.header->vm_count > 1 || (b.header->flags & BUNDLE_MACHINE),
			     (b.header->flags & BUNDLE_CONSOLE_COLOUR) != 0);
	for (unsigned i = 0; i < b.header->vm_count; i++) {
		struct vm_config cfg;
		config_from_bundle(&b, &b.vms[i], &cfg);
		cfg.console_number = i + 1;
		struct vm *vm = vm_create(&cfg);
		if (vm)
			vms[created++] = vm;
	}
	if (b.header->flags & BUNDLE_MACHINE) {
		/* From here VMs come and go at the host's request; what is free now is theirs. */
		vm_set_machine_mode(true);
		vm_mem_start();
		log_info("machine mode: %lu MiB for VMs; waiting for the host",
			 (unsigned long)(vm_mem_limit() / MIB));
	} else if (created == 0) {
		log_error("no VM could be created");
		power_off(1);
	}
	init_console_input(plat);
	for (unsigned i = 0; i < created; i++)
		vm_start(vms[i]);
}
