// SPDX-License-Identifier: BSD-2-Clause
/* VM lifecycle: create (RAM, G-stage, devices, kernel, DTB, vCPUs), stop, free. */
#include <vireo/aia.h>
#include <vireo/bitops.h>
#include <vireo/blk.h>
#include <vireo/blob.h>
#include <vireo/cpu.h>
#include <vireo/exit.h>
#include <vireo/hart.h>
#include <vireo/host_irq.h>
#include <vireo/loader.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/power.h>
#include <vireo/printf.h>
#include <vireo/sandbox.h>
#include <vireo/sbi.h>
#include <vireo/sched.h>
#include <vireo/string.h>
#include <vireo/time.h>
#include <vireo/vireo.h>
#include <vireo/vm.h>
#include <vireo/vm_chan.h>
#include <vireo/vm_cow.h>
#include <vireo/vm_fdt.h>
#include <vireo/vm_layout.h>
#include <vireo/vm_rtc.h>
#include <vireo/vm_mem.h>
#include <vireo/vm_seed.h>
#include <vireo/vm_net.h>
#include <vireo/vmid.h>

#define VM_MAX	     VM_ID_MAX
#define VM_DTB_MAX   (64 * KIB)
#define VM_RAM_ALIGN (2 * MIB) /* lets the G-stage use 2 MiB leaves */

static spinlock_t vm_table_lock = SPINLOCK_INIT;
static struct vm *vm_table[VM_MAX];
static int final_status;
static bool final_status_set;
static bool machine_mode;
static uint32_t ids_used; /* bit n: id n belongs to a VM, alive or being made */
static unsigned last_id;  /* ids are handed out round-robin: a late frame for a VM
			   * that just ended does not reach the next one at once */

static void *gstage_alloc(void *ctx, size_t npages, size_t align)
{
	(void)ctx;
	return page_alloc(npages, align);
}

static void gstage_free(void *ctx, void *p, size_t npages)
{
	(void)ctx;
	page_free(p, npages);
}

void *vm_gpa_to_hva(struct vm *vm, gpa_t gpa, uint64_t len)
{
	return guest_mem_ptr(&vm->mem, gpa, len);
}

struct vcpu *vm_vcpu(struct vm *vm, unsigned long hartid)
{
	return hartid < vm->nvcpus ? vm->vcpus[hartid] : NULL;
}

/* A device's interrupt wire goes into whichever controller the VM has. */
static void vm_irq_set_level(void *opaque, unsigned source, bool level)
{
	struct vm *vm = opaque;

	if (vm->aia)
		vaplic_set_level(&vm->aplic, source, level);
	else
		vplic_set_level(&vm->plic, source, level);
}

struct irq_line vm_irq_line(struct vm *vm, unsigned source)
{
	return (struct irq_line){vm_irq_set_level, vm, source};
}

/* The vAPLIC forwards an interrupt to a vCPU's IMSIC file (its lock held). */
static void aplic_msi(void *opaque, unsigned hart, unsigned eiid)
{
	struct vm *vm = opaque;

	if (hart < vm->nvcpus && vm->vcpus[hart])
		vcpu_aia_deliver(vm->vcpus[hart], eiid);
}

/* The vCPUs' IMSIC pages: an MSI is a 32-bit write of an identity to seteipnum. What
 * the guest writes there itself (Linux's IPIs) takes this road, with an exit. */
static int imsic_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	(void)opaque;
	(void)offset;
	(void)width;
	*value = 0;
	return 0;
}

static int imsic_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct vm *vm = opaque;
	unsigned hart = (unsigned)(offset / VM_IMSIC_STRIDE);
	uint64_t reg = offset % VM_IMSIC_STRIDE;

	if (width != 4 || hart >= vm->nvcpus || !vm->vcpus[hart])
		return 0; /* the rest of the page is reserved: writes are ignored */
	if (reg == AIA_SETEIPNUM_LE)
		vcpu_aia_deliver(vm->vcpus[hart], (uint32_t)value);
	else if (reg == AIA_SETEIPNUM_BE)
		vcpu_aia_deliver(vm->vcpus[hart], bit_swap32((uint32_t)value));
	return 0;
}

static const struct mmio_ops vm_imsic_ops = {.read = imsic_read, .write = imsic_write};

/* The virtual PLIC's output for one context changed. */
static void plic_notify(void *opaque, unsigned context, bool pending)
{
	struct vm *vm = opaque;
	unsigned hart = context / 2;

	if (context % 2 == 1 && hart < vm->nvcpus)
		vcpu_set_ext_irq(vm->vcpus[hart], pending);
}

static void uart_tx(void *opaque, uint8_t byte)
{
	struct vm *vm = opaque;

	vm_console_putc(&vm->console, byte);
}

static const struct mmio_ops vm_uart_ops;

