// SPDX-License-Identifier: BSD-2-Clause
/*
 * Virtual PLIC: the register model of riscv-plic-1.0.0 with level-triggered
 * gateways. State is a handful of bitmaps; every change recomputes the
 * per-context outputs and reports the ones that moved through notify.
 */
#include <vireo/snap_io.h>
#include <vireo/string.h>
#include <vireo/vplic.h>

static bool vplic_bit(const uint32_t *map, unsigned id)
{
	return (map[id / 32] >> (id % 32)) & 1;
}

static void vplic_set_bit(uint32_t *map, unsigned id, bool on)
{
	uint32_t mask = 1U << (id % 32);

	if (on)
		map[id / 32] |= mask;
	else
		map[id / 32] &= ~mask;
}

/* Bits of word w that name real sources: source 0 and ids past the end are hardwired to 0. */
static uint32_t vplic_valid_mask(const struct vplic *p, unsigned w)
{
	uint32_t mask = ~0U;
	unsigned first = w * 32;

	if (w == 0)
		mask &= ~1U;
	if (p->num_sources <= first)
		return 0;
	if (p->num_sources - first < 32)
		mask &= (1U << (p->num_sources - first)) - 1;
	return mask;
}

/*
 * The source a claim by this context would return: the highest priority
 * above the threshold among pending enabled sources, the lowest id on ties.
 * Claims honour the threshold as QEMU's PLIC does (riscv-plic-1.0.0 lets
 * them ignore it); Linux never claims under a masking threshold. The same
 * function gives the context's output, so output and claim always agree.
 */
static unsigned vplic_best(const struct vplic *p, unsigned context)
{
	const struct vplic_context *c = &p->ctx[context];
	unsigned best = 0, best_prio = c->threshold;

	/* Only the sources both pending and enabled, a word at a time (this runs for
	 * every context on every change); ascending ids with a strict comparison: ties
	 * go to the lowest id. */
	for (unsigned w = 0; w < VPLIC_WORDS; w++) {
		uint32_t candidates = p->pending[w] & c->enable[w] & vplic_valid_mask(p, w);

		/* The loop ends at the highest candidate (no ctz: Vireo has no libgcc). */
		for (unsigned id = w * 32; candidates; id++, candidates >>= 1) {
			if ((candidates & 1) && p->priority[id] > best_prio) {
				best = id;
				best_prio = p->priority[id];
			}
		}
	}
	return best;
}

/* Called with the lock held after any state change. */
static void vplic_update(struct vplic *p)
{
	spin_assert_held(&p->lock);
	for (unsigned i = 0; i < p->num_contexts; i++) {
		bool out = vplic_best(p, i) != 0;

		if (out == p->ctx[i].output)
			continue;
		p->ctx[i].output = out;
		if (p->notify)
			p->notify(p->opaque, i, out);
	}
}

/* The gateway forwards a new request only when none is pending or in service. */
static void vplic_gateway(struct vplic *p, unsigned id)
{
	if (vplic_bit(p->level, id) && !vplic_bit(p->pending, id) && !vplic_bit(p->in_service, id))
		vplic_set_bit(p->pending, id, true);
}

void vplic_init(struct vplic *p, unsigned num_sources, unsigned num_contexts,
		vplic_notify_fn notify, void *opaque)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->lock = (spinlock_t)SPINLOCK_INIT;
	p->num_sources = MIN(num_sources, (unsigned)VPLIC_MAX_SOURCES);
	p->num_contexts = MIN(num_contexts, (unsigned)VPLIC_MAX_CONTEXTS);
	p->notify = notify;
	p->opaque = opaque;
}

void vplic_set_level(void *plic, unsigned source, bool level)
{
	struct vplic *p = plic;

	if (source == 0 || source >= p->num_sources)
		return;
	spin_lock(&p->lock);
	vplic_set_bit(p->level, source, level);
	vplic_gateway(p, source);
	vplic_update(p);
	spin_unlock(&p->lock);
}

