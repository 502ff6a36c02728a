// SPDX-License-Identifier: BSD-2-Clause
/*
 * Virtual APLIC in MSI delivery mode: the register model of one interrupt
 * domain. Sources keep a pending bit, an enable bit and the level of their
 * wire; whenever a source is pending and enabled while the domain's IE is
 * set, its MSI leaves and the pending bit clears (AIA, "Interrupt forwarding
 * by MSIs"). When a pending bit may be set or cleared follows the spec's
 * "Precise effects on interrupt-pending bits" for MSI mode.
 */
#include <vireo/bitops.h>
#include <vireo/vaplic.h>

static bool bit(const uint32_t *map, unsigned s)
{
	return (map[s / 32] >> (s % 32)) & 1;
}

static void set_bit(uint32_t *map, unsigned s, bool on)
{
	if (on)
		map[s / 32] |= 1u << (s % 32);
	else
		map[s / 32] &= ~(1u << (s % 32));
}

static unsigned mode(const struct vaplic *a, unsigned s)
{
	return a->sourcecfg[s] & APLIC_SOURCECFG_SM;
}

static bool active(const struct vaplic *a, unsigned s)
{
	return s >= 1 && s <= a->nsources && mode(a, s) != APLIC_SM_INACTIVE;
}

/* The rectified input: the wire, inverted for the "0" modes, zero when detached. */
static bool rectified(const struct vaplic *a, unsigned s)
{
	switch (mode(a, s)) {
	case APLIC_SM_EDGE1:
	case APLIC_SM_LEVEL1:
		return bit(a->input, s);
	case APLIC_SM_EDGE0:
	case APLIC_SM_LEVEL0:
		return !bit(a->input, s);
	default:
		return false;
	}
}

static bool is_level(const struct vaplic *a, unsigned s)
{
	return mode(a, s) == APLIC_SM_LEVEL1 || mode(a, s) == APLIC_SM_LEVEL0;
}

/* Software asks for a pending bit: a level source only while its input asserts. */
static void request_pending(struct vaplic *a, unsigned s, bool on)
{
	if (!active(a, s))
		return;
	if (on && is_level(a, s) && !rectified(a, s))
		return;
	set_bit(a->pending, s, on);
}

static void send(struct vaplic *a, uint32_t target)
{
	unsigned hart = target >> APLIC_TARGET_HART_SHIFT & APLIC_TARGET_HART_MASK;

	if (hart < a->nharts && a->msi)
		a->msi(a->opaque, hart, target & APLIC_TARGET_EIID_MASK);
}

/* After any change: forward what is pending and enabled (with the lock held). */
static void forward(struct vaplic *a)
{
	spin_assert_held(&a->lock);
	if (!(a->domaincfg & APLIC_DOMAINCFG_IE))
		return;
	for (unsigned w = 0; w < VAPLIC_WORDS; w++) {
		uint32_t ready = a->pending[w] & a->enabled[w];

		while (ready) {
			unsigned s = w * 32 + (unsigned)bit_lowest(ready);

			ready &= ready - 1;
			set_bit(a->pending, s, false);
			send(a, a->target[s]);
		}
	}
}

void vaplic_init(struct vaplic *a, unsigned nsources, unsigned nharts, vaplic_msi_fn msi,
		 void *opaque)
{
	__builtin_memset(a, 0, sizeof(*a));
	a->lock = (spinlock_t)SPINLOCK_INIT;
	a->nsources = MIN(nsources, (unsigned)VAPLIC_MAX_SOURCES);
	a->nharts = nharts;
	a->msi = msi;
	a->opaque = opaque;
}

void vaplic_set_level(void *aplic, unsigned source, bool level)
{
	struct vaplic *a = aplic;
	bool before, after;

	if (source == 0 || source > a->nsources)
		return;
	spin_lock(&a->lock);
	before = rectified(a, source);
	set_bit(a->input, source, level);
	after = rectified(a, source);
	/* Edges and levels alike become pending as the rectified input rises; a level
	 * source's pending bit also falls with it. */
	if (!before && after)
		set_bit(a->pending, source, true);
	else if (before && !after && is_level(a, source))
		set_bit(a->pending, source, false);
	forward(a);
	spin_unlock(&a->lock);
}

static void write_sourcecfg(struct vaplic *a, unsigned s, uint32_t val)
{
	/* No child domains: D reads zero, so bits 2:0 are always the source mode. Modes
	 * 2 and 3 are reserved: they make the source inactive. */
	uint32_t sm = val & APLIC_SOURCECFG_SM;

	if (sm == 2 || sm == 3)
		sm = APLIC_SM_INACTIVE;
	a->sourcecfg[s] = sm;
	if (sm == APLIC_SM_INACTIVE) {
		set_bit(a->pending, s, false);
		set_bit(a->enabled, s, false);
		a->target[s] = 0;
	} else if (is_level(a, s) && !rectified(a, s)) {
		set_bit(a->pending, s, false);
	}
}

static void write_target(struct vaplic *a, unsigned s, uint32_t val)
{
	if (!active(a, s))
		return;
	/* MSI mode: hart index and EIID; the guest index is read-only zero here. */
	a->target[s] = (val & (APLIC_TARGET_HART_MASK << APLIC_TARGET_HART_SHIFT)) |
		       (val & APLIC_TARGET_EIID_MASK);
}

