// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the host tool's VM definitions (tools/vm_config.c): config
 * files and --vm specs, every error message with its exact line, sizes, hart
 * masks, disk ranges and their overlaps. Each test runs in a fresh temporary
 * directory holding small kernel, initrd and disk files, so that messages name
 * plain relative paths ("vms.conf:7: ...").
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
#include <unistd.h>
#include <cmocka.h>

#include "vm_config.h"

static char test_dir[PATH_MAX];
static char old_cwd[PATH_MAX];

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void write_sized(const char *path, size_t size)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	for (size_t i = 0; i < size; i++)
		fputc((int)(i * 7 + 1), fp);
	assert_int_equal(fclose(fp), 0);
}

static int setup(void **state)
{
	struct vm_config *cfg;

	if (!getcwd(old_cwd, sizeof(old_cwd)))
		return -1;
	snprintf(test_dir, sizeof(test_dir), "%s/vireo-vm-config-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(test_dir) || chdir(test_dir) != 0)
		return -1;
	write_sized("Image", 5000);
	write_sized("initrd.cpio", 3333);
	write_sized("empty", 0);
	write_sized("disk0.img", 1 << 20);  /* 2048 sectors */
	write_sized("disk1.img", 64 << 10); /* 128 sectors */
	if (mkdir("subdir", 0755) != 0)
		return -1;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -1;
	vm_config_init(cfg);
	*state = cfg;
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
	vm_config_free(*state);
	free(*state);
	if (chdir(old_cwd) != 0)
		return -1;
	return nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int parse_text(struct vm_config *cfg, const char *text)
{
	write_text("vms.conf", text);
	return vm_config_parse_file(cfg, "vms.conf");
}

/* A fresh config: parsing text fails with exactly msg. */
static void expect_parse_error(const char *text, const char *msg)
{
	struct vm_config cfg;

	vm_config_init(&cfg);
	if (parse_text(&cfg, text) != -1)
		fail_msg("accepted:\n%s", text);
	assert_string_equal(vm_config_error(&cfg), msg);
	vm_config_free(&cfg);
}

/* A fresh config: parsing text succeeds, vm_config_finish() fails with msg. */
static void expect_finish_error(const char *text, bool for_machine, const char *msg)
{
	struct vm_config cfg;

	vm_config_init(&cfg);
	if (parse_text(&cfg, text) != 0)
		fail_msg("refused: %s", vm_config_error(&cfg));
	assert_int_equal(vm_config_finish(&cfg, for_machine), -1);
	assert_string_equal(vm_config_error(&cfg), msg);
	vm_config_free(&cfg);
}

static void expect_spec_error(const char *spec, const char *msg)
{
	struct vm_config cfg;

	vm_config_init(&cfg);
	assert_int_equal(vm_config_parse_spec(&cfg, spec, 2), -1);
	assert_string_equal(vm_config_error(&cfg), msg);
	vm_config_free(&cfg);
}

static void parse_ok(struct vm_config *cfg, const char *text)
{
	if (parse_text(cfg, text) != 0)
		fail_msg("refused: %s", vm_config_error(cfg));
}

static void finish_ok(struct vm_config *cfg, bool for_machine)
{
	if (vm_config_finish(cfg, for_machine) != 0)
		fail_msg("refused: %s", vm_config_error(cfg));
}

/* ------------------------------------------------------------------ good configs */

static void test_defaults(void **state)
{
	struct vm_config *cfg = *state;
	const struct vm_config_vm *vm = &cfg->vms[0];

	parse_ok(cfg, "[vm a]\nkernel = Image\n");
	finish_ok(cfg, true);
	assert_int_equal(cfg->nvms, 1);
	assert_string_equal(vm->name, "a");
	assert_string_equal(vm->kernel, "Image");
	assert_null(vm->initrd);
	assert_int_equal(vm->memory, 64 * MIB);
	assert_int_equal(vm->vcpus, 1);
	assert_int_equal(vm->hart_mask, 0);
	assert_string_equal(vm->bootargs, "");
	assert_true(vm->console);
	assert_false(vm->testdev);
	assert_false(vm->disk.present);
	assert_int_equal(vm->rtc, VM_CONFIG_RTC_UTC);
	assert_int_equal(vm->rtc_offset, 0);
	assert_int_equal(cfg->machine.harts, 2);
	assert_int_equal(cfg->machine.memory, 1 * GIB);
	assert_string_equal(cfg->machine.cpu, "rv64,h=true");
	assert_string_equal(cfg->machine.machine, "virt");
	assert_int_equal(cfg->machine.ndisks, 0);
}

static void test_every_key(void **state)
{
	struct vm_config *cfg = *state;
	const struct vm_config_vm *a = &cfg->vms[0], *b = &cfg->vms[1];

	parse_ok(cfg, "# a comment\n"
		      "; another one\n"
		      "\n"
		      "[machine]\n"
		      "harts=4\n"
		      "  memory   =   2G  \n"
		      "cpu = rv64,h=true,sstc=false\n"
		      "disk = disk0.img\n"
		      "disk = disk1.img\n"
		      "\n"
		      "[ vm  web ]\n"
		      "\tkernel\t=\tImage\n"
		      "initrd = initrd.cpio\n"
		      "MEMORY = 256M\n"
		      "vcpus = 3\n"
		      "harts = 1-3\n"
		      "bootargs = console=ttyS0 root=/dev/vda ro, x=\"a b\"  # not a comment\n"
		      "disk = 0:2048+4096,ro\n"
		      "console = off\n"
		      "testdev = yes\r\n"
		      "[vm db.2_x-y]\n"
		      "kernel = Image\n"
		      "disk = 1\n"
		      "harts = 0, 2\n"
		      "console = on\n"
		      "testdev = no\n");
	/* disk0.img has 2048 sectors: 2048+4096 does not fit, so only the parse is checked. */
	assert_int_equal(cfg->nvms, 2);
	assert_int_equal(cfg->machine.harts, 4);
	assert_int_equal(cfg->machine.memory, 2 * GIB);
	assert_string_equal(cfg->machine.cpu, "rv64,h=true,sstc=false");
	assert_int_equal(cfg->machine.ndisks, 2);
	assert_string_equal(cfg->machine.disks[0].path, "disk0.img");
	assert_int_equal(cfg->machine.disks[0].sectors, 2048);
	assert_string_equal(cfg->machine.disks[1].path, "disk1.img");
	assert_int_equal(cfg->machine.disks[1].sectors, 128);

	assert_string_equal(a->name, "web");
	assert_string_equal(a->kernel, "Image");
	assert_string_equal(a->initrd, "initrd.cpio");
	assert_int_equal(a->memory, 256 * MIB);
	assert_int_equal(a->vcpus, 3);
	assert_int_equal(a->hart_mask, 0xe);
	assert_string_equal(a->bootargs,
			    "console=ttyS0 root=/dev/vda ro, x=\"a b\"  # not a comment");
	assert_true(a->disk.present);
	assert_false(a->disk.whole);
	assert_true(a->disk.readonly);
	assert_int_equal(a->disk.host, 0);
	assert_int_equal(a->disk.first_sector, 2048);
	assert_int_equal(a->disk.sectors, 4096);
	assert_int_equal(a->disk.loc.line, 18);
	assert_false(a->console);
	assert_true(a->testdev);
	assert_int_equal(a->loc.line, 11);
	assert_string_equal(a->loc.source, "vms.conf");

	assert_string_equal(b->name, "db.2_x-y");
	assert_true(b->disk.present);
	assert_true(b->disk.whole);
	assert_false(b->disk.readonly);
	assert_int_equal(b->disk.host, 1);
	assert_int_equal(b->hart_mask, 0x5);
	assert_true(b->console);
	assert_false(b->testdev);

	expect_finish_error("[machine]\ndisk = disk0.img\n[vm a]\nkernel = Image\n"
			    "disk = 0:2048+4096\n",
			    false,
			    "vms.conf:5: disk of VM 'a' ends at sector 6143, past the end of host "
			    "disk 0 ('disk0.img', 2048 sectors)");
}

static void test_long_lines(void **state)
{
	struct vm_config *cfg = *state;
	size_t n = 200000;
	char *text = malloc(n + 4096), *p = text;

	/* A comment far longer than any buffer, then bootargs at the limit. */
	assert_non_null(text);
	*p++ = '#';
	memset(p, 'c', n);
	p += n;
	p += sprintf(p, "\n[vm a]\nkernel = Image\nbootargs = ");
	memset(p, 'x', BUNDLE_ARGS_MAX - 1);
	p[BUNDLE_ARGS_MAX - 1] = '\0';
	strcat(p, "\n");
	parse_ok(cfg, text);
	assert_int_equal(strlen(cfg->vms[0].bootargs), BUNDLE_ARGS_MAX - 1);

	/* One byte more is refused, by its length. */
	p = strstr(text, "bootargs = ") + strlen("bootargs = ");
	memset(p, 'x', BUNDLE_ARGS_MAX);
	strcpy(p + BUNDLE_ARGS_MAX, "\n");
	expect_parse_error(text, "vms.conf:4: bootargs are 512 bytes long; at most 511");

	/* A path longer than PATH_MAX is an error from the system, not an overflow. */
	char *path = malloc(3 * PATH_MAX), *msg = NULL;
	assert_non_null(path);
	p = path;
	for (int i = 0; i < PATH_MAX; i++)
		p += sprintf(p, "./");
	strcpy(p, "Image");
	sprintf(text, "[vm a]\nkernel = %s\n", path);
	assert_true(asprintf(&msg, "vms.conf:2: kernel '%s' cannot be opened: File name too long",
			     path) > 0);
	expect_parse_error(text, msg);
	free(msg);
	free(path);
	free(text);
}

static void test_paths(void **state)
{
	struct vm_config *cfg = *state;

	/* Relative to the config file's directory; absolute as is; ~ from $HOME. */
	write_text("subdir/vms.conf", "[vm a]\nkernel = ../Image\ninitrd = ~/initrd.cpio\n"
				      "[machine]\ndisk = ../disk0.img\n");
	setenv("HOME", test_dir, 1);
	if (vm_config_parse_file(cfg, "subdir/vms.conf") != 0)
		fail_msg("%s", vm_config_error(cfg));
	assert_string_equal(cfg->vms[0].kernel, "subdir/../Image");
	assert_string_equal(cfg->machine.disks[0].path, "subdir/../disk0.img");
	assert_string_equal(cfg->vms[0].initrd + strlen(test_dir), "/initrd.cpio");

	char *abs = NULL;
	assert_true(asprintf(&abs, "[vm b]\nkernel = %s/Image\n", test_dir) > 0);
	write_text("subdir/abs.conf", abs);
	free(abs);
	if (vm_config_parse_file(cfg, "subdir/abs.conf") != 0)
		fail_msg("%s", vm_config_error(cfg));
	assert_string_equal(cfg->vms[1].kernel + strlen(test_dir), "/Image");

	/* A missing kernel is named as written, relative to the config. */
	write_text("subdir/bad.conf", "[vm c]\n\nkernel = Image\n");
	assert_int_equal(vm_config_parse_file(cfg, "subdir/bad.conf"), -1);
	assert_string_equal(
	    vm_config_error(cfg),
	    "subdir/bad.conf:3: kernel 'Image' not found: No such file or directory");
}

static void test_several_files(void **state)
{
	struct vm_config *cfg = *state;

	write_text("one.conf", "[machine]\nharts = 3\ndisk = disk0.img\n[vm a]\nkernel = Image\n");
	write_text("two.conf", "[machine]\nharts = 4\ndisk = disk1.img\n[vm b]\nkernel = Image\n"
			       "disk = 1:0+128\n");
	assert_int_equal(vm_config_parse_file(cfg, "one.conf"), 0);
	assert_int_equal(vm_config_parse_file(cfg, "two.conf"), 0);
	finish_ok(cfg, true);
	/* Later files override [machine] keys; disks add up in order. */
	assert_int_equal(cfg->machine.harts, 4);
	assert_int_equal(cfg->machine.ndisks, 2);
	assert_string_equal(cfg->machine.disks[1].path, "disk1.img");
	assert_int_equal(cfg->nvms, 2);

	/* A VM name is unique across files. */
	write_text("three.conf", "\n[vm a]\nkernel = Image\n");
	assert_int_equal(vm_config_parse_file(cfg, "three.conf"), -1);
	assert_string_equal(vm_config_error(cfg),
			    "three.conf:2: VM 'a' is defined twice (first at one.conf:4)");
}

/* ------------------------------------------------------------------ values */

static void test_sizes(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} good[] = {
	    {"4M", 4 * MIB},	{"2G", 2 * GIB},
	    {"1g", GIB},	{"256MiB", 256 * MIB},
	    {"64mb", 64 * MIB}, {"4194304", 4 * MIB},
	    {"1T", 1ULL << 40}, {"12K", 12 * 1024},
	    {"0", 0},		{"16777215T", 16777215ULL << 40},
	};
	static const char *const bad[] = {
	    "",		 "M", "12Q", "1.5G", "-4M", "4 M", "4MM", "0x10M", "99999999999999999999",
	    "16777216T",
	};
	uint64_t v;
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (vm_config_parse_size(good[i].text, &v) != 0)
			fail_msg("'%s' refused", good[i].text);
		assert_int_equal(v, good[i].bytes);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vm_config_parse_size(bad[i], &v) == 0)
			fail_msg("'%s' accepted", bad[i]);

	vm_config_format_size(GIB, buf, sizeof(buf));
	assert_string_equal(buf, "1G");
	vm_config_format_size(1280 * MIB, buf, sizeof(buf));
	assert_string_equal(buf, "1280M");
	vm_config_format_size(3 * 1024, buf, sizeof(buf));
	assert_string_equal(buf, "3K");
	vm_config_format_size(1000, buf, sizeof(buf));
	assert_string_equal(buf, "1000");
}

