// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the virtual PLIC, driven only through its MMIO ops and public functions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <cmocka.h>

#include <vireo/vplic.h>

#define PRIO(src)    (VPLIC_PRIORITY_BASE + 4 * (src))
#define PENDING(w)   (VPLIC_PENDING_BASE + 4 * (w))
#define ENABLE(c, w) (VPLIC_ENABLE_BASE + VPLIC_ENABLE_STRIDE * (c) + 4 * (w))
#define THRESHOLD(c) (VPLIC_CONTEXT_BASE + VPLIC_CONTEXT_STRIDE * (c))
#define CLAIM(c)     (VPLIC_CONTEXT_BASE + VPLIC_CONTEXT_STRIDE * (c) + 4)
#define MAX_EVENTS   64

struct event {
	unsigned context;
	bool pending;
};

/* Every notify call, in order. */
struct recorder {
	struct event ev[MAX_EVENTS];
	unsigned count;
	bool level[VPLIC_MAX_CONTEXTS];
};

struct fixture {
	struct vplic plic;
	struct recorder rec;
};

static void record_notify(void *opaque, unsigned context, bool pending)
{
	struct recorder *r = opaque;

	assert_true(context < VPLIC_MAX_CONTEXTS);
	/* notify must report a change, never the same level twice. */
	assert_int_not_equal(r->level[context], pending);
	r->level[context] = pending;
	assert_true(r->count < MAX_EVENTS);
	r->ev[r->count].context = context;
	r->ev[r->count].pending = pending;
	r->count++;
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	vplic_init(&f->plic, VM_PLIC_NUM_SOURCES, 4, record_notify, &f->rec);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	test_free(*state);
	return 0;
}

static uint32_t rd(struct fixture *f, uint64_t off)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(vplic_mmio_ops.read(&f->plic, off, 4, &v), 0);
	assert_true(v <= UINT32_MAX);
	return (uint32_t)v;
}

static void wr(struct fixture *f, uint64_t off, uint32_t val)
{
	assert_int_equal(vplic_mmio_ops.write(&f->plic, off, 4, val), 0);
}

static void assert_event(struct fixture *f, unsigned idx, unsigned context, bool pending)
{
	assert_true(idx < f->rec.count);
	assert_int_equal(f->rec.ev[idx].context, context);
	assert_int_equal(f->rec.ev[idx].pending, pending);
}

/* Priority 1 and S-mode enable of hart 0 (context 1) for a source. */
static void route(struct fixture *f, unsigned src, unsigned prio, unsigned context)
{
	wr(f, PRIO(src), prio);
	wr(f, ENABLE(context, src / 32), rd(f, ENABLE(context, src / 32)) | (1U << (src % 32)));
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;

	for (unsigned s = 0; s < VM_PLIC_NUM_SOURCES; s++)
		assert_int_equal(rd(f, PRIO(s)), 0);
	assert_int_equal(rd(f, PENDING(0)), 0);
	for (unsigned c = 0; c < 4; c++) {
		assert_int_equal(rd(f, ENABLE(c, 0)), 0);
		assert_int_equal(rd(f, THRESHOLD(c)), 0);
		assert_int_equal(rd(f, CLAIM(c)), 0);
		assert_false(vplic_context_pending(&f->plic, c));
	}
	assert_int_equal(f->rec.count, 0);
}

static void test_priority_is_3_bits_and_source0_reserved(void **state)
{
	struct fixture *f = *state;

	wr(f, PRIO(1), 0xffffffff);
	assert_int_equal(rd(f, PRIO(1)), 7);
	wr(f, PRIO(31), 0x0d);
	assert_int_equal(rd(f, PRIO(31)), 5);
	wr(f, PRIO(0), 7);
	assert_int_equal(rd(f, PRIO(0)), 0);
	/* Sources past num_sources do not exist. */
	wr(f, PRIO(32), 7);
	assert_int_equal(rd(f, PRIO(32)), 0);
	wr(f, PRIO(1023), 7);
	assert_int_equal(rd(f, PRIO(1023)), 0);
}

