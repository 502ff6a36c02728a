/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * G-stage (guest-physical -> host-physical) page tables, Sv39x4 or Sv48x4.
 * Building and walking the tables is pure logic (host-testable); only
 * installing them (hgatp, hfence.gvma) is done by the arch code.
 */
#ifndef VIREO_GSTAGE_H
#define VIREO_GSTAGE_H

#include <vireo/types.h>

#define GSTAGE_ROOT_SIZE  (16 * KIB) /* x4 root: 2048 entries, 16 KiB aligned */
#define GSTAGE_ROOT_ALIGN (16 * KIB)

#define GSTAGE_PERM_R	(1u << 0)
#define GSTAGE_PERM_W	(1u << 1)
#define GSTAGE_PERM_X	(1u << 2)
#define GSTAGE_PERM_RWX (GSTAGE_PERM_R | GSTAGE_PERM_W | GSTAGE_PERM_X)

enum gstage_mode { GSTAGE_SV39X4 = 8, GSTAGE_SV48X4 = 9 };

struct gstage {
	uint64_t *root;
	enum gstage_mode mode;
	unsigned levels;
	/* Page-table pages come from here (zeroed, PAGE_SIZE aligned) and go back here. */
	void *(*alloc_pages)(void *ctx, size_t npages, size_t align);
	void (*free_pages)(void *ctx, void *p, size_t npages);
	void *ctx;
	size_t table_pages; /* pages in use by tables, the root included */
};

/* Returns 0 or -VIREO_ENOMEM. */
int gstage_init(struct gstage *gs, enum gstage_mode mode,
		void *(*alloc_pages)(void *ctx, size_t npages, size_t align),
		void (*free_pages)(void *ctx, void *p, size_t npages), void *ctx);
/* Map [gpa, gpa + size) to [hpa, ...), all page aligned, using 1 GiB and 2 MiB
 * leaves where both addresses allow. -VIREO_EINVAL for misalignment or a GPA
 * beyond the mode's reach, -VIREO_EEXIST if anything there is mapped already,
 * -VIREO_ENOMEM if a table page cannot be had (nothing is left half-mapped). */
int gstage_map(struct gstage *gs, gpa_t gpa, paddr_t hpa, uint64_t size, unsigned perms);
/* Translate; returns false when unmapped. *perms may be NULL. */
bool gstage_translate(const struct gstage *gs, gpa_t gpa, paddr_t *hpa, unsigned *perms);
/* Free every table page, the root included. */
void gstage_destroy(struct gstage *gs);
/* The largest GPA + 1 this mode can map. */
uint64_t gstage_gpa_limit(const struct gstage *gs);
/* hgatp value for this table with this VMID. */
uint64_t gstage_hgatp(const struct gstage *gs, unsigned vmid);

/*
 * Dirty-page tracking (sandboxes reset to a snapshot by restoring only what was
 * written). Every change below is to a VM that is not running; the caller
 * flushes the G-stage TLB of the VMID before the VM runs again.
 *
 * gstage_track_dirty: every page of [gpa, gpa + size) (page aligned, all mapped)
 * becomes a 4 KiB leaf with its dirty bit (D) clear; superpages are split. A
 * store then sets D: the hardware does it when it updates G-stage A/D bits itself
 * (QEMU 7.2 does), or Vireo does on the guest-page fault that hardware without
 * that update raises (gstage_set_dirty). -VIREO_EINVAL if a page is not mapped,
 * -VIREO_ENOMEM if a table page cannot be had (some superpages may then be
 * split, which translates the same).
 */
int gstage_track_dirty(struct gstage *gs, gpa_t gpa, uint64_t size);
/* Every 4 KiB leaf of [gpa, gpa + size) with D set: fn(ctx, its gpa), in order, and D
 * cleared. Unmapped holes and superpages are skipped. Returns how many. */
size_t gstage_collect_dirty(struct gstage *gs, gpa_t gpa, uint64_t size,
			    void (*fn)(void *ctx, gpa_t page), void *ctx);
/* A store to gpa faulted: if it is a writable 4 KiB leaf with D clear, set D (true). */
bool gstage_set_dirty(struct gstage *gs, gpa_t gpa);
/* Unmap every leaf in [gpa, gpa + size) (page aligned; table pages stay until destroy).
 * A superpage that reaches outside the range is not touched: -VIREO_EINVAL, nothing done. */
int gstage_unmap(struct gstage *gs, gpa_t gpa, uint64_t size);

/*
 * Copy-on-write (core/vm_cow.c): a fork maps shared RAM read-only and gives a page
 * its own leaf on the first write. These change a table the VM may be running on:
 * every store publishes a whole entry (a walker sees the old mapping or the new);
 * the caller flushes the G-stage TLB of the VMID on every hart that may hold it.
 *
 * gstage_leaf_level: the level of the leaf that maps gpa (0: 4 KiB, 1: 2 MiB, 2: 1 GiB),
 * which is how many table pages gstage_set_page may take for it; -1 if unmapped.
 */
int gstage_leaf_level(const struct gstage *gs, gpa_t gpa);
/* The page at gpa (page aligned, mapped) gets a 4 KiB leaf of its own to hpa with
 * perms; a superpage over it is split first (the rest translates as before).
 * -VIREO_EINVAL (nothing done) if misaligned or unmapped, -VIREO_ENOMEM if a table
 * page cannot be had (a superpage may then be split, which translates the same). */
int gstage_set_page(struct gstage *gs, gpa_t gpa, paddr_t hpa, unsigned perms);
/* Every 4 KiB leaf of [gpa, gpa + size) (page aligned) with at least perms:
 * fn(ctx, its gpa, its hpa), in order; superpages and holes are skipped. Returns how
 * many (0 for a bad range or a destroyed table). */
size_t gstage_for_each_page(const struct gstage *gs, gpa_t gpa, uint64_t size, unsigned perms,
			    void (*fn)(void *ctx, gpa_t gpa, paddr_t hpa), void *ctx);

#endif
