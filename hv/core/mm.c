// SPDX-License-Identifier: BSD-2-Clause
/* The hypervisor's page pool and heap over the host RAM. */
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/panic.h>
#include <vireo/string.h>

static struct page_pool host_pool;
static struct heap host_heap;
/*
 * Bit set: the page may hold data someone left there. Pages are zeroed when
 * handed out (a VM must never see another's memory), but a page that was never
 * handed out since power-on is still zero where the platform starts with zeroed
 * RAM (QEMU does): skipping those keeps a 256 MiB VM from costing a 256 MiB memset.
 */
static uint64_t *stale;

/* Make [p, p + npages pages) zero, touching only pages that may not be. */
static void zero_stale(void *p, size_t npages)
{
	size_t first = ((uintptr_t)p - host_pool.base) / PAGE_SIZE;

	for (size_t i = 0; i < npages; i++) {
		size_t bit = first + i;
		uint64_t mask = 1ULL << (bit % 64);
		/* From now on it holds its new owner's data; other bits of the word may be
		 * changing on other harts at the same time. */
		if (__atomic_fetch_or(&stale[bit / 64], mask, __ATOMIC_RELAXED) & mask)
			memset((char *)p + i * PAGE_SIZE, 0, PAGE_SIZE);
	}
}

static void *heap_pages(void *ctx, size_t npages)
{
	void *p = page_pool_alloc(&host_pool, npages, PAGE_SIZE);

	(void)ctx;
	if (p)
		zero_stale(p, npages);
	return p;
}

/* Place the bitmap in the first free pages of the largest RAM range. */
void mm_init(const struct mem_range *ram, unsigned nram, const struct mem_range *reserved,
	     unsigned nreserved, bool ram_zeroed)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (unsigned i = 0; i < nram; i++) {
		lo = MIN(lo, ALIGN_UP(ram[i].start, PAGE_SIZE));
		hi = MAX(hi, ALIGN_DOWN(ram[i].end, PAGE_SIZE));
	}
	if (nram == 0 || hi <= lo)
		panic("no usable RAM in the device tree");

	size_t npages = (hi - lo) / PAGE_SIZE;
	/* Two bitmaps: pages in use, and pages that may be stale. */
	size_t bitmap_bytes = 2 * page_pool_bitmap_bytes(npages);
	/* The bitmap goes right after the highest reservation at the start of RAM. */
	uint64_t bitmap_at = lo;
	bool moved = true;
	while (moved) {
		moved = false;
		for (unsigned i = 0; i < nreserved; i++) {
			if (reserved[i].start < bitmap_at + bitmap_bytes &&
			    reserved[i].end > bitmap_at) {
				bitmap_at = ALIGN_UP(reserved[i].end, PAGE_SIZE);
				moved = true;
			}
		}
	}
	page_pool_init(&host_pool, lo, npages, (uint64_t *)bitmap_at);
	stale = (uint64_t *)(bitmap_at + page_pool_bitmap_bytes(npages));
	memset(stale, ram_zeroed ? 0x00 : 0xff, page_pool_bitmap_bytes(npages));
	page_pool_reserve(&host_pool, bitmap_at, bitmap_at + bitmap_bytes);
	for (unsigned i = 0; i < nreserved; i++)
		page_pool_reserve(&host_pool, reserved[i].start, reserved[i].end);
	/* Holes between RAM ranges are not RAM. */
	for (uint64_t a = lo; a < hi; a += PAGE_SIZE) {
		bool in_ram = false;
		for (unsigned i = 0; i < nram && !in_ram; i++)
			in_ram = a >= ram[i].start && a + PAGE_SIZE <= ram[i].end;
		if (!in_ram)
			page_pool_reserve(&host_pool, a, a + PAGE_SIZE);
	}
	heap_init(&host_heap, heap_pages, NULL);
}

void *page_alloc(size_t npages, size_t align)
{
	void *p = page_pool_alloc(&host_pool, npages, align < PAGE_SIZE ? PAGE_SIZE : align);

	if (!p) {
		log_error("out of memory: %zu pages (align %#zx) wanted, %zu free", npages, align,
			  page_pool_free_count(&host_pool));
		return NULL;
	}
	zero_stale(p, npages);
	return p;
}

void *page_alloc_largest(size_t max_pages, size_t align, size_t *got)
{
	void *p = page_pool_alloc_largest(&host_pool, max_pages, align, got);

	if (p)
		zero_stale(p, *got);
	return p;
}

void page_free(void *addr, size_t npages)
{
	if (page_pool_free(&host_pool, addr, npages) != 0)
		log_error("page_free(%p, %zu): not an allocated range (double free?)", addr,
			  npages);
}

size_t mm_free_pages(void)
{
	return page_pool_free_count(&host_pool);
}

size_t mm_total_pages(void)
{
	return host_pool.npages;
}

uintptr_t mm_pool_base(void)
{
	return host_pool.base;
}

void *kmalloc(size_t size)
{
	void *p = heap_alloc(&host_heap, size);

	if (!p)
		log_error("out of memory: kmalloc(%zu)", size);
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *ptr)
{
	if (heap_free(&host_heap, ptr) != 0)
		log_error("kfree(%p): not a live heap block (double free?)", ptr);
}
