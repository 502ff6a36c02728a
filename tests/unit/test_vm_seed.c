// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of hv/core/vm_seed.c: the host's seed is found, condensed and
 * wiped from the host DTB; every VM (and every boot of a VM) gets different
 * bytes, computed as documented; without a host seed the entropy source is
 * used, and without either no VM gets a seed. The seeds are then carried
 * into guest device trees by vm_fdt_build and read back from there.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libfdt.h>
#include <vireo/entropy.h>
#include <vireo/hkdf.h>
#include <vireo/log.h>
#include <vireo/platform.h>
#include <vireo/string.h>
#include <vireo/vm_fdt.h>
#include <vireo/vm_seed.h>

#define DTB_SIZE 4096

/* ---------------------------------------------------------------- fakes */

static bool fake_entropy_ok;
static unsigned entropy_calls;
static char last_log[256];

bool entropy_raw(uint8_t *out, size_t len)
{
	entropy_calls++;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 13 + 1);
	return fake_entropy_ok;
}

/* platform.c's, from hv/lib/string.c in the hypervisor; glibc 2.36 has none. */
size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- helpers */

static const uint8_t host_seed[32] = {
    0x0c, 0x2a, 0xc7, 0x04, 0x3e, 0x4e, 0x5e, 0x8a, 0x61, 0x28, 0x28, 0x93, 0x25, 0x72, 0xda, 0xac,
    0xfc, 0xd3, 0x1b, 0xd4, 0xdc, 0x77, 0x14, 0x8d, 0x46, 0x4d, 0x10, 0xe1, 0x2c, 0xf1, 0x90, 0x7e};

/* A host tree that platform_parse accepts, with or without /chosen/rng-seed. */
static void *host_dtb(bool with_seed)
{
	void *fdt = calloc(1, DTB_SIZE);
	int root, node;

	assert_non_null(fdt);
	assert_int_equal(fdt_create_empty_tree(fdt, DTB_SIZE), 0);
	root = 0;
	assert_int_equal(fdt_setprop_u32(fdt, root, "#address-cells", 2), 0);
	assert_int_equal(fdt_setprop_u32(fdt, root, "#size-cells", 2), 0);
	node = fdt_add_subnode(fdt, root, "memory@80000000");
	assert_true(node >= 0);
	assert_int_equal(fdt_setprop_string(fdt, node, "device_type", "memory"), 0);
	fdt64_t reg[2] = {cpu_to_fdt64(0x80000000), cpu_to_fdt64(0x10000000)};
	assert_int_equal(fdt_setprop(fdt, node, "reg", reg, sizeof(reg)), 0);
	node = fdt_add_subnode(fdt, root, "cpus");
	assert_int_equal(fdt_setprop_u32(fdt, node, "#address-cells", 1), 0);
	assert_int_equal(fdt_setprop_u32(fdt, node, "timebase-frequency", 10000000), 0);
	node = fdt_add_subnode(fdt, node, "cpu@0");
	assert_int_equal(fdt_setprop_string(fdt, node, "device_type", "cpu"), 0);
	assert_int_equal(fdt_setprop_u32(fdt, node, "reg", 0), 0);
	node = fdt_add_subnode(fdt, root, "chosen");
	assert_int_equal(fdt_setprop_string(fdt, node, "stdout-path", "/soc/serial"), 0);
	if (with_seed)
		assert_int_equal(fdt_setprop(fdt, node, "rng-seed", host_seed, sizeof(host_seed)),
				 0);
	return fdt;
}

static void init_from(void *fdt)
{
	struct platform plat;
	const char *why;

	assert_int_equal(platform_parse(fdt, &plat, &why), 0);
	vm_seed_init(fdt, &plat);
	assert_null(plat.rng_seed);
	assert_int_equal(plat.rng_seed_len, 0);
}

/* What the n-th seed must be, computed here from the documented construction. */
static void expected_seeds(const void *ikm, size_t ikm_len, uint64_t n, unsigned vmid,
			   const char *name, struct vm_seeds *out)
{
	uint8_t prk[SHA256_DIGEST_SIZE], info[128];
	size_t len = 0;
	const char *salt = "vireo boot seed v1", *label = "vireo guest seeds v1";

	hkdf_sha256_extract(salt, strlen(salt), ikm, ikm_len, prk);
	memcpy(info, label, strlen(label));
	len += strlen(label);
	for (int i = 0; i < 8; i++)
		info[len++] = (uint8_t)(n >> (8 * i));
	for (int i = 0; i < 4; i++)
		info[len++] = (uint8_t)(vmid >> (8 * i));
	memcpy(info + len, name, strlen(name));
	len += strlen(name);
	assert_int_equal(hkdf_sha256_expand(prk, info, len, out, sizeof(*out)), 0);
}

