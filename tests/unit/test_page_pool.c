// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the bitmap page allocator (hv/core/page_pool.c).
 *
 * The pool never touches the pages it hands out, so most tests run it over
 * made-up physical addresses. The base is deliberately not aligned to more
 * than a page so that aligned requests have to skip pages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/mm.h>

/* 0x80000000 + 3 pages: aligned to 4 KiB but not to 8 KiB or more. */
#define BASE	  ((uintptr_t)0x80003000UL)
#define MAX_PAGES 1024

static uint64_t bitmap[MAX_PAGES / 64 + 1];

static uintptr_t page_addr(size_t i)
{
	return BASE + i * PAGE_SIZE;
}

static void *page_ptr(size_t i)
{
	return (void *)page_addr(i);
}

static bool bit_set(const struct page_pool *pool, size_t i)
{
	return (pool->bitmap[i / 64] >> (i % 64)) & 1;
}

static size_t count_used_bits(const struct page_pool *pool)
{
	size_t n = 0;

	for (size_t i = 0; i < pool->npages; i++)
		n += bit_set(pool, i);
	return n;
}

static void test_init_state(void **state)
{
	struct page_pool pool;

	(void)state;
	memset(bitmap, 0xa5, sizeof(bitmap));
	page_pool_init(&pool, BASE, 100, bitmap);
	assert_int_equal(page_pool_free_count(&pool), 100);
	assert_int_equal(pool.base, BASE);
	assert_int_equal(pool.npages, 100);
	/* Pages 0..99 free, the 28 bits past the end of word 1 used. */
	assert_int_equal(bitmap[0], 0);
	assert_int_equal(bitmap[1], ~0ULL << 36);
	/* Word 2 is not part of a 100-page bitmap: left alone. */
	assert_int_equal(bitmap[2], 0xa5a5a5a5a5a5a5a5ULL);
	assert_int_equal(page_pool_bitmap_bytes(100), 16);
	assert_int_equal(page_pool_bitmap_bytes(64), 8);
	assert_int_equal(page_pool_bitmap_bytes(65), 16);
	assert_int_equal(page_pool_bitmap_bytes(0), 0);
}

static void test_init_multiple_of_64(void **state)
{
	struct page_pool pool;

	(void)state;
	memset(bitmap, 0xff, sizeof(bitmap));
	page_pool_init(&pool, BASE, 128, bitmap);
	assert_int_equal(bitmap[0], 0);
	assert_int_equal(bitmap[1], 0);
	assert_int_equal(bitmap[2], ~0ULL); /* untouched */
	assert_int_equal(page_pool_free_count(&pool), 128);
}

static void test_empty_pool(void **state)
{
	struct page_pool pool;

	(void)state;
	page_pool_init(&pool, BASE, 0, bitmap);
	assert_int_equal(page_pool_free_count(&pool), 0);
	assert_null(page_pool_alloc(&pool, 1, PAGE_SIZE));
	assert_int_equal(page_pool_free(&pool, page_ptr(0), 1), -VIREO_EINVAL);
}

static void test_single_pages_until_empty(void **state)
{
	struct page_pool pool;

	(void)state;
	page_pool_init(&pool, BASE, 70, bitmap);
	for (size_t i = 0; i < 70; i++) {
		void *p = page_pool_alloc(&pool, 1, PAGE_SIZE);
		assert_ptr_equal(p, page_ptr(i));
		assert_int_equal(page_pool_free_count(&pool), 70 - i - 1);
	}
	assert_null(page_pool_alloc(&pool, 1, PAGE_SIZE));
	assert_null(page_pool_alloc(&pool, 1, 0));
	assert_int_equal(page_pool_free_count(&pool), 0);

	/* Free one in the middle: the next single page is exactly that one. */
	assert_int_equal(page_pool_free(&pool, page_ptr(33), 1), 0);
	assert_int_equal(page_pool_free_count(&pool), 1);
	assert_ptr_equal(page_pool_alloc(&pool, 1, PAGE_SIZE), page_ptr(33));
	assert_null(page_pool_alloc(&pool, 1, PAGE_SIZE));
}

