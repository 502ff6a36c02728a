// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the first-fit heap (hv/core/heap.c).
 *
 * The heap's pages come from a page_pool over an aligned host buffer, through
 * a page source that counts its calls and can be told to refuse (OOM) or to
 * hand out no more than a given number of pages in total.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/mm.h>

#define ARENA_PAGES 1024 /* 4 MiB */

struct source {
	struct page_pool pool;
	uint64_t bitmap[ARENA_PAGES / 64];
	void *arena;
	unsigned calls;	      /* every call */
	unsigned refusals;    /* calls answered with NULL */
	size_t pages_given;   /* total handed out */
	size_t page_limit;    /* refuse what would go past this total */
	size_t last_request;  /* npages of the last call */
	size_t largest_grant; /* pages of the largest single grant */
};

struct fixture {
	struct source src;
	struct heap heap;
};

static void *source_get_pages(void *ctx, size_t npages)
{
	struct source *src = ctx;
	void *p = NULL;

	src->calls++;
	src->last_request = npages;
	if (src->pages_given + npages <= src->page_limit)
		p = page_pool_alloc(&src->pool, npages, PAGE_SIZE);
	if (!p) {
		src->refusals++;
		return NULL;
	}
	src->pages_given += npages;
	src->largest_grant = MAX(src->largest_grant, npages);
	/* Garbage, so that the heap cannot rely on zeroed pages. */
	memset(p, 0xcd, npages * PAGE_SIZE);
	return p;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->src.arena = aligned_alloc(PAGE_SIZE, ARENA_PAGES * PAGE_SIZE);
	if (!f->src.arena) {
		free(f);
		return -1;
	}
	page_pool_init(&f->src.pool, (uintptr_t)f->src.arena, ARENA_PAGES, f->src.bitmap);
	f->src.page_limit = ARENA_PAGES;
	heap_init(&f->heap, source_get_pages, &f->src);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->src.arena);
	free(f);
	return 0;
}

static bool in_arena(const struct source *src, const void *p, size_t size)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)src->arena;

	return a >= base && a + size <= base + ARENA_PAGES * PAGE_SIZE;
}

/* A byte that depends on the block's id and the offset, so overlaps show. */
static uint8_t pattern(unsigned id, size_t off)
{
	uint32_t x = id * 2654435761u + (uint32_t)off * 40503u;

	return (uint8_t)(x >> 13);
}

static void fill(void *p, size_t size, unsigned id)
{
	uint8_t *b = p;

	for (size_t i = 0; i < size; i++)
		b[i] = pattern(id, i);
}

static void check_fill(const void *p, size_t size, unsigned id)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < size; i++) {
		if (b[i] != pattern(id, i))
			fail_msg("block %u (%p, %zu bytes) corrupted at offset %zu", id, p, size,
				 i);
	}
}

static void test_init(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
	assert_null(f->heap.chunks);
	assert_int_equal(f->src.calls, 0); /* no pages taken before the first allocation */
}

static void test_zero_and_huge_sizes(void **state)
{
	struct fixture *f = *state;

	assert_null(heap_alloc(&f->heap, 0));
	assert_null(heap_alloc(&f->heap, SIZE_MAX));
	assert_null(heap_alloc(&f->heap, SIZE_MAX - 15));
	assert_null(heap_alloc(&f->heap, (size_t)1 << 50));
	assert_int_equal(f->src.calls, 0);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
	/* More than the source has: asked, refused, NULL. */
	assert_null(heap_alloc(&f->heap, ARENA_PAGES * PAGE_SIZE));
	assert_int_equal(f->src.refusals, 1);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
}

static void test_free_null(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(heap_free(&f->heap, NULL), 0);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
}

static void test_small_allocations(void **state)
{
	struct fixture *f = *state;
	void *p[64];
	size_t total = 0;

	for (unsigned i = 0; i < 64; i++) {
		size_t size = 1 + i * 7;
		size_t before = heap_bytes_in_use(&f->heap);
		p[i] = heap_alloc(&f->heap, size);
		assert_non_null(p[i]);
		assert_true(IS_ALIGNED((uintptr_t)p[i], 16));
		assert_true(in_arena(&f->src, p[i], size));
		assert_true(heap_bytes_in_use(&f->heap) >= before + size);
		total += size;
		fill(p[i], size, i);
	}
	/* All of this fits in the first chunk. */
	assert_int_equal(f->src.calls, 1);
	assert_true(f->src.last_request >= 1);
	assert_true(heap_bytes_in_use(&f->heap) >= total);
	for (unsigned i = 0; i < 64; i++)
		check_fill(p[i], 1 + i * 7, i);
	for (unsigned i = 0; i < 64; i += 2)
		assert_int_equal(heap_free(&f->heap, p[i]), 0);
	for (unsigned i = 1; i < 64; i += 2)
		check_fill(p[i], 1 + i * 7, i);
	for (unsigned i = 1; i < 64; i += 2)
		assert_int_equal(heap_free(&f->heap, p[i]), 0);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
}

