// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the boot bundle parser (hv/core/bundle.c).
 *
 * Most bundles are made here in memory, one defect each. One is written by
 * the host packer, build/vireo (tools/vireo.c), at build time (see bundle.mk): parsing it
 * checks that the packer and the parser agree on the layout, field by field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/bundle.h>

#ifndef SAMPLE_BUNDLE
#error "SAMPLE_BUNDLE must name the bundle that build/vireo packs (see bundle.mk)"
#endif
#ifndef SAMPLE_DIR
#error "SAMPLE_DIR must name the directory of the files packed into SAMPLE_BUNDLE"
#endif

#define BUF_SIZE   0x8000
#define TOTAL	   0x6000
#define K0_OFF	   0x1000
#define K0_SIZE	   0x1234
#define I0_OFF	   0x3000
#define I0_SIZE	   0x800
#define K1_OFF	   0x4000
#define K1_SIZE	   0x2000 /* ends exactly at TOTAL */
#define WHY_SIZE   160
#define WHY_CANARY 'Z'

struct fixture {
	uint8_t *buf;
	char why[WHY_SIZE + 16];
	struct bundle b;
};

static struct bundle_header *hdr(struct fixture *f)
{
	return (struct bundle_header *)f->buf;
}

static struct bundle_vm *vm(struct fixture *f, unsigned i)
{
	return (struct bundle_vm *)(f->buf + sizeof(struct bundle_header)) + i;
}

/* Two VMs: alpha with a kernel and an initrd, beta at the limits (16 vCPUs, 4 MiB). */
static void make_good(struct fixture *f)
{
	struct bundle_header *h = hdr(f);
	struct bundle_vm *a = vm(f, 0), *b = vm(f, 1);

	memset(f->buf, 0, BUF_SIZE);
	for (size_t i = 1392; i < BUF_SIZE; i++)
		f->buf[i] = (uint8_t)(i * 31 + 7);
	memcpy(h->magic, "VIREOBN1", 8);
	h->version = 1;
	h->vm_count = 2;
	h->total_size = TOTAL;
	h->vm_entry_size = 664;
	h->flags = 0;

	strcpy(a->name, "alpha");
	a->ram_size = 64 * MIB;
	a->vcpus = 1;
	a->flags = BUNDLE_VM_TESTDEV;
	a->hart_affinity = 0x5;
	a->kernel_offset = K0_OFF;
	a->kernel_size = K0_SIZE;
	a->initrd_offset = I0_OFF;
	a->initrd_size = I0_SIZE;
	strcpy(a->bootargs, "console=ttyS0 earlycon");

	strcpy(b->name, "beta");
	b->ram_size = 4 * MIB;
	b->vcpus = 16;
	b->kernel_offset = K1_OFF;
	b->kernel_size = K1_SIZE;
	b->initrd_offset = 0xdeadbeef; /* ignored: no initrd */
	b->initrd_size = 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->buf = aligned_alloc(64, BUF_SIZE);
	if (!f->buf) {
		free(f);
		return -1;
	}
	make_good(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->buf);
	free(f);
	return 0;
}

static int parse(struct fixture *f, uint64_t size)
{
	memset(f->why, WHY_CANARY, sizeof(f->why));
	memset(&f->b, 0, sizeof(f->b));
	return bundle_parse(f->buf, size, &f->b, f->why, WHY_SIZE);
}

/* Refused with -VIREO_EINVAL, and the message (terminated, in bounds) names the problem. */
static void expect_refusal(struct fixture *f, uint64_t size, const char *substring)
{
	assert_int_equal(parse(f, size), -VIREO_EINVAL);
	assert_non_null(memchr(f->why, '\0', WHY_SIZE));
	for (size_t i = WHY_SIZE; i < sizeof(f->why); i++)
		assert_int_equal(f->why[i], WHY_CANARY);
	if (!strstr(f->why, substring))
		fail_msg("message '%s' does not contain '%s'", f->why, substring);
	make_good(f); /* for the next case */
}

