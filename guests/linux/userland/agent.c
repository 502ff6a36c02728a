// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest agent's I/O: one poll() loop over the connection to the host,
 * the program's stdio (pipes or a pseudo-terminal), a file or tar being
 * copied, and a signalfd for SIGCHLD. The protocol itself is agent_core.c.
 *
 * Flow control as docs/channel.md has it: the program's stdout and stderr are
 * read only while the host has granted credit and the outgoing queue has
 * room, so a program that writes faster than the host reads blocks in its
 * own write(); what the host sends for stdin lands in a buffer exactly as
 * big as the window the agent granted, and is granted again as the program
 * takes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent_core.h"
#include "clock_sync.h"

#define OBUF_CAP	(256 * 1024)
#define PORT_READ	(64 * 1024)
#define PORT_ROOM	(16 * 1024)   /* read the host only while the queue has this much room */
#define TTY_DRAIN_MS	100	      /* after the program ends: its terminal's last output */
#define PIPE_SIZE	(1024 * 1024) /* the program's stdio pipes (Linux's default maximum) */
#define DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define EXEC_STEP_CHDIR 1
#define EXEC_STEP_EXEC	2
#define EXEC_STEP_SETUP 3

struct ring {
	uint8_t *buf;
	size_t cap, head, len;
};

enum xfer_kind { X_IDLE, X_PUT, X_GET };

struct agent {
	int port;
	const struct agent_opts *o;
	struct obuf out;
	struct agent_core core;
	int sigfd;
	bool done;
	enum agent_result result;
	int stop_sig;
	bool port_eof;

	/* The program. */
	pid_t pid;  /* > 0 until it is reaped */
	pid_t pgid; /* its process group: signals still reach what it left behind */
	bool have_status, exit_sent;
	int wstatus;
	bool tty;
	int in_fd;     /* its stdin: a pipe, or a copy of the terminal's master */
	int out_fd[2]; /* its stdout and stderr; with a terminal, the master and -1 */
	struct ring in;
	bool in_eof, in_broken;
	unsigned long long drain_until; /* terminal: when to stop waiting for its last bytes */

	/* A transfer: a file, or a tar reading or writing a pipe. */
	enum xfer_kind xfer;
	int xfer_fd;
	pid_t tar_pid;
	bool tar_reaped;
	int tar_status;
	struct ring xin;	     /* put: bytes for xfer_fd */
	bool xfer_eof;		     /* put: the host's AG_EOF */
	uint32_t xfer_mode;	     /* put: the file's mode */
	uint8_t port_buf[PORT_READ]; /* last: big */
};

/* ------------------------------------------------------------------ small helpers */

static int ring_init(struct ring *r, size_t cap)
{
	r->buf = malloc(cap);
	r->cap = cap;
	r->head = r->len = 0;
	return r->buf ? 0 : -1;
}

static void ring_put(struct ring *r, const uint8_t *p, size_t n)
{
	while (n) {
		size_t at = (r->head + r->len) % r->cap, k = r->cap - at;

		if (k > n)
			k = n;
		memcpy(r->buf + at, p, k);
		r->len += k;
		p += k;
		n -= k;
	}
}

/* The first contiguous piece of what is queued. */
static size_t ring_peek(const struct ring *r, const uint8_t **p)
{
	size_t k = r->cap - r->head;

	*p = r->buf + r->head;
	return k < r->len ? k : r->len;
}