static void test_bad_requests(void **state)
{
	struct page_pool pool;

	(void)state;
	page_pool_init(&pool, BASE, 64, bitmap);
	assert_null(page_pool_alloc(&pool, 0, PAGE_SIZE));
	assert_null(page_pool_alloc(&pool, 1, 3 * PAGE_SIZE));	/* not a power of two */
	assert_null(page_pool_alloc(&pool, 2, 12 * PAGE_SIZE)); /* not a power of two */
	assert_null(page_pool_alloc(&pool, 65, PAGE_SIZE));	/* more than the pool */
	assert_int_equal(page_pool_free_count(&pool), 64);
	assert_int_equal(count_used_bits(&pool), 0);
	/* An alignment below a page means "page aligned". */
	assert_ptr_equal(page_pool_alloc(&pool, 1, 0), page_ptr(0));
	assert_ptr_equal(page_pool_alloc(&pool, 1, 8), page_ptr(1));
	assert_ptr_equal(page_pool_alloc(&pool, 2, PAGE_SIZE / 2), page_ptr(2));
	assert_int_equal(page_pool_free_count(&pool), 60);
}

static void test_whole_pool_in_one_block(void **state)
{
	struct page_pool pool;

	(void)state;
	page_pool_init(&pool, BASE, 200, bitmap);
	assert_ptr_equal(page_pool_alloc(&pool, 200, PAGE_SIZE), page_ptr(0));
	assert_int_equal(page_pool_free_count(&pool), 0);
	assert_int_equal(count_used_bits(&pool), 200);
	assert_null(page_pool_alloc(&pool, 1, PAGE_SIZE));
	assert_int_equal(page_pool_free(&pool, page_ptr(0), 200), 0);
	assert_int_equal(page_pool_free_count(&pool), 200);
	assert_int_equal(count_used_bits(&pool), 0);
	assert_null(page_pool_alloc(&pool, 201, PAGE_SIZE));
}

static void test_aligned_blocks(void **state)
{
	struct page_pool pool;
	static const size_t aligns[] = {2, 4, 8, 16, 64, 128, 256};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(aligns); k++) {
		size_t align = aligns[k] * PAGE_SIZE;
		/* First page of the pool that is aligned: BASE is 0x80003000. */
		size_t first = (ALIGN_UP(BASE, align) - BASE) / PAGE_SIZE;

		page_pool_init(&pool, BASE, 1000, bitmap);
		void *p = page_pool_alloc(&pool, 3, align);
		assert_ptr_equal(p, page_ptr(first));
		assert_true(IS_ALIGNED((uintptr_t)p, align));
		assert_int_equal(page_pool_free_count(&pool), 997);
		/* Next aligned block of one page: the first aligned address past p's pages. */
		void *q = page_pool_alloc(&pool, 1, align);
		assert_ptr_equal(q, page_ptr(first + ALIGN_UP(3, aligns[k])));
		/* Pages before the first aligned one are still free. */
		for (size_t i = 0; i < first; i++)
			assert_false(bit_set(&pool, i));
		assert_int_equal(page_pool_free(&pool, p, 3), 0);
		assert_int_equal(page_pool_free(&pool, q, 1), 0);
		assert_int_equal(count_used_bits(&pool), 0);
	}
}

static void test_alignment_not_available(void **state)
{
	struct page_pool pool;

	(void)state;
	/* 0x80003000 + 100 pages = 0x80067000: holds no 1 MiB aligned address. */
	page_pool_init(&pool, BASE, 100, bitmap);
	assert_null(page_pool_alloc(&pool, 1, 1 * MIB));
	assert_int_equal(page_pool_free_count(&pool), 100);
	/* 256 KiB aligned: 0x80040000 is page 61; 40 pages from there do not fit. */
	assert_null(page_pool_alloc(&pool, 40, 256 * KIB));
	assert_ptr_equal(page_pool_alloc(&pool, 39, 256 * KIB), (void *)0x80040000UL);
	assert_int_equal(page_pool_free_count(&pool), 61);
}