static void test_vm_memory(void **state)
{
	struct vm_config *cfg = *state;

	parse_ok(cfg, "[vm a]\nkernel = Image\nmemory = 4M\n[vm b]\nkernel = Image\nmemory = 1G\n"
		      "[vm c]\nkernel=Image\nmemory=6MiB\n");
	assert_int_equal(cfg->vms[0].memory, 4 * MIB);
	assert_int_equal(cfg->vms[1].memory, GIB);
	assert_int_equal(cfg->vms[2].memory, 6 * MIB);

	expect_parse_error("[vm a]\nkernel = Image\n\n\n\n\nmemory = 3M\n",
			   "vms.conf:7: memory '3M' must be a multiple of 2M and at least 4M");
	expect_parse_error("[vm a]\nmemory = 2M\n",
			   "vms.conf:2: memory '2M' must be a multiple of 2M and at least 4M");
	expect_parse_error("[vm a]\nmemory = 4097K\n",
			   "vms.conf:2: memory '4097K' must be a multiple of 2M and at least 4M");
	expect_parse_error("[vm a]\nmemory = lots\n",
			   "vms.conf:2: memory 'lots' is not a size (e.g. 64M, 1G)");
	expect_parse_error("[vm a]\nmemory =\n",
			   "vms.conf:2: memory '' is not a size (e.g. 64M, 1G)");
}

