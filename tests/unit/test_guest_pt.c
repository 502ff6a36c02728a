// SPDX-License-Identifier: BSD-2-Clause
/*
 * guest_pt.c against tables built here, the way the privileged spec lays
 * them out (Sv39, Sv48, Sv57, superpages, Svnapot), and every page fault a
 * walk can end in; insn_flow.c against instructions encoded here by the
 * unprivileged spec's formats (the inverse of its decoder).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/guest_pt.h>
#include <vireo/insn_flow.h>

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (1u << 20)
#define V	 (1ULL << 0)
#define R	 (1ULL << 1)
#define W	 (1ULL << 2)
#define X	 (1ULL << 3)
#define U	 (1ULL << 4)
#define N	 (1ULL << 63)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static unsigned next_table;
static unsigned reads;

static bool read_pte(void *ctx, uint64_t gpa, uint64_t *pte)
{
	(void)ctx;
	reads++;
	if (gpa < RAM_BASE || gpa - RAM_BASE > RAM_SIZE - 8)
		return false;
	memcpy(pte, ram + (gpa - RAM_BASE), 8);
	return true;
}

static uint64_t new_table(void)
{
	uint64_t gpa = RAM_BASE + 4096ULL * next_table++;

	memset(ram + (gpa - RAM_BASE), 0, 4096);
	return gpa;
}

static void set_pte(uint64_t table, unsigned index, uint64_t pte)
{
	memcpy(ram + (table - RAM_BASE) + 8 * index, &pte, 8);
}

static uint64_t pte_to(uint64_t pa, uint64_t flags)
{
	return (pa >> 12) << 10 | flags;
}

static uint64_t satp(unsigned mode, uint64_t root)
{
	return (uint64_t)mode << 60 | (0x1234ULL << 44) | root >> 12;
}

static unsigned vpn(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511;
}

/* Map va to pa with a leaf at `leaf_level` in a fresh tree of `levels` levels. */
static uint64_t map(unsigned levels, uint64_t va, uint64_t pa, unsigned leaf_level, uint64_t flags)
{
	uint64_t root = new_table(), table = root;

	for (unsigned l = levels - 1; l > leaf_level; l--) {
		uint64_t next = new_table();

		set_pte(table, vpn(va, l), pte_to(next, V));
		table = next;
	}
	set_pte(table, vpn(va, leaf_level), pte_to(pa, flags));
	return root;
}

static int walk(uint64_t s, uint64_t va, struct guest_pt_walk *w)
{
	return guest_pt_translate(s, va, read_pte, NULL, w);
}

static int setup(void **state)
{
	(void)state;
	next_table = 0;
	reads = 0;
	return 0;
}

static void test_bare(void **state)
{
	struct guest_pt_walk w;

	(void)state;
	assert_int_equal(walk(0, 0x80201234, &w), 0);
	assert_int_equal(w.gpa, 0x80201234);
	assert_int_equal(w.pte, 0);
	assert_int_equal(reads, 0);
	assert_int_equal(walk(5ULL << 60, 0x1000, &w), -VIREO_EINVAL);
	assert_int_equal(walk(15ULL << 60, 0x1000, &w), -VIREO_EINVAL);
}

static void test_sv39_pages(void **state)
{
	struct guest_pt_walk w;
	uint64_t va = 0xffffffc000201abcULL, root;

	(void)state;
	/* 4 KiB, any permission a debugger may read through: execute-only, user. */
	root = map(3, va, 0x80345000, 0, V | X | U);
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), va, &w), 0);
	assert_int_equal(w.gpa, 0x80345abc);
	assert_int_equal(w.page_size, 4096);
	assert_int_equal(w.level, 0);
	assert_int_equal(reads, 3);
	/* The page next door is not mapped. */
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), va + 0x1000, &w), -VIREO_EFAULT);
	/* 2 MiB and 1 GiB leaves take the low bits from the address. */
	root = map(3, va, 0x80400000, 1, V | R | W);
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), va, &w), 0);
	assert_int_equal(w.gpa, 0x80401abc);
	assert_int_equal(w.page_size, 2u << 20);
	root = map(3, 0x80201abc, 0x80000000, 2, V | R | X);
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), 0x80201abc, &w), 0);
	assert_int_equal(w.gpa, 0x80201abc);
	assert_int_equal(w.level, 2);
}

