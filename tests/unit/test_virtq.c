// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the device side of split virtqueues (hv/virtio/virtq.c) and
 * of guest memory (hv/core/guest_mem.c). The tests play a driver: they lay
 * out rings in a fake guest RAM made of two host runs (so buffers can
 * straddle a run boundary) between PROT_NONE guard pages, so a stray access
 * by the library faults.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <vireo/virtq.h>

#define RUN_SIZE  0x10000ULL /* two runs of 64 KiB, guest-contiguous */
#define RAM_GPA	  0x80000000ULL
#define RAM_END	  (RAM_GPA + 2 * RUN_SIZE)
#define GUARD	  0x10000ULL
#define DESC_GPA  (RAM_GPA + 0x0000)
#define AVAIL_GPA (RAM_GPA + 0x1000)
#define USED_GPA  (RAM_GPA + 0x2000)
#define TABLE_GPA (RAM_GPA + 0x3000)
#define DATA_GPA  (RAM_GPA + 0x8000)
#define QSIZE	  16
#define MAXBUFS	  8

struct fixture {
	uint8_t *map[2];
	uint8_t *run[2];
	struct guest_mem mem;
	struct virtq q;
	struct virtq_buf bufs[MAXBUFS];
	struct virtq_chain chain;
	uint16_t avail_idx;
};

static uint8_t *guard_map(uint8_t **run)
{
	uint8_t *m =
	    mmap(NULL, RUN_SIZE + 2 * GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	*run = m + GUARD;
	assert_int_equal(mprotect(*run, RUN_SIZE, PROT_READ | PROT_WRITE), 0);
	return m;
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	for (unsigned i = 0; i < 2; i++) {
		f->map[i] = guard_map(&f->run[i]);
		assert_int_equal(
		    guest_mem_add_run(&f->mem, RAM_GPA + i * RUN_SIZE, RUN_SIZE, f->run[i]), 0);
	}
	virtq_reset(&f->q, QSIZE);
	f->q.desc_gpa = DESC_GPA;
	f->q.avail_gpa = AVAIL_GPA;
	f->q.used_gpa = USED_GPA;
	f->chain = (struct virtq_chain){.bufs = f->bufs, .max = MAXBUFS};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < 2; i++)
		munmap(f->map[i], RUN_SIZE + 2 * GUARD);
	test_free(f);
	return 0;
}

static void *gp(struct fixture *f, uint64_t gpa)
{
	void *p = guest_mem_ptr(&f->mem, gpa, 1);

	assert_non_null(p);
	return p;
}

static struct virtq_desc *desc(struct fixture *f, unsigned i)
{
	return (struct virtq_desc *)gp(f, DESC_GPA) + i;
}

static struct virtq_avail *avail(struct fixture *f)
{
	return gp(f, AVAIL_GPA);
}

static struct virtq_used *used(struct fixture *f)
{
	return gp(f, USED_GPA);
}

