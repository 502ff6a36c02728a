// SPDX-License-Identifier: BSD-2-Clause
/*
 * dd if= of= bs= count= skip= seek= conv=fsync,fdatasync,notrunc
 * iflag=/oflag=direct,sync,dsync status=none|noxfer. Each read(2) is one
 * record, full or partial, as in coreutils without iflag=fullblock; the
 * summary on stderr has the coreutils shape, with the rate always in MB/s
 * (10^6 bytes per second) so that benchmark scripts can parse it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "toolbox.h"

struct dd_opts {
	const char *in_path, *out_path;
	uint64_t bs, count, skip, seek;
	bool have_count, fsync, fdatasync, notrunc, quiet, noxfer;
	int iflags, oflags;
};

struct dd_stats {
	uint64_t full_in, part_in, full_out, part_out, bytes;
};

static bool dd_open_flags(char *list, int *flags)
{
	for (char *save, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "direct") == 0)
			*flags |= O_DIRECT;
		else if (strcmp(t, "sync") == 0)
			*flags |= O_SYNC;
		else if (strcmp(t, "dsync") == 0)
			*flags |= O_DSYNC;
		else
			return false;
	}
	return true;
}

static bool dd_conv(char *list, struct dd_opts *o)
{
	for (char *save, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "fsync") == 0)
			o->fsync = true;
		else if (strcmp(t, "fdatasync") == 0)
			o->fdatasync = true;
		else if (strcmp(t, "notrunc") == 0)
			o->notrunc = true;
		else
			return false;
	}
	return true;
}

static bool dd_number(const char *val, uint64_t *out, bool *seen)
{
	if (seen)
		*seen = true;
	return tb_parse_size(val, out);
}

static bool dd_key(const char *arg, char *val, struct dd_opts *o)
{
	if (strcmp(arg, "if") == 0)
		o->in_path = val;
	else if (strcmp(arg, "of") == 0)
		o->out_path = val;
	else if (strcmp(arg, "bs") == 0)
		return dd_number(val, &o->bs, NULL) && o->bs > 0;
	else if (strcmp(arg, "count") == 0)
		return dd_number(val, &o->count, &o->have_count);
	else if (strcmp(arg, "skip") == 0)
		return dd_number(val, &o->skip, NULL);
	else if (strcmp(arg, "seek") == 0)
		return dd_number(val, &o->seek, NULL);
	else if (strcmp(arg, "conv") == 0)
		return dd_conv(val, o);
	else if (strcmp(arg, "iflag") == 0)
		return dd_open_flags(val, &o->iflags);
	else if (strcmp(arg, "oflag") == 0)
		return dd_open_flags(val, &o->oflags);
	else if (strcmp(arg, "status") == 0 && strcmp(val, "none") == 0)
		o->quiet = true;
	else if (strcmp(arg, "status") == 0 && strcmp(val, "noxfer") == 0)
		o->noxfer = true;
	else
		return false;
	return true;
}

/* One KEY=VALUE operand; on failure the operand is left intact for the message. */
static bool dd_operand(char *arg, struct dd_opts *o)
{
	char *eq = strchr(arg, '=');

	if (!eq)
		return false;
	*eq = '\0';
	bool ok = dd_key(arg, eq + 1, o);

	*eq = '=';
	return ok;
}

static int dd_open_in(const struct dd_opts *o)
{
	if (!o->in_path)
		return 0;
	return open(o->in_path, O_RDONLY | o->iflags);
}

static int dd_open_out(const struct dd_opts *o)
{
	if (!o->out_path)
		return 1;
	int trunc = (o->notrunc || o->seek) ? 0 : O_TRUNC;

	return open(o->out_path, O_WRONLY | O_CREAT | trunc | o->oflags, 0666);
}

/* Skips input records: seek if the input can, read and drop them if not. */
static bool dd_skip(int fd, const struct dd_opts *o, char *buf)
{
	if (o->skip == 0 || lseek(fd, (off_t)(o->skip * o->bs), SEEK_CUR) >= 0)
		return true;
	for (uint64_t i = 0; i < o->skip; i++) {
		if (read(fd, buf, o->bs) < 0)
			return false;
	}
	return true;
}