static void ring_drop(struct ring *r, size_t n)
{
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	if (!r->len)
		r->head = 0;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* mkdir -p; 0 or an errno. */
static int make_dirs(const char *path)
{
	char *p = strdup(path);
	int err = 0;

	if (!p)
		return ENOMEM;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			err = errno;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return err;
}

static int make_parent_dirs(const char *path)
{
	char *p = strdup(path), *slash;
	int err = 0;

	if (!p)
		return ENOMEM;
	slash = strrchr(p, '/');
	if (slash && slash != p) {
		*slash = '\0';
		err = make_dirs(p);
	}
	free(p);
	return err;
}

/* The error is the agent's own, not the host's: it cannot go on. */
static void agent_fail(struct agent *a)
{
	a->done = true;
	a->result = AGENT_FAILED;
}

/* A reply did not fit: the host keeps asking without reading. */
static void check_sent(struct agent *a, bool ok)
{
	if (!ok && !a->done) {
		a->done = true;
		a->result = AGENT_BROKEN;
	}
}

/* ------------------------------------------------------------------ running the program */

/* In the child: the report of what failed, then exit. */
__attribute__((noreturn)) static void child_fail(int report, int step, int err)
{
	int msg[2] = {step, err};

	if (write(report, msg, sizeof(msg)) < 0)
		_exit(127);
	_exit(127);
}

static const char *env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* execvp with the program's own PATH; the errno of the most telling failure. */
static int exec_search(char *const *argv, char *const *envp)
{
	const char *file = argv[0], *path = env_get(envp, "PATH");
	char buf[PATH_MAX];
	bool denied = false;

	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	if (!path)
		path = DEFAULT_PATH;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		int len = (int)(end - p);

		if (snprintf(buf, sizeof(buf), "%.*s%s%s", len, p, len ? "/" : "", file) <
		    (int)sizeof(buf)) {
			execve(buf, argv, envp);
			if (errno == EACCES || errno == ENOEXEC || errno == EISDIR)
				denied = true;
			else if (errno != ENOENT && errno != ENOTDIR)
				return errno;
		}
		if (!*end)
			break;
		p = end;
	}
	return denied ? EACCES : ENOENT;
}

static bool same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return strncmp(a, b, n) == 0 && b[n] == '=';
}

/* The agent's defaults, then AG_EXEC's entries (which win). NULL when out of memory. */
static char **make_env(const struct agent_opts *o, char *const *given)
{
	size_t n = 0, m = 0, k = 0;
	char **env;

	while (o->env && o->env[n])
		n++;
	while (given[m])
		m++;
	env = calloc(n + m + 1, sizeof(char *));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool overridden = false;

		for (size_t j = 0; j < m && !overridden; j++)
			overridden = same_name(o->env[i], given[j]);
		if (!overridden)
			env[k++] = (char *)(uintptr_t)o->env[i]; /* execve's type; never written */
	}
	for (size_t j = 0; j < m; j++)
		env[k++] = given[j];
	env[k] = NULL;
	return env;
}

__attribute__((noreturn)) static void exec_child(struct agent *a, const struct agent_exec *x,
						 char **envp, int fds[3], const char *tty,
						 int report)
{
	const char *cwd = x->cwd ? x->cwd : a->o->cwd;
	sigset_t none;

	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0)
		child_fail(report, EXEC_STEP_SETUP, errno);
	if (tty) {
		int t = open(tty, O_RDWR);

		if (t < 0 || ioctl(t, TIOCSCTTY, 0) < 0)
			child_fail(report, EXEC_STEP_SETUP, errno);
		fds[0] = fds[1] = fds[2] = t;
	}
	for (int i = 0; i < 3; i++) {
		/* dup2 onto itself would keep close-on-exec. */
		if (fds[i] == i ? fcntl(i, F_SETFD, 0) < 0 : dup2(fds[i], i) < 0)
			child_fail(report, EXEC_STEP_SETUP, errno);
	}
	if (cwd && chdir(cwd) != 0 && (make_dirs(cwd) != 0 || chdir(cwd) != 0))
		child_fail(report, EXEC_STEP_CHDIR, errno);
	child_fail(report, EXEC_STEP_EXEC, exec_search(x->argv, envp));
}

