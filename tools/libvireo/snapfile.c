// SPDX-License-Identifier: BSD-2-Clause
/* Snapshot files: writing them, and checking one before anything is made of it
 * (see snapfile.h and docs/machine.md, "Snapshot files"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "snapfile.h"

#define CHUNK (1u << 20)

static const char *const sec_names[] = {"?", "state", "RAM", "hello"};

static const char *sec_name(uint32_t type)
{
	return type < sizeof(sec_names) / sizeof(sec_names[0]) ? sec_names[type] : "?";
}

/* ------------------------------------------------------------------ little-endian */

static void put32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int fail(char *why, size_t size, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t size, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && size) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ------------------------------------------------------------------ sources */

static int fd_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	int fd = (int)(intptr_t)ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shrank since its size was taken */
		done += (size_t)n;
	}
	return 0;
}

int snap_io_fd(struct snap_io *io, int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return -errno;
	io->ctx = (void *)(intptr_t)fd;
	io->size = (uint64_t)end;
	io->read = fd_read;
	return 0;
}

static int mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct snap_mem *m = ctx;

	memcpy(buf, m->data + off, len);
	return 0;
}

void snap_io_mem(struct snap_io *io, struct snap_mem *m, const uint8_t *data, size_t size)
{
	m->data = data;
	io->ctx = m;
	io->size = size;
	io->read = mem_read;
}

/* ------------------------------------------------------------------ the header */

void snap_header_encode(uint8_t out[SNAP_HDR_SIZE], const struct snap_vm *vm, uint32_t sections)
{
	memset(out, 0, SNAP_HDR_SIZE);
	memcpy(out, SNAP_MAGIC, 8);
	put32(out + 8, SNAP_VERSION);
	put32(out + 12, SNAP_HDR_SIZE);
	put32(out + 16, 0);
	put32(out + 20, sections);
	put32(out + 24, vm->vcpus);
	put32(out + 28, vm->vm_flags);
	put64(out + 32, vm->ram_gpa);
	put64(out + 40, vm->ram_bytes);
	put64(out + 48, vm->hart_affinity);
	put32(out + 56, vm->disk_host);
	put64(out + 64, vm->disk_first_sector);
	put64(out + 72, vm->disk_sectors);
	put64(out + 80, (uint64_t)vm->rtc_offset);
	put64(out + 88, vm->created);
	memcpy(out + 96, vm->name, strnlen(vm->name, 31));
	hsha(out, SNAP_HDR_SIZE - SHA256_DIGEST_SIZE, out + SNAP_HDR_SIZE - SHA256_DIGEST_SIZE);
}

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, 32);

	if (n == 0 || n > 31 || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    name[i]))
			return false;
	for (size_t i = n; i < 32; i++)
		if (name[i])
			return false;
	return true;
}

static int check_vm(const struct snap_vm *vm, char *why, size_t size)
{
	if (vm->vcpus == 0 || vm->vcpus > SNAP_MAX_VCPUS)
		return fail(why, size, -EINVAL, "the header says %u vCPUs (1..%u)", vm->vcpus,
			    SNAP_MAX_VCPUS);
	if (vm->ram_bytes < (4ULL << 20) || vm->ram_bytes % (2ULL << 20) ||
	    vm->ram_bytes > SNAP_RAM_MAX)
		return fail(why, size, -EINVAL,
			    "the header says %llu bytes of RAM (a multiple of 2 MiB, 4 MiB..1 TiB)",
			    (unsigned long long)vm->ram_bytes);
	if (vm->ram_gpa % SNAP_PAGE || vm->ram_gpa > UINT64_MAX - vm->ram_bytes)
		return fail(why, size, -EINVAL, "the header's RAM address %#llx is no page's",
			    (unsigned long long)vm->ram_gpa);
	if (vm->vm_flags & ~SNAP_VM_FLAGS_MASK)
		return fail(why, size, -EINVAL, "the header's VM flags %#x are unknown",
			    vm->vm_flags);
	if (!name_ok(vm->name))
		return fail(why, size, -EINVAL, "the header's VM name is not a name");
	return 0;
}

