// SPDX-License-Identifier: BSD-2-Clause
/*
 * Hostile input for a guest library, every crash caught (make examples):
 * records.elf's parse() trusts what it reads (examples/sandbox/records.c).
 * This program feeds it inputs, a handler catches each crash -- a fault, a
 * failed assert, a runaway loop, a jump into nowhere -- and prints a line for
 * it; the call is aborted, the sandbox reset to its loaded state, and the
 * next input goes in. The process, and the sandbox, never notice.
 *
 *	sandbox_fuzz [records.elf]     (default: next to this program)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vireo.h>

struct input {
	const char *what;
	unsigned char bytes[16];
	size_t len;
};

#define LE64(v)                                                                                    \
	(unsigned char)(v), (unsigned char)((v) >> 8), (unsigned char)((v) >> 16),                 \
	    (unsigned char)((v) >> 24), (unsigned char)((v) >> 32), (unsigned char)((v) >> 40),    \
	    (unsigned char)((v) >> 48), (unsigned char)((v) >> 56)

static const struct input inputs[] = {
    {"sum of 3", {'S', LE64(3ULL), 1, 2, 3}, 12},
    {"sum of 2^40 bytes", {'S', LE64(1ULL << 40)}, 9},
    {"pointer into RAM", {'P', LE64(0x80000000ULL)}, 9},
    {"null pointer", {'P', LE64(0ULL)}, 9},
    {"pointer past RAM", {'P', LE64(0x80400000ULL)}, 9},
    {"pointer to a device", {'P', LE64(0x10000000ULL)}, 9},
    {"assert holds", {'A', 5}, 2},
    {"assert fails", {'A', 0}, 2},
    {"count by 1", {'L', 1}, 2},
    {"count by 0", {'L', 0}, 2},
    {"count by 3", {'L', 3}, 2},
    {"call nowhere", {'C', LE64(0x1000ULL)}, 9},
    {"call into data", {'C', LE64(0x80200000ULL)}, 9},
    {"host double", {'H', 21}, 2},
    {"unknown kind", {'?'}, 1},
};

static const char *why_name(enum vireo_catch_why why)
{
	switch (why) {
	case VIREO_CATCH_FAULT:
		return "fault";
	case VIREO_CATCH_BREAKPOINT:
		return "breakpoint";
	case VIREO_CATCH_ILLEGAL:
		return "illegal instruction";
	case VIREO_CATCH_TIMEOUT:
		return "time budget";
	case VIREO_CATCH_HOSTCALL:
		return "unknown host call";
	}
	return "?";
}

static unsigned current, caught;

static enum vireo_catch_action report(struct vireo_sandbox *sb, void *ctx, struct vireo_catch *c)
{
	(void)sb;
	(void)ctx;
	caught++;
	printf("input %2u (%s): caught %s at pc 0x%" PRIx64 ", address 0x%" PRIx64
	       ", cause %" PRIu64 "\n",
	       current, inputs[current].what, why_name(c->why), c->pc, c->gpa ? c->gpa : c->tval,
	       c->cause);
	return VIREO_CATCH_ABORT;
}

static int twice(struct vireo_sandbox *sb, void *ctx, const uint64_t args[4], int64_t *result)
{
	(void)sb;
	(void)ctx;
	*result = (int64_t)args[0] * 2;
	return 0;
}

static char *beside_me(const char *argv0, const char *name)
{
	char *self = realpath(argv0, NULL), *path = NULL;

	if (self && asprintf(&path, "%s/%s", dirname(self), name) < 0)
		path = NULL;
	free(self);
	return path;
}

int main(int argc, char **argv)
{
	struct vireo_sandbox_config cfg = {.budget_us = 50000, .log_fd = -1};
	struct vireo_sandbox *sb;
	char *elf = argc > 1 ? strdup(argv[1]) : beside_me(argv[0], "records.elf");
	unsigned ok = 0, n = sizeof(inputs) / sizeof(inputs[0]);
	int rc;

	if (!elf || vireo_sandbox_open(elf, &cfg, &sb) != 0) {
		fprintf(stderr, "sandbox_fuzz: %s\n", vireo_last_error());
		return 1;
	}
	vireo_sandbox_host_fn(sb, "double", twice, NULL);
	vireo_sandbox_on_catch(sb, report, NULL);
	for (current = 0; current < n; current++) {
		const struct input *in = &inputs[current];
		int64_t r;

		rc = vireo_sandbox_write_buffer(sb, "input", 0, in->bytes, in->len);
		if (!rc)
			rc = vireo_sandbox_call(sb, "parse", (uint64_t[]){in->len}, 1, &r);
		if (rc == 0) {
			ok++;
			printf("input %2u (%s): %" PRId64 "\n", current, in->what, r);
		} else if (rc != -ECANCELED) {
			fprintf(stderr, "sandbox_fuzz: %s\n", vireo_last_error());
			vireo_sandbox_close(sb);
			return 1;
		}
	}
	vireo_sandbox_close(sb);
	free(elf);
	printf("sandbox_fuzz: %u inputs, %u returned, %u crashes caught, the process unharmed\n", n,
	       ok, caught);
	return caught && ok + caught == n ? 0 : 1;
}