static void test_good(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, TOTAL), 0);
	assert_ptr_equal(f->b.base, f->buf);
	assert_int_equal(f->b.size, TOTAL);
	assert_ptr_equal(f->b.header, f->buf);
	assert_ptr_equal(f->b.vms, f->buf + 64);
	assert_int_equal(f->b.header->vm_count, 2);
	assert_string_equal(f->b.vms[0].name, "alpha");
	assert_string_equal(f->b.vms[1].name, "beta");
	assert_int_equal(f->b.vms[1].kernel_offset, K1_OFF);
	/* Nothing written to why on success. */
	assert_int_equal(f->why[0], WHY_CANARY);

	/* A larger buffer than the bundle: the bundle's own size counts. */
	assert_int_equal(parse(f, BUF_SIZE), 0);
	assert_int_equal(f->b.size, TOTAL);
}

/* Values just inside every limit. */
static void test_good_limits(void **state)
{
	struct fixture *f = *state;

	memset(vm(f, 0)->name, 'n', BUNDLE_NAME_MAX - 1);
	vm(f, 0)->name[BUNDLE_NAME_MAX - 1] = '\0';
	memset(vm(f, 0)->bootargs, 'b', BUNDLE_ARGS_MAX - 1);
	vm(f, 0)->bootargs[BUNDLE_ARGS_MAX - 1] = '\0';
	vm(f, 0)->ram_size = 6 * MIB;
	vm(f, 0)->initrd_offset = TOTAL - 1;
	vm(f, 0)->initrd_size = 1;
	vm(f, 1)->kernel_offset = 0;
	vm(f, 1)->kernel_size = TOTAL; /* the whole bundle is (formally) fine */
	vm(f, 0)->rtc_offset = BUNDLE_RTC_OFFSET_MAX;
	vm(f, 1)->rtc_offset = -BUNDLE_RTC_OFFSET_MAX;
	assert_int_equal(parse(f, TOTAL), 0);

	/* 16 VMs, the table filling the bundle up to its last byte. */
	make_good(f);
	hdr(f)->vm_count = BUNDLE_MAX_VMS;
	hdr(f)->total_size = 64 + 16 * 664;
	for (unsigned i = 0; i < BUNDLE_MAX_VMS; i++) {
		struct bundle_vm *v = vm(f, i);

		memset(v, 0, sizeof(*v));
		snprintf(v->name, sizeof(v->name), "vm%u", i);
		v->ram_size = 4 * MIB + 2 * MIB * i;
		v->vcpus = 1 + i;
		v->kernel_offset = 64;
		v->kernel_size = 664;
	}
	assert_int_equal(parse(f, 64 + 16 * 664), 0);
	assert_string_equal(f->b.vms[15].name, "vm15");
	assert_int_equal(f->b.vms[15].vcpus, 16);
}

static void test_header_refusals(void **state)
{
	struct fixture *f = *state;

	hdr(f)->magic[7] = '2';
	expect_refusal(f, TOTAL, "bad magic");
	memset(hdr(f)->magic, 0, 8);
	expect_refusal(f, TOTAL, "bad magic");
	expect_refusal(f, 63, "bad magic"); /* shorter than the header */
	expect_refusal(f, 0, "bad magic");

	hdr(f)->version = 2;
	expect_refusal(f, TOTAL, "version 2");
	hdr(f)->version = 0;
	expect_refusal(f, TOTAL, "version 0");

	expect_refusal(f, TOTAL - 1, "truncated");
	hdr(f)->total_size = ~0ULL;
	expect_refusal(f, TOTAL, "truncated");

	hdr(f)->vm_entry_size = 600;
	expect_refusal(f, TOTAL, "600 bytes");
	hdr(f)->vm_entry_size = 665;
	expect_refusal(f, TOTAL, "665 bytes");

	hdr(f)->vm_count = 0;
	expect_refusal(f, TOTAL, "0 VMs");
	hdr(f)->vm_count = 17;
	expect_refusal(f, TOTAL, "17 VMs");
	hdr(f)->vm_count = 0xffffffff;
	expect_refusal(f, TOTAL, "4294967295 VMs");

	/* The VM table reaches past the bundle's end. */
	hdr(f)->total_size = 64 + 2 * 664 - 1;
	expect_refusal(f, TOTAL, "VM table");
	hdr(f)->total_size = 32;
	expect_refusal(f, TOTAL, "VM table");
	hdr(f)->vm_count = 16;
	hdr(f)->total_size = 64 + 16 * 664 - 1;
	expect_refusal(f, TOTAL, "VM table");
}

