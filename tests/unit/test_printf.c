// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the formatting engine (hv/lib/printf.c), against the host
 * libc (glibc): for every case, vireo_snprintf must produce the same bytes
 * and the same return value as snprintf, into a large buffer and into every
 * truncating buffer size (0, 1, ... up to the full length).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/printf.h>

#define BUF 512

static unsigned checked;

/* Compare vireo and libc on one format and its arguments, at every buffer size. */
static void PRINTF_LIKE(3, 4) check(const char *where, int line, const char *fmt, ...)
{
	char want[BUF], got[BUF];
	va_list ap, aq;
	int want_n, got_n;

	va_start(ap, fmt);
	va_copy(aq, ap);
	want_n = vsnprintf(want, sizeof(want), fmt, ap);
	got_n = vireo_vsnprintf(got, sizeof(got), fmt, aq);
	va_end(aq);
	va_end(ap);
	assert_true(want_n >= 0 && want_n < BUF);
	if (got_n != want_n || memcmp(want, got, (size_t)want_n + 1) != 0)
		fail_msg("%s:%d: format \"%s\": libc \"%s\" (%d), vireo \"%s\" (%d)", where, line,
			 fmt, want, want_n, got, got_n);

	/* Truncated: the first size-1 bytes and a NUL, nothing written past size. */
	for (size_t size = 0; size <= (size_t)want_n + 1; size++) {
		char small[BUF + 8];
		memset(small, '#', sizeof(small));
		va_start(ap, fmt);
		got_n = vireo_vsnprintf(size ? small : NULL, size, fmt, ap);
		va_end(ap);
		if (got_n != want_n)
			fail_msg("%s:%d: format \"%s\" size %zu: returned %d, not %d", where, line,
				 fmt, size, got_n, want_n);
		if (size > 0) {
			size_t keep = MIN(size - 1, (size_t)want_n);
			if (memcmp(small, want, keep) != 0 || small[keep] != '\0')
				fail_msg("%s:%d: format \"%s\" size %zu: wrong prefix", where, line,
					 fmt, size);
		}
		for (size_t i = size; i < sizeof(small); i++) {
			if (small[i] != '#')
				fail_msg("%s:%d: format \"%s\" size %zu: wrote byte %zu", where,
					 line, fmt, size, i);
		}
	}
	checked++;
}

#define CHECK(...) check(__FILE__, __LINE__, __VA_ARGS__)

/*
 * For formats C defines but gcc's -Wformat flags as literals (a flag that does
 * not apply, or one that another overrides): a call result is not checked.
 */
static const char *dyn(const char *fmt)
{
	return fmt;
}

#define CHECK_DYN(fmt, ...) check(__FILE__, __LINE__, dyn(fmt), __VA_ARGS__)

static void test_plain_text(void **state)
{
	(void)state;
	CHECK("%s", "");
	CHECK("hello, world");
	CHECK("%%");
	CHECK("100%% sure %%%%");
	CHECK("a%cb", 'x');
	CHECK("tab\there\nnewline");
}

static void test_signed(void **state)
{
	static const int ints[] = {0, 1, -1, 7, -7, 42, 123456789, -123456789, INT_MAX, INT_MIN};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		int v = ints[i];
		CHECK("%d", v);
		CHECK("%i", v);
		CHECK("[%5d]", v);
		CHECK("[%-5d]", v);
		CHECK("[%05d]", v);
		CHECK("[%+d]", v);
		CHECK("[% d]", v);
		CHECK("[%+5d]", v);
		CHECK("[% 5d]", v);
		CHECK("[%+05d]", v);
		CHECK("[% 05d]", v);
		CHECK("[%-+8d]", v);
		CHECK("[%- 8d]", v);
		CHECK("[%.3d]", v);
		CHECK("[%.0d]", v);
		CHECK("[%8.3d]", v);
		CHECK("[%-8.3d]", v);
		CHECK_DYN("[%08.3d]", v); /* precision: the 0 flag is ignored */
		CHECK("[%+.5i]", v);
		CHECK("[% .0i]", v);
		CHECK("[%+.0d]", v);
		CHECK("[%12d]", v);
		CHECK("[%-12d|", v);
		CHECK("[%012d]", v);
		CHECK("[%.12d]", v);
		CHECK_DYN("[%+ d]", v);	  /* '+' wins over ' ' */
		CHECK_DYN("[%-012d]", v); /* '-' wins over '0' */
	}
}