static void test_threshold_is_3_bits(void **state)
{
	struct fixture *f = *state;

	wr(f, THRESHOLD(1), 0xff);
	assert_int_equal(rd(f, THRESHOLD(1)), 7);
	wr(f, THRESHOLD(1), 2);
	assert_int_equal(rd(f, THRESHOLD(1)), 2);
	assert_int_equal(rd(f, THRESHOLD(0)), 0);
}

static void test_enable_bits_hardwired(void **state)
{
	struct fixture *f = *state;

	wr(f, ENABLE(1, 0), 0xffffffff);
	assert_int_equal(rd(f, ENABLE(1, 0)), 0xfffffffe); /* source 0 is hardwired to 0 */
	wr(f, ENABLE(1, 1), 0xffffffff);
	assert_int_equal(rd(f, ENABLE(1, 1)), 0);
	assert_int_equal(rd(f, ENABLE(0, 0)), 0);
	assert_int_equal(rd(f, ENABLE(2, 0)), 0);

	/* Fewer sources: the bits past the last one read 0. */
	vplic_init(&f->plic, 10, 2, NULL, NULL);
	wr(f, ENABLE(1, 0), 0xffffffff);
	assert_int_equal(rd(f, ENABLE(1, 0)), 0x3fe);
	wr(f, PRIO(10), 3);
	assert_int_equal(rd(f, PRIO(10)), 0);
	vplic_set_level(&f->plic, 10, true);
	assert_int_equal(rd(f, PENDING(0)), 0);
}

static void test_pending_bits_read_only(void **state)
{
	struct fixture *f = *state;

	vplic_set_level(&f->plic, 5, true);
	vplic_set_level(&f->plic, 31, true);
	assert_int_equal(rd(f, PENDING(0)), (1U << 5) | (1U << 31));
	wr(f, PENDING(0), 0);
	assert_int_equal(rd(f, PENDING(0)), (1U << 5) | (1U << 31));
	wr(f, PENDING(0), 0xffffffff);
	assert_int_equal(rd(f, PENDING(0)), (1U << 5) | (1U << 31));
	assert_int_equal(rd(f, PENDING(1)), 0);
	/* Nothing enabled: no context sees it. */
	assert_int_equal(f->rec.count, 0);
}

static void test_claim_order(void **state)
{
	struct fixture *f = *state;

	route(f, 3, 2, 1);
	route(f, 7, 5, 1);
	route(f, 5, 5, 1);
	route(f, 9, 1, 1);
	vplic_set_level(&f->plic, 3, true);
	vplic_set_level(&f->plic, 7, true);
	vplic_set_level(&f->plic, 9, true);
	vplic_set_level(&f->plic, 5, true);
	/* Highest priority first; equal priorities go to the lowest id. */
	assert_int_equal(rd(f, CLAIM(1)), 5);
	assert_int_equal(rd(f, CLAIM(1)), 7);
	assert_int_equal(rd(f, CLAIM(1)), 3);
	assert_int_equal(rd(f, CLAIM(1)), 9);
	assert_int_equal(rd(f, CLAIM(1)), 0);
	assert_int_equal(rd(f, PENDING(0)), 0);
	/* One rise when the first source arrived, one fall at the last claim. */
	assert_int_equal(f->rec.count, 2);
	assert_event(f, 0, 1, true);
	assert_event(f, 1, 1, false);
}

static void test_priority_change_reorders(void **state)
{
	struct fixture *f = *state;

	route(f, 2, 1, 1);
	route(f, 4, 3, 1);
	vplic_set_level(&f->plic, 2, true);
	vplic_set_level(&f->plic, 4, true);
	wr(f, PRIO(2), 6);
	assert_int_equal(rd(f, CLAIM(1)), 2);
	assert_int_equal(rd(f, CLAIM(1)), 4);
}

