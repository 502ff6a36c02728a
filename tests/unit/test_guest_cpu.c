// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of what a guest's hart is given (hv/arch/riscv/guest_cpu.c):
 * the riscv,isa string Vireo writes into a guest's device tree, held against
 * the henvcfg/hcounteren bits and saved state that make each extension work
 * in VS-mode. An extension listed without its enable is exactly the bug a
 * distribution kernel dies of (V listed, vsetvli illegal).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/cpu.h>
#include "../../hv/arch/riscv/csr.h"

#define HOST_ISA "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc"
#define ALL_ISA                                                                                    \
	"rv64imafdcvh_zicsr_zifencei_zicbom_zicboz_zicbop_zba_zve64d_zvfh_zkr_smstateen_sscofpmf_" \
	"svinval_svnapot_svpbmt_sstc_xvendor"

static struct cpu_features all_on(void)
{
	return (struct cpu_features){.isa_has_f = true,
				     .isa_has_d = true,
				     .sstc = true,
				     .vector = true,
				     .vlenb = 16,
				     .svpbmt = true,
				     .zicbom = true,
				     .zicboz = true,
				     .cbom_block_size = 64,
				     .cboz_block_size = 64};
}

static void expect_isa(const char *host, const struct cpu_features *f, const char *want)
{
	struct guest_cpu g;

	cpu_guest_derive(host, f, &g);
	assert_string_equal(g.isa, want);
}

/* Is the multi-letter extension in the string (whole names only)? */
static bool has_ext(const char *isa, const char *ext)
{
	size_t n = strlen(ext);

	for (const char *p = strchr(isa, '_'); p; p = strchr(p + 1, '_'))
		if (strncmp(p + 1, ext, n) == 0 && (p[1 + n] == '_' || p[1 + n] == '\0'))
			return true;
	return false;
}

/* The single letters of the string (before the first '_'). */
static bool has_letter(const char *isa, char c)
{
	const char *end = strchr(isa, '_');

	for (const char *p = isa + 4; *p && (!end || p < end); p++)
		if (*p == c)
			return true;
	return false;
}

/* Advertised if and only if enabled, whatever the host offers. */
static void check_consistent(const struct guest_cpu *g)
{
	assert_int_equal(has_ext(g->isa, "sstc"), (g->henvcfg & HENVCFG_STCE) != 0);
	assert_int_equal(has_ext(g->isa, "svpbmt"), (g->henvcfg & HENVCFG_PBMTE) != 0);
	assert_int_equal(has_ext(g->isa, "zicbom"),
			 (g->henvcfg & (HENVCFG_CBIE_INVAL | HENVCFG_CBCFE)) ==
			     (HENVCFG_CBIE_INVAL | HENVCFG_CBCFE));
	assert_int_equal(has_ext(g->isa, "zicboz"), (g->henvcfg & HENVCFG_CBZE) != 0);
	assert_int_equal(has_letter(g->isa, 'v'), g->vector);
	if (has_ext(g->isa, "zve64d") || has_ext(g->isa, "zvfh"))
		assert_true(g->vector);
	assert_int_equal(has_letter(g->isa, 'f'), g->fp);
	/* Never: the hypervisor extension, what needs M-mode help, what Vireo does not know. */
	assert_false(has_letter(g->isa, 'h'));
	assert_false(has_ext(g->isa, "zkr"));
	assert_false(has_ext(g->isa, "smstateen"));
	assert_false(has_ext(g->isa, "sscofpmf"));
	assert_false(has_ext(g->isa, "xvendor"));
	/* Counters for rdcycle/rdtime/rdinstret (the vDSO's clock_gettime needs TM). */
	assert_int_equal(g->hcounteren, HCOUNTEREN_CY | HCOUNTEREN_TM | HCOUNTEREN_IR);
}

