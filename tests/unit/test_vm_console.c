// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the VMs' consoles on the shared hypervisor console
 * (hv/core/vm_console.c), with the real printf, string and time code. The
 * hypervisor console is a fake that records every byte that would reach the
 * UART and keeps the line owner exactly as hv/drivers/console.c does
 * (console_write_raw and console_end_line turn \n into \r\n; raw bytes pass
 * untranslated). The clock is the test's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/console.h>
#include <vireo/hart.h>
#include <vireo/sched.h>
#include <vireo/time.h>
#include <vireo/vm_console.h>

#define OUT_MAX 4096
#define T0	5000000ULL
#define QUIET	time_us_to_ticks(VM_CONSOLE_QUIET_US)
#define NEVER	UINT64_MAX

/* ---------------------------------------------------------------- fakes */

static struct {
	char out[OUT_MAX]; /* what reached the UART */
	size_t len;
	const void *owner;
	bool locked;
	bool colour;
	unsigned colour_sets;
	const char *misuse; /* the first broken rule of the console's API, if any */
} con;

static uint64_t now;
static unsigned timer_changes;

/*
 * The fakes note a broken rule instead of failing on the spot: vm_console.c may
 * hold its own locks when it calls them, and a test that failed there would
 * leave them held for the next one. The test's helpers check the note.
 */
static void expect(bool ok, const char *rule)
{
	if (!ok && !con.misuse)
		con.misuse = rule;
}

static void uart(char c)
{
	expect(con.len < OUT_MAX - 1, "test output buffer full");
	if (con.len >= OUT_MAX - 1)
		return;
	con.out[con.len++] = c;
	con.out[con.len] = '\0';
}

static void put_raw(char c)
{
	if (c == '\n')
		uart('\r');
	uart(c);
}

void console_lock(void)
{
	expect(!con.locked, "console_lock taken twice (it would deadlock)");
	con.locked = true;
}

void console_unlock(void)
{
	expect(con.locked, "console_unlock without console_lock");
	con.locked = false;
}

void console_write_raw(const char *s, size_t len)
{
	expect(con.locked, "console written without its lock");
	for (size_t i = 0; i < len; i++)
		put_raw(s[i]);
}

void console_write_raw_byte(uint8_t byte)
{
	expect(con.locked, "console written without its lock");
	uart((char)byte);
}

bool console_line_owned_by(const void *owner)
{
	expect(con.locked, "console written without its lock");
	return con.owner == owner;
}

void console_set_line_owner(const void *owner)
{
	expect(con.locked, "console written without its lock");
	con.owner = owner;
}

void console_end_line(void)
{
	expect(con.locked, "console written without its lock");
	if (con.owner) {
		put_raw('\n');
		con.owner = NULL;
	}
}

void console_set_colour(bool colour)
{
	con.colour = colour;
	con.colour_sets++;
}

uint64_t hart_time(void)
{
	return now;
}

void sched_timer_changed(void)
{
	timer_changes++;
}

/* ---------------------------------------------------------------- fixture */

static struct vm_console alpha, beta, gamma_, mute;

static int setup(void **state)
{
	(void)state;
	memset(&con, 0, sizeof(con));
	now = T0;
	timer_changes = 0;
	vm_console_configure(true, false);
	vm_console_init(&alpha, "alpha", 1, false);
	vm_console_init(&beta, "beta", 2, false);
	vm_console_init(&gamma_, "gamma", 7, false);
	vm_console_init(&mute, "quiet", 3, true);
	return 0;
}

static void assert_console_ok(void);

/* Take every console off the quiet-time list, so that no test sees another's. */
static int teardown(void **state)
{
	struct vm_console *all[] = {&alpha, &beta, &gamma_, &mute};

	(void)state;
	con.locked = false;
	for (unsigned i = 0; i < ARRAY_SIZE(all); i++) {
		spin_unlock(&all[i]->lock);
		vm_console_flush(all[i]);
	}
	assert_int_equal(vm_console_next_flush(), NEVER);
	assert_console_ok();
	return 0;
}

/* The console's API used by its rules, and its lock released. */
static void assert_console_ok(void)
{
	if (con.misuse)
		fail_msg("%s", con.misuse);
	assert_false(con.locked);
}

