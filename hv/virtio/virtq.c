// SPDX-License-Identifier: BSD-2-Clause
/* The device side of a split virtqueue; see vireo/virtq.h. */
#include <vireo/string.h>
#include <vireo/virtq.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio fields are read natively");

void virtq_reset(struct virtq *q, uint16_t num_max)
{
	*q = (struct virtq){.num_max = num_max, .num = num_max};
}

/* A ring part: aligned and wholly inside one run of guest RAM (we keep a host pointer). */
static void *ring_part(const struct guest_mem *mem, uint64_t gpa, uint64_t bytes, uint64_t align)
{
	return IS_ALIGNED(gpa, align) ? guest_mem_ptr(mem, gpa, bytes) : NULL;
}

int virtq_enable(struct virtq *q, const struct guest_mem *mem, bool indirect, bool event_idx)
{
	uint32_t num = q->num;

	if (!num || num > q->num_max || (num & (num - 1)))
		return -VIREO_EINVAL;
	q->desc = ring_part(mem, q->desc_gpa, virtq_desc_bytes(num), VIRTQ_DESC_ALIGN);
	q->avail = ring_part(mem, q->avail_gpa, virtq_avail_bytes(num), VIRTQ_AVAIL_ALIGN);
	q->used = ring_part(mem, q->used_gpa, virtq_used_bytes(num), VIRTQ_USED_ALIGN);
	if (!q->desc || !q->avail || !q->used)
		return -VIREO_EINVAL;
	q->mem = mem;
	q->indirect = indirect;
	q->event_idx = event_idx;
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_valid = false;
	q->ready = true;
	return 0;
}

/* The guest may rewrite a descriptor at any time: read it once, field by field. */
static void read_ring_desc(const struct virtq *q, unsigned i, struct virtq_desc *out)
{
	const struct virtq_desc *d = &q->desc[i];

	out->addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
	out->len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	out->flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
	out->next = __atomic_load_n(&d->next, __ATOMIC_RELAXED);
}

/* Where descriptors are read from: the ring, or one indirect table (any alignment). */
struct desc_table {
	const uint8_t *indirect; /* NULL: the ring itself */
	uint32_t size;
};

static void read_desc(const struct virtq *q, const struct desc_table *t, unsigned i,
		      struct virtq_desc *out)
{
	if (!t->indirect)
		read_ring_desc(q, i, out);
	else
		memcpy(out, t->indirect + (size_t)i * sizeof(*out), sizeof(*out));
}

/* Record one descriptor's buffer; anything wrong with it makes the chain bad. */
static void add_buf(const struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;

	/* An empty buffer touches nothing, so where it points does not matter. */
	if (!d->len)
		return;
	/* 2.7.4.2: device-writable buffers come after all device-readable ones. */
	if (!guest_mem_contains(q->mem, d->addr, d->len) || (!write && c->n > c->nread) ||
	    c->n == c->max) {
		c->bad = true;
		return;
	}
	c->bufs[c->n++] = (struct virtq_buf){d->addr, d->len, write};
	if (!write)
		c->nread = c->n;
}

/*
 * An indirect descriptor (2.7.5.3): its table replaces the rest of the chain.
 * False when the table cannot be walked (then nothing after it can be found).
 */
static bool enter_indirect(const struct virtq *q, const struct virtq_desc *d, struct desc_table *t)
{
	if ((d->flags & VIRTQ_DESC_F_NEXT) || !d->len || d->len % sizeof(struct virtq_desc) ||
	    d->len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE)
		return false;
	t->indirect = guest_mem_ptr(q->mem, d->addr, d->len);
	t->size = d->len / sizeof(struct virtq_desc);
	return t->indirect != NULL;
}

/* Copy the chain starting at head into c. False when it has no end (a loop, an index
 * past its table) or an indirect table that cannot be read. */
static bool walk(const struct virtq *q, uint16_t head, struct virtq_chain *c)
{
	struct desc_table t = {NULL, q->num};
	struct virtq_desc d;
	unsigned i = head;

	c->head = head;
	c->n = 0;
	c->nread = 0;
	c->bad = false;
	/* A chain visits each descriptor of a table at most once: more steps is a loop. */
	for (unsigned steps = 0;; steps++) {
		if (i >= t.size || steps == t.size)
			return false;
		read_desc(q, &t, i, &d);
		c->last = d;
		if ((d.flags & VIRTQ_DESC_F_INDIRECT) && q->indirect && !t.indirect) {
			if (!enter_indirect(q, &d, &t))
				return false;
			i = 0;
			steps = (unsigned)-1; /* the table's own count starts at its first entry */
			continue;
		}
		/* Not negotiated, or a table inside a table: a driver error, not a buffer. */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			c->bad = true;
		else
			add_buf(q, c, &d);
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		i = d.next;
	}
}

enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	uint16_t avail, head;

	if (!q->ready)
		return VIRTQ_EMPTY;
	avail = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	if (avail == q->last_avail)
		return VIRTQ_EMPTY;
	/* More entries than the ring holds: the driver lost track of it. */
	if ((uint16_t)(avail - q->last_avail) > q->num)
		return VIRTQ_BROKEN;
	head = __atomic_load_n(&q->avail->ring[q->last_avail & (q->num - 1)], __ATOMIC_RELAXED);
	if (!walk(q, head, c))
		return VIRTQ_BROKEN;
	q->last_avail++;
	return VIRTQ_CHAIN;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

bool virtq_has_avail(const struct virtq *q)
{
	return q->ready && __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE) != q->last_avail;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->num - 1)];

	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	q->used_idx++;
	/* What the device wrote and the element are visible before the index publishes them. */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

/* 2.7.10: the driver wants an interrupt once the used index passes used_event. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled;
	bool valid = q->signalled_valid;

	/* The driver's flag or event is read after the index is written, or a driver
	 * re-enabling interrupts at that moment could be missed. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);
	q->signalled = q->used_idx;
	q->signalled_valid = true;
	/* used_event sits just after the available ring. */
	return !valid || need_event(__atomic_load_n(&q->avail->ring[q->num], __ATOMIC_RELAXED),
				    q->used_idx, old);
}

void virtq_set_notify(struct virtq *q, bool enable)
{
	if (q->event_idx) {
		/* avail_event sits just after the used ring: notify me past this entry. */
		if (enable)
			__atomic_store_n((le16 *)&q->used->ring[q->num], q->last_avail,
					 __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&q->used->flags, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY,
				 __ATOMIC_RELAXED);
	}
	/* The caller looks at the available ring again after this: order the two. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint64_t virtq_chain_bytes(const struct virtq_chain *c, unsigned first, unsigned end)
{
	uint64_t n = 0;

	for (unsigned i = first; i < end && i < c->n; i++)
		n += c->bufs[i].len;
	return n;
}
