// SPDX-License-Identifier: BSD-2-Clause
/*
 * The C library's side of tests/integration/test_exec.py: each scenario
 * boots VMs through libvireo.so and checks what it gets, printing one line
 * and exiting 0 when all is as it should be, 1 (with the reason) otherwise.
 *
 *   exec_driver [--bare] apart | codes | signal | eof | notfound |
 *               cat MIB | copies DIR | flood MIB | hostile garbage|noise
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vireo.h>

static bool bare;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("exec_driver: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static struct vireo_cmd *command(const char *const *argv, bool pipes)
{
	struct vireo_cmd *cmd = vireo_cmd_new(argv[0]);

	if (!cmd)
		die("vireo_cmd_new: %s", vireo_last_error());
	for (int i = 1; argv[i]; i++)
		if (vireo_cmd_arg(cmd, argv[i]))
			die("vireo_cmd_arg: %s", vireo_last_error());
	for (int s = 0; pipes && s < 3; s++)
		vireo_cmd_stdio(cmd, s, VIREO_PIPE, -1);
	if (bare)
		vireo_cmd_mode(cmd, VIREO_MODE_BARE);
	return cmd;
}

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

static int run(const char *const *argv, const char *input, struct vireo_output *out,
	       struct vireo_status *st)
{
	struct vireo_cmd *cmd = command(argv, true);
	int code = vireo_run(cmd, input, input ? strlen(input) : 0, out, st);

	if (code < 0)
		die("vireo_run: %s", vireo_last_error());
	vireo_cmd_free(cmd);
	return code;
}

static void apart(void)
{
	struct vireo_output out;
	struct vireo_status st;
	int code =
	    run(ARGV("sh", "-c", "echo out; echo err >&2; echo more; exit 3"), NULL, &out, &st);

	if (code != 3 || strcmp(out.out, "out\nmore\n") || strcmp(out.err, "err\n"))
		die("apart: code %d, stdout '%s', stderr '%s' (%s)", code, out.out, out.err,
		    st.message);
	vireo_output_free(&out);
}

static void codes(void)
{
	static const int want[] = {0, 1, 7, 255};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char script[16];
		struct vireo_status st;
		int code;

		snprintf(script, sizeof(script), "exit %d", want[i]);
		code = run(ARGV("sh", "-c", script), NULL, NULL, &st);
		if (code != want[i] || st.end != VIREO_EXITED)
			die("exit %d gave %d (%s)", want[i], code, st.message);
	}
}

static void signals(void)
{
	struct vireo_status st;
	struct vireo_cmd *cmd;
	struct vireo_child *child;
	char line[8] = "";
	int code = run(ARGV("sh", "-c", "kill -KILL $$"), NULL, NULL, &st), out;

	if (code != 137 || st.end != VIREO_SIGNALED || st.value != SIGKILL)
		die("kill -KILL gave %d", code);
	cmd = command(ARGV("sh", "-c", "trap 'exit 9' TERM; echo ready; while :; do sleep 1; done"),
		      true);
	if (vireo_spawn(cmd, &child))
		die("spawn: %s", vireo_last_error());
	vireo_cmd_free(cmd);
	out = vireo_child_fd(child, VIREO_STDOUT);
	if (read(out, line, 6) != 6 || strcmp(line, "ready\n"))
		die("no 'ready' from the program");
	vireo_child_signal(child, SIGTERM);
	code = vireo_child_wait(child, &st);
	if (code != 9)
		die("SIGTERM to the program gave %d (%s)", code, st.message);
	close(out);
	vireo_child_free(child);
}

static void eof(void)
{
	struct vireo_output out;
	int code = run(ARGV("sort"), "b\na\n", &out, NULL);

	if (code || strcmp(out.out, "a\nb\n"))
		die("sort gave %d, '%s'", code, out.out);
	vireo_output_free(&out);
}

static void notfound(void)
{
	struct vireo_status st;

	if (run(ARGV("no-such-program"), NULL, NULL, &st) != 127 || st.end != VIREO_NOT_FOUND)
		die("not found gave %d", st.code);
	if (run(ARGV("/etc/passwd"), NULL, NULL, &st) != 126 || st.end != VIREO_NOT_EXECUTABLE)
		die("not executable gave %d", st.code);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

/* MIB mebibytes of a pattern through cat, compared byte by byte. */
static void cat(size_t mib)
{
	struct vireo_cmd *cmd = command(ARGV("cat"), true);
	struct vireo_child *child;
	size_t total = mib << 20, sent = 0, got = 0;
	static uint8_t buf[1 << 16];
	int in, out, code;

	if (vireo_spawn(cmd, &child))
		die("spawn: %s", vireo_last_error());
	vireo_cmd_free(cmd);
	in = vireo_child_fd(child, VIREO_STDIN);
	out = vireo_child_fd(child, VIREO_STDOUT);
	fcntl(in, F_SETFL, O_NONBLOCK);
	while (out >= 0) {
		struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = in, .events = POLLOUT}};
		ssize_t n;

		if (poll(p, in >= 0 ? 2 : 1, 120000) <= 0)
			die("cat: nothing for 2 minutes (%zu sent, %zu back)", sent, got);
		if (in >= 0 && p[1].revents) {
			size_t k = total - sent < sizeof(buf) ? total - sent : sizeof(buf);

			for (size_t i = 0; i < k; i++)
				buf[i] = pattern(sent + i);
			n = write(in, buf, k);
			if (n > 0)
				sent += (size_t)n;
			if (sent == total) {
				close(in);
				in = -1;
			}
		}
		if (p[0].revents) {
			n = read(out, buf, sizeof(buf));
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != pattern(got + (size_t)i))
					die("cat: byte %zu differs", got + (size_t)i);
			got += (size_t)n;
		}
	}
	code = vireo_child_wait(child, NULL);
	if (code || got != total)
		die("cat: status %d, %zu of %zu bytes back", code, got, total);
	vireo_child_free(child);
}

