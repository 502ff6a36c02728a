// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of snapshot files (tools/libvireo/snapfile.c): a file written is
 * read back the same with its zero pages left out; a file cut anywhere, with a
 * byte flipped in its header, state or RAM, of another version, or with bytes
 * after its end is refused with the reason; a writer that gives up leaves no file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "hsha.h"
#include "snapfile.h"

#define GPA   0x80000000ULL
#define PAGES 16

static char dir[64];
static char path[128];

static const struct snap_vm vm_facts = {
    .vcpus = 2,
    .vm_flags = 8,
    .ram_gpa = GPA,
    .ram_bytes = 4ULL << 20,
    .disk_host = 0,
    .disk_first_sector = 2048,
    .disk_sectors = 4096,
    .rtc_offset = -5,
    .created = 1234,
    .name = "web-1",
};

static uint8_t ram[PAGES * SNAP_PAGE];
static const char state_bytes[] = "Vireo's opaque state, version whatever";
static const uint8_t hello[12] = {4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};

/* Pages 0, 1, 5 and 15 hold bytes; the others are zero. */
static void fill_ram(void)
{
	memset(ram, 0, sizeof(ram));
	for (unsigned p = 0; p < PAGES; p++)
		if (p == 0 || p == 1 || p == 5 || p == 15)
			for (unsigned i = 0; i < SNAP_PAGE; i += 64)
				ram[p * SNAP_PAGE + i] = (uint8_t)(p * 7 + i / 64 + 1);
}

static void write_file(void)
{
	struct snap_writer w;
	char why[256];

	fill_ram();
	assert_int_equal(snap_write_begin(&w, path, &vm_facts, why, sizeof(why)), 0);
	assert_int_equal(snap_write_section(&w, SNAP_SEC_STATE, state_bytes, sizeof(state_bytes),
					    why, sizeof(why)),
			 0);
	assert_int_equal(
	    snap_write_section(&w, SNAP_SEC_HELLO, hello, sizeof(hello), why, sizeof(why)), 0);
	assert_int_equal(snap_write_ram_begin(&w, why, sizeof(why)), 0);
	/* Two runs as VM_RAM would give them. */
	assert_int_equal(snap_write_ram(&w, GPA, ram, 8 * SNAP_PAGE, why, sizeof(why)), 0);
	assert_int_equal(snap_write_ram(&w, GPA + 8 * SNAP_PAGE, ram + 8 * SNAP_PAGE, 8 * SNAP_PAGE,
					why, sizeof(why)),
			 0);
	assert_int_equal(snap_write_ram_end(&w, why, sizeof(why)), 0);
	assert_int_equal(snap_write_finish(&w, why, sizeof(why)), 0);
}

