// SPDX-License-Identifier: BSD-2-Clause
/*
 * The control plane's lifecycle ops (vireo/ctl.h, 0x01xx): a long-lived
 * machine where the host makes VMs at run time from blobs it hands in,
 * starts, ends and lists them (docs/machine.md, docs/channel.md). Every
 * argument is checked before anything is made; a refusal says why.
 */
#include <vireo/blob.h>
#include <vireo/ctl.h>
#include <vireo/mm.h>
#include <vireo/power.h>
#include <vireo/string.h>
#include <vireo/vireo.h>
#include <vireo/vm.h>
#include <vireo/vm_mem.h>
#include <vireo/vm_snapshot.h>

#define RAM_MAX		  (64ULL * GIB)
#define RTC_OFFSET_MAX_S  9000000000LL /* about 285 years, as the boot bundle allows */
#define VM_STATUS_DESTROY 137	       /* 128 + SIGKILL: ended from outside */

static int op_machine_info(struct ctl_call *c)
{
	uint8_t *o = c->out;

	if (c->len != 0)
		return -VIREO_EINVAL;
	memset(o, 0, CTL_MACHINE_INFO_SIZE);
	ctl_put_u32(o, CTL_VERSION);
	ctl_put_u32(o + 4, vm_machine_mode() ? CTL_MACHINE_MODE : 0);
	ctl_put_u64(o + 8, mm_pool_base());
	ctl_put_u64(o + 16, (uint64_t)mm_total_pages() * PAGE_SIZE);
	ctl_put_u64(o + 24, (uint64_t)mm_free_pages() * PAGE_SIZE);
	ctl_put_u64(o + 32, vm_mem_limit());
	ctl_put_u64(o + 40, vm_mem_committed());
	ctl_put_u32(o + 48, vm_alive_count());
	ctl_put_u32(o + 52, VM_ID_MAX);
	ctl_put_u32(o + 56, blob_count());
	ctl_put_u32(o + 60, VM_MAX_VCPUS);
	ctl_put_u64(o + 64, blob_bytes());
	c->out_len = CTL_MACHINE_INFO_SIZE;
	return 0;
}

static int op_blob_alloc(struct ctl_call *c)
{
	struct blob *b;
	int err = 0;

	if (c->len != 8)
		return -VIREO_EINVAL;
	b = blob_alloc(ctl_get_u64(c->args), &err);
	if (!b) {
		if (err == -VIREO_EINVAL)
			return ctl_fail(c, err, "a blob is 1 byte to %lu MiB",
					(unsigned long)(BLOB_SIZE_MAX / MIB));
		if (err == -VIREO_EBUSY)
			return ctl_fail(c, err, "all %u blobs are in use", BLOB_MAX);
		return ctl_fail(c, err, "no room for a blob of %lu bytes",
				(unsigned long)ctl_get_u64(c->args));
	}
	ctl_put_u32(c->out, b->id);
	ctl_put_u32(c->out + 4, 0);
	ctl_put_u64(c->out + 8, (uintptr_t)b->data);
	ctl_put_u64(c->out + 16, b->pages * PAGE_SIZE);
	c->out_len = 24;
	return 0;
}

/* u32 blob, u32 len, u64 offset: the blob, held, with [offset, offset + len) in it. */
static struct blob *blob_range(const struct ctl_call *c, uint32_t max, int *err)
{
	struct blob *b;
	uint32_t len = ctl_get_u32(c->args + 4);
	uint64_t off = ctl_get_u64(c->args + 8);

	*err = -VIREO_EINVAL;
	if (!len || len > max)
		return NULL;
	b = blob_find(ctl_get_u32(c->args));
	if (!b) {
		*err = -VIREO_ENOENT;
		return NULL;
	}
	if (off > b->size || len > b->size - off) {
		*err = -VIREO_EFAULT;
		blob_put(b);
		return NULL;
	}
	return b;
}

static int op_blob_write(struct ctl_call *c)
{
	struct blob *b;
	int err;

	if (c->len < 16 || ctl_get_u32(c->args + 4) != c->len - 16)
		return -VIREO_EINVAL;
	b = blob_range(c, CTL_ARGS_MAX, &err);
	if (!b)
		return err;
	memcpy(b->data + ctl_get_u64(c->args + 8), c->args + 16, c->len - 16);
	blob_put(b);
	return 0;
}

static int op_blob_read(struct ctl_call *c)
{
	struct blob *b;
	int err;

	if (c->len != 16)
		return -VIREO_EINVAL;
	b = blob_range(c, CTL_REPLY_MAX, &err);
	if (!b)
		return err;
	c->out_len = ctl_get_u32(c->args + 4);
	memcpy(c->out, b->data + ctl_get_u64(c->args + 8), c->out_len);
	blob_put(b);
	return 0;
}

static int op_blob_free(struct ctl_call *c)
{
	if (c->len != 4)
		return -VIREO_EINVAL;
	return blob_release(ctl_get_u32(c->args));
}

/* The blob named by id, held, as an image: NULL with the reason given. */
static struct blob *image_blob(struct ctl_call *c, uint32_t id, const char *what, int *err)
{
	struct blob *b = blob_find(id);