static void test_contiguous_run_skips_holes(void **state)
{
	struct page_pool pool;
	void *p[40];

	(void)state;
	page_pool_init(&pool, BASE, 40, bitmap);
	for (size_t i = 0; i < 40; i++)
		p[i] = page_pool_alloc(&pool, 1, PAGE_SIZE);
	/* Holes of 1, 2 and 3 pages at 5, 10-11 and 20-22, plus 30-39. */
	assert_int_equal(page_pool_free(&pool, p[5], 1), 0);
	assert_int_equal(page_pool_free(&pool, p[10], 1), 0);
	assert_int_equal(page_pool_free(&pool, p[11], 1), 0);
	for (size_t i = 20; i < 23; i++)
		assert_int_equal(page_pool_free(&pool, p[i], 1), 0);
	/* Pages allocated one by one may be freed as one range, if all are in use. */
	assert_int_equal(page_pool_free(&pool, p[30], 1), 0);
	assert_int_equal(page_pool_free(&pool, p[30], 10), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, p[31], 9), 0);
	assert_int_equal(page_pool_free_count(&pool), 16);

	assert_ptr_equal(page_pool_alloc(&pool, 3, PAGE_SIZE), page_ptr(20));
	assert_ptr_equal(page_pool_alloc(&pool, 2, PAGE_SIZE), page_ptr(10));
	assert_ptr_equal(page_pool_alloc(&pool, 4, PAGE_SIZE), page_ptr(30));
	assert_null(page_pool_alloc(&pool, 7, PAGE_SIZE)); /* 6 left at 34..39 */
	assert_ptr_equal(page_pool_alloc(&pool, 6, PAGE_SIZE), page_ptr(34));
	assert_ptr_equal(page_pool_alloc(&pool, 1, PAGE_SIZE), page_ptr(5));
	assert_int_equal(page_pool_free_count(&pool), 0);
}

static void test_skips_full_words(void **state)
{
	struct page_pool pool;

	(void)state;
	page_pool_init(&pool, BASE, 300, bitmap);
	/* Pages 0..191 used: three whole bitmap words. */
	assert_ptr_equal(page_pool_alloc(&pool, 192, PAGE_SIZE), page_ptr(0));
	assert_ptr_equal(page_pool_alloc(&pool, 100, PAGE_SIZE), page_ptr(192));
	assert_null(page_pool_alloc(&pool, 9, PAGE_SIZE));
	assert_ptr_equal(page_pool_alloc(&pool, 8, PAGE_SIZE), page_ptr(292));
	assert_int_equal(page_pool_free_count(&pool), 0);
}

/* A snapshot of the pool, to check that a refused call changed nothing. */
struct snapshot {
	uint64_t words[MAX_PAGES / 64 + 1];
	size_t free_pages;
};

static void take_snapshot(const struct page_pool *pool, struct snapshot *s)
{
	memcpy(s->words, pool->bitmap, page_pool_bitmap_bytes(pool->npages));
	s->free_pages = pool->free_pages;
}

static void assert_unchanged(const struct page_pool *pool, const struct snapshot *s)
{
	assert_memory_equal(s->words, pool->bitmap, page_pool_bitmap_bytes(pool->npages));
	assert_int_equal(s->free_pages, pool->free_pages);
}