static void test_length_modifiers(void **state)
{
	(void)state;
	CHECK("%ld %ld %ld", 0L, LONG_MAX, LONG_MIN);
	CHECK("%lld %lld %lld", 0LL, LLONG_MAX, LLONG_MIN);
	CHECK("%lu %llu", ULONG_MAX, ULLONG_MAX);
	CHECK("%li %lli", -5L, -6LL);
	CHECK("%hd %hd %hd", 70000, -70000, 32767);
	CHECK("%hhd %hhd %hhd %hhd", 300, -129, 127, 128);
	CHECK("%hu %hhu %hx %hhx", 70000, 300, 0x12345, 0x1ff);
	CHECK("%zu %zu %zx", (size_t)0, SIZE_MAX, (size_t)0xabcdef);
	CHECK("%zd", (ssize_t)-12345);
	CHECK("%td %td", (ptrdiff_t)-1, (ptrdiff_t)PTRDIFF_MAX);
	CHECK("%jd %ju", INTMAX_MIN, UINTMAX_MAX);
	CHECK("%lx %lX %lo", 0xdeadbeefcafeUL, 0xdeadbeefcafeUL, 0777777777777UL);
	CHECK("%llx %llX %llo", 0xfedcba9876543210ULL, 0xfedcba9876543210ULL, ULLONG_MAX);
	CHECK("[%20llx] [%-20llx] [%020llx]", 0x1234ULL, 0x1234ULL, 0x1234ULL);
	CHECK("[%#llx] [%#20llx] [%#020llx] [%-#20llx]", ~0ULL, 1ULL, 1ULL, 1ULL);
	CHECK("[%.16lx] [%18.16lx]", 0xabcUL, 0xabcUL);
	CHECK("%ld|%d|%lld|%hd", -1L, 2, -3LL, (short)-4);
}

static void test_unsigned_hex_octal(void **state)
{
	static const unsigned vals[] = {0,  1,	 7,   8,	  9,	      15,
					16, 255, 256, 0x7fffffff, 0x80000000, UINT_MAX};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		unsigned v = vals[i];
		CHECK("%u %x %X %o", v, v, v, v);
		CHECK("[%10u] [%-10x] [%010X] [%10o]", v, v, v, v);
		CHECK("[%.0u] [%.0x] [%.0X] [%.0o]", v, v, v, v);
		CHECK("[%.5u] [%.5x] [%.5X] [%.5o]", v, v, v, v);
		CHECK("[%#x] [%#X] [%#o]", v, v, v);
		CHECK("[%#10x] [%#-10X] [%#010x] [%#10o] [%#010o]", v, v, v, v, v);
		CHECK("[%#.0x] [%#.0o] [%#.3o] [%#.8x] [%#12.8X]", v, v, v, v, v);
		CHECK("[%#5.0o] [%#-6o] [%#.1o] [%#.2o]", v, v, v, v);
		CHECK_DYN("[%08.3x] [%-8.3o] [%8.0u]", v, v, v);
	}
	/* Negative values reinterpreted as unsigned. */
	CHECK("%u %x %o", -1, -2, -3);
}

