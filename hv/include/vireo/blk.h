/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Block I/O between the guests' virtual disks and the host's real ones.
 * A request is a list of segments in host-physical memory (the hypervisor
 * runs untranslated, and guest RAM is host-contiguous, so guest buffers are
 * handed to the host device as they are: no copy). Completion is
 * asynchronous: `done` is called later, from the host disk's interrupt on
 * whatever hart takes it, or before blk_submit returns.
 */
#ifndef VIREO_BLK_H
#define VIREO_BLK_H

#include <vireo/types.h>

#define BLK_SECTOR_SIZE 512
/* 126: what a 128-entry virtqueue carries (plus header and status); QEMU's default
 * 256-entry queue takes it whole, so a 512 KiB request goes down in one piece. */
#define BLK_MAX_SEGMENTS 126

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH };

enum blk_status { BLK_OK = 0, BLK_IOERR = 1, BLK_UNSUPPORTED = 2 };

struct blk_segment {
	uintptr_t addr; /* host-physical */
	uint32_t len;	/* bytes; the segments of a read/write add up to a sector multiple */
};

struct blk_request {
	enum blk_op op;
	uint64_t sector; /* in 512-byte sectors, on the backend (offsets already applied) */
	unsigned nsegs;
	struct blk_segment segs[BLK_MAX_SEGMENTS];
	void (*done)(struct blk_request *req, enum blk_status status);
	void *opaque;
};

/* A host disk (or anything else that can serve block requests). */
struct blk_backend {
	const char *name;
	uint64_t capacity; /* sectors */
	bool read_only;
	unsigned max_segments; /* segments one request may have (<= BLK_MAX_SEGMENTS) */
	/* 0 if accepted (done will be called exactly once), -VIREO_EBUSY when the
	 * backend has no room now (retry after a completion), -VIREO_EINVAL if bad. */
	int (*submit)(struct blk_backend *b, struct blk_request *req);
	void *priv;
};

/* Host disks found at boot (virtio-blk on QEMU's virtio-mmio slots). */
unsigned blk_host_count(void);
struct blk_backend *blk_host(unsigned index);
struct platform;
/* Probe the host's virtio-mmio slots for block devices (boot hart). */
void blk_host_probe(const struct platform *plat);

#endif
