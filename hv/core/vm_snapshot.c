// SPDX-License-Identifier: BSD-2-Clause
/*
 * Snapshots of VMs; see vireo/vm_snapshot.h. The state is a header, then
 * sections in a fixed order, each `u32 tag, u32 length, payload`: the VM's
 * own (SBI, typed input), one per vCPU, the PLIC, the UART, then each device
 * the VM has. Loading reads each section through a reader bounded by its
 * length and insists that it is used up exactly, so a field added without a
 * version bump, a short section or trailing bytes are all refused.
 */
#include <vireo/blob.h>
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/host_irq.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/printf.h>
#include <vireo/sbi.h>
#include <vireo/snap_io.h>
#include <vireo/string.h>
#include <vireo/time.h>
#include <vireo/vblk.h>
#include <vireo/vcon.h>
#include <vireo/vm.h>
#include <vireo/vm_rtc.h>
#include <vireo/vm_snapshot.h>

enum state_tag {
	TAG_VM = 1,
	TAG_VCPU = 2,
	TAG_PLIC = 3,
	TAG_UART = 4,
	TAG_CONSOLE = 5,
	TAG_DISK = 6,
	TAG_RTC = 7,
	TAG_TESTDEV = 8,
	TAG_END = 0xffff,
};

/* Which devices the VM has: a state applies only to a VM with the same ones. */
enum state_devices {
	DEV_CONSOLE = 1,
	DEV_DISK = 2,
	DEV_RTC = 4,
	DEV_TESTDEV = 8,
};

#define DISK_WAIT_US	 1000000
#define DISK_POLL_US	 1000
#define VCPU_REQ_SAVED	 (VCPU_REQ_IPI | VCPU_REQ_SSE)
#define STATE_BASE_BYTES (160 * KIB) /* the console's rings and everything else but vCPUs */
#define STATE_VCPU_BYTES (4 * KIB)

static const char *const tag_names[] = {
    [TAG_VM] = "vm",	       [TAG_VCPU] = "vcpu", [TAG_PLIC] = "plic", [TAG_UART] = "uart",
    [TAG_CONSOLE] = "console", [TAG_DISK] = "disk", [TAG_RTC] = "rtc",	 [TAG_TESTDEV] = "testdev",
};

static const char *tag_name(unsigned tag)
{
	return tag < ARRAY_SIZE(tag_names) && tag_names[tag] ? tag_names[tag] : "end";
}

static uint32_t devices_of(const struct vm *vm)
{
	return (vm->console_dev ? DEV_CONSOLE : 0u) | (vm->disk ? DEV_DISK : 0u) |
	       (vm->rtc ? DEV_RTC : 0u) | (vm->config.testdev ? DEV_TESTDEV : 0u);
}

int vm_snapshot_check(struct vm *vm, char *why, size_t size)
{
	const char *no = NULL;

	if (vm->cow) {
		vireo_snprintf(why, size, "VM '%s' is itself a fork: snapshot or fork its template",
			       vm->name);
		return -VIREO_EINVAL;
	}
	if (!vm_is_parked(vm)) {
		vireo_snprintf(why, size, "VM '%s' is not paused (pause it first)", vm->name);
		return -VIREO_EBUSY;
	}
	if (vm->aia)
		no = "guest AIA (its IMSIC files live in the hart)";
	else if (vm->net_dev)
		no = "a network card";
	else if (vm->sandbox)
		no = "a sandbox";
	else if (vm->debug.attached)
		no = "a debugger attached";
	if (no) {
		vireo_snprintf(why, size, "VM '%s' has %s: a snapshot or fork cannot carry it",
			       vm->name, no);
		return -VIREO_EINVAL;
	}
	return 0;
}

static size_t state_bound(const struct vm *vm)
{
	size_t vector = 32 * (size_t)cpu_features.vlenb;

	return STATE_BASE_BYTES + vm->nvcpus * (STATE_VCPU_BYTES + vector);
}

/* ---------------------------------------------------------------- saving */

/* A section: its tag and a length patched in once the payload is written. */
static size_t section_begin(struct snap_writer *w, unsigned tag)
{
	snap_put_u32(w, tag);
	snap_put_u32(w, 0);
	return w->len;
}