static void test_filter(void **state)
{
	struct cpu_features f = {.isa_has_f = true, .sstc = true};

	(void)state;
	expect_isa(HOST_ISA, &f, "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc");
	f.sstc = false;
	expect_isa(HOST_ISA, &f, "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs");
	/* Unknown extensions are dropped, known ones kept in order. */
	expect_isa("rv64imafdch_svinval_zicsr_xfoo_sstc_zicbom_zicboz_svnapot", &f,
		   "rv64imafdc_svinval_zicsr_svnapot");
	/* Whole names only: no prefixes or extensions of known names. */
	f.sstc = true;
	expect_isa("rv64imac_zb_zbaa_sstcx_zicsrx_zics_sst_zifencei", &f, "rv64imac_zifencei");
	/* Single letters: h is dropped wherever it is, q and friends too. */
	expect_isa("rv64imafdch", &f, "rv64imafdc");
	expect_isa("rv64gch", &f, "rv64gc");
	expect_isa("rv64ihmacq_zba", &f, "rv64imac_zba");
	/* Empty extension names (double or trailing underscores) are dropped. */
	expect_isa("rv64imac__zba_", &f, "rv64imac_zba");
	expect_isa("", &f, "");
}

/* V: listed only when probed and saved per vCPU (the Linux panic). */
static void test_vector(void **state)
{
	struct cpu_features f = all_on();
	struct guest_cpu g;

	(void)state;
	cpu_guest_derive("rv64imafdcvh_zicsr_zve64d", &f, &g);
	assert_string_equal(g.isa, "rv64imafdcv_zicsr_zve64d");
	assert_true(g.vector);
	f.vector = false;
	cpu_guest_derive("rv64imafdcvh_zicsr_zve64d", &f, &g);
	assert_string_equal(g.isa, "rv64imafdc_zicsr");
	assert_false(g.vector);
}

static void test_enables(void **state)
{
	struct cpu_features f = all_on();
	struct guest_cpu g;

	(void)state;
	cpu_guest_derive(ALL_ISA, &f, &g);
	assert_string_equal(g.isa,
			    "rv64imafdcv_zicsr_zifencei_zicbom_zicboz_zicbop_zba_zve64d_zvfh_"
			    "svinval_svnapot_svpbmt_sstc");
	check_consistent(&g);
	assert_int_equal(g.cbom_block_size, 64);
	assert_int_equal(g.cboz_block_size, 64);
}

/* Every subset of the probed features: the string and the enables always agree. */
static void test_every_feature_combination(void **state)
{
	(void)state;
	for (unsigned mask = 0; mask < 64; mask++) {
		struct cpu_features f = all_on();
		struct guest_cpu g;

		f.sstc = mask & 1;
		f.vector = mask & 2;
		f.svpbmt = mask & 4;
		f.zicbom = mask & 8;
		f.zicboz = mask & 16;
		f.isa_has_f = mask & 32;
		cpu_guest_derive(ALL_ISA, &f, &g);
		check_consistent(&g);
		/* What the host offers and Vireo can enable is not withheld either. */
		assert_int_equal(has_ext(g.isa, "sstc"), f.sstc);
		assert_int_equal(has_ext(g.isa, "svpbmt"), f.svpbmt);
		assert_int_equal(has_ext(g.isa, "zicbom"), f.zicbom);
		assert_int_equal(g.cbom_block_size, f.zicbom ? 64u : 0u);
	}
}

/* A host string longer than the guest's buffer: whole extensions or none, and what is
 * left out is not enabled either. */
static void test_long_input(void **state)
{
	char host[4096];
	struct cpu_features f = all_on();
	struct guest_cpu g;
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(host + n, sizeof(host) - n, "rv64imafdch");
	while (n + 16 < sizeof(host))
		n += (size_t)snprintf(host + n, sizeof(host) - n, "_zba_xlong");
	snprintf(host + n, sizeof(host) - n, "_svpbmt");
	cpu_guest_derive(host, &f, &g);
	assert_true(strlen(g.isa) < sizeof(g.isa));
	assert_memory_equal(g.isa, "rv64imafdc_zba_zba", 18);
	assert_int_equal(g.isa[strlen(g.isa) - 1], 'a');
	check_consistent(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter),     cmocka_unit_test(test_vector),
	    cmocka_unit_test(test_enables),    cmocka_unit_test(test_every_feature_combination),
	    cmocka_unit_test(test_long_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
