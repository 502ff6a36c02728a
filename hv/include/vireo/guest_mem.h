/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A VM's RAM as the devices see it: one guest-physical range made of one
 * or more runs of host memory (the hypervisor runs untranslated, so a host
 * pointer is also the address a host device can DMA to). Every address a
 * guest hands to a device goes through here and is checked to lie wholly
 * inside RAM before it is touched; no arithmetic here can overflow.
 * Pure logic, host-tested.
 */
#ifndef VIREO_GUEST_MEM_H
#define VIREO_GUEST_MEM_H

#include <vireo/types.h>

#define GUEST_MEM_MAX_RUNS 16

/*
 * Copy-on-write RAM (a fork's, vireo/vm_cow.h): the runs say where RAM is and
 * what it reads until written, page by page these callbacks say what each
 * page is now, and whatever is about to write to RAM asks for private pages
 * first. A pointer guest_mem_ptr hands out stays coherent with the guest's
 * view (devices keep them: virtqueue rings), so its pages are made private
 * too, contiguous in host memory.
 */
struct guest_mem_cow {
	/* The host address of the page at the page-aligned gpa (in RAM), as the VM sees it
	 * now. */
	uint8_t *(*page)(void *ctx, uint64_t gpa);
	/* Make every page of [gpa, gpa + len) the VM's own; 0, or -VIREO_ENOMEM. */
	int (*privatize)(void *ctx, uint64_t gpa, uint64_t len);
	/* The same, the pages contiguous in host memory: the host address of gpa, or NULL
	 * (out of memory, or some are private already and apart). */
	uint8_t *(*privatize_contig)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};

struct guest_mem_run {
	uint64_t gpa;  /* where the run starts in guest-physical space */
	uint64_t size; /* bytes, > 0 */
	uint8_t *host; /* host address of its first byte */
};

/* Runs are sorted by gpa, do not overlap, and do not wrap around. */
struct guest_mem {
	unsigned nruns;
	struct guest_mem_run runs[GUEST_MEM_MAX_RUNS];
	const struct guest_mem_cow *cow; /* NULL: the runs are the RAM, as they are */
};

/* A host segment of a guest range. */
struct guest_mem_seg {
	uint8_t *host;
	uint64_t len;
};

/* Add a run after the last one; -VIREO_EINVAL if empty, wrapping, out of order or
 * overlapping, -VIREO_ENOMEM when full. */
int guest_mem_add_run(struct guest_mem *m, uint64_t gpa, uint64_t size, uint8_t *host);
/* True if every byte of [gpa, gpa + len) is RAM (it may span runs); len 0 is false. */
bool guest_mem_contains(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Host pointer to [gpa, gpa + len) if it lies wholly inside one run, else NULL.
 * Copy-on-write RAM: the range is made private first (NULL if it cannot be). */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Copy out of / into guest RAM; false (and nothing copied) unless all of it is RAM
 * (and, for a write to copy-on-write RAM, its pages could be made private). */
bool guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf, uint64_t len);
bool guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, uint64_t len);
/* Zero [gpa, gpa + len); false (and nothing zeroed) unless all of it is RAM. */
bool guest_mem_zero(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/*
 * The host segments of [gpa, gpa + len), one per run it touches, appended to
 * segs[*n..max). Returns false (with *n unchanged) if it is not all RAM or
 * needs more than max segments in all. Copy-on-write RAM: the pages are made
 * private (a device may write them), in one piece if they can be.
 */
bool guest_mem_segments(const struct guest_mem *m, uint64_t gpa, uint64_t len,
			struct guest_mem_seg *segs, unsigned *n, unsigned max);
/* Total bytes of RAM. */
uint64_t guest_mem_size(const struct guest_mem *m);

#endif