static void test_bytes_in_use_accounting(void **state)
{
	struct fixture *f = *state;
	size_t sizes[] = {1, 16, 17, 100, 4096, 5000, 33, 250000};
	size_t delta[ARRAY_SIZE(sizes)];
	void *p[ARRAY_SIZE(sizes)];

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t before = heap_bytes_in_use(&f->heap);
		p[i] = heap_alloc(&f->heap, sizes[i]);
		assert_non_null(p[i]);
		delta[i] = heap_bytes_in_use(&f->heap) - before;
		assert_true(delta[i] >= sizes[i]);
		assert_true(delta[i] <= sizes[i] + 256); /* header and rounding, not more */
	}
	/* Each free gives back exactly what its allocation took. */
	for (size_t i = ARRAY_SIZE(sizes); i-- > 0;) {
		size_t before = heap_bytes_in_use(&f->heap);
		assert_int_equal(heap_free(&f->heap, p[(i * 3) % ARRAY_SIZE(sizes)]), 0);
		assert_int_equal(before - heap_bytes_in_use(&f->heap),
				 delta[(i * 3) % ARRAY_SIZE(sizes)]);
	}
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
}

static void test_large_allocation_grows(void **state)
{
	struct fixture *f = *state;
	size_t big = 300 * KIB;

	void *small = heap_alloc(&f->heap, 64);
	assert_non_null(small);
	assert_int_equal(f->src.calls, 1);
	void *p = heap_alloc(&f->heap, big);
	assert_non_null(p);
	assert_true(in_arena(&f->src, p, big));
	/* Larger than any first chunk: a second, big enough request. */
	assert_int_equal(f->src.calls, 2);
	assert_true(f->src.last_request * PAGE_SIZE >= big);
	fill(p, big, 7);
	fill(small, 64, 8);
	check_fill(p, big, 7);
	assert_int_equal(heap_free(&f->heap, p), 0);
	/* Freed memory is reused: no new pages for the same size again. */
	void *q = heap_alloc(&f->heap, big);
	assert_ptr_equal(q, p);
	assert_int_equal(f->src.calls, 2);
	check_fill(small, 64, 8);
	assert_int_equal(heap_free(&f->heap, q), 0);
	assert_int_equal(heap_free(&f->heap, small), 0);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
}

static void test_oom_when_source_refuses(void **state)
{
	struct fixture *f = *state;

	f->src.page_limit = 0;
	assert_null(heap_alloc(&f->heap, 32));
	assert_int_equal(f->src.calls, 1);
	assert_int_equal(f->src.refusals, 1);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
	assert_null(f->heap.chunks);

	/* The source recovers: so does the heap. */
	f->src.page_limit = ARENA_PAGES;
	void *a = heap_alloc(&f->heap, 32);
	assert_non_null(a);
	size_t first_chunk = f->src.pages_given;
	assert_true(first_chunk >= 1);

	/* Refuses again: what needs a new chunk fails, what fits still works. */
	f->src.page_limit = f->src.pages_given;
	assert_null(heap_alloc(&f->heap, first_chunk * PAGE_SIZE));
	assert_int_equal(f->src.refusals, 2);
	void *b = heap_alloc(&f->heap, 100);
	assert_non_null(b);
	assert_int_equal(f->src.refusals, 2);
	fill(a, 32, 1);
	fill(b, 100, 2);
	check_fill(a, 32, 1);
	assert_int_equal(heap_free(&f->heap, a), 0);
	assert_int_equal(heap_free(&f->heap, b), 0);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
	/* The whole chunk is one free block again: it can be handed out (almost) whole. */
	void *c = heap_alloc(&f->heap, first_chunk * PAGE_SIZE - 256);
	assert_non_null(c);
	assert_int_equal(f->src.calls, 3);
	assert_int_equal(heap_free(&f->heap, c), 0);
}

/*
 * Fill a one-chunk heap completely (the source gives exactly one chunk), with
 * blocks of `size` and then ever smaller ones until not even 1 byte fits.
 * Returns the number of blocks; p[] is sorted by address.
 */
