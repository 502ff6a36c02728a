// SPDX-License-Identifier: BSD-2-Clause
/*
 * The boot bundle writer. Images are opened and sized once, before anything is
 * written, and copied from those same open files: a file that changes size in
 * between is an error rather than a bundle whose table lies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle_write.h"

/* The bundle is little-endian and the structs are written as they are in memory. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bundle_write.c writes struct bundle_vm as-is: a little-endian host is needed"
#endif

#define COPY_CHUNK (64 * 1024)

struct image {
	const char *what; /* "kernel" or "initrd" */
	const char *path;
	const char *vm;
	FILE *fp;
	uint64_t offset, size;
};

struct plan {
	struct bundle_header header;
	struct bundle_vm entries[BUNDLE_MAX_VMS];
	struct image images[2 * BUNDLE_MAX_VMS];
	unsigned nimages;
};

static int fail(char **err, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int fail(char **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0) {
		fputs("vireo: out of memory\n", stderr);
		exit(2);
	}
	va_end(ap);
	return -1;
}

/* Seconds east of UTC of the host's local time now (TZ), like QEMU's -rtc base=localtime. */
static int64_t local_utc_offset(void)
{
	time_t now = time(NULL);
	struct tm tm;

	return localtime_r(&now, &tm) ? (int64_t)tm.tm_gmtoff : 0;
}

void bundle_write_entry(const struct vm_config_vm *vm, struct bundle_vm *e)
{
	memset(e, 0, sizeof(*e));
	/* Zero-padded and terminated: the parser checks both, and the rest must be 0. */
	memcpy(e->name, vm->name, strnlen(vm->name, sizeof(e->name) - 1));
	memcpy(e->bootargs, vm->bootargs, strnlen(vm->bootargs, sizeof(e->bootargs) - 1));
	e->ram_size = vm->memory;
	e->vcpus = vm->vcpus;
	e->hart_affinity = vm->hart_mask;
	if (vm->testdev)
		e->flags |= BUNDLE_VM_TESTDEV;
	if (vm->irqchip == VM_CONFIG_IRQCHIP_PLIC)
		e->flags |= BUNDLE_VM_IRQCHIP_PLIC;
	else if (vm->irqchip == VM_CONFIG_IRQCHIP_AIA)
		e->flags |= BUNDLE_VM_IRQCHIP_AIA;
	if (!vm->console)
		e->flags |= BUNDLE_VM_NO_CONSOLE;
	if (vm->rtc == VM_CONFIG_RTC_OFF)
		e->flags |= BUNDLE_VM_NO_RTC;
	if (vm->wait)
		e->flags |= BUNDLE_VM_DEBUG_WAIT;
	if (vm->sandbox)
		e->flags |= BUNDLE_VM_SANDBOX;
	e->rtc_offset = vm->rtc_offset;
	if (vm->rtc == VM_CONFIG_RTC_LOCALTIME)
		e->rtc_offset += local_utc_offset();
	if (vm->disk.present) {
		e->disk_host = vm->disk.host;
		e->disk_flags = BUNDLE_DISK_PRESENT;
		if (vm->disk.readonly)
			e->disk_flags |= BUNDLE_DISK_READONLY;
		e->disk_first_sector = vm->disk.whole ? 0 : vm->disk.first_sector;
		e->disk_sectors = vm->disk.whole ? 0 : vm->disk.sectors;
	}
	if (vm->net.present) {
		e->flags |= BUNDLE_VM_NET;
		memcpy(e->net_name, vm->net.name, strnlen(vm->net.name, sizeof(e->net_name) - 1));
		memcpy(e->mac, vm->net.mac, sizeof(e->mac));
		for (unsigned i = 0; i < 4; i++)
			e->ipv4[i] = (uint8_t)(vm->net.ipv4 >> (24 - 8 * i));
	}
}

static uint64_t align_up(uint64_t x)
{
	return (x + BUNDLE_WRITE_ALIGN - 1) & ~(uint64_t)(BUNDLE_WRITE_ALIGN - 1);
}

/* Open one image and give it the next aligned offset. */
static int place_image(struct plan *plan, const char *vm, const char *what, const char *path,
		       uint64_t *offset, uint64_t *entry_offset, uint64_t *entry_size, char **err)
{
	struct image *img = &plan->images[plan->nimages];
	struct stat st;

	img->fp = fopen(path, "rbe");
	if (!img->fp)
		return fail(err, "VM '%s': %s '%s': %s", vm, what, path, strerror(errno));
	plan->nimages++;
	if (fstat(fileno(img->fp), &st) != 0)
		return fail(err, "VM '%s': %s '%s': %s", vm, what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, "VM '%s': %s '%s' is not a regular file", vm, what, path);
	if (st.st_size == 0)
		return fail(err, "VM '%s': %s '%s' is empty", vm, what, path);
	img->what = what;
	img->path = path;
	img->vm = vm;
	img->offset = align_up(*offset);
	img->size = (uint64_t)st.st_size;
	*entry_offset = img->offset;
	*entry_size = img->size;
	*offset = img->offset + img->size;
	return 0;
}