static int check_header(const struct snap_io *io, struct snap_vm *vm, uint32_t *sections, char *why,
			size_t size)
{
	uint8_t h[SNAP_HDR_SIZE], sum[SHA256_DIGEST_SIZE];
	int rc;

	if (io->size < SNAP_HDR_SIZE)
		return fail(why, size, -EINVAL,
			    "truncated: the header needs %u bytes, the file has %llu",
			    SNAP_HDR_SIZE, (unsigned long long)io->size);
	rc = io->read(io->ctx, h, SNAP_HDR_SIZE, 0);
	if (rc)
		return fail(why, size, rc, "reading the header: %s", strerror(-rc));
	if (memcmp(h, SNAP_MAGIC, 8) != 0)
		return fail(why, size, -EINVAL, "not a Vireo snapshot (no magic '%s')", SNAP_MAGIC);
	if (get32(h + 8) != SNAP_VERSION)
		return fail(why, size, -EPROTO,
			    "format version %u: this vireo reads version %u only", get32(h + 8),
			    SNAP_VERSION);
	if (get32(h + 12) != SNAP_HDR_SIZE)
		return fail(why, size, -EINVAL, "the header says it has %u bytes, not %u",
			    get32(h + 12), SNAP_HDR_SIZE);
	hsha(h, SNAP_HDR_SIZE - SHA256_DIGEST_SIZE, sum);
	if (memcmp(sum, h + SNAP_HDR_SIZE - SHA256_DIGEST_SIZE, SHA256_DIGEST_SIZE) != 0)
		return fail(why, size, -EBADMSG, "damaged: the header's checksum does not match");
	if (get32(h + 16) != 0)
		return fail(why, size, -EINVAL, "the header's flags %#x are unknown",
			    get32(h + 16));
	*sections = get32(h + 20);
	if (*sections < 2 || *sections > SNAP_MAX_SECTIONS)
		return fail(why, size, -EINVAL, "the header says %u sections (2..%u)", *sections,
			    SNAP_MAX_SECTIONS);
	memset(vm, 0, sizeof(*vm));
	vm->vcpus = get32(h + 24);
	vm->vm_flags = get32(h + 28);
	vm->ram_gpa = get64(h + 32);
	vm->ram_bytes = get64(h + 40);
	vm->hart_affinity = get64(h + 48);
	vm->disk_host = get32(h + 56);
	vm->disk_first_sector = get64(h + 64);
	vm->disk_sectors = get64(h + 72);
	vm->rtc_offset = (int64_t)get64(h + 80);
	vm->created = get64(h + 88);
	memcpy(vm->name, h + 96, 32);
	if (get32(h + 60) != 0)
		return fail(why, size, -EINVAL, "the header's reserved field is not 0");
	rc = check_vm(vm, why, size);
	vm->name[31] = '\0';
	return rc;
}

/* ------------------------------------------------------------------ sections */

/* Hash len bytes at off (no structure). */
static int hash_range(const struct snap_io *io, uint8_t *buf, uint64_t off, uint64_t len,
		      struct hsha *sh)
{
	while (len) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;
		int rc = io->read(io->ctx, buf, n, off);

		if (rc)
			return rc;
		hsha_update(sh, buf, n);
		off += n;
		len -= n;
	}
	return 0;
}

/* The RAM section's runs: their structure, their checksum, and fn for their bytes. */
static int walk_ram(const struct snap_io *io, const struct snap_vm *vm, uint64_t off, uint64_t len,
		    const uint8_t want[SHA256_DIGEST_SIZE], snap_ram_fn fn, void *ctx,
		    uint64_t *data_out, uint64_t *runs_out, char *why, size_t size)
{
	uint8_t *buf = malloc(CHUNK), rh[SNAP_RUN_HDR_SIZE], sum[SHA256_DIGEST_SIZE];
	uint64_t at = 0, next_gpa = vm->ram_gpa, data = 0, runs = 0;
	uint64_t end_gpa = vm->ram_gpa + vm->ram_bytes;
	struct hsha sh;
	int rc = 0;

	if (!buf)
		return fail(why, size, -ENOMEM, "out of memory");
	hsha_init(&sh);
	while (at < len && !rc) {
		uint64_t gpa, bytes;

		if (len - at < SNAP_RUN_HDR_SIZE) {
			rc = fail(why, size, -EINVAL,
				  "RAM section: run %llu's header cut short (%llu bytes left)",
				  (unsigned long long)runs, (unsigned long long)(len - at));
			break;
		}
		rc = io->read(io->ctx, rh, sizeof(rh), off + at);
		if (rc)
			break;
		hsha_update(&sh, rh, sizeof(rh));
		gpa = get64(rh);
		bytes = get64(rh + 8);
		at += SNAP_RUN_HDR_SIZE;
		if (!bytes || gpa % SNAP_PAGE || bytes % SNAP_PAGE)
			rc = fail(why, size, -EINVAL,
				  "RAM section: run %llu (%#llx, %llu bytes) is not of whole pages",
				  (unsigned long long)runs, (unsigned long long)gpa,
				  (unsigned long long)bytes);
		else if (gpa < next_gpa || gpa >= end_gpa || bytes > end_gpa - gpa)
			rc = fail(
			    why, size, -EINVAL,
			    "RAM section: run %llu (%#llx, %llu bytes) is outside the VM's RAM "
			    "or out of order",
			    (unsigned long long)runs, (unsigned long long)gpa,
			    (unsigned long long)bytes);
		else if (bytes > len - at)
			rc = fail(
			    why, size, -EINVAL,
			    "truncated: RAM run %llu says %llu bytes, %llu left in its section",
			    (unsigned long long)runs, (unsigned long long)bytes,
			    (unsigned long long)(len - at));
		for (uint64_t done = 0; !rc && done < bytes;) {
			size_t n = bytes - done < CHUNK ? (size_t)(bytes - done) : CHUNK;

			rc = io->read(io->ctx, buf, n, off + at + done);
			if (!rc) {
				hsha_update(&sh, buf, n);
				rc = fn ? fn(ctx, gpa + done, buf, n) : 0;
			}
			done += n;
		}
		if (rc)
			break;
		at += bytes;
		next_gpa = gpa + bytes;
		data += bytes;
		runs++;
	}
	free(buf);
	if (rc) {
		if (why && size && !why[0])
			snprintf(why, size, "RAM section: %s", strerror(-rc));
		return rc;
	}
	hsha_final(&sh, sum);
	if (memcmp(sum, want, SHA256_DIGEST_SIZE) != 0)
		return fail(why, size, -EBADMSG,
			    "damaged: the RAM section's checksum does not match");
	*data_out = data;
	*runs_out = runs;
	return 0;
}