static unsigned fill_heap(struct fixture *f, void **p, unsigned max, size_t size)
{
	unsigned n = 0;

	p[n] = heap_alloc(&f->heap, size);
	assert_non_null(p[n]);
	n++;
	f->src.page_limit = f->src.pages_given; /* no second chunk */
	for (size_t s = size; s > 0; s /= 2) {
		while (n < max && (p[n] = heap_alloc(&f->heap, s)) != NULL)
			n++;
	}
	assert_true(n < max);
	assert_null(heap_alloc(&f->heap, 1));
	/* Sort by address (insertion sort; n is small). */
	for (unsigned i = 1; i < n; i++) {
		void *x = p[i];
		unsigned j = i;
		while (j > 0 && (uintptr_t)p[j - 1] > (uintptr_t)x) {
			p[j] = p[j - 1];
			j--;
		}
		p[j] = x;
	}
	return n;
}

static void test_coalescing_neighbours(void **state)
{
	struct fixture *f = *state;
	void *p[512];
	const size_t size = 1000;
	unsigned n = fill_heap(f, p, ARRAY_SIZE(p), size);

	assert_true(n > 20);
	/* p[4], p[5] and p[6] are neighbours of the same size. */
	size_t stride = (uintptr_t)p[5] - (uintptr_t)p[4];
	assert_int_equal((uintptr_t)p[6] - (uintptr_t)p[5], stride);
	assert_true(stride >= size);

	/* Free the middle one, then the last, then the first (forward and backward). */
	assert_int_equal(heap_free(&f->heap, p[5]), 0);
	assert_null(heap_alloc(&f->heap, stride)); /* no room for more than one block */
	assert_int_equal(heap_free(&f->heap, p[6]), 0);
	assert_int_equal(heap_free(&f->heap, p[4]), 0);
	/* Three blocks' worth of room at p[4]: two fit, one after the other. */
	void *big = heap_alloc(&f->heap, 2 * stride + size);
	assert_ptr_equal(big, p[4]);
	assert_null(heap_alloc(&f->heap, 1));
	assert_int_equal(heap_free(&f->heap, big), 0);

	/* Free the rest, odd ones from the top, then even ones from the bottom: one
	 * block spans the chunk again. */
	for (unsigned i = n; i-- > 0;)
		if (i % 2 && (i < 4 || i > 6))
			assert_int_equal(heap_free(&f->heap, p[i]), 0);
	for (unsigned i = 0; i < n; i++)
		if (i % 2 == 0 && (i < 4 || i > 6))
			assert_int_equal(heap_free(&f->heap, p[i]), 0);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
	size_t chunk_bytes = f->src.pages_given * PAGE_SIZE;
	unsigned calls = f->src.calls;
	void *all = heap_alloc(&f->heap, chunk_bytes - 64);
	assert_ptr_equal(all, p[0]);
	assert_int_equal(f->src.calls, calls);
	fill(all, chunk_bytes - 64, 99);
	check_fill(all, chunk_bytes - 64, 99);
	assert_int_equal(heap_free(&f->heap, all), 0);
}

static void test_first_fit_reuses_lowest_hole(void **state)
{
	struct fixture *f = *state;
	void *p[8];

	for (unsigned i = 0; i < 8; i++)
		p[i] = heap_alloc(&f->heap, 200);
	for (unsigned i = 1; i < 8; i++)
		assert_true((uintptr_t)p[i] > (uintptr_t)p[i - 1]);
	assert_int_equal(heap_free(&f->heap, p[5]), 0);
	assert_int_equal(heap_free(&f->heap, p[2]), 0);
	/* First fit: the lowest hole that is big enough. */
	assert_ptr_equal(heap_alloc(&f->heap, 200), p[2]);
	assert_ptr_equal(heap_alloc(&f->heap, 100), p[5]);
	/* A request bigger than the holes goes past the last block. */
	assert_int_equal(heap_free(&f->heap, p[1]), 0);
	void *q = heap_alloc(&f->heap, 300);
	assert_true((uintptr_t)q > (uintptr_t)p[7]);
}

