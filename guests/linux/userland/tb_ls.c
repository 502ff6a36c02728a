// SPDX-License-Identifier: BSD-2-Clause
/* ls [-l] [-a] [-d] [PATH...]: one name per line, sorted; -l for details. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "toolbox.h"

struct ls_opts {
	bool all;
	bool longfmt;
	bool dir_itself;
};

static char ls_type_char(mode_t m)
{
	if (S_ISDIR(m))
		return 'd';
	if (S_ISLNK(m))
		return 'l';
	if (S_ISCHR(m))
		return 'c';
	if (S_ISBLK(m))
		return 'b';
	if (S_ISFIFO(m))
		return 'p';
	if (S_ISSOCK(m))
		return 's';
	return '-';
}

static void ls_mode_string(mode_t m, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = ls_type_char(m);
	for (int i = 0; i < 9; i++)
		out[i + 1] = (m & (0400 >> i)) ? rwx[i] : '-';
	/* setuid, setgid and sticky replace the x of their triplet. */
	if (m & S_ISUID)
		out[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		out[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		out[9] = (m & S_IXOTH) ? 't' : 'T';
	out[10] = '\0';
}

static void ls_long(const char *path, const char *name, const struct stat *st)
{
	char mode[11];
	char when[32];
	struct tm tm;

	ls_mode_string(st->st_mode, mode);
	localtime_r(&st->st_mtime, &tm);
	strftime(when, sizeof(when), "%b %e %H:%M", &tm);
	printf("%s %3lu %4u %4u ", mode, (unsigned long)st->st_nlink, (unsigned)st->st_uid,
	       (unsigned)st->st_gid);
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		printf("%4u, %4u ", major(st->st_rdev), minor(st->st_rdev));
	else
		printf("%10lld ", (long long)st->st_size);
	printf("%s %s", when, name);
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		if (n >= 0) {
			target[n] = '\0';
			printf(" -> %s", target);
		}
	}
	putchar('\n');
}

/* Prints one entry; `path` is where to stat it, `name` what to show. */
static int ls_entry(const char *path, const char *name, const struct ls_opts *o)
{
	struct stat st;

	if (!o->longfmt) {
		puts(name);
		return 0;
	}
	if (lstat(path, &st) != 0)
		return tb_perror(path);
	ls_long(path, name, &st);
	return 0;
}

static int ls_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the names of a directory into a sorted, malloc'd array. */
static char **ls_read_dir(const char *path, bool all, size_t *count)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (!all && de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **grown = realloc(names, cap * sizeof(*names));

			if (!grown)
				break;
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	*count = n;
	if (!names) /* an empty directory: still a valid (empty) listing */
		return calloc(1, sizeof(*names));
	qsort(names, n, sizeof(*names), ls_cmp);
	return names;
}

static int ls_dir(const char *path, const struct ls_opts *o)
{
	size_t n = 0;
	int status = 0;
	char **names = ls_read_dir(path, o->all, &n);

	if (!names)
		return tb_perror(path);
	for (size_t i = 0; i < n; i++) {
		char child[PATH_MAX];

		snprintf(child, sizeof(child), "%s/%s", path, names[i]);
		status |= ls_entry(child, names[i], o);
		free(names[i]);
	}
	free(names);
	return status;
}

static bool ls_is_dir(const char *path, const struct ls_opts *o)
{
	struct stat st;

	return !o->dir_itself && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A file operand: shown as named. Missing operands are "serious trouble" (2), as in coreutils. */
static int ls_file_operand(const char *path, const struct ls_opts *o)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		tb_perror(path);
		return 2;
	}
	return ls_entry(path, path, o);
}

/* Files first, then each directory under a "name:" header when there are several operands. */
int tb_ls(int argc, char **argv)
{
	bool flags[128];
	int first = tb_flags(argc, argv, "lad1", flags);
	int status = 0, shown = 0;

	if (first < 0)
		return 2;

	struct ls_opts o = {.all = flags['a'], .longfmt = flags['l'], .dir_itself = flags['d']};

	if (first == argc)
		return ls_dir(".", &o);
	for (int i = first; i < argc; i++) {
		if (ls_is_dir(argv[i], &o))
			continue;
		int rc = ls_file_operand(argv[i], &o);

		status = rc > status ? rc : status;
		shown += rc == 0;
	}
	for (int i = first; i < argc; i++) {
		if (!ls_is_dir(argv[i], &o))
			continue;
		if (argc - first > 1)
			printf("%s%s:\n", shown++ ? "\n" : "", argv[i]);
		int rc = ls_dir(argv[i], &o);

		status = rc > status ? rc : status;
	}
	return status;
}
