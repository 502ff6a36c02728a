// SPDX-License-Identifier: BSD-2-Clause
/*
 * G-stage page tables. The root level of an x4 mode has 2 extra index bits
 * (2048 entries, 16 KiB); lower levels are ordinary 512-entry tables.
 * Leaves carry U=1 (the G-stage treats every guest access as a user access)
 * and A/D preset so the hardware never has to update them.
 */
#include <vireo/gstage.h>

#define PTE_V	      (1UL << 0)
#define PTE_R	      (1UL << 1)
#define PTE_W	      (1UL << 2)
#define PTE_X	      (1UL << 3)
#define PTE_U	      (1UL << 4)
#define PTE_A	      (1UL << 6)
#define PTE_D	      (1UL << 7)
#define PTE_PPN_SHIFT 10
#define PTE_LEAF_MASK (PTE_R | PTE_W | PTE_X)

#define HGATP_MODE_SHIFT 60
#define HGATP_VMID_SHIFT 44

static unsigned index_bits(const struct gstage *gs, unsigned level)
{
	return level == gs->levels - 1 ? 11 : 9;
}

static unsigned level_shift(unsigned level)
{
	return PAGE_SHIFT + 9 * level;
}

static size_t pte_index(const struct gstage *gs, gpa_t gpa, unsigned level)
{
	return (gpa >> level_shift(level)) & ((1UL << index_bits(gs, level)) - 1);
}

static uint64_t *pte_table(uint64_t pte)
{
	return (uint64_t *)(uintptr_t)((pte >> PTE_PPN_SHIFT) << PAGE_SHIFT);
}

static uint64_t make_leaf(paddr_t hpa, unsigned perms)
{
	uint64_t pte = PTE_V | PTE_U | PTE_A | PTE_D | ((hpa >> PAGE_SHIFT) << PTE_PPN_SHIFT);

	if (perms & GSTAGE_PERM_R)
		pte |= PTE_R;
	if (perms & GSTAGE_PERM_W)
		pte |= PTE_W | PTE_R; /* W without R is reserved */
	if (perms & GSTAGE_PERM_X)
		pte |= PTE_X;
	return pte;
}

int gstage_init(struct gstage *gs, enum gstage_mode mode,
		void *(*alloc_pages)(void *ctx, size_t npages, size_t align),
		void (*free_pages)(void *ctx, void *p, size_t npages), void *ctx)
{
	gs->mode = mode;
	gs->levels = mode == GSTAGE_SV48X4 ? 4 : 3;
	gs->alloc_pages = alloc_pages;
	gs->free_pages = free_pages;
	gs->ctx = ctx;
	gs->root = alloc_pages(ctx, GSTAGE_ROOT_SIZE / PAGE_SIZE, GSTAGE_ROOT_ALIGN);
	if (!gs->root)
		return -VIREO_ENOMEM;
	gs->table_pages = GSTAGE_ROOT_SIZE / PAGE_SIZE;
	return 0;
}

uint64_t gstage_gpa_limit(const struct gstage *gs)
{
	return 1ULL << (level_shift(gs->levels - 1) + 11);
}

/* Return the PTE slot for gpa at `level`, creating tables on the way down. */
static uint64_t *walk_create(struct gstage *gs, gpa_t gpa, unsigned level)
{
	uint64_t *table = gs->root;

	for (unsigned l = gs->levels - 1; l > level; l--) {
		uint64_t *pte = &table[pte_index(gs, gpa, l)];
		if (!(*pte & PTE_V)) {
			uint64_t *next = gs->alloc_pages(gs->ctx, 1, PAGE_SIZE);
			if (!next)
				return NULL;
			gs->table_pages++;
			*pte = PTE_V | (((uintptr_t)next >> PAGE_SHIFT) << PTE_PPN_SHIFT);
		} else if (*pte & PTE_LEAF_MASK) {
			return NULL; /* a superpage covers it already */
		}
		table = pte_table(*pte);
	}
	return &table[pte_index(gs, gpa, level)];
}

/* The slot that maps gpa, at whatever level the mapping is, or NULL. */
/* The tables belong to gs even when gs is const to the caller: the PTE is writable. */
static uint64_t *walk_find(const struct gstage *gs, gpa_t gpa, unsigned *level_out)
{
	uint64_t *table = gs->root;

	for (unsigned l = gs->levels - 1;; l--) {
		uint64_t *pte = &table[pte_index(gs, gpa, l)];
		if (!(*pte & PTE_V))
			return NULL;
		if ((*pte & PTE_LEAF_MASK) || l == 0) {
			*level_out = l;
			return pte;
		}
		table = pte_table(*pte);
	}
}