static void test_threshold_masks(void **state)
{
	struct fixture *f = *state;

	route(f, 4, 3, 1);
	wr(f, THRESHOLD(1), 3);
	vplic_set_level(&f->plic, 4, true);
	/* priority <= threshold: masked, no notification, nothing to claim */
	assert_int_equal(f->rec.count, 0);
	assert_false(vplic_context_pending(&f->plic, 1));
	assert_int_equal(rd(f, CLAIM(1)), 0);
	assert_int_equal(rd(f, PENDING(0)), 1U << 4);

	wr(f, THRESHOLD(1), 2);
	assert_int_equal(f->rec.count, 1);
	assert_event(f, 0, 1, true);
	assert_true(vplic_context_pending(&f->plic, 1));

	wr(f, THRESHOLD(1), 7);
	assert_int_equal(f->rec.count, 2);
	assert_event(f, 1, 1, false);

	/* Raising the priority above the threshold unmasks it too. */
	wr(f, THRESHOLD(1), 5);
	assert_int_equal(f->rec.count, 2);
	wr(f, PRIO(4), 6);
	assert_int_equal(f->rec.count, 3);
	assert_event(f, 2, 1, true);
	assert_int_equal(rd(f, CLAIM(1)), 4);
	assert_event(f, 3, 1, false);
}

static void test_priority_zero_never_interrupts(void **state)
{
	struct fixture *f = *state;

	route(f, 6, 0, 1);
	vplic_set_level(&f->plic, 6, true);
	assert_int_equal(rd(f, PENDING(0)), 1U << 6);
	assert_int_equal(f->rec.count, 0);
	assert_int_equal(rd(f, CLAIM(1)), 0);
	/* Still pending: claiming nothing changed nothing. */
	assert_int_equal(rd(f, PENDING(0)), 1U << 6);
	wr(f, PRIO(6), 1);
	assert_int_equal(f->rec.count, 1);
	assert_int_equal(rd(f, CLAIM(1)), 6);
}

static void test_per_context_enables(void **state)
{
	struct fixture *f = *state;

	route(f, 3, 1, 1);
	route(f, 4, 1, 3);
	vplic_set_level(&f->plic, 3, true);
	assert_int_equal(f->rec.count, 1);
	assert_event(f, 0, 1, true);
	assert_false(vplic_context_pending(&f->plic, 3));
	assert_int_equal(rd(f, CLAIM(3)), 0);

	vplic_set_level(&f->plic, 4, true);
	assert_int_equal(f->rec.count, 2);
	assert_event(f, 1, 3, true);
	assert_int_equal(rd(f, CLAIM(1)), 3);
	assert_int_equal(rd(f, CLAIM(3)), 4);
	assert_int_equal(f->rec.count, 4);

	/* Disabling a pending source drops the output; enabling it brings it back. */
	vplic_set_level(&f->plic, 3, false);
	wr(f, CLAIM(1), 3);
	vplic_set_level(&f->plic, 3, true);
	assert_true(vplic_context_pending(&f->plic, 1));
	wr(f, ENABLE(1, 0), 0);
	assert_false(vplic_context_pending(&f->plic, 1));
	wr(f, ENABLE(1, 0), 1U << 3);
	assert_true(vplic_context_pending(&f->plic, 1));
}

static void test_multicast_claim_by_one(void **state)
{
	struct fixture *f = *state;

	route(f, 3, 1, 1);
	route(f, 3, 1, 3);
	vplic_set_level(&f->plic, 3, true);
	assert_int_equal(f->rec.count, 2);
	assert_true(vplic_context_pending(&f->plic, 1));
	assert_true(vplic_context_pending(&f->plic, 3));
	/* The fastest hart wins; the other finds nothing. */
	assert_int_equal(rd(f, CLAIM(3)), 3);
	assert_int_equal(rd(f, CLAIM(1)), 0);
	assert_false(vplic_context_pending(&f->plic, 1));
	assert_false(vplic_context_pending(&f->plic, 3));
	assert_int_equal(f->rec.count, 4);
	/* Another context that has it enabled may complete it. */
	vplic_set_level(&f->plic, 3, false);
	wr(f, CLAIM(1), 3);
	vplic_set_level(&f->plic, 3, true);
	assert_true(vplic_context_pending(&f->plic, 1));
}