static void test_name_refusals(void **state)
{
	struct fixture *f = *state;

	vm(f, 0)->name[0] = '\0';
	expect_refusal(f, TOTAL, "VM 0: name is empty");
	vm(f, 1)->name[0] = '\0';
	expect_refusal(f, TOTAL, "VM 1: name is empty");
	memset(vm(f, 1)->name, 'x', BUNDLE_NAME_MAX);
	expect_refusal(f, TOTAL, "VM 1: name is empty or not terminated");
	strcpy(vm(f, 1)->name, "alpha");
	expect_refusal(f, TOTAL, "'alpha' is used twice");
}

static void test_vm_refusals(void **state)
{
	struct fixture *f = *state;

	memset(vm(f, 1)->bootargs, 'a', BUNDLE_ARGS_MAX);
	expect_refusal(f, TOTAL, "'beta': bootargs not terminated");

	vm(f, 0)->vcpus = 0;
	expect_refusal(f, TOTAL, "'alpha': 0 vCPUs");
	vm(f, 1)->vcpus = 17;
	expect_refusal(f, TOTAL, "'beta': 17 vCPUs");

	vm(f, 0)->ram_size = 2 * MIB;
	expect_refusal(f, TOTAL, "RAM size 2097152");
	vm(f, 0)->ram_size = 0;
	expect_refusal(f, TOTAL, "RAM size 0");
	vm(f, 0)->ram_size = 5 * MIB;
	expect_refusal(f, TOTAL, "RAM size 5242880");
	vm(f, 1)->ram_size = 4 * MIB + 4096;
	expect_refusal(f, TOTAL, "'beta': RAM size");

	/* An RTC offset the hypervisor could not turn into ns without overflow. */
	vm(f, 0)->rtc_offset = BUNDLE_RTC_OFFSET_MAX + 1;
	expect_refusal(f, TOTAL, "'alpha': RTC offset 9000000001 s is beyond");
	vm(f, 1)->rtc_offset = INT64_MIN;
	expect_refusal(f, TOTAL, "'beta': RTC offset -9223372036854775808 s");
}

/* A network card needs a network's name and a unicast MAC. */
static void set_net(struct fixture *f, const char *name, const char *mac)
{
	vm(f, 0)->flags |= BUNDLE_VM_NET;
	if (name)
		strcpy(vm(f, 0)->net_name, name);
	else
		memset(vm(f, 0)->net_name, 'n', BUNDLE_NET_NAME_MAX);
	memcpy(vm(f, 0)->mac, mac, 6);
}

static void test_net_refusals(void **state)
{
	struct fixture *f = *state;

	set_net(f, "", "\x52\x54\x00\x12\x34\x56");
	expect_refusal(f, TOTAL, "'alpha': network name is empty or not terminated");
	set_net(f, NULL, "\x52\x54\x00\x12\x34\x56");
	expect_refusal(f, TOTAL, "'alpha': network name is empty or not terminated");
	set_net(f, "default", "\0\0\0\0\0\0");
	expect_refusal(f, TOTAL, "'alpha': MAC is not a unicast address");
	set_net(f, "default", "\x01\x00\x5e\x00\x00\x01");
	expect_refusal(f, TOTAL, "'alpha': MAC is not a unicast address");
	set_net(f, "default", "\x52\x54\x00\x12\x34\x56");
	/* Without the flag the fields are not looked at. */
	vm(f, 1)->mac[0] = 1;
	assert_int_equal(parse(f, TOTAL), 0);
}