static void test_hart_masks(void **state)
{
	static const struct {
		const char *text;
		uint64_t mask;
	} good[] = {
	    {"0", 0x1},		{"1-3", 0xe},	      {"0,2", 0x5},
	    {"0, 2-3", 0xd},	{"0+2", 0x5},	      {" 5 - 5 ", 0x20},
	    {"63", 1ULL << 63}, {"0-63", UINT64_MAX}, {"3,1-2,3", 0xe},
	};
	static const char *const bad[] = {
	    "", "64", "3-1", "a", "1-", "-1", "0,,1", "0,", "1-64", "0;1", "99999999999999999999",
	};
	uint64_t m;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (vm_config_parse_hart_mask(good[i].text, &m) != 0)
			fail_msg("'%s' refused", good[i].text);
		assert_int_equal(m, good[i].mask);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vm_config_parse_hart_mask(bad[i], &m) == 0)
			fail_msg("'%s' accepted", bad[i]);
	expect_parse_error("[vm a]\nkernel = Image\nharts = 64\n",
			   "vms.conf:3: harts '64' must be hart numbers 0..63, like 0, 1-3 or 0,2");
	expect_parse_error(
	    "[vm a]\nharts = 2-1\n",
	    "vms.conf:2: harts '2-1' must be hart numbers 0..63, like 0, 1-3 or 0,2");
}

static void test_disk_syntax(void **state)
{
	static const struct {
		const char *text;
		bool whole, ro;
		unsigned host;
		uint64_t first, sectors;
	} good[] = {
	    {"0", true, false, 0, 0, 0},
	    {"1:2048+4096", false, false, 1, 2048, 4096},
	    {"0,ro", true, true, 0, 0, 0},
	    {"0:0+1,rw", false, false, 0, 0, 1},
	    {" 2 : 10 + 20 , ro ", false, true, 2, 10, 20},
	    {"7:18446744073709551614+1", false, false, 7, UINT64_MAX - 1, 1},
	};
	static const char *const bad[] = {
	    "",	   "x",	      "0:10", "0:10+", "0:+5", "0,rx",	     "0,ro,ro",
	    "1-2", "0:1+2+3", "-1",   "0 1",   "0,",   "4294967296", "0:18446744073709551615+1",
	};
	struct vm_config_disk d;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&d, 0, sizeof(d));
		if (vm_config_parse_disk(good[i].text, &d) != 0)
			fail_msg("'%s' refused", good[i].text);
		assert_true(d.present);
		assert_int_equal(d.whole, good[i].whole);
		assert_int_equal(d.readonly, good[i].ro);
		assert_int_equal(d.host, good[i].host);
		assert_int_equal(d.first_sector, good[i].first);
		assert_int_equal(d.sectors, good[i].sectors);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vm_config_parse_disk(bad[i], &d) == 0)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(vm_config_parse_disk("0:5+0", &d), -2);

	expect_parse_error("[vm a]\ndisk = 0:10\n",
			   "vms.conf:2: disk '0:10' is not like 0 (host disk 0), 0:2048+4096 "
			   "(sectors of it) or 0,ro");
	expect_parse_error("[vm a]\ndisk = 0:5+0\n",
			   "vms.conf:2: disk '0:5+0' is a range of 0 sectors");
}

/* ------------------------------------------------------------------ errors */

