// SPDX-License-Identifier: BSD-2-Clause
/*
 * A child's thread: starts QEMU, then one poll() loop that speaks the link
 * protocol with Vireo (or straight to the agent on plain QEMU) and the agent
 * protocol inside it, and relays the program's stdio, copies and signals.
 *
 * Memory stays bounded whatever the guest does: the program's output is
 * taken into rings exactly as big as the windows granted for it and granted
 * again only as it is written out; stdin is read only as far as the agent's
 * window and the outgoing queue allow.
 *
 * A run: [LINK_HELLO, LINK_OPEN] -> AG_HELLO -> AG_PUT for each copy in ->
 * AG_EXEC -> stdio until AG_EXIT -> AG_GET for each copy out -> the end
 * (AG_SHUTDOWN and a clean power-off when a writable disk must be flushed;
 * otherwise QEMU is simply killed: nothing inside is worth the wait).
 *
 * With a gdb server (vireo_cmd_gdb) the same link also carries its control
 * requests and Vireo's replies and events (ctl_client.h): one link, one thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vireo/vx.h>

#include "ctl_client.h"
#include "internal.h"

#define IO_CHUNK	 (16 * 1024)
#define ROOM_TO_READ	 (16 * 1024) /* read the link only with this much room for replies */
#define FAIL_DRAIN_MS	 2000	     /* after a failure: how long output may still drain */
#define SHUTDOWN_WAIT_MS 30000	     /* a clean power-off (writable disks) */
#define OBUF_CAP	 (256 * 1024)

unsigned long long vireo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ rings */

static int vring_init(struct vring *r, size_t cap)
{
	r->buf = malloc(cap);
	r->cap = cap;
	r->head = r->len = 0;
	return r->buf ? 0 : -1;
}

static void vring_put(struct vring *r, const uint8_t *p, size_t n)
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

static size_t vring_peek(const struct vring *r, const uint8_t **p)
{
	size_t k = r->cap - r->head;

	*p = r->buf + r->head;
	return k < r->len ? k : r->len;
}

static void vring_drop(struct vring *r, size_t n)
{
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	if (!r->len)
		r->head = 0;
}

/* ------------------------------------------------------------------ the end of a run */

static const int end_codes[] = {
    [VIREO_EXITED] = 0,
    [VIREO_SIGNALED] = 128,
    [VIREO_NOT_FOUND] = VIREO_EXIT_NOT_FOUND,
    [VIREO_NOT_EXECUTABLE] = VIREO_EXIT_CANNOT_EXECUTE,
    [VIREO_TIMED_OUT] = VIREO_EXIT_TIMEOUT,
    [VIREO_STOPPED] = VIREO_EXIT_STOPPED,
    [VIREO_FAILED] = VIREO_EXIT_FAILURE,
    [VIREO_COPY_FAILED] = VIREO_EXIT_FAILURE,
};