static void test_gateway_level(void **state)
{
	struct fixture *f = *state;

	route(f, 10, 1, 1);
	vplic_set_level(&f->plic, 10, true);
	assert_int_equal(rd(f, CLAIM(1)), 10);
	assert_int_equal(rd(f, PENDING(0)), 0);
	/* In service with the line still high: no new request until completion. */
	vplic_set_level(&f->plic, 10, true);
	assert_int_equal(rd(f, PENDING(0)), 0);
	assert_int_equal(rd(f, CLAIM(1)), 0);
	assert_int_equal(f->rec.count, 2);

	/* Completion with the line still high: pending again. */
	wr(f, CLAIM(1), 10);
	assert_int_equal(rd(f, PENDING(0)), 1U << 10);
	assert_int_equal(f->rec.count, 3);
	assert_event(f, 2, 1, true);
	assert_int_equal(rd(f, CLAIM(1)), 10);
	assert_event(f, 3, 1, false);

	/* The device is serviced (line low) before completion: nothing more. */
	vplic_set_level(&f->plic, 10, false);
	wr(f, CLAIM(1), 10);
	assert_int_equal(rd(f, PENDING(0)), 0);
	assert_int_equal(f->rec.count, 4);

	/* A fresh assertion after completion is a new request. */
	vplic_set_level(&f->plic, 10, true);
	assert_int_equal(rd(f, PENDING(0)), 1U << 10);
	assert_int_equal(f->rec.count, 5);
}

static void test_gateway_pulse_while_in_service(void **state)
{
	struct fixture *f = *state;

	route(f, 2, 1, 1);
	vplic_set_level(&f->plic, 2, true);
	assert_int_equal(rd(f, CLAIM(1)), 2);
	vplic_set_level(&f->plic, 2, false);
	vplic_set_level(&f->plic, 2, true);
	assert_int_equal(rd(f, PENDING(0)), 0);
	wr(f, CLAIM(1), 2);
	assert_int_equal(rd(f, PENDING(0)), 1U << 2);
}

static void test_deassert_keeps_request(void **state)
{
	struct fixture *f = *state;

	/* The gateway cannot retract a request it forwarded (riscv-plic-1.0.0). */
	route(f, 8, 1, 1);
	vplic_set_level(&f->plic, 8, true);
	vplic_set_level(&f->plic, 8, false);
	assert_int_equal(rd(f, PENDING(0)), 1U << 8);
	assert_true(vplic_context_pending(&f->plic, 1));
	assert_int_equal(rd(f, CLAIM(1)), 8);
	wr(f, CLAIM(1), 8);
	assert_int_equal(rd(f, PENDING(0)), 0);
	assert_false(vplic_context_pending(&f->plic, 1));
}

static void test_complete_not_enabled_ignored(void **state)
{
	struct fixture *f = *state;

	route(f, 3, 1, 1);
	vplic_set_level(&f->plic, 3, true);
	assert_int_equal(rd(f, CLAIM(1)), 3);
	/* Completion from a context without the source enabled is ignored. */
	wr(f, CLAIM(3), 3);
	wr(f, ENABLE(1, 0), 0);
	wr(f, CLAIM(1), 3);
	assert_int_equal(rd(f, PENDING(0)), 0);
	/* ... so it is still in service: the still-high line re-pends only on a real completion. */
	wr(f, ENABLE(1, 0), 1U << 3);
	assert_int_equal(rd(f, PENDING(0)), 0);
	wr(f, CLAIM(1), 3);
	assert_int_equal(rd(f, PENDING(0)), 1U << 3);
}