static void test_key_errors(void **state)
{
	(void)state;
	expect_parse_error("[vm a]\nkernel = Image\ncpus = 2\n",
			   "vms.conf:3: unknown key 'cpus' (known: kernel, initrd, memory, vcpus, "
			   "harts, bootargs, disk, console, testdev, wait, rtc, rtc_offset, net, "
			   "mac, irqchip, sandbox)");
	expect_parse_error("[vm a]\nkernel = Image\nmemory = 8M\n\nmemory = 16M\n",
			   "vms.conf:5: duplicate key 'memory' (first at line 3)");
	expect_parse_error("[vm a]\nKernel = Image\nkernel = Image\n",
			   "vms.conf:3: duplicate key 'kernel' (first at line 2)");
	expect_parse_error(
	    "kernel = Image\n",
	    "vms.conf:1: key 'kernel' is outside a section ([machine] or [vm NAME])");
	expect_parse_error("[vm a]\nkernel Image\n",
			   "vms.conf:2: expected 'key = value' or a [section], not 'kernel Image'");
	expect_parse_error("[vm a]\n = Image\n", "vms.conf:2: no key before '='");
	expect_parse_error("[vm a]\nvcpus = 17\n",
			   "vms.conf:2: vcpus '17' must be 1..16, or 'harts'");
	expect_parse_error("[vm a]\nvcpus = 0\n",
			   "vms.conf:2: vcpus '0' must be 1..16, or 'harts'");
	expect_parse_error("[vm a]\nvcpus = 2x\n",
			   "vms.conf:2: vcpus '2x' must be 1..16, or 'harts'");
	expect_parse_error("[vm a]\nconsole = maybe\n",
			   "vms.conf:2: console 'maybe' must be on or off");
	expect_parse_error("[vm a]\ntestdev = perhaps\n",
			   "vms.conf:2: testdev 'perhaps' must be yes or no");
}

static void test_file_errors(void **state)
{
	struct vm_config *cfg = *state;

	expect_parse_error("[vm a]\n\n\nkernel = Image2\n",
			   "vms.conf:4: kernel 'Image2' not found: No such file or directory");
	expect_parse_error("[vm a]\nkernel = Image\ninitrd = nope.cpio\n",
			   "vms.conf:3: initrd 'nope.cpio' not found: No such file or directory");
	expect_parse_error("[vm a]\nkernel = empty\n", "vms.conf:2: kernel 'empty' is empty");
	expect_parse_error("[vm a]\nkernel = Image\ninitrd = empty\n",
			   "vms.conf:3: initrd 'empty' is empty");
	expect_parse_error("[vm a]\nkernel =\n", "vms.conf:2: kernel is empty");
	expect_parse_error("[vm a]\nkernel = subdir\n",
			   "vms.conf:2: kernel 'subdir' is a directory");
	expect_parse_error("[machine]\ndisk = nope.img\n",
			   "vms.conf:2: disk 'nope.img' not found: No such file or directory");

	/* Unreadable files, unless root reads everything anyway. */
	write_sized("secret", 10);
	chmod("secret", 0);
	if (access("secret", R_OK) != 0)
		expect_parse_error(
		    "[vm a]\nkernel = secret\n",
		    "vms.conf:2: kernel 'secret' cannot be opened: Permission denied");

	assert_int_equal(vm_config_parse_file(cfg, "missing.conf"), -1);
	assert_string_equal(vm_config_error(cfg), "missing.conf: No such file or directory");
	assert_int_equal(vm_config_parse_file(cfg, "subdir"), -1);
	assert_string_equal(vm_config_error(cfg), "subdir: read error: Is a directory");

	write_text("nul.conf", "[vm a]\nkernel = Image\n");
	FILE *fp = fopen("nul.conf", "a");
	fputs("# x", fp);
	fputc('\0', fp);
	fputs("y\n", fp);
	fclose(fp);
	assert_int_equal(vm_config_parse_file(cfg, "nul.conf"), -1);
	assert_string_equal(vm_config_error(cfg), "nul.conf:3: line contains a NUL byte");
}

static void test_section_errors(void **state)
{
	(void)state;
	expect_parse_error("[vm a]\nkernel = Image\nmemory = 8M\n\n[vm web]\nmemory = 8M\n",
			   "vms.conf:5: VM 'web' has no kernel");
	expect_parse_error("[vm web]\nmemory = 8M\n", "vms.conf:1: VM 'web' has no kernel");
	expect_parse_error(
	    "[vm a]\nkernel = Image\n[vm b]\nkernel = Image\n[vm a]\nkernel = Image\n",
	    "vms.conf:5: VM 'a' is defined twice (first at vms.conf:1)");
	expect_parse_error("[vm a\n", "vms.conf:1: section header '[vm a' has no closing ']'");
	expect_parse_error("\n[vm]\n", "vms.conf:2: [vm] needs a name: [vm NAME]");
	expect_parse_error("[vms a]\n",
			   "vms.conf:1: unknown section [vms a] (expected [machine] or [vm NAME])");
	expect_parse_error(
	    "[vm we b]\n",
	    "vms.conf:1: VM name 'we b' must be 1-31 letters, digits, '-', '_' or '.'");
	expect_parse_error("[vm abcdefghijklmnopqrstuvwxyz789012]\n",
			   "vms.conf:1: VM name 'abcdefghijklmnopqrstuvwxyz789012' must be 1-31 "
			   "letters, digits, '-', '_' or '.'");
	expect_parse_error("[machine]\nharts = 2\n[vm a]\nkernel = Image\n[machine]\n",
			   "vms.conf:5: duplicate section [machine] (first at line 1)");
	expect_parse_error(
	    "[machine]\nsmp = 2\n",
	    "vms.conf:2: unknown key 'smp' (known: harts, memory, cpu, machine, disk)");
	expect_parse_error("[machine]\nharts = 2\nharts = 3\n",
			   "vms.conf:3: duplicate key 'harts' (first at line 2)");
	expect_parse_error("[machine]\nharts = 0\n", "vms.conf:2: harts '0' must be 1..64");
	expect_parse_error("[machine]\nharts = 65\n", "vms.conf:2: harts '65' must be 1..64");
	expect_parse_error(
	    "[machine]\nmemory = 1000K\n",
	    "vms.conf:2: memory '1000K' must be a whole number of megabytes (e.g. 1G, "
	    "512M)");
	expect_parse_error("[machine]\ncpu =\n", "vms.conf:2: cpu is empty");
	expect_parse_error(
	    "[machine]\ndisk = disk0.img\ndisk = disk0.img\ndisk = disk0.img\n"
	    "disk = disk0.img\ndisk = disk0.img\ndisk = disk0.img\ndisk = disk0.img\n"
	    "disk = disk0.img\ndisk = disk1.img\n",
	    "vms.conf:10: too many host disks: at most 8");
}

static void test_too_many_vms(void **state)
{
	struct vm_config *cfg = *state;
	char *text = calloc(1, 4096), *p = text;

	assert_non_null(text);
	for (int i = 0; i < 16; i++)
		p += sprintf(p, "[vm v%d]\nkernel = Image\n", i);
	parse_ok(cfg, text);
	assert_int_equal(cfg->nvms, 16);
	sprintf(p, "# one more\n[vm v16]\nkernel = Image\n");
	expect_parse_error(text, "vms.conf:34: too many VMs: at most 16");

	/* And from a --vm spec after a full config. */
	assert_int_equal(vm_config_parse_spec(cfg, "name=x,kernel=Image", 1), -1);
	assert_string_equal(vm_config_error(cfg), "--vm #1: too many VMs: at most 16");
	free(text);
}