static void test_star_width_precision(void **state)
{
	static const int widths[] = {-12, -5, -1, 0, 1, 3, 10, 30};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(widths); i++) {
		int w = widths[i];
		CHECK("[%*d]", w, 42);
		CHECK("[%*d]", w, -42);
		CHECK("[%-*d]", w, 42);
		CHECK("[%0*d]", w, -42); /* a negative '*' width means '-' */
		CHECK("[%*s]", w, "abc");
		CHECK("[%*c]", w, 'z');
		CHECK("[%*x]", w, 0xbeefu);
		CHECK("[%.*d]", w, 42); /* a negative '*' precision means none */
		CHECK("[%.*s]", w, "abcdefgh");
		CHECK("[%*.*d]", w, 5, 42);
		CHECK("[%*.*s]", 8, w, "abcdefgh");
		CHECK_DYN("[%0*.*x]", w, w, 0xfu);
		CHECK("[%.*u]", w, 0u);
	}
}

static void test_strings_and_chars(void **state)
{
	const char *volatile null_str = NULL;

	(void)state;
	CHECK("%s", "hello");
	CHECK("[%10s] [%-10s] [%3s]", "hello", "hello", "hello");
	CHECK("[%.2s] [%.0s] [%.10s] [%8.3s] [%-8.3s]", "hello", "hello", "hello", "hello",
	      "hello");
	CHECK("[%s] [%s]", "", "x");
	CHECK("[%5s] [%-5s] [%.5s]", "", "", "");
	CHECK("[%c] [%3c] [%-3c] [%c%c%c]", 'a', 'b', 'c', 'x', 'y', 'z');
	CHECK("[%c]", 0xff);
	CHECK("[%c]", '%');
	/* A NUL character is counted and stored like any other. */
	CHECK("a%cb", '\0');
	CHECK("[%4c]", '\0');
	/* NULL strings print as "(null)", like glibc. */
	CHECK("%s", null_str);
	CHECK("[%10s] [%-10s]", null_str, null_str);
	CHECK("[%.6s] [%.20s]", null_str, null_str);
	/* A long string that fills much of the buffer. */
	static char longstr[300];
	for (size_t i = 0; i < sizeof(longstr) - 1; i++)
		longstr[i] = (char)('a' + i % 26);
	CHECK("<%s>", longstr);
	CHECK("<%-310s>", longstr);
	CHECK("<%.100s>", longstr);
}

static void test_pointers(void **state)
{
	static int object;
	(void)state;
	/* glibc prints non-NULL %p as %#lx. */
	CHECK("%p", (void *)&object);
	CHECK("%p", (void *)0x1);
	CHECK("%p", (void *)0xffffffffffffffffUL);
	CHECK("%p", (void *)0x80200000UL);
	CHECK("[%20p] [%-20p]", (void *)0x1234, (void *)0x1234);
	CHECK("%p %s %p", (void *)0xdead, "mid", (void *)0xbeef);
}

static void test_null_pointer(void **state)
{
	char buf[32];

	(void)state;
	/* glibc prints "(nil)"; vireo prints the value like every other pointer. */
	assert_int_equal(vireo_snprintf(buf, sizeof(buf), "%p", (void *)NULL), 3);
	assert_string_equal(buf, "0x0");
	assert_int_equal(vireo_snprintf(buf, sizeof(buf), "[%6p]", (void *)NULL), 8);
	assert_string_equal(buf, "[   0x0]");
}

static void test_mixed(void **state)
{
	(void)state;
	CHECK("vcpu %u: sepc=%016lx cause=%lu %s", 3u, 0x80200000UL, 20UL, "guest page fault");
	CHECK("%d%s%x%c%o%%%u", -1, "|", 255u, '!', 8u, 7u);
	CHECK("%-10s|%10s|%-5d|%5d|", "left", "right", 12, 34);
}

static void test_flags_ignored_where_c_ignores_them(void **state)
{
	(void)state;
	/* '+' and ' ' apply to signed conversions only. */
	CHECK_DYN("[%+u] [% u] [%+x] [% X] [%+o] [% o]", 5u, 5u, 0xffu, 0xffu, 8u, 8u);
	CHECK_DYN("[%+5u] [% 05x] [%+.3o]", 5u, 0xau, 8u);
	CHECK_DYN("[%+lu] [% llx]", 123UL, 0xabcULL);
	/* '#' with a zero that is printed anyway. */
	CHECK_DYN("[%#o] [%#5o] [%#-5o] [%#05o]", 0u, 0u, 0u, 0u);
}

