// SPDX-License-Identifier: BSD-2-Clause
/*
 * A machine's daemon: snapshots to files, restores and forks (docs/machine.md,
 * "Snapshots and forks").
 *
 * Vireo gives a paused VM's state as a blob (VM_SNAPSHOT) and says where its
 * RAM is (VM_RAM); the daemon reads the RAM straight from its own mapping of
 * the machine's memory and writes both into a snapshot file (snapfile.h). A
 * restore checks the whole file first, then asks Vireo for a VM with that
 * state (VM_RESTORE, zeroed RAM), fills its RAM the same way, and starts it.
 * A fork (VM_FORK) is Vireo's alone: the daemon names it and gives it the
 * template's agent hello, which its copy of the agent will not say again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machined_int.h"
#include "snapfile.h"

#define WHY 512

/* ------------------------------------------------------------------ helpers */

/* The VM's RAM runs (VM_RAM), sorted by gpa, each inside our mapping. */
static int vm_ram(struct daemon *d, unsigned id, struct ctl_ram_run **out, size_t *n, char *why,
		  size_t why_size)
{
	uint8_t a[4], *r = NULL;
	size_t rlen = 0, count;
	struct ctl_ram_run *runs;
	int rc;

	vx_put_u32(a, id);
	rc = md_vreq(d, CTL_OP_VM_RAM, a, 4, &r, &rlen, why, why_size);
	if (rc < 0) {
		free(r);
		return rc;
	}
	count = rlen / 24;
	runs = calloc(count ? count : 1, sizeof(*runs));
	if (!runs || !count) {
		free(r);
		free(runs);
		snprintf(why, why_size, "Vireo gave no RAM for the VM");
		return -EPROTO;
	}
	for (size_t i = 0; i < count; i++) {
		runs[i].gpa = vx_get_u64(r + 24 * i);
		runs[i].hpa = vx_get_u64(r + 24 * i + 8);
		runs[i].bytes = vx_get_u64(r + 24 * i + 16);
	}
	free(r);
	/* Insertion sort: a handful of runs. */
	for (size_t i = 1; i < count; i++)
		for (size_t j = i; j > 0 && runs[j].gpa < runs[j - 1].gpa; j--) {
			struct ctl_ram_run t = runs[j];

			runs[j] = runs[j - 1];
			runs[j - 1] = t;
		}
	for (size_t i = 0; i < count; i++) {
		if (!md_ram_at(d, runs[i].hpa, runs[i].bytes) || runs[i].gpa % SNAP_PAGE ||
		    runs[i].bytes % SNAP_PAGE ||
		    (i && runs[i].gpa < runs[i - 1].gpa + runs[i - 1].bytes)) {
			free(runs);
			snprintf(why, why_size,
				 "Vireo gave a RAM run outside the machine's memory");
			return -EPROTO;
		}
	}
	*out = runs;
	*n = count;
	return 0;
}

/* The facts of a VM, for a snapshot's header. */
static void vm_facts(const struct mvm *vm, uint64_t ram_gpa, struct snap_vm *f)
{
	memset(f, 0, sizeof(*f));
	f->vcpus = vm->vcpus;
	f->ram_bytes = vm->memory;
	f->ram_gpa = ram_gpa;
	snprintf(f->name, sizeof(f->name), "%s", vm->name);
	if (!vm->cargs_set)
		return;
	f->vm_flags = vx_get_u32(vm->cargs) & SNAP_VM_FLAGS_MASK;
	f->hart_affinity = vx_get_u64(vm->cargs + 16);
	f->disk_host = vx_get_u32(vm->cargs + 32);
	f->disk_first_sector = vx_get_u64(vm->cargs + 40);
	f->disk_sectors = vx_get_u64(vm->cargs + 48);
	f->rtc_offset = (int64_t)vx_get_u64(vm->cargs + 56);
}