/* ------------------------------------------------------------------ the whole */

static void test_no_vm(void **state)
{
	struct vm_config *cfg = *state;

	parse_ok(cfg, "# only a machine\n[machine]\nharts = 4\n");
	assert_int_equal(vm_config_finish(cfg, true), -1);
	assert_string_equal(
	    vm_config_error(cfg),
	    "no VM defined: give a CONFIG file with [vm NAME] sections or --vm SPEC");
}

static void test_vcpus_follow_harts(void **state)
{
	struct vm_config *cfg = *state;
	struct vm_config_overrides o = {.harts = "4"};

	parse_ok(cfg, "[vm a]\nkernel = Image\nvcpus = harts\n"
		      "[vm b]\nkernel = Image\nvcpus = HARTS\nharts = 1\n");
	finish_ok(cfg, true);
	assert_int_equal(cfg->vms[0].vcpus, 2); /* the default machine */
	assert_int_equal(cfg->vms[1].vcpus, 1); /* its pinned harts */

	/* --smp changes the machine, and the VM follows. */
	assert_int_equal(vm_config_apply_overrides(cfg, &o), 0);
	finish_ok(cfg, true);
	assert_int_equal(cfg->vms[0].vcpus, 4);

	o.harts = "17";
	assert_int_equal(vm_config_apply_overrides(cfg, &o), 0);
	assert_int_equal(vm_config_finish(cfg, true), -1);
	assert_string_equal(vm_config_error(cfg),
			    "vms.conf:3: vcpus = harts means 17 vCPUs for VM 'a'; at most 16");
}

static void test_harts_on_machine(void **state)
{
	struct vm_config *cfg = *state;

	/* A bundle can be packed for a bigger machine; run and check refuse it. */
	parse_ok(cfg, "[vm a]\nkernel = Image\n\nharts = 1-2\n");
	finish_ok(cfg, false);
	expect_finish_error("[vm a]\nkernel = Image\n\nharts = 1-2\n", true,
			    "vms.conf:4: VM 'a' is pinned to hart 2, but the machine has 2 harts "
			    "(0..1)");
	expect_finish_error("[machine]\nharts = 64\n[vm a]\nkernel = Image\nharts = 0-63\n"
			    "vcpus = harts\n",
			    true,
			    "vms.conf:6: vcpus = harts means 64 vCPUs for VM 'a'; at most 16");
	expect_finish_error("[machine]\nharts=1\n[vm a]\nkernel = Image\nharts = 0,63\n", true,
			    "vms.conf:5: VM 'a' is pinned to hart 63, but the machine has 1 hart "
			    "(0..0)");
}

static void test_memory_on_machine(void **state)
{
	struct vm_config *cfg = *state;

	/* Vireo takes 16M, 2M per VM and the boot bundle (here 2M: no kernel file). */
	parse_ok(cfg, "[machine]\nmemory = 534M\n[vm a]\nkernel = Image\nmemory = 256M\n"
		      "[vm b]\nkernel = Image\nmemory = 256M\n");
	finish_ok(cfg, true);
	expect_finish_error(
	    "[machine]\nmemory = 533M\n[vm a]\nkernel = Image\nmemory = 256M\n"
	    "[vm b]\nkernel = Image\nmemory = 256M\n",
	    true,
	    "the VMs need 512M of memory and Vireo 22M more (firmware, hypervisor, "
	    "boot bundle), more than the machine's 533M ([machine] memory or --mem)");
	expect_finish_error(
	    "[vm a]\nkernel = Image\nmemory = 1G\n[vm b]\nkernel = Image\n", true,
	    "the VMs need 1088M of memory and Vireo 22M more (firmware, hypervisor, "
	    "boot bundle), more than the machine's 1G ([machine] memory or --mem)");
}

static void test_disk_hosts(void **state)
{
	(void)state;
	expect_finish_error(
	    "[vm a]\nkernel = Image\ndisk = 0\n", false,
	    "vms.conf:3: VM 'a' uses host disk 0, but no host disk is given ([machine] "
	    "disk = FILE or --disk FILE)");
	expect_finish_error(
	    "[machine]\ndisk = disk0.img\n[vm a]\nkernel = Image\ndisk = 1:0+8\n", false,
	    "vms.conf:5: VM 'a' uses host disk 1, but only 1 host disk is given (0..0)");
	expect_finish_error(
	    "[machine]\ndisk = disk0.img\ndisk = disk1.img\n[vm a]\nkernel = Image\n"
	    "disk = 2\n",
	    false,
	    "vms.conf:6: VM 'a' uses host disk 2, but only 2 host disks are given "
	    "(0..1)");
	expect_finish_error(
	    "[machine]\ndisk = disk0.img\ndisk = disk1.img\n[vm a]\nkernel = Image\n"
	    "disk = 1:100+29\n",
	    false,
	    "vms.conf:6: disk of VM 'a' ends at sector 128, past the end of host disk 1 "
	    "('disk1.img', 128 sectors)");
}

static const char disk_machine[] = "[machine]\ndisk = disk0.img\ndisk = disk1.img\n";

/* Two VMs' disks: a on line 6, b on line 9. */
static char *two_disks(const char *a, const char *b)
{
	char *text;

	assert_true(asprintf(&text,
			     "%s[vm a]\nkernel = Image\ndisk = %s\n[vm b]\nkernel = Image\n"
			     "disk = %s\n",
			     disk_machine, a, b) > 0);
	return text;
}

