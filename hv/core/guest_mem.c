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
	return r->host + (gpa - r->gpa);
}

/* Walk [gpa, gpa + len) run by run; fn (if any) gets each piece. False unless all RAM. */
static bool walk(const struct guest_mem *m, uint64_t gpa, uint64_t len,
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
		if (fn)
			fn(ctx, r->host + (gpa - r->gpa), n);
		gpa += n;
		len -= n;
	}
	return true;
}

bool guest_mem_contains(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return walk(m, gpa, len, NULL, NULL);
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

/* Checked whole first, so a copy that would fail half-way copies nothing. */
bool guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf, uint64_t len)
{
	struct copy c = {.out = buf};

	return guest_mem_contains(m, gpa, len) && walk(m, gpa, len, copy_out, &c);
}

bool guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, uint64_t len)
{
	struct copy c = {.in = buf};

	return guest_mem_contains(m, gpa, len) && walk(m, gpa, len, copy_in, &c);
}

static void zero_piece(void *ctx, uint8_t *host, uint64_t n)
{
	(void)ctx;
	memset(host, 0, n);
}

bool guest_mem_zero(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return guest_mem_contains(m, gpa, len) && walk(m, gpa, len, zero_piece, NULL);
}

struct seg_list {
	struct guest_mem_seg *segs;
	unsigned n, max;
	bool overflow;
};

static void add_seg(void *ctx, uint8_t *host, uint64_t n)
{
	struct seg_list *l = ctx;

	if (l->n == l->max) {
		l->overflow = true;
		return;
	}
	l->segs[l->n++] = (struct guest_mem_seg){host, n};
}

bool guest_mem_segments(const struct guest_mem *m, uint64_t gpa, uint64_t len,
			struct guest_mem_seg *segs, unsigned *n, unsigned max)
{
	struct seg_list l = {segs, *n, max, false};

	if (!walk(m, gpa, len, add_seg, &l) || l.overflow)
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