static void test_double_free_refused(void **state)
{
	struct fixture *f = *state;
	void *a = heap_alloc(&f->heap, 48);
	void *b = heap_alloc(&f->heap, 48);
	void *c = heap_alloc(&f->heap, 48);

	fill(a, 48, 1);
	fill(c, 48, 3);
	assert_int_equal(heap_free(&f->heap, b), 0);
	size_t in_use = heap_bytes_in_use(&f->heap);
	assert_int_equal(heap_free(&f->heap, b), -VIREO_EINVAL);
	assert_int_equal(heap_bytes_in_use(&f->heap), in_use);
	check_fill(a, 48, 1);
	check_fill(c, 48, 3);

	/* After coalescing, b's address is inside a bigger free block: still refused. */
	assert_int_equal(heap_free(&f->heap, c), 0);
	assert_int_equal(heap_free(&f->heap, c), -VIREO_EINVAL);
	assert_int_equal(heap_free(&f->heap, b), -VIREO_EINVAL);
	assert_int_equal(heap_bytes_in_use(&f->heap), in_use / 2); /* a's share */
	check_fill(a, 48, 1);

	/* Still a working heap: b's place is handed out again, once. */
	void *d = heap_alloc(&f->heap, 48);
	assert_ptr_equal(d, b);
	assert_int_equal(heap_free(&f->heap, d), 0);
	assert_int_equal(heap_free(&f->heap, a), 0);
	assert_int_equal(heap_free(&f->heap, a), -VIREO_EINVAL);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
}

static void test_wild_pointers_refused(void **state)
{
	struct fixture *f = *state;
	struct fixture *other;
	int on_stack;
	void *a = heap_alloc(&f->heap, 256);
	void *b = heap_alloc(&f->heap, 256);

	assert_non_null(a);
	assert_non_null(b);
	fill(a, 256, 1);
	fill(b, 256, 2);
	size_t in_use = heap_bytes_in_use(&f->heap);

	assert_int_equal(heap_free(&f->heap, (char *)a + 1), -VIREO_EINVAL);
	assert_int_equal(heap_free(&f->heap, (char *)a + 16), -VIREO_EINVAL);
	assert_int_equal(heap_free(&f->heap, (char *)a + 128), -VIREO_EINVAL);
	assert_int_equal(heap_free(&f->heap, (char *)a - 16), -VIREO_EINVAL);
	assert_int_equal(heap_free(&f->heap, (char *)b - 8), -VIREO_EINVAL);
	assert_int_equal(heap_free(&f->heap, &on_stack), -VIREO_EINVAL);
	assert_int_equal(heap_free(&f->heap, f->heap.chunks), -VIREO_EINVAL);
	assert_int_equal(heap_free(&f->heap, (void *)16), -VIREO_EINVAL);
	assert_int_equal(heap_free(&f->heap, (void *)UINTPTR_MAX), -VIREO_EINVAL);
	/* Free space at the end of the chunk, never handed out. */
	assert_int_equal(heap_free(&f->heap, (char *)b + 4096), -VIREO_EINVAL);
	/* A pointer into the source's pages outside any chunk. */
	assert_int_equal(heap_free(&f->heap, (char *)f->src.arena + 512 * PAGE_SIZE + 64),
			 -VIREO_EINVAL);
	assert_int_equal(heap_bytes_in_use(&f->heap), in_use);
	check_fill(a, 256, 1);
	check_fill(b, 256, 2);

	/* A live block of another heap is not a block of this one. */
	assert_int_equal(setup((void **)&other), 0);
	void *x = heap_alloc(&other->heap, 256);
	assert_non_null(x);
	assert_int_equal(heap_free(&f->heap, x), -VIREO_EINVAL);
	assert_int_equal(heap_free(&other->heap, a), -VIREO_EINVAL);
	assert_int_equal(heap_free(&other->heap, x), 0);
	teardown((void **)&other);

	/* And everything still works. */
	void *c = heap_alloc(&f->heap, 256);
	assert_non_null(c);
	fill(c, 256, 3);
	check_fill(a, 256, 1);
	check_fill(b, 256, 2);
	assert_int_equal(heap_free(&f->heap, a), 0);
	assert_int_equal(heap_free(&f->heap, b), 0);
	assert_int_equal(heap_free(&f->heap, c), 0);
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
}

/* ---- Random sequences against a shadow model. */

struct live_block {
	void *p;
	size_t size;
	size_t charge; /* what the allocation added to bytes_in_use */
	unsigned id;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t random_size(void)
{
	unsigned kind = rng() % 100;

	if (kind < 60)
		return 1 + rng() % 128;
	if (kind < 95)
		return 1 + rng() % 3000;
	return 4096 + rng() % 60000;
}

static void check_no_overlap(struct live_block *live, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)live[i].p;
		for (size_t j = i + 1; j < n; j++) {
			uintptr_t b = (uintptr_t)live[j].p;
			assert_true(a + live[i].size <= b || b + live[j].size <= a);
		}
	}
}

