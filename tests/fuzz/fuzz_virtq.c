// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the device side of split virtqueues
 * (hv/virtio/virtq.c) on its own. Guest RAM is two runs of host memory
 * (guest-contiguous, host-apart) inside guard pages. Each input sets up a
 * queue (size, ring addresses, negotiated features: any of them may be
 * wrong) and is then read as a script of driver actions: raw writes into
 * guest RAM (descriptors, indirect tables, ring indexes), pops, unpops,
 * pushes, notification checks. Whatever the driver wrote, every buffer the
 * library hands out must lie wholly inside guest RAM, within the caller's
 * array, in readable-then-writable order; ASan catches any stray access.
 *
 *   make fuzz (see tests/fuzz/fuzz.mk)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vireo/virtq.h>

#include "fuzz_check.h"

#define RUN_SIZE 0x4000ULL
#define RAM_GPA	 0x80000000ULL
#define GUARD	 0x1000ULL
#define MAXBUFS	 6

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static uint8_t *runs[2];
static struct guest_mem mem;

static void map_ram(void)
{
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *m =
		    mmap(NULL, RUN_SIZE + 2 * GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		FUZZ_CHECK(m != MAP_FAILED);
		runs[i] = m + GUARD;
		FUZZ_CHECK(mprotect(runs[i], RUN_SIZE, PROT_READ | PROT_WRITE) == 0);
		FUZZ_CHECK(guest_mem_add_run(&mem, RAM_GPA + i * RUN_SIZE, RUN_SIZE, runs[i]) == 0);
	}
}

/* A guest-physical address: mostly inside RAM, sometimes near or past its edges. */
static uint64_t take_gpa(struct input *in)
{
	uint64_t v = take(in, 2);

	switch (take(in, 1) & 7) {
	case 0:
		return take(in, 8);
	case 1:
		return RAM_GPA + 2 * RUN_SIZE - (v & 0x3f);
	case 2:
		return RAM_GPA - (v & 0x3f);
	default:
		return RAM_GPA + (v % (2 * RUN_SIZE));
	}
}

static void check_chain(const struct virtq_chain *c)
{
	FUZZ_CHECK(c->n <= c->max);
	FUZZ_CHECK(c->nread <= c->n);
	for (unsigned i = 0; i < c->n; i++) {
		FUZZ_CHECK(c->bufs[i].len > 0);
		FUZZ_CHECK(guest_mem_contains(&mem, c->bufs[i].gpa, c->bufs[i].len));
		FUZZ_CHECK(c->bufs[i].write == (i >= c->nread));
	}
}

static void poke(struct input *in)
{
	uint64_t gpa = RAM_GPA + take(in, 2) % (2 * RUN_SIZE);
	unsigned n = take(in, 1) % 24 + 1;
	uint8_t buf[24];

	for (unsigned i = 0; i < n; i++)
		buf[i] = (uint8_t)take(in, 1);
	if (guest_mem_contains(&mem, gpa, n))
		guest_mem_write(&mem, gpa, buf, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct virtq_buf bufs[MAXBUFS];
	struct virtq_chain chain = {.bufs = bufs, .max = MAXBUFS};
	struct virtq q;
	unsigned pops = 0;

	if (!runs[0])
		map_ram();
	memset(runs[0], 0, RUN_SIZE);
	memset(runs[1], 0, RUN_SIZE);
	virtq_reset(&q, 64);
	q.num = (uint32_t)take(&in, 1);
	q.desc_gpa = take_gpa(&in);
	q.avail_gpa = take_gpa(&in);
	q.used_gpa = take_gpa(&in);
	unsigned features = (unsigned)take(&in, 1);
	if (virtq_enable(&q, &mem, features & 1, features & 2) != 0)
		return 0;
	FUZZ_CHECK(q.num && q.num <= 64 && !(q.num & (q.num - 1)));
	while (in.left) {
		switch (take(&in, 1) % 6) {
		case 0:
		case 1:
			poke(&in);
			break;
		case 2:
			switch (virtq_pop(&q, &chain)) {
			case VIRTQ_CHAIN:
				check_chain(&chain);
				FUZZ_CHECK(chain.head < q.num);
				pops++;
				break;
			case VIRTQ_BROKEN:
				/* A device stops using a broken queue. */
				return 0;
			case VIRTQ_EMPTY:
				FUZZ_CHECK(!virtq_has_avail(&q));
				break;
			}
			break;
		case 3:
			if (pops) {
				virtq_unpop(&q);
				pops--;
			}
			break;
		case 4:
			virtq_push(&q, (uint16_t)(take(&in, 1) % q.num), (uint32_t)take(&in, 4));
			(void)virtq_should_notify(&q);
			break;
		case 5:
			virtq_set_notify(&q, take(&in, 1) & 1);
			break;
		}
	}
	return 0;
}