static void set_status(struct session *s, enum vireo_end end, int value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_status(struct session *s, enum vireo_end end, int value, const char *fmt, ...)
{
	va_list ap;

	if (s->have_status)
		return;
	s->have_status = true;
	s->status.end = end;
	s->status.value = value;
	s->status.code =
	    end == VIREO_EXITED ? value : end_codes[end] + (end == VIREO_SIGNALED ? value : 0);
	s->status.message[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(s->status.message, sizeof(s->status.message), fmt, ap);
		va_end(ap);
	}
}

static void reap_qemu(struct session *s, bool wait)
{
	int st;
	pid_t r;

	if (!s->qemu || s->qemu_gone)
		return;
	do
		r = waitpid(s->qemu, &st, wait ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return;
	s->qemu_gone = true;
	s->qemu_status = r < 0 ? 0 : st; /* ECHILD: someone reaped it (SIGCHLD ignored) */
}

static void kill_qemu(struct session *s)
{
	if (s->qemu && !s->qemu_gone) {
		kill(s->qemu, SIGKILL);
		reap_qemu(s, true);
	}
}

static void kill_tar(struct session *s)
{
	if (s->xfer.tar > 0) {
		kill(s->xfer.tar, SIGKILL);
		waitpid(s->xfer.tar, NULL, 0);
		s->xfer.tar = 0;
	}
}

/* Over, for a reason other than the program's end: the VM goes at once. */
static void end_now(struct session *s)
{
	if (s->phase != PH_END) {
		s->phase = PH_END;
		s->end_deadline_ms = vireo_now_ms() + FAIL_DRAIN_MS;
	}
	kill_tar(s);
	kill_qemu(s);
}

static void fail(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct session *s, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(s->status.message)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_status(s, VIREO_FAILED, 0, "%s", msg);
	end_now(s);
}

static bool writable_disks(const struct vireo_cmd *cmd)
{
	for (unsigned i = 0; i < cmd->ndisks; i++)
		if (!cmd->disks[i].readonly)
			return true;
	return false;
}

/* Everything the program had to do is done: take the VM down. */
static void end_gracefully(struct session *s)
{
	s->phase = PH_END;
	s->end_deadline_ms = 0;
	/* A machine's VM that was there before the command stays for the next one. */
	if (s->cmd->in_vm && s->cmd->connect_fd >= 0) {
		kill_qemu(s);
	} else if (s->cmd->connect_fd >= 0 || writable_disks(s->cmd)) {
		/* The agent syncs and powers off; a clean end flushes the disks. */
		if (!ah_shutdown(&s->ah))
			s->pending_shutdown = true;
		s->end_deadline_ms = vireo_now_ms() + SHUTDOWN_WAIT_MS;
	} else {
		kill_qemu(s);
	}
}

/* ------------------------------------------------------------------ the link protocol */

static void lk_on_hello(void *ctx, uint32_t version, uint32_t flags)
{
	struct session *s = ctx;

	(void)version;
	(void)flags;
	if (!lk_hello(&s->lk))
		fail(s, "no room to answer Vireo's hello");
	else if (s->cc)
		ctl_client_ready(s->cc); /* the gdb server's requests may go */
}

static void lk_on_open(void *ctx, uint32_t vm_id, const char *name, size_t len)
{
	struct session *s = ctx;

	(void)vm_id;
	(void)name;
	(void)len;
	if (!lk_open_window(&s->lk))
		fail(s, "no room to open the channel");
	if (s->phase == PH_LINK)
		s->phase = PH_HELLO;
}

static void feed_agent(struct session *s, const uint8_t *bytes, size_t n);

static void lk_on_data(void *ctx, const uint8_t *bytes, size_t n)
{
	struct session *s = ctx;

	feed_agent(s, bytes, n);
	lk_consumed(&s->lk, (uint32_t)n, false);
}

static void lk_on_close(void *ctx)
{
	struct session *s = ctx;

	if (s->phase != PH_END)
		fail(s, "the guest agent closed its port before the program ended");
}

static void lk_on_vm_exit(void *ctx, int32_t status, const char *reason, size_t len)
{
	struct session *s = ctx;

	if (s->phase != PH_END)
		fail(s, "the VM stopped before the program ended (status %d: %.*s)", status,
		     (int)(len > 200 ? 200 : len), reason);
}

static void lk_on_error(void *ctx, uint32_t code, const char *text, size_t len)
{
	struct session *s = ctx;

	fail(s, "Vireo cut the link off (error %u: %.*s)", code, (int)(len > 200 ? 200 : len),
	     text);
}

/* Replies and events of the control plane: the gdb server's, if there is one. */
static void lk_on_control(void *ctx, uint16_t type, uint16_t chan, const uint8_t *payload,
			  size_t len)
{
	struct session *s = ctx;

	if (s->cc)
		ctl_client_frame(s->cc, type, chan, payload, len);
}

static const struct lk_ops lk_callbacks = {
    .hello = lk_on_hello,
    .open = lk_on_open,
    .data = lk_on_data,
    .close = lk_on_close,
    .vm_exit = lk_on_vm_exit,
    .error = lk_on_error,
    .control = lk_on_control,
};

/* ------------------------------------------------------------------ the agent protocol */

static void ah_on_hello(void *ctx, uint32_t version, const char *text, size_t len)
{
	struct session *s = ctx;

	(void)version;
	(void)text;
	(void)len;
	if (s->phase == PH_HELLO || s->phase == PH_LINK)
		s->phase = PH_COPY_IN;
}

static void ah_on_started(void *ctx, uint32_t pid)
{
	struct session *s = ctx;

	s->phase = PH_RUN;
	s->child->program_pid = (pid_t)pid;
	for (unsigned i = 0; i < s->npending_sig; i++)
		ah_signal(&s->ah, s->pending_sig[i]);
	s->npending_sig = 0;
}

static void ah_on_exec_failed(void *ctx, uint32_t err, const char *text, size_t len)
{
	struct session *s = ctx;
	int n = (int)(len > 400 ? 400 : len);

	if (err == ENOENT)
		set_status(s, VIREO_NOT_FOUND, (int)err, "%.*s", n, text);
	else
		set_status(s, VIREO_NOT_EXECUTABLE, (int)err, "%.*s", n, text);
	end_gracefully(s);
}

static void sink_take(struct session *s, unsigned stream, const uint8_t *p, size_t n)
{
	struct sink *k = &s->out[stream - AG_STREAM_STDOUT];

	if (k->kind == SINK_FD && !k->broken) {
		vring_put(&k->ring, p, n); /* within the window: it fits */
		return;
	}
	if (k->kind == SINK_MEMORY) {
		if (k->mem_len + n + 1 > k->mem_cap) {
			size_t cap = k->mem_cap ? k->mem_cap : 4096;
			char *m;

			while (cap < k->mem_len + n + 1)
				cap *= 2;
			m = realloc(k->mem, cap);
			if (!m) {
				fail(s, "out of memory for the program's output");
				return;
			}
			k->mem = m;
			k->mem_cap = cap;
		}
		memcpy(k->mem + k->mem_len, p, n);
		k->mem_len += n;
		k->mem[k->mem_len] = '\0';
	}
	ah_grant(&s->ah, stream, (uint32_t)n); /* taken (or dropped) at once */
}

static void ah_on_data(void *ctx, unsigned stream, const uint8_t *bytes, size_t n)
{
	struct session *s = ctx;

	if (stream == AG_STREAM_FILE) {
		if (s->xfer.fd >= 0)
			vring_put(&s->xfer.ring, bytes, n);
		else
			ah_grant(&s->ah, stream, (uint32_t)n);
		return;
	}
	sink_take(s, stream, bytes, n);
}

static void ah_on_eof(void *ctx, unsigned stream)
{
	struct session *s = ctx;

	s->out[stream - AG_STREAM_STDOUT].eof = true;
}

static void ah_on_exited(void *ctx, unsigned how, uint32_t value)
{
	struct session *s = ctx;

	if (how == AG_KILLED)
		set_status(s, VIREO_SIGNALED, (int)value, NULL);
	else
		set_status(s, VIREO_EXITED, (int)value, NULL);
	s->phase = PH_COPY_OUT;
	s->next_copy = 0;
}

static void xfer_close(struct session *s, bool ok_so_far);

static void ah_on_put_accepted(void *ctx)
{
	struct session *s = ctx;

	s->xfer.accepted = true;
}

static void ah_on_xfer_done(void *ctx, bool ok, uint32_t err, const char *text, size_t len)
{
	struct session *s = ctx;
	const struct vireo_copy *cp = s->xfer.copy;
	int n = (int)(len > 300 ? 300 : len);

	(void)err;
	if (s->phase == PH_COPY_IN) {
		if (!ok) {
			set_status(s, VIREO_COPY_FAILED, 0, "copying %s into the VM: %.*s",
				   cp->from, n, text);
			end_now(s);
			return;
		}
		xfer_close(s, true);
		return;
	}
	if (!ok) {
		s->copy_failed = true;
		snprintf(s->copy_error, sizeof(s->copy_error), "copying %s out of the VM: %.*s",
			 cp->from, n, text);
		xfer_close(s, false);
		return;
	}
	s->xfer.at_end = true; /* xfer_close once the ring is written out */
}

static int make_dirs(const char *path);

static int spawn_tar(struct session *s, const char *const argv[], bool extract)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int p[2], err;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, extract ? p[0] : p[1], extract ? 0 : 1);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/* posix_spawnp's argv is char *const[] for history's sake; it is not written. */
	err = posix_spawnp(&s->xfer.tar, "tar", &fa, &at, (char *const *)(uintptr_t)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(extract ? p[0] : p[1]);
	if (err) {
		close(extract ? p[1] : p[0]);
		s->xfer.tar = 0;
		return -err;
	}
	s->xfer.fd = extract ? p[1] : p[0];
	fcntl(s->xfer.fd, F_SETFL, O_NONBLOCK);
	return 0;
}

static void ah_on_get_started(void *ctx, uint32_t flags, uint32_t mode)
{
	struct session *s = ctx;
	const char *dest = s->xfer.dest;
	int rc;

	s->xfer.tar = 0;
	if (flags & AG_FLAG_TAR) {
		const char *argv[] = {"tar", "-x", "-f", "-", "--no-same-owner", "-C", dest, NULL};

		rc = make_dirs(dest);
		if (!rc)
			rc = spawn_tar(s, argv, true);
	} else {
		s->xfer.fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
				  mode ? mode : 0644);
		rc = s->xfer.fd < 0 ? -errno : 0;
	}
	s->xfer.mode = mode;
	if (rc) {
		/* Drop what comes; the copy has failed. */
		s->copy_failed = true;
		snprintf(s->copy_error, sizeof(s->copy_error), "copying out to %s: %s", dest,
			 strerror(-rc));
		s->xfer.fd = -1;
	}
}