/* The child's ends: fds[3]; ours: in_fd, out_fd. 0 or an errno. */
static int make_pipes(struct agent *a, int fds[3])
{
	int p[3][2];

	for (int i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) != 0) {
			int err = errno;

			while (i--) {
				close(p[i][0]);
				close(p[i][1]);
			}
			return err;
		}
	}
	/* Big pipes: a fast writer wakes the agent (and blocks) less often, and every switch
	 * between them costs a virtualized guest more than it costs a bare one. */
	for (int i = 0; i < 3; i++)
		fcntl(p[i][0], F_SETPIPE_SZ, PIPE_SIZE);
	fds[0] = p[0][0];
	a->in_fd = p[0][1];
	fds[1] = p[1][1];
	a->out_fd[0] = p[1][0];
	fds[2] = p[2][1];
	a->out_fd[1] = p[2][0];
	return 0;
}

/* A pseudo-terminal: the master is ours, the child opens the slave by name. */
static int make_pty(struct agent *a, const struct agent_exec *x, char *name, size_t size)
{
	struct winsize ws = {.ws_row = (unsigned short)x->rows, .ws_col = (unsigned short)x->cols};
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0)
		return errno;
	if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, size) != 0) {
		int err = errno;

		close(m);
		return err;
	}
	if (ws.ws_row && ws.ws_col)
		ioctl(m, TIOCSWINSZ, &ws);
	a->out_fd[0] = m;
	a->out_fd[1] = -1;
	a->in_fd = fcntl(m, F_DUPFD_CLOEXEC, 3);
	if (a->in_fd < 0) {
		int err = errno;

		close_fd(&a->out_fd[0]);
		return err;
	}
	return 0;
}

static void exec_failed(struct agent *a, int step, int err, const char *what)
{
	char text[300];

	if (step == EXEC_STEP_CHDIR)
		snprintf(text, sizeof(text), "cannot change to directory '%.200s': %s", what,
			 strerror(err));
	else if (step == EXEC_STEP_EXEC)
		snprintf(text, sizeof(text), "cannot run '%.200s': %s", what, strerror(err));
	else
		snprintf(text, sizeof(text), "cannot start a program: %s", strerror(err));
	check_sent(a, agent_core_exec_failed(&a->core, (uint32_t)err, text));
}

static void cb_exec(void *ctx, const struct agent_exec *x)
{
	struct agent *a = ctx;
	int fds[3] = {-1, -1, -1}, report[2], msg[2], err;
	char tty[64] = "", **envp;
	ssize_t n;
	pid_t pid;

	/* A VM made from a snapshot or a template may run behind the wall clock. */
	clock_sync_from_rtc();
	a->tty = x->tty;
	a->in_eof = a->in_broken = false;
	a->have_status = a->exit_sent = false;
	a->in.head = a->in.len = 0;
	envp = make_env(a->o, x->env);
	if (!envp) {
		agent_fail(a);
		return;
	}
	err = x->tty ? make_pty(a, x, tty, sizeof(tty)) : make_pipes(a, fds);
	if (err) {
		free(envp);
		exec_failed(a, EXEC_STEP_SETUP, err, NULL);
		return;
	}
	if (pipe2(report, O_CLOEXEC) != 0) {
		err = errno;
		goto fail;
	}
	pid = fork();
	if (pid == 0)
		exec_child(a, x, envp, fds, x->tty ? tty : NULL, report[1]);
	err = errno;
	close(report[1]);
	for (int i = 0; i < 3; i++)
		close_fd(&fds[i]);
	free(envp);
	envp = NULL;
	if (pid < 0) {
		close(report[0]);
		goto fail;
	}
	do
		n = read(report[0], msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof(msg)) {
		/* It never ran: reap it now, and tell why. */
		waitpid(pid, NULL, 0);
		close_fd(&a->in_fd);
		close_fd(&a->out_fd[0]);
		close_fd(&a->out_fd[1]);
		exec_failed(a, msg[0], msg[1],
			    msg[0] == EXEC_STEP_CHDIR ? (x->cwd ? x->cwd : a->o->cwd) : x->argv[0]);
		return;
	}
	a->pid = a->pgid = pid;
	set_nonblock(a->in_fd);
	set_nonblock(a->out_fd[0]);
	if (a->out_fd[1] >= 0)
		set_nonblock(a->out_fd[1]);
	check_sent(a, agent_core_started(&a->core, (uint32_t)pid));
	/* A terminal has no separate stderr: that stream ends at once. */
	if (a->tty)
		check_sent(a, agent_core_eof(&a->core, AG_STREAM_STDERR));
	return;
fail:
	free(envp);
	for (int i = 0; i < 3; i++)
		close_fd(&fds[i]);
	close_fd(&a->in_fd);
	close_fd(&a->out_fd[0]);
	close_fd(&a->out_fd[1]);
	exec_failed(a, EXEC_STEP_SETUP, err, NULL);
}

