// SPDX-License-Identifier: BSD-2-Clause
/*
 * The control plane's snapshot and fork ops (vireo/ctl.h, 0x02xx;
 * docs/machine.md, docs/channel.md): a paused VM's state into a blob for the
 * host, a VM made from such a state, and forks of a paused VM that share its
 * RAM copy-on-write. Every argument is checked before anything is made.
 */
#include <vireo/blob.h>
#include <vireo/ctl.h>
#include <vireo/log.h>
#include <vireo/printf.h>
#include <vireo/mm.h>
#include <vireo/string.h>
#include <vireo/vm.h>
#include <vireo/vm_cow.h>
#include <vireo/vm_mem.h>
#include <vireo/vm_snapshot.h>

static int op_vm_snapshot(struct ctl_call *c)
{
	char why[CTL_REASON_MAX];
	struct blob *b = NULL;
	uint8_t *buf = NULL;
	long len = 0;
	int err;
	struct vm *vm = ctl_arg_vm(c, 4, false, &err);

	if (!vm)
		return err == -VIREO_ENOENT ? ctl_fail(c, err, "no VM %u", ctl_get_u32(c->args))
					    : err;
	err = vm_snapshot_check(vm, why, sizeof(why));
	if (!err) {
		len = vm_snapshot_take(vm, &buf, why, sizeof(why));
		err = len < 0 ? (int)len : 0;
	}
	if (!err) {
		b = blob_alloc((uint64_t)len, &err);
		if (!b)
			vireo_snprintf(why, sizeof(why), "no blob for a state of %ld bytes", len);
	}
	if (b) {
		memcpy(b->data, buf, (size_t)len);
		ctl_put_u32(c->out, b->id);
		ctl_put_u32(c->out + 4, 0);
		ctl_put_u64(c->out + 8, (uint64_t)len);
		c->out_len = 16;
		log_info("VM '%s': state saved (%ld bytes, blob %u)", vm->name, len, b->id);
	}
	kfree(buf);
	vm_put(vm);
	return err ? ctl_fail(c, err, "%s", why) : 0;
}

static int op_vm_restore(struct ctl_call *c)
{
	struct vm_config cfg;
	struct vm *vm;
	uint32_t flags = 0;
	char why[CTL_REASON_MAX];
	struct blob *state;
	int err = ctl_parse_vm_create(c, &cfg, &flags);

	if (err)
		return err;
	if (ctl_get_u32(c->args + 104) || ctl_get_u32(c->args + 28) || c->len != CTL_VM_CREATE_SIZE)
		return ctl_fail(c, -VIREO_EINVAL,
				"a restore takes a state blob only (no initrd, "
				"template or bootargs)");
	if (flags & CTL_VMC_START)
		return ctl_fail(c, -VIREO_EINVAL,
				"a restored VM starts once the host has filled its RAM (VM_START)");
	state = blob_find(ctl_get_u32(c->args + 24));
	if (!state)
		return ctl_fail(c, -VIREO_ENOENT, "no blob %u for the state",
				ctl_get_u32(c->args + 24));
	cfg.origin = VM_ORIGIN_RESTORE;
	vm = vm_create_why(&cfg, why, sizeof(why));
	if (!vm) {
		blob_put(state);
		return ctl_fail(c, -VIREO_ENOMEM, "%s", why[0] ? why : "not created");
	}
	vm->restore = state; /* our reference: applied at VM_START, dropped with the VM */
	return (int)vm->id;
}