	if (!b)
		*err = ctl_fail(c, -VIREO_ENOENT, "no blob %u for the %s", id, what);
	return b;
}

int ctl_parse_vm_create(struct ctl_call *c, struct vm_config *cfg, uint32_t *flags)
{
	const uint8_t *a = c->args;
	uint32_t nbootargs, vcpus,
	    known = CTL_VMC_TESTDEV | CTL_VMC_NO_CONSOLE | CTL_VMC_NO_RTC | CTL_VMC_DISK |
		    CTL_VMC_DISK_RO | CTL_VMC_START;
	uint64_t ram;
	int64_t rtc;

	if (c->len < CTL_VM_CREATE_SIZE)
		return ctl_fail(c, -VIREO_EINVAL, "VM_CREATE takes %u bytes and bootargs",
				CTL_VM_CREATE_SIZE);
	nbootargs = (uint32_t)(a[108] | a[109] << 8);
	if (c->len != CTL_VM_CREATE_SIZE + nbootargs || nbootargs >= VM_BOOTARGS_MAX)
		return ctl_fail(c, -VIREO_EINVAL, "bootargs: %u bytes said, %u given (at most %u)",
				nbootargs, c->len - CTL_VM_CREATE_SIZE, VM_BOOTARGS_MAX - 1);
	if (memchr(a + CTL_VM_CREATE_SIZE, '\0', nbootargs))
		return ctl_fail(c, -VIREO_EINVAL, "bootargs hold a NUL");
	*flags = ctl_get_u32(a);
	if (*flags & ~known)
		return ctl_fail(c, -VIREO_EINVAL, "unknown flags %#x", *flags & ~known);
	if (ctl_get_u32(a + 36) || a[110] || a[111])
		return ctl_fail(c, -VIREO_EINVAL, "reserved fields are not 0");
	vcpus = ctl_get_u32(a + 4);
	if (vcpus == 0 || vcpus > VM_MAX_VCPUS)
		return ctl_fail(c, -VIREO_EINVAL, "%u vCPUs: 1..%u allowed", vcpus, VM_MAX_VCPUS);
	ram = ctl_get_u64(a + 8);
	if (ram < 4 * MIB || ram > RAM_MAX || !IS_ALIGNED(ram, 2 * MIB))
		return ctl_fail(c, -VIREO_EINVAL,
				"RAM of %lu bytes: a multiple of 2 MiB from 4 MiB to %lu GiB",
				(unsigned long)ram, (unsigned long)(RAM_MAX / GIB));
	/* Bounded like RAM: a limit near 2^64 would wrap the machine's accounts. */
	if (ctl_get_u64(a + 96) > RAM_MAX)
		return ctl_fail(c, -VIREO_EINVAL, "a memory limit of %lu bytes: at most %lu GiB",
				(unsigned long)ctl_get_u64(a + 96), (unsigned long)(RAM_MAX / GIB));
	rtc = (int64_t)ctl_get_u64(a + 56);
	if (rtc > RTC_OFFSET_MAX_S || rtc < -RTC_OFFSET_MAX_S)
		return ctl_fail(c, -VIREO_EINVAL, "RTC offset beyond +-%lld s", RTC_OFFSET_MAX_S);
	if (!memchr(a + 64, '\0', 32) || a[64] == '\0')
		return ctl_fail(c, -VIREO_EINVAL, "the name is empty or longer than 31 bytes");
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->name, a + 64, VM_NAME_MAX);
	memcpy(cfg->bootargs, a + CTL_VM_CREATE_SIZE, nbootargs);
	cfg->vcpus = vcpus;
	cfg->ram_size = ram;
	cfg->hart_affinity = (unsigned long)ctl_get_u64(a + 16);
	cfg->testdev = *flags & CTL_VMC_TESTDEV;
	cfg->console_muted = *flags & CTL_VMC_NO_CONSOLE;
	cfg->no_rtc = *flags & CTL_VMC_NO_RTC;
	cfg->disk = *flags & CTL_VMC_DISK;
	cfg->disk_read_only = *flags & CTL_VMC_DISK_RO;
	cfg->disk_host = ctl_get_u32(a + 32);
	cfg->disk_first_sector = ctl_get_u64(a + 40);
	cfg->disk_sectors = ctl_get_u64(a + 48);
	cfg->rtc_offset_ns = rtc * 1000000000LL;
	cfg->mem_limit = ctl_get_u64(a + 96);
	return 0;
}