/* The set/clear-by-word registers: setip, in_clrip, setie, clrie. */
static void write_bits(struct vaplic *a, uint64_t base, uint64_t off, uint32_t val)
{
	unsigned w = (unsigned)(off - base) / 4;

	for (unsigned i = 0; i < 32; i++) {
		unsigned s = w * 32 + i;

		if (!(val & (1u << i)) || !active(a, s))
			continue;
		if (base == APLIC_SETIP)
			request_pending(a, s, true);
		else if (base == APLIC_IN_CLRIP)
			request_pending(a, s, false);
		else
			set_bit(a->enabled, s, base == APLIC_SETIE);
	}
}

static uint32_t read_word(const uint32_t *map, unsigned w)
{
	return w < VAPLIC_WORDS ? map[w] : 0;
}

static uint32_t rectified_word(const struct vaplic *a, unsigned w)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < 32; i++)
		if (active(a, w * 32 + i) && rectified(a, w * 32 + i))
			v |= 1u << i;
	return v;
}

static uint32_t reg_read(struct vaplic *a, uint64_t off)
{
	unsigned s;

	if (off == APLIC_DOMAINCFG)
		return APLIC_DOMAINCFG_RO80 | APLIC_DOMAINCFG_DM | a->domaincfg;
	if (off >= APLIC_SOURCECFG(1) && off <= APLIC_SOURCECFG(1023)) {
		s = (unsigned)(off - APLIC_SOURCECFG(1)) / 4 + 1;
		return s <= a->nsources ? a->sourcecfg[s] : 0;
	}
	if (off >= APLIC_SETIP && off < APLIC_SETIP + 128)
		return read_word(a->pending, (unsigned)(off - APLIC_SETIP) / 4);
	if (off >= APLIC_IN_CLRIP && off < APLIC_IN_CLRIP + 128)
		return rectified_word(a, (unsigned)(off - APLIC_IN_CLRIP) / 4);
	if (off >= APLIC_SETIE && off < APLIC_SETIE + 128)
		return read_word(a->enabled, (unsigned)(off - APLIC_SETIE) / 4);
	if (off == APLIC_GENMSI)
		return a->genmsi; /* never busy: the MSI leaves as it is written */
	if (off >= APLIC_TARGET(1) && off <= APLIC_TARGET(1023)) {
		s = (unsigned)(off - APLIC_TARGET(1)) / 4 + 1;
		return active(a, s) ? a->target[s] : 0;
	}
	/* setipnum & co., clrie, the MSI address registers of machine level: zeros. */
	return 0;
}

static void reg_write(struct vaplic *a, uint64_t off, uint32_t val)
{
	unsigned s;

	if (off == APLIC_DOMAINCFG) {
		a->domaincfg = val & APLIC_DOMAINCFG_IE; /* DM is fixed, BE is zero */
	} else if (off >= APLIC_SOURCECFG(1) && off <= APLIC_SOURCECFG(1023)) {
		s = (unsigned)(off - APLIC_SOURCECFG(1)) / 4 + 1;
		if (s <= a->nsources)
			write_sourcecfg(a, s, val);
	} else if ((off >= APLIC_SETIP && off < APLIC_SETIP + 128) ||
		   (off >= APLIC_IN_CLRIP && off < APLIC_IN_CLRIP + 128) ||
		   (off >= APLIC_SETIE && off < APLIC_SETIE + 128) ||
		   (off >= APLIC_CLRIE && off < APLIC_CLRIE + 128)) {
		write_bits(a, ALIGN_DOWN(off, 0x100), off, val);
	} else if (off == APLIC_SETIPNUM || off == APLIC_SETIPNUM_LE) {
		request_pending(a, val, true);
	} else if (off == APLIC_SETIPNUM_BE) {
		request_pending(a, bit_swap32(val), true);
	} else if (off == APLIC_CLRIPNUM) {
		request_pending(a, val, false);
	} else if (off == APLIC_SETIENUM || off == APLIC_CLRIENUM) {
		if (active(a, val))
			set_bit(a->enabled, val, off == APLIC_SETIENUM);
	} else if (off == APLIC_GENMSI) {
		/* An extempore MSI, sent whatever IE says. */
		a->genmsi = val & (APLIC_TARGET_HART_MASK << APLIC_TARGET_HART_SHIFT |
				   APLIC_TARGET_EIID_MASK);
		send(a, a->genmsi);
	} else if (off >= APLIC_TARGET(1) && off <= APLIC_TARGET(1023)) {
		s = (unsigned)(off - APLIC_TARGET(1)) / 4 + 1;
		write_target(a, s, val);
	}
	forward(a);
}

static int vaplic_mmio_read(void *opaque, uint64_t offset, unsigned width, uint64_t *value)
{
	struct vaplic *a = opaque;

	if (width != 4 || !IS_ALIGNED(offset, 4))
		return -VIREO_EINVAL;
	spin_lock(&a->lock);
	*value = reg_read(a, offset);
	spin_unlock(&a->lock);
	return 0;
}

static int vaplic_mmio_write(void *opaque, uint64_t offset, unsigned width, uint64_t value)
{
	struct vaplic *a = opaque;

	if (width != 4 || !IS_ALIGNED(offset, 4))
		return -VIREO_EINVAL;
	spin_lock(&a->lock);
	reg_write(a, offset, (uint32_t)value);
	spin_unlock(&a->lock);
	return 0;
}

const struct mmio_ops vaplic_mmio_ops = {.read = vaplic_mmio_read, .write = vaplic_mmio_write};