static uint64_t sec_limit(uint32_t type, const struct snap_vm *vm)
{
	switch (type) {
	case SNAP_SEC_STATE:
		return SNAP_STATE_MAX;
	case SNAP_SEC_HELLO:
		return SNAP_HELLO_MAX;
	default: /* RAM: every page, and a run header per page at worst */
		return vm->ram_bytes / SNAP_PAGE * (SNAP_PAGE + SNAP_RUN_HDR_SIZE);
	}
}

/* One section at *off: its header, its payload's checksum; *off moves past it. */
static int check_section(const struct snap_io *io, unsigned i, uint64_t *off,
			 struct snap_info *info, uint8_t *buf, char *why, size_t size)
{
	uint8_t sh[SNAP_SEC_HDR_SIZE], sum[SHA256_DIGEST_SIZE];
	uint64_t left = io->size - *off, len, pay;
	uint64_t *seen_len;
	uint32_t type;
	struct hsha s;
	int rc;

	if (left < SNAP_SEC_HDR_SIZE)
		return fail(why, size, -EINVAL,
			    "truncated: section %u's header needs %u bytes, %llu left", i,
			    SNAP_SEC_HDR_SIZE, (unsigned long long)left);
	rc = io->read(io->ctx, sh, SNAP_SEC_HDR_SIZE, *off);
	if (rc)
		return fail(why, size, rc, "reading section %u: %s", i, strerror(-rc));
	type = get32(sh);
	len = get64(sh + 8);
	pay = *off + SNAP_SEC_HDR_SIZE;
	left -= SNAP_SEC_HDR_SIZE;
	if (type < SNAP_SEC_STATE || type > SNAP_SEC_HELLO)
		return fail(why, size, -EINVAL, "section %u has an unknown type %u", i, type);
	if (get32(sh + 4) != 0)
		return fail(why, size, -EINVAL, "the %s section's flags %#x are unknown",
			    sec_name(type), get32(sh + 4));
	seen_len = type == SNAP_SEC_STATE ? &info->state_len
		   : type == SNAP_SEC_RAM ? &info->ram_len
					  : &info->hello_len;
	if (*seen_len || (type == SNAP_SEC_RAM && info->ram_off))
		return fail(why, size, -EINVAL, "a second %s section", sec_name(type));
	if (len > sec_limit(type, &info->vm) || (type != SNAP_SEC_RAM && len == 0))
		return fail(why, size, -EINVAL, "the %s section says %llu bytes (at most %llu)",
			    sec_name(type), (unsigned long long)len,
			    (unsigned long long)sec_limit(type, &info->vm));
	if (len > left)
		return fail(why, size, -EINVAL, "truncated: %s section says %llu bytes, %llu left",
			    sec_name(type), (unsigned long long)len, (unsigned long long)left);
	if (type == SNAP_SEC_RAM) {
		rc = walk_ram(io, &info->vm, pay, len, sh + 16, NULL, NULL, &info->ram_data,
			      &info->ram_runs, why, size);
		if (rc)
			return rc;
		info->ram_off = pay;
	} else {
		hsha_init(&s);
		rc = hash_range(io, buf, pay, len, &s);
		if (rc)
			return fail(why, size, rc, "reading the %s section: %s", sec_name(type),
				    strerror(-rc));
		hsha_final(&s, sum);
		if (memcmp(sum, sh + 16, SHA256_DIGEST_SIZE) != 0)
			return fail(why, size, -EBADMSG,
				    "damaged: the %s section's checksum does not match",
				    sec_name(type));
		if (type == SNAP_SEC_STATE)
			info->state_off = pay;
		else
			info->hello_off = pay;
	}
	*seen_len = len;
	*off = pay + len;
	return 0;
}

