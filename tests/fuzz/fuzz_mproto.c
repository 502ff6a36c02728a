// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the machine socket's messages as the daemon and
 * libvireo read them (tools/libvireo/mproto.c): any bytes from a client or a
 * daemon. Whatever comes, a value found is within the text, ends at its line,
 * fits the caller's buffer; text mp_valid() takes has only lines key=value;
 * and what mp_add() writes reads back the same.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mproto.h"
#include "fuzz_check.h"

static const char *const keys[] = {"op", "name", "memory", "status", "vm", "n", "a"};

static void lookups(const char *text, size_t len, size_t bufsize)
{
	char buf[40];
	uint64_t u;
	int64_t i;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (unsigned n = 0; n < 3; n++) {
			const char *v = mp_get_nth(text, len, keys[k], n, buf, bufsize);

			if (v) {
				FUZZ_CHECK(v == buf && strlen(v) < bufsize);
				FUZZ_CHECK(!strchr(v, '\n'));
				FUZZ_CHECK(memmem(text, len, v, strlen(v)));
			}
		}
		mp_get_u64(text, len, keys[k], &u);
		mp_get_i64(text, len, keys[k], &i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: a read past the end is ASan's to see. */
	char *text = malloc(size ? size : 1);
	struct mp_msg m;
	char buf[40];

	memcpy(text, data, size);
	lookups(text, size, size % 40 + 1);
	if (mp_valid(text, size)) {
		FUZZ_CHECK(size == 0 || text[size - 1] == '\n');
		FUZZ_CHECK(!memchr(text, '\0', size));
	}
	/* The first line's bytes (up to a NUL or newline) as a value: it reads back whole. */
	size_t vlen = 0;

	while (vlen < size && vlen < 30 && text[vlen] && text[vlen] != '\n')
		vlen++;
	memcpy(buf, text, vlen);
	buf[vlen] = '\0';
	mp_init(&m);
	mp_add(&m, "op", "x");
	mp_add(&m, "name", "%s", buf);
	FUZZ_CHECK(!m.failed && mp_valid(m.text, m.len));
	FUZZ_CHECK(!strcmp(mp_get(m.text, m.len, "name", (char[40]){0}, 40), buf));
	mp_free(&m);
	free(text);
	return 0;
}
