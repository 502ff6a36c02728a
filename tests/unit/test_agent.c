// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest agent (guests/linux/userland/agent.c) and libvireo
 * (tools/libvireo) against each other over a socketpair, both compiled for
 * the host: the agent runs in a forked process and starts real host
 * programs (sh, cat, sort, tar); the library speaks to it in its "connect"
 * mode, with no VM. Also the link protocol through a fake Vireo that relays
 * a channel the way docs/channel.md says Vireo does, and hostile peers on
 * both sides: an agent that sends garbage must cost the host a clean 125,
 * a host that sends garbage must be cut off by the agent.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <vireo/vx.h>

#include "agent.h"
#include "agent_host.h"
#include "agent_proto.h"
#include "vireo.h"

struct agent_proc {
	pid_t pid;
	int fd; /* the host's end */
};

static char tmp_dir[64]; /* short: every path below fits its buffer */

static void start_agent(struct agent_proc *a)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	a->pid = fork();
	assert_true(a->pid >= 0);
	if (a->pid == 0) {
		static const char *const env[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", "LC_ALL=C",
						  NULL};
		const struct agent_opts o = {
		    .env = env, .cwd = "/tmp", .tar = "tar", .hello = "the unit test's agent"};

		close(sv[0]);
		_exit((int)agent_serve(sv[1], &o, NULL));
	}
	close(sv[1]);
	a->fd = sv[0];
}

