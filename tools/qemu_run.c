// SPDX-License-Identifier: BSD-2-Clause
/* The QEMU command line, and running it as a child that gets our signals. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu_run.h"

struct argv_vec {
	char **v;
	size_t n;
};

static void *xalloc(void *p)
{
	if (!p) {
		fputs("vireo: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

static void push_owned(struct argv_vec *a, char *arg)
{
	/* Always one slot more, for the terminating NULL. */
	a->v = xalloc(realloc(a->v, (a->n + 2) * sizeof(char *)));
	a->v[a->n++] = arg;
	a->v[a->n] = NULL;
}

static void push(struct argv_vec *a, const char *arg)
{
	push_owned(a, xalloc(strdup(arg)));
}

static void pushf(struct argv_vec *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pushf(struct argv_vec *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	push_owned(a, xalloc(s));
}

/* QEMU option values separate sub-options with ',': a literal comma is ",,". */
static char *qemu_escape(const char *s)
{
	char *out = xalloc(malloc(2 * strlen(s) + 1)), *o = out;

	for (; *s; s++) {
		*o++ = *s;
		if (*s == ',')
			*o++ = ',';
	}
	*o = '\0';
	return out;
}

static void push_split(struct argv_vec *a, const char *s)
{
	const char *ws = " \t\n";

	for (s += strspn(s, ws); *s; s += strspn(s, ws)) {
		size_t len = strcspn(s, ws);
		push_owned(a, xalloc(strndup(s, len)));
		s += len;
	}
}

static void push_disks(struct argv_vec *a, const struct qemu_run_opts *o)
{
	for (size_t i = 0; i < o->ndisks; i++) {
		char *file = qemu_escape(o->disks[i]);
		push(a, "-drive");
		pushf(a, "file=%s,if=none,format=raw,id=hd%zu%s", file, i,
		      o->disks_ro && o->disks_ro[i] ? ",readonly=on" : "");
		push(a, "-device");
		pushf(a, "virtio-blk-device,drive=hd%zu", i);
		free(file);
	}
}

/* The channel: a virtio-serial device whose port's chardev is a socket QEMU inherited. */
static void push_channel(struct argv_vec *a, const struct qemu_run_opts *o)
{
	if (o->link_fd < 0 && o->agent_fd < 0)
		return;
	push(a, "-device");
	push(a, "virtio-serial-device");
	if (o->link_fd >= 0) {
		/* Port 0, without multiport: Vireo's host driver speaks the link protocol on it. */
		push(a, "-chardev");
		pushf(a, "socket,id=vireo-link,fd=%d", o->link_fd);
		push(a, "-device");
		push(a, "virtconsole,chardev=vireo-link");
	}
	if (o->agent_fd >= 0) {
		push(a, "-chardev");
		pushf(a, "socket,id=vireo-agent,fd=%d", o->agent_fd);
		push(a, "-device");
		push(a, "virtserialport,chardev=vireo-agent,name=org.vireo.agent");
	}
}

/* The default network's uplink: QEMU's user-mode network (slirp) behind a virtio-net
 * device, which Vireo drives; port forwards go to the VMs' fixed addresses. */
static void push_uplink(struct argv_vec *a, const struct qemu_run_opts *o)
{
	size_t len = strlen("user,id=net0") + 1;
	char *netdev;

	if (!o->net_uplink)
		return;
	for (size_t i = 0; i < o->nhostfwd; i++)
		len += strlen(",hostfwd=") + 2 * strlen(o->hostfwd[i]);
	netdev = xalloc(malloc(len));
	strcpy(netdev, "user,id=net0");
	for (size_t i = 0; i < o->nhostfwd; i++) {
		char *rule = qemu_escape(o->hostfwd[i]);
		strcat(netdev, ",hostfwd=");
		strcat(netdev, rule);
		free(rule);
	}
	push(a, "-netdev");
	push_owned(a, netdev);
	push(a, "-device");
	push(a, "virtio-net-device,netdev=net0");
}

char **qemu_run_argv(const struct qemu_run_opts *o)
{
	struct argv_vec a = {0};
	uint64_t mib = o->memory >> 20;

	push(&a, o->qemu);
	push(&a, "-machine");
	push(&a, o->machine ? o->machine : "virt");
	push(&a, "-cpu");
	push(&a, o->cpu);
	push(&a, "-smp");
	pushf(&a, "%u", o->harts);
	push(&a, "-m");
	if (mib % 1024 == 0)
		pushf(&a, "%lluG", (unsigned long long)(mib / 1024));
	else
		pushf(&a, "%lluM", (unsigned long long)mib);
	push(&a, "-bios");
	push(&a, "default");
	push(&a, "-nographic");
	push(&a, "-kernel");
	push(&a, o->kernel);
	if (o->initrd) {
		push(&a, "-initrd");
		push(&a, o->initrd);
	}
	if (o->append) {
		push(&a, "-append");
		push(&a, o->append);
	}
	push_disks(&a, o);
	push_channel(&a, o);
	/* QEMU 7.2 defaults to legacy virtio-mmio (version 1); Vireo drives version 2, for
	 * disks, the channel and any other device given with --qemu-arg. */
	push(&a, "-global");
	push(&a, "virtio-mmio.force-legacy=false");
	push_uplink(&a, o);
	for (size_t i = 0; i < o->nextra; i++)
		push_split(&a, o->extra[i]);
	return a.v;
}

void qemu_run_free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+@%-",
			*s))
			return false;
	return true;
}