/* The VM's disk: a sector range of a host disk, in virtio slot 0. */
static int init_disk(struct vm *vm)
{
	const struct vm_config *c = &vm->config;
	struct blk_backend *host = blk_host(c->disk_host);
	uint64_t n = c->disk_sectors;

	if (!host) {
		log_error("VM '%s': host disk %u not found (QEMU -drive/-device virtio-blk-device)",
			  vm->name, c->disk_host);
		return -VIREO_ENOENT;
	}
	if (n == 0 && c->disk_first_sector < host->capacity)
		n = host->capacity - c->disk_first_sector;
	if (n == 0 || c->disk_first_sector > host->capacity ||
	    n > host->capacity - c->disk_first_sector) {
		log_error("VM '%s': disk range %lu+%lu is outside host disk %u (%lu sectors)",
			  vm->name, (unsigned long)c->disk_first_sector, (unsigned long)n,
			  c->disk_host, (unsigned long)host->capacity);
		return -VIREO_ERANGE;
	}
	vm->disk = kzalloc(sizeof(*vm->disk));
	if (!vm->disk)
		return -VIREO_ENOMEM;
	struct irq_line irq = vm_irq_line(vm, VM_VIRTIO_IRQ_BASE + VM_VIRTIO_SLOT_BLK);
	int err = vblk_init(vm->disk, host, c->disk_first_sector, n, c->disk_read_only, &vm->mem,
			    &irq, vm->name);
	if (!err)
		err = mmio_bus_register(
		    &vm->bus, VM_VIRTIO_BASE + VM_VIRTIO_SLOT_BLK * VM_VIRTIO_STRIDE,
		    VM_VIRTIO_STRIDE, &virtio_dev_mmio_ops, &vm->disk->vdev, "virtio-blk");
	if (err)
		return err;
	log_info("VM '%s': disk = host disk %u sectors %lu..%lu (%lu MiB)%s", vm->name,
		 c->disk_host, (unsigned long)c->disk_first_sector,
		 (unsigned long)(c->disk_first_sector + n - 1), (unsigned long)(n / 2048),
		 vm->disk->read_only ? ", read-only" : "");
	return 0;
}

/* The virtio console: a fast console (hvc0) and the agent port on the host channel. */
static int init_console_dev(struct vm *vm)
{
	struct irq_line irq = vm_irq_line(vm, VM_VIRTIO_IRQ_BASE + VM_VIRTIO_SLOT_CON);

	vm->console_dev = kzalloc(sizeof(*vm->console_dev));
	if (!vm->console_dev)
		return -VIREO_ENOMEM;
	vcon_init(vm->console_dev, &vm->mem, &irq, &vm_chan_vcon_ops, vm);
	vm_chan_attach(vm);
	return mmio_bus_register(&vm->bus, VM_VIRTIO_BASE + VM_VIRTIO_SLOT_CON * VM_VIRTIO_STRIDE,
				 VM_VIRTIO_STRIDE, &virtio_dev_mmio_ops, &vm->console_dev->vdev,
				 "virtio-console");
}

/* Guest AIA when asked for, or by default where the host has guest interrupt files. */
static int choose_irqchip(struct vm *vm)
{
	switch (vm->config.irqchip) {
	case VM_IRQCHIP_PLIC:
		vm->aia = false;
		return 0;
	case VM_IRQCHIP_AIA:
		if (!vcpu_aia_possible(false)) {
			log_error(
			    "VM '%s': guest AIA needs a host with an IMSIC for supervisor level "
			    "(QEMU -machine virt,aia=aplic-imsic)",
			    vm->name);
			return -VIREO_EINVAL;
		}
		vm->aia = true;
		return 0;
	default:
		vm->aia = vcpu_aia_possible(true);
		return 0;
	}
}

static int init_irqchip(struct vm *vm)
{
	int err;

	if (!vm->aia) {
		vplic_init(&vm->plic, VM_PLIC_NUM_SOURCES, 2 * vm->nvcpus, plic_notify, vm);
		return mmio_bus_register(&vm->bus, VM_PLIC_BASE, VM_PLIC_SIZE, &vplic_mmio_ops,
					 &vm->plic, "plic");
	}
	vaplic_init(&vm->aplic, VM_PLIC_NUM_SOURCES - 1, vm->nvcpus, aplic_msi, vm);
	err = mmio_bus_register(&vm->bus, VM_APLIC_BASE, VM_APLIC_SIZE, &vaplic_mmio_ops,
				&vm->aplic, "aplic");
	if (!err)
		err = mmio_bus_register(&vm->bus, VM_IMSIC_BASE, vm->nvcpus * VM_IMSIC_STRIDE,
					&vm_imsic_ops, vm, "imsic");
	return err;
}

/* Its own generation ID, drawn like its boot seeds (all zero if Vireo has no entropy:
 * the guest then learns nothing from it, as without the device). */
static int init_genid(struct vm *vm)
{
	struct vm_seeds seeds;
	struct irq_line irq = vm_irq_line(vm, VM_GENID_IRQ);

	vm_seed_derive(vm->name, vm->vmid, &seeds);
	vgenid_init(&vm->genid, seeds.rng, &irq);
	vm_seed_wipe(&seeds);
	return mmio_bus_register(&vm->bus, VM_GENID_BASE, VM_GENID_SIZE, &vgenid_mmio_ops,
				 &vm->genid, "vmgenid");
}

