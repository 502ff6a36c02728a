// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the host tool's bundle writer (tools/bundle_write.c): bundles
 * are written from parsed configs, into memory and into files, and read back
 * with the hypervisor's own parser (hv/core/bundle.c), field by field.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bundle_write.h"

#define ENTRY_SIZE 664
#define KERNEL_A   5000 /* odd sizes: every image needs padding to 4 KiB */
#define INITRD_A   3333
#define KERNEL_B   8193

struct fixture {
	struct vm_config cfg;
	char *data; /* the bundle written into memory */
	size_t size;
};

static char test_dir[PATH_MAX];
static char old_cwd[PATH_MAX];

static void write_pattern(const char *path, size_t size, unsigned seed)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	for (size_t i = 0; i < size; i++)
		fputc((int)((i * 31 + seed) % 251 + 1), fp);
	assert_int_equal(fclose(fp), 0);
}

static uint8_t *read_all(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "r");
	uint8_t *data;
	long len;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	rewind(fp);
	data = malloc(len ? (size_t)len : 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*size = (size_t)len;
	return data;
}

static int setup(void **state)
{
	struct fixture *f;

	if (!getcwd(old_cwd, sizeof(old_cwd)))
		return -1;
	snprintf(test_dir, sizeof(test_dir), "%s/vireo-bundle-write-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(test_dir) || chdir(test_dir) != 0)
		return -1;
	write_pattern("kernel-a", KERNEL_A, 1);
	write_pattern("initrd-a", INITRD_A, 2);
	write_pattern("kernel-b", KERNEL_B, 3);
	write_pattern("disk.img", 1 << 20, 4);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	vm_config_init(&f->cfg);
	*state = f;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vm_config_free(&f->cfg);
	free(f->data);
	free(f);
	if (chdir(old_cwd) != 0)
		return -1;
	return nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void parse_config(struct fixture *f, const char *text, bool for_machine)
{
	FILE *fp = fopen("vms.conf", "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	if (vm_config_parse_file(&f->cfg, "vms.conf") != 0 ||
	    vm_config_finish(&f->cfg, for_machine) != 0)
		fail_msg("config refused: %s", vm_config_error(&f->cfg));
}

/* Write the bundle into memory; fail the test on an error. */
static void write_to_memory(struct fixture *f, uint32_t flags)
{
	FILE *fp = open_memstream(&f->data, &f->size);
	char *err = NULL;

	assert_non_null(fp);
	if (bundle_write(&f->cfg, flags, fp, "memory", &err) != 0)
		fail_msg("bundle_write: %s", err);
	assert_int_equal(fclose(fp), 0);
}

static void parse_back(const void *data, size_t size, struct bundle *b)
{
	char why[160] = "";

	if (bundle_parse(data, size, b, why, sizeof(why)) != 0)
		fail_msg("the hypervisor's parser refuses the bundle: %s", why);
}

static void check_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			fail_msg("byte %zu of %zu is %#x, not 0", i, n, b[i]);
}

static void check_image(const struct bundle *b, uint64_t offset, uint64_t size, const char *path)
{
	size_t file_size;
	uint8_t *file = read_all(path, &file_size);

	assert_int_equal(size, file_size);
	assert_true(offset % 4096 == 0);
	assert_memory_equal(b->base + offset, file, file_size);
	free(file);
}

static const char two_vms[] = "[machine]\n"
			      "harts = 4\n"
			      "disk = disk.img\n"
			      "[vm a]\n"
			      "kernel = kernel-a\n"
			      "initrd = initrd-a\n"
			      "memory = 8M\n"
			      "vcpus = 2\n"
			      "harts = 1-2\n"
			      "testdev = yes\n"
			      "disk = 0:1024+1024\n";

static void test_layout(void **state)
{
	struct fixture *f = *state;
	const struct bundle_vm *a, *s;
	struct bundle b;
	uint64_t off;

	parse_config(f,
		     "[machine]\nharts = 4\ndisk = disk.img\n"
		     "[vm a]\nkernel = kernel-a\ninitrd = initrd-a\nmemory = 8M\nvcpus = 2\n"
		     "harts = 1-2\ntestdev = yes\ndisk = 0:100+1000,ro\n"
		     "bootargs = console=ttyS0 x=1,y\n"
		     "[vm second.vm-2]\nkernel = kernel-b\nmemory = 4M\nvcpus = harts\n"
		     "console = off\ndisk = 0:1100+948\n",
		     true);
	write_to_memory(f, 0);
	parse_back(f->data, f->size, &b);

	assert_memory_equal(b.header->magic, BUNDLE_MAGIC, 8);
	assert_int_equal(b.header->version, BUNDLE_VERSION);
	assert_int_equal(b.header->vm_count, 2);
	assert_int_equal(b.header->total_size, f->size);
	assert_int_equal(b.header->vm_entry_size, ENTRY_SIZE);
	assert_int_equal(b.header->flags, 0);
	check_zero(b.header->reserved, sizeof(b.header->reserved));

	a = &b.vms[0];
	assert_string_equal(a->name, "a");
	check_zero(a->name + 2, BUNDLE_NAME_MAX - 2);
	assert_int_equal(a->ram_size, 8 << 20);
	assert_int_equal(a->vcpus, 2);
	assert_int_equal(a->flags, BUNDLE_VM_TESTDEV);
	assert_int_equal(a->hart_affinity, 0x6);
	assert_string_equal(a->bootargs, "console=ttyS0 x=1,y");
	check_zero(a->bootargs + 20, BUNDLE_ARGS_MAX - 20);
	assert_int_equal(a->disk_host, 0);
	assert_int_equal(a->disk_flags, BUNDLE_DISK_PRESENT | BUNDLE_DISK_READONLY);
	assert_int_equal(a->disk_first_sector, 100);
	assert_int_equal(a->disk_sectors, 1000);
	check_zero(a->reserved, sizeof(a->reserved));

	s = &b.vms[1];
	assert_string_equal(s->name, "second.vm-2");
	assert_int_equal(s->ram_size, 4 << 20);
	assert_int_equal(s->vcpus, 4); /* vcpus = harts on a 4-hart machine */
	assert_int_equal(s->flags, BUNDLE_VM_NO_CONSOLE);
	assert_int_equal(s->hart_affinity, 0);
	assert_string_equal(s->bootargs, "");
	assert_int_equal(s->initrd_offset, 0);
	assert_int_equal(s->initrd_size, 0);
	assert_int_equal(s->disk_flags, BUNDLE_DISK_PRESENT);
	assert_int_equal(s->disk_first_sector, 1100);
	assert_int_equal(s->disk_sectors, 948);
	check_zero(s->reserved, sizeof(s->reserved));

	/* Images follow the VM table in order, each on a 4 KiB boundary, and nothing else. */
	off = (64 + 2 * ENTRY_SIZE + 4095) & ~4095ULL;
	assert_int_equal(a->kernel_offset, off);
	check_image(&b, a->kernel_offset, a->kernel_size, "kernel-a");
	off = (off + KERNEL_A + 4095) & ~4095ULL;
	assert_int_equal(a->initrd_offset, off);
	check_image(&b, a->initrd_offset, a->initrd_size, "initrd-a");
	off = (off + INITRD_A + 4095) & ~4095ULL;
	assert_int_equal(s->kernel_offset, off);
	check_image(&b, s->kernel_offset, s->kernel_size, "kernel-b");
	assert_int_equal(f->size, off + KERNEL_B);

	/* Padding is zero. */
	check_zero(b.base + 64 + 2 * ENTRY_SIZE, a->kernel_offset - 64 - 2 * ENTRY_SIZE);
	check_zero(b.base + a->kernel_offset + KERNEL_A,
		   a->initrd_offset - a->kernel_offset - KERNEL_A);
	check_zero(b.base + a->initrd_offset + INITRD_A,
		   s->kernel_offset - a->initrd_offset - INITRD_A);
}

static void test_whole_disk_and_flags(void **state)
{
	struct fixture *f = *state;
	struct bundle b;

	parse_config(f, "[machine]\ndisk = disk.img\n[vm only]\nkernel = kernel-b\ndisk = 0,ro\n",
		     true);
	write_to_memory(f, BUNDLE_SELFTEST_PANIC);
	parse_back(f->data, f->size, &b);
	assert_int_equal(b.header->flags, BUNDLE_SELFTEST_PANIC);
	assert_int_equal(b.vms[0].disk_flags, BUNDLE_DISK_PRESENT | BUNDLE_DISK_READONLY);
	/* The whole host disk: from sector 0 to its end. */
	assert_int_equal(b.vms[0].disk_first_sector, 0);
	assert_int_equal(b.vms[0].disk_sectors, 0);
	assert_int_equal(b.vms[0].ram_size, 64 << 20);
	assert_int_equal(b.vms[0].vcpus, 1);
	assert_int_equal(b.vms[0].flags, 0);
	assert_int_equal(f->size, 4096 + KERNEL_B);
}

/* A network card: its flag, network, MAC and address, in network byte order. */
static void test_network_fields(void **state)
{
	struct fixture *f = *state;
	struct bundle b;

	parse_config(f,
		     "[vm one]\nkernel = kernel-b\nnet = default\nmac = 02:00:00:00:00:07\n"
		     "[vm two]\nkernel = kernel-b\n"
		     "[vm three]\nkernel = kernel-b\nnet = lab\n",
		     true);
	write_to_memory(f, 0);
	parse_back(f->data, f->size, &b);
	assert_int_equal(b.vms[0].flags, BUNDLE_VM_NET);
	assert_string_equal(b.vms[0].net_name, "default");
	check_zero(b.vms[0].net_name + 8, BUNDLE_NET_NAME_MAX - 8);
	assert_memory_equal(b.vms[0].mac, "\x02\0\0\0\0\x07", 6);
	assert_memory_equal(b.vms[0].ipv4, "\x0a\x00\x02\x0f", 4);
	check_zero(b.vms[0].reserved, sizeof(b.vms[0].reserved));
	assert_int_equal(b.vms[1].flags, 0);
	check_zero(b.vms[1].net_name, BUNDLE_NET_NAME_MAX);
	check_zero(b.vms[1].mac, 6);
	assert_int_equal(b.vms[2].flags, BUNDLE_VM_NET);
	assert_string_equal(b.vms[2].net_name, "lab");
	assert_int_equal(b.vms[2].mac[0], 0x52);
	assert_memory_equal(b.vms[2].ipv4, "\x0a\x00\x02\x11", 4);
}

static void test_limits(void **state)
{
	struct fixture *f = *state;
	char *text = calloc(1, 16384), *p = text, bootargs[BUNDLE_ARGS_MAX];
	struct bundle b;

	/* Sixteen VMs, longest names and bootargs: still a bundle the parser takes. */
	assert_non_null(text);
	memset(bootargs, 'b', sizeof(bootargs) - 1);
	bootargs[sizeof(bootargs) - 1] = '\0';
	for (int i = 0; i < BUNDLE_MAX_VMS; i++)
		p += sprintf(p,
			     "[vm %030d%c]\nkernel = kernel-a\nmemory = 4M\nvcpus = 16\n"
			     "bootargs = %s\n",
			     0, 'a' + i, bootargs);
	parse_config(f, text, false);
	write_to_memory(f, 0);
	parse_back(f->data, f->size, &b);
	assert_int_equal(b.header->vm_count, BUNDLE_MAX_VMS);
	for (int i = 0; i < BUNDLE_MAX_VMS; i++) {
		assert_int_equal(strlen(b.vms[i].name), BUNDLE_NAME_MAX - 1);
		assert_int_equal(b.vms[i].name[BUNDLE_NAME_MAX - 2], 'a' + i);
		assert_string_equal(b.vms[i].bootargs, bootargs);
		assert_int_equal(b.vms[i].vcpus, 16);
	}
	free(text);
}

static void test_file(void **state)
{
	struct fixture *f = *state;
	char *err = NULL;
	struct bundle b;
	uint8_t *data;
	size_t size;

	parse_config(f, two_vms, false);
	if (bundle_write_file(&f->cfg, 0, "out.bin", &err) != 0)
		fail_msg("%s", err);
	data = read_all("out.bin", &size);
	parse_back(data, size, &b);
	assert_int_equal(b.vms[0].disk_first_sector, 1024);
	free(data);

	/* An output that cannot be created is named with the reason. */
	assert_int_equal(bundle_write_file(&f->cfg, 0, "no/such/dir/out.bin", &err), -1);
	assert_string_equal(err, "no/such/dir/out.bin: No such file or directory");
	free(err);
}

static void test_image_errors(void **state)
{
	struct fixture *f = *state;
	char *err = NULL;

	parse_config(f, "[vm a]\nkernel = kernel-a\n[vm b]\nkernel = kernel-b\ninitrd = initrd-a\n",
		     true);
	/* Files that change between the config check and the packing. */
	assert_int_equal(truncate("initrd-a", 0), 0);
	assert_int_equal(bundle_write_file(&f->cfg, 0, "out.bin", &err), -1);
	assert_string_equal(err, "VM 'b': initrd 'initrd-a' is empty");
	free(err);
	/* No partial bundle is left behind. */
	assert_int_equal(access("out.bin", F_OK), -1);

	assert_int_equal(unlink("kernel-b"), 0);
	assert_int_equal(bundle_write_file(&f->cfg, 0, "out.bin", &err), -1);
	assert_string_equal(err, "VM 'b': kernel 'kernel-b': No such file or directory");
	free(err);
	assert_int_equal(access("out.bin", F_OK), -1);
}

static void test_write_error(void **state)
{
	struct fixture *f = *state;
	FILE *full = fopen("/dev/full", "w");
	char *err = NULL;

	if (!full)
		skip();
	parse_config(f, "[vm a]\nkernel = kernel-a\n", true);
	assert_int_equal(bundle_write(&f->cfg, 0, full, "/dev/full", &err), -1);
	assert_string_equal(err, "/dev/full: write error: No space left on device");
	free(err);
	fclose(full);
}

static void test_entry(void **state)
{
	struct vm_config_vm vm = {.name = "x",
				  .memory = 6 << 20,
				  .vcpus = 3,
				  .hart_mask = 0x81,
				  .console = false,
				  .testdev = true,
				  .bootargs = "quiet"};
	struct bundle_vm e;

	(void)state;
	vm.disk =
	    (struct vm_config_disk){.present = true, .host = 2, .first_sector = 7, .sectors = 9};
	memset(&e, 0xa5, sizeof(e));
	bundle_write_entry(&vm, &e);
	assert_string_equal(e.name, "x");
	assert_int_equal(e.ram_size, 6 << 20);
	assert_int_equal(e.vcpus, 3);
	assert_int_equal(e.hart_affinity, 0x81);
	assert_int_equal(e.flags, BUNDLE_VM_TESTDEV | BUNDLE_VM_NO_CONSOLE);
	assert_string_equal(e.bootargs, "quiet");
	assert_int_equal(e.disk_host, 2);
	assert_int_equal(e.disk_flags, BUNDLE_DISK_PRESENT);
	assert_int_equal(e.disk_first_sector, 7);
	assert_int_equal(e.disk_sectors, 9);
	assert_int_equal(e.kernel_offset | e.kernel_size | e.initrd_offset | e.initrd_size, 0);
	check_zero(e.name + 2, sizeof(e.name) - 2);
	check_zero(e.bootargs + 6, sizeof(e.bootargs) - 6);
	check_zero(e.reserved, sizeof(e.reserved));
	assert_int_equal(e.rtc_offset, 0);
}

/* rtc = off is a flag; the offset (plus the host's UTC offset for localtime) is seconds. */
static void test_entry_rtc(void **state)
{
	struct vm_config_vm vm = {.name = "x", .memory = 6 << 20, .vcpus = 1, .console = true};
	struct bundle_vm e;

	(void)state;
	vm.rtc = VM_CONFIG_RTC_OFF;
	bundle_write_entry(&vm, &e);
	assert_int_equal(e.flags, BUNDLE_VM_NO_RTC);
	assert_int_equal(e.rtc_offset, 0);

	vm.rtc = VM_CONFIG_RTC_UTC;
	vm.rtc_offset = -3600;
	bundle_write_entry(&vm, &e);
	assert_int_equal(e.flags, 0);
	assert_int_equal(e.rtc_offset, -3600);

	/* localtime follows TZ at packing time: two hours east of UTC, no DST. */
	const char *old_tz = getenv("TZ");
	char *saved = old_tz ? strdup(old_tz) : NULL;
	setenv("TZ", "XYZ-2", 1);
	tzset();
	vm.rtc = VM_CONFIG_RTC_LOCALTIME;
	vm.rtc_offset = 60;
	bundle_write_entry(&vm, &e);
	assert_int_equal(e.rtc_offset, 7200 + 60);
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	free(saved);
	tzset();
	check_zero(e.reserved, sizeof(e.reserved));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_layout),	    T(test_whole_disk_and_flags), T(test_limits), T(test_file),
	    T(test_image_errors),   T(test_write_error),	  T(test_entry),  T(test_entry_rtc),
	    T(test_network_fields),
	};
#undef T

	return cmocka_run_group_tests_name("bundle_write", tests, NULL, NULL);
}
