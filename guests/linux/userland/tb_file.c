// SPDX-License-Identifier: BSD-2-Clause
/* File commands: cat, cp, mv, ln, rm, mkdir, rmdir, touch. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "toolbox.h"

static int cat_one(const char *path)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);

	if (fd < 0)
		return tb_perror(path);
	bool ok = tb_copy_fd(fd, 1);
	int err = errno;

	if (fd != 0)
		close(fd);
	errno = err;
	return ok ? 0 : tb_perror(path);
}

int tb_cat(int argc, char **argv)
{
	int status = 0;

	if (argc < 2)
		return cat_one("-");
	for (int i = 1; i < argc; i++)
		status |= cat_one(argv[i]);
	return status;
}

/* If dst is a directory, the target is dst/basename(src), as cp and mv do. */
static const char *target_path(const char *src, const char *dst, char *buf, size_t size)
{
	struct stat st;

	if (stat(dst, &st) != 0 || !S_ISDIR(st.st_mode))
		return dst;
	const char *base = strrchr(src, '/');

	snprintf(buf, size, "%s/%s", dst, base ? base + 1 : src);
	return buf;
}

static int cp_one(const char *src, const char *dst)
{
	char buf[PATH_MAX];
	struct stat st;
	int in = open(src, O_RDONLY);

	if (in < 0)
		return tb_perror(src);
	if (fstat(in, &st) != 0) {
		int err = errno;

		close(in);
		errno = err;
		return tb_perror(src);
	}
	if (S_ISDIR(st.st_mode)) {
		close(in);
		return tb_error("%s: is a directory (no -r)", src);
	}
	dst = target_path(src, dst, buf, sizeof(buf));
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);

	if (out < 0) {
		close(in);
		return tb_perror(dst);
	}
	bool ok = tb_copy_fd(in, out);
	int err = errno;

	close(in);
	if (close(out) != 0 && ok) {
		ok = false;
		err = errno;
	}
	errno = err;
	return ok ? 0 : tb_perror(dst);
}

int tb_cp(int argc, char **argv)
{
	int status = 0;

	if (argc < 3)
		return tb_error("usage: cp SRC... DST");
	for (int i = 1; i < argc - 1; i++)
		status |= cp_one(argv[i], argv[argc - 1]);
	return status;
}

int tb_mv(int argc, char **argv)
{
	char buf[PATH_MAX];
	int status = 0;

	if (argc < 3)
		return tb_error("usage: mv SRC... DST");
	for (int i = 1; i < argc - 1; i++) {
		const char *dst = target_path(argv[i], argv[argc - 1], buf, sizeof(buf));

		/* rename(2) only: moving across file systems is not worth a copy here. */
		if (rename(argv[i], dst) != 0)
			status |= tb_perror(argv[i]);
	}
	return status;
}

int tb_ln(int argc, char **argv)
{
	bool flags[128];
	char buf[PATH_MAX];
	int i = tb_flags(argc, argv, "sf", flags);

	if (i < 0 || argc - i != 2)
		return tb_error("usage: ln [-s] [-f] TARGET LINK");
	const char *name = target_path(argv[i], argv[i + 1], buf, sizeof(buf));

	if (flags['f'])
		unlink(name);
	int rc = flags['s'] ? symlink(argv[i], name) : link(argv[i], name);

	return rc == 0 ? 0 : tb_perror(name);
}

static int rm_path(const char *path, bool recursive, bool force);

static int rm_dir_contents(const char *path, bool force)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int status = 0;

	if (!d)
		return tb_perror(path);
	while ((de = readdir(d)) != NULL) {
		char child[PATH_MAX];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		status |= rm_path(child, true, force);
	}
	closedir(d);
	return status;
}

static int rm_path(const char *path, bool recursive, bool force)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return force && errno == ENOENT ? 0 : tb_perror(path);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) == 0 ? 0 : tb_perror(path);
	if (!recursive)
		return tb_error("%s: is a directory", path);
	int status = rm_dir_contents(path, force);

	if (rmdir(path) != 0)
		status |= tb_perror(path);
	return status;
}

int tb_rm(int argc, char **argv)
{
	bool flags[128];
	int status = 0;
	int i = tb_flags(argc, argv, "rRf", flags);

	if (i < 0)
		return 1;
	if (i == argc && !flags['f'])
		return tb_error("usage: rm [-rf] FILE...");
	for (; i < argc; i++)
		status |= rm_path(argv[i], flags['r'] || flags['R'], flags['f']);
	return status;
}

/* mkdir -p: create each missing component, left to right. */
static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return tb_perror(path);
	}
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return tb_perror(buf);
		if (saved == '\0')
			return 0;
		*p = saved;
	}
}

int tb_mkdir(int argc, char **argv)
{
	bool flags[128];
	int status = 0;
	int i = tb_flags(argc, argv, "p", flags);

	if (i < 0 || i == argc)
		return tb_error("usage: mkdir [-p] DIR...");
	for (; i < argc; i++) {
		if (flags['p'])
			status |= mkdir_parents(argv[i]);
		else if (mkdir(argv[i], 0777) != 0)
			status |= tb_perror(argv[i]);
	}
	return status;
}

int tb_rmdir(int argc, char **argv)
{
	int status = 0;

	if (argc < 2)
		return tb_error("usage: rmdir DIR...");
	for (int i = 1; i < argc; i++) {
		if (rmdir(argv[i]) != 0)
			status |= tb_perror(argv[i]);
	}
	return status;
}

int tb_touch(int argc, char **argv)
{
	int status = 0;

	if (argc < 2)
		return tb_error("usage: touch FILE...");
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_WRONLY | O_CREAT | O_NOCTTY, 0666);

		/* Opening may fail on a directory; the time update below still works. */
		if (fd >= 0)
			close(fd);
		if (utimensat(AT_FDCWD, argv[i], NULL, 0) != 0)
			status |= tb_perror(argv[i]);
	}
	return status;
}