static void test_sv48_sv57(void **state)
{
	struct guest_pt_walk w;
	uint64_t va48 = 0xffff800012345678ULL, va57 = 0xff00000012345678ULL, root;

	(void)state;
	root = map(4, va48, 0x80012000, 0, V | R);
	assert_int_equal(walk(satp(GUEST_PT_SV48, root), va48, &w), 0);
	assert_int_equal(w.gpa, 0x80012678);
	assert_int_equal(reads, 4);
	/* Sv39 would call this address non-canonical. */
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), va48, &w), -VIREO_EFAULT);
	root = map(5, va57, 0x80013000, 0, V | R);
	assert_int_equal(walk(satp(GUEST_PT_SV57, root), va57, &w), 0);
	assert_int_equal(w.gpa, 0x80013678);
}

static void test_page_faults(void **state)
{
	struct guest_pt_walk w;
	uint64_t va = 0x40201000, root, leaf_table;

	(void)state;
	/* Not canonical: bit 38 is 0 but higher bits are not. */
	assert_int_equal(walk(satp(GUEST_PT_SV39, new_table()), 0x0000008000000000ULL, &w),
			 -VIREO_EFAULT);
	/* Tables outside RAM. */
	assert_int_equal(walk(satp(GUEST_PT_SV39, 0x10000000), va, &w), -VIREO_EFAULT);
	root = map(3, va, 0x80345000, 0, V | R);
	leaf_table = RAM_BASE + 4096ULL * (next_table - 1);
	/* Each bad encoding of the leaf in turn. */
	static const uint64_t bad[] = {
	    R,			  /* not valid */
	    V | W,		  /* writable, not readable */
	    V | R | (1ULL << 54), /* reserved bits */
	    V | R | (3ULL << 61), /* PBMT 3 is reserved */
	    V | R | N,		  /* NAPOT without the 64 KiB encoding */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_pte(leaf_table, vpn(va, 0), pte_to(0x80345000, bad[i]));
		assert_int_equal(walk(satp(GUEST_PT_SV39, root), va, &w), -VIREO_EFAULT);
	}
	/* A pointer at level 0: no level below. */
	set_pte(leaf_table, vpn(va, 0), pte_to(0x80346000, V));
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), va, &w), -VIREO_EFAULT);
	/* A pointer with PBMT bits is reserved. */
	root = map(3, va, 0x80345000, 0, V | R);
	set_pte(root, vpn(va, 2), pte_to(RAM_BASE + 4096ULL * (next_table - 2), V) | (1ULL << 61));
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), va, &w), -VIREO_EFAULT);
	/* A misaligned megapage. */
	root = map(3, va, 0x80401000, 1, V | R);
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), va, &w), -VIREO_EFAULT);
}

static void test_napot(void **state)
{
	struct guest_pt_walk w;
	uint64_t va = 0x40235678, root;

	(void)state;
	/* 64 KiB: ppn[3:0] = 1000, the address's bits 15:12 pick the page. */
	root = map(3, va, 0x80348000, 0, V | R | N);
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), va, &w), 0);
	assert_int_equal(w.gpa, 0x80345678);
	assert_int_equal(w.page_size, 64u << 10);
	/* Only at level 0. */
	root = map(3, va, 0x80400000, 1, V | R | N);
	assert_int_equal(walk(satp(GUEST_PT_SV39, root), va, &w), -VIREO_EFAULT);
}

/* ---------------------------------------------------------------- successors */

static uint32_t j_type(uint32_t rd, int32_t imm)
{
	uint32_t u = (uint32_t)imm;

	return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 |
	       ((u >> 12) & 0xff) << 12 | rd << 7 | 0x6f;
}

static uint32_t b_type(uint32_t funct3, uint32_t rs1, uint32_t rs2, int32_t imm)
{
	uint32_t u = (uint32_t)imm;

	return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 |
	       funct3 << 12 | ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}

static uint32_t i_type(uint32_t opcode, uint32_t rd, uint32_t rs1, int32_t imm)
{
	return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | rd << 7 | opcode;
}

static uint32_t c_j(int32_t imm)
{
	uint32_t u = (uint32_t)imm;

	return 5u << 13 | ((u >> 11) & 1) << 12 | ((u >> 4) & 1) << 11 | ((u >> 8) & 3) << 9 |
	       ((u >> 10) & 1) << 8 | ((u >> 6) & 1) << 7 | ((u >> 7) & 1) << 6 |
	       ((u >> 1) & 7) << 3 | ((u >> 5) & 1) << 2 | 1;
}

