// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for snapshot files as a machine's daemon checks them
 * (tools/libvireo/snapfile.c): any bytes as a file. Whatever comes, the check
 * reads only inside the file, says why it refuses, and a file it takes has
 * sections inside the file and RAM runs inside the VM's RAM, in order, whose
 * bytes add up to what the check counted.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapfile.h"
#include "fuzz_check.h"

struct walk {
	const struct snap_info *info;
	uint64_t next, bytes;
};

static int on_ram(void *ctx, uint64_t gpa, const uint8_t *data, size_t len)
{
	struct walk *w = ctx;
	const struct snap_vm *vm = &w->info->vm;

	(void)data;
	FUZZ_CHECK(len > 0 && gpa >= w->next);
	FUZZ_CHECK(gpa >= vm->ram_gpa && gpa + len <= vm->ram_gpa + vm->ram_bytes);
	w->next = gpa + len;
	w->bytes += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: a read past the end is ASan's to see. */
	uint8_t *copy = malloc(size ? size : 1);
	struct snap_info info;
	struct snap_io io;
	struct snap_mem m;
	char why[256];
	int rc;

	memcpy(copy, data, size);
	snap_io_mem(&io, &m, copy, size);
	rc = snap_check(&io, &info, why, sizeof(why));
	if (rc) {
		FUZZ_CHECK(rc < 0 && why[0]);
	} else {
		struct walk w = {.info = &info};

		FUZZ_CHECK(info.state_len && info.state_off + info.state_len <= size);
		FUZZ_CHECK(info.ram_off + info.ram_len <= size);
		FUZZ_CHECK(info.hello_off + info.hello_len <= size);
		FUZZ_CHECK(snap_ram_walk(&io, &info, on_ram, &w, why, sizeof(why)) == 0);
		FUZZ_CHECK(w.bytes == info.ram_data);
	}
	free(copy);
	return 0;
}