static void set_desc(struct virtq_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	*d = (struct virtq_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

/* Make the chain starting at head available. */
static void offer(struct fixture *f, uint16_t head)
{
	avail(f)->ring[f->avail_idx % QSIZE] = head;
	avail(f)->idx = ++f->avail_idx;
}

static void enable(struct fixture *f, bool indirect, bool event_idx)
{
	assert_int_equal(virtq_enable(&f->q, &f->mem, indirect, event_idx), 0);
	assert_true(f->q.ready);
}

#define W VIRTQ_DESC_F_WRITE
#define N VIRTQ_DESC_F_NEXT
#define I VIRTQ_DESC_F_INDIRECT

/* ---------------------------------------------------------------- guest memory */

static void test_mem_runs(void **state)
{
	struct fixture *f = *state;
	struct guest_mem m = {0};
	uint8_t byte;

	assert_int_equal(guest_mem_add_run(&m, RAM_GPA, 0, f->run[0]), -VIREO_EINVAL);
	assert_int_equal(guest_mem_add_run(&m, UINT64_MAX - 10, 100, f->run[0]), -VIREO_EINVAL);
	assert_int_equal(guest_mem_add_run(&m, RAM_GPA, 16, NULL), -VIREO_EINVAL);
	assert_int_equal(guest_mem_add_run(&m, RAM_GPA, 0x100, f->run[0]), 0);
	/* Overlapping, or out of order. */
	assert_int_equal(guest_mem_add_run(&m, RAM_GPA + 0xff, 0x100, f->run[1]), -VIREO_EINVAL);
	assert_int_equal(guest_mem_add_run(&m, RAM_GPA - 0x100, 0x100, f->run[1]), -VIREO_EINVAL);
	for (unsigned i = 1; i < GUEST_MEM_MAX_RUNS; i++)
		assert_int_equal(guest_mem_add_run(&m, RAM_GPA + i * 0x100, 0x100, f->run[1]), 0);
	assert_int_equal(guest_mem_add_run(&m, RAM_GPA + 0x10000, 0x100, f->run[1]), -VIREO_ENOMEM);
	assert_int_equal(guest_mem_size(&m), GUEST_MEM_MAX_RUNS * 0x100);
	assert_int_equal(guest_mem_size(&f->mem), 2 * RUN_SIZE);
	assert_false(guest_mem_read(&m, RAM_GPA - 1, &byte, 1));
}

static void test_mem_bounds(void **state)
{
	struct fixture *f = *state;
	uint64_t boundary = RAM_GPA + RUN_SIZE;

	assert_ptr_equal(guest_mem_ptr(&f->mem, RAM_GPA, 1), f->run[0]);
	assert_ptr_equal(guest_mem_ptr(&f->mem, boundary, 8), f->run[1]);
	assert_ptr_equal(guest_mem_ptr(&f->mem, boundary - 8, 8), f->run[0] + RUN_SIZE - 8);
	/* A pointer never crosses runs, even guest-contiguous ones. */
	assert_null(guest_mem_ptr(&f->mem, boundary - 4, 8));
	assert_null(guest_mem_ptr(&f->mem, RAM_GPA, 0));
	assert_null(guest_mem_ptr(&f->mem, RAM_GPA - 1, 2));
	assert_null(guest_mem_ptr(&f->mem, RAM_END - 1, 2));
	assert_null(guest_mem_ptr(&f->mem, UINT64_MAX, 2));
	assert_true(guest_mem_contains(&f->mem, boundary - 4, 8));
	assert_true(guest_mem_contains(&f->mem, RAM_GPA, 2 * RUN_SIZE));
	assert_false(guest_mem_contains(&f->mem, RAM_GPA, 2 * RUN_SIZE + 1));
	assert_false(guest_mem_contains(&f->mem, RAM_GPA, 0));
	assert_false(guest_mem_contains(&f->mem, RAM_GPA + 8, UINT64_MAX));
	assert_false(guest_mem_contains(&f->mem, 0, RAM_GPA + 1));
}

static void test_mem_copy_across_runs(void **state)
{
	struct fixture *f = *state;
	uint64_t at = RAM_GPA + RUN_SIZE - 3;
	const char in[] = "straddle";
	char out[sizeof(in)] = "";

	assert_true(guest_mem_write(&f->mem, at, in, sizeof(in)));
	assert_memory_equal(f->run[0] + RUN_SIZE - 3, "str", 3);
	assert_memory_equal(f->run[1], "addle", 6);
	assert_true(guest_mem_read(&f->mem, at, out, sizeof(out)));
	assert_string_equal(out, in);
	/* Past the end: nothing is copied at all. */
	memset(out, 'x', sizeof(out));
	assert_false(guest_mem_read(&f->mem, RAM_END - 4, out, sizeof(out)));
	assert_int_equal(out[0], 'x');
	assert_false(guest_mem_write(&f->mem, RAM_END - 4, in, sizeof(in)));
	assert_int_equal(f->run[1][RUN_SIZE - 4], 0);
}

static void test_mem_segments(void **state)
{
	struct fixture *f = *state;
	struct guest_mem_seg segs[3];
	unsigned n = 0;

	assert_true(guest_mem_segments(&f->mem, RAM_GPA + RUN_SIZE - 16, 32, segs, &n, 3));
	assert_int_equal(n, 2);
	assert_ptr_equal(segs[0].host, f->run[0] + RUN_SIZE - 16);
	assert_int_equal(segs[0].len, 16);
	assert_ptr_equal(segs[1].host, f->run[1]);
	assert_int_equal(segs[1].len, 16);
	/* Appends; refuses (leaving n alone) when out of room or out of RAM. */
	assert_true(guest_mem_segments(&f->mem, RAM_GPA, 8, segs, &n, 3));
	assert_int_equal(n, 3);
	assert_false(guest_mem_segments(&f->mem, RAM_GPA, 8, segs, &n, 3));
	n = 2;
	assert_false(guest_mem_segments(&f->mem, RAM_GPA + RUN_SIZE - 1, 2, segs, &n, 3));
	assert_int_equal(n, 2);
	assert_false(guest_mem_segments(&f->mem, RAM_END - 1, 2, segs, &n, 3));
	assert_int_equal(n, 2);
}

/* ---------------------------------------------------------------- enabling */

static void test_enable_checks(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint32_t num;
		uint64_t desc, avail, used;
	} bad[] = {
	    {0, DESC_GPA, AVAIL_GPA, USED_GPA},
	    {12, DESC_GPA, AVAIL_GPA, USED_GPA},	/* not a power of two */
	    {32, DESC_GPA, AVAIL_GPA, USED_GPA},	/* more than QueueNumMax */
	    {QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA}, /* misaligned */
	    {QSIZE, DESC_GPA, AVAIL_GPA + 1, USED_GPA},
	    {QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2},
	    {QSIZE, RAM_END - 16, AVAIL_GPA, USED_GPA}, /* past RAM */
	    {QSIZE, DESC_GPA, RAM_GPA - 0x1000, USED_GPA},
	    {QSIZE, DESC_GPA, AVAIL_GPA, RAM_GPA + RUN_SIZE - 8}, /* across runs */
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		virtq_reset(&f->q, QSIZE);
		f->q.num = bad[i].num;
		f->q.desc_gpa = bad[i].desc;
		f->q.avail_gpa = bad[i].avail;
		f->q.used_gpa = bad[i].used;
		assert_int_equal(virtq_enable(&f->q, &f->mem, false, false), -VIREO_EINVAL);
		assert_false(f->q.ready);
		assert_int_equal(virtq_pop(&f->q, &f->chain), VIRTQ_EMPTY);
	}
	virtq_reset(&f->q, QSIZE);
	assert_int_equal(f->q.num, QSIZE);
	f->q.num = 4;
	f->q.desc_gpa = DESC_GPA;
	f->q.avail_gpa = AVAIL_GPA;
	f->q.used_gpa = USED_GPA;
	assert_int_equal(virtq_enable(&f->q, &f->mem, false, false), 0);
}

/* ---------------------------------------------------------------- chains */

static void test_pop_empty_and_simple(void **state)
{
	struct fixture *f = *state;

	enable(f, false, false);
	assert_false(virtq_has_avail(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->chain), VIRTQ_EMPTY);
	set_desc(desc(f, 3), DATA_GPA, 16, N, 5);
	set_desc(desc(f, 5), DATA_GPA + 0x100, 0, N, 7); /* empty: skipped */
	set_desc(desc(f, 7), DATA_GPA + 0x200, 512, W | N, 1);
	set_desc(desc(f, 1), DATA_GPA + 0x400, 1, W, 99);
	offer(f, 3);
	assert_true(virtq_has_avail(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->chain), VIRTQ_CHAIN);
	assert_int_equal(f->chain.head, 3);
	assert_false(f->chain.bad);
	assert_int_equal(f->chain.n, 3);
	assert_int_equal(f->chain.nread, 1);
	assert_int_equal(f->bufs[0].gpa, DATA_GPA);
	assert_false(f->bufs[0].write);
	assert_int_equal(f->bufs[1].len, 512);
	assert_true(f->bufs[2].write);
	assert_int_equal(f->chain.last.addr, DATA_GPA + 0x400);
	assert_int_equal(virtq_chain_bytes(&f->chain, 0, 1), 16);
	assert_int_equal(virtq_chain_bytes(&f->chain, 1, 3), 513);
	assert_int_equal(virtq_chain_bytes(&f->chain, 0, 99), 529);
	assert_false(virtq_has_avail(&f->q));
	/* Unpop: the same chain comes again. */
	virtq_unpop(&f->q);
	assert_true(virtq_has_avail(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->chain), VIRTQ_CHAIN);
	assert_int_equal(f->chain.head, 3);
}

static void pop_one(struct fixture *f, uint16_t head, enum virtq_pop_result want)
{
	offer(f, head);
	assert_int_equal(virtq_pop(&f->q, &f->chain), want);
}

static void test_bad_chains(void **state)
{
	struct fixture *f = *state;

	enable(f, false, false);
	/* A readable buffer after a writable one. */
	set_desc(desc(f, 0), DATA_GPA, 8, W | N, 1);
	set_desc(desc(f, 1), DATA_GPA, 8, W | N, 2);
	set_desc(desc(f, 2), DATA_GPA, 8, 0, 0);
	pop_one(f, 0, VIRTQ_CHAIN);
	assert_true(f->chain.bad);
	assert_int_equal(f->chain.n, 2);
	/* A buffer past RAM, and one wrapping around the address space. */
	set_desc(desc(f, 0), RAM_END - 4, 8, N, 1);
	set_desc(desc(f, 1), UINT64_MAX - 2, 8, W, 0);
	pop_one(f, 0, VIRTQ_CHAIN);
	assert_true(f->chain.bad);
	assert_int_equal(f->chain.n, 0);
	/* More buffers than the device takes: walked to the end, marked bad. */
	for (unsigned i = 0; i < 12; i++)
		set_desc(desc(f, i), DATA_GPA + i, 1, i == 11 ? W : N, (uint16_t)(i + 1));
	pop_one(f, 0, VIRTQ_CHAIN);
	assert_true(f->chain.bad);
	assert_int_equal(f->chain.n, MAXBUFS);
	assert_int_equal(f->chain.last.addr, DATA_GPA + 11);
	/* A buffer straddling the two runs is fine (devices map it piecewise). */
	set_desc(desc(f, 0), RAM_GPA + RUN_SIZE - 4, 8, 0, 0);
	pop_one(f, 0, VIRTQ_CHAIN);
	assert_false(f->chain.bad);
	/* Indirect without VIRTIO_F_INDIRECT_DESC: a driver error, not a buffer. */
	set_desc(desc(f, 0), TABLE_GPA, 16, I | N, 1);
	set_desc(desc(f, 1), DATA_GPA, 1, W, 0);
	pop_one(f, 0, VIRTQ_CHAIN);
	assert_true(f->chain.bad);
	assert_int_equal(f->chain.n, 1);
}

static void test_broken_rings(void **state)
{
	struct fixture *f = *state;

	enable(f, false, false);
	/* A loop. */
	set_desc(desc(f, 0), DATA_GPA, 8, N, 1);
	set_desc(desc(f, 1), DATA_GPA, 8, N, 0);
	pop_one(f, 0, VIRTQ_BROKEN);
	/* A next index past the queue, and a head past it. */
	set_desc(desc(f, 2), DATA_GPA, 8, N, QSIZE);
	pop_one(f, 2, VIRTQ_BROKEN);
	pop_one(f, QSIZE + 3, VIRTQ_BROKEN);
	/* The available index running ahead of the ring by more than its size. */
	virtq_reset(&f->q, QSIZE);
	f->q.desc_gpa = DESC_GPA;
	f->q.avail_gpa = AVAIL_GPA;
	f->q.used_gpa = USED_GPA;
	enable(f, false, false);
	avail(f)->idx = QSIZE + 1;
	assert_int_equal(virtq_pop(&f->q, &f->chain), VIRTQ_BROKEN);
	avail(f)->idx = QSIZE;
	set_desc(desc(f, 0), DATA_GPA, 8, 0, 0);
	assert_int_equal(virtq_pop(&f->q, &f->chain), VIRTQ_CHAIN);
}

static void test_indirect(void **state)
{
	struct fixture *f = *state;
	struct virtq_desc *t = gp(f, TABLE_GPA);

	enable(f, true, false);
	set_desc(&t[0], DATA_GPA, 16, N, 2);
	set_desc(&t[2], DATA_GPA + 0x100, 4096, W | N, 1);
	set_desc(&t[1], DATA_GPA + 0x2000, 1, W, 0);
	set_desc(desc(f, 4), TABLE_GPA, 3 * sizeof(*t), I, 0);
	pop_one(f, 4, VIRTQ_CHAIN);
	assert_false(f->chain.bad);
	assert_int_equal(f->chain.n, 3);
	assert_int_equal(f->chain.nread, 1);
	assert_int_equal(f->bufs[1].len, 4096);
	assert_int_equal(f->chain.last.addr, DATA_GPA + 0x2000);
	/* Buffers before the indirect descriptor count too. */
	set_desc(desc(f, 5), DATA_GPA + 0x40, 8, N, 4);
	pop_one(f, 5, VIRTQ_CHAIN);
	assert_int_equal(f->chain.n, 4);
	/* An unaligned table is read as well (no alignment is required of it). */
	memmove((uint8_t *)t + 4, t, 3 * sizeof(*t));
	set_desc(desc(f, 4), TABLE_GPA + 4, 3 * sizeof(*t), I, 0);
	pop_one(f, 4, VIRTQ_CHAIN);
	assert_int_equal(f->chain.n, 3);
	memmove(t, (uint8_t *)t + 4, 3 * sizeof(*t));
	/* A table inside a table is an error in the chain. */
	set_desc(&t[1], TABLE_GPA, 16, I, 0);
	set_desc(desc(f, 4), TABLE_GPA, 3 * sizeof(*t), I, 0);
	pop_one(f, 4, VIRTQ_CHAIN);
	assert_true(f->chain.bad);
	set_desc(&t[1], DATA_GPA + 0x2000, 1, W, 0);
}

static void test_indirect_broken(void **state)
{
	struct fixture *f = *state;
	struct virtq_desc *t = gp(f, TABLE_GPA);

	enable(f, true, false);
	set_desc(&t[0], DATA_GPA, 16, N, 1);
	set_desc(&t[1], DATA_GPA, 1, W, 0);
	/* INDIRECT with NEXT, an empty or ragged table, one outside RAM: no end to find. */
	set_desc(desc(f, 0), TABLE_GPA, 32, I | N, 1);
	pop_one(f, 0, VIRTQ_BROKEN);
	set_desc(desc(f, 0), TABLE_GPA, 0, I, 0);
	pop_one(f, 0, VIRTQ_BROKEN);
	set_desc(desc(f, 0), TABLE_GPA, 24, I, 0);
	pop_one(f, 0, VIRTQ_BROKEN);
	set_desc(desc(f, 0), RAM_END - 16, 32, I, 0);
	pop_one(f, 0, VIRTQ_BROKEN);
	/* A loop inside the table, and a link past its end. */
	set_desc(&t[1], DATA_GPA, 1, N, 0);
	set_desc(desc(f, 0), TABLE_GPA, 32, I, 0);
	pop_one(f, 0, VIRTQ_BROKEN);
	set_desc(&t[1], DATA_GPA, 1, N, 2);
	pop_one(f, 0, VIRTQ_BROKEN);
}

/* ---------------------------------------------------------------- used ring, notifications */

static void test_push_and_notify(void **state)
{
	struct fixture *f = *state;

	enable(f, false, false);
	virtq_push(&f->q, 7, 513);
	assert_int_equal(used(f)->idx, 1);
	assert_int_equal(used(f)->ring[0].id, 7);
	assert_int_equal(used(f)->ring[0].len, 513);
	assert_true(virtq_should_notify(&f->q));
	avail(f)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_push(&f->q, 8, 1);
	assert_false(virtq_should_notify(&f->q));
	assert_int_equal(used(f)->ring[1].id, 8);
	/* The driver asks for notifications (or not) through used->flags. */
	virtq_set_notify(&f->q, false);
	assert_int_equal(used(f)->flags, VIRTQ_USED_F_NO_NOTIFY);
	virtq_set_notify(&f->q, true);
	assert_int_equal(used(f)->flags, 0);
}

static void test_event_idx(void **state)
{
	struct fixture *f = *state;
	le16 *used_event = &avail(f)->ring[QSIZE];
	le16 *avail_event = (le16 *)&used(f)->ring[QSIZE];

	enable(f, false, true);
	avail(f)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT; /* ignored with EVENT_IDX */
	*used_event = 2;			      /* interrupt me when entry 2 is used */
	virtq_push(&f->q, 0, 1);
	assert_true(virtq_should_notify(&f->q)); /* the first one always */
	virtq_push(&f->q, 1, 1);
	assert_false(virtq_should_notify(&f->q)); /* used idx 2: event 2 not yet passed */
	virtq_push(&f->q, 2, 1);
	assert_true(virtq_should_notify(&f->q)); /* idx 3 passes event 2 */
	virtq_push(&f->q, 3, 1);
	assert_false(virtq_should_notify(&f->q));
	/* Several pushes between checks: one notification if the event lies among them. */
	*used_event = 5;
	virtq_push(&f->q, 4, 1);
	virtq_push(&f->q, 5, 1);
	virtq_push(&f->q, 6, 1);
	assert_true(virtq_should_notify(&f->q));
	/* avail_event tells the driver when to notify us. */
	set_desc(desc(f, 0), DATA_GPA, 1, 0, 0);
	offer(f, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->chain), VIRTQ_CHAIN);
	virtq_set_notify(&f->q, true);
	assert_int_equal(*avail_event, 1);
	assert_int_equal(used(f)->flags, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mem_runs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mem_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mem_copy_across_runs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mem_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enable_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pop_empty_and_simple, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_chains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_broken_rings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_broken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push_and_notify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