static void section_end(struct snap_writer *w, size_t start)
{
	uint32_t len = (uint32_t)(w->len - start);

	if (w->failed)
		return;
	for (unsigned i = 0; i < 4; i++)
		w->buf[start - 4 + i] = (uint8_t)(len >> (8 * i));
}

static void ring_save(struct snap_writer *w, const uint8_t *buf, size_t size, unsigned head,
		      unsigned tail)
{
	snap_put_u32(w, head);
	snap_put_u32(w, tail);
	snap_put_bytes(w, buf, size);
}

static void vm_part_save(struct vm *vm, struct snap_writer *w)
{
	sbi_vm_save(vm, w);
	ring_save(w, vm->input, sizeof(vm->input), vm->input_head, vm->input_tail);
	ring_save(w, vm->uart_backlog, sizeof(vm->uart_backlog), vm->backlog_head,
		  vm->backlog_tail);
}

static void vcpu_save(struct vcpu *v, struct snap_writer *w)
{
	spin_lock(&v->lock);
	snap_put_u32(w, v->id);
	snap_put_u32(w, v->hsm);
	snap_put_u64(w, v->start_addr);
	snap_put_u64(w, v->start_opaque);
	snap_put_u8(w, v->waiting);
	snap_put_u8(w, v->resume_nonretentive);
	spin_unlock(&v->lock);
	snap_put_u8(w, v->timer.hw);
	snap_put_u64(w, v->timer.deadline);
	snap_put_u8(w, v->timer.pending);
	snap_put_u64(w, vcpu_pending_requests(v) & VCPU_REQ_SAVED);
	vcpu_arch_state_save(&v->arch, w);
	sbi_vcpu_save(v, w);
}

/* A disk request still at the host disk writes RAM after the snapshot: wait it out. */
static bool disk_quiet(struct vm *vm)
{
	uint64_t deadline = hart_time() + time_us_to_ticks(DISK_WAIT_US);

	while (vm->disk && vblk_inflight(vm->disk)) {
		if (host_irq_polled() || (hart_pending_irqs() & HART_IRQ_EXT))
			host_irq_handle();
		if (hart_time() >= deadline)
			return false;
		hart_pause(time_us_to_ticks(DISK_POLL_US));
	}
	return true;
}

static void disk_save(struct vm *vm, struct snap_writer *w)
{
	virtio_dev_save(&vm->disk->vdev, w);
	snap_put_u64(w, vm->disk->nsectors);
	snap_put_u8(w, vm->disk->read_only);
}

static void devices_save(struct vm *vm, struct snap_writer *w)
{
	size_t s;

	s = section_begin(w, TAG_PLIC);
	vplic_save(&vm->plic, w);
	section_end(w, s);
	s = section_begin(w, TAG_UART);
	vuart_save(&vm->uart, w);
	section_end(w, s);
	if (vm->console_dev) {
		s = section_begin(w, TAG_CONSOLE);
		vcon_save(vm->console_dev, w);
		section_end(w, s);
	}
	if (vm->disk) {
		s = section_begin(w, TAG_DISK);
		disk_save(vm, w);
		section_end(w, s);
	}
	if (vm->rtc) {
		s = section_begin(w, TAG_RTC);
		vm_rtc_save(vm, w);
		section_end(w, s);
	}
	if (vm->config.testdev) {
		s = section_begin(w, TAG_TESTDEV);
		spin_lock(&vm->testdev.lock);
		snap_put_bytes(w, vm->testdev.data, sizeof(vm->testdev.data));
		spin_unlock(&vm->testdev.lock);
		section_end(w, s);
	}
}