static int make_plan(const struct vm_config *cfg, uint32_t flags, struct plan *plan, char **err)
{
	struct bundle_header *h = &plan->header;
	uint64_t offset = sizeof(*h) + (uint64_t)cfg->nvms * sizeof(struct bundle_vm);

	if ((cfg->nvms == 0 && !(flags & BUNDLE_MACHINE)) || cfg->nvms > BUNDLE_MAX_VMS)
		return fail(err, "%u VMs defined; 1..%u allowed", cfg->nvms, BUNDLE_MAX_VMS);
	for (unsigned i = 0; i < cfg->nvms; i++) {
		const struct vm_config_vm *vm = &cfg->vms[i];
		struct bundle_vm *e = &plan->entries[i];

		bundle_write_entry(vm, e);
		if (place_image(plan, vm->name, "kernel", vm->kernel, &offset, &e->kernel_offset,
				&e->kernel_size, err))
			return -1;
		if (vm->initrd && place_image(plan, vm->name, "initrd", vm->initrd, &offset,
					      &e->initrd_offset, &e->initrd_size, err))
			return -1;
	}
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, BUNDLE_MAGIC, sizeof(h->magic));
	h->version = BUNDLE_VERSION;
	h->vm_count = cfg->nvms;
	h->total_size = offset;
	h->vm_entry_size = sizeof(struct bundle_vm);
	h->flags = flags;
	return 0;
}

static void close_plan(struct plan *plan)
{
	for (unsigned i = 0; i < plan->nimages; i++)
		fclose(plan->images[i].fp);
	plan->nimages = 0;
}

static int write_bytes(FILE *out, const char *out_name, const void *data, size_t n, char **err)
{
	if (n && fwrite(data, 1, n, out) != n)
		return fail(err, "%s: write error: %s", out_name, strerror(errno ? errno : EIO));
	return 0;
}

static int write_zeros(FILE *out, const char *out_name, uint64_t n, char **err)
{
	static const char zeros[BUNDLE_WRITE_ALIGN];

	while (n) {
		size_t chunk = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		if (write_bytes(out, out_name, zeros, chunk, err))
			return -1;
		n -= chunk;
	}
	return 0;
}

static int copy_image(const struct image *img, FILE *out, const char *out_name, char **err)
{
	char buf[COPY_CHUNK];
	uint64_t left = img->size;

	while (left) {
		size_t want = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		size_t got = fread(buf, 1, want, img->fp);
		if (got == 0 && ferror(img->fp))
			return fail(err, "VM '%s': %s '%s': read error: %s", img->vm, img->what,
				    img->path, strerror(errno ? errno : EIO));
		if (got == 0)
			return fail(err, "VM '%s': %s '%s' changed size while it was packed",
				    img->vm, img->what, img->path);
		if (write_bytes(out, out_name, buf, got, err))
			return -1;
		left -= got;
	}
	return 0;
}

static int write_plan(const struct plan *plan, unsigned nvms, FILE *out, const char *out_name,
		      char **err)
{
	uint64_t pos = sizeof(plan->header) + (uint64_t)nvms * sizeof(struct bundle_vm);

	errno = 0;
	if (write_bytes(out, out_name, &plan->header, sizeof(plan->header), err) ||
	    write_bytes(out, out_name, plan->entries, nvms * sizeof(struct bundle_vm), err))
		return -1;
	for (unsigned i = 0; i < plan->nimages; i++) {
		const struct image *img = &plan->images[i];
		if (write_zeros(out, out_name, img->offset - pos, err) ||
		    copy_image(img, out, out_name, err))
			return -1;
		pos = img->offset + img->size;
	}
	if (fflush(out) != 0)
		return fail(err, "%s: write error: %s", out_name, strerror(errno));
	return 0;
}

int bundle_write(const struct vm_config *cfg, uint32_t flags, FILE *out, const char *out_name,
		 char **err)
{
	struct plan *plan = calloc(1, sizeof(*plan));
	int ret;

	if (!plan)
		return fail(err, "out of memory");
	ret = make_plan(cfg, flags, plan, err);
	if (ret == 0)
		ret = write_plan(plan, cfg->nvms, out, out_name, err);
	close_plan(plan);
	free(plan);
	return ret;
}

int bundle_write_file(const struct vm_config *cfg, uint32_t flags, const char *path, char **err)
{
	FILE *out = fopen(path, "wbe");
	struct stat st;
	bool regular;
	int ret;

	if (!out)
		return fail(err, "%s: %s", path, strerror(errno));
	/* Remove a partial bundle, but never a device like /dev/stdout. */
	regular = fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode);
	ret = bundle_write(cfg, flags, out, path, err);
	if (fclose(out) != 0 && ret == 0)
		ret = fail(err, "%s: write error: %s", path, strerror(errno));
	if (ret && regular)
		unlink(path);
	return ret;
}