static void test_complete_bad_ids_ignored(void **state)
{
	struct fixture *f = *state;

	route(f, 3, 1, 1);
	vplic_set_level(&f->plic, 3, true);
	assert_int_equal(rd(f, CLAIM(1)), 3);
	wr(f, CLAIM(1), 0);
	wr(f, CLAIM(1), 32);
	wr(f, CLAIM(1), 1023);
	wr(f, CLAIM(1), 0xffffffff);
	assert_int_equal(rd(f, PENDING(0)), 0);
	wr(f, CLAIM(1), 3);
	assert_int_equal(rd(f, PENDING(0)), 1U << 3);
}

static void test_notify_only_on_change(void **state)
{
	struct fixture *f = *state;

	route(f, 3, 1, 1);
	route(f, 4, 2, 1);
	assert_int_equal(f->rec.count, 0);
	vplic_set_level(&f->plic, 3, true);
	assert_int_equal(f->rec.count, 1);
	/* Already high: more sources, repeated levels, register rewrites do not notify. */
	vplic_set_level(&f->plic, 4, true);
	vplic_set_level(&f->plic, 4, true);
	wr(f, PRIO(3), 1);
	wr(f, THRESHOLD(1), 0);
	wr(f, ENABLE(1, 0), rd(f, ENABLE(1, 0)));
	assert_int_equal(f->rec.count, 1);
	/* Claiming 4 leaves 3 pending: still high. */
	assert_int_equal(rd(f, CLAIM(1)), 4);
	assert_int_equal(f->rec.count, 1);
	assert_int_equal(rd(f, CLAIM(1)), 3);
	assert_int_equal(f->rec.count, 2);
	assert_event(f, 1, 1, false);
	/* Reads of claim with nothing pending, and of other registers, notify nothing. */
	assert_int_equal(rd(f, CLAIM(1)), 0);
	rd(f, PENDING(0));
	rd(f, PRIO(3));
	assert_int_equal(f->rec.count, 2);
	/* Completions with the lines low notify nothing. */
	vplic_set_level(&f->plic, 3, false);
	vplic_set_level(&f->plic, 4, false);
	wr(f, CLAIM(1), 3);
	wr(f, CLAIM(1), 4);
	assert_int_equal(f->rec.count, 2);
}

static void test_mmode_context_exists(void **state)
{
	struct fixture *f = *state;

	/* Context 0 is hart 0's M-mode: registers work, notify reports it as context 0. */
	route(f, 1, 4, 0);
	wr(f, THRESHOLD(0), 3);
	assert_int_equal(rd(f, THRESHOLD(0)), 3);
	vplic_set_level(&f->plic, 1, true);
	assert_int_equal(f->rec.count, 1);
	assert_event(f, 0, 0, true);
	assert_false(vplic_context_pending(&f->plic, 1));
	assert_int_equal(rd(f, CLAIM(1)), 0);
	assert_int_equal(rd(f, CLAIM(0)), 1);
	assert_event(f, 1, 0, false);
}

static void test_out_of_range_contexts(void **state)
{
	struct fixture *f = *state;
	const unsigned far[] = {4, 5, VPLIC_MAX_CONTEXTS, 15871};

	wr(f, PRIO(3), 1);
	vplic_set_level(&f->plic, 3, true);
	for (unsigned i = 0; i < ARRAY_SIZE(far); i++) {
		unsigned c = far[i];

		wr(f, ENABLE(c, 0), 0xffffffff);
		assert_int_equal(rd(f, ENABLE(c, 0)), 0);
		wr(f, THRESHOLD(c), 5);
		assert_int_equal(rd(f, THRESHOLD(c)), 0);
		assert_int_equal(rd(f, CLAIM(c)), 0);
		wr(f, CLAIM(c), 3);
		assert_false(vplic_context_pending(&f->plic, c));
	}
	assert_int_equal(rd(f, PENDING(0)), 1U << 3);
	assert_int_equal(f->rec.count, 0);
}