static long save(struct vm *vm, uint8_t *buf, size_t size, char *why, size_t why_size)
{
	struct snap_writer w = {buf, size, 0, false};
	size_t s;

	/* A template's devices were reset at its first fork: what it was is kept. */
	if (vm->frozen_state) {
		snap_put_bytes(&w, vm->frozen_state, vm->frozen_len);
		if (w.failed)
			goto too_small;
		return (long)w.len;
	}

	if (!disk_quiet(vm)) {
		vireo_snprintf(why, why_size, "VM %u: its disk requests did not finish", vm->id);
		return -VIREO_EBUSY;
	}
	snap_put_u64(&w, VM_STATE_MAGIC);
	snap_put_u32(&w, VM_STATE_VERSION);
	snap_put_u32(&w, vm->nvcpus);
	snap_put_u64(&w, vm->ram_size);
	snap_put_u32(&w, devices_of(vm));
	snap_put_u32(&w, 0);
	snap_put_u64(&w, vcpu_arch_guest_time(&vm->vcpus[0]->arch));
	snap_put_u64(&w, time_timebase_hz());
	s = section_begin(&w, TAG_VM);
	vm_part_save(vm, &w);
	section_end(&w, s);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		s = section_begin(&w, TAG_VCPU);
		vcpu_save(vm->vcpus[i], &w);
		section_end(&w, s);
	}
	devices_save(vm, &w);
	section_end(&w, section_begin(&w, TAG_END));
	if (!w.failed)
		return (long)w.len;
too_small:
	vireo_snprintf(why, why_size, "VM %u: its state takes more than %lu bytes", vm->id,
		       (unsigned long)size);
	return -VIREO_ENOMEM;
}

long vm_snapshot_take(struct vm *vm, uint8_t **out, char *why, size_t size)
{
	size_t bytes = state_bound(vm);
	uint8_t *buf = kmalloc(bytes);
	long len;

	*out = NULL;
	if (!buf) {
		vireo_snprintf(why, size, "VM '%s': no memory for its state (%lu bytes)", vm->name,
			       (unsigned long)bytes);
		return -VIREO_ENOMEM;
	}
	len = save(vm, buf, bytes, why, size);
	if (len < 0)
		kfree(buf);
	else
		*out = buf;
	return len;
}

/* ---------------------------------------------------------------- loading */

struct loader {
	struct vm *vm;
	struct snap_reader all;
	char *why;
	size_t size;
};

/* The next section, which must be `tag`: a reader over its payload. */
static bool section_next(struct loader *l, unsigned tag, struct snap_reader *sec)
{
	unsigned got = snap_get_u32(&l->all);
	uint32_t len = snap_get_u32(&l->all);

	if (l->all.failed) {
		vireo_snprintf(l->why, l->size, "the state ends before its %s section",
			       tag_name(tag));
		return false;
	}
	if (got != tag) {
		vireo_snprintf(l->why, l->size, "a %s section where the %s section belongs",
			       tag_name(got), tag_name(tag));
		return false;
	}
	if (len > snap_left(&l->all)) {
		vireo_snprintf(l->why, l->size, "the %s section says %u bytes, %lu are left",
			       tag_name(tag), len, (unsigned long)snap_left(&l->all));
		return false;
	}
	*sec = (struct snap_reader){l->all.buf + l->all.pos, len, 0, false};
	l->all.pos += len;
	return true;
}

/* A section read by its loader: it must have held up and been used exactly. */
static bool section_done(struct loader *l, unsigned tag, struct snap_reader *sec, int err)
{
	if (err || sec->failed) {
		vireo_snprintf(l->why, l->size,
			       "the %s section does not hold up (a value out of "
			       "range, or not this VM's)",
			       tag_name(tag));
		return false;
	}
	if (sec->pos != sec->len) {
		vireo_snprintf(l->why, l->size, "the %s section has %lu bytes too many",
			       tag_name(tag), (unsigned long)(sec->len - sec->pos));
		return false;
	}
	return true;
}

static bool ring_load(struct snap_reader *r, uint8_t *buf, size_t size, unsigned *head,
		      unsigned *tail)
{
	*head = snap_get_u32(r);
	*tail = snap_get_u32(r);
	snap_get_bytes(r, buf, size);
	if (*head - *tail > size)
		r->failed = true;
	if (r->failed)
		*head = *tail = 0;
	return !r->failed;
}

static int vm_part_load(struct vm *vm, struct snap_reader *r)
{
	int err = sbi_vm_load(vm, r);

	ring_load(r, vm->input, sizeof(vm->input), &vm->input_head, &vm->input_tail);
	ring_load(r, vm->uart_backlog, sizeof(vm->uart_backlog), &vm->backlog_head,
		  &vm->backlog_tail);
	return err;
}

