// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the driver side of split virtqueues (hv/virtio/virtq_drv.c).
 * The tests play the device: they read the descriptor table and available
 * ring the library wrote, and write used entries back, including the wrong
 * ones a broken device might write.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/mm.h>
#include <vireo/virtq_drv.h>

#define QSIZE 8

/* ---- the allocator, as hv/core/mm.c provides it (zeroed pages, aligned) */

static unsigned live_allocs;

void *page_alloc(size_t npages, size_t align)
{
	void *p = aligned_alloc(align, npages * PAGE_SIZE);

	memset(p, 0, npages * PAGE_SIZE);
	live_allocs++;
	return p;
}

void page_free(void *addr, size_t npages)
{
	(void)npages;
	live_allocs--;
	free(addr);
}

void *kzalloc(size_t size)
{
	live_allocs++;
	return calloc(1, size);
}

void kfree(void *ptr)
{
	live_allocs--;
	free(ptr);
}

/* ---- fixture */

static int setup(void **state)
{
	struct virtq_drv *q = calloc(1, sizeof(*q));

	assert_int_equal(virtq_drv_init(q, QSIZE, false), 0);
	*state = q;
	return 0;
}

static int teardown(void **state)
{
	struct virtq_drv *q = *state;

	virtq_drv_free(q);
	free(q);
	assert_int_equal(live_allocs, 0);
	return 0;
}

static int cookies[QSIZE * 2];
#define COOKIE(i) ((void *)&cookies[i])

/* The device returns the chain at `head`, having written `len` bytes. */
static void device_use(struct virtq_drv *q, uint16_t head, uint32_t len)
{
	uint16_t i = q->used->idx;

	q->used->ring[i % q->size] = (struct virtq_used_elem){head, len};
	q->used->idx = (uint16_t)(i + 1);
}

static uint16_t device_avail(const struct virtq_drv *q, uint16_t n)
{
	return q->avail->ring[n % q->size];
}

static void test_init_sizes(void **state)
{
	struct virtq_drv q;

	(void)state;
	assert_int_equal(virtq_drv_init(&q, 0, false), -VIREO_EINVAL);
	assert_int_equal(virtq_drv_init(&q, 6, false), -VIREO_EINVAL);
	assert_int_equal(virtq_drv_init(&q, 256, true), 0);
	assert_int_equal(virtq_drv_free_count(&q), 256);
	/* The rings sit where the spec wants them aligned. */
	assert_int_equal((uintptr_t)q.desc % VIRTQ_DESC_ALIGN, 0);
	assert_int_equal((uintptr_t)q.used % VIRTQ_USED_ALIGN, 0);
	virtq_drv_free(&q);
}