bool vplic_context_pending(struct vplic *p, unsigned context)
{
	bool out = false;

	spin_lock(&p->lock);
	if (context < p->num_contexts)
		out = p->ctx[context].output;
	spin_unlock(&p->lock);
	return out;
}

static uint32_t vplic_claim(struct vplic *p, unsigned context)
{
	unsigned id = vplic_best(p, context);

	if (id) {
		vplic_set_bit(p->pending, id, false);
		vplic_set_bit(p->in_service, id, true);
		vplic_update(p);
	}
	return id;
}

static void vplic_complete(struct vplic *p, unsigned context, uint32_t id)
{
	/* The spec ignores completions for ids not enabled for this context. */
	if (id == 0 || id >= p->num_sources || !vplic_bit(p->ctx[context].enable, id))
		return;
	vplic_set_bit(p->in_service, id, false);
	vplic_gateway(p, id);
	vplic_update(p);
}

/* Per-context registers: threshold, claim/complete, the rest reserved. */
static uint32_t vplic_context_read(struct vplic *p, uint64_t off)
{
	uint64_t context = (off - VPLIC_CONTEXT_BASE) / VPLIC_CONTEXT_STRIDE;
	uint64_t reg = (off - VPLIC_CONTEXT_BASE) % VPLIC_CONTEXT_STRIDE;

	if (context >= p->num_contexts)
		return 0;
	if (reg == VPLIC_CONTEXT_THRESHOLD)
		return p->ctx[context].threshold;
	if (reg == VPLIC_CONTEXT_CLAIM)
		return vplic_claim(p, (unsigned)context);
	return 0;
}

static void vplic_context_write(struct vplic *p, uint64_t off, uint32_t val)
{
	uint64_t context = (off - VPLIC_CONTEXT_BASE) / VPLIC_CONTEXT_STRIDE;
	uint64_t reg = (off - VPLIC_CONTEXT_BASE) % VPLIC_CONTEXT_STRIDE;

	if (context >= p->num_contexts)
		return;
	if (reg == VPLIC_CONTEXT_THRESHOLD) {
		p->ctx[context].threshold = val & VPLIC_PRIO_MASK;
		vplic_update(p);
	} else if (reg == VPLIC_CONTEXT_CLAIM) {
		vplic_complete(p, (unsigned)context, val);
	}
}

static uint32_t vplic_reg_read(struct vplic *p, uint64_t off)
{
	if (off < VPLIC_PENDING_BASE) {
		uint64_t id = off / 4;

		return id < p->num_sources ? p->priority[id] : 0;
	}
	if (off < VPLIC_ENABLE_BASE) {
		uint64_t w = (off - VPLIC_PENDING_BASE) / 4;

		return w < VPLIC_WORDS ? p->pending[w] : 0;
	}
	if (off < VPLIC_CONTEXT_BASE) {
		uint64_t context = (off - VPLIC_ENABLE_BASE) / VPLIC_ENABLE_STRIDE;
		uint64_t w = (off - VPLIC_ENABLE_BASE) % VPLIC_ENABLE_STRIDE / 4;

		if (context >= p->num_contexts || w >= VPLIC_WORDS)
			return 0;
		return p->ctx[context].enable[w];
	}
	return vplic_context_read(p, off);
}

static void vplic_reg_write(struct vplic *p, uint64_t off, uint32_t val)
{
	if (off < VPLIC_PENDING_BASE) {
		uint64_t id = off / 4;

		if (id == 0 || id >= p->num_sources)
			return;
		p->priority[id] = val & VPLIC_PRIO_MASK;
		vplic_update(p);
	} else if (off < VPLIC_ENABLE_BASE) {
		return; /* pending bits are read-only */
	} else if (off < VPLIC_CONTEXT_BASE) {
		uint64_t context = (off - VPLIC_ENABLE_BASE) / VPLIC_ENABLE_STRIDE;
		uint64_t w = (off - VPLIC_ENABLE_BASE) % VPLIC_ENABLE_STRIDE / 4;

		if (context >= p->num_contexts || w >= VPLIC_WORDS)
			return;
		p->ctx[context].enable[w] = val & vplic_valid_mask(p, (unsigned)w);
		vplic_update(p);
	} else {
		vplic_context_write(p, off, val);
	}
}