static void test_reserved_space(void **state)
{
	struct fixture *f = *state;
	const uint64_t offs[] = {
	    PENDING(1), 0x107c,	  0x1ffc,	    ENABLE(1, 1),	  ENABLE(1, 31),
	    0x1f2000,	0x1ffffc, THRESHOLD(1) + 8, THRESHOLD(1) + 0xffc, VM_PLIC_SIZE - 4,
	};

	route(f, 3, 1, 1);
	vplic_set_level(&f->plic, 3, true);
	for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
		wr(f, offs[i], 0xffffffff);
		assert_int_equal(rd(f, offs[i]), 0);
	}
	assert_int_equal(rd(f, PENDING(0)), 1U << 3);
	assert_int_equal(rd(f, ENABLE(1, 0)), 1U << 3);
	assert_int_equal(rd(f, THRESHOLD(1)), 0);
	assert_int_equal(f->rec.count, 1);
}

static void test_bad_width_rejected(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 0;

	assert_true(vplic_mmio_ops.read(&f->plic, PRIO(1), 1, &v) < 0);
	assert_true(vplic_mmio_ops.read(&f->plic, PRIO(1), 2, &v) < 0);
	assert_true(vplic_mmio_ops.read(&f->plic, PRIO(1), 8, &v) < 0);
	assert_true(vplic_mmio_ops.read(&f->plic, PRIO(1) + 2, 4, &v) < 0);
	assert_true(vplic_mmio_ops.write(&f->plic, PRIO(1), 1, 7) < 0);
	assert_true(vplic_mmio_ops.write(&f->plic, PRIO(1), 8, 7) < 0);
	assert_true(vplic_mmio_ops.write(&f->plic, PRIO(1) + 1, 4, 7) < 0);
	assert_int_equal(rd(f, PRIO(1)), 0);
}

static void test_set_level_out_of_range(void **state)
{
	struct fixture *f = *state;

	wr(f, ENABLE(1, 0), 0xffffffff);
	vplic_set_level(&f->plic, 0, true);
	vplic_set_level(&f->plic, VM_PLIC_NUM_SOURCES, true);
	vplic_set_level(&f->plic, 100000, true);
	assert_int_equal(rd(f, PENDING(0)), 0);
	assert_int_equal(f->rec.count, 0);
}

static void test_sizes_clamped(void **state)
{
	struct fixture *f = *state;
	unsigned last = VPLIC_MAX_CONTEXTS - 1;

	vplic_init(&f->plic, 5000, 5000, record_notify, &f->rec);
	wr(f, PRIO(31), 1);
	wr(f, ENABLE(last, 0), 1U << 31);
	vplic_set_level(&f->plic, 31, true);
	assert_true(vplic_context_pending(&f->plic, last));
	assert_event(f, 0, last, true);
	assert_int_equal(rd(f, ENABLE(last + 1, 0)), 0);
	assert_int_equal(rd(f, CLAIM(last + 1)), 0);
	assert_int_equal(rd(f, CLAIM(last)), 31);
}

static void test_no_notify_callback(void **state)
{
	struct fixture *f = *state;

	vplic_init(&f->plic, VM_PLIC_NUM_SOURCES, 2, NULL, NULL);
	route(f, 3, 1, 1);
	vplic_set_level(&f->plic, 3, true);
	assert_true(vplic_context_pending(&f->plic, 1));
	assert_int_equal(rd(f, CLAIM(1)), 3);
}

/* Several "harts" raising, claiming and completing at once: the lock keeps the model coherent. */
#define STRESS_HARTS 4
#define STRESS_ITERS 20000

struct stress {
	struct vplic plic;
	bool level[VPLIC_MAX_CONTEXTS]; /* written only by notify, i.e. under the PLIC lock */
	unsigned bad_notify;
	uint32_t busy[VM_PLIC_NUM_SOURCES]; /* the test's view: claimed and not completed */
	unsigned double_claims;
	unsigned claims[VM_PLIC_NUM_SOURCES];
};

struct stress_arg {
	struct stress *s;
	unsigned hart;
};

static void stress_notify(void *opaque, unsigned context, bool pending)
{
	struct stress *s = opaque;

	if (context >= VPLIC_MAX_CONTEXTS || s->level[context] == pending)
		s->bad_notify++;
	else
		s->level[context] = pending;
}

