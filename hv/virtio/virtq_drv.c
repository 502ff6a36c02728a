// SPDX-License-Identifier: BSD-2-Clause
/* The driver side of a split virtqueue; see vireo/virtq_drv.h. */
#include <vireo/mm.h>
#include <vireo/string.h>
#include <vireo/virtq_drv.h>

void virtq_drv_free(struct virtq_drv *q)
{
	if (q->dma)
		page_free(q->dma, q->dma_pages);
	if (q->next)
		kfree(q->next);
	if (q->chains)
		kfree(q->chains);
	q->dma = NULL;
	q->next = NULL;
	q->chains = NULL;
}

int virtq_drv_init(struct virtq_drv *q, uint16_t size, bool event_idx)
{
	size_t avail_off = virtq_desc_bytes(size);
	size_t used_off = ALIGN_UP(avail_off + virtq_avail_bytes(size), VIRTQ_USED_ALIGN);
	uint8_t *dma;

	memset(q, 0, sizeof(*q));
	if (!size || (size & (size - 1)))
		return -VIREO_EINVAL;
	q->dma_pages = ALIGN_UP(used_off + virtq_used_bytes(size), PAGE_SIZE) / PAGE_SIZE;
	dma = page_alloc(q->dma_pages, PAGE_SIZE);
	q->dma = dma;
	q->next = kzalloc(sizeof(*q->next) * size);
	q->chains = kzalloc(sizeof(*q->chains) * size);
	if (!dma || !q->next || !q->chains) {
		virtq_drv_free(q);
		return -VIREO_ENOMEM;
	}
	memset(dma, 0, q->dma_pages * PAGE_SIZE);
	q->size = size;
	q->event_idx = event_idx;
	q->desc = (struct virtq_desc *)dma;
	q->avail = (struct virtq_avail *)(dma + avail_off);
	q->used = (struct virtq_used *)(dma + used_off);
	/* Every descriptor starts on the free list, in order. */
	for (unsigned i = 0; i + 1 < size; i++)
		q->next[i] = (uint16_t)(i + 1);
	q->free_head = 0;
	q->nfree = size;
	return 0;
}

unsigned virtq_drv_free_count(const struct virtq_drv *q)
{
	return q->nfree;
}

int virtq_drv_next_head(const struct virtq_drv *q)
{
	return q->nfree ? q->free_head : -VIREO_EBUSY;
}

static uint16_t take_desc(struct virtq_drv *q)
{
	uint16_t i = q->free_head;

	q->free_head = q->next[i];
	q->nfree--;
	return i;
}

static bool chain_ok(const struct virtq_drv_buf *bufs, unsigned n)
{
	bool writing = false;

	for (unsigned i = 0; i < n; i++) {
		if (!bufs[i].len || (writing && !bufs[i].write))
			return false;
		writing = bufs[i].write;
	}
	return n > 0;
}

int virtq_drv_add(struct virtq_drv *q, const struct virtq_drv_buf *bufs, unsigned n, void *cookie)
{
	uint16_t head, cur;

	if (!cookie || !chain_ok(bufs, n) || n > q->size)
		return -VIREO_EINVAL;
	if (n > q->nfree)
		return -VIREO_EBUSY;
	head = cur = take_desc(q);
	for (unsigned i = 0;; i++) {
		q->desc[cur] = (struct virtq_desc){
		    .addr = bufs[i].addr,
		    .len = bufs[i].len,
		    .flags = bufs[i].write ? VIRTQ_DESC_F_WRITE : 0,
		};
		if (i + 1 == n)
			break;
		/* Link in the ring and in our own copy, which is what we follow later. */
		q->next[cur] = take_desc(q);
		q->desc[cur].flags |= VIRTQ_DESC_F_NEXT;
		q->desc[cur].next = q->next[cur];
		cur = q->next[cur];
	}
	q->chains[head] = (struct virtq_drv_chain){cookie, (uint16_t)n};
	return head;
}

/* 2.7.10: the device wants a notification once the available index passes avail_event. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_drv_publish(struct virtq_drv *q, uint16_t head)
{
	uint16_t old = q->avail_idx;

	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	virtio_mb(); /* the chain and its ring entry before the index that exposes them */
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELAXED);
	virtio_mb(); /* the new index before the device's flags, and before the notify */
	if (q->event_idx)
		return need_event(
		    __atomic_load_n((le16 *)&q->used->ring[q->size], __ATOMIC_RELAXED),
		    q->avail_idx, old);
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) & VIRTQ_USED_F_NO_NOTIFY);
}

/* Give a finished chain's descriptors back, following our own links, not the device's. */
static void *release(struct virtq_drv *q, uint16_t head)
{
	void *cookie = q->chains[head].cookie;
	uint16_t last = head;

	for (unsigned i = 1; i < q->chains[head].ndesc; i++)
		last = q->next[last];
	q->next[last] = q->free_head;
	q->free_head = head;
	q->nfree += q->chains[head].ndesc;
	q->chains[head] = (struct virtq_drv_chain){0};
	return cookie;
}

enum virtq_drv_get_result virtq_drv_get(struct virtq_drv *q, uint16_t *head, void **cookie,
					uint32_t *len)
{
	uint16_t used_idx = __atomic_load_n(&q->used->idx, __ATOMIC_RELAXED);
	const volatile struct virtq_used_elem *e;
	uint32_t id;

	virtio_mb(); /* the index before the entries and data it covers */
	if ((uint16_t)(used_idx - q->last_used) > (uint16_t)(q->avail_idx - q->last_used))
		return VIRTQ_DRV_BROKEN;
	if (q->last_used == used_idx)
		return VIRTQ_DRV_NONE;
	e = &q->used->ring[q->last_used & (q->size - 1)];
	id = e->id;
	*len = e->len;
	q->last_used++;
	/* With EVENT_IDX, ask for an interrupt as soon as anything more is used. */
	if (q->event_idx && !q->quiet)
		__atomic_store_n(&q->avail->ring[q->size], q->last_used, __ATOMIC_RELAXED);
	if (id >= q->size || !q->chains[id].cookie) {
		*head = (uint16_t)MIN(id, UINT16_MAX);
		return VIRTQ_DRV_BOGUS;
	}
	*head = (uint16_t)id;
	*cookie = release(q, (uint16_t)id);
	return VIRTQ_DRV_USED;
}

void virtq_drv_want_interrupts(struct virtq_drv *q, bool want)
{
	q->quiet = !want;
	if (q->event_idx)
		/* used_event just behind what we took: the device has passed it already, so it
		 * signals nothing until it wraps around the 16-bit index (a harmless extra). */
		__atomic_store_n(&q->avail->ring[q->size], (uint16_t)(q->last_used - !want),
				 __ATOMIC_RELAXED);
	else
		__atomic_store_n(&q->avail->flags, want ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT,
				 __ATOMIC_RELAXED);
	virtio_mb(); /* before the caller looks at the used ring again */
}

void *virtq_drv_drain(struct virtq_drv *q)
{
	for (uint16_t id = 0; id < q->size; id++)
		if (q->chains[id].cookie)
			return release(q, id);
	return NULL;
}