/* Build a guest DTB with these seeds and read the rng-seed property back. */
static void guest_seed(const struct vm_seeds *s, uint8_t out[64], uint8_t kaslr[8])
{
	static uint8_t buf[64 * 1024];
	struct vm_fdt_params p = {
	    .name = "vm",
	    .nvcpus = 1,
	    .isa = "rv64imac",
	    .mmu_type = "riscv,sv39",
	    .timebase_hz = 10000000,
	    .ram_base = 0x80000000,
	    .ram_size = 64 << 20,
	    .rng_seed = s->rng,
	    .rng_seed_len = sizeof(s->rng),
	    .kaslr_seed = s->kaslr,
	};
	int len, chosen;
	const void *v;

	assert_true(vm_fdt_build(buf, sizeof(buf), &p) > 0);
	chosen = fdt_path_offset(buf, "/chosen");
	v = fdt_getprop(buf, chosen, "rng-seed", &len);
	assert_non_null(v);
	assert_int_equal(len, 64);
	memcpy(out, v, 64);
	v = fdt_getprop(buf, chosen, "kaslr-seed", &len);
	assert_non_null(v);
	assert_int_equal(len, 8);
	memcpy(kaslr, v, 8);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* ---------------------------------------------------------------- tests
 * The module keeps its key and counter for the whole run, like the hypervisor:
 * the tests run in order, the first one sets it up from a host seed. */

static void test_host_seed_is_taken_and_wiped(void **state)
{
	void *fdt = host_dtb(true);
	int len;

	(void)state;
	entropy_calls = 0;
	init_from(fdt);
	assert_non_null(strstr(last_log, "host's /chosen/rng-seed (32 bytes)"));
	assert_int_equal(entropy_calls, 0);
	/* Gone from the host tree: no property, and the bytes are nowhere in the blob. */
	assert_int_equal(fdt_check_header(fdt), 0);
	assert_null(fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), "rng-seed", &len));
	assert_int_equal(len, -FDT_ERR_NOTFOUND);
	assert_null(memmem(fdt, DTB_SIZE, host_seed, 8));
	assert_null(memmem(fdt, DTB_SIZE, host_seed + 24, 8));
	free(fdt);
}

/* Two VMs, then the first one again (a reboot): three different seeds, as documented. */
static void test_every_seed_differs_and_is_hkdf(void **state)
{
	struct vm_seeds a, b, a2, want;
	uint8_t ga[64], gb[64], ga2[64], ka[8], kb[8], ka2[8];

	(void)state;
	assert_true(vm_seed_derive("alpha", 1, &a));
	assert_true(vm_seed_derive("beta", 2, &b));
	assert_true(vm_seed_derive("alpha", 1, &a2));
	expected_seeds(host_seed, sizeof(host_seed), 0, 1, "alpha", &want);
	assert_memory_equal(&a, &want, sizeof(want));
	expected_seeds(host_seed, sizeof(host_seed), 1, 2, "beta", &want);
	assert_memory_equal(&b, &want, sizeof(want));
	expected_seeds(host_seed, sizeof(host_seed), 2, 1, "alpha", &want);
	assert_memory_equal(&a2, &want, sizeof(want));

	/* As the guests see them. */
	guest_seed(&a, ga, ka);
	guest_seed(&b, gb, kb);
	guest_seed(&a2, ga2, ka2);
	assert_memory_not_equal(ga, gb, 64);
	assert_memory_not_equal(ga, ga2, 64);
	assert_memory_not_equal(gb, ga2, 64);
	assert_memory_not_equal(ka, kb, 8);
	assert_memory_not_equal(ka, ka2, 8);
	/* Never the host's seed itself, nor the kaslr bytes inside the rng seed. */
	assert_null(memmem(ga, 64, host_seed, 8));
	assert_null(memmem(ga, 64, ka, 8));
}

/* Same name, same VMID, many boots: never a repeat. */
static void test_no_repeats_over_many_boots(void **state)
{
	enum { N = 200 };
	static uint8_t seen[N][64];

	(void)state;
	for (int i = 0; i < N; i++) {
		struct vm_seeds s;
		assert_true(vm_seed_derive("same", 7, &s));
		memcpy(seen[i], s.rng, 64);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(seen[i], seen[j], 64);
	}
}

/* A key from the entropy source when the host tree has no seed (the hypervisor
 * initialises once; here the module starts again from another host tree). */
static void test_entropy_source_when_no_host_seed(void **state)
{
	void *fdt = host_dtb(false);
	uint8_t raw[256];
	struct vm_seeds s, want;

	(void)state;
	fake_entropy_ok = true;
	entropy_calls = 0;
	init_from(fdt);
	assert_int_equal(entropy_calls, 1);
	assert_non_null(strstr(last_log, "entropy source"));
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 13 + 1);
	assert_true(vm_seed_derive("gamma", 3, &s));
	/* The counter goes on across re-initialisation: 3 + 200 seeds so far. */
	expected_seeds(raw, sizeof(raw), 203, 3, "gamma", &want);
	assert_memory_equal(&s, &want, sizeof(want));
	free(fdt);
}

static void test_no_source_no_seed(void **state)
{
	void *fdt = host_dtb(false);
	struct vm_seeds s;

	(void)state;
	fake_entropy_ok = false;
	init_from(fdt);
	assert_non_null(strstr(last_log, "guests get none"));
	memset(&s, 0xff, sizeof(s));
	assert_false(vm_seed_derive("delta", 4, &s));
	assert_true(all_zero(&s, sizeof(s)));
	free(fdt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_seed_is_taken_and_wiped),
	    cmocka_unit_test(test_every_seed_differs_and_is_hkdf),
	    cmocka_unit_test(test_no_repeats_over_many_boots),
	    cmocka_unit_test(test_entropy_source_when_no_host_seed),
	    cmocka_unit_test(test_no_source_no_seed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