static void stress_service(struct stress *s, unsigned context, unsigned id)
{
	if (__atomic_exchange_n(&s->busy[id], 1, __ATOMIC_ACQ_REL))
		__atomic_fetch_add(&s->double_claims, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->claims[id], 1, __ATOMIC_RELAXED);
	vplic_set_level(&s->plic, id, false); /* the device is serviced */
	__atomic_store_n(&s->busy[id], 0, __ATOMIC_RELEASE);
	vplic_mmio_ops.write(&s->plic, CLAIM(context), 4, id);
}

static void *stress_hart(void *opaque)
{
	struct stress_arg *a = opaque;
	unsigned context = 2 * a->hart + 1;

	for (unsigned i = 0; i < STRESS_ITERS; i++) {
		uint64_t id = 0;

		vplic_set_level(&a->s->plic, a->hart + 1 + (i % 3) * STRESS_HARTS, true);
		vplic_mmio_ops.read(&a->s->plic, CLAIM(context), 4, &id);
		if (id)
			stress_service(a->s, context, (unsigned)id);
	}
	return NULL;
}

static void test_concurrent_harts(void **state UNUSED)
{
	struct stress *s = test_calloc(1, sizeof(*s));
	pthread_t threads[STRESS_HARTS];
	struct stress_arg args[STRESS_HARTS];
	uint64_t id;

	vplic_init(&s->plic, VM_PLIC_NUM_SOURCES, 2 * STRESS_HARTS, stress_notify, s);
	for (unsigned src = 1; src < VM_PLIC_NUM_SOURCES; src++)
		vplic_mmio_ops.write(&s->plic, PRIO(src), 4, 1 + src % 7);
	for (unsigned c = 0; c < 2 * STRESS_HARTS; c++)
		vplic_mmio_ops.write(&s->plic, ENABLE(c, 0), 4, 0xfffffffe);
	for (unsigned t = 0; t < STRESS_HARTS; t++) {
		args[t] = (struct stress_arg){.s = s, .hart = t};
		assert_int_equal(pthread_create(&threads[t], NULL, stress_hart, &args[t]), 0);
	}
	for (unsigned t = 0; t < STRESS_HARTS; t++)
		assert_int_equal(pthread_join(threads[t], NULL), 0);

	/* Drain what the last rounds left pending; then every output must be low. */
	while (vplic_mmio_ops.read(&s->plic, CLAIM(1), 4, &id) == 0 && id)
		stress_service(s, 1, (unsigned)id);
	for (unsigned c = 0; c < 2 * STRESS_HARTS; c++) {
		assert_false(vplic_context_pending(&s->plic, c));
		assert_false(s->level[c]);
	}
	assert_int_equal(s->bad_notify, 0);
	assert_int_equal(s->double_claims, 0);
	for (unsigned src = 1; src <= 3 * STRESS_HARTS; src++)
		assert_true(s->claims[src] > 0);
	test_free(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_reset_state),
	    T(test_priority_is_3_bits_and_source0_reserved),
	    T(test_threshold_is_3_bits),
	    T(test_enable_bits_hardwired),
	    T(test_pending_bits_read_only),
	    T(test_claim_order),
	    T(test_priority_change_reorders),
	    T(test_threshold_masks),
	    T(test_priority_zero_never_interrupts),
	    T(test_per_context_enables),
	    T(test_multicast_claim_by_one),
	    T(test_gateway_level),
	    T(test_gateway_pulse_while_in_service),
	    T(test_deassert_keeps_request),
	    T(test_complete_not_enabled_ignored),
	    T(test_complete_bad_ids_ignored),
	    T(test_notify_only_on_change),
	    T(test_mmode_context_exists),
	    T(test_out_of_range_contexts),
	    T(test_reserved_space),
	    T(test_bad_width_rejected),
	    T(test_set_level_out_of_range),
	    T(test_sizes_clamped),
	    T(test_no_notify_callback),
	    cmocka_unit_test(test_concurrent_harts),
	};

	return cmocka_run_group_tests_name("vplic", tests, NULL, NULL);
}