/* The agent's result (enum agent_result), once the host is done with it. */
static int end_agent(struct agent_proc *a)
{
	int st;

	close(a->fd);
	assert_int_equal(waitpid(a->pid, &st, 0), a->pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static struct vireo_cmd *cmd_on(int fd, bool link, const char *const *argv)
{
	struct vireo_cmd *cmd = vireo_cmd_new(argv[0]);

	assert_non_null(cmd);
	for (int i = 1; argv[i]; i++)
		assert_int_equal(vireo_cmd_arg(cmd, argv[i]), 0);
	assert_int_equal(vireo_cmd_connect(cmd, fd, link), 0);
	for (int s = 0; s < 3; s++)
		assert_int_equal(vireo_cmd_stdio(cmd, s, VIREO_PIPE, -1), 0);
	return cmd;
}

/* Run argv on a fresh agent, stdin from `input`, capturing stdout and stderr. */
static int run_on_agent(const char *const *argv, const char *input, struct vireo_output *out,
			struct vireo_status *st)
{
	struct agent_proc a;
	struct vireo_cmd *cmd;
	int code;

	start_agent(&a);
	cmd = cmd_on(a.fd, false, argv);
	code = vireo_run(cmd, input, input ? strlen(input) : 0, out, st);
	vireo_cmd_free(cmd);
	assert_int_equal(end_agent(&a), AGENT_SHUTDOWN);
	return code;
}

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ------------------------------------------------------------------ runs */

static void test_stdout_and_stderr_apart(void **state)
{
	struct vireo_output out;
	struct vireo_status st;

	(void)state;
	assert_int_equal(
	    run_on_agent(ARGV("sh", "-c", "echo out; echo err >&2; echo out2"), NULL, &out, &st),
	    0);
	assert_string_equal(out.out, "out\nout2\n");
	assert_string_equal(out.err, "err\n");
	assert_int_equal(st.end, VIREO_EXITED);
	vireo_output_free(&out);
}

static void test_exit_codes(void **state)
{
	static const int codes[] = {0, 1, 7, 255};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char script[32];
		struct vireo_status st;

		snprintf(script, sizeof(script), "exit %d", codes[i]);
		assert_int_equal(run_on_agent(ARGV("sh", "-c", script), NULL, NULL, &st), codes[i]);
		assert_int_equal(st.end, VIREO_EXITED);
		assert_int_equal(st.value, codes[i]);
	}
}

static void test_killed_by_signal(void **state)
{
	struct vireo_status st;

	(void)state;
	assert_int_equal(run_on_agent(ARGV("sh", "-c", "kill -TERM $$"), NULL, NULL, &st), 143);
	assert_int_equal(st.end, VIREO_SIGNALED);
	assert_int_equal(st.value, SIGTERM);
}

static void test_stdin_and_its_end(void **state)
{
	struct vireo_output out;

	(void)state;
	assert_int_equal(run_on_agent(ARGV("sort"), "b\na\n", &out, NULL), 0);
	assert_string_equal(out.out, "a\nb\n");
	vireo_output_free(&out);
	assert_int_equal(run_on_agent(ARGV("wc", "-c"), NULL, &out, NULL), 0);
	assert_string_equal(out.out, "0\n");
	vireo_output_free(&out);
}

static void test_not_found_and_not_executable(void **state)
{
	struct vireo_status st;
	char path[128];

	(void)state;
	assert_int_equal(run_on_agent(ARGV("no-such-program-here"), NULL, NULL, &st), 127);
	assert_int_equal(st.end, VIREO_NOT_FOUND);
	assert_non_null(strstr(st.message, "no-such-program-here"));
	assert_int_equal(run_on_agent(ARGV("/no/such/path"), NULL, NULL, &st), 127);
	snprintf(path, sizeof(path), "%s/plain", tmp_dir);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	assert_int_equal(run_on_agent(ARGV(path), NULL, NULL, &st), 126);
	assert_int_equal(st.end, VIREO_NOT_EXECUTABLE);
	assert_int_equal(run_on_agent(ARGV(tmp_dir), NULL, NULL, &st), 126);
}

static void test_env_and_cwd(void **state)
{
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_output out;
	char want[256], dir[128];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/made/here", tmp_dir);
	start_agent(&a);
	cmd = cmd_on(a.fd, false, ARGV("sh", "-c", "echo \"$GREETING $HOME\"; pwd"));
	assert_int_equal(vireo_cmd_env(cmd, "GREETING", "hello world"), 0);
	assert_int_equal(vireo_cmd_env(cmd, "HOME", "/nowhere"), 0);
	assert_int_equal(vireo_cmd_cwd(cmd, dir), 0); /* created */
	/* Unused without a VM, but copied with the command at spawn (once a double free). */
	assert_int_equal(vireo_cmd_disk(cmd, "/dev/null", true), 0);
	assert_int_equal(vireo_run(cmd, NULL, 0, &out, NULL), 0);
	snprintf(want, sizeof(want), "hello world /nowhere\n%s\n", dir);
	assert_string_equal(out.out, want);
	vireo_output_free(&out);
	vireo_cmd_free(cmd);
	assert_int_equal(end_agent(&a), AGENT_SHUTDOWN);
}

static void test_pseudo_terminal(void **state)
{
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_output out;

	(void)state;
	start_agent(&a);
	cmd = cmd_on(a.fd, false, ARGV("sh", "-c", "tty; stty size; echo err >&2"));
	assert_int_equal(vireo_cmd_tty(cmd, true, 30, 100), 0);
	assert_int_equal(vireo_run(cmd, NULL, 0, &out, NULL), 0);
	assert_non_null(strstr(out.out, "/dev/pts/"));
	assert_non_null(strstr(out.out, "30 100\r\n"));
	assert_non_null(strstr(out.out, "err\r\n")); /* one terminal for both */
	assert_int_equal(out.err_len, 0);
	vireo_output_free(&out);
	vireo_cmd_free(cmd);
	assert_int_equal(end_agent(&a), AGENT_SHUTDOWN);
}

/* Write `total` bytes of a pattern to the child's stdin while reading its stdout back. */
static void pump_through(struct vireo_child *child, size_t total, size_t *got, bool *same)
{
	int in = vireo_child_fd(child, VIREO_STDIN), out = vireo_child_fd(child, VIREO_STDOUT);
	static uint8_t buf[65536];
	size_t sent = 0;

	*got = 0;
	*same = true;
	assert_true(in >= 0 && out >= 0);
	fcntl(in, F_SETFL, O_NONBLOCK);
	while (out >= 0) {
		struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = in, .events = POLLOUT}};
		ssize_t n;

		assert_true(poll(p, in >= 0 ? 2 : 1, 30000) > 0);
		if (in >= 0 && (p[1].revents & (POLLOUT | POLLERR))) {
			size_t k = total - sent < sizeof(buf) ? total - sent : sizeof(buf);

			for (size_t i = 0; i < k; i++)
				buf[i] = (uint8_t)((sent + i) * 131 + 7);
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
			if (n <= 0) {
				close(out);
				out = -1;
				break;
			}
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != (uint8_t)((*got + (size_t)i) * 131 + 7))
					*same = false;
			*got += (size_t)n;
		}
	}
	if (in >= 0)
		close(in);
}

