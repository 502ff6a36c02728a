// SPDX-License-Identifier: BSD-2-Clause
/*
 * Sandbox latencies (make bench; bench/run.py runs it twice): drives
 * sbbench.elf through libvireo and prints one line per figure,
 *
 *	sandbox <name> wall_us=<per op>                      (a plain run)
 *	sandbox <name> insns=<per op>                        (with --icount)
 *
 * With --icount QEMU runs with -icount shift=0: instret is the machine's
 * clock, and sbbench's work() (instret minus what the harts spent waiting)
 * counts the instructions executed per operation, wherever they ran (the
 * guest, Vireo, OpenSBI): the part inside the machine. Wall times are end
 * to end, host library and QEMU included.
 *
 *	sbbench_host ELF [--icount] [N]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vireo.h>

static struct vireo_sandbox *sb;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int64_t call1(const char *fn, uint64_t a)
{
	int64_t r = 0;

	if (vireo_sandbox_call(sb, fn, &a, 1, &r) != 0) {
		fprintf(stderr, "sbbench_host: %s: %s\n", fn, vireo_last_error());
		exit(1);
	}
	return r;
}

static int nop(struct vireo_sandbox *s, void *ctx, const uint64_t args[4], int64_t *result)
{
	(void)s;
	(void)ctx;
	*result = (int64_t)args[0];
	return 0;
}

static enum vireo_catch_action skip(struct vireo_sandbox *s, void *ctx, struct vireo_catch *c)
{
	(void)s;
	(void)ctx;
	c->pc += 4; /* past the ebreak (4 bytes: sbbench's norvc) */
	return VIREO_CATCH_CONTINUE;
}

/* The machine's instructions between two marks, less what one mark costs. */
static int64_t between(int64_t cost, void (*what)(void))
{
	int64_t a = call1("mark", 0), b;

	what();
	b = call1("mark", 0);
	return b - a - cost;
}

static void one_call(void)
{
	call1("nop", 1);
}

static unsigned dirty_pages;
static void dirty_reset(void)
{
	call1("dirty", dirty_pages);
	vireo_sandbox_reset(sb, false);
}

static void wall(unsigned n)
{
	double t0 = now_us();

	for (unsigned i = 0; i < n; i++)
		call1("nop", i);
	printf("sandbox call wall_us=%.1f\n", (now_us() - t0) / n);
	t0 = now_us();
	call1("hostcalls", n);
	printf("sandbox hostcall wall_us=%.1f\n", (now_us() - t0) / n);
	t0 = now_us();
	call1("breaks", n);
	printf("sandbox catch_continue wall_us=%.1f\n", (now_us() - t0) / n);
	for (unsigned pages = 1; pages <= 64; pages *= 8) {
		double spent = 0;

		for (unsigned i = 0; i < n / 10; i++) {
			call1("dirty", pages);
			t0 = now_us();
			vireo_sandbox_reset(sb, false);
			spent += now_us() - t0;
		}
		printf("sandbox reset_%u wall_us=%.1f\n", pages, spent / (n / 10));
	}
	t0 = now_us();
	for (unsigned i = 0; i < 10; i++)
		vireo_sandbox_reset(sb, true);
	printf("sandbox reset_full wall_us=%.1f\n", (now_us() - t0) / 10);
}

static void icount(unsigned n)
{
	int64_t cost = call1("waited_cost", 0);

	printf("sandbox call insns=%" PRId64 "\n", between(cost, one_call));
	printf("sandbox hostcall insns=%" PRId64 "\n", call1("hostcalls", n) - cost / n);
	struct vireo_sandbox_stats a, b;

	vireo_sandbox_stats(sb, &a);
	printf("sandbox catch_continue insns=%" PRId64 "\n", call1("breaks", n) - cost / n);
	vireo_sandbox_stats(sb, &b);
	if (b.continues > a.continues) {
		uint64_t k = b.continues - a.continues;

		printf("sandbox catch_in_vireo insns=%" PRIu64 "\n",
		       (b.catch_out_insns - a.catch_out_insns + b.continue_in_insns -
			a.continue_in_insns) /
			   k);
	}
	dirty_pages = 1;
	printf("sandbox call_dirty_reset_1 insns=%" PRId64 "\n", between(cost, dirty_reset));
	dirty_pages = 8;
	printf("sandbox call_dirty_reset_8 insns=%" PRId64 "\n", between(cost, dirty_reset));
}

int main(int argc, char **argv)
{
	bool ic = argc > 2 && strcmp(argv[2], "--icount") == 0;
	unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 500;
	struct vireo_sandbox_config cfg = {
	    .log_fd = -1,
	    .qemu_args = ic ? "-icount shift=0" : NULL,
	};

	if (argc < 2 || !n) {
		fprintf(stderr, "usage: sbbench_host ELF [--icount] [N]\n");
		return 2;
	}
	double t0 = now_us();

	if (vireo_sandbox_open(argv[1], &cfg, &sb) != 0) {
		fprintf(stderr, "sbbench_host: %s\n", vireo_last_error());
		return 1;
	}
	if (!ic)
		printf("sandbox open wall_us=%.0f\n", now_us() - t0);
	vireo_sandbox_host_fn(sb, "nop", nop, NULL);
	vireo_sandbox_on_catch(sb, skip, NULL);
	if (ic)
		icount(n);
	else
		wall(n);
	vireo_sandbox_close(sb);
	return 0;
}