static int init_devices(struct vm *vm)
{
	int err;

	/* A sandbox has no devices: everything it does goes through its SBI calls. */
	if (vm->config.sandbox)
		return sandbox_create(vm);

	mmio_bus_init(&vm->bus);
	err = choose_irqchip(vm);
	if (!err)
		err = init_irqchip(vm);
	struct irq_line uart_irq = vm_irq_line(vm, VM_UART_IRQ);
	vuart_init(&vm->uart, uart_tx, vm, &uart_irq);
	if (!err)
		err = mmio_bus_register(&vm->bus, VM_UART_BASE, VM_UART_SIZE, &vm_uart_ops, vm,
					"uart");
	if (!err && vm->config.disk)
		err = init_disk(vm);
	if (!err)
		err = init_console_dev(vm);
	if (!err)
		err = vm_net_init(vm);
	if (!err && vm->config.testdev) {
		testdev_init(&vm->testdev);
		err = mmio_bus_register(&vm->bus, VM_TESTDEV_BASE, VM_TESTDEV_SIZE,
					&testdev_mmio_ops, &vm->testdev, "testdev");
	}
	if (!err && !vm->config.no_rtc)
		err = vm_rtc_create(vm);
	if (!err)
		err = init_genid(vm);
	return err;
}

/*
 * Guest RAM is one guest-physical range made of as few host runs as the free memory
 * allows: the largest free 2 MiB-aligned run first (all of it, on an unfragmented
 * host), then the next largest, up to GUEST_MEM_MAX_RUNS. The G-stage maps each run
 * where it belongs, with superpages where the alignment allows.
 */
static int alloc_ram(struct vm *vm)
{
	uint64_t left = vm->ram_size;
	gpa_t gpa = vm->ram_base;

	while (left) {
		size_t got;
		uint8_t *run = vm->mem.nruns < GUEST_MEM_MAX_RUNS
				   ? page_alloc_largest(left / PAGE_SIZE, VM_RAM_ALIGN, &got)
				   : NULL;
		int err;

		if (!run) {
			log_error("VM '%s': cannot allocate %lu MiB of RAM (%lu MiB short, in at "
				  "most %u pieces of 2 MiB multiples)",
				  vm->name, (unsigned long)(vm->ram_size / MIB),
				  (unsigned long)(left / MIB), GUEST_MEM_MAX_RUNS);
			return -VIREO_ENOMEM;
		}
		err = guest_mem_add_run(&vm->mem, gpa, got * PAGE_SIZE, run);
		if (err) {
			page_free(run, got);
			return err;
		}
		/* From here the run is the VM's: vm_free gives it back. */
		err =
		    gstage_map(&vm->gstage, gpa, (uintptr_t)run, got * PAGE_SIZE, GSTAGE_PERM_RWX);
		if (err) {
			log_error("VM '%s': cannot map its RAM in the G-stage (%d)", vm->name, err);
			return err;
		}
		gpa += got * PAGE_SIZE;
		left -= got * PAGE_SIZE;
	}
	if (vm->mem.nruns > 1)
		log_info("VM '%s': RAM in %u pieces of host memory", vm->name, vm->mem.nruns);
	return 0;
}

static int init_memory(struct vm *vm)
{
	enum gstage_mode mode = cpu_features.sv48x4 ? GSTAGE_SV48X4 : GSTAGE_SV39X4;
	int err;

	vm->ram_base = VM_RAM_BASE;
	vm->ram_size = ALIGN_UP(vm->config.ram_size, VM_RAM_ALIGN);
	err = gstage_init(&vm->gstage, mode, gstage_alloc, gstage_free, NULL);
	if (err) {
		log_error("VM '%s': cannot build the G-stage page tables (%d)", vm->name, err);
		return err;
	}
	/* A fork maps the RAM of the VM it was forked from, read-only until written. */
	err = vm->config.origin == VM_ORIGIN_FORK ? vm_cow_attach(vm, vm->config.fork_of)
						  : alloc_ram(vm);
	if (err)
		return err;
	vm->hgatp = gstage_hgatp(&vm->gstage, vm->vmid);
	return 0;
}

static const char *host_mmu_type(void)
{
	return cpu_features.sv48x4 ? "riscv,sv48" : "riscv,sv39";
}

