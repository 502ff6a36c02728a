// SPDX-License-Identifier: BSD-2-Clause
/* Helpers shared by the toolbox commands: messages, flags, sizes, copying. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolbox.h"

int tb_perror(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", tb_name, what, strerror(errno));
	return 1;
}

int tb_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tb_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int tb_flags(int argc, char **argv, const char *known, bool flags[128])
{
	int i;

	memset(flags, 0, 128 * sizeof(flags[0]));
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1;
		for (const char *c = argv[i] + 1; *c; c++) {
			if ((unsigned char)*c >= 128 || !strchr(known, *c)) {
				tb_error("invalid option -- '%c'", *c);
				return -1;
			}
			flags[(int)*c] = true;
		}
	}
	return i;
}

struct tb_suffix {
	const char *text;
	uint64_t mult;
};

/* Longest suffixes first so "kB" is not read as "k" followed by junk. */
static const struct tb_suffix tb_suffixes[] = {
    {"kB", 1000},     {"MB", 1000000}, {"GB", 1000000000}, {"KiB", 1024}, {"MiB", 1 << 20},
    {"GiB", 1 << 30}, {"c", 1},	       {"w", 2},	   {"b", 512},	  {"k", 1024},
    {"K", 1024},      {"M", 1 << 20},  {"G", 1 << 30},	   {"", 1},
};

bool tb_parse_size(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);

	if (errno)
		return false;
	for (size_t i = 0; i < sizeof(tb_suffixes) / sizeof(tb_suffixes[0]); i++) {
		if (strcmp(end, tb_suffixes[i].text) == 0) {
			if (n > UINT64_MAX / tb_suffixes[i].mult)
				return false;
			*out = n * tb_suffixes[i].mult;
			return true;
		}
	}
	return false;
}

bool tb_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool tb_copy_fd(int in, int out)
{
	char buf[16384];

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (n == 0)
			return true;
		if (!tb_write_all(out, buf, (size_t)n))
			return false;
	}
}