static void test_megabytes_through_cat(void **state)
{
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_child *child;
	size_t got;
	bool same;

	(void)state;
	start_agent(&a);
	cmd = cmd_on(a.fd, false, ARGV("cat"));
	assert_int_equal(vireo_spawn(cmd, &child), 0);
	vireo_cmd_free(cmd);
	pump_through(child, 16u << 20, &got, &same);
	assert_int_equal(got, 16u << 20);
	assert_true(same);
	assert_int_equal(vireo_child_wait(child, NULL), 0);
	vireo_child_free(child);
	assert_int_equal(end_agent(&a), AGENT_SHUTDOWN);
}

static void test_signal_reaches_program(void **state)
{
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_child *child;
	struct vireo_status st;
	char line[16] = "";
	int out;

	(void)state;
	start_agent(&a);
	cmd = cmd_on(
	    a.fd, false,
	    ARGV("sh", "-c", "trap 'exit 9' TERM; echo ready; while :; do sleep 0.05; done"));
	assert_int_equal(vireo_spawn(cmd, &child), 0);
	vireo_cmd_free(cmd);
	out = vireo_child_fd(child, VIREO_STDOUT);
	assert_int_equal(read(out, line, 6), 6);
	assert_string_equal(line, "ready\n");
	assert_true(vireo_child_pid(child) > 0);
	assert_int_equal(vireo_child_signal(child, SIGTERM), 0);
	assert_int_equal(vireo_child_wait(child, &st), 9);
	close(out);
	vireo_child_free(child);
	assert_int_equal(end_agent(&a), AGENT_SHUTDOWN);
}

static void test_reader_gone_is_a_broken_pipe(void **state)
{
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_child *child;
	struct vireo_status st;
	char buf[4096];
	int out;

	(void)state;
	start_agent(&a);
	cmd = cmd_on(a.fd, false, ARGV("yes"));
	assert_int_equal(vireo_spawn(cmd, &child), 0);
	vireo_cmd_free(cmd);
	out = vireo_child_fd(child, VIREO_STDOUT);
	assert_true(read(out, buf, sizeof(buf)) > 0);
	close(out);
	assert_int_equal(vireo_child_wait(child, &st), 128 + SIGPIPE);
	assert_int_equal(st.end, VIREO_SIGNALED);
	vireo_child_free(child);
	assert_int_equal(end_agent(&a), AGENT_SHUTDOWN);
}

static void test_time_limit(void **state)
{
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_status st;

	(void)state;
	start_agent(&a);
	cmd = cmd_on(a.fd, false, ARGV("sleep", "30"));
	assert_int_equal(vireo_cmd_time_limit(cmd, 300), 0);
	assert_int_equal(vireo_run(cmd, NULL, 0, NULL, &st), VIREO_EXIT_TIMEOUT);
	assert_int_equal(st.end, VIREO_TIMED_OUT);
	vireo_cmd_free(cmd);
	end_agent(&a); /* the host closed: the agent kills its program */
}

