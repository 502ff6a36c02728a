// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the G-stage page tables (hv/arch/riscv/gstage.c).
 *
 * Table pages come from a small pool over an aligned host buffer. The pool
 * zeroes what it hands out, fills what comes back with garbage (so a table
 * used after its free would show), checks every free against its allocation,
 * and can be told to fail after a number of allocations. The tests check the
 * tables both through gstage_translate and by walking the raw PTEs with a walker
 * of their own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/gstage.h>

#define POOL_PAGES 64

#define PTE_V	  (1ULL << 0)
#define PTE_R	  (1ULL << 1)
#define PTE_W	  (1ULL << 2)
#define PTE_X	  (1ULL << 3)
#define PTE_U	  (1ULL << 4)
#define PTE_G	  (1ULL << 5)
#define PTE_A	  (1ULL << 6)
#define PTE_D	  (1ULL << 7)
#define PTE_RSW	  (3ULL << 8)
#define PTE_PPN	  (((1ULL << 44) - 1) << 10)
#define PTE_HIGH  (~0ULL << 54) /* reserved, PBMT, N: must be 0 */
#define PTE_LEAFS (PTE_R | PTE_W | PTE_X)

#define PERM_RW (GSTAGE_PERM_R | GSTAGE_PERM_W)
#define PERM_RX (GSTAGE_PERM_R | GSTAGE_PERM_X)

#define SZ_4K PAGE_SIZE
#define SZ_2M (2 * MIB)
#define SZ_1G GIB

struct pool {
	uint8_t *mem;
	size_t run[POOL_PAGES]; /* at the first page of an allocation: its length, else 0 */
	bool used[POOL_PAGES];
	size_t outstanding; /* pages handed out and not returned */
	size_t allocs, frees;
	long budget; /* allocations that may still succeed; < 0: no limit */
};

static void *pool_alloc(void *ctx, size_t npages, size_t align)
{
	struct pool *p = ctx;

	assert_true(npages > 0);
	assert_true(align >= PAGE_SIZE && (align & (align - 1)) == 0);
	if (p->budget == 0)
		return NULL;
	for (size_t i = 0; i + npages <= POOL_PAGES; i++) {
		uint8_t *addr = p->mem + i * PAGE_SIZE;
		bool free = true;

		if ((uintptr_t)addr % align)
			continue;
		for (size_t j = i; j < i + npages; j++)
			free = free && !p->used[j];
		if (!free)
			continue;
		for (size_t j = i; j < i + npages; j++)
			p->used[j] = true;
		p->run[i] = npages;
		p->outstanding += npages;
		p->allocs++;
		if (p->budget > 0)
			p->budget--;
		memset(addr, 0, npages * PAGE_SIZE);
		return addr;
	}
	return NULL;
}

static void pool_free(void *ctx, void *ptr, size_t npages)
{
	struct pool *p = ctx;
	uint8_t *addr = ptr;
	size_t i;

	assert_true(addr >= p->mem && addr < p->mem + POOL_PAGES * PAGE_SIZE);
	assert_int_equal((addr - p->mem) % PAGE_SIZE, 0);
	i = (size_t)(addr - p->mem) / PAGE_SIZE;
	assert_int_equal(p->run[i], npages); /* freed as it was allocated, and only once */
	for (size_t j = i; j < i + npages; j++)
		p->used[j] = false;
	p->run[i] = 0;
	p->outstanding -= npages;
	p->frees++;
	memset(addr, 0xdb, npages * PAGE_SIZE);
}

static int pool_setup(void **state)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->mem = aligned_alloc(GSTAGE_ROOT_ALIGN, POOL_PAGES * PAGE_SIZE);
	if (!p->mem) {
		free(p);
		return -1;
	}
	memset(p->mem, 0xdb, POOL_PAGES * PAGE_SIZE);
	p->budget = -1;
	*state = p;
	return 0;
}

static int pool_teardown(void **state)
{
	struct pool *p = *state;

	free(p->mem);
	free(p);
	return 0;
}

static void init_ok(struct gstage *gs, enum gstage_mode mode, struct pool *p)
{
	assert_int_equal(gstage_init(gs, mode, pool_alloc, pool_free, p), 0);
}

static void destroy_all(struct gstage *gs, struct pool *p)
{
	gstage_destroy(gs);
	assert_null(gs->root);
	assert_int_equal(gs->table_pages, 0);
	assert_int_equal(p->outstanding, 0);
	assert_int_equal(p->allocs, p->frees);
}

/* ---------------------------------------------------------------- raw walker */

static unsigned levels_of(enum gstage_mode mode)
{
	return mode == GSTAGE_SV48X4 ? 4 : 3;
}

static const uint64_t *table_of(uint64_t pte)
{
	return (const uint64_t *)(uintptr_t)(((pte & PTE_PPN) >> 10) << 12);
}

/* Check a PTE is a well-formed pointer to a next-level table inside the pool. */
static void check_table_pte(const struct pool *p, uint64_t pte)
{
	const uint8_t *t = (const uint8_t *)table_of(pte);

	assert_int_equal(pte & ~PTE_PPN, PTE_V); /* V only: no R/W/X, U, A, D, G */
	assert_true(t >= p->mem && t < p->mem + POOL_PAGES * PAGE_SIZE);
	assert_int_equal((t - p->mem) % PAGE_SIZE, 0);
	assert_true(p->used[(t - p->mem) / PAGE_SIZE]);
}

/* Walk by hand: the leaf PTE for gpa and its level, or 0 when not mapped. */
static uint64_t raw_walk(const struct gstage *gs, const struct pool *p, gpa_t gpa, unsigned *level)
{
	const uint64_t *table = gs->root;

	for (int l = (int)levels_of(gs->mode) - 1; l >= 0; l--) {
		unsigned bits = l == (int)levels_of(gs->mode) - 1 ? 11 : 9;
		uint64_t pte = table[(gpa >> (12 + 9 * l)) & ((1ULL << bits) - 1)];

		if (!(pte & PTE_V))
			return 0;
		if (pte & PTE_LEAFS) {
			*level = (unsigned)l;
			return pte;
		}
		assert_true(l > 0); /* a non-leaf at level 0 is malformed */
		check_table_pte(p, pte);
		table = table_of(pte);
	}
	return 0;
}

