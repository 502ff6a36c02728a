/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Blobs: bytes the host program hands to Vireo at run time (a kernel, an
 * initramfs, a snapshot's state) or Vireo hands back (a snapshot's state),
 * each in one contiguous run of host memory. The host fills or reads a blob
 * through its window on the machine's memory when it has one (QEMU's RAM in a
 * shared file: docs/machine.md), or with BLOB_WRITE / BLOB_READ over the
 * link. Nothing in a blob is trusted: whoever uses one checks what it reads.
 *
 * A blob has references: the host's (from BLOB_ALLOC until BLOB_FREE) and one
 * per user (a VM loading its kernel from it, a restore reading its state). It
 * is freed with the last. Ids are small numbers, 1..BLOB_MAX, reused.
 */
#ifndef VIREO_BLOB_H
#define VIREO_BLOB_H

#include <vireo/types.h>

#define BLOB_MAX      64
#define BLOB_SIZE_MAX (256 * MIB)

struct blob {
	unsigned id;
	unsigned refs;	  /* under the table's lock */
	bool host_holds;  /* BLOB_FREE not yet said */
	uint64_t size;	  /* bytes asked for */
	uint64_t pages;	  /* pages held */
	uint8_t *data;	  /* host-physical = host pointer (Vireo runs untranslated) */
	uint64_t charged; /* bytes committed for it (vm_mem.h) */
};

/* A new blob of size bytes (zeroed), held by the host. NULL with *err (-VIREO_ENOMEM,
 * -VIREO_EINVAL for 0 or more than BLOB_SIZE_MAX, -VIREO_EBUSY when all ids are used). */
struct blob *blob_alloc(uint64_t size, int *err);
/* The blob with this id that the host still holds, with a reference (blob_put). */
struct blob *blob_find(unsigned id);
/* The host lets go of it (BLOB_FREE); -VIREO_ENOENT if it holds no such blob. */
int blob_release(unsigned id);
/* References; both accept NULL. */
void blob_get(struct blob *b);
void blob_put(struct blob *b);
/* Blobs alive and the bytes they hold. */
unsigned blob_count(void);
uint64_t blob_bytes(void);

#endif
