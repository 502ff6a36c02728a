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

/* ---------------------------------------------------------------- dirty tracking */

#define PTE_FLAGS   ((1UL << PTE_PPN_SHIFT) - 1) /* V R W X U G A D RSW */
#define PTE_ENTRIES 512				 /* in every table below the root */

static bool range_ok(const struct gstage *gs, gpa_t gpa, uint64_t size)
{
	return IS_ALIGNED(gpa, PAGE_SIZE) && IS_ALIGNED(size, PAGE_SIZE) && size &&
	       gpa + size > gpa && gpa + size <= gstage_gpa_limit(gs);
}

/* The first address after the leaf of `level` that holds gpa. */
static gpa_t leaf_end(gpa_t gpa, unsigned level)
{
	return ALIGN_DOWN(gpa, 1ULL << level_shift(level)) + (1ULL << level_shift(level));
}

/* A leaf at `level` (> 0) becomes a table of leaves one level down that map the same
 * memory with the same flags. */
static int split_leaf(struct gstage *gs, uint64_t *pte, unsigned level)
{
	uint64_t *t = gs->alloc_pages(gs->ctx, 1, PAGE_SIZE);
	uint64_t flags = *pte & PTE_FLAGS;
	paddr_t hpa = (*pte >> PTE_PPN_SHIFT) << PAGE_SHIFT;
	uint64_t step = 1ULL << level_shift(level - 1);

	if (!t)
		return -VIREO_ENOMEM;
	gs->table_pages++;
	for (size_t i = 0; i < PTE_ENTRIES; i++)
		t[i] = flags | (((hpa + i * step) >> PAGE_SHIFT) << PTE_PPN_SHIFT);
	/* The table may be live (a running fork's): a walker on another hart sees the old
	 * leaf or the whole new table, never a table half filled. */
	__atomic_store_n(pte, PTE_V | (((uintptr_t)t >> PAGE_SHIFT) << PTE_PPN_SHIFT),
			 __ATOMIC_RELEASE);
	return 0;
}

/* The 4 KiB leaf slot of gpa (mapped), splitting the superpages above it. */
static int split_to_page(struct gstage *gs, gpa_t gpa, uint64_t **slot)
{
	unsigned level;
	uint64_t *pte = walk_find(gs, gpa, &level);

	if (!pte || !(*pte & PTE_LEAF_MASK))
		return -VIREO_EINVAL;
	for (; level > 0; level--) {
		int err = split_leaf(gs, pte, level);

		if (err)
			return err;
		pte = &pte_table(*pte)[pte_index(gs, gpa, level - 1)];
	}
	*slot = pte;
	return 0;
}

int gstage_track_dirty(struct gstage *gs, gpa_t gpa, uint64_t size)
{
	unsigned level;
	uint64_t *pte;

	if (!range_ok(gs, gpa, size))
		return -VIREO_EINVAL;
	/* All of it mapped, or nothing changes. */
	for (gpa_t a = gpa; a < gpa + size; a = leaf_end(a, level)) {
		pte = walk_find(gs, a, &level);
		if (!pte || !(*pte & PTE_LEAF_MASK))
			return -VIREO_EINVAL;
	}
	for (gpa_t a = gpa; a < gpa + size; a += PAGE_SIZE) {
		int err = split_to_page(gs, a, &pte);

		if (err)
			return err;
		*pte &= ~PTE_D;
	}
	return 0;
}

/* The table of 4 KiB leaves that covers gpa, or NULL (a hole or a superpage). */
static uint64_t *leaf_table(const struct gstage *gs, gpa_t gpa)
{
	uint64_t *table = gs->root;

	for (unsigned l = gs->levels - 1; l > 0; l--) {
		uint64_t pte = table[pte_index(gs, gpa, l)];

		if (!(pte & PTE_V) || (pte & PTE_LEAF_MASK))
			return NULL;
		table = pte_table(pte);
	}
	return table;
}