static uint8_t *read_all(size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	uint8_t *p;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static int check_mem(const uint8_t *p, size_t len, struct snap_info *info, char *why, size_t n)
{
	struct snap_io io;
	struct snap_mem m;

	snap_io_mem(&io, &m, p, len);
	return snap_check(&io, info, why, n);
}

static uint8_t got[PAGES * SNAP_PAGE];

static int collect(void *ctx, uint64_t gpa, const uint8_t *data, size_t len)
{
	(void)ctx;
	assert_true(gpa >= GPA && gpa + len <= GPA + sizeof(got));
	memcpy(got + (gpa - GPA), data, len);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_snapfile.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.snap", dir);
	write_file();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void test_round_trip(void **state)
{
	struct snap_info info;
	struct snap_io io;
	char why[256];
	int fd = open(path, O_RDONLY);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(snap_io_fd(&io, fd), 0);
	assert_int_equal(snap_check(&io, &info, why, sizeof(why)), 0);
	assert_int_equal(info.vm.vcpus, 2);
	assert_int_equal(info.vm.ram_bytes, 4ULL << 20);
	assert_int_equal(info.vm.ram_gpa, GPA);
	assert_int_equal(info.vm.vm_flags, 8);
	assert_int_equal(info.vm.disk_first_sector, 2048);
	assert_int_equal(info.vm.disk_sectors, 4096);
	assert_int_equal(info.vm.rtc_offset, -5);
	assert_string_equal(info.vm.name, "web-1");
	assert_int_equal(info.state_len, sizeof(state_bytes));
	assert_int_equal(info.hello_len, sizeof(hello));
	/* Pages 0-1, 5 and 15: three runs, four pages. */
	assert_int_equal(info.ram_runs, 3);
	assert_int_equal(info.ram_data, 4 * SNAP_PAGE);
	memset(got, 0, sizeof(got));
	assert_int_equal(snap_ram_walk(&io, &info, collect, NULL, why, sizeof(why)), 0);
	assert_memory_equal(got, ram, sizeof(ram));
	close(fd);
}

static void expect_refused(const uint8_t *p, size_t len, const char *reason)
{
	struct snap_info info;
	char why[256];

	assert_true(check_mem(p, len, &info, why, sizeof(why)) < 0);
	if (!strstr(why, reason))
		fail_msg("wanted '%s' in '%s'", reason, why);
}

static void test_truncated(void **state)
{
	size_t len;
	uint8_t *p = read_all(&len);
	struct snap_info info;
	char why[256];

	(void)state;
	/* Cut anywhere: refused, never read past the end (ASan would see). */
	for (size_t cut = 0; cut < len; cut += cut < 400 ? 1 : 97) {
		uint8_t *q = malloc(cut ? cut : 1);

		memcpy(q, p, cut);
		assert_true(check_mem(q, cut, &info, why, sizeof(why)) < 0);
		assert_true(why[0] != '\0');
		free(q);
	}
	expect_refused(p, 100, "truncated: the header needs 160 bytes, the file has 100");
	expect_refused(p, len - 1, "truncated: RAM section says");
	free(p);
}

static void test_flipped_bytes(void **state)
{
	size_t len;
	uint8_t *p = read_all(&len);
	uint8_t *state_at = memmem(p, len, state_bytes, sizeof(state_bytes));

	(void)state;
	assert_non_null(state_at);
	p[40] ^= 1; /* the RAM size */
	expect_refused(p, len, "damaged: the header's checksum");
	p[40] ^= 1;
	state_at[3] ^= 0x20;
	expect_refused(p, len, "damaged: the state section's checksum");
	state_at[3] ^= 0x20;
	p[len - 10] ^= 0x80; /* page 15's bytes */
	expect_refused(p, len, "damaged: the RAM section's checksum");
	p[len - 10] ^= 0x80;
	p[0] = 'X';
	expect_refused(p, len, "not a Vireo snapshot");
	free(p);
}

static void test_version_and_trailer(void **state)
{
	size_t len;
	uint8_t *p = read_all(&len), *q = malloc(len + 3);
	struct snap_info info;
	char why[256];

	(void)state;
	p[8] = 2; /* a newer format: refused for what it is, not as damage */
	expect_refused(p, len, "format version 2: this vireo reads version 1 only");
	p[8] = 1;
	memcpy(q, p, len);
	memset(q + len, 0, 3);
	expect_refused(q, len + 3, "3 bytes after the last section");
	assert_int_equal(check_mem(p, len, &info, why, sizeof(why)), 0);
	free(q);
	free(p);
}

/* A header that is whole but says something impossible. */
static void test_bad_facts(void **state)
{
	size_t len;
	uint8_t *p = read_all(&len);
	struct snap_vm v = vm_facts;

	(void)state;
	v.vcpus = 0;
	snap_header_encode(p, &v, 3);
	expect_refused(p, len, "0 vCPUs");
	v = vm_facts;
	v.ram_bytes = 3ULL << 20;
	snap_header_encode(p, &v, 3);
	expect_refused(p, len, "bytes of RAM");
	v = vm_facts;
	snap_header_encode(p, &v, 9);
	expect_refused(p, len, "9 sections");
	snap_header_encode(p, &v, 2); /* one section is left over */
	expect_refused(p, len, "bytes after the last section");
	v.ram_bytes = 2ULL << 30; /* runs fit; header checksum fine */
	v.name[0] = '.';
	snap_header_encode(p, &v, 3);
	expect_refused(p, len, "name");
	free(p);
}

static void test_writer_refuses_and_cleans(void **state)
{
	struct snap_writer w;
	char why[256], other[160];
	struct dirent *e;
	DIR *d;
	unsigned files = 0;

	(void)state;
	snprintf(other, sizeof(other), "%s/other.snap", dir);
	fill_ram();
	assert_int_equal(snap_write_begin(&w, other, &vm_facts, why, sizeof(why)), 0);
	assert_int_equal(snap_write_ram_begin(&w, why, sizeof(why)), 0);
	assert_int_equal(snap_write_ram(&w, GPA + SNAP_PAGE, ram, SNAP_PAGE, why, sizeof(why)), 0);
	/* Out of order, not page-aligned, outside the RAM. */
	assert_true(snap_write_ram(&w, GPA, ram, SNAP_PAGE, why, sizeof(why)) < 0);
	assert_true(snap_write_ram(&w, GPA + 2 * SNAP_PAGE + 1, ram, SNAP_PAGE, why, sizeof(why)) <
		    0);
	assert_true(snap_write_ram(&w, GPA + (4ULL << 20), ram, SNAP_PAGE, why, sizeof(why)) < 0);
	snap_write_abort(&w);
	snap_write_abort(&w);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)))
		files += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1); /* vm.snap only: no temporary file, no other.snap */
	/* A file nobody may write is refused with its name. */
	assert_true(snap_write_begin(&w, "/proc/nope/x.snap", &vm_facts, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "/proc/nope/x.snap"));
}

/* The fast SHA-256 (when the CPU has it) and hv/lib/sha256.c agree, at every length
 * around the block boundaries and piece by piece. */
static void test_hash_paths_agree(void **state)
{
	static uint8_t data[3 * 4096 + 77];
	uint8_t a[32], b[32], c[32];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + (i >> 7));
	/* In pieces as in one go, at every length around a block. */
	for (size_t len = 0; len < sizeof(data); len += len < 200 ? 1 : 509) {
		struct hsha h;

		hsha(data, len, a);
		hsha_init(&h);
		for (size_t at = 0; at < len; at += 13)
			hsha_update(&h, data + at, len - at < 13 ? len - at : 13);
		hsha_final(&h, c);
		assert_memory_equal(a, c, 32);
	}
	/* The empty string (FIPS 180-4's examples, and the digest hv/lib/sha256.c gives). */
	hsha("", 0, b);
	assert_int_equal(b[0], 0xe3);
	assert_int_equal(b[31], 0x55);
	/* "abc" (FIPS 180-4's example). */
	hsha("abc", 3, a);
	assert_int_equal(a[0], 0xba);
	assert_int_equal(a[31], 0xad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_paths_agree),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_flipped_bytes),
	    cmocka_unit_test(test_version_and_trailer),
	    cmocka_unit_test(test_bad_facts),
	    cmocka_unit_test(test_writer_refuses_and_cleans),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