static void put(struct vm_console *c, const char *s)
{
	vm_console_write(c, (const uint8_t *)s, strlen(s));
	assert_console_ok();
}

static void assert_out(const char *out)
{
	assert_console_ok();
	assert_string_equal(con.out, out);
}

/*
 * Every line on the console begins with one VM's tag and holds only bytes of
 * that VM: here alpha writes only 'a' and beta only 'B', so a mixed line
 * shows. Counts the bytes of each that reached the console.
 */
static void assert_lines_unmixed(size_t *a_bytes, size_t *b_bytes)
{
	const char *p = con.out;

	*a_bytes = *b_bytes = 0;
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char line[OUT_MAX];
		size_t *count = NULL;
		char who = 0;

		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (end != NULL);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (!strncmp(line, "[alpha] ", 8)) {
			who = 'a';
			count = a_bytes;
		} else if (!strncmp(line, "[beta] ", 7)) {
			who = 'B';
			count = b_bytes;
		} else {
			fail_msg("untagged line '%s'", line);
			return;
		}
		for (const char *q = strchr(line, ' ') + 1; *q; q++, (*count)++)
			if (*q != who)
				fail_msg("mixed line '%s'", line);
	}
}

/* ---------------------------------------------------------------- one VM */

static void test_single_vm_raw(void **state)
{
	(void)state;
	vm_console_configure(false, false);
	put(&alpha, "Linux\r\nlogin: ");
	/* Straight through: no tag, no \r added, no waiting for the rest of the line. */
	assert_out("Linux\r\nlogin: ");
	assert_null(con.owner);
	assert_int_equal(timer_changes, 0);
	assert_int_equal(vm_console_next_flush(), NEVER);
	vm_console_putc(&alpha, 'x');
	assert_out("Linux\r\nlogin: x");
	/* Nothing held back for a flush to find. */
	vm_console_tick(now + 10 * QUIET);
	assert_out("Linux\r\nlogin: x");
}

/* ---------------------------------------------------------------- several VMs */

static void test_shared_lines_tagged(void **state)
{
	(void)state;
	put(&alpha, "one\n");
	assert_out("[alpha] one\n");
	assert_null(con.owner);
	put(&beta, "two\r\n");
	assert_out("[alpha] one\n[beta] two\r\n");
	/* Several lines in one write: a tag each. */
	put(&alpha, "3\n4\n");
	assert_out("[alpha] one\n[beta] two\r\n[alpha] 3\n[alpha] 4\n");
	/* Byte by byte, as through the UART: the same. */
	vm_console_putc(&beta, '5');
	vm_console_putc(&beta, '\n');
	assert_out("[alpha] one\n[beta] two\r\n[alpha] 3\n[alpha] 4\n[beta] 5\n");
	/* Complete lines never wait for the quiet time. */
	assert_int_equal(vm_console_next_flush(), NEVER);
}

/* Partial lines of two VMs, alternately: gathered until the quiet time, then
 * each on its own tagged line; continuations are tagged again. */
static void test_partial_lines_never_mix(void **state)
{
	size_t a, b;

	(void)state;
	put(&alpha, "aaa");
	put(&beta, "BB");
	assert_out("");
	now += QUIET;
	vm_console_tick(now);
	/* beta ended alpha's open line before starting its own. */
	assert_out("[alpha] aaa\r\n[beta] BB");
	assert_ptr_equal(con.owner, &beta);

	put(&alpha, "aa\n");
	assert_out("[alpha] aaa\r\n[beta] BB\r\n[alpha] aa\n");
	put(&beta, "B\n");
	assert_out("[alpha] aaa\r\n[beta] BB\r\n[alpha] aa\n[beta] B\n");
	assert_null(con.owner);

	/* More rounds, with ticks in between at every step. */
	for (unsigned r = 0; r < 4; r++) {
		put(&alpha, "a");
		now += QUIET;
		vm_console_tick(now);
		put(&beta, "BBB");
		put(&alpha, "aa");
		now += QUIET;
		vm_console_tick(now);
		put(&beta, "B\n");
	}
	put(&alpha, "\n");
	assert_lines_unmixed(&a, &b);
	assert_int_equal(a, 3 + 2 + 4 * 3);
	assert_int_equal(b, 2 + 1 + 4 * 4);
}