/* ------------------------------------------------------------------ copies */

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static char *read_file(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_copies_in_and_out(void **state)
{
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_output out;
	char src[128], p[256], guest[128], back[128], script[1024];
	struct stat st;

	(void)state;
	snprintf(src, sizeof(src), "%s/src", tmp_dir);
	snprintf(guest, sizeof(guest), "%s/guest", tmp_dir);
	snprintf(back, sizeof(back), "%s/back", tmp_dir);
	mkdir(src, 0755);
	snprintf(p, sizeof(p), "%s/sub", src);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a.txt", src);
	write_file(p, "alpha\n", 0640);
	snprintf(p, sizeof(p), "%s/sub/b.sh", src);
	write_file(p, "echo beta\n", 0755);
	mkdir(back, 0755);

	start_agent(&a);
	snprintf(script, sizeof(script),
		 "cat %s/tree/a.txt; sh %s/tree/sub/b.sh; cat %s/single.txt; "
		 "echo made > %s/tree/new.txt; echo result > %s/result.txt",
		 guest, guest, guest, guest, guest);
	cmd = cmd_on(a.fd, false, ARGV("sh", "-c", script));
	snprintf(p, sizeof(p), "%s/tree", guest);
	assert_int_equal(vireo_cmd_copy_in(cmd, src, p), 0);
	snprintf(p, sizeof(p), "%s/a.txt", src);
	snprintf(script, sizeof(script), "%s/single.txt", guest);
	assert_int_equal(vireo_cmd_copy_in(cmd, p, script), 0);
	snprintf(p, sizeof(p), "%s/tree", guest);
	assert_int_equal(vireo_cmd_copy_out(cmd, p, back), 0); /* into: back/tree */
	snprintf(p, sizeof(p), "%s/result.txt", guest);
	snprintf(script, sizeof(script), "%s/out.txt", back);
	assert_int_equal(vireo_cmd_copy_out(cmd, p, script), 0);
	assert_int_equal(vireo_run(cmd, NULL, 0, &out, NULL), 0);
	assert_string_equal(out.out, "alpha\nbeta\nalpha\n");
	vireo_output_free(&out);
	vireo_cmd_free(cmd);
	assert_int_equal(end_agent(&a), AGENT_SHUTDOWN);

	snprintf(p, sizeof(p), "%s/tree/new.txt", back);
	assert_string_equal(read_file(p), "made\n");
	snprintf(p, sizeof(p), "%s/tree/sub/b.sh", back);
	assert_string_equal(read_file(p), "echo beta\n");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	snprintf(p, sizeof(p), "%s/single.txt", guest);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640); /* the mode goes with the file */
	snprintf(p, sizeof(p), "%s/out.txt", back);
	assert_string_equal(read_file(p), "result\n");
}

static void test_failed_copies(void **state)
{
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_status st;

	(void)state;
	/* A source missing on the host: the program never runs. */
	start_agent(&a);
	cmd = cmd_on(a.fd, false, ARGV("true"));
	assert_int_equal(vireo_cmd_copy_in(cmd, "/no/such/file", "/tmp/x"), 0);
	assert_int_equal(vireo_run(cmd, NULL, 0, NULL, &st), VIREO_EXIT_FAILURE);
	assert_int_equal(st.end, VIREO_COPY_FAILED);
	vireo_cmd_free(cmd);
	end_agent(&a);
	/* Missing in the guest: a success that lost its result is 125. */
	start_agent(&a);
	cmd = cmd_on(a.fd, false, ARGV("true"));
	assert_int_equal(vireo_cmd_copy_out(cmd, "/no/such/file", "/tmp/x"), 0);
	assert_int_equal(vireo_run(cmd, NULL, 0, NULL, &st), VIREO_EXIT_FAILURE);
	assert_int_equal(st.end, VIREO_COPY_FAILED);
	assert_non_null(strstr(st.message, "/no/such/file"));
	vireo_cmd_free(cmd);
	assert_int_equal(end_agent(&a), AGENT_SHUTDOWN);
	/* ... and the program's own failure says more. */
	start_agent(&a);
	cmd = cmd_on(a.fd, false, ARGV("sh", "-c", "exit 3"));
	assert_int_equal(vireo_cmd_copy_out(cmd, "/no/such/file", "/tmp/x"), 0);
	assert_int_equal(vireo_run(cmd, NULL, 0, NULL, &st), 3);
	vireo_cmd_free(cmd);
	assert_int_equal(end_agent(&a), AGENT_SHUTDOWN);
}

/* ------------------------------------------------------------------ the link, through a fake Vireo
 */

/*
 * What Vireo does with a channel, minimally: LINK_HELLO, then LINK_OPEN and a
 * window for channel 1; LINK_DATA from the host into the agent's socket (and
 * the window granted again once written), the agent's bytes out as LINK_DATA
 * only within the host's window. It checks the host keeps to its windows.
 */
struct fake_vireo {
	int link, agent;
	uint32_t host_credit; /* what we may send the host */
	uint32_t host_window; /* what the host may still send us */
	bool host_hello;
	bool broken;   /* the host broke the link protocol */
	bool io_ended; /* a peer went away (at the end of every run) */
	pthread_t thread;
};

