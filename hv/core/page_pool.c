// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bitmap page allocator. A bitmap is simple to check and cannot be corrupted
 * by a caller writing past a page (no in-band free lists); a double free
 * shows up as a bit that is already clear and is refused.
 */
#include <vireo/mm.h>

static bool page_used(const struct page_pool *pool, size_t i)
{
	return (pool->bitmap[i / 64] >> (i % 64)) & 1;
}

static void mark_range(struct page_pool *pool, size_t first, size_t count, bool used)
{
	for (size_t i = first; i < first + count; i++) {
		uint64_t bit = 1ULL << (i % 64);
		if (used)
			pool->bitmap[i / 64] |= bit;
		else
			pool->bitmap[i / 64] &= ~bit;
	}
}

void page_pool_init(struct page_pool *pool, uintptr_t base, size_t npages, uint64_t *bitmap)
{
	pool->base = base;
	pool->npages = npages;
	pool->bitmap = bitmap;
	pool->free_pages = npages;
	pool->search_hint = 0;
	pool->lock = (spinlock_t)SPINLOCK_INIT;
	for (size_t w = 0; w < (npages + 63) / 64; w++)
		bitmap[w] = 0;
	/* Bits past the end of the pool are "used" so no search ever returns them. */
	for (size_t i = npages; i < ((npages + 63) / 64) * 64; i++)
		pool->bitmap[i / 64] |= 1ULL << (i % 64);
}

void page_pool_reserve(struct page_pool *pool, uintptr_t start, uintptr_t end)
{
	uintptr_t pool_end = pool->base + pool->npages * PAGE_SIZE;

	start = ALIGN_DOWN(start, PAGE_SIZE);
	end = ALIGN_UP(end, PAGE_SIZE);
	if (start < pool->base)
		start = pool->base;
	if (end > pool_end)
		end = pool_end;
	spin_lock(&pool->lock);
	for (uintptr_t a = start; a < end; a += PAGE_SIZE) {
		size_t i = (a - pool->base) / PAGE_SIZE;
		if (!page_used(pool, i)) {
			mark_range(pool, i, 1, true);
			pool->free_pages--;
		}
	}
	spin_unlock(&pool->lock);
}

/* Length of the free run starting at page i, capped at want. */
static size_t free_run(const struct page_pool *pool, size_t i, size_t want)
{
	size_t n = 0;

	while (n < want && i + n < pool->npages && !page_used(pool, i + n))
		n++;
	return n;
}

static bool find_run(const struct page_pool *pool, size_t npages, size_t align_pages, size_t from,
		     size_t *found)
{
	size_t i = ALIGN_UP(pool->base / PAGE_SIZE + from, align_pages) - pool->base / PAGE_SIZE;

	while (i + npages <= pool->npages) {
		/* Skip whole used words quickly. */
		if ((i % 64) == 0 && pool->bitmap[i / 64] == ~0ULL) {
			i += 64;
			i = ALIGN_UP(pool->base / PAGE_SIZE + i, align_pages) -
			    pool->base / PAGE_SIZE;
			continue;
		}
		size_t run = free_run(pool, i, npages);
		if (run == npages) {
			*found = i;
			return true;
		}
		i = ALIGN_UP(pool->base / PAGE_SIZE + i + run + 1, align_pages) -
		    pool->base / PAGE_SIZE;
	}
	return false;
}

void *page_pool_alloc(struct page_pool *pool, size_t npages, size_t align)
{
	size_t align_pages = align > PAGE_SIZE ? align / PAGE_SIZE : 1;
	size_t first;
	bool ok;

	if (npages == 0 || (align_pages & (align_pages - 1)) != 0)
		return NULL;
	spin_lock(&pool->lock);
	ok =
	    npages <= pool->free_pages &&
	    ((npages == 1 && align_pages == 1 && find_run(pool, 1, 1, pool->search_hint, &first)) ||
	     find_run(pool, npages, align_pages, 0, &first));
	if (ok) {
		mark_range(pool, first, npages, true);
		pool->free_pages -= npages;
		if (npages == 1)
			pool->search_hint = first + 1;
	}
	spin_unlock(&pool->lock);
	return ok ? (void *)(pool->base + first * PAGE_SIZE) : NULL;
}

/* With the lock held: the best aligned run (see page_pool_alloc_largest). */
static size_t find_largest(const struct page_pool *pool, size_t max_pages, size_t align_pages,
			   size_t *found)
{
	size_t pfn0 = pool->base / PAGE_SIZE, best = 0;
	size_t i = ALIGN_UP(pfn0, align_pages) - pfn0;

	while (i < pool->npages && best < max_pages) {
		size_t run = free_run(pool, i, max_pages);
		size_t usable = run - run % align_pages;

		if (usable > best) {
			best = usable;
			*found = i;
		}
		i = ALIGN_UP(pfn0 + i + run + 1, align_pages) - pfn0;
	}
	return best;
}

void *page_pool_alloc_largest(struct page_pool *pool, size_t max_pages, size_t align, size_t *got)
{
	size_t align_pages = align > PAGE_SIZE ? align / PAGE_SIZE : 1;
	size_t first = 0, n = 0;

	*got = 0;
	if (max_pages < align_pages || (align_pages & (align_pages - 1)) != 0)
		return NULL;
	spin_lock(&pool->lock);
	n = find_largest(pool, max_pages, align_pages, &first);
	if (n) {
		mark_range(pool, first, n, true);
		pool->free_pages -= n;
	}
	spin_unlock(&pool->lock);
	*got = n;
	return n ? (void *)(pool->base + first * PAGE_SIZE) : NULL;
}

int page_pool_free(struct page_pool *pool, void *addr, size_t npages)
{
	uintptr_t a = (uintptr_t)addr;
	size_t first;

	if (npages == 0 || !IS_ALIGNED(a, PAGE_SIZE) || a < pool->base)
		return -VIREO_EINVAL;
	first = (a - pool->base) / PAGE_SIZE;
	if (first >= pool->npages || npages > pool->npages - first)
		return -VIREO_EINVAL;
	spin_lock(&pool->lock);
	for (size_t i = first; i < first + npages; i++) {
		if (!page_used(pool, i)) {
			spin_unlock(&pool->lock);
			return -VIREO_EINVAL;
		}
	}
	mark_range(pool, first, npages, false);
	pool->free_pages += npages;
	if (first < pool->search_hint)
		pool->search_hint = first;
	spin_unlock(&pool->lock);
	return 0;
}

size_t page_pool_free_count(struct page_pool *pool)
{
	return pool->free_pages;
}