/* The PTE that points to gpa's table of 4 KiB leaves (gpa mapped by one). */
static uint64_t raw_walk_parent(const struct gstage *gs, const struct pool *p, gpa_t gpa)
{
	const uint64_t *table = gs->root;
	uint64_t pte = 0;

	for (int l = (int)levels_of(gs->mode) - 1; l >= 1; l--) {
		unsigned bits = l == (int)levels_of(gs->mode) - 1 ? 11 : 9;

		pte = table[(gpa >> (12 + 9 * l)) & ((1ULL << bits) - 1)];
		check_table_pte(p, pte);
		table = table_of(pte);
	}
	return pte;
}

/* A leaf as the hardware wants it, mapping hpa with perms at `level`. */
static void check_leaf(uint64_t pte, unsigned level, paddr_t hpa, unsigned perms)
{
	uint64_t want = PTE_V | PTE_U | PTE_A | PTE_D | ((hpa >> 12) << 10);

	if (perms & GSTAGE_PERM_R)
		want |= PTE_R;
	if (perms & GSTAGE_PERM_W)
		want |= PTE_R | PTE_W;
	if (perms & GSTAGE_PERM_X)
		want |= PTE_X;
	assert_int_equal(pte, want);
	assert_int_equal(pte & (PTE_G | PTE_RSW | PTE_HIGH), 0);
	if (pte & PTE_W)
		assert_true(pte & PTE_R);
	/* A superpage's PPN has its low bits clear. */
	assert_int_equal(((pte & PTE_PPN) >> 10) & ((1ULL << (9 * level)) - 1), 0);
}

struct leaf_counts {
	size_t leaves[4]; /* per level */
	size_t tables;	  /* non-root table pages reachable from the root */
};

static void count_table(const struct pool *p, const uint64_t *table, size_t entries, int level,
			struct leaf_counts *c)
{
	for (size_t i = 0; i < entries; i++) {
		uint64_t pte = table[i];

		if (!(pte & PTE_V)) {
			assert_int_equal(pte, 0); /* nothing left behind in invalid entries */
			continue;
		}
		if (pte & PTE_LEAFS) {
			c->leaves[level]++;
			continue;
		}
		assert_true(level > 0);
		check_table_pte(p, pte);
		c->tables++;
		count_table(p, table_of(pte), 512, level - 1, c);
	}
}

static struct leaf_counts count_all(const struct gstage *gs, const struct pool *p)
{
	struct leaf_counts c = {0};

	count_table(p, gs->root, 2048, (int)levels_of(gs->mode) - 1, &c);
	assert_int_equal(gs->table_pages, 4 + c.tables);
	assert_int_equal(p->outstanding, gs->table_pages);
	return c;
}

static void expect_counts(const struct gstage *gs, const struct pool *p, size_t l0, size_t l1,
			  size_t l2, size_t tables)
{
	struct leaf_counts c = count_all(gs, p);

	assert_int_equal(c.leaves[0], l0);
	assert_int_equal(c.leaves[1], l1);
	assert_int_equal(c.leaves[2], l2);
	assert_int_equal(c.leaves[3], 0);
	assert_int_equal(c.tables, tables);
}

static unsigned expected_perms(unsigned perms)
{
	return (perms & GSTAGE_PERM_W) ? (perms | GSTAGE_PERM_R) : perms;
}

/* One byte through gstage_translate. */
static void check_byte(const struct gstage *gs, gpa_t gpa, paddr_t hpa, unsigned perms)
{
	paddr_t got = 0;
	unsigned got_perms = 0;

	assert_true(gstage_translate(gs, gpa, &got, &got_perms));
	assert_int_equal(got, hpa);
	assert_int_equal(got_perms, expected_perms(perms));
}

/*
 * Leaf by leaf (found with the raw walker, whose PTE is checked exactly):
 * the first, a middle and the last byte of each leaf, and of each 4 KiB
 * page at the ends of the range, translate to hpa + offset.
 */
static void check_mapped(const struct gstage *gs, const struct pool *p, gpa_t gpa, paddr_t hpa,
			 uint64_t size, unsigned perms)
{
	uint64_t off = 0;
	paddr_t got = 0;

	while (off < size) {
		unsigned level = 99;
		uint64_t pte = raw_walk(gs, p, gpa + off, &level);
		uint64_t leaf_size, into, chunk;

		assert_true(pte != 0);
		assert_true(level <= 2);
		leaf_size = 1ULL << (12 + 9 * level);
		into = (gpa + off) & (leaf_size - 1);
		assert_int_equal(into, 0); /* leaves start where the range does */
		check_leaf(pte, level, hpa + off, perms);
		chunk = MIN(leaf_size, size - off);
		assert_int_equal(chunk, leaf_size); /* and never reach past its end */
		check_byte(gs, gpa + off, hpa + off, perms);
		check_byte(gs, gpa + off + 1, hpa + off + 1, perms);
		check_byte(gs, gpa + off + chunk / 2 + 0x123, hpa + off + chunk / 2 + 0x123, perms);
		check_byte(gs, gpa + off + chunk - 1, hpa + off + chunk - 1, perms);
		off += chunk;
	}
	for (uint64_t o = 0; o < MIN(size, 4 * SZ_4K); o += SZ_4K) {
		check_byte(gs, gpa + o, hpa + o, perms);
		check_byte(gs, gpa + o + SZ_4K - 1, hpa + o + SZ_4K - 1, perms);
		check_byte(gs, gpa + size - o - 1, hpa + size - o - 1, perms);
		check_byte(gs, gpa + size - o - SZ_4K, hpa + size - o - SZ_4K, perms);
	}
	/* perms may be NULL */
	assert_true(gstage_translate(gs, gpa + size - 1, &got, NULL));
	assert_int_equal(got, hpa + size - 1);
}

static void check_unmapped(const struct gstage *gs, gpa_t gpa, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += SZ_4K) {
		paddr_t got = 0x1234;
		unsigned perms = 0x5678;

		assert_false(gstage_translate(gs, gpa + off, &got, &perms));
		assert_false(gstage_translate(gs, gpa + off + SZ_4K - 1, &got, &perms));
	}
}

static void check_not_mapped_at(const struct gstage *gs, gpa_t gpa)
{
	paddr_t got;

	assert_false(gstage_translate(gs, gpa, &got, NULL));
}

/* ---------------------------------------------------------------- tests */