/* Kernel at its place, DTB at the top of RAM, initrd just below it. */
static int load_images(struct vm *vm)
{
	struct guest_ram ram = {&vm->mem, vm->ram_base, vm->ram_size};
	struct loaded_kernel k;
	const char *why;
	uint64_t dtb_off = vm->ram_size - VM_DTB_MAX;

	if (loader_load_kernel(&ram, vm->config.kernel, vm->config.kernel_size, &k, &why)) {
		log_error("VM '%s': %s", vm->name, why);
		return -VIREO_EINVAL;
	}
	vm->entry = k.entry;
	vm->dtb_gpa = vm->ram_base + dtb_off;
	uint64_t top = dtb_off;
	if (vm->config.initrd_size) {
		uint64_t at = ALIGN_DOWN(dtb_off - vm->config.initrd_size, PAGE_SIZE);
		if (vm->config.initrd_size > dtb_off || vm->ram_base + at < k.end) {
			log_error("VM '%s': kernel and initrd do not both fit in %lu MiB of RAM",
				  vm->name, (unsigned long)(vm->ram_size / MIB));
			return -VIREO_EINVAL;
		}
		guest_mem_write(&vm->mem, vm->ram_base + at, vm->config.initrd,
				vm->config.initrd_size);
		vm->initrd_gpa = vm->ram_base + at;
		vm->initrd_size = vm->config.initrd_size;
		top = at;
	}
	if (vm->ram_base + top < k.end) {
		log_error("VM '%s': kernel overlaps the device tree at the top of RAM", vm->name);
		return -VIREO_EINVAL;
	}
	/* Guest AIA: the IMSIC's CSRs are the guest's (a hardware file's, or trapped). */
	char isa[CPU_ISA_MAX + 8];
	vireo_snprintf(isa, sizeof(isa), "%s%s", cpu_guest.isa, vm->aia ? "_ssaia" : "");
	/* Fresh boot entropy for every boot of every VM (none if Vireo has no source). */
	struct vm_seeds seeds;
	bool seeded = vm_seed_derive(vm->name, vm->vmid, &seeds);
	struct vm_fdt_params p = {
	    .name = vm->name,
	    .nvcpus = vm->nvcpus,
	    .isa = isa,
	    .imsic_num_ids = vm->aia ? vcpu_aia_num_ids() : 0,
	    .cbom_block_size = cpu_guest.cbom_block_size,
	    .cboz_block_size = cpu_guest.cboz_block_size,
	    .mmu_type = host_mmu_type(),
	    .timebase_hz = time_timebase_hz(),
	    .ram_base = vm->ram_base,
	    .ram_size = vm->ram_size,
	    .bootargs = vm->config.bootargs,
	    .has_initrd = vm->initrd_size != 0,
	    .initrd_start = vm->initrd_gpa,
	    .initrd_end = vm->initrd_gpa + vm->initrd_size,
	    .testdev = vm->config.testdev,
	    .virtio_mask = (vm->disk ? 1u << VM_VIRTIO_SLOT_BLK : 0u) |
			   (vm->console_dev ? 1u << VM_VIRTIO_SLOT_CON : 0u) |
			   (vm->net_dev ? 1u << VM_VIRTIO_SLOT_NET : 0u),
	    .rtc = vm->rtc != NULL,
	    .genid = true,
	    .rng_seed = seeded ? seeds.rng : NULL,
	    .rng_seed_len = sizeof(seeds.rng),
	    .kaslr_seed = seeded ? seeds.kaslr : NULL,
	    .hypervisor_version = VIREO_VERSION,
	};
	/* Built aside and copied in: the top of RAM may straddle two host runs. */
	void *dtb = kmalloc(VM_DTB_MAX);
	int size = dtb ? vm_fdt_build(dtb, VM_DTB_MAX, &p) : -VIREO_ENOMEM;
	if (size > 0)
		guest_mem_write(&vm->mem, vm->dtb_gpa, dtb, (uint64_t)size);
	/* The seeds in the guest's DTB must be the only copy. */
	vm_seed_wipe(&seeds);
	if (dtb) {
		secure_wipe(dtb, VM_DTB_MAX);
		kfree(dtb);
	}
	if (size < 0) {
		log_error("VM '%s': cannot build its device tree (error %d)", vm->name, size);
		return -VIREO_EINVAL;
	}
	log_info("VM '%s': %s kernel at %#lx, entry %#lx, DTB at %#lx%s", vm->name,
		 loader_kind_name(k.kind), (unsigned long)k.start, (unsigned long)k.entry,
		 (unsigned long)vm->dtb_gpa, vm->initrd_size ? ", initrd loaded" : "");
	return 0;
}

static int create_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = kzalloc(sizeof(*v));
		if (!v)
			return -VIREO_ENOMEM;
		vm->vcpus[i] = v;
		if (vcpu_arch_init(&v->arch))
			return -VIREO_ENOMEM;
		v->vm = vm;
		v->id = i;
		v->lock = (spinlock_t)SPINLOCK_INIT;
		v->hsm = VCPU_STOPPED;
		vcpu_aia_init(v, vm->aia);
		vcpu_timer_reset(v, cpu_features.sstc);
		v->hart = sched_pick_hart(vm->config.hart_affinity);
		if (!v->hart) {
			log_error("VM '%s': no online hart matches its hart affinity", vm->name);
			return -VIREO_EINVAL;
		}
		vcpu_arch_reset(&v->arch, 0, 0, 0, vm->hgatp, cpu_features.sstc);
	}
	/* The boot vCPU starts at the kernel with a0 = hart id, a1 = DTB. */
	vm->vcpus[0]->start_addr = vm->entry;
	vm->vcpus[0]->start_opaque = vm->dtb_gpa;
	vm->vcpus[0]->hsm = VCPU_START_PENDING;
	return 0;
}