static void test_image_refusals(void **state)
{
	struct fixture *f = *state;

	vm(f, 0)->kernel_size = 0;
	expect_refusal(f, TOTAL, "'alpha': kernel is empty or outside");
	vm(f, 1)->kernel_size = K1_SIZE + 1;
	expect_refusal(f, TOTAL, "'beta': kernel");
	vm(f, 1)->kernel_offset = TOTAL;
	vm(f, 1)->kernel_size = 1;
	expect_refusal(f, TOTAL, "'beta': kernel");
	vm(f, 0)->kernel_offset = 8;
	vm(f, 0)->kernel_size = UINT64_MAX; /* offset + size wraps to 7 */
	expect_refusal(f, TOTAL, "'alpha': kernel");
	vm(f, 0)->kernel_offset = UINT64_MAX;
	vm(f, 0)->kernel_size = 1;
	expect_refusal(f, TOTAL, "'alpha': kernel");
	/* Inside the buffer but past the bundle's total_size. */
	vm(f, 1)->kernel_offset = TOTAL;
	vm(f, 1)->kernel_size = 0x100;
	expect_refusal(f, BUF_SIZE, "'beta': kernel");

	vm(f, 0)->initrd_size = TOTAL;
	expect_refusal(f, TOTAL, "'alpha': initrd is outside");
	vm(f, 0)->initrd_offset = TOTAL - 0x100;
	vm(f, 0)->initrd_size = 0x101;
	expect_refusal(f, TOTAL, "initrd is outside");
	vm(f, 0)->initrd_offset = 8;
	vm(f, 0)->initrd_size = UINT64_MAX;
	expect_refusal(f, TOTAL, "initrd is outside");
	vm(f, 1)->initrd_offset = UINT64_MAX - 2;
	vm(f, 1)->initrd_size = 4;
	expect_refusal(f, TOTAL, "'beta': initrd is outside");
}

/* A small why buffer gets a truncated, terminated message; nothing past it is written. */
static void test_short_why(void **state)
{
	struct fixture *f = *state;
	char full[WHY_SIZE];

	hdr(f)->version = 7;
	assert_int_equal(bundle_parse(f->buf, TOTAL, &f->b, full, sizeof(full)), -VIREO_EINVAL);
	for (size_t n = 1; n < 16; n++) {
		memset(f->why, WHY_CANARY, sizeof(f->why));
		assert_int_equal(bundle_parse(f->buf, TOTAL, &f->b, f->why, n), -VIREO_EINVAL);
		assert_int_equal(strlen(f->why), n - 1);
		assert_memory_equal(f->why, full, n - 1);
		for (size_t i = n; i < sizeof(f->why); i++)
			assert_int_equal(f->why[i], WHY_CANARY);
	}
	memset(f->why, WHY_CANARY, sizeof(f->why));
	assert_int_equal(bundle_parse(f->buf, TOTAL, &f->b, f->why, 0), -VIREO_EINVAL);
	assert_int_equal(f->why[0], WHY_CANARY);
}

/* ---------------------------------------------------------------- the packer's bundle */

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *data;
	long len;

	if (!fp)
		fail_msg("cannot open %s (built by tests/unit/bundle.mk)", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len > 0);
	rewind(fp);
	/* Aligned as the hypervisor sees the bundle (QEMU puts the initrd on a page). */
	data = aligned_alloc(4096, ((size_t)len + 4095) & ~(size_t)4095);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*size = (size_t)len;
	return data;
}

static uint64_t align4k(uint64_t x)
{
	return (x + 4095) & ~4095ULL;
}

static void check_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(b[i], 0);
}

/*
 * build/vireo pack -o bundle-sample.bin
 *   --vm name=a,kernel=kernel-a.bin,initrd=initrd-a.bin,memory=8M,vcpus=2,harts=1-2,
 *        testdev=1,bootargs=x=1,y
 *   --vm name=second.vm-2,kernel=kernel-b.bin,memory=4M,vcpus=16
 */