static void cb_data(void *ctx, unsigned stream, const uint8_t *bytes, size_t n)
{
	struct agent *a = ctx;

	if (stream == AG_STREAM_STDIN) {
		if (a->in_broken || a->in_fd < 0)
			agent_core_grant(&a->core, stream, (uint32_t)n); /* nobody reads: drop */
		else
			ring_put(&a->in, bytes, n);
	} else {
		ring_put(&a->xin, bytes, n);
	}
}

/* The host stopped reading stream s (2 or 3): close our end; the program sees EPIPE. */
static void stop_output(struct agent *a, unsigned s)
{
	int *fd = &a->out_fd[s - AG_STREAM_STDOUT];

	if (*fd < 0)
		return;
	if (a->tty)
		close_fd(&a->in_fd); /* the terminal hangs up */
	close_fd(fd);
	check_sent(a, agent_core_eof(&a->core, s));
}

static void cb_eof(void *ctx, unsigned stream)
{
	struct agent *a = ctx;

	if (stream == AG_STREAM_STDIN)
		a->in_eof = true;
	else if (stream == AG_STREAM_FILE)
		a->xfer_eof = true;
	else
		stop_output(a, stream);
}

static void cb_signal(void *ctx, int sig)
{
	struct agent *a = ctx;

	if (a->pgid > 0)
		kill(-a->pgid, sig);
}

static void cb_winsize(void *ctx, unsigned rows, unsigned cols)
{
	struct agent *a = ctx;
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};

	if (a->tty && a->out_fd[0] >= 0)
		ioctl(a->out_fd[0], TIOCSWINSZ, &ws);
}

static void cb_shutdown(void *ctx)
{
	struct agent *a = ctx;

	a->done = true;
	a->result = AGENT_SHUTDOWN;
}

/* ------------------------------------------------------------------ transfers */

/* tar with `mode` "-x" (reading our pipe) or "-c" (writing it), in dir. */
static int start_tar(struct agent *a, const char *mode, const char *dir, const char *what)
{
	int p[2];
	bool extract = mode[1] == 'x';
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		dup2(extract ? p[0] : p[1], extract ? 0 : 1);
		if (extract)
			execlp(a->o->tar, "tar", "-x", "-f", "-", "-C", dir, (char *)NULL);
		else
			execlp(a->o->tar, "tar", "-c", "-f", "-", "-C", dir, what, (char *)NULL);
		_exit(127);
	}
	close(extract ? p[0] : p[1]);
	a->xfer_fd = extract ? p[1] : p[0];
	set_nonblock(a->xfer_fd);
	a->tar_pid = pid;
	a->tar_reaped = false;
	return 0;
}

static void xfer_reset(struct agent *a)
{
	close_fd(&a->xfer_fd);
	if (a->tar_pid > 0 && !a->tar_reaped)
		kill(a->tar_pid, SIGKILL); /* reaped with the other children */
	a->tar_pid = 0;
	a->xfer = X_IDLE;
	a->xin.head = a->xin.len = 0;
	a->xfer_eof = false;
}

static void xfer_error(struct agent *a, int err, const char *what)
{
	char text[300];

	snprintf(text, sizeof(text), "%.250s: %s", what, strerror(err));
	/* The core drops what the host still sends for a put, up to its AG_EOF. */
	check_sent(a, agent_core_xfer_error(&a->core, (uint32_t)err, text));
	xfer_reset(a);
}