/* The host disk may still be writing into guest RAM: wait for it before freeing. */
static void drain_disk(struct vm *vm)
{
	if (!vm->disk)
		return;
	vblk_reset(vm->disk);
	while (vblk_inflight(vm->disk)) {
		/* If the disk interrupts this very hart, nobody else will take it. */
		if (host_irq_polled() || (hart_pending_irqs() & HART_IRQ_EXT))
			host_irq_handle();
	}
	kfree(vm->disk);
	vm->disk = NULL;
}

/* At a VM's end: how its vCPUs' IMSIC files did (where its interrupts went). */
static void log_aia_totals(const struct vm *vm)
{
	uint64_t hw = 0, sw = 0, moves = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (!vm->vcpus[i])
			continue;
		hw += vm->vcpus[i]->aia.msis_hw;
		sw += vm->vcpus[i]->aia.msis_sw;
		moves += vm->vcpus[i]->aia.moves;
	}
	log_info("VM '%s': IMSIC files: %lu MSIs into guest interrupt files, %lu into emulated "
		 "ones; %lu moves from a guest file",
		 vm->name, (unsigned long)hw, (unsigned long)sw, (unsigned long)moves);
}

static void vm_free(struct vm *vm)
{
	/* First: a firing alarm reaches into the PLIC and the vCPUs, a time budget too. */
	sandbox_destroy(vm);
	vm_rtc_destroy(vm);
	if (vm->aia && vm->state != VM_CREATED)
		log_aia_totals(vm);
	drain_disk(vm);
	vm_net_free(vm);
	if (vm->console_dev) {
		/* Off the channel first: from then on nothing else touches the device. */
		vm_chan_detach(vm, vm->exit_status);
		kfree(vm->console_dev);
		vm->console_dev = NULL;
	}
	/* Last words, and off the list of consoles with a partial line waiting. */
	vm_console_flush(&vm->console);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (!vm->vcpus[i])
			continue;
		vcpu_arch_destroy(&vm->vcpus[i]->arch);
		kfree(vm->vcpus[i]);
	}
	/* A fork's own pages are its writable leaves: found before the tables go. */
	if (vm->cow)
		vm_cow_detach(vm);
	if (vm->gstage.root)
		gstage_destroy(&vm->gstage);
	/* RAM that forks share lives on until the last of them ends (below). */
	if (!vm->shared)
		for (unsigned i = 0; i < vm->mem.nruns; i++)
			page_free(vm->mem.runs[i].host, vm->mem.runs[i].size / PAGE_SIZE);
	if (vm->vmid)
		vmid_free(vm->vmid);
	if (vm->restore)
		blob_put(vm->restore);
	kfree(vm->frozen_state);
	blob_put(vm->config.kernel_blob);
	blob_put(vm->config.initrd_blob);
	/* The RAM's share of the promise stays with the RAM while forks use it. */
	vm_mem_uncommit(vm);
	if (vm->shared)
		vm_ram_put(vm->shared);
	/* Last: from here the id (the channel) may name another VM. */
	if (vm->id) {
		spin_lock(&vm_table_lock);
		ids_used &= ~(1u << vm->id);
		spin_unlock(&vm_table_lock);
	}
	kfree(vm);
}

/* An id for a new VM: the one its configuration asks for (the boot bundle's numbers),
 * else the next free one whose channel has nothing left to say about an earlier VM. */
static unsigned id_reserve(unsigned want)
{
	unsigned id = 0;

	spin_lock(&vm_table_lock);
	if (want) {
		if (want <= VM_ID_MAX && !(ids_used & (1u << want)))
			id = want;
	} else {
		for (unsigned k = 1; k <= VM_ID_MAX && !id; k++) {
			unsigned cand = (last_id + k - 1) % VM_ID_MAX + 1;

			if (!(ids_used & (1u << cand)) && vm_chan_id_idle(cand))
				id = cand;
		}
	}
	if (id) {
		ids_used |= 1u << id;
		if (!want)
			last_id = id;
	}
	spin_unlock(&vm_table_lock);
	return id;
}

/* The VM's id is its channel number (docs/channel.md): the console number of the
 * boot bundle, kept across a reboot, or one handed out at run time (id_reserve). Two
 * VMs alive never share one. */
static void table_insert(struct vm *vm)
{
	spin_lock(&vm_table_lock);
	for (unsigned i = 0; i < VM_MAX; i++) {
		if (!vm_table[i]) {
			vm_table[i] = vm;
			break;
		}
	}
	spin_unlock(&vm_table_lock);
}