int snap_check(const struct snap_io *io, struct snap_info *info, char *why, size_t why_size)
{
	uint32_t sections = 0;
	uint64_t off = SNAP_HDR_SIZE;
	uint8_t *buf;
	int rc;

	if (why && why_size)
		why[0] = '\0';
	memset(info, 0, sizeof(*info));
	rc = check_header(io, &info->vm, &sections, why, why_size);
	if (rc)
		return rc;
	buf = malloc(CHUNK);
	if (!buf)
		return fail(why, why_size, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < sections && !rc; i++)
		rc = check_section(io, i, &off, info, buf, why, why_size);
	free(buf);
	if (rc)
		return rc;
	if (off != io->size)
		return fail(why, why_size, -EINVAL, "%llu bytes after the last section",
			    (unsigned long long)(io->size - off));
	if (!info->state_len)
		return fail(why, why_size, -EINVAL, "no state section");
	if (!info->ram_off)
		return fail(why, why_size, -EINVAL, "no RAM section");
	return 0;
}

int snap_ram_walk(const struct snap_io *io, const struct snap_info *info, snap_ram_fn fn, void *ctx,
		  char *why, size_t why_size)
{
	uint8_t sh[SNAP_SEC_HDR_SIZE];
	uint64_t data, runs;
	int rc;

	if (why && why_size)
		why[0] = '\0';
	if (!info->ram_off || info->ram_off < SNAP_SEC_HDR_SIZE)
		return fail(why, why_size, -EINVAL, "no RAM section");
	rc = io->read(io->ctx, sh, SNAP_SEC_HDR_SIZE, info->ram_off - SNAP_SEC_HDR_SIZE);
	if (rc)
		return fail(why, why_size, rc, "reading the RAM section: %s", strerror(-rc));
	if (get32(sh) != SNAP_SEC_RAM || get64(sh + 8) != info->ram_len)
		return fail(why, why_size, -EBADMSG, "the file changed since it was checked");
	return walk_ram(io, &info->vm, info->ram_off, info->ram_len, sh + 16, fn, ctx, &data, &runs,
			why, why_size);
}

/* ------------------------------------------------------------------ writing */

static int wr_at(struct snap_writer *w, const void *p, uint64_t len, uint64_t off)
{
	const uint8_t *b = p;

	while (len) {
		size_t n = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t k = pwrite(w->fd, b, n, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		b += k;
		off += (uint64_t)k;
		len -= (uint64_t)k;
	}
	return 0;
}

static int wr(struct snap_writer *w, const void *p, uint64_t len, char *why, size_t size)
{
	int rc = wr_at(w, p, len, w->off);

	if (rc)
		return fail(why, size, rc, "%s: %s", w->path, strerror(-rc));
	w->off += len;
	return 0;
}

int snap_write_begin(struct snap_writer *w, const char *path, const struct snap_vm *vm, char *why,
		     size_t why_size)
{
	uint8_t zero[SNAP_HDR_SIZE] = {0};

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->vm = *vm;
	if (!w->vm.created)
		w->vm.created = (uint64_t)time(NULL);
	w->path = strdup(path);
	if (!w->path || asprintf(&w->tmp, "%s.tmp-XXXXXX", path) < 0) {
		w->tmp = NULL;
		snap_write_abort(w);
		return fail(why, why_size, -ENOMEM, "out of memory");
	}
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		int err = -errno;

		free(w->tmp);
		w->tmp = NULL;
		snap_write_abort(w);
		return fail(why, why_size, err, "%s: %s", path, strerror(-err));
	}
	return wr(w, zero, sizeof(zero), why, why_size);
}