/* A VM that continues its own open line, with nobody in between, needs no new tag. */
static void test_continuation_untagged(void **state)
{
	(void)state;
	put(&alpha, "vireo# ");
	now += QUIET;
	vm_console_tick(now);
	put(&alpha, "uname\n");
	assert_out("[alpha] vireo# uname\n");
	/* A complete line of another VM in between: the continuation gets a tag. */
	put(&alpha, "vireo# ");
	now += QUIET;
	vm_console_tick(now);
	put(&beta, "BOOT\n");
	put(&alpha, "ls\n");
	assert_out("[alpha] vireo# uname\n[alpha] vireo# \r\n[beta] BOOT\n[alpha] ls\n");
}

/* ---------------------------------------------------------------- the quiet time */

static void test_prompt_waits_for_quiet_time(void **state)
{
	uint64_t start = now;

	(void)state;
	assert_int_equal(vm_console_next_flush(), NEVER);
	put(&alpha, "login: ");
	assert_out("");
	assert_int_equal(vm_console_next_flush(), start + QUIET);
	/* The scheduler is told to put the new deadline on the host timer. */
	assert_int_equal(timer_changes, 1);

	/* More of the line later does not push the deadline back. */
	now += QUIET / 2;
	put(&alpha, "x");
	assert_int_equal(vm_console_next_flush(), start + QUIET);
	assert_int_equal(timer_changes, 1);

	vm_console_tick(start + QUIET - 1);
	assert_out("");
	vm_console_tick(start + QUIET);
	assert_out("[alpha] login: x");
	assert_int_equal(vm_console_next_flush(), NEVER);
	/* Nothing left: later ticks write nothing. */
	vm_console_tick(start + 5 * QUIET);
	assert_out("[alpha] login: x");
}

/* Each console's partial line goes out at its own deadline. */
static void test_quiet_time_per_console(void **state)
{
	uint64_t t_alpha = now, t_beta;

	(void)state;
	put(&alpha, "a");
	now += QUIET / 4;
	t_beta = now;
	put(&beta, "B");
	assert_int_equal(vm_console_next_flush(), t_alpha + QUIET);
	vm_console_tick(t_alpha + QUIET);
	assert_out("[alpha] a");
	assert_int_equal(vm_console_next_flush(), t_beta + QUIET);
	vm_console_tick(t_beta + QUIET);
	assert_out("[alpha] a\r\n[beta] B");
	assert_int_equal(vm_console_next_flush(), NEVER);
}

/* A line that completes within the quiet time goes out whole, and leaves no deadline. */
static void test_completed_line_cancels_deadline(void **state)
{
	(void)state;
	put(&alpha, "abc");
	put(&alpha, "def\n");
	assert_out("[alpha] abcdef\n");
	assert_int_equal(vm_console_next_flush(), NEVER);
	vm_console_tick(now + QUIET);
	assert_out("[alpha] abcdef\n");
	/* The next partial line gets a deadline of its own again. */
	now += 3 * QUIET;
	put(&alpha, "g");
	assert_int_equal(vm_console_next_flush(), now + QUIET);
}

/* ---------------------------------------------------------------- long lines */

static void test_long_line_split_without_loss(void **state)
{
	char line[3 * VM_CONSOLE_LINE_MAX + 50];
	char expect[sizeof(line) + 32];

	(void)state;
	for (size_t i = 0; i < sizeof(line) - 1; i++)
		line[i] = (char)('a' + i % 26);
	line[sizeof(line) - 1] = '\0';
	put(&alpha, line);
	/* Whole buffers went out at once, without waiting for the quiet time... */
	assert_int_equal(con.len, strlen("[alpha] ") + 3 * VM_CONSOLE_LINE_MAX);
	assert_ptr_equal(con.owner, &alpha);
	put(&alpha, "\n");
	/* ...and the line is all there, with one tag. */
	snprintf(expect, sizeof(expect), "[alpha] %s\n", line);
	assert_out(expect);
}

