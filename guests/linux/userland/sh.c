// SPDX-License-Identifier: BSD-2-Clause
/*
 * vireo sh, the entry point: "sh -c 'cmds'", "sh FILE", or interactive on a
 * terminal (prompt "vireo# ") or non-interactive on any other standard input.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sh.h"

#define PROMPT "vireo# "

static int sh_from_file(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, f) >= 0)
		sh_run_line(line);
	free(line);
	return sh_status;
}

static int sh_interactive(void)
{
	char *line;

	/* ^C and ^\ are for the command in front, never for the shell itself. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	/* Without job control a stopped command would hang the shell: ^Z does nothing. */
	signal(SIGTSTP, SIG_IGN);
	sh_edit_init();
	while ((line = sh_edit_read(PROMPT)) != NULL) {
		sh_run_line(line);
		free(line);
	}
	fputs("exit\n", stderr);
	return sh_status;
}

static int sh_usage(void)
{
	fputs("usage: sh [-c COMMANDS | FILE]\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	/* Commands are found in /bin when nobody said otherwise. */
	setenv("PATH", "/bin", 0);
	if (argc > 1 && strcmp(argv[1], "-c") == 0) {
		if (argc < 3)
			return sh_usage();
		return sh_run_line(argv[2]);
	}
	if (argc > 1) {
		FILE *f = fopen(argv[1], "r");

		if (!f) {
			perror(argv[1]);
			return 127;
		}
		int status = sh_from_file(f);

		fclose(f);
		return status;
	}
	if (isatty(0))
		return sh_interactive();
	return sh_from_file(stdin);
}
