// SPDX-License-Identifier: BSD-2-Clause
/* Small system commands: echo, true, false, sync, sleep, uname, dmesg. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "toolbox.h"

/* syslog(2) actions, from linux/kernel/printk: glibc names none of them. */
#define KLOG_READ_ALL	 3
#define KLOG_READ_CLEAR	 4
#define KLOG_SIZE_BUFFER 10

int tb_echo(int argc, char **argv)
{
	bool newline = true;
	int i = 1;

	if (argc > 1 && strcmp(argv[1], "-n") == 0) {
		newline = false;
		i++;
	}
	for (int first = i; i < argc; i++) {
		if (i > first)
			putchar(' ');
		fputs(argv[i], stdout);
	}
	if (newline)
		putchar('\n');
	return fflush(stdout) == 0 ? 0 : tb_perror("write");
}

int tb_true(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int tb_false(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 1;
}

int tb_sync(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sync();
	return 0;
}

/* "1.5", "2m", "0.1h": seconds with an optional s/m/h/d unit. */
static bool sleep_parse(const char *s, double *secs)
{
	char *end;

	errno = 0;
	double v = strtod(s, &end);

	if (errno || end == s || v < 0 || !isfinite(v))
		return false;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		v *= 60;
		break;
	case 'h':
		v *= 3600;
		break;
	case 'd':
		v *= 86400;
		break;
	default:
		return false;
	}
	if (*end && end[1])
		return false;
	*secs = v;
	return true;
}

int tb_sleep(int argc, char **argv)
{
	double total = 0;

	if (argc < 2)
		return tb_error("usage: sleep SECONDS[smhd]...");
	for (int i = 1; i < argc; i++) {
		double v;

		if (!sleep_parse(argv[i], &v))
			return tb_error("invalid time interval '%s'", argv[i]);
		total += v;
	}
	struct timespec ts = {.tv_sec = (time_t)total};

	ts.tv_nsec = (long)((total - (double)ts.tv_sec) * 1e9);
	/* Restart after a signal with what is left, so a stray SIGCHLD does not cut it short. */
	while (nanosleep(&ts, &ts) != 0) {
		if (errno != EINTR)
			return tb_perror("nanosleep");
	}
	return 0;
}

int tb_uname(int argc, char **argv)
{
	bool f[128];
	struct utsname u;
	int i = tb_flags(argc, argv, "asnrvmo", f);

	if (i < 0 || i != argc)
		return tb_error("usage: uname [-asnrvmo]");
	if (uname(&u) != 0)
		return tb_perror("uname");
	if (f['a'])
		f['s'] = f['n'] = f['r'] = f['v'] = f['m'] = f['o'] = true;
	if (!f['s'] && !f['n'] && !f['r'] && !f['v'] && !f['m'] && !f['o'])
		f['s'] = true;

	const char *fields[] = {f['s'] ? u.sysname : NULL, f['n'] ? u.nodename : NULL,
				f['r'] ? u.release : NULL, f['v'] ? u.version : NULL,
				f['m'] ? u.machine : NULL, f['o'] ? "GNU/Linux" : NULL};
	bool first = true;

	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		if (!fields[k])
			continue;
		printf("%s%s", first ? "" : " ", fields[k]);
		first = false;
	}
	putchar('\n');
	return 0;
}

/* Drops the "<6>" log-level prefix the kernel puts on each record. */
static void dmesg_print(const char *buf, int len, bool raw)
{
	bool line_start = true;

	for (int i = 0; i < len; i++) {
		if (line_start && !raw && buf[i] == '<') {
			int j = i + 1;

			while (j < len && buf[j] >= '0' && buf[j] <= '9')
				j++;
			if (j < len && buf[j] == '>' && j > i + 1)
				i = j + 1;
			if (i >= len)
				break;
		}
		putchar(buf[i]);
		line_start = buf[i] == '\n';
	}
}

int tb_dmesg(int argc, char **argv)
{
	bool f[128];
	int i = tb_flags(argc, argv, "cr", f);

	if (i < 0 || i != argc)
		return tb_error("usage: dmesg [-c] [-r]");
	int size = klogctl(KLOG_SIZE_BUFFER, NULL, 0);

	if (size <= 0)
		size = 1 << 17;
	char *buf = malloc((size_t)size);

	if (!buf)
		return tb_perror("malloc");
	int n = klogctl(f['c'] ? KLOG_READ_CLEAR : KLOG_READ_ALL, buf, size);

	if (n < 0) {
		free(buf);
		return tb_perror("klogctl");
	}
	dmesg_print(buf, n, f['r']);
	free(buf);
	return 0;
}