static void test_init_root(void **state)
{
	static const enum gstage_mode modes[] = {GSTAGE_SV39X4, GSTAGE_SV48X4};
	struct pool *p = *state;

	for (unsigned m = 0; m < 2; m++) {
		struct gstage gs;

		memset(&gs, 0xee, sizeof(gs));
		init_ok(&gs, modes[m], p);
		assert_non_null(gs.root);
		assert_int_equal((uintptr_t)gs.root % (16 * KIB), 0);
		assert_int_equal(p->run[((uint8_t *)gs.root - p->mem) / PAGE_SIZE], 4);
		assert_int_equal(gs.table_pages, 4);
		assert_int_equal(p->outstanding, 4);
		assert_int_equal(gs.mode, modes[m]);
		assert_int_equal(gs.levels, levels_of(modes[m]));
		for (unsigned i = 0; i < 2048; i++)
			assert_int_equal(gs.root[i], 0);
		assert_int_equal(gstage_gpa_limit(&gs), m == 0 ? 1ULL << 41 : 1ULL << 50);
		check_not_mapped_at(&gs, 0);
		check_not_mapped_at(&gs, 0x80000000);
		destroy_all(&gs, p);
		/* A second destroy is harmless. */
		gstage_destroy(&gs);
		assert_int_equal(p->outstanding, 0);
	}
}

static void test_init_no_memory(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	p->budget = 0;
	assert_int_equal(gstage_init(&gs, GSTAGE_SV39X4, pool_alloc, pool_free, p), -VIREO_ENOMEM);
	assert_null(gs.root);
	assert_int_equal(p->outstanding, 0);
	gstage_destroy(&gs); /* nothing to free */
	assert_int_equal(p->frees, 0);
}

/* 256 MiB at 0x80000000 onto a 2 MiB (not 1 GiB) aligned HPA: 128 2 MiB leaves. */
static void test_map_2m_leaves(void **state)
{
	struct pool *p = *state;
	const gpa_t gpa = 0x80000000;
	const paddr_t hpa = 0x1c0200000;
	const uint64_t size = 256 * MIB;

	for (unsigned m = 0; m < 2; m++) {
		enum gstage_mode mode = m ? GSTAGE_SV48X4 : GSTAGE_SV39X4;
		struct gstage gs;
		const uint64_t *l1;

		init_ok(&gs, mode, p);
		assert_int_equal(gstage_map(&gs, gpa, hpa, size, GSTAGE_PERM_RWX), 0);
		/* Sv39x4: root + one level-1 table; Sv48x4: one level-2 table more. */
		assert_int_equal(gs.table_pages, m ? 6 : 5);
		expect_counts(&gs, p, 0, 128, 0, m ? 2 : 1);
		check_mapped(&gs, p, gpa, hpa, size, GSTAGE_PERM_RWX);
		check_not_mapped_at(&gs, gpa - 1);
		check_not_mapped_at(&gs, gpa + size);
		check_not_mapped_at(&gs, 0);

		/* The raw layout: root[2] (Sv39x4) or root[0] -> [2] (Sv48x4), entries 0..127. */
		if (m == 0) {
			l1 = table_of(gs.root[2]);
			for (unsigned i = 0; i < 2048; i++)
				if (i != 2)
					assert_int_equal(gs.root[i], 0);
		} else {
			const uint64_t *l2 = table_of(gs.root[0]);
			l1 = table_of(l2[2]);
		}
		for (unsigned i = 0; i < 512; i++) {
			if (i < 128)
				check_leaf(l1[i], 1, hpa + i * SZ_2M, GSTAGE_PERM_RWX);
			else
				assert_int_equal(l1[i], 0);
		}
		destroy_all(&gs, p);
	}
}

/* Both addresses 1 GiB aligned: gigapages, no table needed on Sv39x4. */
static void test_map_1g_leaves(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	assert_int_equal(gstage_map(&gs, 0x40000000, 0x240000000, 2 * SZ_1G, GSTAGE_PERM_R), 0);
	assert_int_equal(gs.table_pages, 4);
	expect_counts(&gs, p, 0, 0, 2, 0);
	check_leaf(gs.root[1], 2, 0x240000000, GSTAGE_PERM_R);
	check_leaf(gs.root[2], 2, 0x280000000, GSTAGE_PERM_R);
	check_mapped(&gs, p, 0x40000000, 0x240000000, 2 * SZ_1G, GSTAGE_PERM_R);
	check_not_mapped_at(&gs, 0x3fffffff);
	check_not_mapped_at(&gs, 0xc0000000);
	/* The top of the Sv39x4 space: root entry 2047. */
	assert_int_equal(gstage_map(&gs, (1ULL << 41) - SZ_1G, 0, SZ_1G, GSTAGE_PERM_RWX), 0);
	check_leaf(gs.root[2047], 2, 0, GSTAGE_PERM_RWX);
	check_mapped(&gs, p, (1ULL << 41) - SZ_1G, 0, SZ_1G, GSTAGE_PERM_RWX);
	expect_counts(&gs, p, 0, 0, 3, 0);
	destroy_all(&gs, p);

	/* Sv48x4: the same gigapages sit in a level-2 table. */
	init_ok(&gs, GSTAGE_SV48X4, p);
	assert_int_equal(gstage_map(&gs, 0x40000000, 0x240000000, 2 * SZ_1G, PERM_RW), 0);
	assert_int_equal(gs.table_pages, 5);
	expect_counts(&gs, p, 0, 0, 2, 1);
	check_mapped(&gs, p, 0x40000000, 0x240000000, 2 * SZ_1G, PERM_RW);
	/* The top 1 GiB of the Sv48x4 space: root entry 2047, level-2 entry 511. */
	assert_int_equal(gstage_map(&gs, (1ULL << 50) - SZ_1G, SZ_1G, SZ_1G, GSTAGE_PERM_X), 0);
	check_leaf(table_of(gs.root[2047])[511], 2, SZ_1G, GSTAGE_PERM_X);
	check_mapped(&gs, p, (1ULL << 50) - SZ_1G, SZ_1G, SZ_1G, GSTAGE_PERM_X);
	expect_counts(&gs, p, 0, 0, 3, 2);
	destroy_all(&gs, p);
}