/* Say why a VM could not be made: in the log, and to whoever asked (vm_create_why). */
static void create_error(char *why, size_t size, const char *name, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
static void create_error(char *why, size_t size, const char *name, const char *fmt, ...)
{
	char text[160];
	va_list ap;

	va_start(ap, fmt);
	vireo_vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_error("VM '%s': %s", name, text);
	if (why && size && !why[0])
		strlcpy(why, text, size);
}

struct vm *vm_create_why(const struct vm_config *cfg, char *why, size_t size)
{
	struct vm *vm = kzalloc(sizeof(*vm));

	if (why && size)
		why[0] = '\0';
	if (!vm) {
		create_error(why, size, cfg->name, "out of memory for the VM itself");
		return NULL;
	}
	vm->config = *cfg;
	strlcpy(vm->name, cfg->name, sizeof(vm->name));
	vm->nvcpus = cfg->vcpus;
	vm->lock = (spinlock_t)SPINLOCK_INIT;
	vm->state = VM_CREATED;
	/* The images are the VM's until it is freed (a reboot loads them again). */
	blob_get(cfg->kernel_blob);
	blob_get(cfg->initrd_blob);
	if (vm->nvcpus == 0 || vm->nvcpus > VM_MAX_VCPUS) {
		create_error(why, size, vm->name, "%u vCPUs requested, 1..%u supported", vm->nvcpus,
			     VM_MAX_VCPUS);
		vm_free(vm);
		return NULL;
	}
	vm->id = id_reserve(cfg->console_number);
	if (!vm->id) {
		create_error(why, size, vm->name,
			     cfg->console_number ? "its id %u is taken" : "all %u VM ids are taken",
			     cfg->console_number ? cfg->console_number : VM_ID_MAX);
		vm_free(vm);
		return NULL;
	}
	vm->config.console_number = vm->id;
	vm_console_init(&vm->console, vm->name, vm->id, cfg->console_muted);
	if (vm_mem_commit(vm, why, size)) {
		vm_free(vm);
		return NULL;
	}
	vm->vmid = vmid_alloc();
	if (!vm->vmid)
		create_error(why, size, vm->name, "no VMID left");
	if (!vm->vmid || init_memory(vm) || init_devices(vm) ||
	    (cfg->origin == VM_ORIGIN_BOOT && load_images(vm)) || create_vcpus(vm)) {
		create_error(why, size, vm->name,
			     "not created (out of memory, or see the machine's log)");
		vm_free(vm);
		return NULL;
	}
	/* What a reboot does: boot afresh (a fork or a restored VM too). */
	vm->config.origin = VM_ORIGIN_BOOT;
	vm->config.fork_of = NULL;
	table_insert(vm);
	return vm;
}

struct vm *vm_create(const struct vm_config *cfg)
{
	return vm_create_why(cfg, NULL, 0);
}

void vm_discard(struct vm *vm, int status)
{
	spin_lock(&vm->lock);
	if (vm->state != VM_CREATED) {
		spin_unlock(&vm->lock);
		return;
	}
	vm->exit_status = status;
	vm->state = VM_STOPPING;
	spin_unlock(&vm->lock);
	/* Each hart takes its vCPU off again at once (reap_stopped); the last one frees. */
	vm->attached_vcpus = vm->nvcpus;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		sched_attach(vm->vcpus[i]);
}

void vm_set_machine_mode(bool on)
{
	machine_mode = on;
}

bool vm_machine_mode(void)
{
	return machine_mode;
}

void vm_start(struct vm *vm)
{
	vm->attached_vcpus = vm->nvcpus;
	log_info("VM '%s': starting (%u vCPU%s, %lu MiB, VMID %u)", vm->name, vm->nvcpus,
		 vm->nvcpus == 1 ? "" : "s", (unsigned long)(vm->ram_size / MIB), vm->vmid);
	if (vm->config.debug_wait)
		vm_debug_hold_at_start(vm);
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		sched_attach(vm->vcpus[i]);
}

void vm_stop(struct vm *vm, int status, const char *why)
{
	bool first;

	spin_lock(&vm->lock);
	first = vm->state == VM_RUNNING;
	if (first) {
		vm->exit_status = status;
		vm->state = VM_STOPPING;
	}
	spin_unlock(&vm->lock);
	if (!first)
		return;
	vm_console_flush(&vm->console);
	log_info("VM '%s': %s, exit status %d", vm->name, why, status);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_kick(vm->vcpus[i]);
}

static void record_status(int status)
{
	spin_lock(&vm_table_lock);
	if (!final_status_set && status != 0) {
		final_status = status;
		final_status_set = true;
	}
	spin_unlock(&vm_table_lock);
}

/* Out of the table: nobody finds it any more. True if it may be freed now; else the
 * control plane still holds it and its last vm_put frees it. */
static bool table_remove(struct vm *vm)
{
	bool free_now;

	spin_lock(&vm_table_lock);
	for (unsigned i = 0; i < VM_MAX; i++)
		if (vm_table[i] == vm)
			vm_table[i] = NULL;
	free_now = vm->refs == 0;
	vm->free_pending = !free_now;
	spin_unlock(&vm_table_lock);
	return free_now;
}

struct vm *vm_find(unsigned id)
{
	struct vm *found = NULL;

	spin_lock(&vm_table_lock);
	for (unsigned i = 0; i < VM_MAX && !found; i++) {
		if (vm_table[i] && vm_table[i]->id == id) {
			found = vm_table[i];
			found->refs++;
		}
	}
	spin_unlock(&vm_table_lock);
	return found;
}

void vm_put(struct vm *vm)
{
	bool free_now;

	spin_lock(&vm_table_lock);
	free_now = --vm->refs == 0 && vm->free_pending;
	spin_unlock(&vm_table_lock);
	if (free_now)
		vm_free(vm);
}

void vm_for_each(void (*fn)(struct vm *vm, void *ctx), void *ctx)
{
	struct vm *by_id[VM_MAX];
	unsigned n = 0;

	spin_lock(&vm_table_lock);
	for (unsigned i = 0; i < VM_MAX; i++)
		if (vm_table[i])
			by_id[n++] = vm_table[i];
	/* Ids only grow, so insertion order by id is a short sort. */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && by_id[j - 1]->id > by_id[j]->id; j--) {
			struct vm *t = by_id[j];

			by_id[j] = by_id[j - 1];
			by_id[j - 1] = t;
		}
	for (unsigned i = 0; i < n; i++)
		fn(by_id[i], ctx);
	spin_unlock(&vm_table_lock);
}

