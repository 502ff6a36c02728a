// SPDX-License-Identifier: BSD-2-Clause
/* Guest RAM as runs of host memory; see vireo/guest_mem.h. */
#include <vireo/guest_mem.h>
#include <vireo/string.h>

int guest_mem_add_run(struct guest_mem *m, uint64_t gpa, uint64_t size, uint8_t *host)
{
	const struct guest_mem_run *last = m->nruns ? &m->runs[m->nruns - 1] : NULL;

	if (!size || !host || gpa + size - 1 < gpa ||
	    (uintptr_t)host + size - 1 < (uintptr_t)host || (last && gpa < last->gpa + last->size))
		return -VIREO_EINVAL;
	if (m->nruns == GUEST_MEM_MAX_RUNS)
		return -VIREO_ENOMEM;
	m->runs[m->nruns++] = (struct guest_mem_run){gpa, size, host};
	return 0;
}

/* The run holding gpa, or NULL. */
static const struct guest_mem_run *run_of(const struct guest_mem *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nruns; i++) {
		const struct guest_mem_run *r = &m->runs[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_run *r = run_of(m, gpa);

	if (!r || !len || len > r->size - (gpa - r->gpa))
		return NULL;
	if (m->cow)
		return m->cow->privatize_contig(m->cow->ctx, gpa, len);
	return r->host + (gpa - r->gpa);
}

/* Walk [gpa, gpa + len) run by run (page by page in copy-on-write RAM, made private
 * first for a write); fn (if any) gets each piece. False unless all RAM. */
static bool walk(const struct guest_mem *m, uint64_t gpa, uint64_t len, bool write,
		 void (*fn)(void *ctx, uint8_t *host, uint64_t n), void *ctx)
{
	if (!len || gpa + len - 1 < gpa)
		return false;
	while (len) {
		const struct guest_mem_run *r = run_of(m, gpa);
		uint64_t n;

		if (!r)
			return false;
		n = MIN(len, r->size - (gpa - r->gpa));
		if (m->cow && fn) {
			uint64_t page = gpa & ~(uint64_t)(PAGE_SIZE - 1);

			n = MIN(len, page + PAGE_SIZE - gpa);
			if (write && m->cow->privatize(m->cow->ctx, page, PAGE_SIZE))
				return false;
			fn(ctx, m->cow->page(m->cow->ctx, page) + (gpa - page), n);
		} else if (fn) {
			fn(ctx, r->host + (gpa - r->gpa), n);
		}
		gpa += n;
		len -= n;
	}
	return true;
}

bool guest_mem_contains(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return walk(m, gpa, len, false, NULL, NULL);
}

/* One side of a copy: `out` when reading from the guest, `in` when writing to it. */
struct copy {
	uint8_t *out;
	const uint8_t *in;
};

static void copy_out(void *ctx, uint8_t *host, uint64_t n)
{
	struct copy *c = ctx;

	memcpy(c->out, host, n);
	c->out += n;
}

static void copy_in(void *ctx, uint8_t *host, uint64_t n)
{
	struct copy *c = ctx;

	memcpy(host, c->in, n);
	c->in += n;
}

/* Copy-on-write RAM about to be written: all of it private first, so that a write that
 * would fail half-way for want of memory writes nothing. */
static bool private_first(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return !m->cow || m->cow->privatize(m->cow->ctx, gpa, len) == 0;
}

/* Checked whole first, so a copy that would fail half-way copies nothing. */
bool guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf, uint64_t len)
{
	struct copy c = {.out = buf};

	return guest_mem_contains(m, gpa, len) && walk(m, gpa, len, false, copy_out, &c);
}

bool guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, uint64_t len)
{
	struct copy c = {.in = buf};

	return guest_mem_contains(m, gpa, len) && private_first(m, gpa, len) &&
	       walk(m, gpa, len, true, copy_in, &c);
}

static void zero_piece(void *ctx, uint8_t *host, uint64_t n)
{
	(void)ctx;
	memset(host, 0, n);
}

bool guest_mem_zero(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return guest_mem_contains(m, gpa, len) && private_first(m, gpa, len) &&
	       walk(m, gpa, len, true, zero_piece, NULL);
}

struct seg_list {
	struct guest_mem_seg *segs;
	unsigned n, max;
	bool overflow;
	bool join; /* copy-on-write RAM comes page by page: adjacent pages are one segment */
};

static void add_seg(void *ctx, uint8_t *host, uint64_t n)
{
	struct seg_list *l = ctx;

	if (l->join && l->n && l->segs[l->n - 1].host + l->segs[l->n - 1].len == host) {
		l->segs[l->n - 1].len += n;
		return;
	}
	if (l->n == l->max) {
		l->overflow = true;
		return;
	}
	l->segs[l->n++] = (struct guest_mem_seg){host, n};
}

bool guest_mem_segments(const struct guest_mem *m, uint64_t gpa, uint64_t len,
			struct guest_mem_seg *segs, unsigned *n, unsigned max)
{
	struct seg_list l = {segs, *n, max, false, m->cow != NULL};

	if (m->cow && guest_mem_contains(m, gpa, len)) {
		/* In one piece when the pages can be made private together; else page by
		 * page, pieces that happen to be adjacent joined. */
		uint8_t *host = m->cow->privatize_contig(m->cow->ctx, gpa, len);

		if (host) {
			add_seg(&l, host, len);
			if (l.overflow)
				return false;
			*n = l.n;
			return true;
		}
	}
	if (!private_first(m, gpa, len) || !walk(m, gpa, len, m->cow != NULL, add_seg, &l) ||
	    l.overflow)
		return false;
	*n = l.n;
	return true;
}

uint64_t guest_mem_size(const struct guest_mem *m)
{
	uint64_t size = 0;

	for (unsigned i = 0; i < m->nruns; i++)
		size += m->runs[i].size;
	return size;
}