/* What a fork takes from its template beyond the RAM: its devices and images. */
static int fork_config(struct ctl_call *c, struct vm *tmpl, struct vm_config *cfg)
{
	const struct vm_config *t = &tmpl->config;

	if (cfg->vcpus != tmpl->nvcpus || cfg->ram_size != tmpl->ram_size)
		return ctl_fail(
		    c, -VIREO_EINVAL,
		    "a fork has its template's %u vCPUs and %lu MiB (asked: %u, %lu MiB)",
		    tmpl->nvcpus, (unsigned long)(tmpl->ram_size / MIB), cfg->vcpus,
		    (unsigned long)(cfg->ram_size / MIB));
	if (tmpl->disk && !t->disk_read_only)
		return ctl_fail(c, -VIREO_EINVAL,
				"VM %u has a writable disk, which its forks "
				"would share: give a template a read-only disk",
				tmpl->id);
	if (cfg->disk || cfg->testdev || cfg->no_rtc || c->len != CTL_VM_CREATE_SIZE)
		return ctl_fail(c, -VIREO_EINVAL,
				"a fork has its template's devices and "
				"bootargs: none of its own");
	cfg->disk = t->disk;
	cfg->disk_read_only = t->disk_read_only;
	cfg->disk_host = t->disk_host;
	cfg->disk_first_sector = t->disk_first_sector;
	cfg->disk_sectors = t->disk_sectors;
	cfg->testdev = t->testdev;
	cfg->no_rtc = t->no_rtc;
	cfg->irqchip = VM_IRQCHIP_PLIC;
	cfg->rtc_offset_ns = t->rtc_offset_ns;
	cfg->hart_affinity = cfg->hart_affinity ? cfg->hart_affinity : t->hart_affinity;
	memcpy(cfg->bootargs, t->bootargs, sizeof(cfg->bootargs));
	/* A reboot of the fork boots its template's images afresh. */
	cfg->kernel_blob = t->kernel_blob;
	cfg->initrd_blob = t->initrd_blob;
	cfg->kernel = t->kernel;
	cfg->kernel_size = t->kernel_size;
	cfg->initrd = t->initrd;
	cfg->initrd_size = t->initrd_size;
	cfg->origin = VM_ORIGIN_FORK;
	cfg->fork_of = tmpl;
	return 0;
}

static int op_vm_fork(struct ctl_call *c)
{
	struct vm_config cfg;
	struct vm *tmpl, *vm;
	uint32_t flags = 0, from;
	char why[CTL_REASON_MAX];
	int err = ctl_parse_vm_create(c, &cfg, &flags);

	if (err)
		return err;
	if (cfg.mem_limit && cfg.mem_limit < VM_FORK_MIN_LIMIT)
		return ctl_fail(
		    c, -VIREO_EINVAL,
		    "a fork's memory limit of %lu bytes is below the least, %lu MiB (its "
		    "state alone copies pages)",
		    (unsigned long)cfg.mem_limit, (unsigned long)(VM_FORK_MIN_LIMIT / MIB));
	from = ctl_get_u32(c->args + 104);
	tmpl = from ? vm_find(from) : NULL;
	if (!tmpl)
		return ctl_fail(c, -VIREO_ENOENT, "no VM %u to fork", from);
	err = vm_snapshot_check(tmpl, why, sizeof(why));
	if (!err)
		err = vm_cow_can_fork(tmpl);
	if (err) {
		vm_put(tmpl);
		return ctl_fail(c, err, "%s", why[0] ? why : "VM cannot be forked");
	}
	err = fork_config(c, tmpl, &cfg);
	if (err) {
		vm_put(tmpl);
		return err;
	}
	vm = vm_create_why(&cfg, why, sizeof(why));
	if (!vm) {
		vm_put(tmpl);
		return ctl_fail(c, -VIREO_ENOMEM, "%s", why[0] ? why : "not created");
	}
	err = vm_snapshot_copy(vm, tmpl, why, sizeof(why));
	vm_put(tmpl);
	if (err) {
		vm_discard(vm, VM_STATUS_FAULT);
		return ctl_fail(c, err, "%s", why);
	}
	if (flags & CTL_VMC_START) {
		vm_start(vm);
		vm_snapshot_kick(vm);
	}
	return (int)vm->id;
}

const struct ctl_op_entry ctl_snapshot_ops[] = {
    {CTL_OP_VM_SNAPSHOT, "vm-snapshot", op_vm_snapshot},
    {CTL_OP_VM_RESTORE, "vm-restore", op_vm_restore},
    {CTL_OP_VM_FORK, "vm-fork", op_vm_fork},
};
const unsigned ctl_snapshot_op_count = ARRAY_SIZE(ctl_snapshot_ops);