bool gstage_translate(const struct gstage *gs, gpa_t gpa, paddr_t *hpa, unsigned *perms)
{
	unsigned level;
	const uint64_t *pte;

	if (gpa >= gstage_gpa_limit(gs))
		return false;
	pte = walk_find(gs, gpa, &level);
	if (!pte || !(*pte & PTE_LEAF_MASK))
		return false;
	uint64_t offset_mask = (1ULL << level_shift(level)) - 1;
	*hpa = (((*pte >> PTE_PPN_SHIFT) << PAGE_SHIFT) & ~offset_mask) | (gpa & offset_mask);
	if (perms)
		*perms = ((*pte & PTE_R) ? GSTAGE_PERM_R : 0) |
			 ((*pte & PTE_W) ? GSTAGE_PERM_W : 0) |
			 ((*pte & PTE_X) ? GSTAGE_PERM_X : 0);
	return true;
}

static bool range_is_free(const struct gstage *gs, gpa_t gpa, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		unsigned level;
		const uint64_t *pte = walk_find(gs, gpa + off, &level);
		if (pte && (*pte & PTE_LEAF_MASK))
			return false;
	}
	return true;
}

static unsigned leaf_level_for(gpa_t gpa, paddr_t hpa, uint64_t left)
{
	for (unsigned level = 2; level > 0; level--) {
		uint64_t sz = 1ULL << level_shift(level);
		if (IS_ALIGNED(gpa, sz) && IS_ALIGNED(hpa, sz) && left >= sz)
			return level;
	}
	return 0;
}

static void unmap_range(struct gstage *gs, gpa_t gpa, uint64_t size)
{
	uint64_t off = 0;

	while (off < size) {
		unsigned level;
		uint64_t *pte = walk_find(gs, gpa + off, &level);
		uint64_t step = PAGE_SIZE;
		if (pte && (*pte & PTE_LEAF_MASK)) {
			*pte = 0;
			step = 1ULL << level_shift(level);
		}
		off += step;
	}
}

int gstage_map(struct gstage *gs, gpa_t gpa, paddr_t hpa, uint64_t size, unsigned perms)
{
	uint64_t off = 0;

	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(hpa, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE) || size == 0 || gpa + size < gpa ||
	    gpa + size > gstage_gpa_limit(gs) || !(perms & GSTAGE_PERM_RWX))
		return -VIREO_EINVAL;
	if (!range_is_free(gs, gpa, size))
		return -VIREO_EEXIST;
	while (off < size) {
		unsigned level = leaf_level_for(gpa + off, hpa + off, size - off);
		uint64_t *pte = walk_create(gs, gpa + off, level);
		if (!pte) {
			unmap_range(gs, gpa, off);
			return -VIREO_ENOMEM;
		}
		*pte = make_leaf(hpa + off, perms);
		off += 1ULL << level_shift(level);
	}
	return 0;
}

static void free_table(struct gstage *gs, uint64_t *table, unsigned level, size_t entries)
{
	for (size_t i = 0; i < entries; i++) {
		uint64_t pte = table[i];
		if ((pte & PTE_V) && !(pte & PTE_LEAF_MASK) && level > 0) {
			free_table(gs, pte_table(pte), level - 1, 512);
			gs->free_pages(gs->ctx, pte_table(pte), 1);
			gs->table_pages--;
		}
	}
}

void gstage_destroy(struct gstage *gs)
{
	if (!gs->root)
		return;
	free_table(gs, gs->root, gs->levels - 1, GSTAGE_ROOT_SIZE / sizeof(uint64_t));
	gs->free_pages(gs->ctx, gs->root, GSTAGE_ROOT_SIZE / PAGE_SIZE);
	gs->table_pages -= GSTAGE_ROOT_SIZE / PAGE_SIZE;
	gs->root = NULL;
}

uint64_t gstage_hgatp(const struct gstage *gs, unsigned vmid)
{
	return ((uint64_t)gs->mode << HGATP_MODE_SHIFT) | ((uint64_t)vmid << HGATP_VMID_SHIFT) |
	       ((uintptr_t)gs->root >> PAGE_SHIFT);
}