/* struct ctl_vm_create for a snapshot's facts. */
static void facts_args(uint8_t *a, const struct snap_vm *f, const char *name, uint32_t blob)
{
	memset(a, 0, CTL_VM_CREATE_SIZE);
	vx_put_u32(a, f->vm_flags);
	vx_put_u32(a + 4, f->vcpus);
	vx_put_u64(a + 8, f->ram_bytes);
	vx_put_u64(a + 16, f->hart_affinity);
	vx_put_u32(a + 24, blob);
	vx_put_u32(a + 32, f->disk_host);
	vx_put_u64(a + 40, f->disk_first_sector);
	vx_put_u64(a + 48, f->disk_sectors);
	vx_put_u64(a + 56, (uint64_t)f->rtc_offset);
	snprintf((char *)a + 64, 32, "%s", name);
}

/* The daemon is not in the client's directory: paths must say where they are. */
static bool request_path(const char *text, size_t len, char *path, size_t size, struct client *cl)
{
	if (!mp_get(text, len, "file", path, size) && !mp_get(text, len, "path", path, size)) {
		md_reply_error(cl, EINVAL, "which file? (file=PATH)");
		return false;
	}
	if (path[0] != '/') {
		md_reply_error(cl, EINVAL, "%s: a snapshot's path must be absolute", path);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ snapshot */

/* Vireo's state of the paused VM: malloc'ed bytes. */
static int read_state(struct daemon *d, unsigned id, uint8_t **out, uint64_t *len, char *why,
		      size_t why_size)
{
	uint8_t a[16], *r = NULL, *buf;
	size_t rlen = 0;
	uint32_t blob;
	uint64_t bytes, hpa = 0;
	int rc;

	vx_put_u32(a, id);
	rc = md_vreq(d, CTL_OP_VM_SNAPSHOT, a, 4, &r, &rlen, why, why_size);
	if (rc < 0) {
		free(r);
		return rc;
	}
	if (rlen < 16) {
		free(r);
		snprintf(why, why_size, "Vireo's snapshot reply is %zu bytes", rlen);
		return -EPROTO;
	}
	blob = vx_get_u32(r);
	bytes = vx_get_u64(r + 8);
	if (rlen >= 24)
		hpa = vx_get_u64(r + 16); /* where it is, should Vireo say */
	free(r);
	buf = bytes && bytes <= SNAP_STATE_MAX ? malloc(bytes) : NULL;
	if (!buf) {
		md_blob_free(d, blob);
		snprintf(why, why_size, "Vireo's state of %llu bytes: %s",
			 (unsigned long long)bytes,
			 bytes && bytes <= SNAP_STATE_MAX ? "out of memory" : "not a size");
		return -EPROTO;
	}
	if (hpa && md_ram_at(d, hpa, bytes)) {
		memcpy(buf, md_ram_at(d, hpa, bytes), bytes);
	} else {
		for (uint64_t off = 0; off < bytes && rc >= 0;) {
			uint32_t n = bytes - off > 4096 ? 4096 : (uint32_t)(bytes - off);
			size_t got = 0;

			vx_put_u32(a, blob);
			vx_put_u32(a + 4, n);
			vx_put_u64(a + 8, off);
			rc = md_vreq(d, CTL_OP_BLOB_READ, a, 16, &r, &got, why, why_size);
			if (rc >= 0 && got != n) {
				snprintf(why, why_size, "reading Vireo's state: %zu bytes, not %u",
					 got, n);
				rc = -EPROTO;
			}
			if (rc >= 0)
				memcpy(buf + off, r, n);
			free(r);
			off += n;
		}
	}
	md_blob_free(d, blob);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = bytes;
	return 0;
}

/* The paused VM into a file at path. */
static int snapshot_to_file(struct daemon *d, struct mvm *vm, const char *path, char *why,
			    size_t why_size)
{
	char name[MACHINE_NAME_MAX];
	unsigned id = vm->id;
	struct ctl_ram_run *runs = NULL;
	struct snap_writer w;
	struct snap_vm facts;
	uint8_t *state = NULL, *hello = NULL;
	uint64_t state_len = 0, total = 0;
	size_t nruns = 0, hello_len = 0;
	int rc;

	snprintf(name, sizeof(name), "%s", vm->name);
	rc = read_state(d, id, &state, &state_len, why, why_size);
	if (!rc)
		rc = vm_ram(d, id, &runs, &nruns, why, why_size);
	vm = md_vm_by_name(d, name);
	if (!rc && (!vm || vm->id != id)) {
		snprintf(why, why_size, "VM '%s' ended meanwhile", name);
		rc = -ECHILD;
	}
	for (size_t i = 0; !rc && i < nruns; i++)
		total += runs[i].bytes;
	if (!rc && total != vm->memory) {
		snprintf(why, why_size, "Vireo gave %llu bytes of RAM for a VM of %llu",
			 (unsigned long long)total, (unsigned long long)vm->memory);
		rc = -EPROTO;
	}
	if (!rc) {
		vm_facts(vm, runs[0].gpa, &facts);
		/* An agent in the middle of a client's session is no agent a new client can
		 * greet: its hello is kept only while nobody talks to it. */
		if (vm->hello && vm->hello_len <= SNAP_HELLO_MAX && !d->chans[id].client) {
			hello = vm->hello;
			hello_len = vm->hello_len;
		}
		rc = snap_write_begin(&w, path, &facts, why, why_size);
	}
	if (!rc) {
		rc = snap_write_section(&w, SNAP_SEC_STATE, state, state_len, why, why_size);
		if (!rc && hello)
			rc =
			    snap_write_section(&w, SNAP_SEC_HELLO, hello, hello_len, why, why_size);
		if (!rc)
			rc = snap_write_ram_begin(&w, why, why_size);
		for (size_t i = 0; !rc && i < nruns; i++)
			rc = snap_write_ram(&w, runs[i].gpa,
					    md_ram_at(d, runs[i].hpa, runs[i].bytes), runs[i].bytes,
					    why, why_size);
		if (!rc)
			rc = snap_write_ram_end(&w, why, why_size);
		if (!rc)
			rc = snap_write_finish(&w, why, why_size);
		else
			snap_write_abort(&w);
	}
	free(state);
	free(runs);
	return rc;
}

void md_op_vm_snapshot(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	struct mvm *vm = md_request_vm(d, text, len, cl);
	char path[4096], name[MACHINE_NAME_MAX], why[WHY], then[16] = "resume";
	unsigned long long t0 = md_now_ms();
	uint64_t stop = 0;
	bool was_running;
	unsigned id;
	int rc;

	if (!vm || !request_path(text, len, path, sizeof(path), cl))
		return;
	mp_get(text, len, "then", then, sizeof(then));
	if (mp_get_u64(text, len, "stop", &stop) && stop)
		snprintf(then, sizeof(then), "stop");
	if (strcmp(then, "resume") && strcmp(then, "pause") && strcmp(then, "stop")) {
		md_reply_error(cl, EINVAL, "then=resume, pause or stop");
		return;
	}
	if (!vm->id ||
	    (vm->state != MVM_RUNNING && vm->state != MVM_PAUSED && vm->state != MVM_TEMPLATE)) {
		md_reply_error(cl, EBUSY, "VM '%s' is %s: only a running or paused VM has a state",
			       vm->name, state_names[vm->state]);
		return;
	}
	snprintf(name, sizeof(name), "%s", vm->name);
	id = vm->id;
	was_running = vm->state == MVM_RUNNING;
	if (was_running) {
		rc = md_vreq_vm(d, CTL_OP_VM_PAUSE, id, why, sizeof(why));
		if (rc < 0) {
			md_reply_error(cl, -rc, "pausing VM '%s': %s", name, why);
			return;
		}
		vm = md_vm_by_name(d, name);
		if (vm && vm->id == id)
			vm->state = MVM_PAUSED;
	}
	rc = vm && vm->id == id ? snapshot_to_file(d, vm, path, why, sizeof(why)) : -ECHILD;
	if (rc == -ECHILD && !vm)
		snprintf(why, sizeof(why), "VM '%s' ended meanwhile", name);
	vm = md_vm_by_name(d, name);
	if (vm && vm->id == id) {
		if (rc == 0 && !strcmp(then, "stop")) {
			uint8_t a[8];

			vx_put_u32(a, id);
			vx_put_u32(a + 4, STATUS_KILLED);
			if (md_vreq(d, CTL_OP_VM_DESTROY, a, 8, NULL, NULL, NULL, 0) >= 0)
				md_wait_end(d, name, id);
		} else if (was_running && (rc != 0 || !strcmp(then, "resume")) &&
			   md_vreq_vm(d, CTL_OP_VM_RESUME, id, NULL, 0) >= 0) {
			vm->state = MVM_RUNNING;
		}
	}
	if (rc < 0) {
		md_reply_error(cl, -rc, "snapshot of VM '%s': %s", name, why);
		return;
	}
	md_say(d, "VM '%s' saved to %s in %llu ms", name, path, md_now_ms() - t0);
	md_reply_ok(cl);
}

/* ------------------------------------------------------------------ restore */

struct fill {
	struct daemon *d;
	const struct ctl_ram_run *runs;
	size_t n;
};

/* Bytes of the file's RAM into the new VM's, through our mapping. */
static int fill_ram(void *ctx, uint64_t gpa, const uint8_t *data, size_t len)
{
	const struct fill *f = ctx;

	while (len) {
		const struct ctl_ram_run *r = NULL;
		uint64_t off, n;

		for (size_t i = 0; i < f->n && !r; i++)
			if (gpa >= f->runs[i].gpa && gpa - f->runs[i].gpa < f->runs[i].bytes)
				r = &f->runs[i];
		if (!r)
			return -EFAULT;
		off = gpa - r->gpa;
		n = r->bytes - off < len ? r->bytes - off : len;
		memcpy(md_ram_at(f->d, r->hpa + off, n), data, n);
		gpa += n;
		data += n;
		len -= n;
	}
	return 0;
}

/* The state into a new blob. */
static int load_state(struct daemon *d, int fd, const struct snap_info *info, uint32_t *blob,
		      char *why, size_t why_size)
{
	uint8_t *at;
	int rc = md_blob_alloc(d, info->state_len, blob, &at, why, why_size);

	for (uint64_t done = 0; rc == 0 && done < info->state_len;) {
		ssize_t n =
		    pread(fd, at + done, info->state_len - done, (off_t)(info->state_off + done));

		if (n <= 0) {
			snprintf(why, why_size, "reading the state: %s",
				 n ? strerror(errno) : "the file shrank");
			md_blob_free(d, *blob);
			rc = -EIO;
		}
		done += n > 0 ? (uint64_t)n : 0;
	}
	return rc;
}

/* The agent's hello the file keeps, for clients of the restored VM. */
static void load_hello(struct mvm *vm, int fd, const struct snap_info *info)
{
	uint8_t *h;

	if (!info->hello_len || info->hello_len < VX_HDR_SIZE)
		return;
	h = malloc(info->hello_len);
	if (h &&
	    pread(fd, h, info->hello_len, (off_t)info->hello_off) == (ssize_t)info->hello_len &&
	    vx_get_u16(h + 4) == AG_HELLO && vx_get_u32(h) == info->hello_len - VX_HDR_SIZE) {
		vm->hello = h;
		vm->hello_len = info->hello_len;
		return;
	}
	free(h);
}

/* Make the VM of a checked file (not started): its id, or -errno. */
static int restore_vm(struct daemon *d, const char *name, int fd, const struct snap_io *io,
		      const struct snap_info *info, char *why, size_t why_size)
{
	uint8_t args[CTL_VM_CREATE_SIZE];
	struct ctl_ram_run *runs = NULL;
	size_t nruns = 0;
	uint32_t blob;
	struct mvm *vm;
	int rc, id;

	rc = load_state(d, fd, info, &blob, why, why_size);
	if (rc)
		return rc;
	facts_args(args, &info->vm, name, blob);
	for (unsigned ch = 0; ch < CHANNELS; ch++)
		d->chans[ch].early_exit = false;
	id = md_vreq(d, CTL_OP_VM_RESTORE, args, CTL_VM_CREATE_SIZE, NULL, NULL, why, why_size);
	/* The VM holds its state now (a VM keeps the blobs it loaded). */
	md_blob_free(d, blob);
	if (id < 0)
		return id;
	vm = md_vm_new(d, name);
	if (!vm) {
		md_vm_destroy_async(d, (unsigned)id, STATUS_KILLED);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	vm->id = (unsigned)id;
	vm->state = MVM_CREATED;
	vm->origin = ORIGIN_RESTORE;
	vm->keep = true;
	vm->memory = info->vm.ram_bytes;
	vm->vcpus = info->vm.vcpus;
	memcpy(vm->cargs, args, CTL_VM_CREATE_SIZE);
	vx_put_u32(vm->cargs + 24, 0);
	vm->cargs_set = true;
	load_hello(vm, fd, info);
	rc = vm_ram(d, (unsigned)id, &runs, &nruns, why, why_size);
	if (!rc) {
		struct fill f = {d, runs, nruns};

		rc = snap_ram_walk(io, info, fill_ram, &f, why, why_size);
		if (rc == -EFAULT)
			snprintf(why, why_size, "the file's RAM is not where Vireo put the VM's");
	}
	free(runs);
	if (rc) {
		vm = md_vm_by_name(d, name);
		if (vm && vm->id == (unsigned)id) {
			vm->keep = false;
			md_vm_destroy_async(d, (unsigned)id, STATUS_KILLED);
			md_wait_end(d, name, (unsigned)id);
		}
		return rc;
	}
	return id;
}

void md_op_vm_restore(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	char path[4096], name[MACHINE_NAME_MAX], why[WHY];
	unsigned long long t0 = md_now_ms();
	struct snap_info info;
	struct snap_io io;
	struct mp_msg m;
	uint64_t start = 0;
	struct mvm *vm;
	int fd, rc;

	if (!md_request_name(text, len, name, cl) ||
	    !request_path(text, len, path, sizeof(path), cl))
		return;
	mp_get_u64(text, len, "start", &start);
	if (md_vm_by_name(d, name)) {
		md_reply_error(cl, EEXIST, "there is a VM '%s' already", name);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		md_reply_error(cl, errno, "%s: %s", path, strerror(errno));
		return;
	}
	/* All of the file is checked before anything is made of it. */
	rc = snap_io_fd(&io, fd);
	if (!rc)
		rc = snap_check(&io, &info, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(-rc));
	if (!rc && (info.vm.vm_flags & CTL_VMC_DISK) && info.vm.disk_host >= d->o->ndisks) {
		snprintf(why, sizeof(why), "its VM had host disk %u, this machine has %u",
			 info.vm.disk_host, d->o->ndisks);
		rc = -ENODEV;
	}
	if (rc) {
		close(fd);
		md_say(d, "restore of '%s' refused: %s: %s", name, path, why);
		md_reply_error(cl, -rc, "%s: %s", path, why);
		return;
	}
	rc = restore_vm(d, name, fd, &io, &info, why, sizeof(why));
	close(fd);
	if (rc > 0 && start) {
		unsigned id = (unsigned)rc;

		rc = md_vreq_vm(d, CTL_OP_VM_START, id, why, sizeof(why));
		vm = md_vm_by_name(d, name);
		if (rc < 0 && vm && vm->id == id) {
			/* Vireo refused the state: that VM is gone. */
			md_vm_destroy_async(d, id, STATUS_KILLED);
			md_forget_ended(d, name, id, STATUS_KILLED);
		} else if (vm && vm->id == id && vm->state == MVM_CREATED) {
			vm->state = MVM_RUNNING;
		}
		if (rc >= 0)
			rc = (int)id;
	}
	if (rc < 0) {
		vm = md_vm_by_name(d, name);
		if (vm && vm->origin == ORIGIN_RESTORE && !vm->id)
			md_vm_free(d, vm);
		md_reply_error(cl, -rc, "restore of %s: %s", path, why);
		return;
	}
	md_say(d, "VM '%s' restored from %s in %llu ms", name, path, md_now_ms() - t0);
	mp_init(&m);
	mp_add(&m, "ok", "1");
	mp_add(&m, "id", "%d", rc);
	md_send_reply(cl, &m);
}

/* ------------------------------------------------------------------ fork */

bool md_can_fork(struct daemon *d)
{
	return md_vreq(d, CTL_OP_VM_FORK, NULL, 0, NULL, NULL, NULL, 0) != -ENOSYS;
}

int md_fork_vm(struct daemon *d, struct mvm *tmpl, const char *name, bool start, uint64_t mem_limit,
	       char *why, size_t why_size)
{
	char tname[MACHINE_NAME_MAX];
	uint8_t a[CTL_VM_CREATE_SIZE] = {0};
	unsigned tid = tmpl->id;
	struct mvm *vm;
	int id;

	if (!tid || (tmpl->state != MVM_PAUSED && tmpl->state != MVM_TEMPLATE)) {
		snprintf(why, why_size, "VM '%s' is %s: pause it first (a template is a paused VM)",
			 tmpl->name, state_names[tmpl->state]);
		return -EBUSY;
	}
	snprintf(tname, sizeof(tname), "%s", tmpl->name);
	vx_put_u32(a, start ? CTL_VMC_START : 0);
	vx_put_u32(a + 4, tmpl->vcpus);
	vx_put_u64(a + 8, tmpl->memory);
	snprintf((char *)a + 64, 32, "%s", name);
	vx_put_u64(a + 96, mem_limit);
	vx_put_u32(a + 104, tid);
	for (unsigned ch = 0; ch < CHANNELS; ch++)
		d->chans[ch].early_exit = false;
	id = md_vreq(d, CTL_OP_VM_FORK, a, sizeof(a), NULL, NULL, why, why_size);
	if (id < 0)
		return id;
	tmpl = md_vm_by_name(d, tname);
	vm = md_vm_new(d, name);
	if (!vm) {
		md_vm_destroy_async(d, (unsigned)id, STATUS_KILLED);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	vm->id = (unsigned)id;
	vm->state = start ? MVM_RUNNING : MVM_CREATED;
	vm->origin = ORIGIN_FORK;
	if (tmpl && tmpl->id == tid) {
		vm->memory = tmpl->memory;
		vm->vcpus = tmpl->vcpus;
		memcpy(vm->cargs, tmpl->cargs, sizeof(vm->cargs));
		vm->cargs_set = tmpl->cargs_set;
		/* Its agent said hello in the template; the fork's copy will not again. */
		if (tmpl->hello) {
			vm->hello = malloc(tmpl->hello_len);
			if (vm->hello) {
				memcpy(vm->hello, tmpl->hello, tmpl->hello_len);
				vm->hello_len = tmpl->hello_len;
			}
		}
		vm->parent = tmpl;
		tmpl->forks++;
		tmpl->state = MVM_TEMPLATE; /* it never runs again */
	}
	if (id < CHANNELS && d->chans[id].early_exit)
		md_vm_ended(d, vm, d->chans[id].early_status);
	return id;
}

void md_op_vm_fork(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	char from[MACHINE_NAME_MAX], name[MACHINE_NAME_MAX], why[WHY];
	unsigned long long t0 = md_now_ms();
	uint64_t start = 0, limit = 0;
	struct mvm *tmpl, *vm;
	struct mp_msg m;
	int rc;

	if (!md_request_name(text, len, name, cl))
		return;
	if (!mp_get(text, len, "from", from, sizeof(from)) || !(tmpl = md_vm_by_name(d, from))) {
		md_reply_error(cl, ENOENT, "no VM '%s' in this machine to fork", from);
		return;
	}
	if (md_vm_by_name(d, name)) {
		md_reply_error(cl, EEXIST, "there is a VM '%s' already", name);
		return;
	}
	mp_get_u64(text, len, "start", &start);
	mp_get_u64(text, len, "mem_limit", &limit);
	rc = md_fork_vm(d, tmpl, name, start != 0, limit, why, sizeof(why));
	if (rc < 0) {
		md_reply_error(cl, -rc, "fork of VM '%s': %s", from, why);
		return;
	}
	vm = md_vm_by_name(d, name);
	if (vm)
		vm->keep = true;
	md_say(d, "VM '%s' forked from '%s' in %llu ms", name, from, md_now_ms() - t0);
	mp_init(&m);
	mp_add(&m, "ok", "1");
	mp_add(&m, "id", "%d", rc);
	md_send_reply(cl, &m);
}