static void cb_put(void *ctx, uint32_t mode, uint32_t flags, const char *path)
{
	struct agent *a = ctx;
	int err;

	a->xfer = X_PUT;
	a->xfer_mode = mode & 07777;
	if (flags & AG_FLAG_TAR) {
		err = make_dirs(path);
		if (!err)
			err = start_tar(a, "-x", path, NULL);
	} else {
		err = make_parent_dirs(path);
		if (!err) {
			a->xfer_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
					  a->xfer_mode ? a->xfer_mode : 0644);
			err = a->xfer_fd < 0 ? errno : 0;
		}
	}
	if (err) {
		xfer_error(a, err, path);
		return;
	}
	check_sent(a, agent_core_put_accept(&a->core));
}

/* The put's bytes are all written (or the tar has ended): tell the host. */
static void put_finish(struct agent *a)
{
	if (a->tar_pid > 0) {
		int st = a->tar_status;

		if (!a->tar_reaped)
			return; /* SIGCHLD brings us back */
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			xfer_error(a, EIO, "tar -x in the guest failed");
			return;
		}
	} else if (a->xfer_mode && fchmod(a->xfer_fd, a->xfer_mode) != 0) {
		xfer_error(a, errno, "chmod");
		return;
	}
	xfer_reset(a);
	check_sent(a, agent_core_put_done(&a->core));
}

static void cb_get(void *ctx, uint32_t flags, const char *path)
{
	struct agent *a = ctx;
	bool tar;
	struct stat st;
	int err = 0;

	a->xfer = X_GET;
	if (stat(path, &st) != 0) {
		xfer_error(a, errno, path);
		return;
	}
	tar = (flags & AG_FLAG_TAR) || ((flags & AG_FLAG_AUTO) && S_ISDIR(st.st_mode));
	if (tar && S_ISDIR(st.st_mode)) {
		err = start_tar(a, "-c", path, ".");
	} else if (tar) {
		char *copy = strdup(path), *slash = copy ? strrchr(copy, '/') : NULL;

		if (!copy)
			err = ENOMEM;
		else if (!slash)
			err = start_tar(a, "-c", ".", copy);
		else if (slash == copy)
			err = start_tar(a, "-c", "/", slash + 1);
		else {
			*slash = '\0';
			err = start_tar(a, "-c", copy, slash + 1);
		}
		free(copy);
	} else if (S_ISDIR(st.st_mode)) {
		err = EISDIR;
	} else {
		a->xfer_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		err = a->xfer_fd < 0 ? errno : 0;
	}
	if (err) {
		xfer_error(a, err, path);
		return;
	}
	check_sent(a, agent_core_get_ok(&a->core, tar ? AG_FLAG_TAR : 0, st.st_mode & 07777));
}

/* The get's source is read to its end (and its tar has ended). */
static void get_finish(struct agent *a)
{
	if (a->tar_pid > 0) {
		if (!a->tar_reaped)
			return;
		if (!WIFEXITED(a->tar_status) || WEXITSTATUS(a->tar_status) != 0) {
			xfer_error(a, EIO, "tar -c in the guest failed");
			return;
		}
	}
	xfer_reset(a);
	check_sent(a, agent_core_get_end(&a->core));
}

static void service_put(struct agent *a)
{
	const uint8_t *p;
	size_t n;
	ssize_t w;

	while (a->xfer_fd >= 0 && (n = ring_peek(&a->xin, &p)) > 0) {
		w = write(a->xfer_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			xfer_error(a, w < 0 ? errno : EIO, "writing the file");
			return;
		}
		ring_drop(&a->xin, (size_t)w);
		agent_core_grant(&a->core, AG_STREAM_FILE, (uint32_t)w);
	}
	if (a->xfer_eof && a->xin.len == 0 && a->xfer_fd >= 0) {
		if (a->tar_pid > 0)
			close_fd(&a->xfer_fd); /* tar sees its end; put_finish waits for it */
		else {
			put_finish(a);
			return;
		}
	}
	if (a->xfer_eof && a->xfer_fd < 0 && a->tar_pid > 0)
		put_finish(a);
}