/* The PLIC defines only naturally aligned 32-bit accesses. */
static bool vplic_access_ok(uint64_t offset, unsigned width)
{
	return width == 4 && IS_ALIGNED(offset, 4);
}

static int vplic_mmio_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct vplic *p = opaque;

	if (!vplic_access_ok(offset, width))
		return -VIREO_EINVAL;
	spin_lock(&p->lock);
	*value = vplic_reg_read(p, offset);
	spin_unlock(&p->lock);
	return 0;
}

static int vplic_mmio_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct vplic *p = opaque;

	if (!vplic_access_ok(offset, width))
		return -VIREO_EINVAL;
	spin_lock(&p->lock);
	vplic_reg_write(p, offset, (uint32_t)value);
	spin_unlock(&p->lock);
	return 0;
}

const struct mmio_ops vplic_mmio_ops = {.read = vplic_mmio_read, .write = vplic_mmio_write};

/* ---------------------------------------------------------------- snapshots */

void vplic_save(struct vplic *p, struct snap_writer *w)
{
	spin_lock(&p->lock);
	snap_put_u32(w, p->num_sources);
	snap_put_u32(w, p->num_contexts);
	snap_put_bytes(w, p->priority, sizeof(p->priority));
	for (unsigned i = 0; i < VPLIC_WORDS; i++) {
		snap_put_u32(w, p->pending[i]);
		snap_put_u32(w, p->in_service[i]);
		snap_put_u32(w, p->level[i]);
	}
	for (unsigned c = 0; c < p->num_contexts; c++) {
		for (unsigned i = 0; i < VPLIC_WORDS; i++)
			snap_put_u32(w, p->ctx[c].enable[i]);
		snap_put_u8(w, p->ctx[c].threshold);
	}
	spin_unlock(&p->lock);
}

int vplic_load(struct vplic *p, struct snap_reader *r)
{
	spin_lock(&p->lock);
	if (snap_get_u32(r) != p->num_sources || snap_get_u32(r) != p->num_contexts)
		r->failed = true;
	snap_get_bytes(r, p->priority, sizeof(p->priority));
	for (unsigned id = 0; id < VPLIC_MAX_SOURCES; id++)
		p->priority[id] = id && id < p->num_sources ? p->priority[id] & VPLIC_PRIO_MASK : 0;
	for (unsigned i = 0; i < VPLIC_WORDS; i++) {
		/* Only sources that exist (the masks drop source 0 and those past the end). */
		uint32_t valid = vplic_valid_mask(p, i);

		p->pending[i] = snap_get_u32(r) & valid;
		p->in_service[i] = snap_get_u32(r) & valid;
		p->level[i] = snap_get_u32(r) & valid;
	}
	for (unsigned c = 0; c < p->num_contexts; c++) {
		for (unsigned i = 0; i < VPLIC_WORDS; i++)
			p->ctx[c].enable[i] = snap_get_u32(r) & vplic_valid_mask(p, i);
		p->ctx[c].threshold = snap_get_u8(r) & VPLIC_PRIO_MASK;
	}
	if (r->failed) {
		memset(p->priority, 0, sizeof(p->priority));
		memset(p->pending, 0, sizeof(p->pending));
		memset(p->in_service, 0, sizeof(p->in_service));
		memset(p->level, 0, sizeof(p->level));
		for (unsigned c = 0; c < p->num_contexts; c++)
			memset(p->ctx[c].enable, 0, sizeof(p->ctx[c].enable));
	}
	/* Every output is told again: the vCPUs' external lines follow the state. */
	for (unsigned c = 0; c < p->num_contexts; c++)
		p->ctx[c].output = false;
	vplic_update(p);
	spin_unlock(&p->lock);
	return r->failed ? -VIREO_EINVAL : 0;
}