static int vcpu_load(struct vcpu *v, struct snap_reader *r, int64_t delta)
{
	uint32_t id = snap_get_u32(r), hsm = snap_get_u32(r);
	uint64_t requests;
	int err;

	v->start_addr = snap_get_u64(r);
	v->start_opaque = snap_get_u64(r);
	v->waiting = snap_get_bool(r);
	v->resume_nonretentive = snap_get_bool(r);
	if (snap_get_bool(r) != v->timer.hw)
		r->failed = true; /* the Sstc timer on one host, software on the other */
	v->timer.deadline = snap_get_u64(r);
	v->timer.pending = snap_get_bool(r);
	v->timer.applied = false;
	requests = snap_get_u64(r);
	if (id != v->id || hsm > VCPU_RESUME_PENDING || (requests & ~VCPU_REQ_SAVED))
		r->failed = true;
	if (r->failed)
		return -VIREO_EINVAL;
	v->hsm = hsm;
	vcpu_arch_reset(&v->arch, 0, 0, 0, v->vm->hgatp, v->timer.hw);
	vcpu_arch_set_time_delta(&v->arch, delta);
	err = vcpu_arch_state_load(&v->arch, r);
	if (!err)
		err = sbi_vcpu_load(v, r);
	if (!err && requests)
		__atomic_or_fetch(&v->requests, requests, __ATOMIC_SEQ_CST);
	return err;
}

static int disk_load(struct vm *vm, struct snap_reader *r)
{
	int err = virtio_dev_load(&vm->disk->vdev, r);

	if (snap_get_u64(r) != vm->disk->nsectors || snap_get_bool(r) != vm->disk->read_only)
		r->failed = true; /* another disk than the one the guest knew */
	return err;
}

static int testdev_load(struct vm *vm, struct snap_reader *r)
{
	spin_lock(&vm->testdev.lock);
	snap_get_bytes(r, vm->testdev.data, sizeof(vm->testdev.data));
	spin_unlock(&vm->testdev.lock);
	return 0;
}

static bool devices_load(struct loader *l)
{
	struct vm *vm = l->vm;
	struct snap_reader s;

	if (!section_next(l, TAG_PLIC, &s) ||
	    !section_done(l, TAG_PLIC, &s, vplic_load(&vm->plic, &s)))
		return false;
	if (!section_next(l, TAG_UART, &s) ||
	    !section_done(l, TAG_UART, &s, vuart_load(&vm->uart, &s)))
		return false;
	if (vm->console_dev && (!section_next(l, TAG_CONSOLE, &s) ||
				!section_done(l, TAG_CONSOLE, &s, vcon_load(vm->console_dev, &s))))
		return false;
	if (vm->disk &&
	    (!section_next(l, TAG_DISK, &s) || !section_done(l, TAG_DISK, &s, disk_load(vm, &s))))
		return false;
	if (vm->rtc &&
	    (!section_next(l, TAG_RTC, &s) || !section_done(l, TAG_RTC, &s, vm_rtc_load(vm, &s))))
		return false;
	if (vm->config.testdev && (!section_next(l, TAG_TESTDEV, &s) ||
				   !section_done(l, TAG_TESTDEV, &s, testdev_load(vm, &s))))
		return false;
	return section_next(l, TAG_END, &s) && section_done(l, TAG_END, &s, 0);
}

