// SPDX-License-Identifier: BSD-2-Clause
/*
 * The C side of libvireo's sandbox API, checked end to end
 * (tests/integration/test_sandbox_lib.py builds and runs it): sbtest.elf
 * loaded, called by name, host functions, every kind of catch and each of
 * the handler's choices. Prints "ok NAME" per check and exits non-zero at
 * the first failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo.h>

#define EXTRA 0x40000000ULL

static struct vireo_sandbox *sb;

#define CHECK(name, cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s (line %d): %s\n", name, __LINE__,                 \
				vireo_last_error());                                               \
			exit(1);                                                                   \
		}                                                                                  \
		printf("ok %s\n", name);                                                           \
	} while (0)

static int64_t call(const char *fn, uint64_t a, uint64_t b, int *rc)
{
	int64_t r = -9999;
	uint64_t args[2] = {a, b};

	*rc = vireo_sandbox_call(sb, fn, args, 2, &r);
	return r;
}

static int mul(struct vireo_sandbox *s, void *ctx, const uint64_t args[4], int64_t *result)
{
	(void)s;
	++*(int *)ctx;
	*result = (int64_t)(args[0] * args[1]);
	return 0;
}

/* What the handler does, set by each check. */
static enum { H_MAP, H_SKIP, H_SKIP_SET_A0, H_RESTART_ONCE, H_ABORT, H_ANSWER } mode;
static struct vireo_catch last;

static enum vireo_catch_action handler(struct vireo_sandbox *s, void *ctx, struct vireo_catch *c)
{
	(void)ctx;
	last = *c;
	switch (mode) {
	case H_MAP:
		return vireo_sandbox_map(s, c->gpa & ~4095ULL, 4096, 3) == 0 ? VIREO_CATCH_CONTINUE
									     : VIREO_CATCH_ABORT;
	case H_SKIP:
		c->pc += 4;
		return VIREO_CATCH_CONTINUE;
	case H_SKIP_SET_A0:
		c->pc += 4;
		c->x[10] = 5; /* breakpoint(a) returns a * 3 */
		return VIREO_CATCH_CONTINUE;
	case H_RESTART_ONCE:
		mode = H_MAP;
		return VIREO_CATCH_RESTART;
	case H_ANSWER:
		c->hostcall_error = -77;
		return VIREO_CATCH_CONTINUE;
	case H_ABORT:
	default:
		return VIREO_CATCH_ABORT;
	}
}

int main(int argc, char **argv)
{
	struct vireo_sandbox_config cfg = {.memory = 4 << 20, .log_fd = -1};
	struct vireo_sandbox_stats st;
	int rc, muls = 0;
	uint64_t addr, size;
	uint8_t bytes[100], back[100];
	int64_t r;

	if (argc < 2)
		return 2;
	rc = vireo_sandbox_open(argv[1], &cfg, &sb);
	CHECK("open", rc == 0);
	CHECK("call", call("add", 2, 40, &rc) == 42 && rc == 0);
	CHECK("six args",
	      vireo_sandbox_call(sb, "six", (uint64_t[]){1, 2, 3, 4, 5, 6}, 6, &r) == 0 && r == 91);
	CHECK("no such function", vireo_sandbox_call(sb, "nope", NULL, 0, &r) == -ENOENT);
	CHECK("memory persists", call("count", 0, 0, &rc) == 1 && call("count", 0, 0, &rc) == 2);
	CHECK("reset", vireo_sandbox_reset(sb, false) >= 1 && call("count", 0, 0, &rc) == 1);

	/* Buffers, checked against their size. */
	for (int i = 0; i < 100; i++)
		bytes[i] = (uint8_t)(i + 1);
	CHECK("buffer write", vireo_sandbox_write_buffer(sb, "inbox", 0, bytes, 100) == 0);
	CHECK("buffer sum", call("sum_inbox", 100, 0, &rc) == 5050);
	CHECK("buffer read", vireo_sandbox_read_buffer(sb, "inbox", 0, back, 100) == 0 &&
				 memcmp(bytes, back, 100) == 0);
	CHECK("buffer bounds",
	      vireo_sandbox_write_buffer(sb, "inbox", 8192 - 50, bytes, 100) == -ERANGE);
	CHECK("symbol", vireo_sandbox_symbol(sb, "inbox", &addr, &size) == 0 && size == 8192);
	CHECK("big read", vireo_sandbox_read(sb, 0x80000000, (uint8_t[10000]){0}, 10000) == 0);

	/* Host functions. */
	CHECK("host fn", vireo_sandbox_host_fn(sb, "mul", mul, &muls) == 0);
	CHECK("host call", call("mul_on_host", 6, 7, &rc) == 43 && rc == 0 && muls == 1);

	/* Catches without a handler abort the call; the sandbox goes on. */
	call("load", 0x1000, 0, &rc);
	CHECK("abort by default", rc == -ECANCELED);
	CHECK("usable after abort", call("add", 1, 2, &rc) == 3 && rc == 0);

	vireo_sandbox_on_catch(sb, handler, NULL);
	mode = H_MAP;
	CHECK("lazy map", call("store", EXTRA + 0x10000, 99, &rc) == 99 && rc == 0 &&
			      last.why == VIREO_CATCH_FAULT && last.gpa == EXTRA + 0x10000 &&
			      last.cause == 23);
	vireo_sandbox_reset(sb, false);
	mode = H_SKIP;
	CHECK("breakpoint", call("breakpoint", 4, 0, &rc) == 12 &&
				last.why == VIREO_CATCH_BREAKPOINT && last.x[10] == 4);
	mode = H_SKIP_SET_A0;
	CHECK("registers", call("breakpoint", 4, 0, &rc) == 15);
	mode = H_SKIP;
	CHECK("illegal", call("illegal", 0, 0, &rc) == 7 && last.why == VIREO_CATCH_ILLEGAL);
	mode = H_ABORT;
	call("jump", 0x2000, 0, &rc);
	CHECK("abort", rc == -ECANCELED && last.pc == 0x2000 &&
			   strstr(vireo_last_error(), "aborted") != NULL);
	mode = H_RESTART_ONCE;
	CHECK("restart", call("load", EXTRA, 0, &rc) == 0 && rc == 0);
	vireo_sandbox_reset(sb, false);
	mode = H_ANSWER;
	CHECK("unknown host fn", call("call_nobody", 0, 0, &rc) == -77 &&
				     last.why == VIREO_CATCH_HOSTCALL &&
				     strcmp(last.name, "nobody") == 0 && last.x[12] == 1);
	mode = H_ABORT;
	vireo_sandbox_budget(sb, 20000);
	call("spin", 0, 0, &rc);
	CHECK("budget", rc == -ECANCELED && last.why == VIREO_CATCH_TIMEOUT);
	vireo_sandbox_budget(sb, 0);
	CHECK("after budget", call("add", 5, 5, &rc) == 10);
	CHECK("stats", vireo_sandbox_stats(sb, &st) == 0 && st.calls >= 15 && st.hostcalls >= 2 &&
			   st.catches >= 8 && st.resets >= 4);
	printf("stats calls=%" PRIu64 " hostcalls=%" PRIu64 " catches=%" PRIu64 " resets=%" PRIu64
	       "\n",
	       st.calls, st.hostcalls, st.catches, st.resets);
	vireo_sandbox_close(sb);
	printf("all ok\n");
	return 0;
}