static void ah_on_failed(void *ctx, uint32_t err, const char *text, size_t len)
{
	(void)ctx;
	(void)err;
	(void)text;
	(void)len; /* ah_feed fails right after, with the text */
}

static const struct ah_ops ah_callbacks = {
    .hello = ah_on_hello,
    .started = ah_on_started,
    .exec_failed = ah_on_exec_failed,
    .data = ah_on_data,
    .eof = ah_on_eof,
    .exited = ah_on_exited,
    .put_accepted = ah_on_put_accepted,
    .xfer_done = ah_on_xfer_done,
    .get_started = ah_on_get_started,
    .failed = ah_on_failed,
};

static void feed_agent(struct session *s, const uint8_t *bytes, size_t n)
{
	if (s->phase == PH_END && s->have_status && s->status.end != VIREO_EXITED &&
	    s->status.end != VIREO_SIGNALED)
		return; /* already over: nothing more matters */
	if (!ah_feed(&s->ah, bytes, n))
		fail(s, "the guest agent broke the protocol: %s", ah_error(&s->ah));
}

/* ------------------------------------------------------------------ copies */

static int make_dirs(const char *path)
{
	char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *c = p + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char was = *c;

		*c = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			int err = errno;

			free(p);
			return -err;
		}
		*c = was;
		if (!was)
			break;
	}
	free(p);
	return 0;
}

static const char *base_name(const char *path)
{
	size_t n = strlen(path);
	const char *b;

	while (n > 1 && path[n - 1] == '/')
		n--;
	b = memrchr(path, '/', n - 1 > 0 ? n - 1 : 0);
	return b ? b + 1 : path;
}

/* A guest path as the agent gets it: relative to the working directory; into a
 * directory (a trailing '/') under the source's name. */
static char *guest_path(const struct vireo_cmd *cmd, const char *path, const char *src)
{
	const char *cwd = cmd->cwd ? cmd->cwd : "/root";
	size_t n = strlen(path);
	char *out = NULL, *name = NULL;

	if (path[n - 1] == '/') {
		name = strdup(base_name(src));
		if (name)
			name[strcspn(name, "/")] = '\0';
	}
	if (asprintf(&out, "%s%s%s%s", path[0] == '/' ? "" : cwd, path[0] == '/' ? "" : "/", path,
		     name ? name : "") < 0)
		out = NULL;
	free(name);
	return out;
}

static void xfer_reset(struct session *s)
{
	if (s->xfer.fd >= 0)
		close(s->xfer.fd);
	kill_tar(s);
	free(s->xfer.dest);
	s->xfer.dest = NULL;
	s->xfer.fd = -1;
	s->xfer.active = s->xfer.accepted = s->xfer.at_end = s->xfer.eof_sent = false;
	s->xfer.ring.head = s->xfer.ring.len = 0;
}