size_t gstage_collect_dirty(struct gstage *gs, gpa_t gpa, uint64_t size,
			    void (*fn)(void *ctx, gpa_t page), void *ctx)
{
	gpa_t end = gpa + size < gpa || gpa + size > gstage_gpa_limit(gs) ? gstage_gpa_limit(gs)
									  : gpa + size;
	size_t found = 0;

	gpa = ALIGN_DOWN(gpa, PAGE_SIZE);
	/* A table of leaves at a time: the scan is a load and a test per page. */
	while (gpa < end) {
		gpa_t next = leaf_end(gpa, 1);
		uint64_t *t = leaf_table(gs, gpa);

		if (next > end || next < gpa)
			next = end;
		for (gpa_t a = gpa; t && a < next; a += PAGE_SIZE) {
			uint64_t *pte = &t[pte_index(gs, a, 0)];

			if ((*pte & (PTE_V | PTE_D)) != (PTE_V | PTE_D) || !(*pte & PTE_LEAF_MASK))
				continue;
			*pte &= ~PTE_D;
			found++;
			if (fn)
				fn(ctx, a);
		}
		gpa = next;
	}
	return found;
}

bool gstage_set_dirty(struct gstage *gs, gpa_t gpa)
{
	unsigned level;
	uint64_t *pte;

	if (gpa >= gstage_gpa_limit(gs))
		return false;
	pte = walk_find(gs, gpa, &level);
	if (!pte || level != 0 || !(*pte & PTE_W) || (*pte & PTE_D))
		return false;
	*pte |= PTE_D | PTE_A;
	return true;
}

int gstage_unmap(struct gstage *gs, gpa_t gpa, uint64_t size)
{
	unsigned level;
	uint64_t *pte;

	if (!range_ok(gs, gpa, size))
		return -VIREO_EINVAL;
	for (gpa_t a = gpa; a < gpa + size; a = leaf_end(a, level)) {
		pte = walk_find(gs, a, &level);
		if (!pte) {
			level = 0;
			continue;
		}
		if (!IS_ALIGNED(a, 1ULL << level_shift(level)) || leaf_end(a, level) > gpa + size)
			return -VIREO_EINVAL;
	}
	unmap_range(gs, gpa, size);
	return 0;
}

/* ---------------------------------------------------------------- copy-on-write */

int gstage_leaf_level(const struct gstage *gs, gpa_t gpa)
{
	unsigned level;
	const uint64_t *pte;

	if (gpa >= gstage_gpa_limit(gs))
		return -1;
	pte = walk_find(gs, gpa, &level);
	return pte && (*pte & PTE_LEAF_MASK) ? (int)level : -1;
}

int gstage_set_page(struct gstage *gs, gpa_t gpa, paddr_t hpa, unsigned perms)
{
	uint64_t *pte;
	int err;

	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(hpa, PAGE_SIZE) ||
	    gpa >= gstage_gpa_limit(gs) || !(perms & GSTAGE_PERM_RWX))
		return -VIREO_EINVAL;
	err = split_to_page(gs, gpa, &pte);
	if (err)
		return err;
	/* One store: a walker on another hart sees the old leaf or the new one. */
	__atomic_store_n(pte, make_leaf(hpa, perms), __ATOMIC_RELEASE);
	return 0;
}

size_t gstage_for_each_page(const struct gstage *gs, gpa_t gpa, uint64_t size, unsigned perms,
			    void (*fn)(void *ctx, gpa_t gpa, paddr_t hpa), void *ctx)
{
	gpa_t end;
	size_t found = 0;

	if (!gs->root || !range_ok(gs, gpa, size))
		return 0;
	end = gpa + size;
	/* A table of leaves at a time, as gstage_collect_dirty. */
	while (gpa < end) {
		gpa_t next = leaf_end(gpa, 1);
		const uint64_t *t = leaf_table(gs, gpa);

		if (next > end || next < gpa)
			next = end;
		for (gpa_t a = gpa; t && a < next; a += PAGE_SIZE) {
			uint64_t pte = t[pte_index(gs, a, 0)];
			unsigned have = ((pte & PTE_R) ? GSTAGE_PERM_R : 0) |
					((pte & PTE_W) ? GSTAGE_PERM_W : 0) |
					((pte & PTE_X) ? GSTAGE_PERM_X : 0);

			if (!(pte & PTE_V) || !have || (have & perms) != perms)
				continue;
			found++;
			if (fn)
				fn(ctx, a, (pte >> PTE_PPN_SHIFT) << PAGE_SHIFT);
		}
		gpa = next;
	}
	return found;
}
