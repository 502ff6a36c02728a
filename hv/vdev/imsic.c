// SPDX-License-Identifier: BSD-2-Clause
/*
 * A software IMSIC interrupt file (RISC-V AIA, chapter "Incoming MSI
 * Controller"): eidelivery, eithreshold and the eip/eie arrays, reached the
 * way a hart reaches a file through the iselect/ireg CSRs on RV64 (64-bit registers
 * at the even selects only), with claims through the topei CSRs.
 */
#include <vireo/bitops.h>
#include <vireo/vimsic.h>

/* Bits of eip/eie word w that name identities 1..num_ids (identity 0 is none). */
static uint64_t valid_bits(const struct vimsic_file *f, unsigned w)
{
	uint64_t bits = ~0ULL;
	unsigned first = w * 64;

	if (first > f->num_ids)
		return 0;
	if (w == 0)
		bits &= ~1ULL;
	if (f->num_ids - first < 63)
		bits &= (1ULL << (f->num_ids - first + 1)) - 1;
	return bits;
}

void vimsic_init(struct vimsic_file *f, unsigned num_ids)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->num_ids = MIN(num_ids, (unsigned)AIA_MAX_IDS - 1);
}

void vimsic_set_pending(struct vimsic_file *f, uint32_t id)
{
	if (id == 0 || id > f->num_ids)
		return;
	f->regs.eip[id / 64] |= 1ULL << (id % 64);
}

/* The best pending-and-enabled identity under the threshold, 0 if none. */
static unsigned top_id(const struct vimsic_file *f)
{
	unsigned limit = f->regs.eithreshold ? f->regs.eithreshold : f->num_ids + 1;

	for (unsigned w = 0; w * 64 < limit && w < AIA_EIX_WORDS; w++) {
		uint64_t ready = f->regs.eip[w] & f->regs.eie[w] & valid_bits(f, w);
		unsigned id;

		if (!ready)
			continue;
		id = w * 64 + (unsigned)bit_lowest(ready);
		return id < limit ? id : 0;
	}
	return 0;
}

uint32_t vimsic_topei(const struct vimsic_file *f)
{
	unsigned id = top_id(f);

	return id ? (uint32_t)(id << AIA_TOPEI_ID_SHIFT | id) : 0;
}

uint32_t vimsic_claim(struct vimsic_file *f)
{
	unsigned id = top_id(f);

	if (!id)
		return 0;
	f->regs.eip[id / 64] &= ~(1ULL << (id % 64));
	return (uint32_t)(id << AIA_TOPEI_ID_SHIFT | id);
}

bool vimsic_output(const struct vimsic_file *f)
{
	return f->regs.eidelivery == AIA_EIDELIVERY_ON && top_id(f) != 0;
}

int vimsic_rmw(struct vimsic_file *f, unsigned isel, uint64_t value, uint64_t mask, uint64_t *old)
{
	uint64_t *reg64 = NULL;
	unsigned w;

	if (isel == AIA_ISEL_EIDELIVERY) {
		/* 0 (off) and 1 (on); no APLIC behind a guest file (0x40000000 is not kept). */
		*old = f->regs.eidelivery;
		f->regs.eidelivery = (uint32_t)((*old & ~mask) | (value & mask)) & 1;
		return 0;
	}
	if (isel == AIA_ISEL_EITHRESHOLD) {
		/* WLRL: as many bits as identities need; larger values disable nothing more. */
		*old = f->regs.eithreshold;
		f->regs.eithreshold =
		    (uint32_t)((*old & ~mask) | (value & mask)) & (AIA_MAX_IDS - 1);
		return 0;
	}
	if (isel >= AIA_ISEL_EIP0 && isel <= AIA_ISEL_EIE63 && (isel & 1) == 0) {
		bool eie = isel >= AIA_ISEL_EIE0;

		w = (isel - (eie ? AIA_ISEL_EIE0 : AIA_ISEL_EIP0)) / 2;
		if (w < AIA_EIX_WORDS)
			reg64 = eie ? &f->regs.eie[w] : &f->regs.eip[w];
	}
	if (!reg64)
		return -VIREO_EINVAL;
	*old = *reg64 & valid_bits(f, w);
	*reg64 = ((*old & ~mask) | (value & mask)) & valid_bits(f, w);
	return 0;
}