/* A 1 GiB aligned GPA whose HPA is only 2 MiB aligned gets 2 MiB leaves, not a gigapage. */
static void test_map_1g_gpa_2m_hpa(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x80200000, SZ_1G, GSTAGE_PERM_RWX), 0);
	expect_counts(&gs, p, 0, 512, 0, 1);
	check_mapped(&gs, p, 0x80000000, 0x80200000, SZ_1G, GSTAGE_PERM_RWX);
	destroy_all(&gs, p);

	/* And the other way round. */
	init_ok(&gs, GSTAGE_SV39X4, p);
	assert_int_equal(gstage_map(&gs, 0x80200000, 0x80000000, SZ_1G, GSTAGE_PERM_RWX), 0);
	expect_counts(&gs, p, 0, 512, 0, 2); /* spans two GiB of GPA */
	check_mapped(&gs, p, 0x80200000, 0x80000000, SZ_1G, GSTAGE_PERM_RWX);
	destroy_all(&gs, p);
}

/* Only 4 KiB aligned on one side: 4 KiB leaves throughout. */
static void test_map_4k_leaves(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	/* GPA 2 MiB aligned, HPA not: 1024 pages in two level-0 tables. */
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x90001000, 4 * MIB, PERM_RW), 0);
	expect_counts(&gs, p, 1024, 0, 0, 3);
	check_mapped(&gs, p, 0x80000000, 0x90001000, 4 * MIB, PERM_RW);
	/* HPA 2 MiB aligned, GPA not. */
	assert_int_equal(gstage_map(&gs, 0xa0003000, 0x90400000, 2 * MIB, PERM_RX), 0);
	expect_counts(&gs, p, 1024 + 512, 0, 0, 5);
	check_mapped(&gs, p, 0xa0003000, 0x90400000, 2 * MIB, PERM_RX);
	/* Both aligned but less than 2 MiB to map. */
	assert_int_equal(gstage_map(&gs, 0xc0000000, 0xc0000000, SZ_2M - SZ_4K, GSTAGE_PERM_R), 0);
	expect_counts(&gs, p, 1024 + 512 + 511, 0, 0, 7);
	check_mapped(&gs, p, 0xc0000000, 0xc0000000, SZ_2M - SZ_4K, GSTAGE_PERM_R);
	check_not_mapped_at(&gs, 0xc0000000 + SZ_2M - SZ_4K);
	/* A single page at GPA 0. */
	assert_int_equal(gstage_map(&gs, 0, 0x5000, SZ_4K, GSTAGE_PERM_W), 0);
	check_mapped(&gs, p, 0, 0x5000, SZ_4K, GSTAGE_PERM_W);
	check_not_mapped_at(&gs, SZ_4K);
	destroy_all(&gs, p);
}

/*
 * One range that needs every leaf size: 2 pages up to a GiB boundary, a
 * gigapage, a 2 MiB page, then 3 pages.
 */
#define MIX_GPA	 (SZ_1G - 2 * SZ_4K)
#define MIX_HPA	 (0x200000000ULL + MIX_GPA)
#define MIX_SIZE (2 * SZ_4K + SZ_1G + SZ_2M + 3 * SZ_4K)

static void test_map_mixed(void **state)
{
	struct pool *p = *state;

	for (unsigned m = 0; m < 2; m++) {
		struct gstage gs;
		unsigned level;

		init_ok(&gs, m ? GSTAGE_SV48X4 : GSTAGE_SV39X4, p);
		assert_int_equal(gstage_map(&gs, MIX_GPA, MIX_HPA, MIX_SIZE, PERM_RX), 0);
		/* Tables: L1 + L0 in GiB 0, L1 + L0 in GiB 2, and on Sv48x4 one L2. */
		expect_counts(&gs, p, 5, 1, 1, m ? 5 : 4);
		check_mapped(&gs, p, MIX_GPA, MIX_HPA, MIX_SIZE, PERM_RX);
		check_not_mapped_at(&gs, MIX_GPA - 1);
		check_not_mapped_at(&gs, MIX_GPA + MIX_SIZE);
		assert_true(raw_walk(&gs, p, MIX_GPA, &level) != 0);
		assert_int_equal(level, 0);
		assert_true(raw_walk(&gs, p, SZ_1G, &level) != 0);
		assert_int_equal(level, 2);
		assert_true(raw_walk(&gs, p, 2 * SZ_1G, &level) != 0);
		assert_int_equal(level, 1);
		assert_true(raw_walk(&gs, p, 2 * SZ_1G + SZ_2M, &level) != 0);
		assert_int_equal(level, 0);
		destroy_all(&gs, p);
	}
}

static void test_perms(void **state)
{
	static const unsigned perms[] = {
	    GSTAGE_PERM_R,
	    GSTAGE_PERM_W,
	    GSTAGE_PERM_X,
	    PERM_RW,
	    PERM_RX,
	    GSTAGE_PERM_RWX,
	    GSTAGE_PERM_W | GSTAGE_PERM_X,
	};
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	for (unsigned i = 0; i < ARRAY_SIZE(perms); i++) {
		gpa_t gpa = 0x80000000 + i * SZ_2M;
		unsigned got = 0;
		paddr_t hpa = 0;

		/* Extra bits beyond RWX are ignored. */
		assert_int_equal(
		    gstage_map(&gs, gpa, 0x10000000 + i * SZ_2M, SZ_2M, perms[i] | 0xf0), 0);
		assert_true(gstage_translate(&gs, gpa + 0x1234, &hpa, &got));
		assert_int_equal(hpa, 0x10000000 + i * SZ_2M + 0x1234);
		assert_int_equal(got, expected_perms(perms[i]));
		check_mapped(&gs, p, gpa, 0x10000000 + i * SZ_2M, SZ_2M, perms[i]);
	}
	/* No permission at all is refused. */
	assert_int_equal(gstage_map(&gs, 0x90000000, 0x90000000, SZ_4K, 0), -VIREO_EINVAL);
	assert_int_equal(gstage_map(&gs, 0x90000000, 0x90000000, SZ_4K, 0x10), -VIREO_EINVAL);
	check_not_mapped_at(&gs, 0x90000000);
	destroy_all(&gs, p);
}

