/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Snapshot files (docs/machine.md, "Snapshot files"): one VM's state as Vireo
 * gave it (opaque, versioned by Vireo), its RAM without its zero pages, and
 * its agent's hello, each section with its length and SHA-256, behind a
 * fixed little-endian header with its own SHA-256.
 *
 *   header (SNAP_HDR_SIZE bytes)  magic "VIREOSNP", u32 version, u32 header size,
 *                                  u32 flags (0), u32 sections, the VM's facts,
 *                                  SHA-256 of the bytes before it
 *   section * n                    u32 type, u32 flags (0), u64 length,
 *                                  SHA-256 of the payload, then the payload
 *   RAM payload                    runs: u64 gpa, u64 bytes, the bytes (both
 *                                  multiples of 4 KiB, ascending, inside the
 *                                  VM's RAM); what no run covers is zero
 *
 * A file is a host file: untrusted. snap_check() reads all of it and refuses
 * it with the reason ("truncated: RAM section says 268435456 bytes, 1200
 * left") before anything is made from it; the parser is unit-tested
 * (tests/unit/test_snapfile.c) and fuzzed (tests/fuzz/fuzz_snapfile.c).
 * Writing goes to a temporary file next to the target, renamed when whole.
 */
#ifndef VIREO_SNAPFILE_H
#define VIREO_SNAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hsha.h"

#define SNAP_MAGIC	   "VIREOSNP"
#define SNAP_VERSION	   1
#define SNAP_HDR_SIZE	   160
#define SNAP_SEC_HDR_SIZE  48
#define SNAP_RUN_HDR_SIZE  16
#define SNAP_PAGE	   4096ULL
#define SNAP_MAX_SECTIONS  8
#define SNAP_STATE_MAX	   (64ULL << 20) /* Vireo's state: far below this */
#define SNAP_HELLO_MAX	   (8 + 1024)	 /* one AG_HELLO frame (a control frame) */
#define SNAP_RAM_MAX	   (1ULL << 40)
#define SNAP_MAX_VCPUS	   64
#define SNAP_VM_FLAGS_MASK (1u | 2u | 4u | 8u | 16u) /* CTL_VMC_* but START */

enum snap_section {
	SNAP_SEC_STATE = 1, /* Vireo's state of the VM (VM_SNAPSHOT's blob) */
	SNAP_SEC_RAM = 2,   /* runs of guest RAM */
	SNAP_SEC_HELLO = 3, /* optional: the agent's AG_HELLO frame, said before the snapshot */
};

/* The VM's facts, in the header: what VM_RESTORE is asked for. */
struct snap_vm {
	uint32_t vcpus;
	uint32_t vm_flags; /* CTL_VMC_TESTDEV, NO_CONSOLE, NO_RTC, DISK, DISK_RO */
	uint64_t ram_gpa;  /* where its RAM starts, guest-physical */
	uint64_t ram_bytes;
	uint64_t hart_affinity;
	uint32_t disk_host;
	uint64_t disk_first_sector, disk_sectors;
	int64_t rtc_offset;
	uint64_t created; /* seconds since 1970, when it was written */
	char name[32];	  /* the VM's name then, NUL-terminated */
};

/* Where the bytes come from: pread-like, 0 or -errno (a short read is -EIO). */
struct snap_io {
	void *ctx;
	uint64_t size;
	int (*read)(void *ctx, void *buf, size_t len, uint64_t off);
};

/* What snap_check() found. Offsets are of section payloads in the file. */
struct snap_info {
	struct snap_vm vm;
	uint64_t state_off, state_len;
	uint64_t ram_off, ram_len;
	uint64_t hello_off, hello_len; /* 0: none */
	uint64_t ram_data;	       /* bytes of RAM the runs hold */
	uint64_t ram_runs;
};

/* A snap_io over a file descriptor (ctx is the fd cast through intptr_t). */
int snap_io_fd(struct snap_io *io, int fd);
/* A snap_io over bytes in memory (ctx points at a struct snap_mem). */
struct snap_mem {
	const uint8_t *data;
};
void snap_io_mem(struct snap_io *io, struct snap_mem *m, const uint8_t *data, size_t size);

/* Check everything: 0, or -EINVAL / -EBADMSG (damaged) / -EPROTO (wrong version) /
 * -errno of a read, with the reason in why (without the file's name). */
int snap_check(const struct snap_io *io, struct snap_info *info, char *why, size_t why_size);

/* Walk the RAM section of a checked file: fn(ctx, gpa, bytes, len) for each piece (at
 * most 1 MiB, within one run), and its checksum again (the file may have changed since
 * the check). fn returns 0 or -errno, which stops the walk. */
typedef int (*snap_ram_fn)(void *ctx, uint64_t gpa, const uint8_t *data, size_t len);
int snap_ram_walk(const struct snap_io *io, const struct snap_info *info, snap_ram_fn fn, void *ctx,
		  char *why, size_t why_size);

/* Writing. */
struct snap_writer {
	int fd;
	char *path, *tmp;
	uint64_t off; /* the end of what is written */
	uint32_t sections;
	struct snap_vm vm;
	/* The RAM section being written. */
	uint64_t ram_hdr_off, ram_len, ram_end_gpa;
	struct hsha ram_sha;
	bool in_ram;
	uint64_t ram_data; /* bytes of RAM written */
};

/* Begin a file at path (a temporary one next to it, until snap_write_finish). */
int snap_write_begin(struct snap_writer *w, const char *path, const struct snap_vm *vm, char *why,
		     size_t why_size);
int snap_write_section(struct snap_writer *w, uint32_t type, const void *data, uint64_t len,
		       char *why, size_t why_size);
/* The RAM: runs in ascending gpa order; zero pages are left out. */
int snap_write_ram_begin(struct snap_writer *w, char *why, size_t why_size);
int snap_write_ram(struct snap_writer *w, uint64_t gpa, const uint8_t *data, uint64_t len,
		   char *why, size_t why_size);
int snap_write_ram_end(struct snap_writer *w, char *why, size_t why_size);
/* The header, then flushed and renamed over path. */
int snap_write_finish(struct snap_writer *w, char *why, size_t why_size);
/* Give up: the temporary file goes (safe after a failed call, and twice). */
void snap_write_abort(struct snap_writer *w);

/* The header's bytes for vm and n sections (for tests). */
void snap_header_encode(uint8_t out[SNAP_HDR_SIZE], const struct snap_vm *vm, uint32_t sections);

#endif