static void fv_send(struct fake_vireo *v, uint16_t type, uint16_t chan, const void *p, size_t n)
{
	uint8_t hdr[VX_HDR_SIZE];

	vx_put_hdr(hdr, type, chan, (uint32_t)n);
	if (write(v->link, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    (n && write(v->link, p, n) != (ssize_t)n))
		v->io_ended = true;
}

static void fv_send_u32(struct fake_vireo *v, uint16_t type, uint16_t chan, uint32_t x)
{
	uint8_t p[4];

	vx_put_u32(p, x);
	fv_send(v, type, chan, p, 4);
}

static bool fv_control(void *ctx, const struct vx_hdr *h, const uint8_t *p)
{
	struct fake_vireo *v = ctx;

	if (h->type == LINK_HELLO) {
		v->host_hello = true;
		fv_send(v, LINK_OPEN, 1, "\1\0\0\0exec", 8);
		/* Control-plane traffic the library does not ask for is no error. */
		fv_send(v, LINK_EVENT, 0, "\1\0\0\0\1\0\0\0", 8);
		fv_send_u32(v, LINK_CREDIT, 1, VX_WINDOW);
		v->host_window = VX_WINDOW;
	} else if (h->type == LINK_CREDIT && h->chan == 1) {
		v->host_credit += vx_get_u32(p);
	} else {
		v->broken = true;
	}
	return true;
}

static bool fv_data(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
		    size_t n, bool last)
{
	struct fake_vireo *v = ctx;

	(void)last;
	if (offset == 0) {
		if (h->chan != 1 || h->len > v->host_window || !v->host_hello)
			v->broken = true;
		v->host_window -= h->len;
	}
	for (size_t done = 0; done < n;) {
		ssize_t w = write(v->agent, bytes + done, n - done);

		if (w <= 0) {
			v->io_ended = true;
			return false;
		}
		done += (size_t)w;
	}
	if (n) {
		fv_send_u32(v, LINK_CREDIT, 1, (uint32_t)n);
		v->host_window += (uint32_t)n;
	}
	return true;
}

static void *fv_main(void *arg)
{
	static const struct vx_parser_ops ops = {fv_control, fv_data};
	struct fake_vireo *v = arg;
	struct vx_parser parser;
	uint8_t buf[65536];

	vx_parser_init(&parser, &ops, v, 1u << LINK_DATA);
	fv_send(v, LINK_HELLO, 0, "\1\0\0\0\0\0\0\0", 8);
	while (!v->broken && !v->io_ended) {
		struct pollfd p[2] = {{.fd = v->link, .events = POLLIN},
				      {.fd = v->agent, .events = v->host_credit ? POLLIN : 0}};
		ssize_t n;

		if (poll(p, 2, 30000) <= 0)
			break;
		if (p[0].revents) {
			n = read(v->link, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (vx_parser_feed(&parser, buf, (size_t)n) != (size_t)n && !v->io_ended)
				v->broken = true;
		}
		if (p[1].revents) {
			size_t max = v->host_credit < sizeof(buf) ? v->host_credit : sizeof(buf);

			n = read(v->agent, buf, max);
			if (n <= 0) {
				fv_send(v, LINK_CLOSE, 1, NULL, 0);
				fv_send(v, LINK_VM_EXIT, 1, "\0\0\0\0shutdown", 12);
				break;
			}
			fv_send(v, LINK_DATA, 1, buf, (size_t)n);
			v->host_credit -= (uint32_t)n;
		}
	}
	shutdown(v->link, SHUT_RDWR);
	return NULL;
}

/* A fake Vireo in front of a fresh agent; the host's end of the link in *link. */
static void start_fake_vireo(struct fake_vireo *v, struct agent_proc *a, int *link)
{
	int sv[2];

	memset(v, 0, sizeof(*v));
	start_agent(a);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	v->link = sv[0];
	v->agent = a->fd;
	*link = sv[1];
	assert_int_equal(pthread_create(&v->thread, NULL, fv_main, v), 0);
}

static void end_fake_vireo(struct fake_vireo *v, struct agent_proc *a)
{
	pthread_join(v->thread, NULL);
	close(v->link);
	assert_false(v->broken);
	assert_int_equal(end_agent(a), AGENT_SHUTDOWN);
}

static void test_link_protocol_through_fake_vireo(void **state)
{
	struct fake_vireo v;
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_output out;
	struct vireo_status st;
	int link;

	(void)state;
	start_fake_vireo(&v, &a, &link);
	cmd = cmd_on(link, true, ARGV("sh", "-c", "cat; echo err >&2; exit 4"));
	close(link);
	assert_int_equal(vireo_run(cmd, "through the link\n", 17, &out, &st), 4);
	assert_string_equal(out.out, "through the link\n");
	assert_string_equal(out.err, "err\n");
	vireo_output_free(&out);
	vireo_cmd_free(cmd);
	end_fake_vireo(&v, &a);
}

static void test_megabytes_through_the_link(void **state)
{
	struct fake_vireo v;
	struct agent_proc a;
	struct vireo_cmd *cmd;
	struct vireo_child *child;
	size_t got;
	bool same;
	int link;

	(void)state;
	start_fake_vireo(&v, &a, &link);
	cmd = cmd_on(link, true, ARGV("cat"));
	close(link);
	assert_int_equal(vireo_spawn(cmd, &child), 0);
	vireo_cmd_free(cmd);
	pump_through(child, 8u << 20, &got, &same);
	assert_int_equal(got, 8u << 20);
	assert_true(same);
	assert_int_equal(vireo_child_wait(child, NULL), 0);
	vireo_child_free(child);
	end_fake_vireo(&v, &a);
}

/* ------------------------------------------------------------------ a hostile agent */

static size_t frame(uint8_t *out, uint16_t type, uint16_t chan, const void *p, uint32_t len)
{
	vx_put_hdr(out, type, chan, len);
	if (len && p)
		memcpy(out + VX_HDR_SIZE, p, len);
	else if (len)
		memset(out + VX_HDR_SIZE, 'x', len);
	return VX_HDR_SIZE + len;
}

static size_t hello(uint8_t *out, uint32_t version)
{
	uint8_t p[8];

	vx_put_u32(p, version);
	memcpy(p + 4, "evil", 4);
	return frame(out, AG_HELLO, 0, p, 8);
}

/* A hostile agent: `before` at once, `after` once the host has sent AG_EXEC. */
struct hostile {
	int fd;
	const uint8_t *after;
	size_t after_len;
	bool close_after;
};

static void *hostile_main(void *arg)
{
	struct hostile *h = arg;
	static uint8_t buf[1 << 17];
	size_t have = 0, at = 0;
	bool exec_seen = h->after == NULL;
	ssize_t n;

	if (exec_seen && h->close_after)
		shutdown(h->fd, SHUT_WR);
	/* Read what the host says, frame by frame, until its AG_EXEC; then to its end. */
	while ((n = read(h->fd, buf + have, sizeof(buf) - have)) > 0) {
		have += (size_t)n;
		while (!exec_seen && have - at >= VX_HDR_SIZE) {
			uint32_t len = vx_get_u32(buf + at);

			if (vx_get_u16(buf + at + 4) == AG_EXEC) {
				exec_seen = true;
				if (write(h->fd, h->after, h->after_len) < 0)
					return NULL;
				if (h->close_after)
					shutdown(h->fd, SHUT_WR);
			}
			if (have - at < VX_HDR_SIZE + len)
				break;
			at += VX_HDR_SIZE + len;
		}
		if (have == sizeof(buf)) {
			have -= at;
			memmove(buf, buf + at, have);
			at = 0;
		}
	}
	return NULL;
}

/* The host meets a hostile agent: a clean 125, whatever it says. */
static void expect_cut_off2(const uint8_t *before, size_t nb, const uint8_t *after, size_t na,
			    bool close_after, const char *why)
{
	int sv[2];
	struct vireo_cmd *cmd;
	struct vireo_status st;
	struct hostile h = {.after = after, .after_len = na, .close_after = close_after};
	pthread_t t;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	h.fd = sv[1];
	assert_int_equal(write(sv[1], before, nb), (ssize_t)nb); /* small: the socket holds it */
	assert_int_equal(pthread_create(&t, NULL, hostile_main, &h), 0);
	cmd = cmd_on(sv[0], false, ARGV("true"));
	close(sv[0]);
	assert_int_equal(vireo_run(cmd, NULL, 0, NULL, &st), VIREO_EXIT_FAILURE);
	vireo_cmd_free(cmd);
	assert_int_equal(st.end, VIREO_FAILED);
	pthread_join(t, NULL);
	close(sv[1]);
	if (why && !strstr(st.message, why))
		fail_msg("'%s' does not say '%s'", st.message, why);
}

static void expect_cut_off(const uint8_t *bytes, size_t n, bool close_after, const char *why)
{
	expect_cut_off2(bytes, n, NULL, 0, close_after, why);
}

static void test_hostile_agent(void **state)
{
	static uint8_t b[200000], a[AH_WINDOW + 100000];
	uint8_t p[8];
	size_t n, k;

	(void)state;
	/* A frame longer than any allowed. */
	n = hello(b, 1);
	vx_put_hdr(b + n, AG_DATA, 2, 0x7fffffff);
	expect_cut_off(b, n + 8, false, "longer than");
	/* A control message longer than allowed. */
	n = hello(b, 1);
	vx_put_hdr(b + n, AG_ERROR, 0, 5000);
	expect_cut_off(b, n + 8, false, "longer than");
	/* Anything before AG_HELLO; a hello of another version; two hellos. */
	n = frame(b, AG_STARTED, 0, "\1\0\0\0", 4);
	expect_cut_off(b, n, false, "before AG_HELLO");
	n = hello(b, 99);
	expect_cut_off(b, n, false, "version 99");
	n = hello(b, 1);
	n += hello(b + n, 1);
	expect_cut_off(b, n, false, "second");
	/* Started without being asked... */
	n = hello(b, 1);
	n += frame(b + n, AG_STARTED, 0, "\1\0\0\0", 4);
	expect_cut_off(b, n, false, "AG_STARTED");
	/* ... output beyond the window granted ... */
	n = hello(b, 1);
	k = frame(a, AG_STARTED, 0, "\1\0\0\0", 4);
	for (size_t sent = 0; sent <= AH_WINDOW; sent += 60000)
		k += frame(a + k, AG_DATA, AG_STREAM_STDOUT, NULL, 60000);
	expect_cut_off2(b, n, a, k, false, "beyond the window");
	/* ... an exit before the end of the output, or with a bad value ... */
	k = frame(a, AG_STARTED, 0, "\1\0\0\0", 4);
	k += frame(a + k, AG_EXIT, 0, "\0\0\0\0\0", 5);
	expect_cut_off2(b, n, a, k, false, "before the end of the program's output");
	k = frame(a, AG_STARTED, 0, "\1\0\0\0", 4);
	k += frame(a + k, AG_EOF, 2, NULL, 0);
	k += frame(a + k, AG_EOF, 3, NULL, 0);
	k += frame(a + k, AG_EXIT, 0, "\7\0\0\0\0", 5);
	expect_cut_off2(b, n, a, k, false, "AG_EXIT with how 7");
	/* ... output after its end; stderr twice closed ... */
	k = frame(a, AG_STARTED, 0, "\1\0\0\0", 4);
	k += frame(a + k, AG_EOF, 2, NULL, 0);
	k += frame(a + k, AG_DATA, 2, "x", 1);
	expect_cut_off2(b, n, a, k, false, "not open");
	/* ... a reply to a copy nobody asked for ... */
	k = frame(a, AG_OK, 0, NULL, 0);
	expect_cut_off2(b, n, a, k, false, "AG_OK");
	/* ... hanging up in the middle of a frame. */
	k = frame(a, AG_STARTED, 0, "\1\0\0\0", 4);
	expect_cut_off2(b, n, a, k - 2, true, "closed");
	/* Messages only a host sends, data on the control stream, unknown types. */
	n = hello(b, 1);
	n += frame(b + n, AG_EXEC, 0, "x", 1);
	expect_cut_off(b, n, false, "not a message the agent sends");
	n = hello(b, 1);
	n += frame(b + n, 77, 0, NULL, 0);
	expect_cut_off(b, n, false, "unknown type");
	n = hello(b, 1);
	n += frame(b + n, AG_DATA, 0, "x", 1);
	expect_cut_off(b, n, false, "not open");
	vx_put_u32(p, 5);
	n = hello(b, 1);
	n += frame(b + n, AG_CREDIT, 9, p, 4);
	expect_cut_off(b, n, false, "AG_CREDIT on stream 9");
	/* The agent hangs up halfway. */
	n = hello(b, 1);
	expect_cut_off(b, n + 3, true, "closed");
	/* Noise, before and after the exec. */
	srand(13);
	for (int round = 0; round < 20; round++) {
		n = (size_t)(rand() % 3000) + 8;
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rand();
		expect_cut_off(b, n, true, NULL);
		n = hello(b, 1);
		k = (size_t)(rand() % 3000) + 8;
		for (size_t i = 0; i < k; i++)
			a[i] = (uint8_t)rand();
		expect_cut_off2(b, n, a, k, true, NULL);
	}
}

/* ------------------------------------------------------------------ a hostile host */

/* Send `bytes` to a fresh agent: it answers AG_ERROR and gives up (AGENT_BROKEN). */
static void expect_agent_cuts_off(const uint8_t *bytes, size_t n)
{
	struct agent_proc a;
	uint8_t buf[65536];
	size_t have = 0;
	bool error_seen = false;

	start_agent(&a);
	assert_int_equal(write(a.fd, bytes, n), (ssize_t)n);
	for (;;) {
		ssize_t k = read(a.fd, buf + have, sizeof(buf) - have);

		if (k <= 0)
			break;
		have += (size_t)k;
	}
	/* Its frames: the hello, then an AG_ERROR. */
	for (size_t at = 0; at + VX_HDR_SIZE <= have;) {
		uint32_t len = vx_get_u32(buf + at);

		if (vx_get_u16(buf + at + 4) == AG_ERROR)
			error_seen = true;
		at += VX_HDR_SIZE + len;
	}
	assert_true(error_seen);
	assert_int_equal(end_agent(&a), AGENT_BROKEN);
}

static void test_hostile_host(void **state)
{
	uint8_t b[4096], item[64];
	size_t n;

	(void)state;
	vx_put_hdr(b, AG_DATA, 1, 0x7fffffff);
	expect_agent_cuts_off(b, 8);
	/* stdin before any program, beyond the window */
	n = frame(b, AG_DATA, 1, NULL, 10);
	expect_agent_cuts_off(b, n);
	/* an AG_EXEC whose item runs past it; one without a program; an unknown item */
	vx_put_u16(item, AG_ITEM_ARG);
	vx_put_u16(item + 2, 50);
	n = frame(b, AG_EXEC, 0, item, 10);
	expect_agent_cuts_off(b, n);
	vx_put_u16(item, AG_ITEM_ENV);
	vx_put_u16(item + 2, 3);
	memcpy(item + 4, "A=1", 3);
	n = frame(b, AG_EXEC, 0, item, 7);
	expect_agent_cuts_off(b, n);
	vx_put_u16(item, 99);
	vx_put_u16(item + 2, 0);
	n = frame(b, AG_EXEC, 0, item, 4);
	expect_agent_cuts_off(b, n);
	/* credit where the agent sends nothing; what only the agent sends; unknown types */
	n = frame(b, AG_CREDIT, 1, "\1\0\0\0", 4);
	expect_agent_cuts_off(b, n);
	n = frame(b, AG_STARTED, 0, "\1\0\0\0", 4);
	expect_agent_cuts_off(b, n);
	n = frame(b, 200, 0, NULL, 0);
	expect_agent_cuts_off(b, n);
	/* a put's end without a put; a second put while the first is open */
	n = frame(b, AG_EOF, 4, NULL, 0);
	expect_agent_cuts_off(b, n);
	n = frame(b, AG_SIGNAL, 0, "\0\1\0\0", 4);
	expect_agent_cuts_off(b, n);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/vireo-unit-agent-XXXXXX");
	assert_non_null(mkdtemp(tmp_dir));
	signal(SIGPIPE, SIG_IGN); /* the test writes to agents that may be gone */
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stdout_and_stderr_apart),
	    cmocka_unit_test(test_exit_codes),
	    cmocka_unit_test(test_killed_by_signal),
	    cmocka_unit_test(test_stdin_and_its_end),
	    cmocka_unit_test(test_not_found_and_not_executable),
	    cmocka_unit_test(test_env_and_cwd),
	    cmocka_unit_test(test_pseudo_terminal),
	    cmocka_unit_test(test_megabytes_through_cat),
	    cmocka_unit_test(test_signal_reaches_program),
	    cmocka_unit_test(test_reader_gone_is_a_broken_pipe),
	    cmocka_unit_test(test_time_limit),
	    cmocka_unit_test(test_copies_in_and_out),
	    cmocka_unit_test(test_failed_copies),
	    cmocka_unit_test(test_link_protocol_through_fake_vireo),
	    cmocka_unit_test(test_megabytes_through_the_link),
	    cmocka_unit_test(test_hostile_agent),
	    cmocka_unit_test(test_hostile_host),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