static void test_disk_overlaps(void **state)
{
	static const struct {
		const char *a, *b;
	} apart[] = {
	    {"0:0+100", "0:100+100"}, {"0:100+100", "0:0+100"}, {"0:0+2048", "1"},
	    {"0", "1:0+1"},	      {"1:127+1", "1:0+127"},
	};
	static const struct {
		const char *a, *b, *msg;
	} overlap[] = {
	    {"0:0+101", "0:100+100",
	     "vms.conf:9: disk of VM 'b' (sectors 100..199 of host disk 0) overlaps the disk of "
	     "VM 'a' (sectors 0..100 of host disk 0)"},
	    {"0:150+10", "0:100+100",
	     "vms.conf:9: disk of VM 'b' (sectors 100..199 of host disk 0) overlaps the disk of "
	     "VM 'a' (sectors 150..159 of host disk 0)"},
	    {"1", "1:5+1,ro",
	     "vms.conf:9: disk of VM 'b' (sectors 5..5 of host disk 1) overlaps the disk of VM "
	     "'a' (all of host disk 1)"},
	    {"0:2047+1,ro", "0,ro",
	     "vms.conf:9: disk of VM 'b' (all of host disk 0) overlaps the disk of VM 'a' "
	     "(sectors 2047..2047 of host disk 0)"},
	    {"1", "1",
	     "vms.conf:9: disk of VM 'b' (all of host disk 1) overlaps the disk of VM 'a' (all "
	     "of host disk 1)"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(apart) / sizeof(apart[0]); i++) {
		struct vm_config cfg;
		char *text = two_disks(apart[i].a, apart[i].b);

		vm_config_init(&cfg);
		parse_ok(&cfg, text);
		finish_ok(&cfg, true);
		vm_config_free(&cfg);
		free(text);
	}
	for (size_t i = 0; i < sizeof(overlap) / sizeof(overlap[0]); i++) {
		char *text = two_disks(overlap[i].a, overlap[i].b);
		expect_finish_error(text, true, overlap[i].msg);
		free(text);
	}
}

/* ------------------------------------------------------------------ --vm specs */

static void test_specs(void **state)
{
	struct vm_config *cfg = *state;
	const struct vm_config_vm *a = &cfg->vms[0], *b = &cfg->vms[1];
	const char *const disks[] = {"disk0.img"};
	struct vm_config_overrides o = {.disks = disks, .ndisks = 1};

	assert_int_equal(vm_config_parse_spec(cfg,
					      "name=a, kernel=Image,initrd=initrd.cpio,memory=8M,"
					      "vcpus=2,harts=0,2,testdev,disk=0:8+8,ro,console=off,"
					      "bootargs=x=1,y, z",
					      1),
			 0);
	assert_string_equal(a->name, "a");
	assert_string_equal(a->initrd, "initrd.cpio");
	assert_int_equal(a->memory, 8 * MIB);
	assert_int_equal(a->vcpus, 2);
	assert_int_equal(a->hart_mask, 0x5);
	assert_true(a->testdev);
	assert_false(a->console);
	assert_true(a->disk.readonly);
	assert_int_equal(a->disk.first_sector, 8);
	assert_int_equal(a->disk.sectors, 8);
	assert_string_equal(a->bootargs, "x=1,y, z");
	assert_string_equal(a->loc.source, "--vm #1");
	assert_int_equal(a->loc.line, 0);

	/* The Python tool's forms: testdev=1, harts 0+2, bootargs with '=' and ','. */
	assert_int_equal(vm_config_parse_spec(cfg,
					      "name=b,kernel=Image,testdev=1,harts=1+3,"
					      "vcpus=harts,disk=0:0+8",
					      2),
			 0);
	assert_true(b->testdev);
	assert_int_equal(b->hart_mask, 0xa);
	assert_int_equal(vm_config_apply_overrides(cfg, &o), 0);
	finish_ok(cfg, false);
	assert_int_equal(b->vcpus, 2);

	/* A third VM overlapping b's disk: the message names the spec. */
	assert_int_equal(vm_config_parse_spec(cfg, "name=c,kernel=Image,disk=0:15+1", 3), 0);
	assert_int_equal(vm_config_finish(cfg, false), -1);
	assert_string_equal(
	    vm_config_error(cfg),
	    "--vm #3: disk of VM 'c' (sectors 15..15 of host disk 0) overlaps the disk "
	    "of VM 'a' (sectors 8..15 of host disk 0)");
}

/* rtc = utc | localtime | off, rtc_offset = signed seconds; in files and in specs. */
static void test_rtc(void **state)
{
	struct vm_config *cfg = *state;

	parse_ok(cfg, "[vm a]\nkernel = Image\nrtc = off\n"
		      "[vm b]\nkernel = Image\nRTC = LocalTime\nrtc_offset = +86400\n"
		      "[vm c]\nkernel = Image\nrtc = utc\nrtc_offset = -3600\n"
		      "[vm d]\nkernel = Image\nrtc_offset = -9000000000\n");
	assert_int_equal(vm_config_parse_spec(cfg, "name=e,kernel=Image,rtc_offset=-0,rtc=off", 1),
			 0);
	finish_ok(cfg, true);
	assert_int_equal(cfg->vms[0].rtc, VM_CONFIG_RTC_OFF);
	assert_int_equal(cfg->vms[1].rtc, VM_CONFIG_RTC_LOCALTIME);
	assert_int_equal(cfg->vms[1].rtc_offset, 86400);
	assert_int_equal(cfg->vms[2].rtc, VM_CONFIG_RTC_UTC);
	assert_int_equal(cfg->vms[2].rtc_offset, -3600);
	assert_int_equal(cfg->vms[3].rtc_offset, -9000000000LL);
	assert_int_equal(cfg->vms[4].rtc, VM_CONFIG_RTC_OFF);
	assert_int_equal(cfg->vms[4].rtc_offset, 0);

	expect_parse_error("[vm a]\nrtc = local\n",
			   "vms.conf:2: rtc 'local' must be utc, localtime or off");
	static const char *const bad_offsets[] = {
	    "1.5", "", "-", "+-1", "1h", "9000000001", "-99999999999999999999"};
	for (unsigned i = 0; i < sizeof(bad_offsets) / sizeof(bad_offsets[0]); i++) {
		char text[128], msg[192];
		snprintf(text, sizeof(text), "[vm a]\nrtc_offset = %s\n", bad_offsets[i]);
		snprintf(msg, sizeof(msg),
			 "vms.conf:2: rtc_offset '%s' must be whole seconds, e.g. -3600 (at most "
			 "9000000000 either way)",
			 bad_offsets[i]);
		expect_parse_error(text, msg);
	}
	expect_finish_error(
	    "[vm a]\nkernel = Image\nrtc = off\n\nrtc_offset = 60\n", false,
	    "vms.conf:5: VM 'a' has an rtc_offset but rtc = off (no clock to offset)");
}

static void test_spec_errors(void **state)
{
	struct vm_config *cfg = *state;

	expect_spec_error(
	    "name=x,kernel=Image,cpus=2",
	    "--vm #2: unknown key 'cpus' (known: name, kernel, initrd, memory, vcpus, "
	    "harts, bootargs, disk, console, testdev, wait, rtc, rtc_offset, net, mac, irqchip, "
	    "sandbox)");
	expect_spec_error(
	    "name=x,kernel=Image,bogus",
	    "--vm #2: unknown key 'bogus' (known: name, kernel, initrd, memory, vcpus, "
	    "harts, bootargs, disk, console, testdev, wait, rtc, rtc_offset, net, mac, irqchip, "
	    "sandbox)");
	expect_spec_error("kernel=Image", "--vm #2: VM has no name (name=NAME)");
	expect_spec_error("name=x,name=y,kernel=Image", "--vm #2: duplicate key 'name'");
	expect_spec_error("name=x,memory=8M", "--vm #2: VM 'x' has no kernel");
	expect_spec_error("name=x,kernel=Image,memory=3M",
			  "--vm #2: memory '3M' must be a multiple of 2M and at least 4M");
	expect_spec_error("name=x,kernel=Image,memory=8M,memory=8M",
			  "--vm #2: duplicate key 'memory'");
	expect_spec_error("name=x,kernel=nope",
			  "--vm #2: kernel 'nope' not found: No such file or directory");
	expect_spec_error("name=x,kernel=Image,vcpus=99",
			  "--vm #2: vcpus '99' must be 1..16, or 'harts'");
	expect_spec_error("name=x y,kernel=Image",
			  "--vm #2: VM name 'x y' must be 1-31 letters, digits, '-', '_' or '.'");
	expect_spec_error("name=x,kernel=Image,harts=0,99",
			  "--vm #2: harts '0,99' must be hart numbers 0..63, like 0, 1-3 or 0,2");

	/* A spec may not reuse a name from a config file. */
	parse_ok(cfg, "\n[vm a]\nkernel = Image\n");
	assert_int_equal(vm_config_parse_spec(cfg, "name=a,kernel=Image", 1), -1);
	assert_string_equal(vm_config_error(cfg),
			    "--vm #1: VM 'a' is defined twice (first at vms.conf:2)");
}

/* irqchip: auto (the default), plic or aia. */
static void test_irqchip_key(void **state)
{
	struct vm_config *cfg = *state;

	parse_ok(cfg, "[vm a]\nkernel = Image\n[vm b]\nkernel = Image\nirqchip = plic\n"
		      "[vm c]\nkernel = Image\nirqchip = aia\n");
	assert_int_equal(cfg->vms[0].irqchip, VM_CONFIG_IRQCHIP_AUTO);
	assert_int_equal(cfg->vms[1].irqchip, VM_CONFIG_IRQCHIP_PLIC);
	assert_int_equal(cfg->vms[2].irqchip, VM_CONFIG_IRQCHIP_AIA);
	assert_int_equal(vm_config_parse_spec(cfg, "name=d,kernel=Image,irqchip=apic", 1), -1);
	assert_string_equal(vm_config_error(cfg),
			    "--vm #1: irqchip 'apic' must be auto, plic or aia");
}

/* [machine] machine: QEMU's virt machine with its options (an AIA one, say). */
static void test_machine_key(void **state)
{
	struct vm_config *cfg = *state;

	parse_ok(cfg, "[machine]\nmachine = virt,aia=aplic\n[vm a]\nkernel = Image\n");
	assert_string_equal(cfg->machine.machine, "virt,aia=aplic");
}

static void test_overrides(void **state)
{
	struct vm_config *cfg = *state;
	const char *const disks[] = {"disk1.img"};
	const char *const bad_disks[] = {"nope.img"};
	struct vm_config_overrides o = {.harts = "8",
					.memory = "3G",
					.cpu = "rv64,h=true,sstc=false",
					.disks = disks,
					.ndisks = 1};

	parse_ok(cfg, "[machine]\nharts = 2\nmemory = 1G\ncpu = rv64\ndisk = disk0.img\n"
		      "[vm a]\nkernel = Image\n");
	assert_int_equal(vm_config_apply_overrides(cfg, &o), 0);
	assert_int_equal(cfg->machine.harts, 8);
	assert_int_equal(cfg->machine.memory, 3 * GIB);
	assert_string_equal(cfg->machine.cpu, "rv64,h=true,sstc=false");
	/* --disk replaces the config's disks rather than adding to them. */
	assert_int_equal(cfg->machine.ndisks, 1);
	assert_string_equal(cfg->machine.disks[0].path, "disk1.img");

	/* The QEMU machine: virt with its options, nothing else. */
	o = (struct vm_config_overrides){.machine = "virt,aia=aplic-imsic,aia-guests=2"};
	assert_int_equal(vm_config_apply_overrides(cfg, &o), 0);
	assert_string_equal(cfg->machine.machine, "virt,aia=aplic-imsic,aia-guests=2");
	o = (struct vm_config_overrides){.machine = "virtual"};
	assert_int_equal(vm_config_apply_overrides(cfg, &o), -1);
	assert_string_equal(vm_config_error(cfg), "--machine: machine 'virtual' is not QEMU's virt "
						  "machine (e.g. virt,aia=aplic-imsic)");

	o = (struct vm_config_overrides){.harts = "0"};
	assert_int_equal(vm_config_apply_overrides(cfg, &o), -1);
	assert_string_equal(vm_config_error(cfg), "--smp: harts '0' must be 1..64");
	o = (struct vm_config_overrides){.memory = "1.5G"};
	assert_int_equal(vm_config_apply_overrides(cfg, &o), -1);
	assert_string_equal(
	    vm_config_error(cfg),
	    "--mem: memory '1.5G' must be a whole number of megabytes (e.g. 1G, 512M)");
	o = (struct vm_config_overrides){.disks = bad_disks, .ndisks = 1};
	assert_int_equal(vm_config_apply_overrides(cfg, &o), -1);
	assert_string_equal(vm_config_error(cfg),
			    "--disk: disk 'nope.img' not found: No such file or directory");
}

/* Networks: names, MACs given or derived (unique), addresses by position. */
static void test_networks(void **state)
{
	struct vm_config *cfg = *state;
	uint8_t mac[6];

	parse_ok(cfg, "[vm a]\nkernel = Image\nnet = default\n"
		      "[vm b]\nkernel = Image\n"
		      "[vm c]\nkernel = Image\nnet = lab-1\nmac = 02:00:00:AB:cd:EF\n"
		      "[vm d]\nkernel = Image\nnet = none\n");
	finish_ok(cfg, true);
	assert_true(cfg->vms[0].net.present);
	assert_string_equal(cfg->vms[0].net.name, "default");
	vm_config_derive_mac("a", 0, mac);
	assert_memory_equal(cfg->vms[0].net.mac, mac, 6);
	assert_int_equal(mac[0], 0x52);
	assert_int_equal(cfg->vms[0].net.ipv4, (10u << 24) | (2u << 8) | 15);
	assert_false(cfg->vms[1].net.present);
	assert_string_equal(cfg->vms[2].net.name, "lab-1");
	assert_memory_equal(cfg->vms[2].net.mac, ((uint8_t[]){2, 0, 0, 0xab, 0xcd, 0xef}), 6);
	/* The address follows the VM's position, networked or not. */
	assert_int_equal(cfg->vms[2].net.ipv4, (10u << 24) | (2u << 8) | 17);
	assert_false(cfg->vms[3].net.present);
	assert_true(vm_config_wants_uplink(cfg));
	assert_ptr_equal(vm_config_find(cfg, "c"), &cfg->vms[2]);
	assert_null(vm_config_find(cfg, "e"));

	assert_int_equal(vm_config_parse_mac("52-54-00-12-34-56", mac), 0);
	assert_int_equal(mac[5], 0x56);
	assert_int_equal(vm_config_parse_mac("01:00:5e:00:00:01", mac), -1); /* multicast */
	assert_int_equal(vm_config_parse_mac("00:00:00:00:00:00", mac), -1);
	assert_int_equal(vm_config_parse_mac("52:54:00:12:34", mac), -1);
	assert_int_equal(vm_config_parse_mac("52:54:00:12:34:567", mac), -1);
	assert_int_equal(vm_config_parse_mac("52:54:00:12:34:5g", mac), -1);

	expect_parse_error("[vm a]\nkernel = Image\nnet = a b\n",
			   "vms.conf:3: net 'a b' must be a network's name (1-15 letters, digits, "
			   "'-', '_' or '.'; 'default' has the uplink), or 'none'");
	expect_parse_error(
	    "[vm a]\nkernel = Image\nnet = 0123456789abcdef\n",
	    "vms.conf:3: net '0123456789abcdef' must be a network's name (1-15 "
	    "letters, digits, '-', '_' or '.'; 'default' has the uplink), or 'none'");
	expect_parse_error("[vm a]\nkernel = Image\nmac = ff:ff:ff:ff:ff:ff\n",
			   "vms.conf:3: mac 'ff:ff:ff:ff:ff:ff' is not a unicast MAC address like "
			   "52:54:00:12:34:56");
	expect_finish_error("[vm a]\nkernel = Image\nmac = 02:00:00:00:00:01\n", false,
			    "vms.conf:3: VM 'a' has a mac but no network (net = default, or "
			    "another name)");
	expect_finish_error("[vm a]\nkernel = Image\nnet = n1\n[vm b]\nkernel = Image\nnet = n2\n"
			    "[vm c]\nkernel = Image\nnet = n3\n[vm d]\nkernel = Image\nnet = n4\n"
			    "[vm e]\nkernel = Image\nnet = n5\n[vm f]\nkernel = Image\nnet = n6\n"
			    "[vm g]\nkernel = Image\nnet = n7\n[vm h]\nkernel = Image\nnet = n8\n"
			    "[vm i]\nkernel = Image\nnet = n1\n[vm j]\nkernel = Image\nnet = n9\n",
			    false, "vms.conf:30: network 'n9' is one too many: at most 8 networks");
	expect_finish_error("[vm a]\nkernel = Image\nnet = x\nmac = 02:00:00:00:00:01\n"
			    "[vm b]\nkernel = Image\nnet = y\nmac = 02:00:00:00:00:01\n",
			    false, "vms.conf:8: VM 'b' has the MAC of VM 'a' (at vms.conf:4)");
}

/* A derived MAC that another VM was given explicitly is derived again, differently. */
static void test_derived_mac_collision(void **state)
{
	struct vm_config *cfg = *state;
	uint8_t taken[6];
	char text[256];

	vm_config_derive_mac("b", 0, taken);
	snprintf(text, sizeof(text),
		 "[vm a]\nkernel = Image\nnet = default\nmac = %02x:%02x:%02x:%02x:%02x:%02x\n"
		 "[vm b]\nkernel = Image\nnet = default\n",
		 taken[0], taken[1], taken[2], taken[3], taken[4], taken[5]);
	parse_ok(cfg, text);
	finish_ok(cfg, false);
	assert_memory_not_equal(cfg->vms[1].net.mac, taken, 6);
	vm_config_derive_mac("b", 1, taken);
	assert_memory_equal(cfg->vms[1].net.mac, taken, 6);
	/* In a spec too, and "net" alone makes no uplink unless it is the default one. */
	vm_config_free(cfg);
	vm_config_init(cfg);
	assert_int_equal(vm_config_parse_spec(cfg, "name=x,kernel=Image,net=lab", 1), 0);
	finish_ok(cfg, false);
	assert_false(vm_config_wants_uplink(cfg));
}

/* A sandbox has one vCPU and no devices: what would give it one is refused. */
static void test_sandbox_key(void **state)
{
	struct vm_config *cfg = *state;

	parse_ok(cfg, "[vm s]\nkernel = Image\nsandbox = yes\n");
	finish_ok(cfg, false);
	assert_true(cfg->vms[0].sandbox);
	expect_finish_error("[vm s]\nkernel = Image\nsandbox = yes\nvcpus = 2\n", false,
			    "vms.conf:1: VM 's' is a sandbox: it has one vCPU (2 given)");
	expect_finish_error("[vm s]\nkernel = Image\nsandbox = yes\nnet = default\n", false,
			    "vms.conf:4: VM 's' is a sandbox: it has no network card");
	expect_parse_error("[vm s]\nkernel = Image\nsandbox = maybe\n",
			   "vms.conf:3: sandbox 'maybe' must be yes or no");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_defaults),
	    T(test_every_key),
	    T(test_machine_key),
	    T(test_irqchip_key),
	    T(test_sandbox_key),
	    T(test_long_lines),
	    T(test_paths),
	    T(test_several_files),
	    T(test_sizes),
	    T(test_vm_memory),
	    T(test_hart_masks),
	    T(test_disk_syntax),
	    T(test_key_errors),
	    T(test_file_errors),
	    T(test_section_errors),
	    T(test_too_many_vms),
	    T(test_no_vm),
	    T(test_vcpus_follow_harts),
	    T(test_harts_on_machine),
	    T(test_memory_on_machine),
	    T(test_disk_hosts),
	    T(test_disk_overlaps),
	    T(test_specs),
	    T(test_spec_errors),
	    T(test_overrides),
	    T(test_rtc),
	    T(test_networks),
	    T(test_derived_mac_collision),
	};
#undef T

	return cmocka_run_group_tests_name("vm_config", tests, NULL, NULL);
}
