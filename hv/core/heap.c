// SPDX-License-Identifier: BSD-2-Clause
/*
 * A small first-fit heap. Memory comes in chunks of whole pages; inside a
 * chunk, blocks sit back to back, each behind a header with its size and a
 * state tag. Free walks the chunk to find the block, so a wild pointer or a
 * double free is recognised and refused instead of corrupting the heap.
 */
#include <vireo/mm.h>

#define HEAP_MIN_CHUNK_PAGES 16
#define BLOCK_ALIGN	     16
#define TAG_USED	     0x55534544u /* "USED" */
#define TAG_FREE	     0x46524545u /* "FREE" */

struct heap_chunk {
	struct heap_chunk *next;
	size_t size; /* bytes, including this header */
	uint64_t pad;
	uint64_t pad2;
};

struct heap_block {
	size_t size; /* bytes, including this header */
	uint32_t tag;
	uint32_t pad;
};

_Static_assert(sizeof(struct heap_chunk) % BLOCK_ALIGN == 0, "chunk header alignment");
_Static_assert(sizeof(struct heap_block) % BLOCK_ALIGN == 0, "block header alignment");

static struct heap_block *first_block(struct heap_chunk *c)
{
	return (struct heap_block *)(c + 1);
}

static struct heap_block *next_block(struct heap_block *b)
{
	return (struct heap_block *)((char *)b + b->size);
}

static char *chunk_end(struct heap_chunk *c)
{
	return (char *)c + c->size;
}

void heap_init(struct heap *heap, void *(*get_pages)(void *ctx, size_t npages), void *ctx)
{
	heap->get_pages = get_pages;
	heap->ctx = ctx;
	heap->chunks = NULL;
	heap->bytes_in_use = 0;
	heap->lock = (spinlock_t)SPINLOCK_INIT;
}

static struct heap_chunk *heap_grow(struct heap *heap, size_t need)
{
	size_t bytes = ALIGN_UP(need + sizeof(struct heap_chunk), PAGE_SIZE);
	size_t npages = MAX(bytes / PAGE_SIZE, (size_t)HEAP_MIN_CHUNK_PAGES);
	struct heap_chunk *c = heap->get_pages(heap->ctx, npages);

	if (!c)
		return NULL;
	c->size = npages * PAGE_SIZE;
	c->next = heap->chunks;
	heap->chunks = c;
	struct heap_block *b = first_block(c);
	b->size = c->size - sizeof(*c);
	b->tag = TAG_FREE;
	return c;
}

/* Take `need` bytes from free block b, splitting off the rest if it is useful. */
static void *carve(struct heap *heap, struct heap_block *b, size_t need)
{
	if (b->size - need >= sizeof(struct heap_block) + BLOCK_ALIGN) {
		struct heap_block *rest = (struct heap_block *)((char *)b + need);
		rest->size = b->size - need;
		rest->tag = TAG_FREE;
		b->size = need;
	}
	b->tag = TAG_USED;
	heap->bytes_in_use += b->size;
	return b + 1;
}

static void *find_fit(struct heap *heap, size_t need)
{
	for (struct heap_chunk *c = heap->chunks; c; c = c->next)
		for (struct heap_block *b = first_block(c); (char *)b < chunk_end(c);
		     b = next_block(b))
			if (b->tag == TAG_FREE && b->size >= need)
				return carve(heap, b, need);
	return NULL;
}

void *heap_alloc(struct heap *heap, size_t size)
{
	size_t need;
	void *p;

	if (size == 0 || size > (1UL << 40))
		return NULL;
	need = ALIGN_UP(size, BLOCK_ALIGN) + sizeof(struct heap_block);
	spin_lock(&heap->lock);
	p = find_fit(heap, need);
	if (!p && heap_grow(heap, need))
		p = find_fit(heap, need);
	spin_unlock(&heap->lock);
	return p;
}

static void coalesce(struct heap_chunk *c)
{
	struct heap_block *b = first_block(c);

	while ((char *)b < chunk_end(c)) {
		struct heap_block *n = next_block(b);
		if (b->tag == TAG_FREE && (char *)n < chunk_end(c) && n->tag == TAG_FREE) {
			b->size += n->size;
			continue;
		}
		b = n;
	}
}

int heap_free(struct heap *heap, void *ptr)
{
	struct heap_block *target;

	if (!ptr)
		return 0;
	target = (struct heap_block *)ptr - 1; /* not before the NULL check: UB on NULL */
	spin_lock(&heap->lock);
	for (struct heap_chunk *c = heap->chunks; c; c = c->next) {
		if ((char *)ptr < (char *)c || (char *)ptr >= chunk_end(c))
			continue;
		for (struct heap_block *b = first_block(c); (char *)b < chunk_end(c);
		     b = next_block(b)) {
			if (b != target)
				continue;
			if (b->tag != TAG_USED)
				break; /* double free */
			b->tag = TAG_FREE;
			heap->bytes_in_use -= b->size;
			coalesce(c);
			spin_unlock(&heap->lock);
			return 0;
		}
		break;
	}
	spin_unlock(&heap->lock);
	return -VIREO_EINVAL;
}

size_t heap_bytes_in_use(struct heap *heap)
{
	return heap->bytes_in_use;
}