static void test_gpa_limits(void **state)
{
	struct pool *p = *state;

	for (unsigned m = 0; m < 2; m++) {
		struct gstage gs;
		uint64_t limit = m ? 1ULL << 50 : 1ULL << 41;
		size_t allocs;
		paddr_t got;

		init_ok(&gs, m ? GSTAGE_SV48X4 : GSTAGE_SV39X4, p);
		allocs = p->allocs;
		assert_int_equal(gstage_map(&gs, limit, 0, SZ_4K, GSTAGE_PERM_R), -VIREO_EINVAL);
		assert_int_equal(gstage_map(&gs, limit - SZ_4K, 0, 2 * SZ_4K, GSTAGE_PERM_R),
				 -VIREO_EINVAL);
		assert_int_equal(gstage_map(&gs, limit * 2, 0, SZ_4K, GSTAGE_PERM_R),
				 -VIREO_EINVAL);
		assert_int_equal(gstage_map(&gs, 1ULL << 63, 0, SZ_4K, GSTAGE_PERM_R),
				 -VIREO_EINVAL);
		/* gpa + size wraps around */
		assert_int_equal(gstage_map(&gs, ~0ULL & ~(SZ_4K - 1), 0, 2 * SZ_4K, GSTAGE_PERM_R),
				 -VIREO_EINVAL);
		assert_int_equal(gstage_map(&gs, SZ_4K, 0, ~0ULL & ~(SZ_4K - 1), GSTAGE_PERM_R),
				 -VIREO_EINVAL);
		assert_int_equal(p->allocs, allocs);
		expect_counts(&gs, p, 0, 0, 0, 0);

		/* The last page below the limit is fine. */
		assert_int_equal(gstage_map(&gs, limit - SZ_4K, 0x7000, SZ_4K, GSTAGE_PERM_R), 0);
		check_mapped(&gs, p, limit - SZ_4K, 0x7000, SZ_4K, GSTAGE_PERM_R);
		/* Addresses at or past the limit never translate, even if their low bits are
		 * mapped. */
		assert_false(gstage_translate(&gs, limit, &got, NULL));
		assert_false(gstage_translate(&gs, limit + limit - SZ_4K, &got, NULL));
		assert_false(gstage_translate(&gs, ~0ULL, &got, NULL));
		destroy_all(&gs, p);
	}
}

static void test_misaligned(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	assert_int_equal(gstage_map(&gs, 0x80000001, 0x80000000, SZ_4K, GSTAGE_PERM_R),
			 -VIREO_EINVAL);
	assert_int_equal(gstage_map(&gs, 0x80000800, 0x80000000, SZ_4K, GSTAGE_PERM_R),
			 -VIREO_EINVAL);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x80000004, SZ_4K, GSTAGE_PERM_R),
			 -VIREO_EINVAL);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x80000000, SZ_4K + 1, GSTAGE_PERM_R),
			 -VIREO_EINVAL);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x80000000, 0x800, GSTAGE_PERM_R),
			 -VIREO_EINVAL);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x80000000, 0, GSTAGE_PERM_R), -VIREO_EINVAL);
	assert_int_equal(p->allocs, 1); /* the root only */
	expect_counts(&gs, p, 0, 0, 0, 0);
	check_not_mapped_at(&gs, 0x80000000);
	destroy_all(&gs, p);
}

/* Snapshot of what a table set maps, compared before and after a refused map. */
static void check_overlap_refused(struct gstage *gs, struct pool *p, gpa_t gpa, uint64_t size)
{
	size_t tables = gs->table_pages, allocs = p->allocs;

	assert_int_equal(gstage_map(gs, gpa, 0x300000000ULL, size, GSTAGE_PERM_RWX), -VIREO_EEXIST);
	assert_int_equal(gs->table_pages, tables);
	assert_int_equal(p->allocs, allocs);
}

static void test_overlap(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	/* A: 2 MiB leaves over [0x80000000, 0x80400000); B: 4 KiB pages at 0x90001000.. */
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x100000000, 4 * MIB, PERM_RW), 0);
	assert_int_equal(gstage_map(&gs, 0x90001000, 0x110001000, 3 * SZ_4K, GSTAGE_PERM_R), 0);
	expect_counts(&gs, p, 3, 2, 0, 2);

	check_overlap_refused(&gs, p, 0x80000000, 4 * MIB);	      /* the same */
	check_overlap_refused(&gs, p, 0x80100000, SZ_4K);	      /* inside a 2 MiB leaf */
	check_overlap_refused(&gs, p, 0x803ff000, SZ_4K);	      /* last page of A */
	check_overlap_refused(&gs, p, 0x7fe00000, SZ_2M + SZ_4K);     /* head overlap */
	check_overlap_refused(&gs, p, 0x803ff000, 1 * MIB);	      /* tail overlap */
	check_overlap_refused(&gs, p, 0x7fe00000, 8 * MIB);	      /* contains A */
	check_overlap_refused(&gs, p, 0x90000000, SZ_2M);	      /* contains B */
	check_overlap_refused(&gs, p, 0x90003000, SZ_4K);	      /* last page of B */
	check_overlap_refused(&gs, p, 0x8fffe000, 4 * SZ_4K);	      /* ends in B */
	check_overlap_refused(&gs, p, 0x7ffff000, SZ_1G + 2 * SZ_4K); /* spans both */

	/* Nothing changed: A and B map as before, the free neighbours stay free. */
	check_mapped(&gs, p, 0x80000000, 0x100000000, 4 * MIB, PERM_RW);
	check_mapped(&gs, p, 0x90001000, 0x110001000, 3 * SZ_4K, GSTAGE_PERM_R);
	check_unmapped(&gs, 0x7fe00000, SZ_2M);
	check_unmapped(&gs, 0x80400000, SZ_2M);
	check_unmapped(&gs, 0x90000000, SZ_4K);
	check_unmapped(&gs, 0x90004000, 0x1fc000);
	expect_counts(&gs, p, 3, 2, 0, 2);

	/* Touching neighbours are not overlaps. */
	assert_int_equal(gstage_map(&gs, 0x7fe00000, 0x7fe00000, SZ_2M, GSTAGE_PERM_R), 0);
	assert_int_equal(gstage_map(&gs, 0x80400000, 0x80400000, SZ_4K, GSTAGE_PERM_R), 0);
	assert_int_equal(gstage_map(&gs, 0x90000000, 0x90000000, SZ_4K, GSTAGE_PERM_R), 0);
	assert_int_equal(gstage_map(&gs, 0x90004000, 0x90004000, SZ_4K, GSTAGE_PERM_R), 0);
	check_mapped(&gs, p, 0x7fe00000, 0x7fe00000, SZ_2M, GSTAGE_PERM_R);
	check_mapped(&gs, p, 0x80000000, 0x100000000, 4 * MIB, PERM_RW);
	check_mapped(&gs, p, 0x90000000, 0x90000000, SZ_4K, GSTAGE_PERM_R);
	check_mapped(&gs, p, 0x90001000, 0x110001000, 3 * SZ_4K, GSTAGE_PERM_R);
	check_mapped(&gs, p, 0x90004000, 0x90004000, SZ_4K, GSTAGE_PERM_R);
	destroy_all(&gs, p);
}

