/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading and writing a VM's saved state (vireo/vm_snapshot.h): little-endian
 * fields appended to a buffer, and read back with every read bounds-checked.
 * A writer that runs out of room, or a reader that runs past its end, stops
 * for good and says so (`failed`): callers check once at the end instead of
 * after every field. Pure logic, host-tested.
 */
#ifndef VIREO_SNAP_IO_H
#define VIREO_SNAP_IO_H

#include <vireo/types.h>

struct snap_writer {
	uint8_t *buf; /* NULL: count only (how big a state is) */
	size_t size, len;
	bool failed;
};

struct snap_reader {
	const uint8_t *buf;
	size_t len, pos;
	bool failed;
};

void snap_put_u8(struct snap_writer *w, uint8_t v);
void snap_put_u16(struct snap_writer *w, uint16_t v);
void snap_put_u32(struct snap_writer *w, uint32_t v);
void snap_put_u64(struct snap_writer *w, uint64_t v);
void snap_put_bytes(struct snap_writer *w, const void *p, size_t n);

uint8_t snap_get_u8(struct snap_reader *r);
uint16_t snap_get_u16(struct snap_reader *r);
uint32_t snap_get_u32(struct snap_reader *r);
uint64_t snap_get_u64(struct snap_reader *r);
/* Copy n bytes out; zeroes `p` when the reader has failed. */
void snap_get_bytes(struct snap_reader *r, void *p, size_t n);
/* A bool that must be 0 or 1 (anything else fails the reader). */
bool snap_get_bool(struct snap_reader *r);
/* A value that must be below `limit` (else the reader fails and 0 is returned). */
uint32_t snap_get_below(struct snap_reader *r, uint32_t limit);
/* Bytes left to read. */
size_t snap_left(const struct snap_reader *r);

#endif