static void run_random(struct fixture *f, uint64_t seed, unsigned rounds, size_t page_limit)
{
	static struct live_block live[2048];
	size_t nlive = 0, expect_in_use = 0;
	unsigned next_id = 1, ooms = 0, bad_frees = 0;

	rng_state = seed;
	f->src.page_limit = page_limit;
	for (unsigned r = 0; r < rounds; r++) {
		unsigned op = rng() % 100;

		if (op < 50 && nlive < ARRAY_SIZE(live)) {
			size_t size = random_size();
			size_t before = heap_bytes_in_use(&f->heap);
			unsigned refusals = f->src.refusals;
			void *p = heap_alloc(&f->heap, size);
			if (!p) {
				/* Only when the source said no. */
				assert_int_equal(f->src.refusals, refusals + 1);
				assert_int_equal(heap_bytes_in_use(&f->heap), before);
				ooms++;
				continue;
			}
			assert_true(IS_ALIGNED((uintptr_t)p, 16));
			assert_true(in_arena(&f->src, p, size));
			size_t charge = heap_bytes_in_use(&f->heap) - before;
			assert_true(charge >= size);
			live[nlive] = (struct live_block){p, size, charge, next_id++};
			fill(p, size, live[nlive].id);
			expect_in_use += charge;
			nlive++;
		} else if (op < 95 && nlive) {
			size_t k = rng() % nlive;
			struct live_block b = live[k];
			check_fill(b.p, b.size, b.id);
			assert_int_equal(heap_free(&f->heap, b.p), 0);
			expect_in_use -= b.charge;
			live[k] = live[--nlive];
			if (rng() % 3 == 0) {
				assert_int_equal(heap_free(&f->heap, b.p), -VIREO_EINVAL);
				bad_frees++;
			}
		} else if (nlive) {
			struct live_block b = live[rng() % nlive];
			/* Inside the block, short of where the next block's data could start. */
			size_t off = 1 + rng() % ALIGN_UP(b.size, 16);
			assert_int_equal(heap_free(&f->heap, (char *)b.p + off), -VIREO_EINVAL);
			bad_frees++;
		}
		assert_int_equal(heap_bytes_in_use(&f->heap), expect_in_use);
		if (r % 2048 == 0) {
			for (size_t i = 0; i < nlive; i++)
				check_fill(live[i].p, live[i].size, live[i].id);
			check_no_overlap(live, nlive);
		}
	}
	for (size_t i = 0; i < nlive; i++)
		check_fill(live[i].p, live[i].size, live[i].id);
	check_no_overlap(live, nlive);
	while (nlive) {
		struct live_block b = live[--nlive];
		assert_int_equal(heap_free(&f->heap, b.p), 0);
	}
	assert_int_equal(heap_bytes_in_use(&f->heap), 0);
	assert_true(bad_frees > 0);
	if (page_limit < ARENA_PAGES)
		assert_true(ooms > 0);
}

static void test_random_plenty(void **state)
{
	run_random(*state, 0x243f6a8885a308d3ULL, 20000, ARENA_PAGES);
}

static void test_random_tight(void **state)
{
	/* Little memory: many allocations fail, the heap must stay consistent. */
	run_random(*state, 0x13198a2e03707344ULL, 20000, 64);
}

static void test_random_tight_then_reuse(void **state)
{
	struct fixture *f = *state;

	run_random(f, 0xa4093822299f31d0ULL, 10000, 48);
	/* Everything was freed and coalesced: the largest chunk is (almost) one block. */
	unsigned calls = f->src.calls;
	assert_true(f->src.largest_grant >= 1);
	void *p = heap_alloc(&f->heap, f->src.largest_grant * PAGE_SIZE - 256);
	assert_non_null(p);
	assert_int_equal(f->src.calls, calls);
	fill(p, f->src.largest_grant * PAGE_SIZE - 256, 5);
	assert_int_equal(heap_free(&f->heap, p), 0);
}

#define HEAP_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HEAP_TEST(test_init),
	    HEAP_TEST(test_zero_and_huge_sizes),
	    HEAP_TEST(test_free_null),
	    HEAP_TEST(test_small_allocations),
	    HEAP_TEST(test_bytes_in_use_accounting),
	    HEAP_TEST(test_large_allocation_grows),
	    HEAP_TEST(test_oom_when_source_refuses),
	    HEAP_TEST(test_coalescing_neighbours),
	    HEAP_TEST(test_first_fit_reuses_lowest_hole),
	    HEAP_TEST(test_double_free_refused),
	    HEAP_TEST(test_wild_pointers_refused),
	    HEAP_TEST(test_random_plenty),
	    HEAP_TEST(test_random_tight),
	    HEAP_TEST(test_random_tight_then_reuse),
	};

	return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