char *qemu_run_command_line(char *const argv[])
{
	size_t len = 1;
	char *out, *o;

	for (char *const *p = argv; *p; p++)
		len += 4 * strlen(*p) + 3; /* worst case: every char is a quote */
	o = out = xalloc(malloc(len));
	for (char *const *p = argv; *p; p++) {
		if (p != argv)
			*o++ = ' ';
		if (shell_safe(*p)) {
			o = stpcpy(o, *p);
			continue;
		}
		*o++ = '\'';
		for (const char *s = *p; *s; s++) {
			if (*s == '\'')
				o = stpcpy(o, "'\\''"); /* close, escaped quote, reopen */
			else
				*o++ = *s;
		}
		*o++ = '\'';
	}
	*o = '\0';
	return out;
}

/* ------------------------------------------------------------------ running */

static volatile sig_atomic_t child_pid;

/* ^C or a kill of `vireo run` is meant for the machine: pass it on. */
static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

struct saved_signals {
	sigset_t mask;
	struct sigaction intr, term;
};

/* A signal ignored on entry (nohup, a background job) stays ignored, in QEMU too. */
static void forward_unless_ignored(int sig, const struct sigaction *sa, struct sigaction *old)
{
	sigaction(sig, NULL, old);
	if (old->sa_handler != SIG_IGN)
		sigaction(sig, sa, NULL);
}

static void install_forwarding(struct saved_signals *saved)
{
	struct sigaction sa = {.sa_handler = forward_signal, .sa_flags = SA_RESTART};
	sigset_t block;

	/* Blocked until the child's pid is known, so that no signal is lost in between. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &saved->mask);
	sigemptyset(&sa.sa_mask);
	forward_unless_ignored(SIGINT, &sa, &saved->intr);
	forward_unless_ignored(SIGTERM, &sa, &saved->term);
}

static void restore_signals(const struct saved_signals *saved)
{
	sigaction(SIGINT, &saved->intr, NULL);
	sigaction(SIGTERM, &saved->term, NULL);
	sigprocmask(SIG_SETMASK, &saved->mask, NULL);
}

/* In the child: QEMU gets the signal dispositions we had; an exec failure goes up the pipe. */
__attribute__((noreturn)) static void exec_child(char *const argv[],
						 const struct saved_signals *saved, int report_fd)
{
	int err;

	/* Handlers become SIG_DFL at exec; SIG_IGN stays. */
	sigaction(SIGINT, &saved->intr, NULL);
	sigaction(SIGTERM, &saved->term, NULL);
	sigprocmask(SIG_SETMASK, &saved->mask, NULL);
	execvp(argv[0], argv);
	err = errno;
	if (write(report_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

static int wait_child(pid_t pid, int report_fd, int *exec_errno)
{
	int status;
	ssize_t n;

	do
		n = read(report_fd, exec_errno, sizeof(*exec_errno));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*exec_errno))
		*exec_errno = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int start_error(char *const argv[], int err, char **msg)
{
	int n;

	if (err == ENOENT && strcmp(argv[0], QEMU_RUN_DEFAULT_QEMU) == 0)
		n = asprintf(msg, "'%s' not found: %s (Debian package qemu-system-misc)", argv[0],
			     strerror(err));
	else
		n = asprintf(msg, "cannot run '%s': %s", argv[0], strerror(err));
	if (n < 0)
		xalloc(NULL);
	return -1;
}

int qemu_run(char *const argv[], char **err)
{
	struct saved_signals saved;
	int pipefd[2], exec_errno = 0, status;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return start_error(argv, errno, err);
	install_forwarding(&saved);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		exec_child(argv, &saved, pipefd[1]);
	}
	close(pipefd[1]);
	if (pid < 0) {
		int e = errno;
		close(pipefd[0]);
		restore_signals(&saved);
		return start_error(argv, e, err);
	}
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &saved.mask, NULL); /* pending ^C now reaches QEMU */
	status = wait_child(pid, pipefd[0], &exec_errno);
	close(pipefd[0]);
	child_pid = 0;
	restore_signals(&saved);
	if (exec_errno)
		return start_error(argv, exec_errno, err);
	if (status < 0)
		return start_error(argv, errno, err);
	return status;
}