static void service_get(struct agent *a)
{
	for (;;) {
		size_t max;
		uint8_t *p;
		ssize_t n;

		if (a->xfer_fd < 0) {
			get_finish(a);
			return;
		}
		p = agent_core_data_begin(&a->core, AG_STREAM_FILE, SIZE_MAX, &max);
		if (!p)
			return;
		n = read(a->xfer_fd, p, max);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			xfer_error(a, errno, "reading the file");
			return;
		}
		if (n == 0) {
			close_fd(&a->xfer_fd);
			continue;
		}
		agent_core_data_end(&a->core, AG_STREAM_FILE, (size_t)n);
	}
}

/* ------------------------------------------------------------------ the program's stdio */

static void service_stdin(struct agent *a)
{
	const uint8_t *p;
	size_t n;
	ssize_t w;

	while (a->in_fd >= 0 && (n = ring_peek(&a->in, &p)) > 0) {
		w = write(a->in_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			/* It stopped reading (EPIPE): drop what is queued and what comes. */
			a->in_broken = true;
			agent_core_grant(&a->core, AG_STREAM_STDIN, (uint32_t)a->in.len);
			a->in.head = a->in.len = 0;
			close_fd(&a->in_fd);
			return;
		}
		ring_drop(&a->in, (size_t)w);
		agent_core_grant(&a->core, AG_STREAM_STDIN, (uint32_t)w);
	}
	if (a->in_eof && a->in.len == 0 && a->in_fd >= 0) {
		if (a->tty) {
			/* A terminal has no end of file of its own: type its EOF character. */
			struct termios t;
			char eof = 4;

			if (tcgetattr(a->in_fd, &t) == 0 && t.c_cc[VEOF])
				eof = (char)t.c_cc[VEOF];
			if (write(a->in_fd, &eof, 1) == 1)
				a->in_eof = false;
		} else {
			close_fd(&a->in_fd);
		}
	}
}

/* Read stream s's fd while there is credit and room. */
static void service_output(struct agent *a, unsigned s)
{
	int *fd = &a->out_fd[s - AG_STREAM_STDOUT];

	while (*fd >= 0) {
		size_t max;
		uint8_t *p = agent_core_data_begin(&a->core, s, SIZE_MAX, &max);
		ssize_t n;

		if (!p)
			return;
		n = read(*fd, p, max);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			agent_core_data_end(&a->core, s, (size_t)n);
			if (a->tty)
				a->drain_until = now_ms() + TTY_DRAIN_MS;
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			/* Once the program has ended, an empty pipe is its end: what is left
			 * behind holding it (a background child) is not waited for. A
			 * terminal passes its last bytes on a little later. */
			if (!a->have_status || (a->tty && now_ms() < a->drain_until))
				return;
		}
		/* EOF, EIO (a terminal whose every user is gone), or drained. */
		if (a->tty)
			close_fd(&a->in_fd);
		close_fd(fd);
		check_sent(a, agent_core_eof(&a->core, s));
	}
}

static void check_exit(struct agent *a)
{
	int st = a->wstatus;

	if (!a->have_status || a->exit_sent || a->out_fd[0] >= 0 || a->out_fd[1] >= 0)
		return;
	close_fd(&a->in_fd);
	a->exit_sent = true;
	if (WIFSIGNALED(st))
		check_sent(a, agent_core_exit(&a->core, AG_KILLED, (uint32_t)WTERMSIG(st)));
	else
		check_sent(a, agent_core_exit(&a->core, AG_EXITED, (uint32_t)WEXITSTATUS(st)));
}

static void reap(struct agent *a)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == a->pid) {
			a->pid = 0;
			a->wstatus = st;
			a->have_status = true;
			a->drain_until = now_ms() + TTY_DRAIN_MS;
		} else if (pid == a->tar_pid) {
			a->tar_reaped = true;
			a->tar_status = st;
		}
	}
}