/*
 * Run out of table pages at every possible point of a map that needs 4 of
 * them (5 on Sv48x4): -VIREO_ENOMEM and nothing of the range mapped, while an
 * earlier mapping stays intact; with pages again the same map succeeds.
 */
static void test_out_of_pages(void **state)
{
	struct pool *p = *state;

	for (unsigned m = 0; m < 2; m++) {
		unsigned needed = 4; /* on Sv48x4 the level-2 table exists already */

		for (unsigned budget = 0; budget < needed; budget++) {
			struct gstage gs;

			init_ok(&gs, m ? GSTAGE_SV48X4 : GSTAGE_SV39X4, p);
			/* Something else mapped first, in a GiB the mixed range does not touch. */
			assert_int_equal(gstage_map(&gs, 0xc0000000, 0x1000, SZ_4K, GSTAGE_PERM_R),
					 0);
			p->budget = budget;
			assert_int_equal(
			    gstage_map(&gs, MIX_GPA, MIX_HPA, MIX_SIZE, GSTAGE_PERM_RWX),
			    -VIREO_ENOMEM);
			check_unmapped(&gs, MIX_GPA, MIX_SIZE);
			check_mapped(&gs, p, 0xc0000000, 0x1000, SZ_4K, GSTAGE_PERM_R);
			/* Tables made on the way may stay, but they are accounted for and hold no
			 * leaf. */
			{
				struct leaf_counts c = count_all(&gs, p);
				assert_int_equal(c.leaves[0], 1);
				assert_int_equal(c.leaves[1] + c.leaves[2], 0);
			}
			p->budget = -1;
			assert_int_equal(
			    gstage_map(&gs, MIX_GPA, MIX_HPA, MIX_SIZE, GSTAGE_PERM_RWX), 0);
			check_mapped(&gs, p, MIX_GPA, MIX_HPA, MIX_SIZE, GSTAGE_PERM_RWX);
			destroy_all(&gs, p);
		}
	}
}

/* A gigapage written before the allocation failure is taken back too. */
static void test_out_of_pages_after_gigapage(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	p->budget = 0;
	assert_int_equal(gstage_map(&gs, SZ_1G, SZ_1G, SZ_1G + SZ_2M, GSTAGE_PERM_RWX),
			 -VIREO_ENOMEM);
	assert_int_equal(gs.root[1], 0);
	check_unmapped(&gs, SZ_1G, SZ_1G + SZ_2M);
	expect_counts(&gs, p, 0, 0, 0, 0);
	p->budget = -1;
	destroy_all(&gs, p);
}

static void test_destroy_returns_everything(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV48X4, p);
	assert_int_equal(gstage_map(&gs, MIX_GPA, MIX_HPA, MIX_SIZE, GSTAGE_PERM_RWX), 0);
	assert_int_equal(gstage_map(&gs, 1ULL << 45, 0x1000, 3 * SZ_4K, GSTAGE_PERM_R), 0);
	assert_int_equal(gstage_map(&gs, (1ULL << 50) - SZ_2M, SZ_2M, SZ_2M, GSTAGE_PERM_R), 0);
	expect_counts(&gs, p, 5 + 3, 1 + 1, 1, 5 + 3 + 2);
	assert_int_equal(p->outstanding, 4 + 10);
	destroy_all(&gs, p);
	assert_int_equal(p->frees, 11); /* 10 tables and the root */
}

static void test_hgatp(void **state)
{
	struct pool *p = *state;

	for (unsigned m = 0; m < 2; m++) {
		static const unsigned vmids[] = {0, 1, 0x2a, 0x1234, 0x3fff};
		struct gstage gs;

		init_ok(&gs, m ? GSTAGE_SV48X4 : GSTAGE_SV39X4, p);
		for (unsigned i = 0; i < ARRAY_SIZE(vmids); i++) {
			uint64_t h = gstage_hgatp(&gs, vmids[i]);

			assert_int_equal(h >> 60, m ? 9 : 8);
			assert_int_equal((h >> 58) & 3, 0);
			assert_int_equal((h >> 44) & 0x3fff, vmids[i]);
			assert_int_equal(h & ((1ULL << 44) - 1), (uintptr_t)gs.root >> 12);
			/* The root is 16 KiB aligned, so the PPN's low 2 bits are 0. */
			assert_int_equal(h & 3, 0);
		}
		destroy_all(&gs, p);
	}
}

/* ---------------------------------------------------------------- dirty tracking */

/* What the hardware does on a store to a clean page (QEMU 7.2 updates D itself). */
static void hw_store(const struct gstage *gs, const struct pool *p, gpa_t gpa)
{
	unsigned level = 99;
	uint64_t pte = raw_walk(gs, p, gpa, &level);
	uint64_t *slot;

	assert_true(pte != 0);
	assert_int_equal(level, 0);
	/* raw_walk gave a copy: find the slot by walking again through gstage's tables. */
	slot = (uint64_t *)(uintptr_t)table_of(raw_walk_parent(gs, p, gpa));
	slot[(gpa >> 12) & 511] |= PTE_D;
}

struct collected {
	gpa_t pages[16];
	size_t n;
};

static void collect(void *ctx, gpa_t page)
{
	struct collected *c = ctx;

	assert_true(c->n < 16);
	c->pages[c->n++] = page;
}

/* A 2 MiB superpage and a 1 MiB run of pages become 4 KiB leaves with D clear, mapping the
 * same; stores are found once each, in order, and the scan clears them. */