static long rss_kib(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = atol(line + strlen(field) + 1);
	if (f)
		fclose(f);
	return v;
}

/* The guest writes MIB mebibytes as fast as it can; we read slowly at first: our memory
 * must not grow with what the guest is not allowed to send yet. */
static void flood(size_t mib)
{
	char count[32];
	struct vireo_cmd *cmd;
	struct vireo_child *child;
	static uint8_t buf[1 << 16];
	size_t got = 0;
	long before, after;
	ssize_t n;
	int out;

	snprintf(count, sizeof(count), "count=%zu", mib * 16);
	cmd = command(ARGV("dd", "if=/dev/zero", "bs=64k", count), false);
	vireo_cmd_stdio(cmd, VIREO_STDOUT, VIREO_PIPE, -1);
	vireo_cmd_stdio(cmd, VIREO_STDERR, VIREO_NULL, -1);
	if (vireo_spawn(cmd, &child))
		die("spawn: %s", vireo_last_error());
	vireo_cmd_free(cmd);
	out = vireo_child_fd(child, VIREO_STDOUT);
	before = rss_kib("VmRSS:");
	while ((n = read(out, buf, got < (8u << 20) ? 4096 : sizeof(buf))) > 0) {
		got += (size_t)n;
		if (got < (8u << 20)) {
			struct timespec ts = {0, 2 * 1000 * 1000};

			nanosleep(&ts, NULL); /* a slow reader: 2 MB/s */
		}
	}
	after = rss_kib("VmHWM:");
	if (vireo_child_wait(child, NULL) != 0 || got != mib << 20)
		die("flood: %zu of %zu bytes", got, mib << 20);
	vireo_child_free(child);
	printf("flood: %zu MiB read, resident %ld KiB before, at most %ld KiB\n", mib, before,
	       after);
	if (after - before > 16 * 1024)
		die("flood: memory grew by %ld KiB", after - before);
}

static void copies(const char *dir)
{
	char src[4096], dst[4096], file[4200];
	struct vireo_cmd *cmd;
	struct vireo_status st;
	FILE *f;
	int code;

	snprintf(src, sizeof(src), "%s/in", dir);
	snprintf(dst, sizeof(dst), "%s/out", dir);
	mkdir(src, 0755);
	snprintf(file, sizeof(file), "%s/hello.txt", src);
	f = fopen(file, "w");
	if (!f)
		die("%s", file);
	fputs("hello from the host\n", f);
	fclose(f);
	cmd = command(ARGV("sh", "-c", "tr a-z A-Z < /data/hello.txt > /data/HELLO.txt"), false);
	vireo_cmd_copy_in(cmd, src, "/data");
	vireo_cmd_copy_out(cmd, "/data", dst);
	code = vireo_run(cmd, NULL, 0, NULL, &st);
	vireo_cmd_free(cmd);
	snprintf(file, sizeof(file), "%s/HELLO.txt", dst);
	f = fopen(file, "r");
	if (code || !f || !fgets(src, sizeof(src), f) || strcmp(src, "HELLO FROM THE HOST\n"))
		die("copies: status %d (%s), %s", code, st.message, f ? "wrong text" : "no file");
	fclose(f);
}

static void hostile(const char *mode)
{
	struct vireo_cmd *cmd = command(ARGV("true"), false);
	char args[64];
	struct vireo_status st;

	snprintf(args, sizeof(args), "vireo.test=%s", mode);
	vireo_cmd_bootargs(cmd, args);
	if (vireo_run(cmd, NULL, 0, NULL, &st) != 125 || st.end != VIREO_FAILED)
		die("a hostile agent (%s) gave %d", mode, st.code);
	vireo_cmd_free(cmd);
	printf("hostile %s: %s\n", mode, st.message);
}

int main(int argc, char **argv)
{
	int i = 1;

	if (i < argc && strcmp(argv[i], "--bare") == 0) {
		bare = true;
		i++;
	}
	if (i >= argc)
		die("which scenario?");
	if (!strcmp(argv[i], "apart"))
		apart();
	else if (!strcmp(argv[i], "codes"))
		codes();
	else if (!strcmp(argv[i], "signal"))
		signals();
	else if (!strcmp(argv[i], "eof"))
		eof();
	else if (!strcmp(argv[i], "notfound"))
		notfound();
	else if (!strcmp(argv[i], "cat") && i + 1 < argc)
		cat((size_t)atol(argv[i + 1]));
	else if (!strcmp(argv[i], "flood") && i + 1 < argc)
		flood((size_t)atol(argv[i + 1]));
	else if (!strcmp(argv[i], "copies") && i + 1 < argc)
		copies(argv[i + 1]);
	else if (!strcmp(argv[i], "hostile") && i + 1 < argc)
		hostile(argv[i + 1]);
	else
		die("unknown scenario '%s'", argv[i]);
	printf("%s: ok\n", argv[i]);
	return 0;
}