static void take_signals(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		a->done = true;
		a->result = AGENT_SIGNAL;
		a->stop_sig = (int)si.ssi_signo;
	}
	reap(a);
}

/* ------------------------------------------------------------------ the connection */

static void read_port(struct agent *a)
{
	for (;;) {
		ssize_t n = read(a->port, a->port_buf, sizeof(a->port_buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			a->port_eof = true;
			a->done = true;
			a->result = AGENT_HANGUP;
			return;
		}
		if (!agent_core_feed(&a->core, a->port_buf, (size_t)n)) {
			a->done = true;
			a->result = AGENT_BROKEN;
			return;
		}
		if (a->done || obuf_room(&a->out) < PORT_ROOM)
			return;
	}
}

static void write_port(struct agent *a)
{
	while (!obuf_empty(&a->out)) {
		ssize_t n = write(a->port, obuf_data(&a->out), obuf_len(&a->out));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			a->done = true;
			a->result = AGENT_HANGUP;
			return;
		}
		obuf_consume(&a->out, (size_t)n);
	}
}

/* Flush what is queued before leaving, for a while (the host may have gone). */
static void flush_port(struct agent *a, int ms)
{
	unsigned long long end = now_ms() + (unsigned long long)ms;

	while (!obuf_empty(&a->out) && now_ms() < end) {
		struct pollfd p = {.fd = a->port, .events = POLLOUT};

		if (poll(&p, 1, 50) < 0 && errno != EINTR)
			return;
		if (p.revents & (POLLERR | POLLHUP))
			return;
		if (p.revents & POLLOUT)
			write_port(a);
	}
}

static void hello_text(const struct agent_opts *o, char *buf, size_t size)
{
	struct utsname u;

	if (o->hello) {
		snprintf(buf, size, "%s", o->hello);
		return;
	}
	uname(&u);
	snprintf(buf, size, "Linux %s %s on %s, %ld CPU(s)", u.release, u.version, u.machine,
		 sysconf(_SC_NPROCESSORS_ONLN));
}

static const struct agent_core_ops core_ops = {
    .exec = cb_exec,
    .data = cb_data,
    .eof = cb_eof,
    .signal = cb_signal,
    .winsize = cb_winsize,
    .put = cb_put,
    .get = cb_get,
    .shutdown = cb_shutdown,
};

enum { P_PORT, P_SIG, P_OUT0, P_OUT1, P_IN, P_XFER, P_COUNT };

static int poll_timeout(const struct agent *a)
{
	unsigned long long now;

	/* Only a terminal's last output is waited for by the clock, and only while it
	 * could be read (otherwise the host's credit is what is waited for). */
	if (!a->tty || !a->have_status || a->out_fd[0] < 0 ||
	    !agent_core_can_send(&a->core, AG_STREAM_STDOUT) || obuf_room(&a->out) < PORT_ROOM)
		return -1;
	now = now_ms();
	return now >= a->drain_until ? 0 : (int)(a->drain_until - now);
}