void vm_vcpu_detached(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vm_config cfg;
	bool reboot;

	if (__atomic_sub_fetch(&vm->attached_vcpus, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	/* The last vCPU is off its hart: nothing references the VM any more. */
	reboot = vm->reboot_requested;
	cfg = vm->config;
	/* Like a real RTC, the clock keeps the time the guest set across a reboot. */
	cfg.rtc_offset_ns = vm_rtc_offset_ns(vm);
	/* Its images outlive it for the new boot (the host may have let them go). */
	if (reboot) {
		blob_get(cfg.kernel_blob);
		blob_get(cfg.initrd_blob);
	}
	if (!reboot)
		record_status(vm->exit_status);
	if (table_remove(vm))
		vm_free(vm);
	if (reboot) {
		log_info("VM '%s': rebooting", cfg.name);
		struct vm *again = cfg.kernel ? vm_create(&cfg) : NULL;
		blob_put(cfg.kernel_blob);
		blob_put(cfg.initrd_blob);
		if (again) {
			vm_start(again);
			return;
		}
		if (!cfg.kernel)
			log_info("VM '%s': no kernel to boot again (a restored VM); it ends",
				 cfg.name);
		record_status(VM_STATUS_FAULT);
	}
	if (vm_alive_count() == 0 && !machine_mode) {
		log_info("all VMs have ended; powering off (status %d)", vm_final_status());
		vm_chan_drain();
		power_off(vm_final_status());
	}
}

unsigned vm_alive_count(void)
{
	unsigned n = 0;

	spin_lock(&vm_table_lock);
	for (unsigned i = 0; i < VM_MAX; i++)
		n += vm_table[i] != NULL;
	spin_unlock(&vm_table_lock);
	return n;
}

int vm_final_status(void)
{
	return final_status;
}

static unsigned focus_number; /* 0: the first VM that can take input */

static bool takes_input(const struct vm *vm)
{
	return vm && vm->state == VM_RUNNING && !vm->console.muted;
}

/* The focused VM, or, if it is gone, the live VM with the lowest console number.
 * The caller holds vm_table_lock (the VM may not go away meanwhile). */
static struct vm *focus_locked(void)
{
	struct vm *focus = NULL;

	spin_assert_held(&vm_table_lock);
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = vm_table[i];
		if (!takes_input(vm))
			continue;
		if (vm->console.number == focus_number)
			return vm;
		if (!focus || vm->console.number < focus->console.number)
			focus = vm;
	}
	return focus;
}

bool vm_console_deliver(uint8_t byte)
{
	struct vm *vm;

	spin_lock(&vm_table_lock);
	vm = focus_locked();
	if (vm)
		vm_console_input(vm, byte);
	spin_unlock(&vm_table_lock);
	return vm != NULL;
}

bool vm_console_focus_name(char *name, size_t size)
{
	struct vm *vm;

	spin_lock(&vm_table_lock);
	vm = focus_locked();
	if (vm)
		strlcpy(name, vm->name, size);
	spin_unlock(&vm_table_lock);
	return vm != NULL;
}

bool vm_console_set_focus(unsigned number)
{
	bool found = false;

	spin_lock(&vm_table_lock);
	for (unsigned i = 0; i < VM_MAX; i++)
		if (takes_input(vm_table[i]) && vm_table[i]->console.number == number)
			found = true;
	if (found)
		focus_number = number;
	spin_unlock(&vm_table_lock);
	return found;
}

/* Move waiting input into the UART FIFO while it has room (vm->lock held). */
static void drain_backlog(struct vm *vm)
{
	spin_assert_held(&vm->lock);
	while (
	    vm->backlog_tail != vm->backlog_head &&
	    vuart_receive(&vm->uart, vm->uart_backlog[vm->backlog_tail % sizeof(vm->uart_backlog)]))
		vm->backlog_tail++;
}

void vm_console_input(struct vm *vm, uint8_t byte)
{
	/* hvc0 too: the guest reads whichever console it runs its shell on. */
	if (vm->console_dev)
		vcon_console_input(vm->console_dev, byte);
	spin_lock(&vm->lock);
	if (vm->input_head - vm->input_tail < sizeof(vm->input))
		vm->input[vm->input_head++ % sizeof(vm->input)] = byte;
	if (vm->backlog_head - vm->backlog_tail < sizeof(vm->uart_backlog))
		vm->uart_backlog[vm->backlog_head++ % sizeof(vm->uart_backlog)] = byte;
	drain_backlog(vm);
	spin_unlock(&vm->lock);
}

/* The UART as the guest sees it: the model, refilled from the backlog after reads. */
static int vm_uart_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct vm *vm = opaque;
	int err = vuart_mmio_ops.read(&vm->uart, offset, width, value);

	if (vm->backlog_tail != vm->backlog_head) {
		spin_lock(&vm->lock);
		drain_backlog(vm);
		spin_unlock(&vm->lock);
	}
	return err;
}