static void test_track_dirty(void **state)
{
	struct pool *p = *state;
	struct collected c = {0};
	struct gstage gs;
	unsigned level;

	init_ok(&gs, GSTAGE_SV39X4, p);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x90000000, SZ_2M, GSTAGE_PERM_RWX), 0);
	assert_int_equal(gstage_map(&gs, 0x80200000, 0x90201000, MIB, PERM_RW), 0);
	expect_counts(&gs, p, 256, 1, 0, 2);
	assert_int_equal(gstage_track_dirty(&gs, 0x80000000, SZ_2M + MIB), 0);
	expect_counts(&gs, p, 768, 0, 0, 3);
	for (uint64_t off = 0; off < SZ_2M + MIB; off += SZ_4K) {
		uint64_t pte = raw_walk(&gs, p, 0x80000000 + off, &level);
		paddr_t hpa = off < SZ_2M ? 0x90000000 + off : 0x90201000 + off - SZ_2M;

		assert_int_equal(level, 0);
		check_leaf(pte | PTE_D, 0, hpa, off < SZ_2M ? GSTAGE_PERM_RWX : PERM_RW);
		assert_int_equal(pte & PTE_D, 0);
	}
	assert_int_equal(gstage_collect_dirty(&gs, 0x80000000, SZ_2M + MIB, collect, &c), 0);

	hw_store(&gs, p, 0x80200000 + 5 * SZ_4K);
	hw_store(&gs, p, 0x80000000);
	hw_store(&gs, p, 0x80000000 + SZ_2M - SZ_4K);
	/* A range that leaves the last one out, then the whole. */
	assert_int_equal(gstage_collect_dirty(&gs, 0x80000000, SZ_2M - SZ_4K, collect, &c), 1);
	assert_int_equal(c.pages[0], 0x80000000);
	assert_int_equal(gstage_collect_dirty(&gs, 0x7ff00000, 8 * MIB, collect, &c), 2);
	assert_int_equal(c.pages[1], 0x80000000 + SZ_2M - SZ_4K);
	assert_int_equal(c.pages[2], 0x80200000 + 5 * SZ_4K);
	assert_int_equal(gstage_collect_dirty(&gs, 0x80000000, SZ_2M + MIB, collect, &c), 0);
	assert_int_equal(c.n, 3);

	/* Software's dirty bit, for hardware that faults instead: once, and only for a
	 * writable tracked page. */
	assert_true(gstage_set_dirty(&gs, 0x80000000 + 7 * SZ_4K + 12));
	assert_false(gstage_set_dirty(&gs, 0x80000000 + 7 * SZ_4K));
	assert_false(gstage_set_dirty(&gs, 0x80400000));
	assert_false(gstage_set_dirty(&gs, ~0ULL));
	assert_int_equal(gstage_collect_dirty(&gs, 0, ~0ULL, NULL, NULL), 1);
	check_byte(&gs, 0x80000000 + 7 * SZ_4K + 12, 0x90000000 + 7 * SZ_4K + 12, GSTAGE_PERM_RWX);
	check_byte(&gs, 0x80200000 + MIB - 1, 0x90201000 + MIB - 1, PERM_RW);
	destroy_all(&gs, p);
}

static void test_track_dirty_errors(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x90000000, SZ_2M, PERM_RW), 0);
	assert_int_equal(gstage_map(&gs, 0x80400000, 0x90400000, SZ_4K, PERM_RX), 0);
	/* A hole in the range: nothing changes. */
	assert_int_equal(gstage_track_dirty(&gs, 0x80000000, SZ_2M + SZ_4K), -VIREO_EINVAL);
	assert_int_equal(gstage_track_dirty(&gs, 0x80000800, SZ_4K), -VIREO_EINVAL);
	assert_int_equal(gstage_track_dirty(&gs, 0x80000000, 0), -VIREO_EINVAL);
	assert_int_equal(gstage_track_dirty(&gs, ~0ULL & ~0xfffULL, SZ_4K), -VIREO_EINVAL);
	expect_counts(&gs, p, 1, 1, 0, 2);
	/* No page for the split: the superpage still maps it all. */
	p->budget = 0;
	assert_int_equal(gstage_track_dirty(&gs, 0x80000000, SZ_4K), -VIREO_ENOMEM);
	check_mapped(&gs, p, 0x80000000, 0x90000000, SZ_2M, PERM_RW);
	p->budget = -1;
	/* A read-only page is tracked, but never becomes dirty by software. */
	assert_int_equal(gstage_track_dirty(&gs, 0x80400000, SZ_4K), 0);
	assert_false(gstage_set_dirty(&gs, 0x80400000));
	destroy_all(&gs, p);
}

static void test_unmap(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0x90000000, SZ_2M, PERM_RW), 0);
	assert_int_equal(gstage_map(&gs, 0x80400000, 0x90400000, 4 * SZ_4K, PERM_RW), 0);
	/* Part of a superpage: refused. */
	assert_int_equal(gstage_unmap(&gs, 0x80000000, SZ_4K), -VIREO_EINVAL);
	assert_int_equal(gstage_unmap(&gs, 0x80100000, SZ_2M), -VIREO_EINVAL);
	assert_int_equal(gstage_unmap(&gs, 0x80400000, 0), -VIREO_EINVAL);
	check_mapped(&gs, p, 0x80000000, 0x90000000, SZ_2M, PERM_RW);
	/* Pages with holes around them. */
	assert_int_equal(gstage_unmap(&gs, 0x80401000, 2 * SZ_4K), 0);
	check_unmapped(&gs, 0x80401000, 2 * SZ_4K);
	check_mapped(&gs, p, 0x80400000, 0x90400000, SZ_4K, PERM_RW);
	check_mapped(&gs, p, 0x80403000, 0x90403000, SZ_4K, PERM_RW);
	assert_int_equal(gstage_unmap(&gs, 0x80300000, 2 * MIB), 0);
	check_unmapped(&gs, 0x80400000, 4 * SZ_4K);
	assert_int_equal(gstage_unmap(&gs, 0x80000000, SZ_2M), 0);
	check_unmapped(&gs, 0x80000000, SZ_2M);
	/* Mapped again where it was. */
	assert_int_equal(gstage_map(&gs, 0x80401000, 0x90001000, SZ_4K, PERM_RW), 0);
	check_mapped(&gs, p, 0x80401000, 0x90001000, SZ_4K, PERM_RW);
	destroy_all(&gs, p);
}

struct visited {
	gpa_t gpa[8];
	paddr_t hpa[8];
	size_t n;
};

static void visit(void *ctx, gpa_t gpa, paddr_t hpa)
{
	struct visited *v = ctx;

	assert_true(v->n < 8);
	v->gpa[v->n] = gpa;
	v->hpa[v->n++] = hpa;
}

/* A fork's RAM: a 1 GiB read-only superpage; a write gives one page its own RWX leaf, the
 * gigapage split into 2 MiB leaves and one of those into 4 KiB leaves, all else the same. */