/* A long line split by another VM's line: every byte arrives, each piece tagged. */
static void test_long_line_interrupted(void **state)
{
	char a[VM_CONSOLE_LINE_MAX + 44];
	size_t a_bytes, b_bytes;

	(void)state;
	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	put(&alpha, a);
	put(&beta, "BB\n");
	put(&alpha, "\n");
	assert_lines_unmixed(&a_bytes, &b_bytes);
	assert_int_equal(a_bytes, sizeof(a) - 1);
	assert_int_equal(b_bytes, 2);
	assert_non_null(strstr(con.out, "\r\n[beta] BB\n[alpha] aaa"));
}

/* ---------------------------------------------------------------- colour, mute, flush */

static void test_colour_tags(void **state)
{
	(void)state;
	vm_console_configure(true, true);
	assert_true(con.colour);
	put(&alpha, "x\n");
	put(&beta, "y\n");
	put(&gamma_, "z\n"); /* console 7: the colours go round (six of them) */
	assert_out("\033[32m[alpha]\033[0m x\n"
		   "\033[33m[beta]\033[0m y\n"
		   "\033[32m[gamma]\033[0m z\n");
	vm_console_configure(true, false);
	assert_false(con.colour);
	put(&alpha, "w\n");
	assert_non_null(strstr(con.out, "z\n[alpha] w\n"));
}

static void test_muted_console(void **state)
{
	(void)state;
	put(&mute, "secret\n");
	put(&mute, "partial");
	vm_console_putc(&mute, '!');
	assert_int_equal(con.len, 0);
	assert_int_equal(vm_console_next_flush(), NEVER);
	assert_int_equal(timer_changes, 0);
	vm_console_tick(now + QUIET);
	vm_console_flush(&mute);
	assert_int_equal(con.len, 0);
	/* Alone on the console too. */
	vm_console_configure(false, false);
	put(&mute, "secret\n");
	assert_int_equal(con.len, 0);
	/* Others are not affected. */
	put(&alpha, "ok\n");
	assert_out("ok\n");
}

static void test_flush_ends_open_line(void **state)
{
	(void)state;
	/* Gathered, not yet out: flush writes it and ends the line. */
	put(&alpha, "bye");
	vm_console_flush(&alpha);
	assert_out("[alpha] bye\r\n");
	assert_null(con.owner);
	assert_int_equal(vm_console_next_flush(), NEVER);
	vm_console_tick(now + QUIET);
	assert_out("[alpha] bye\r\n");

	/* Already out after the quiet time: flush only ends the line. */
	put(&beta, "B");
	now += QUIET;
	vm_console_tick(now);
	vm_console_flush(&beta);
	assert_out("[alpha] bye\r\n[beta] B\r\n");

	/* Another VM's open line is not ours to end. */
	put(&beta, "BB");
	now += QUIET;
	vm_console_tick(now);
	vm_console_flush(&alpha);
	assert_out("[alpha] bye\r\n[beta] B\r\n[beta] BB");
	assert_ptr_equal(con.owner, &beta);

	/* Nothing at all: nothing written. */
	vm_console_flush(&gamma_);
	assert_out("[alpha] bye\r\n[beta] B\r\n[beta] BB");
}

/* A VM's end flushes its console, then frees it: nothing may refer to it after. */
static void test_flushed_console_forgotten(void **state)
{
	(void)state;
	put(&alpha, "last words");
	vm_console_flush(&alpha);
	assert_out("[alpha] last words\r\n");
	/* The memory is reused for something else. */
	memset(&alpha, 0, sizeof(alpha));
	alpha.len = 3;
	assert_int_equal(vm_console_next_flush(), NEVER);
	vm_console_tick(now + 10 * QUIET);
	assert_out("[alpha] last words\r\n");
	vm_console_init(&alpha, "alpha", 1, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_single_vm_raw, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_lines_tagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partial_lines_never_mix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_continuation_untagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prompt_waits_for_quiet_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quiet_time_per_console, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_completed_line_cancels_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line_split_without_loss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line_interrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_colour_tags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_muted_console, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_ends_open_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flushed_console_forgotten, setup, teardown),
	};

	return cmocka_run_group_tests_name("vm_console", tests, NULL, NULL);
}