/* The header: this version, this VM's shape. The clock delta the vCPUs get. */
static bool header_load(struct loader *l, bool same_clock, int64_t *delta)
{
	struct vm *vm = l->vm;
	struct snap_reader *r = &l->all;
	uint64_t magic = snap_get_u64(r);
	uint32_t version = snap_get_u32(r), nvcpus = snap_get_u32(r);
	uint64_t ram = snap_get_u64(r);
	uint32_t devices = snap_get_u32(r), reserved = snap_get_u32(r);
	uint64_t guest_time = snap_get_u64(r), hz = snap_get_u64(r);

	if (r->failed || magic != VM_STATE_MAGIC) {
		vireo_snprintf(l->why, l->size, "not a Vireo VM state (%lu bytes)",
			       (unsigned long)r->len);
		return false;
	}
	if (version != VM_STATE_VERSION) {
		vireo_snprintf(l->why, l->size, "state version %u; this Vireo reads version %u",
			       version, VM_STATE_VERSION);
		return false;
	}
	if (nvcpus != vm->nvcpus || ram != vm->ram_size || devices != devices_of(vm) || reserved) {
		vireo_snprintf(l->why, l->size,
			       "the state is of a VM with %u vCPUs, %lu MiB and devices %#x; this "
			       "one has %u, %lu MiB and %#x",
			       nvcpus, (unsigned long)(ram / MIB), devices, vm->nvcpus,
			       (unsigned long)(vm->ram_size / MIB), devices_of(vm));
		return false;
	}
	if (hz != time_timebase_hz()) {
		vireo_snprintf(l->why, l->size,
			       "the state's clock ran at %lu Hz, this host's at %lu",
			       (unsigned long)hz, (unsigned long)time_timebase_hz());
		return false;
	}
	*delta = same_clock ? 0 : (int64_t)(guest_time - vcpu_arch_host_time());
	return true;
}

int vm_snapshot_load(struct vm *vm, const uint8_t *buf, size_t len, bool same_clock, char *why,
		     size_t size)
{
	struct loader l = {vm, {buf, len, 0, false}, why, size};
	struct snap_reader s;
	int64_t delta;

	if (vm->state != VM_CREATED || vm->aia || vm->net_dev || vm->sandbox) {
		vireo_snprintf(why, size, "VM %u cannot take a state", vm->id);
		return -VIREO_EINVAL;
	}
	if (!header_load(&l, same_clock, &delta))
		return -VIREO_EINVAL;
	if (!section_next(&l, TAG_VM, &s) || !section_done(&l, TAG_VM, &s, vm_part_load(vm, &s)))
		return -VIREO_EINVAL;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (!section_next(&l, TAG_VCPU, &s) ||
		    !section_done(&l, TAG_VCPU, &s, vcpu_load(vm->vcpus[i], &s, delta)))
			return -VIREO_EINVAL;
	if (!devices_load(&l))
		return -VIREO_EINVAL;
	if (snap_left(&l.all)) {
		vireo_snprintf(why, size, "%lu bytes after the state's end",
			       (unsigned long)snap_left(&l.all));
		return -VIREO_EINVAL;
	}
	vm->state_loaded = true;
	return 0;
}

int vm_snapshot_apply(struct vm *vm, char *why, size_t size)
{
	int err = vm_snapshot_load(vm, vm->restore->data, vm->restore->size, false, why, size);

	if (!err)
		log_info("VM '%s': restored from a snapshot", vm->name);
	return err;
}

/* A template's first fork: its state is kept as it is now, and its devices stop for good.
 * Their rings point into RAM that is the forks' now: a host writing to the template's
 * console would otherwise land in it. (The reset closes its agent port: the channel
 * ends that session.) */
static int freeze(struct vm *tmpl, char *why, size_t size)
{
	uint8_t *buf;
	long len = vm_snapshot_take(tmpl, &buf, why, size);

	if (len < 0)
		return (int)len;
	tmpl->frozen_state = buf;
	tmpl->frozen_len = (size_t)len;
	if (tmpl->console_dev)
		vcon_reset(tmpl->console_dev);
	if (tmpl->disk)
		vblk_reset(tmpl->disk);
	return 0;
}

int vm_snapshot_copy(struct vm *fork, struct vm *tmpl, char *why, size_t size)
{
	int err = tmpl->frozen_state ? 0 : freeze(tmpl, why, size);

	if (err)
		return err;
	/* The fork's clock goes on from its template's at the freeze, as a restore's does: a
	 * Linux that sees hours pass in an instant reports RCU stalls and soft lockups. */
	return vm_snapshot_load(fork, tmpl->frozen_state, tmpl->frozen_len, false, why, size);
}

void vm_snapshot_kick(struct vm *vm)
{
	if (!vm->state_loaded)
		return;
	/* A copy of a running guest: its generation is new (its random state is not). */
	vgenid_notify(&vm->genid);
	if (vm->console_dev)
		vcon_kick(vm->console_dev);
	if (vm->disk)
		vblk_kick(vm->disk);
}