/* A tar of ours has written or read everything: did it work? */
static bool tar_ok(struct session *s)
{
	int st;
	pid_t r;

	if (s->xfer.tar <= 0)
		return true;
	do
		r = waitpid(s->xfer.tar, &st, 0);
	while (r < 0 && errno == EINTR);
	s->xfer.tar = 0;
	return r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The current copy is over (the agent said so); on to the next. */
static void xfer_close(struct session *s, bool ok_so_far)
{
	if (s->phase == PH_COPY_OUT && ok_so_far) {
		if (s->xfer.fd >= 0)
			close(s->xfer.fd);
		s->xfer.fd = -1;
		if (!tar_ok(s)) {
			s->copy_failed = true;
			snprintf(s->copy_error, sizeof(s->copy_error),
				 "copying out to %s: tar -x failed", s->xfer.dest);
		}
	}
	xfer_reset(s);
	s->next_copy++;
}

static void start_copy_in(struct session *s, const struct vireo_copy *cp)
{
	struct stat st;
	char *dest = guest_path(s->cmd, cp->to, cp->from);
	uint32_t flags = 0, mode = 0;
	int rc = 0;

	s->xfer.active = true;
	s->xfer.copy = cp;
	if (!dest) {
		fail(s, "out of memory");
		return;
	}
	if (stat(cp->from, &st) != 0) {
		rc = -errno;
	} else if (S_ISDIR(st.st_mode)) {
		const char *argv[] = {
		    "tar", "-c",     "-f", "-", "--owner=0", "--group=0", "--numeric-owner",
		    "-C",  cp->from, ".",  NULL};

		flags = AG_FLAG_TAR;
		rc = spawn_tar(s, argv, false);
	} else {
		mode = st.st_mode & 07777;
		s->xfer.fd = open(cp->from, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		rc = s->xfer.fd < 0 ? -errno : 0;
	}
	if (rc) {
		set_status(s, VIREO_COPY_FAILED, 0, "copying %s into the VM: %s", cp->from,
			   strerror(-rc));
		end_now(s);
		free(dest);
		return;
	}
	if (!ah_put(&s->ah, mode, flags, dest))
		fail(s, "copying %s into the VM: the guest path is too long", cp->from);
	free(dest);
}

static void start_copy_out(struct session *s, const struct vireo_copy *cp)
{
	char *src = guest_path(s->cmd, cp->from, "");
	struct stat st;
	bool into =
	    cp->to[strlen(cp->to) - 1] == '/' || (stat(cp->to, &st) == 0 && S_ISDIR(st.st_mode));

	s->xfer.active = true;
	s->xfer.copy = cp;
	s->xfer.fd = -1;
	if (!src || (into ? asprintf(&s->xfer.dest, "%s/%s", cp->to, base_name(cp->from))
			  : asprintf(&s->xfer.dest, "%s", cp->to)) < 0) {
		free(src);
		s->xfer.dest = NULL;
		fail(s, "out of memory");
		return;
	}
	if (!ah_get(&s->ah, AG_FLAG_AUTO, src))
		fail(s, "copying %s out of the VM: the guest path is too long", cp->from);
	free(src);
}

/* Copy in: the source's bytes onto stream 4 while the agent's window has room. */
static void pump_copy_in(struct session *s, bool readable)
{
	struct xfer *x = &s->xfer;

	while (x->accepted && !x->at_end && (readable || x->tar <= 0)) {
		size_t max;
		uint8_t *p = ah_data_begin(&s->ah, AG_STREAM_FILE, IO_CHUNK, &max);
		ssize_t n;

		if (!p)
			return;
		n = read(x->fd, p, max);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			fail(s, "copying %s into the VM: %s", x->copy->from, strerror(errno));
			return;
		}
		if (n == 0) {
			x->at_end = true;
			if (!tar_ok(s)) {
				fail(s, "copying %s into the VM: tar -c failed", x->copy->from);
				return;
			}
			break;
		}
		ah_data_end(&s->ah, AG_STREAM_FILE, (size_t)n);
	}
	if (x->at_end && !x->eof_sent && ah_put_eof(&s->ah))
		x->eof_sent = true;
}

/* Copy out: what came on stream 4 into the file or the tar. */
static void pump_copy_out(struct session *s)
{
	struct xfer *x = &s->xfer;
	const uint8_t *p;
	size_t n;

	while (x->fd >= 0 && (n = vring_peek(&x->ring, &p)) > 0) {
		ssize_t w = write(x->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			s->copy_failed = true;
			snprintf(s->copy_error, sizeof(s->copy_error), "copying out to %s: %s",
				 x->dest, strerror(w < 0 ? errno : EIO));
			close(x->fd);
			x->fd = -1;
			kill_tar(s);
			ah_grant(&s->ah, AG_STREAM_FILE, (uint32_t)x->ring.len);
			x->ring.len = x->ring.head = 0;
			break;
		}
		vring_drop(&x->ring, (size_t)w);
		ah_grant(&s->ah, AG_STREAM_FILE, (uint32_t)w);
	}
	if (x->at_end && x->ring.len == 0)
		xfer_close(s, x->fd >= 0 || !s->copy_failed);
}

/* ------------------------------------------------------------------ the run's steps */

static void send_exec(struct session *s)
{
	const struct vireo_cmd *cmd = s->cmd;
	uint8_t *payload = malloc(VX_MAX_PAYLOAD);
	const char **env = calloc(cmd->nenv + 2, sizeof(char *));
	char *term = NULL;
	size_t len, n = 0;

	if (!payload || !env) {
		free(payload);
		free(env);
		fail(s, "out of memory");
		return;
	}
	for (size_t i = 0; i < cmd->nenv; i++) {
		env[n++] = cmd->env[i];
		if (strncmp(cmd->env[i], "TERM=", 5) == 0)
			term = cmd->env[i];
	}
	/* A terminal's program wants to know what terminal it talks to: the host's. */
	char host_term[128];

	if (cmd->tty && !term && getenv("TERM") && strlen(getenv("TERM")) < 100) {
		snprintf(host_term, sizeof(host_term), "TERM=%s", getenv("TERM"));
		env[n++] = host_term;
	}
	env[n] = NULL;
	if (ah_exec_payload((const char *const *)cmd->argv, env, cmd->cwd, cmd->tty, s->rows,
			    s->cols, payload, &len) != 0)
		fail(s, "the program's arguments and environment exceed %d bytes", VX_MAX_PAYLOAD);
	else if (!ah_exec(&s->ah, payload, len))
		fail(s, "no room to send the program");
	else
		s->phase = PH_EXEC;
	free(payload);
	free(env);
}

/* What each phase does next, when nothing is under way. */
static void advance(struct session *s)
{
	if (s->phase == PH_COPY_IN && !s->xfer.active) {
		if (s->next_copy < s->cmd->ncopy_in)
			start_copy_in(s, &s->cmd->copy_in[s->next_copy]);
		else
			send_exec(s);
	}
	if (s->phase == PH_COPY_OUT && !s->xfer.active) {
		if (s->next_copy < s->cmd->ncopy_out)
			start_copy_out(s, &s->cmd->copy_out[s->next_copy]);
		else
			end_gracefully(s);
	}
	if (s->phase == PH_RUN && s->in.at_end && !s->in.eof_sent && ah_stdin_eof(&s->ah))
		s->in.eof_sent = true;
	for (unsigned i = 0; i < 2; i++) {
		struct sink *k = &s->out[i];

		if (k->broken && !k->stop_sent && s->phase == PH_RUN && !k->eof &&
		    ah_stop_reading(&s->ah, AG_STREAM_STDOUT + i))
			k->stop_sent = true;
	}
	if (s->pending_winsize && s->phase == PH_RUN && ah_winsize(&s->ah, s->rows, s->cols))
		s->pending_winsize = false;
	if (s->pending_shutdown && ah_shutdown(&s->ah))
		s->pending_shutdown = false;
}

/* ------------------------------------------------------------------ requests from the API */

static void take_requests(struct session *s)
{
	struct ctl_msg m;

	while (read(s->child->ctl[0], &m, sizeof(m)) == (ssize_t)sizeof(m)) {
		switch (m.op) {
		case CTL_SIGNAL:
			if (s->phase == PH_RUN) {
				if (!ah_signal(&s->ah, m.a) &&
				    s->npending_sig < sizeof(s->pending_sig) / sizeof(int))
					s->pending_sig[s->npending_sig++] = m.a;
			} else if (s->phase < PH_RUN) {
				/* Before the program runs, a signal for it ends the VM as it
				 * would have ended the program. */
				set_status(s, VIREO_SIGNALED, m.a,
					   "signal %d before the program started", m.a);
				end_now(s);
			}
			break;
		case CTL_WINSIZE:
			s->rows = (unsigned)m.a;
			s->cols = (unsigned)m.b;
			s->pending_winsize = s->cmd->tty;
			break;
		case CTL_STOP:
			set_status(s, VIREO_STOPPED, SIGKILL, "the VM was stopped");
			end_now(s);
			break;
		default:
			break;
		}
	}
}

/* ------------------------------------------------------------------ the descriptors */

static void read_log(struct session *s)
{
	ssize_t n = read(s->log_fd, s->rbuf, sizeof(s->rbuf));

	if (n <= 0) {
		if (n == 0 || errno != EAGAIN) {
			close(s->log_fd);
			s->log_fd = -1;
		}
		return;
	}
	if (s->cmd->log_fd >= 0) {
		for (ssize_t w = 0, k; w < n; w += k) {
			k = write(s->cmd->log_fd, s->rbuf + w, (size_t)(n - w));
			if (k <= 0)
				break;
		}
	}
	for (ssize_t i = 0; i < n; i++) {
		s->log_tail[s->log_at] = (char)s->rbuf[i];
		s->log_at = (s->log_at + 1) % sizeof(s->log_tail);
	}
	s->log_len += (size_t)n;
}

static void link_gone(struct session *s)
{
	s->link_eof = true;
	if (s->phase == PH_END)
		return;
	/* QEMU closed it: it is ending. Give it a moment to say with what status. */
	for (int i = 0; i < 100 && s->qemu && !s->qemu_gone; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		reap_qemu(s, false);
		if (!s->qemu_gone)
			nanosleep(&ts, NULL);
	}
	if (!s->qemu)
		fail(s, "the connection to the guest agent closed before the program ended");
	else if (s->qemu_gone && WIFEXITED(s->qemu_status))
		fail(s, "QEMU exited with status %d before the program ended",
		     WEXITSTATUS(s->qemu_status));
	else if (s->qemu_gone)
		fail(s, "QEMU was killed by signal %d before the program ended",
		     WTERMSIG(s->qemu_status));
	else
		fail(s, "QEMU closed the channel before the program ended");
}

static void read_link(struct session *s)
{
	for (int rounds = 0; rounds < 4; rounds++) {
		ssize_t n;

		if (obuf_room(&s->agent_out) < ROOM_TO_READ ||
		    obuf_room(&s->link_out) < ROOM_TO_READ)
			return;
		n = recv(s->link_fd, s->rbuf, sizeof(s->rbuf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			link_gone(s);
			return;
		}
		if (s->link_mode) {
			if (!lk_feed(&s->lk, s->rbuf, (size_t)n))
				fail(s, "Vireo broke the link protocol: %s", s->lk.error);
		} else {
			feed_agent(s, s->rbuf, (size_t)n);
		}
		if (s->phase == PH_END && s->link_eof)
			return;
	}
}

static void write_link(struct session *s)
{
	while (!obuf_empty(&s->link_out)) {
		ssize_t n = send(s->link_fd, obuf_data(&s->link_out), obuf_len(&s->link_out),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			obuf_consume(&s->link_out, obuf_len(&s->link_out));
			link_gone(s);
			return;
		}
		obuf_consume(&s->link_out, (size_t)n);
	}
}

/* Agent-protocol bytes onto the link (wrapped in LINK_DATA under Vireo). */
static void pump_link(struct session *s)
{
	ah_flush(&s->ah, false);
	if (s->link_mode) {
		lk_wrap(&s->lk, &s->agent_out);
		lk_consumed(&s->lk, 0, obuf_empty(&s->agent_out));
		if (s->cc && !s->link_eof)
			ctl_client_take(s->cc, &s->link_out);
	}
}

static void pump_stdin(struct session *s, bool readable)
{
	struct source *in = &s->in;

	if (s->phase != PH_RUN || in->at_end)
		return;
	if (in->kind == SOURCE_NULL) {
		in->at_end = true;
		return;
	}
	while (!in->at_end) {
		size_t max;
		uint8_t *p = ah_data_begin(&s->ah, AG_STREAM_STDIN, IO_CHUNK, &max);
		ssize_t n;

		if (!p)
			return;
		if (in->kind == SOURCE_MEMORY) {
			n = (ssize_t)(in->mem_len - in->mem_at < max ? in->mem_len - in->mem_at
								     : max);
			if (n)
				memcpy(p, in->mem + in->mem_at, (size_t)n);
			in->mem_at += (size_t)n;
		} else {
			if (!readable)
				return;
			n = read(in->fd, p, max);
			readable = false; /* one read per poll: the descriptor may block */
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				return;
		}
		if (n <= 0) {
			in->at_end = true; /* an error reads as the end */
			break;
		}
		ah_data_end(&s->ah, AG_STREAM_STDIN, (size_t)n);
	}
}

/* Write a sink's ring out; `writable`: poll said so (for descriptors that may block). */
static void pump_sink(struct session *s, unsigned i, bool writable)
{
	struct sink *k = &s->out[i];
	const uint8_t *p;
	size_t n;

	while (k->kind == SINK_FD && !k->broken && (n = vring_peek(&k->ring, &p)) > 0) {
		ssize_t w;

		if (k->is_socket) {
			w = send(k->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else if (k->own_pipe || k->is_file) {
			w = write(k->fd, p, n);
		} else {
			/* A descriptor we may not make non-blocking (a terminal, a pipe of the
			 * caller's): one write of at most PIPE_BUF when poll says it has room. */
			if (!writable)
				return;
			writable = false;
			w = write(k->fd, p, n < PIPE_BUF ? n : PIPE_BUF);
		}
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (w <= 0) {
			/* The reader is gone: the program is told (AG_EOF), the rest dropped. */
			k->broken = true;
			ah_grant(&s->ah, AG_STREAM_STDOUT + i, (uint32_t)k->ring.len);
			k->ring.len = k->ring.head = 0;
			return;
		}
		vring_drop(&k->ring, (size_t)w);
		ah_grant(&s->ah, AG_STREAM_STDOUT + i, (uint32_t)w);
	}
}

static bool sinks_drained(const struct session *s)
{
	for (unsigned i = 0; i < 2; i++)
		if (s->out[i].kind == SINK_FD && !s->out[i].broken && s->out[i].ring.len)
			return false;
	return true;
}

static bool over(struct session *s)
{
	unsigned long long now = vireo_now_ms();

	if (s->phase != PH_END)
		return false;
	if (s->qemu && !s->qemu_gone) {
		if (!s->end_deadline_ms || now < s->end_deadline_ms)
			return false;
		kill_qemu(s); /* a clean power-off that never came */
	}
	if (s->cmd->connect_fd >= 0 && !s->link_eof && !obuf_empty(&s->link_out) &&
	    (!s->end_deadline_ms || now < s->end_deadline_ms))
		return false;
	if (!sinks_drained(s)) {
		bool graceful = s->status.end == VIREO_EXITED || s->status.end == VIREO_SIGNALED ||
				s->status.end == VIREO_NOT_FOUND ||
				s->status.end == VIREO_NOT_EXECUTABLE;

		if (graceful || now < s->end_deadline_ms)
			return false;
	}
	return true;
}

enum { P_LINK, P_LOG, P_CTL, P_QEMU, P_IN, P_OUT0, P_OUT1, P_XFER, P_GDB, P_N };

static int timeout_ms(const struct session *s)
{
	unsigned long long now = vireo_now_ms(), next = 0;
	unsigned long long deadlines[] = {
	    s->deadline_ms,
	    s->phase <= PH_HELLO ? s->boot_deadline_ms : 0,
	    s->phase == PH_END ? s->end_deadline_ms : 0,
	};

	for (size_t i = 0; i < sizeof(deadlines) / sizeof(deadlines[0]); i++)
		if (deadlines[i] && (!next || deadlines[i] < next))
			next = deadlines[i];
	if (s->qemu && !s->qemu_gone && s->qemu_pidfd < 0 && (!next || now + 100 < next))
		next = now + 100; /* no pidfd: look for QEMU's end now and then */
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now > INT_MAX ? INT_MAX : next - now);
}

static void check_clocks(struct session *s)
{
	unsigned long long now = vireo_now_ms();

	if (s->deadline_ms && now >= s->deadline_ms && s->phase != PH_END) {
		set_status(s, VIREO_TIMED_OUT, 0, "the time limit of %.3g s ran out",
			   (double)s->cmd->time_limit_ms / 1000);
		end_now(s);
	}
	if (s->phase <= PH_HELLO && s->boot_deadline_ms && now >= s->boot_deadline_ms)
		fail(s, "no word from the guest agent %d s after QEMU started",
		     VIREO_BOOT_TIMEOUT_MS / 1000);
}

static void loop_once(struct session *s)
{
	struct pollfd p[P_N];
	bool link_room =
	    obuf_room(&s->agent_out) >= ROOM_TO_READ && obuf_room(&s->link_out) >= ROOM_TO_READ;

	for (int i = 0; i < P_N; i++)
		p[i] = (struct pollfd){.fd = -1};
	if (!s->link_eof) {
		p[P_LINK].fd = s->link_fd;
		p[P_LINK].events =
		    (short)((link_room ? POLLIN : 0) | (obuf_empty(&s->link_out) ? 0 : POLLOUT));
	}
	p[P_LOG].fd = s->log_fd;
	p[P_LOG].events = POLLIN;
	p[P_CTL].fd = s->child->ctl[0];
	p[P_CTL].events = POLLIN;
	if (s->qemu && !s->qemu_gone) {
		p[P_QEMU].fd = s->qemu_pidfd;
		p[P_QEMU].events = POLLIN;
	}
	if (s->phase == PH_RUN && s->in.kind == SOURCE_FD && !s->in.at_end &&
	    ah_can_send(&s->ah, AG_STREAM_STDIN)) {
		p[P_IN].fd = s->in.fd;
		p[P_IN].events = POLLIN;
	}
	for (unsigned i = 0; i < 2; i++) {
		const struct sink *k = &s->out[i];

		if (k->kind == SINK_FD && !k->broken && k->ring.len) {
			p[P_OUT0 + i].fd = k->fd;
			p[P_OUT0 + i].events = POLLOUT;
		}
	}
	if (s->xfer.active && s->xfer.fd >= 0) {
		if (s->phase == PH_COPY_IN && s->xfer.accepted && !s->xfer.at_end &&
		    ah_can_send(&s->ah, AG_STREAM_FILE)) {
			p[P_XFER].fd = s->xfer.fd;
			p[P_XFER].events = POLLIN;
		} else if (s->phase == PH_COPY_OUT && s->xfer.ring.len) {
			p[P_XFER].fd = s->xfer.fd;
			p[P_XFER].events = POLLOUT;
		}
	}
	if (s->cc) {
		p[P_GDB].fd = ctl_client_wake_fd(s->cc);
		p[P_GDB].events = POLLIN;
	}
	if (poll(p, P_N, timeout_ms(s)) < 0 && errno != EINTR) {
		fail(s, "poll: %s", strerror(errno));
		return;
	}
	if (p[P_GDB].revents)
		ctl_client_drain_wake(s->cc); /* pump_link below takes the requests */
	if (p[P_CTL].revents)
		take_requests(s);
	if (p[P_LOG].revents)
		read_log(s);
	if (p[P_LINK].revents & POLLOUT)
		write_link(s);
	if (p[P_LINK].revents & (POLLIN | POLLHUP | POLLERR))
		read_link(s);
	if (s->qemu && !s->qemu_gone && (p[P_QEMU].revents || s->qemu_pidfd < 0)) {
		reap_qemu(s, false);
		if (s->qemu_gone && s->phase != PH_END)
			link_gone(s);
	}
	check_clocks(s);
	if (s->phase == PH_END && s->have_status && s->status.end != VIREO_EXITED &&
	    s->status.end != VIREO_SIGNALED && s->status.end != VIREO_NOT_FOUND &&
	    s->status.end != VIREO_NOT_EXECUTABLE) {
		/* Over by failure: only the output already here still goes out. */
		for (unsigned i = 0; i < 2; i++)
			pump_sink(s, i, p[P_OUT0 + i].revents != 0);
		return;
	}
	advance(s);
	pump_stdin(s, p[P_IN].revents != 0);
	for (unsigned i = 0; i < 2; i++)
		pump_sink(s, i, p[P_OUT0 + i].revents != 0);
	if (s->xfer.active && s->phase == PH_COPY_IN)
		pump_copy_in(s, p[P_XFER].revents != 0);
	else if (s->xfer.active && s->phase == PH_COPY_OUT)
		pump_copy_out(s);
	advance(s);
	pump_link(s);
	write_link(s);
}

/* ------------------------------------------------------------------ setup and teardown */

static int classify_sink(struct sink *k, int fd, bool own_pipe)
{
	struct stat st;

	k->fd = fd;
	k->own_pipe = own_pipe;
	if (vring_init(&k->ring, AH_WINDOW) != 0)
		return -1;
	if (own_pipe || fstat(fd, &st) != 0)
		return 0;
	k->is_socket = S_ISSOCK(st.st_mode);
	k->is_file = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
	if (S_ISFIFO(st.st_mode)) {
		/* A pipe of the caller's: a description of our own that may be non-blocking. */
		char name[64];
		int nb;

		snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
		nb = open(name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (nb >= 0) {
			close(fd);
			k->fd = nb;
			k->own_pipe = true;
		}
	}
	return 0;
}

static int session_init(struct session *s, struct vireo_child *c)
{
	const struct vireo_cmd *cmd = c->cmd;

	s->child = c;
	s->cmd = cmd;
	s->qemu_pidfd = -1;
	s->xfer.fd = -1;
	s->rows = cmd->rows;
	s->cols = cmd->cols;
	if (obuf_init(&s->agent_out, OBUF_CAP) || obuf_init(&s->link_out, OBUF_CAP) ||
	    vring_init(&s->xfer.ring, AH_WINDOW))
		return -1;
	s->link_mode = cmd->connect_fd >= 0 ? cmd->connect_link : cmd->mode == VIREO_MODE_VIREO;
	s->cc = s->link_mode ? c->gdb_cc : NULL;
	/* Without the link protocol the agent's bytes go straight out. */
	ah_init(&s->ah, &ah_callbacks, s, s->link_mode ? &s->agent_out : &s->link_out);
	lk_init(&s->lk, &lk_callbacks, s, &s->link_out, 1);
	s->phase = s->link_mode ? PH_LINK : PH_HELLO;
	s->link_fd = c->link_fd;
	s->log_fd = c->log_rd;
	/* stdin */
	if (c->capture[0]) {
		s->in.kind = SOURCE_MEMORY;
		s->in.mem = c->input;
		s->in.mem_len = c->input_len;
	} else if (c->sess_fd[0] >= 0) {
		s->in.kind = SOURCE_FD;
		s->in.fd = c->sess_fd[0];
	} else {
		s->in.kind = SOURCE_NULL;
	}
	for (unsigned i = 0; i < 2; i++) {
		struct sink *k = &s->out[i];

		k->fd = -1;
		if (c->capture[i + 1]) {
			k->kind = SINK_MEMORY;
		} else if (c->sess_fd[i + 1] >= 0) {
			k->kind = SINK_FD;
			if (classify_sink(k, c->sess_fd[i + 1], cmd->io[i + 1].how == VIREO_PIPE))
				return -1;
			c->sess_fd[i + 1] = k->fd;
		}
	}
	return 0;
}

static void session_free(struct session *s)
{
	struct vireo_child *c = s->child;

	kill_tar(s);
	if (s->xfer.fd >= 0)
		close(s->xfer.fd);
	free(s->xfer.dest);
	free(s->xfer.ring.buf);
	for (unsigned i = 0; i < 2; i++) {
		free(s->out[i].ring.buf);
		if (s->out[i].kind == SINK_MEMORY) {
			c->captured[i + 1] = s->out[i].mem;
			c->captured_len[i + 1] = s->out[i].mem_len;
		}
	}
	obuf_free(&s->agent_out);
	obuf_free(&s->link_out);
	if (s->qemu_pidfd >= 0)
		close(s->qemu_pidfd);
}

/* The console's tail as text, oldest first. */
static char *log_text(const struct session *s)
{
	size_t n = s->log_len < sizeof(s->log_tail) ? s->log_len : sizeof(s->log_tail);
	size_t start = (s->log_at + sizeof(s->log_tail) - n) % sizeof(s->log_tail);
	char *t = malloc(n + 1);

	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++)
		t[i] = s->log_tail[(start + i) % sizeof(s->log_tail)];
	t[n] = '\0';
	return t;
}

/* The run is over: a debugger that lets the VM run hears the program's status as the
 * VM's end (gdb: "exited with code N"), then the server goes with the VM. */
static void gdb_end(struct session *s)
{
	uint8_t end[4];

	if (!s->child->gdb)
		return;
	if (s->cc) {
		vx_put_u32(end, (uint32_t)s->status.code);
		ctl_client_frame(s->cc, LINK_VM_EXIT, 1, end, sizeof(end));
	}
	child_gdb_stop(s->child);
}

static void tell_spawn(struct vireo_child *c, int result)
{
	pthread_mutex_lock(&c->lock);
	c->start_result = result;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void *session_main(void *arg)
{
	struct vireo_child *c = arg;
	struct session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s || session_init(s, c) != 0) {
		snprintf(c->start_error, sizeof(c->start_error), "out of memory");
		if (s)
			session_free(s);
		free(s);
		tell_spawn(c, -ENOMEM);
		return NULL;
	}
	c->session = s;
	if (c->cmd->connect_fd < 0) {
		rc = vm_start_qemu(c);
		if (rc) {
			session_free(s);
			free(s);
			c->session = NULL;
			tell_spawn(c, rc);
			return NULL;
		}
		s->qemu = c->qemu_pid;
		s->qemu_pidfd = (int)syscall(SYS_pidfd_open, s->qemu, 0);
	}
	s->started_ms = vireo_now_ms();
	/* A debugger may hold the boot as long as it likes (vireo_cmd_gdb). */
	s->boot_deadline_ms = s->cc ? 0 : s->started_ms + VIREO_BOOT_TIMEOUT_MS;
	if (c->cmd->time_limit_ms)
		s->deadline_ms = s->started_ms + c->cmd->time_limit_ms;
	tell_spawn(c, 0);

	while (!over(s))
		loop_once(s);
	if (s->copy_failed) {
		/* The program's own failure says more; a success that lost its results is
		 * a failure of ours. */
		if (s->status.end == VIREO_EXITED && s->status.code == 0) {
			s->status.end = VIREO_COPY_FAILED;
			s->status.code = VIREO_EXIT_FAILURE;
		}
		snprintf(s->status.message, sizeof(s->status.message), "%s", s->copy_error);
	}
	gdb_end(s);
	kill_qemu(s);
	/* The last of the console (QEMU is gone: the pipe is at its end). */
	while (s->log_fd >= 0)
		read_log(s);

	pthread_mutex_lock(&c->lock);
	c->status = s->status;
	c->log = log_text(s);
	c->ended = true;
	pthread_mutex_unlock(&c->lock);
	session_free(s);
	free(s);
	c->session = NULL;
	/* Our ends of the stdio pipes: the caller reads EOF now. */
	for (int i = 0; i < 3; i++) {
		if (c->sess_fd[i] >= 0)
			close(c->sess_fd[i]);
		c->sess_fd[i] = -1;
	}
	close(c->done[1]);
	c->done[1] = -1;
	return NULL;
}