static int op_vm_create(struct ctl_call *c)
{
	struct vm_config cfg;
	struct vm *vm;
	uint32_t flags = 0;
	char why[CTL_REASON_MAX];
	int err = ctl_parse_vm_create(c, &cfg, &flags);

	if (err)
		return err;
	if (ctl_get_u32(c->args + 104))
		return ctl_fail(c, -VIREO_EINVAL, "from_vm is for VM_FORK");
	cfg.kernel_blob = image_blob(c, ctl_get_u32(c->args + 24), "kernel", &err);
	if (!cfg.kernel_blob)
		return err;
	if (ctl_get_u32(c->args + 28)) {
		cfg.initrd_blob = image_blob(c, ctl_get_u32(c->args + 28), "initrd", &err);
		if (!cfg.initrd_blob) {
			blob_put(cfg.kernel_blob);
			return err;
		}
	}
	cfg.kernel = cfg.kernel_blob->data;
	cfg.kernel_size = cfg.kernel_blob->size;
	if (cfg.initrd_blob) {
		cfg.initrd = cfg.initrd_blob->data;
		cfg.initrd_size = cfg.initrd_blob->size;
	}
	vm = vm_create_why(&cfg, why, sizeof(why));
	/* The VM took its own references. */
	blob_put(cfg.kernel_blob);
	blob_put(cfg.initrd_blob);
	if (!vm)
		return ctl_fail(c, -VIREO_ENOMEM, "%s", why[0] ? why : "not created");
	if (flags & CTL_VMC_START)
		vm_start(vm);
	return (int)vm->id;
}

static struct vm *arg_vm(struct ctl_call *c, uint32_t need, int *err)
{
	struct vm *vm = ctl_arg_vm(c, need, false, err);

	if (!vm && *err == -VIREO_ENOENT)
		*err = ctl_fail(c, -VIREO_ENOENT, "no VM %u", ctl_get_u32(c->args));
	return vm;
}

static int op_vm_start(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 4, &err);

	if (!vm)
		return err;
	err = 0;
	if (vm->state != VM_CREATED) {
		err = ctl_fail(c, -VIREO_EBUSY, "VM %u has started already", vm->id);
	} else if (vm->restore) {
		char why[CTL_REASON_MAX];

		why[0] = '\0';
		err = vm_snapshot_apply(vm, why, sizeof(why));
		/* A snapshot that does not hold up: the VM it was to become goes. */
		if (err) {
			vm_discard(vm, VM_STATUS_FAULT);
			err = ctl_fail(c, err, "%s", why);
		}
	}
	if (!err) {
		vm_start(vm);
		/* A restored VM's devices move what its state left waiting. */
		vm_snapshot_kick(vm);
	}
	vm_put(vm);
	return err;
}

static int op_vm_destroy(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 8, &err);
	int status;

	if (!vm)
		return err;
	status = (int)ctl_get_u32(c->args + 4);
	if (vm->state == VM_CREATED) {
		vm_discard(vm, status);
	} else if (vm->state == VM_RUNNING) {
		vm_stop(vm, status, "ended by the host");
		/* A paused VM's vCPUs must run their harts' loops to leave. */
		vm_resume(vm);
	}
	vm_put(vm);
	return 0;
}

static int op_vm_ram(struct ctl_call *c)
{
	int err;
	struct vm *vm = arg_vm(c, 4, &err);

	if (!vm)
		return err;
	err = 0;
	if (vm->cow) {
		err =
		    ctl_fail(c, -VIREO_EINVAL, "a fork's RAM is in pieces: snapshot its template");
	} else {
		for (unsigned i = 0; i < vm->mem.nruns; i++) {
			uint8_t *o = c->out + 24 * i;

			ctl_put_u64(o, vm->mem.runs[i].gpa);
			ctl_put_u64(o + 8, (uintptr_t)vm->mem.runs[i].host);
			ctl_put_u64(o + 16, vm->mem.runs[i].size);
		}
		c->out_len = 24 * vm->mem.nruns;
		err = (int)vm->mem.nruns;
	}
	vm_put(vm);
	return err;
}

static void stop_one(struct vm *vm, void *ctx)
{
	const int *status = ctx;

	if (vm->state == VM_CREATED) {
		vm_discard(vm, *status);
	} else {
		vm_stop(vm, *status, "the machine powers off");
		vm_resume(vm);
	}
}

static int op_power_off(struct ctl_call *c)
{
	int status;

	if (c->len != 4)
		return -VIREO_EINVAL;
	status = (int)ctl_get_u32(c->args);
	/* The last VM to end powers the machine off; with none, it goes now (the host sees
	 * the link end rather than a reply). */
	vm_set_machine_mode(false);
	if (vm_alive_count() == 0)
		power_off(status);
	vm_for_each(stop_one, &status);
	return 0;
}

const struct ctl_op_entry ctl_lifecycle_ops[] = {
    {CTL_OP_MACHINE_INFO, "machine-info", op_machine_info},
    {CTL_OP_BLOB_ALLOC, "blob-alloc", op_blob_alloc},
    {CTL_OP_BLOB_WRITE, "blob-write", op_blob_write},
    {CTL_OP_BLOB_READ, "blob-read", op_blob_read},
    {CTL_OP_BLOB_FREE, "blob-free", op_blob_free},
    {CTL_OP_VM_CREATE, "vm-create", op_vm_create},
    {CTL_OP_VM_START, "vm-start", op_vm_start},
    {CTL_OP_VM_DESTROY, "vm-destroy", op_vm_destroy},
    {CTL_OP_VM_RAM, "vm-ram", op_vm_ram},
    {CTL_OP_POWER_OFF, "power-off", op_power_off},
};
const unsigned ctl_lifecycle_op_count = ARRAY_SIZE(ctl_lifecycle_ops);
