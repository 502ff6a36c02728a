// SPDX-License-Identifier: BSD-2-Clause
/*
 * The fork test's guest (tests/integration/test_fork_ctl.py): it fills a
 * region of RAM with a known pattern, says so, then loops for ever counting
 * its turns in a mailbox the host reads and writes (CTL_OP_MEM_READ/WRITE).
 * The host pauses it and forks it; each fork goes on from the loop and does
 * what the host asks in the mailbox: store a mark over the pattern's first
 * word, or store into every page of a scratch region (more pages than a
 * fork with a small memory limit may copy). Fixed addresses, above the image,
 * so the host needs no symbol table.
 */
#include "guest.h"

const char guest_name[] = "cow";

#define COW_BOX		 0x80380000UL /* [0] command, [1] turns of the loop, [2] done */
#define COW_PATTERN	 0x80400000UL
#define COW_PATTERN_SIZE (1UL << 20)
#define COW_SCRATCH	 0x80800000UL
#define COW_SCRATCH_SIZE (16UL << 20)
#define COW_MARK	 0xc0ffee00c0ffee00UL
#define COW_PAGE	 4096UL

enum { CMD_NONE, CMD_MARK, CMD_FILL };

/* What word i of the pattern holds (the host computes the same). */
static uint64_t pattern(unsigned long i)
{
	return 0x9e3779b97f4a7c15UL * (i + 1);
}

static void fill_scratch(void)
{
	for (unsigned long a = COW_SCRATCH; a < COW_SCRATCH + COW_SCRATCH_SIZE; a += COW_PAGE)
		*(volatile uint64_t *)a = a;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	volatile uint64_t *box = (volatile uint64_t *)COW_BOX;
	volatile uint64_t *pat = (volatile uint64_t *)COW_PATTERN;

	(void)hartid;
	(void)dtb;
	for (unsigned long i = 0; i < COW_PATTERN_SIZE / 8; i++)
		pat[i] = pattern(i);
	box[0] = box[1] = box[2] = CMD_NONE;
	printf("cow: pattern at %#lx, mailbox at %#lx\n", COW_PATTERN, COW_BOX);
	printf("cow: filled\n");
	for (;;) {
		uint64_t cmd = box[0];

		box[1]++;
		if (cmd == CMD_MARK)
			pat[0] = COW_MARK;
		else if (cmd == CMD_FILL)
			fill_scratch();
		if (cmd != CMD_NONE) {
			box[0] = CMD_NONE;
			box[2] = cmd;
		}
	}
	return 0;
}
