// SPDX-License-Identifier: BSD-2-Clause
/* cmp FILE1 FILE2: exit 0 if the files hold the same bytes, 1 (and where) if not. */
#include <stdio.h>
#include <string.h>

#include "toolbox.h"

static int first_difference(FILE *a, FILE *b, const char *name_a, const char *name_b)
{
	unsigned long long offset = 1;

	for (;; offset++) {
		int ca = getc(a), cb = getc(b);
		if (ca == EOF && cb == EOF)
			return 0;
		if (ca == EOF || cb == EOF) {
			printf("cmp: EOF on %s after byte %llu\n", ca == EOF ? name_a : name_b,
			       offset - 1);
			return 1;
		}
		if (ca != cb) {
			printf("%s %s differ: byte %llu\n", name_a, name_b, offset);
			return 1;
		}
	}
}

int tb_cmp(int argc, char **argv)
{
	if (argc != 3)
		return tb_error("usage: cmp FILE1 FILE2");
	FILE *a = fopen(argv[1], "rb");
	if (!a) {
		tb_perror(argv[1]);
		return 2;
	}
	FILE *b = fopen(argv[2], "rb");
	if (!b) {
		fclose(a);
		tb_perror(argv[2]);
		return 2;
	}
	int status = first_difference(a, b, argv[1], argv[2]);
	fclose(a);
	fclose(b);
	return status;
}
