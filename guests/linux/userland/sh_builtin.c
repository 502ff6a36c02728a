// SPDX-License-Identifier: BSD-2-Clause
/* Builtins: the commands that change the shell itself (cd, exit, export, ...). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sh.h"

static int bi_cd(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("HOME");

	if (!dir || !*dir)
		dir = "/";
	if (chdir(dir) != 0) {
		fprintf(stderr, "sh: cd: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	char cwd[PATH_MAX];

	if (getcwd(cwd, sizeof(cwd)))
		setenv("PWD", cwd, 1);
	return 0;
}

static int bi_pwd(int argc, char **argv)
{
	char cwd[PATH_MAX];

	(void)argc;
	(void)argv;
	if (!getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "sh: pwd: %s\n", strerror(errno));
		return 1;
	}
	puts(cwd);
	return 0;
}

static int bi_exit(int argc, char **argv)
{
	int status = sh_status;

	if (argc > 1) {
		char *end;
		long v = strtol(argv[1], &end, 10);

		if (*end || end == argv[1]) {
			fprintf(stderr, "sh: exit: %s: numeric argument required\n", argv[1]);
			v = 2;
		}
		status = (int)(v & 0xff);
	}
	fflush(stdout);
	exit(status);
}

/* All variables are environment variables, so export only assigns. */
static int bi_export(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		if (strchr(argv[i], '=') && sh_is_assignment(argv[i])) {
			putenv(strdup(argv[i]));
		} else if (!strchr(argv[i], '=')) {
			continue; /* "export NAME": already visible to children */
		} else {
			fprintf(stderr, "sh: export: '%s': not a valid name\n", argv[i]);
			status = 1;
		}
	}
	return status;
}

static int bi_unset(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		unsetenv(argv[i]);
	return 0;
}

struct sh_builtin_entry {
	const char *name;
	sh_builtin_fn fn;
};

static const struct sh_builtin_entry sh_builtins[] = {
    {"cd", bi_cd}, {"pwd", bi_pwd}, {"exit", bi_exit}, {"export", bi_export}, {"unset", bi_unset},
};

sh_builtin_fn sh_find_builtin(const char *name)
{
	for (size_t i = 0; i < sizeof(sh_builtins) / sizeof(sh_builtins[0]); i++) {
		if (strcmp(sh_builtins[i].name, name) == 0)
			return sh_builtins[i].fn;
	}
	return NULL;
}