static void test_double_free_refused(void **state)
{
	struct page_pool pool;
	struct snapshot snap;

	(void)state;
	page_pool_init(&pool, BASE, 64, bitmap);
	void *a = page_pool_alloc(&pool, 4, PAGE_SIZE);
	void *b = page_pool_alloc(&pool, 1, PAGE_SIZE);
	assert_ptr_equal(a, page_ptr(0));
	assert_ptr_equal(b, page_ptr(4));
	assert_int_equal(page_pool_free(&pool, b, 1), 0);

	take_snapshot(&pool, &snap);
	assert_int_equal(page_pool_free(&pool, b, 1), -VIREO_EINVAL);
	assert_unchanged(&pool, &snap);

	/* Part of a block freed, then the whole block: refused, the rest stays used. */
	assert_int_equal(page_pool_free(&pool, page_ptr(1), 2), 0);
	take_snapshot(&pool, &snap);
	assert_int_equal(page_pool_free(&pool, a, 4), -VIREO_EINVAL);
	assert_unchanged(&pool, &snap);
	assert_true(bit_set(&pool, 0));
	assert_true(bit_set(&pool, 3));
	assert_int_equal(page_pool_free_count(&pool), 62);

	/* A range running from used into free pages is refused too. */
	assert_int_equal(page_pool_free(&pool, page_ptr(3), 2), -VIREO_EINVAL);
	assert_unchanged(&pool, &snap);

	assert_int_equal(page_pool_free(&pool, page_ptr(0), 1), 0);
	assert_int_equal(page_pool_free(&pool, page_ptr(3), 1), 0);
	assert_int_equal(page_pool_free_count(&pool), 64);
	assert_int_equal(count_used_bits(&pool), 0);
}

static void test_bad_free_refused(void **state)
{
	struct page_pool pool;
	struct snapshot snap;

	(void)state;
	page_pool_init(&pool, BASE, 100, bitmap);
	assert_ptr_equal(page_pool_alloc(&pool, 100, PAGE_SIZE), page_ptr(0));
	take_snapshot(&pool, &snap);

	assert_int_equal(page_pool_free(&pool, (void *)(BASE - PAGE_SIZE), 1), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, (void *)(BASE - PAGE_SIZE), 2), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, page_ptr(100), 1), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, page_ptr(1000), 1), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, page_ptr(99), 2), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, page_ptr(0), 101), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, page_ptr(1), SIZE_MAX), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, (void *)(page_addr(5) + 8), 1), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, (void *)(page_addr(5) + 0x800), 1), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, page_ptr(5), 0), -VIREO_EINVAL);
	assert_int_equal(page_pool_free(&pool, NULL, 1), -VIREO_EINVAL);
	assert_unchanged(&pool, &snap);

	/* The last page of the pool can be freed on its own. */
	assert_int_equal(page_pool_free(&pool, page_ptr(99), 1), 0);
	assert_int_equal(page_pool_free_count(&pool), 1);
}

static void test_reserve(void **state)
{
	struct page_pool pool;
	struct snapshot snap;

	(void)state;
	page_pool_init(&pool, BASE, 64, bitmap);
	bitmap[1] = 0x1234; /* not part of the pool */
	/* An unaligned range covers every page it touches: pages 1 and 2. */
	page_pool_reserve(&pool, page_addr(1) + 0x800, page_addr(2) + 1);
	assert_int_equal(page_pool_free_count(&pool), 62);
	assert_false(bit_set(&pool, 0));
	assert_true(bit_set(&pool, 1));
	assert_true(bit_set(&pool, 2));
	assert_false(bit_set(&pool, 3));

	/* Reserving an overlapping range counts each page once. */
	page_pool_reserve(&pool, page_addr(2), page_addr(5));
	assert_int_equal(page_pool_free_count(&pool), 60);
	assert_int_equal(count_used_bits(&pool), 4);

	/* An empty range and ranges wholly outside the pool change nothing. */
	take_snapshot(&pool, &snap);
	page_pool_reserve(&pool, page_addr(10), page_addr(10));
	page_pool_reserve(&pool, BASE - 10 * PAGE_SIZE, BASE);
	page_pool_reserve(&pool, page_addr(64), page_addr(80));
	page_pool_reserve(&pool, 0, 0x1000);
	assert_unchanged(&pool, &snap);

	/* Allocation goes around reserved pages. */
	assert_ptr_equal(page_pool_alloc(&pool, 1, PAGE_SIZE), page_ptr(0));
	assert_ptr_equal(page_pool_alloc(&pool, 2, PAGE_SIZE), page_ptr(5));
	assert_int_equal(page_pool_free_count(&pool), 57);

	/* A range hanging over both ends is clipped to the pool. */
	page_pool_reserve(&pool, BASE - 4 * PAGE_SIZE, page_addr(200));
	assert_int_equal(page_pool_free_count(&pool), 0);
	assert_int_equal(count_used_bits(&pool), 64);
	assert_null(page_pool_alloc(&pool, 1, PAGE_SIZE));
	assert_int_equal(bitmap[1], 0x1234);
}

