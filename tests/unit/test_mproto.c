// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the machine socket's messages (tools/libvireo/mproto.c): what
 * a message may hold, how values are found in text a peer sent, and frames over
 * a socket, including a peer that lies about a frame's length.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <vireo/vx.h>

#include "mproto.h"

static void test_add_and_get(void **state)
{
	struct mp_msg m;
	char buf[64];
	uint64_t u;
	int64_t i;

	(void)state;
	mp_init(&m);
	mp_add(&m, "op", "vm-create");
	mp_add(&m, "vm", "%s", "a");
	mp_add(&m, "vm", "%s", "b");
	mp_add(&m, "memory", "%llu", 128ULL << 20);
	mp_add(&m, "status", "%d", -9);
	assert_false(m.failed);
	assert_true(mp_valid(m.text, m.len));
	assert_string_equal(mp_get(m.text, m.len, "op", buf, sizeof(buf)), "vm-create");
	assert_string_equal(mp_get_nth(m.text, m.len, "vm", 1, buf, sizeof(buf)), "b");
	assert_null(mp_get_nth(m.text, m.len, "vm", 2, buf, sizeof(buf)));
	/* A key is matched whole: "v" is not "vm", "memor" not "memory". */
	assert_null(mp_get(m.text, m.len, "v", buf, sizeof(buf)));
	assert_null(mp_get(m.text, m.len, "memor", buf, sizeof(buf)));
	assert_true(mp_get_u64(m.text, m.len, "memory", &u));
	assert_int_equal(u, 128ULL << 20);
	assert_true(mp_get_i64(m.text, m.len, "status", &i));
	assert_int_equal(i, -9);
	/* A value that does not fit the caller's buffer is not there, not cut. */
	assert_null(mp_get(m.text, m.len, "op", buf, 9));
	assert_non_null(mp_get(m.text, m.len, "op", buf, 10));
	mp_free(&m);
}

static void test_newline_fails_message(void **state)
{
	struct mp_msg m;

	(void)state;
	mp_init(&m);
	mp_add(&m, "name", "evil\nop=machine-stop");
	assert_true(m.failed);
	/* Once failed it stays failed: nothing half-written is sent. */
	mp_add(&m, "name", "fine");
	assert_true(m.failed);
	mp_free(&m);
}

static void test_too_big_fails_message(void **state)
{
	struct mp_msg m;
	char *big = malloc(MP_MAX);

	(void)state;
	memset(big, 'x', MP_MAX - 1);
	big[MP_MAX - 1] = '\0';
	mp_init(&m);
	mp_add(&m, "a", "%s", "ok");
	assert_false(m.failed);
	mp_add(&m, "big", "%s", big);
	assert_true(m.failed);
	mp_free(&m);
	free(big);
}

static void test_numbers_refused(void **state)
{
	static const char *const bad[] = {
	    "n=\n", "n=-1\n", "n=12x\n", "n=99999999999999999999999\n", "n= 5\n", "n=+5\n"};
	uint64_t u;
	int64_t i;

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		assert_false(mp_get_u64(bad[k], strlen(bad[k]), "n", &u));
	assert_true(mp_get_u64("n=0x10\n", 7, "n", &u));
	assert_int_equal(u, 16);
	assert_false(mp_get_i64("n=- 1\n", 6, "n", &i));
	assert_false(mp_get_i64("n=-\n", 4, "n", &i));
	assert_true(mp_get_i64("n=-12\n", 6, "n", &i));
	assert_int_equal(i, -12);
}

static void test_valid(void **state)
{
	static const char *const bad[] = {"op=x",     "=x\n",	   "Op=x\n", "op x\n",
					  "op=x\n\n", "op=x\nk\n", "o p=x\n"};

	(void)state;
	assert_true(mp_valid("", 0));
	assert_true(mp_valid("op=x\nk-2_a=\n", 12));
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		assert_false(mp_valid(bad[k], strlen(bad[k])));
	assert_false(mp_valid("op=a\0b\n", 7));
}

/* The last line without its newline is still read, and nothing past the end. */
static void test_get_unterminated(void **state)
{
	char text[] = "op=a\nname=bcd";
	char buf[16];

	(void)state;
	assert_string_equal(mp_get(text, strlen(text), "name", buf, sizeof(buf)), "bcd");
	assert_string_equal(mp_get(text, 11, "name", buf, sizeof(buf)), "b");
	assert_null(mp_get(text, 9, "name", buf, sizeof(buf)));
}

static void test_frames(void **state)
{
	int sv[2];
	uint16_t type;
	char *payload;
	size_t len;
	uint8_t hdr[VX_HDR_SIZE];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(mp_send(sv[0], MP_REQUEST, "op=vm-list\n", 11), 0);
	assert_int_equal(mp_recv(sv[1], &type, &payload, &len, 1000), 0);
	assert_int_equal(type, MP_REQUEST);
	assert_int_equal(len, 11);
	assert_string_equal(payload, "op=vm-list\n");
	free(payload);
	/* Nothing comes: the deadline. */
	assert_int_equal(mp_recv(sv[1], &type, &payload, &len, 50), -ETIMEDOUT);
	/* A peer that announces more than MP_MAX is cut off before anything is taken. */
	vx_put_hdr(hdr, MP_REPLY, 0, MP_MAX + 1);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(mp_recv(sv[1], &type, &payload, &len, 1000), -EPROTO);
	/* One that ends in the middle of a frame. */
	vx_put_hdr(hdr, MP_REPLY, 0, 10);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(write(sv[0], "ok=1", 4), 4);
	close(sv[0]);
	assert_int_equal(mp_recv(sv[1], &type, &payload, &len, 1000), -EPIPE);
	assert_int_equal(mp_send(sv[1], MP_REQUEST, "x", MP_MAX + 1), -EMSGSIZE);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_and_get),
	    cmocka_unit_test(test_newline_fails_message),
	    cmocka_unit_test(test_too_big_fails_message),
	    cmocka_unit_test(test_numbers_refused),
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_get_unterminated),
	    cmocka_unit_test(test_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
