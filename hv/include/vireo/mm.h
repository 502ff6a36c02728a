/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Physical memory: a page allocator over the host RAM the device tree
 * reports (minus Vireo's image, OpenSBI, the DTB and the boot bundle), and a
 * heap on top. The hypervisor runs with translation off, so a physical
 * address is a pointer. The pool and heap logic is host-testable.
 */
#ifndef VIREO_MM_H
#define VIREO_MM_H

#include <vireo/spinlock.h>
#include <vireo/types.h>

/* A bitmap page allocator over one range of pages (1 bit per page, 1 = in use). */
struct page_pool {
	uintptr_t base;
	size_t npages;
	uint64_t *bitmap;
	size_t free_pages;
	size_t search_hint; /* where to start looking for single pages */
	spinlock_t lock;
};

/* Bytes of bitmap needed for npages. */
static inline size_t page_pool_bitmap_bytes(size_t npages)
{
	return ((npages + 63) / 64) * 8;
}

/* Every page starts free. */
void page_pool_init(struct page_pool *pool, uintptr_t base, size_t npages, uint64_t *bitmap);
/* Mark [start, end) in use (clipped to the pool); for memory that is not ours. */
void page_pool_reserve(struct page_pool *pool, uintptr_t start, uintptr_t end);
/* npages contiguous pages whose address is a multiple of align (a power of two,
 * >= PAGE_SIZE); NULL when no such run is free. Not zeroed. */
void *page_pool_alloc(struct page_pool *pool, size_t npages, size_t align);
/* The longest free run of at most max_pages pages, starting at a multiple of align and
 * a multiple of align long (so what is left stays aligned too); *got is its length in
 * pages. NULL (and *got 0) when not even align is free. Not zeroed. */
void *page_pool_alloc_largest(struct page_pool *pool, size_t max_pages, size_t align, size_t *got);
/* 0, or -VIREO_EINVAL for a range outside the pool, misaligned, or not fully
 * allocated (a double free): then nothing is changed. */
int page_pool_free(struct page_pool *pool, void *addr, size_t npages);
size_t page_pool_free_count(struct page_pool *pool);

/* A first-fit heap with coalescing, growing in chunks taken from a page source. */
struct heap_chunk;
struct heap {
	void *(*get_pages)(void *ctx, size_t npages);
	void *ctx;
	struct heap_chunk *chunks;
	size_t bytes_in_use;
	spinlock_t lock;
};

void heap_init(struct heap *heap, void *(*get_pages)(void *ctx, size_t npages), void *ctx);
void *heap_alloc(struct heap *heap, size_t size);
/* 0; -VIREO_EINVAL when ptr is not a live block of this heap (double free, wild pointer). */
int heap_free(struct heap *heap, void *ptr);
size_t heap_bytes_in_use(struct heap *heap);

/* ---- The hypervisor's own pool and heap (target only). */
struct mem_range {
	uint64_t start, end; /* [start, end) */
};

/* Build the pool over `ram` minus every range in `reserved`. ram_zeroed: the platform
 * powers on with zeroed RAM, so pages never handed out need no zeroing. */
void mm_init(const struct mem_range *ram, unsigned nram, const struct mem_range *reserved,
	     unsigned nreserved, bool ram_zeroed);
void *page_alloc(size_t npages, size_t align); /* zeroed; NULL and a log on OOM */
/* As page_pool_alloc_largest, zeroed; NULL (no log) when nothing is free. */
void *page_alloc_largest(size_t max_pages, size_t align, size_t *got);
void page_free(void *addr, size_t npages); /* logs a double free */
size_t mm_free_pages(void);
size_t mm_total_pages(void);
/* Host-physical address of the first page the pool manages (the machine's RAM base). */
uintptr_t mm_pool_base(void);
void *kmalloc(size_t size); /* NULL and a log on OOM */
void *kzalloc(size_t size);
void kfree(void *ptr); /* logs a double free */

#endif