/* Moves to the seek= offset; like coreutils, drops what lies beyond it unless notrunc. */
static bool dd_seek(int fd, const struct dd_opts *o)
{
	struct stat st;
	off_t off = (off_t)(o->seek * o->bs);

	if (o->seek == 0)
		return true;
	if (lseek(fd, off, SEEK_CUR) < 0)
		return false;
	if (!o->notrunc && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return ftruncate(fd, off) == 0;
	return true;
}

static ssize_t dd_read(int fd, char *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* The copy loop. Returns 0, or 1 after reporting a read or write error. */
static int dd_copy(int in, int out, const struct dd_opts *o, char *buf, struct dd_stats *s)
{
	while (!o->have_count || s->full_in + s->part_in < o->count) {
		ssize_t n = dd_read(in, buf, o->bs);

		if (n < 0)
			return tb_perror(o->in_path ? o->in_path : "standard input");
		if (n == 0)
			break;
		if ((uint64_t)n == o->bs)
			s->full_in++;
		else
			s->part_in++;
		if (!tb_write_all(out, buf, (size_t)n))
			return tb_perror(o->out_path ? o->out_path : "standard output");
		if ((uint64_t)n == o->bs)
			s->full_out++;
		else
			s->part_out++;
		s->bytes += (uint64_t)n;
	}
	return 0;
}

static void dd_report(const struct dd_opts *o, const struct dd_stats *s, double secs)
{
	if (o->quiet)
		return;
	fprintf(stderr, "%llu+%llu records in\n%llu+%llu records out\n",
		(unsigned long long)s->full_in, (unsigned long long)s->part_in,
		(unsigned long long)s->full_out, (unsigned long long)s->part_out);
	if (o->noxfer)
		return;
	double mbps = secs > 0 ? (double)s->bytes / secs / 1e6 : 0;

	fprintf(stderr, "%llu bytes copied, %g s, %.*f MB/s\n", (unsigned long long)s->bytes, secs,
		mbps >= 100 ? 0 : (mbps >= 10 ? 1 : 2), mbps);
}

static double dd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Opens both ends and copies; `buf` is page-aligned so that O_DIRECT works. */
static int dd_run(const struct dd_opts *o, char *buf)
{
	struct dd_stats s = {0};
	int in = dd_open_in(o);

	if (in < 0)
		return tb_perror(o->in_path);
	int out = dd_open_out(o);

	if (out < 0)
		return tb_perror(o->out_path);
	if (!dd_skip(in, o, buf))
		return tb_perror(o->in_path ? o->in_path : "skip");
	if (!dd_seek(out, o))
		return tb_perror(o->out_path ? o->out_path : "seek");

	double start = dd_now();
	int status = dd_copy(in, out, o, buf, &s);

	if (status == 0 && o->fsync && fsync(out) != 0)
		status = tb_perror("fsync");
	if (status == 0 && o->fdatasync && fdatasync(out) != 0)
		status = tb_perror("fdatasync");
	if (out != 1 && close(out) != 0 && status == 0)
		status = tb_perror(o->out_path);
	dd_report(o, &s, dd_now() - start);
	if (in != 0)
		close(in);
	return status;
}

int tb_dd(int argc, char **argv)
{
	struct dd_opts o = {.bs = 512};
	void *buf;

	for (int i = 1; i < argc; i++) {
		if (!dd_operand(argv[i], &o))
			return tb_error("invalid operand '%s'", argv[i]);
	}
	if (o.bs > (64u << 20))
		return tb_error("bs too large (at most 64M)");
	if (posix_memalign(&buf, 4096, o.bs) != 0)
		return tb_error("cannot allocate %llu bytes", (unsigned long long)o.bs);
	int status = dd_run(&o, buf);

	free(buf);
	return status;
}