int snap_write_section(struct snap_writer *w, uint32_t type, const void *data, uint64_t len,
		       char *why, size_t why_size)
{
	uint8_t sh[SNAP_SEC_HDR_SIZE] = {0};
	int rc;

	put32(sh, type);
	put64(sh + 8, len);
	hsha(data, (size_t)len, sh + 16);
	rc = wr(w, sh, sizeof(sh), why, why_size);
	if (!rc)
		rc = wr(w, data, len, why, why_size);
	if (!rc)
		w->sections++;
	return rc;
}

int snap_write_ram_begin(struct snap_writer *w, char *why, size_t why_size)
{
	uint8_t sh[SNAP_SEC_HDR_SIZE] = {0};

	w->ram_hdr_off = w->off;
	w->ram_len = 0;
	w->ram_end_gpa = w->vm.ram_gpa;
	w->in_ram = true;
	hsha_init(&w->ram_sha);
	return wr(w, sh, sizeof(sh), why, why_size); /* filled in by snap_write_ram_end */
}

static bool page_zero(const uint8_t *p)
{
	static const uint8_t zero[SNAP_PAGE];

	return memcmp(p, zero, SNAP_PAGE) == 0;
}

static int ram_span(struct snap_writer *w, uint64_t gpa, const uint8_t *data, uint64_t len,
		    char *why, size_t size)
{
	uint8_t rh[SNAP_RUN_HDR_SIZE];
	int rc;

	put64(rh, gpa);
	put64(rh + 8, len);
	hsha_update(&w->ram_sha, rh, sizeof(rh));
	hsha_update(&w->ram_sha, data, (size_t)len);
	rc = wr(w, rh, sizeof(rh), why, size);
	if (!rc)
		rc = wr(w, data, len, why, size);
	w->ram_len += SNAP_RUN_HDR_SIZE + len;
	w->ram_data += len;
	return rc;
}

int snap_write_ram(struct snap_writer *w, uint64_t gpa, const uint8_t *data, uint64_t len,
		   char *why, size_t why_size)
{
	uint64_t start = 0;
	bool in = false;

	if (!w->in_ram || gpa % SNAP_PAGE || len % SNAP_PAGE || gpa < w->ram_end_gpa ||
	    gpa - w->vm.ram_gpa > w->vm.ram_bytes || len > w->vm.ram_bytes - (gpa - w->vm.ram_gpa))
		return fail(why, why_size, -EINVAL,
			    "RAM run %#llx+%llu is not whole pages of the VM's RAM, in order",
			    (unsigned long long)gpa, (unsigned long long)len);
	/* Spans of pages that are not zero become runs; the zero ones are holes. */
	for (uint64_t at = 0; at <= len; at += SNAP_PAGE) {
		bool zero = at == len || page_zero(data + at);

		if (!zero && !in) {
			start = at;
			in = true;
		} else if (zero && in) {
			int rc = ram_span(w, gpa + start, data + start, at - start, why, why_size);

			if (rc)
				return rc;
			in = false;
		}
	}
	w->ram_end_gpa = gpa + len;
	return 0;
}

int snap_write_ram_end(struct snap_writer *w, char *why, size_t why_size)
{
	uint8_t sh[SNAP_SEC_HDR_SIZE] = {0};
	int rc;

	if (!w->in_ram)
		return fail(why, why_size, -EINVAL, "no RAM section begun");
	put32(sh, SNAP_SEC_RAM);
	put64(sh + 8, w->ram_len);
	hsha_final(&w->ram_sha, sh + 16);
	rc = wr_at(w, sh, sizeof(sh), w->ram_hdr_off);
	if (rc)
		return fail(why, why_size, rc, "%s: %s", w->path, strerror(-rc));
	w->in_ram = false;
	w->sections++;
	return 0;
}

int snap_write_finish(struct snap_writer *w, char *why, size_t why_size)
{
	uint8_t h[SNAP_HDR_SIZE];
	int rc;

	snap_header_encode(h, &w->vm, w->sections);
	rc = wr_at(w, h, sizeof(h), 0);
	if (!rc && fdatasync(w->fd) != 0)
		rc = -errno;
	if (!rc && close(w->fd) != 0)
		rc = -errno;
	else if (rc)
		close(w->fd);
	w->fd = -1;
	if (!rc && rename(w->tmp, w->path) != 0)
		rc = -errno;
	if (rc) {
		fail(why, why_size, rc, "%s: %s", w->path, strerror(-rc));
		snap_write_abort(w);
		return rc;
	}
	free(w->tmp);
	w->tmp = NULL;
	snap_write_abort(w);
	return 0;
}

void snap_write_abort(struct snap_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w->path);
	w->tmp = w->path = NULL;
}