static void test_packer_sample(void **state)
{
	size_t size, ka_size, ia_size, kb_size;
	uint8_t *data = read_file(SAMPLE_BUNDLE, &size);
	uint8_t *ka = read_file(SAMPLE_DIR "/kernel-a.bin", &ka_size);
	uint8_t *ia = read_file(SAMPLE_DIR "/initrd-a.bin", &ia_size);
	uint8_t *kb = read_file(SAMPLE_DIR "/kernel-b.bin", &kb_size);
	char why[128] = "";
	struct bundle b;
	const struct bundle_vm *a, *s;
	uint64_t off;

	(void)state;
	if (bundle_parse(data, size, &b, why, sizeof(why)) != 0)
		fail_msg("the packer's bundle is refused: %s", why);

	assert_memory_equal(b.header->magic, "VIREOBN1", 8);
	assert_int_equal(b.header->version, BUNDLE_VERSION);
	assert_int_equal(b.header->vm_count, 2);
	assert_int_equal(b.header->total_size, size);
	assert_int_equal(b.size, size);
	assert_int_equal(b.header->vm_entry_size, sizeof(struct bundle_vm));
	assert_int_equal(b.header->flags, 0);
	check_zero(b.header->reserved, sizeof(b.header->reserved));

	a = &b.vms[0];
	assert_string_equal(a->name, "a");
	check_zero(a->name + 2, BUNDLE_NAME_MAX - 2);
	assert_int_equal(a->ram_size, 8 * MIB);
	assert_int_equal(a->vcpus, 2);
	assert_int_equal(a->flags, BUNDLE_VM_TESTDEV);
	assert_int_equal(a->hart_affinity, 0x6);
	assert_string_equal(a->bootargs, "x=1,y");
	check_zero(a->bootargs + 6, BUNDLE_ARGS_MAX - 6);
	check_zero(a->reserved, sizeof(a->reserved));

	s = &b.vms[1];
	assert_string_equal(s->name, "second.vm-2");
	assert_int_equal(s->ram_size, 4 * MIB);
	assert_int_equal(s->vcpus, 16);
	assert_int_equal(s->flags, 0);
	assert_int_equal(s->hart_affinity, 0);
	assert_string_equal(s->bootargs, "");
	assert_int_equal(s->initrd_offset, 0);
	assert_int_equal(s->initrd_size, 0);
	check_zero(s->reserved, sizeof(s->reserved));

	/* Images follow the VM table in order, each on a 4 KiB boundary, and nothing else. */
	off = align4k(64 + 2 * 664);
	assert_int_equal(a->kernel_offset, off);
	assert_int_equal(a->kernel_size, ka_size);
	off = align4k(off + ka_size);
	assert_int_equal(a->initrd_offset, off);
	assert_int_equal(a->initrd_size, ia_size);
	off = align4k(off + ia_size);
	assert_int_equal(s->kernel_offset, off);
	assert_int_equal(s->kernel_size, kb_size);
	assert_int_equal(b.header->total_size, off + kb_size);

	assert_memory_equal(b.base + a->kernel_offset, ka, ka_size);
	assert_memory_equal(b.base + a->initrd_offset, ia, ia_size);
	assert_memory_equal(b.base + s->kernel_offset, kb, kb_size);
	/* Padding is zero. */
	check_zero(b.base + 64 + 2 * 664, a->kernel_offset - 64 - 2 * 664);
	check_zero(b.base + a->kernel_offset + ka_size,
		   a->initrd_offset - a->kernel_offset - ka_size);
	check_zero(b.base + a->initrd_offset + ia_size,
		   s->kernel_offset - a->initrd_offset - ia_size);

	/* And one byte short of it is refused. */
	assert_int_equal(bundle_parse(data, size - 1, &b, why, sizeof(why)), -VIREO_EINVAL);
	assert_non_null(strstr(why, "truncated"));

	free(data);
	free(ka);
	free(ia);
	free(kb);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_good),	    T(test_good_limits), T(test_header_refusals),
	    T(test_name_refusals),  T(test_vm_refusals), T(test_net_refusals),
	    T(test_image_refusals), T(test_short_why),	 cmocka_unit_test(test_packer_sample),
	};
#undef T

	return cmocka_run_group_tests_name("bundle", tests, NULL, NULL);
}