static void test_add_publish_get(void **state)
{
	struct virtq_drv *q = *state;
	struct virtq_drv_buf bufs[3] = {
	    {0x1000, 16, false}, {0x2000, 512, true}, {0x3000, 1, true}};
	uint16_t head;
	void *cookie;
	uint32_t len;
	int h;

	assert_int_equal(virtq_drv_next_head(q), 0);
	h = virtq_drv_add(q, bufs, 3, COOKIE(0));
	assert_int_equal(h, 0);
	assert_int_equal(virtq_drv_free_count(q), QSIZE - 3);
	/* The chain in the table: flags, links, addresses. */
	assert_int_equal(q->desc[0].addr, 0x1000);
	assert_int_equal(q->desc[0].flags, VIRTQ_DESC_F_NEXT);
	assert_int_equal(q->desc[q->desc[0].next].flags, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
	assert_int_equal(q->desc[q->desc[q->desc[0].next].next].flags, VIRTQ_DESC_F_WRITE);
	/* Not visible until published; the device wants a notify by default. */
	assert_int_equal(q->avail->idx, 0);
	assert_true(virtq_drv_publish(q, (uint16_t)h));
	assert_int_equal(q->avail->idx, 1);
	assert_int_equal(device_avail(q, 0), 0);
	q->used->flags = VIRTQ_USED_F_NO_NOTIFY;
	h = virtq_drv_add(q, bufs, 1, COOKIE(1));
	assert_false(virtq_drv_publish(q, (uint16_t)h));
	/* Nothing used yet. */
	assert_int_equal(virtq_drv_get(q, &head, &cookie, &len), VIRTQ_DRV_NONE);
	device_use(q, (uint16_t)h, 0);
	device_use(q, 0, 513);
	assert_int_equal(virtq_drv_get(q, &head, &cookie, &len), VIRTQ_DRV_USED);
	assert_int_equal(head, h);
	assert_ptr_equal(cookie, COOKIE(1));
	assert_int_equal(virtq_drv_get(q, &head, &cookie, &len), VIRTQ_DRV_USED);
	assert_ptr_equal(cookie, COOKIE(0));
	assert_int_equal(len, 513);
	assert_int_equal(virtq_drv_free_count(q), QSIZE);
	assert_int_equal(virtq_drv_get(q, &head, &cookie, &len), VIRTQ_DRV_NONE);
}

static void test_add_refusals(void **state)
{
	struct virtq_drv *q = *state;
	struct virtq_drv_buf ok[QSIZE], bad_order[2] = {{0x1000, 1, true}, {0x2000, 1, false}};
	struct virtq_drv_buf empty = {0x1000, 0, false};

	for (unsigned i = 0; i < QSIZE; i++)
		ok[i] = (struct virtq_drv_buf){0x1000 + i, 1, false};
	assert_int_equal(virtq_drv_add(q, ok, 0, COOKIE(0)), -VIREO_EINVAL);
	assert_int_equal(virtq_drv_add(q, ok, 1, NULL), -VIREO_EINVAL);
	assert_int_equal(virtq_drv_add(q, bad_order, 2, COOKIE(0)), -VIREO_EINVAL);
	assert_int_equal(virtq_drv_add(q, &empty, 1, COOKIE(0)), -VIREO_EINVAL);
	assert_int_equal(virtq_drv_free_count(q), QSIZE);
	/* Full: EBUSY until something comes back. */
	assert_true(virtq_drv_add(q, ok, QSIZE - 1, COOKIE(0)) >= 0);
	assert_int_equal(virtq_drv_add(q, ok, 2, COOKIE(1)), -VIREO_EBUSY);
	assert_true(virtq_drv_add(q, ok, 1, COOKIE(1)) >= 0);
	assert_int_equal(virtq_drv_next_head(q), -VIREO_EBUSY);
	assert_ptr_not_equal(virtq_drv_drain(q), NULL);
	assert_ptr_not_equal(virtq_drv_drain(q), NULL);
	assert_null(virtq_drv_drain(q));
	assert_int_equal(virtq_drv_free_count(q), QSIZE);
}

/* A device that lies: bogus ids are skipped, a runaway index breaks the queue, and a
 * scribbled descriptor table does not corrupt the free list (our links are our own). */
static void test_hostile_device(void **state)
{
	struct virtq_drv *q = *state;
	struct virtq_drv_buf bufs[3] = {{0x1000, 16, false}, {0x2000, 8, true}, {0x3000, 1, true}};
	uint16_t head;
	void *cookie;
	uint32_t len;
	int h = virtq_drv_add(q, bufs, 3, COOKIE(0));

	virtq_drv_publish(q, (uint16_t)h);
	virtq_drv_publish(q, (uint16_t)virtq_drv_add(q, bufs, 1, COOKIE(1)));
	for (unsigned i = 0; i < QSIZE; i++)
		q->desc[i].next = 0xffff;
	device_use(q, 5, 0); /* no chain starts at 5 */
	assert_int_equal(virtq_drv_get(q, &head, &cookie, &len), VIRTQ_DRV_BOGUS);
	assert_int_equal(head, 5);
	device_use(q, 999, 0); /* past the queue */
	assert_int_equal(virtq_drv_get(q, &head, &cookie, &len), VIRTQ_DRV_BOGUS);
	/* A third entry used for two chains made available: the index ran ahead. */
	device_use(q, 0, 0);
	assert_int_equal(virtq_drv_get(q, &head, &cookie, &len), VIRTQ_DRV_BROKEN);
	assert_ptr_equal(virtq_drv_drain(q), COOKIE(0));
	assert_ptr_equal(virtq_drv_drain(q), COOKIE(1));
	assert_int_equal(virtq_drv_free_count(q), QSIZE);
	/* Every descriptor is free again, exactly once: fill the whole table. */
	for (unsigned i = 0; i < QSIZE; i++)
		assert_true(virtq_drv_add(q, bufs, 1, COOKIE(i)) >= 0);
	assert_int_equal(virtq_drv_free_count(q), 0);
	for (unsigned i = 0; i < QSIZE; i++)
		assert_non_null(virtq_drv_drain(q));
}

static void test_event_idx(void **state)
{
	struct virtq_drv q;
	struct virtq_drv_buf b = {0x1000, 1, false};
	le16 *avail_event, *used_event;
	uint16_t head;
	void *cookie;
	uint32_t len;

	(void)state;
	assert_int_equal(virtq_drv_init(&q, QSIZE, true), 0);
	avail_event = (le16 *)&q.used->ring[QSIZE];
	used_event = &q.avail->ring[QSIZE];
	q.used->flags = VIRTQ_USED_F_NO_NOTIFY; /* ignored with EVENT_IDX */
	*avail_event = 0;			/* notify me when entry 0 is made available */
	assert_true(virtq_drv_publish(&q, (uint16_t)virtq_drv_add(&q, &b, 1, COOKIE(0))));
	assert_false(virtq_drv_publish(&q, (uint16_t)virtq_drv_add(&q, &b, 1, COOKIE(1))));
	*avail_event = 2;
	assert_true(virtq_drv_publish(&q, (uint16_t)virtq_drv_add(&q, &b, 1, COOKIE(2))));
	/* Taking used entries moves used_event along. */
	device_use(&q, 0, 0);
	assert_int_equal(virtq_drv_get(&q, &head, &cookie, &len), VIRTQ_DRV_USED);
	assert_int_equal(*used_event, 1);
	/* Quiet: used_event stays behind what the device has used, and taking entries no
	 * longer moves it; back on, it points at the next entry again. */
	virtq_drv_want_interrupts(&q, false);
	assert_int_equal(*used_event, 0);
	device_use(&q, 1, 0);
	assert_int_equal(virtq_drv_get(&q, &head, &cookie, &len), VIRTQ_DRV_USED);
	assert_int_equal(*used_event, 0);
	virtq_drv_want_interrupts(&q, true);
	assert_int_equal(*used_event, 2);
	virtq_drv_free(&q);
}

/* Without EVENT_IDX, the available ring's flag says it. */
static void test_quiet_flag(void **state)
{
	struct virtq_drv *q = *state;

	virtq_drv_want_interrupts(q, false);
	assert_int_equal(q->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	virtq_drv_want_interrupts(q, true);
	assert_int_equal(q->avail->flags, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_sizes),
	    cmocka_unit_test_setup_teardown(test_add_publish_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_device, setup, teardown),
	    cmocka_unit_test(test_event_idx),
	    cmocka_unit_test_setup_teardown(test_quiet_flag, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