static int vm_uart_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct vm *vm = opaque;

	return vuart_mmio_ops.write(&vm->uart, offset, width, value);
}

static const struct mmio_ops vm_uart_ops = {.read = vm_uart_read, .write = vm_uart_write};

int sbi_console_getchar(struct vm *vm)
{
	int c = -1;

	spin_lock(&vm->lock);
	if (vm->input_head != vm->input_tail)
		c = vm->input[vm->input_tail++ % sizeof(vm->input)];
	spin_unlock(&vm->lock);
	return c;
}

static const char *const hsm_names[] = {"started",	 "stopped",   "start-pending",
					"stop-pending",	 "suspended", "suspend-pending",
					"resume-pending"};

static void dump_vcpu(const struct vcpu *v)
{
	printk("  vCPU %u on hart %lu: %s%s%s, sepc %#lx, %lu migrations, ext_irq %lu\n", v->id,
	       v->hart->hartid, hsm_names[v->hsm], v->waiting ? ", waiting" : "",
	       v->in_guest ? ", in guest" : "", v->arch.gprs.sepc, (unsigned long)v->migrations,
	       v->ext_irq);
	if (v->aia.on) {
		const struct hart *h = hart_by_index(v->aia.hart_index);

		if (v->aia.file && h)
			printk("    IMSIC: guest interrupt file %u of hart %lu", v->aia.file,
			       h->hartid);
		else
			printk("    IMSIC: in software");
		printk(", %lu MSIs into guest files, %lu in software, %lu moves\n",
		       (unsigned long)v->aia.msis_hw, (unsigned long)v->aia.msis_sw,
		       (unsigned long)v->aia.moves);
	}
	printk("    exits %lu", (unsigned long)v->exits);
	for (unsigned k = 0; k < VCPU_EXIT_KINDS; k++)
		if (v->exit_kinds[k])
			printk(", %s %lu", vcpu_exit_kind_name(k), (unsigned long)v->exit_kinds[k]);
	printk("\n");
}

/* Machine-readable totals per VM for tools: "vireo-stats: vm=NAME exits=N cause=count ..." */
static void dump_vm_totals(const struct vm *vm)
{
	uint64_t kinds[VCPU_EXIT_KINDS] = {0}, exits = 0;
	char line[320];
	int n;

	for (unsigned j = 0; j < vm->nvcpus; j++) {
		exits += vm->vcpus[j]->exits;
		for (unsigned k = 0; k < VCPU_EXIT_KINDS; k++)
			kinds[k] += vm->vcpus[j]->exit_kinds[k];
	}
	/* Built whole and written once, so a reader never sees half a line. */
	n = vireo_snprintf(line, sizeof(line), "vireo-stats: vm=%s time=%lu exits=%lu", vm->name,
			   (unsigned long)hart_time(), (unsigned long)exits);
	for (unsigned k = 0; k < VCPU_EXIT_KINDS && n < (int)sizeof(line); k++)
		if (kinds[k] || k == VCPU_EXIT_INTERRUPT)
			n += vireo_snprintf(line + n, sizeof(line) - (size_t)n, " %s=%lu",
					    vcpu_exit_kind_id(k), (unsigned long)kinds[k]);
	printk("%s\n", line);
}

void vm_dump_all(void)
{
	spin_lock(&vm_table_lock);
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = vm_table[i];
		if (!vm)
			continue;
		printk("vireo: VM '%s' (console %u, VMID %u, %s)\n", vm->name, vm->console.number,
		       vm->vmid, vm->state == VM_RUNNING ? "running" : "stopping");
		for (unsigned j = 0; j < vm->nvcpus; j++)
			dump_vcpu(vm->vcpus[j]);
		dump_vm_totals(vm);
	}
	spin_unlock(&vm_table_lock);
}

void vm_kick_disks(void)
{
	spin_lock(&vm_table_lock);
	for (unsigned i = 0; i < VM_MAX; i++)
		if (vm_table[i] && vm_table[i]->disk && vm_table[i]->state == VM_RUNNING)
			vblk_kick(vm_table[i]->disk);
	spin_unlock(&vm_table_lock);
}