static void loop_once(struct agent *a)
{
	struct pollfd p[P_COUNT];
	bool roomy = obuf_room(&a->out) >= PORT_ROOM;

	for (int i = 0; i < P_COUNT; i++)
		p[i] = (struct pollfd){.fd = -1};
	p[P_PORT].fd = a->port;
	p[P_PORT].events = (short)((roomy ? POLLIN : 0) | (obuf_empty(&a->out) ? 0 : POLLOUT));
	p[P_SIG].fd = a->sigfd;
	p[P_SIG].events = POLLIN;
	for (unsigned s = 0; s < 2; s++) {
		if (a->out_fd[s] >= 0 && agent_core_can_send(&a->core, AG_STREAM_STDOUT + s) &&
		    roomy) {
			p[P_OUT0 + s].fd = a->out_fd[s];
			p[P_OUT0 + s].events = POLLIN;
		}
	}
	if (a->in_fd >= 0 && (a->in.len || a->in_eof)) {
		p[P_IN].fd = a->in_fd;
		p[P_IN].events = POLLOUT;
	}
	if (a->xfer_fd >= 0 && a->xfer == X_PUT && a->xin.len) {
		p[P_XFER].fd = a->xfer_fd;
		p[P_XFER].events = POLLOUT;
	} else if (a->xfer_fd >= 0 && a->xfer == X_GET &&
		   agent_core_can_send(&a->core, AG_STREAM_FILE) && roomy) {
		p[P_XFER].fd = a->xfer_fd;
		p[P_XFER].events = POLLIN;
	}
	if (poll(p, P_COUNT, poll_timeout(a)) < 0 && errno != EINTR) {
		agent_fail(a);
		return;
	}
	if (p[P_SIG].revents)
		take_signals(a);
	if (p[P_PORT].revents & POLLOUT)
		write_port(a);
	if (p[P_PORT].revents & (POLLIN | POLLHUP | POLLERR))
		read_port(a);
	if (a->done)
		return;
	/* Each service is cheap when it has nothing to do: run them all. */
	service_stdin(a);
	for (unsigned s = AG_STREAM_STDOUT; s <= AG_STREAM_STDERR; s++)
		if (a->have_status || p[P_OUT0 + s - AG_STREAM_STDOUT].revents)
			service_output(a, s);
	if (a->xfer == X_PUT)
		service_put(a);
	else if (a->xfer == X_GET)
		service_get(a);
	check_exit(a);
	agent_core_flush(&a->core, a->in.len == 0 && a->xin.len == 0);
	write_port(a);
}

static void kill_everything(struct agent *a)
{
	if (a->pgid > 0)
		kill(-a->pgid, SIGKILL);
	if (a->pid > 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, NULL, 0);
	}
	if (a->tar_pid > 0 && !a->tar_reaped) {
		kill(a->tar_pid, SIGKILL);
		waitpid(a->tar_pid, NULL, 0);
	}
}

enum agent_result agent_serve(int fd, const struct agent_opts *opts, int *sig)
{
	struct agent *a = calloc(1, sizeof(*a));
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
	sigset_t mask, old_mask;
	enum agent_result result = AGENT_FAILED;
	char hello[512];

	if (!a)
		return AGENT_FAILED;
	a->port = fd;
	a->o = opts;
	a->in_fd = a->out_fd[0] = a->out_fd[1] = a->xfer_fd = -1;
	sigemptyset(&mask);
	if (opts->stop_signals)
		mask = *opts->stop_signals;
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);
	a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sigfd < 0 || obuf_init(&a->out, OBUF_CAP) || ring_init(&a->in, VX_WINDOW) ||
	    ring_init(&a->xin, VX_WINDOW))
		goto out;
	set_nonblock(fd);
	agent_core_init(&a->core, &core_ops, a, &a->out);
	hello_text(opts, hello, sizeof(hello));
	agent_core_hello(&a->core, hello);
	reap(a); /* a SIGCHLD from before the signalfd existed */
	while (!a->done)
		loop_once(a);
	result = a->result;
	if (result == AGENT_BROKEN) {
		char text[200];

		snprintf(text, sizeof(text), "the agent cuts the host off: %s",
			 a->core.error[0] ? a->core.error : "it does not read its replies");
		agent_core_error(&a->core, EPROTO, text); /* if it fits */
	}
	if (result != AGENT_HANGUP)
		flush_port(a, 1000);
	if (sig)
		*sig = a->stop_sig;
out:
	kill_everything(a);
	close_fd(&a->in_fd);
	close_fd(&a->out_fd[0]);
	close_fd(&a->out_fd[1]);
	close_fd(&a->xfer_fd);
	if (a->sigfd >= 0)
		close(a->sigfd);
	obuf_free(&a->out);
	free(a->in.buf);
	free(a->xin.buf);
	free(a);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return result;
}