/* ---- Random operations checked against a model of the pool. */

struct block {
	size_t first, npages;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64 */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Is there a free run of npages starting at an address aligned to align? */
static bool model_has_run(const bool *used, size_t npages_pool, size_t npages, size_t align)
{
	for (size_t i = 0; i + npages <= npages_pool; i++) {
		if (!IS_ALIGNED(page_addr(i), align))
			continue;
		size_t n = 0;
		while (n < npages && !used[i + n])
			n++;
		if (n == npages)
			return true;
	}
	return false;
}

static void check_model(const struct page_pool *pool, const bool *used)
{
	size_t nfree = 0;

	for (size_t i = 0; i < pool->npages; i++) {
		assert_int_equal(bit_set(pool, i), used[i]);
		nfree += !used[i];
	}
	assert_int_equal(pool->free_pages, nfree);
	/* The padding bits of the last word stay set. */
	for (size_t i = pool->npages; i % 64; i++)
		assert_true(bit_set(pool, i));
}

static void run_random(size_t npages_pool, uint64_t seed, unsigned rounds)
{
	static bool used[MAX_PAGES];
	static struct block live[MAX_PAGES];
	static const size_t aligns[] = {0,
					PAGE_SIZE,
					PAGE_SIZE,
					PAGE_SIZE,
					2 * PAGE_SIZE,
					4 * PAGE_SIZE,
					16 * PAGE_SIZE,
					64 * PAGE_SIZE,
					256 * PAGE_SIZE};
	struct page_pool pool;
	size_t nlive = 0;
	unsigned allocs = 0, fails = 0, refused = 0;

	rng_state = seed;
	memset(used, 0, sizeof(used));
	page_pool_init(&pool, BASE, npages_pool, bitmap);
	for (unsigned r = 0; r < rounds; r++) {
		unsigned op = rng() % 10;

		if (op < 5) {
			size_t n = rng() % 4 == 0 ? 1 + rng() % 40 : 1 + rng() % 4;
			size_t align = aligns[rng() % ARRAY_SIZE(aligns)];
			size_t align_check = align < PAGE_SIZE ? PAGE_SIZE : align;
			void *p = page_pool_alloc(&pool, n, align);
			if (!p) {
				assert_false(model_has_run(used, npages_pool, n, align_check));
				fails++;
			} else {
				uintptr_t a = (uintptr_t)p;
				assert_true(a >= BASE && IS_ALIGNED(a, align_check));
				size_t first = (a - BASE) / PAGE_SIZE;
				assert_true(first + n <= npages_pool);
				for (size_t i = first; i < first + n; i++) {
					assert_false(used[i]);
					used[i] = true;
				}
				live[nlive++] = (struct block){first, n};
				allocs++;
			}
		} else if (op < 9 && nlive) {
			size_t k = rng() % nlive;
			struct block b = live[k];
			assert_int_equal(page_pool_free(&pool, page_ptr(b.first), b.npages), 0);
			for (size_t i = b.first; i < b.first + b.npages; i++)
				used[i] = false;
			live[k] = live[--nlive];
			/* Freeing it again is refused. */
			if (rng() % 4 == 0) {
				assert_int_equal(page_pool_free(&pool, page_ptr(b.first), b.npages),
						 -VIREO_EINVAL);
				refused++;
			}
		} else if (nlive) {
			/* A block together with the free page after it: refused. */
			size_t k = rng() % nlive;
			struct block b = live[k];
			size_t after = b.first + b.npages;
			if (after < npages_pool && !used[after]) {
				assert_int_equal(
				    page_pool_free(&pool, page_ptr(b.first), b.npages + 1),
				    -VIREO_EINVAL);
				refused++;
			}
		}
		check_model(&pool, used);
	}
	/* Free everything that is left; the pool is whole again. */
	while (nlive) {
		struct block b = live[--nlive];
		assert_int_equal(page_pool_free(&pool, page_ptr(b.first), b.npages), 0);
	}
	assert_int_equal(page_pool_free_count(&pool), npages_pool);
	assert_ptr_equal(page_pool_alloc(&pool, npages_pool, PAGE_SIZE), page_ptr(0));
	/* Make sure each path was actually taken. */
	assert_true(allocs > rounds / 10);
	assert_true(fails > 0);
	assert_true(refused > 0);
}

static void test_random_against_model(void **state)
{
	(void)state;
	run_random(300, 0x9e3779b97f4a7c15ULL, 4000);
	run_random(64, 12345, 3000);
	run_random(1000, 0xdeadbeefcafef00dULL, 4000);
	run_random(77, 777, 3000);
}

/* The largest aligned run: what a VM's RAM is built from when no single block fits. */
static void test_alloc_largest(void **state)
{
	struct page_pool pool;
	size_t got;
	uintptr_t a;

	(void)state;
	/* BASE is 3 pages past a 16 KiB boundary: the first aligned start is page 1. */
	page_pool_init(&pool, BASE, 64, bitmap);
	/* Used: 10..11 and 30. Aligned free runs: 1..8 (8), 13..28 (16), 33..60 (28). */
	page_pool_reserve(&pool, page_addr(10), page_addr(12));
	page_pool_reserve(&pool, page_addr(30), page_addr(31));
	a = (uintptr_t)page_pool_alloc_largest(&pool, 64, 4 * PAGE_SIZE, &got);
	assert_int_equal(a, page_addr(33));
	assert_int_equal(got, 28); /* 33..60: 31 free pages, cut to a multiple of 4 */
	assert_true(IS_ALIGNED(a, 4 * PAGE_SIZE));
	/* Capped at what is asked for. */
	a = (uintptr_t)page_pool_alloc_largest(&pool, 8, 4 * PAGE_SIZE, &got);
	assert_int_equal(got, 8);
	assert_true(IS_ALIGNED(a, 4 * PAGE_SIZE));
	assert_int_equal(count_used_bits(&pool), 3 + 28 + 8);
	assert_int_equal(page_pool_free_count(&pool), 64 - (3 + 28 + 8));
	/* Less than one aligned unit: nothing. */
	assert_null(page_pool_alloc_largest(&pool, 3, 4 * PAGE_SIZE, &got));
	assert_int_equal(got, 0);
	/* Until nothing of that alignment is left. */
	while (page_pool_alloc_largest(&pool, 64, 4 * PAGE_SIZE, &got))
		assert_true(got >= 4 && got % 4 == 0);
	assert_int_equal(got, 0);
	assert_true(page_pool_free_count(&pool) < 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_state),
	    cmocka_unit_test(test_init_multiple_of_64),
	    cmocka_unit_test(test_empty_pool),
	    cmocka_unit_test(test_single_pages_until_empty),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_whole_pool_in_one_block),
	    cmocka_unit_test(test_aligned_blocks),
	    cmocka_unit_test(test_alignment_not_available),
	    cmocka_unit_test(test_contiguous_run_skips_holes),
	    cmocka_unit_test(test_skips_full_words),
	    cmocka_unit_test(test_double_free_refused),
	    cmocka_unit_test(test_bad_free_refused),
	    cmocka_unit_test(test_reserve),
	    cmocka_unit_test(test_random_against_model),
	    cmocka_unit_test(test_alloc_largest),
	};

	return cmocka_run_group_tests_name("page_pool", tests, NULL, NULL);
}