static void test_cow_set_page(void **state)
{
	struct pool *p = *state;
	struct gstage gs;
	struct visited v = {0};

	init_ok(&gs, GSTAGE_SV39X4, p);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0xc0000000, SZ_1G, PERM_RX), 0);
	assert_int_equal(gstage_leaf_level(&gs, 0x80000000 + 123 * SZ_4K), 2);
	assert_int_equal(gstage_leaf_level(&gs, 0x7ffff000), -1);
	assert_int_equal(gstage_leaf_level(&gs, ~0ULL), -1);
	expect_counts(&gs, p, 0, 0, 1, 0);
	assert_int_equal(
	    gstage_set_page(&gs, 0x80000000 + SZ_2M + 5 * SZ_4K, 0x12345000, GSTAGE_PERM_RWX), 0);
	expect_counts(&gs, p, 512, 511, 0, 2);
	assert_int_equal(gs.table_pages, 4 + 2);
	check_byte(&gs, 0x80000000 + SZ_2M + 5 * SZ_4K + 77, 0x12345000 + 77, GSTAGE_PERM_RWX);
	assert_int_equal(gstage_leaf_level(&gs, 0x80000000 + SZ_2M + 5 * SZ_4K), 0);
	assert_int_equal(gstage_leaf_level(&gs, 0x80000000), 1);
	check_mapped(&gs, p, 0x80000000, 0xc0000000, SZ_2M + 5 * SZ_4K, PERM_RX);
	check_mapped(&gs, p, 0x80000000 + SZ_2M + 6 * SZ_4K, 0xc0000000 + SZ_2M + 6 * SZ_4K,
		     SZ_1G - SZ_2M - 6 * SZ_4K, PERM_RX);
	/* A page that has its own leaf already: replaced, nothing split. */
	assert_int_equal(gstage_set_page(&gs, 0x80000000 + SZ_2M + 6 * SZ_4K, 0x20000000, PERM_RW),
			 0);
	assert_int_equal(gstage_set_page(&gs, 0x80000000 + SZ_2M + 5 * SZ_4K, 0x30000000, PERM_RW),
			 0);
	assert_int_equal(gs.table_pages, 6);
	check_byte(&gs, 0x80000000 + SZ_2M + 5 * SZ_4K, 0x30000000, PERM_RW);
	/* Only the writable 4 KiB leaves, in order; a bad range visits nothing. */
	assert_int_equal(gstage_for_each_page(&gs, 0x80000000, SZ_1G, GSTAGE_PERM_W, visit, &v), 2);
	assert_int_equal(v.gpa[0], 0x80000000 + SZ_2M + 5 * SZ_4K);
	assert_int_equal(v.hpa[0], 0x30000000);
	assert_int_equal(v.gpa[1], 0x80000000 + SZ_2M + 6 * SZ_4K);
	assert_int_equal(v.hpa[1], 0x20000000);
	assert_int_equal(gstage_for_each_page(&gs, 0x80000000, SZ_1G, GSTAGE_PERM_R, NULL, NULL),
			 512);
	assert_int_equal(gstage_for_each_page(&gs, 0x80000000 + SZ_2M + 6 * SZ_4K, SZ_4K,
					      GSTAGE_PERM_W, NULL, NULL),
			 1);
	assert_int_equal(gstage_for_each_page(&gs, 0x80000001, SZ_4K, 0, NULL, NULL), 0);
	assert_int_equal(gstage_for_each_page(&gs, ~0ULL & ~0xfffULL, SZ_4K, 0, NULL, NULL), 0);
	destroy_all(&gs, p);
	assert_int_equal(gstage_for_each_page(&gs, 0x80000000, SZ_1G, 0, NULL, NULL), 0);
}

static void test_cow_set_page_errors(void **state)
{
	struct pool *p = *state;
	struct gstage gs;

	init_ok(&gs, GSTAGE_SV39X4, p);
	assert_int_equal(gstage_map(&gs, 0x80000000, 0xc0000000, SZ_1G, PERM_RX), 0);
	assert_int_equal(gstage_set_page(&gs, 0x7ffff000, 0x1000, PERM_RW), -VIREO_EINVAL);
	assert_int_equal(gstage_set_page(&gs, 0x80000800, 0x1000, PERM_RW), -VIREO_EINVAL);
	assert_int_equal(gstage_set_page(&gs, 0x80000000, 0x1800, PERM_RW), -VIREO_EINVAL);
	assert_int_equal(gstage_set_page(&gs, 0x80000000, 0x1000, 0), -VIREO_EINVAL);
	assert_int_equal(gstage_set_page(&gs, ~0ULL & ~0xfffULL, 0x1000, PERM_RW), -VIREO_EINVAL);
	/* Tables run out half-way down: what was split translates the same. */
	p->budget = 1;
	assert_int_equal(gstage_set_page(&gs, 0x80000000, 0x1000, PERM_RW), -VIREO_ENOMEM);
	assert_int_equal(gstage_leaf_level(&gs, 0x80000000), 1);
	check_mapped(&gs, p, 0x80000000, 0xc0000000, SZ_1G, PERM_RX);
	p->budget = -1;
	assert_int_equal(gstage_set_page(&gs, 0x80000000, 0x1000, PERM_RW), 0);
	check_byte(&gs, 0x80000fff, 0x1fff, PERM_RW);
	check_mapped(&gs, p, 0x80001000, 0xc0001000, SZ_1G - SZ_4K, PERM_RX);
	destroy_all(&gs, p);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, pool_setup, pool_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_init_root),
	    T(test_init_no_memory),
	    T(test_map_2m_leaves),
	    T(test_map_1g_leaves),
	    T(test_map_1g_gpa_2m_hpa),
	    T(test_map_4k_leaves),
	    T(test_map_mixed),
	    T(test_perms),
	    T(test_gpa_limits),
	    T(test_misaligned),
	    T(test_overlap),
	    T(test_out_of_pages),
	    T(test_out_of_pages_after_gigapage),
	    T(test_destroy_returns_everything),
	    T(test_hgatp),
	    T(test_track_dirty),
	    T(test_track_dirty_errors),
	    T(test_unmap),
	    T(test_cow_set_page),
	    T(test_cow_set_page_errors),
	};
#undef T

	return cmocka_run_group_tests_name("gstage", tests, NULL, NULL);
}