static uint32_t c_branch(uint32_t funct3, uint32_t rs1p, int32_t imm)
{
	uint32_t u = (uint32_t)imm;

	return funct3 << 13 | ((u >> 8) & 1) << 12 | ((u >> 3) & 3) << 10 | rs1p << 7 |
	       ((u >> 6) & 3) << 5 | ((u >> 1) & 3) << 3 | ((u >> 5) & 1) << 2 | 1;
}

#define PC 0x80200100ULL

static void expect(uint32_t insn, const uint64_t x[32], unsigned n, uint64_t a, uint64_t b)
{
	struct insn_successors s;

	insn_successors(insn, PC, x, &s);
	assert_int_equal(s.n, n);
	assert_int_equal(s.pc[0], a);
	if (n == 2)
		assert_int_equal(s.pc[1], b);
}

static void test_successors(void **state)
{
	uint64_t x[32] = {0};
	struct insn_successors s;

	(void)state;
	x[0] = 0xdead; /* never read as a register */
	x[5] = 0x80001001;
	x[9] = 0x80300000;
	/* In line: addi, a load, c.addi, c.ebreak, ebreak, ecall. */
	expect(i_type(0x13, 1, 1, 5), x, 1, PC + 4, 0);
	expect(i_type(0x03, 1, 2, -8) | 3u << 12, x, 1, PC + 4, 0);
	expect(0x0505, x, 1, PC + 2, 0);
	expect(INSN_C_EBREAK, x, 1, PC + 2, 0);
	expect(INSN_EBREAK, x, 1, PC + 4, 0);
	expect(0x00000073, x, 1, PC + 4, 0);
	/* Jumps, forward and back, at the ends of their ranges. */
	expect(j_type(0, 8), x, 1, PC + 8, 0);
	expect(j_type(1, -4), x, 1, PC - 4, 0);
	expect(j_type(0, (1 << 20) - 2), x, 1, PC + (1 << 20) - 2, 0);
	expect(j_type(0, -(1 << 20)), x, 1, PC - (1 << 20), 0);
	expect(i_type(0x67, 0, 5, 8), x, 1, 0x80001008, 0);
	expect(i_type(0x67, 1, 5, -2), x, 1, 0x80000fff & ~1ULL, 0);
	expect(i_type(0x67, 1, 0, 0x100), x, 1, 0x100, 0);	   /* x0 reads 0 */
	expect(i_type(0x67, 1, 5, 0) | 1u << 12, x, 1, PC + 4, 0); /* reserved funct3 */
	/* Branches have both ways. */
	expect(b_type(0, 1, 2, 16), x, 2, PC + 4, PC + 16);
	expect(b_type(1, 1, 2, -4096), x, 2, PC + 4, PC - 4096);
	expect(b_type(7, 1, 2, 4094), x, 2, PC + 4, PC + 4094);
	expect(b_type(2, 1, 2, 16), x, 1, PC + 4, 0);
	/* Compressed jumps and branches. */
	expect(c_j(-2048), x, 1, PC - 2048, 0);
	expect(c_j(2046), x, 1, PC + 2046, 0);
	expect(c_branch(6, 1, -256), x, 2, PC + 2, PC - 256);
	expect(c_branch(7, 7, 254), x, 2, PC + 2, PC + 254);
	expect(0x8482, x, 1, 0x80300000, 0);	      /* c.jr s1 */
	expect(0x9482, x, 1, 0x80300000, 0);	      /* c.jalr s1 */
	expect(0x2085, x, 1, PC + 2, 0);	      /* c.addiw (RV32's c.jal) */
	expect(0x8082 & ~(1u << 7), x, 1, PC + 2, 0); /* c.jr x0 is reserved */
	/* sret and wfi say what they are. */
	insn_successors(0x10200073, PC, x, &s);
	assert_true(s.sret);
	assert_false(s.wfi);
	insn_successors(0x10500073, PC, x, &s);
	assert_true(s.wfi);
	assert_int_equal(s.pc[0], PC + 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_bare, setup),
	    cmocka_unit_test_setup(test_sv39_pages, setup),
	    cmocka_unit_test_setup(test_sv48_sv57, setup),
	    cmocka_unit_test_setup(test_page_faults, setup),
	    cmocka_unit_test_setup(test_napot, setup),
	    cmocka_unit_test(test_successors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