static void test_return_value_and_truncation(void **state)
{
	char buf[16];

	(void)state;
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(vireo_snprintf(buf, 0, "%d", 123456), 6);
	assert_int_equal(buf[0], 'X'); /* size 0: nothing written */
	assert_int_equal(vireo_snprintf(NULL, 0, "%s%s", "abc", "defgh"), 8);

	assert_int_equal(vireo_snprintf(buf, 1, "%d", 123456), 6);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');

	assert_int_equal(vireo_snprintf(buf, 4, "%s", "abcdef"), 6);
	assert_string_equal(buf, "abc");
	assert_int_equal(buf[4], 'X');

	assert_int_equal(vireo_snprintf(buf, 7, "%s", "abcdef"), 6);
	assert_string_equal(buf, "abcdef");
	assert_int_equal(vireo_snprintf(buf, 6, "%s", "abcdef"), 6);
	assert_string_equal(buf, "abcde");

	assert_int_equal(vireo_snprintf(buf, sizeof(buf), "%100d", 1), 100);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_int_equal(buf[14], ' ');
	assert_int_equal(vireo_snprintf(buf, sizeof(buf), "%-100d", 1), 100);
	assert_string_equal(buf, "1              ");

	assert_int_equal(vireo_snprintf(buf, sizeof(buf), dyn("")), 0);
	assert_string_equal(buf, "");
}

/* vireo_vformat: the sink sees every character, the count is exact. */
struct collect {
	char buf[64];
	size_t n;
};

static void collect_putc(void *ctx, char c)
{
	struct collect *col = ctx;

	if (col->n < sizeof(col->buf))
		col->buf[col->n] = c;
	col->n++;
}

static int PRINTF_LIKE(2, 3) format_into(struct collect *col, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vireo_vformat(collect_putc, col, fmt, ap);
	va_end(ap);
	return n;
}

static void test_vformat_sink(void **state)
{
	struct collect col = {.n = 0};

	(void)state;
	assert_int_equal(format_into(&col, "x=%d y=%s%c", -5, "ok", '\0'), 10);
	assert_int_equal(col.n, 10);
	assert_memory_equal(col.buf, "x=-5 y=ok\0", 10);
	col.n = 0;
	assert_int_equal(format_into(&col, "%s", ""), 0);
	assert_int_equal(col.n, 0);
}

static void test_unknown_conversion(void **state)
{
	char buf[32];
	const char *volatile fmt = "a%yb%";

	(void)state;
	/* Shown as is, consuming no argument; a lone '%' at the end is printed. */
	assert_int_equal(vireo_snprintf(buf, sizeof(buf), fmt), 5);
	assert_string_equal(buf, "a%yb%");
}

static int report(void **state)
{
	(void)state;
	print_message("printf: %u format cases compared with libc\n", checked);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_text),
	    cmocka_unit_test(test_signed),
	    cmocka_unit_test(test_length_modifiers),
	    cmocka_unit_test(test_unsigned_hex_octal),
	    cmocka_unit_test(test_star_width_precision),
	    cmocka_unit_test(test_strings_and_chars),
	    cmocka_unit_test(test_pointers),
	    cmocka_unit_test(test_null_pointer),
	    cmocka_unit_test(test_mixed),
	    cmocka_unit_test(test_flags_ignored_where_c_ignores_them),
	    cmocka_unit_test(test_return_value_and_truncation),
	    cmocka_unit_test(test_vformat_sink),
	    cmocka_unit_test(test_unknown_conversion),
	};

	return cmocka_run_group_tests_name("printf", tests, NULL, report);
}
