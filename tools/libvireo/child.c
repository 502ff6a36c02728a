// SPDX-License-Identifier: BSD-2-Clause
/* vireo_spawn, the child's API, and vireo_run (include/vireo.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"
#include "gdb_server.h"
#include "internal.h"
#include "mproto.h"
#include "qemu_run.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The gdb server goes with the VM (the session ends it first, with the program's status);
 * its last requests fail at once on the closed client. */
void child_gdb_stop(struct vireo_child *c)
{
	if (c->gdb_cc)
		ctl_client_closed(c->gdb_cc);
	gdb_server_stop(c->gdb);
	c->gdb = NULL;
	ctl_client_free(c->gdb_cc);
	c->gdb_cc = NULL;
}

static void child_destroy(struct vireo_child *c)
{
	child_gdb_stop(c);
	for (int i = 0; i < 3; i++) {
		close_fd(&c->user_fd[i]);
		close_fd(&c->sess_fd[i]);
		free(c->captured[i]);
	}
	close_fd(&c->ctl[0]);
	close_fd(&c->ctl[1]);
	close_fd(&c->done[0]);
	close_fd(&c->done[1]);
	close_fd(&c->link_fd);
	close_fd(&c->qemu_link_fd);
	close_fd(&c->log_rd);
	close_fd(&c->log_wr);
	close_fd(&c->bundle_fd);
	qemu_run_free_argv(c->qemu_argv);
	free(c->qemu_path);
	free(c->log);
	vireo_cmd_free(c->cmd);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

/* The session's and the caller's descriptors for stream i. */
static int setup_stream(struct vireo_child *c, int i)
{
	enum vireo_stdio how = c->cmd->io[i].how;
	int p[2];

	if (c->capture[i] || how == VIREO_NULL)
		return 0;
	if (how == VIREO_INHERIT || how == VIREO_FD) {
		int fd = how == VIREO_FD ? c->cmd->io[i].fd : i;

		c->sess_fd[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (c->sess_fd[i] < 0 && how == VIREO_FD)
			return vireo_fail(errno, "descriptor %d for stream %d: %s", fd, i,
					  strerror(errno));
		return 0; /* an inherited stream that is closed is as good as null */
	}
	if (pipe2(p, O_CLOEXEC) != 0)
		return vireo_fail(errno, "pipe: %s", strerror(errno));
	c->sess_fd[i] = i == 0 ? p[0] : p[1];
	c->user_fd[i] = i == 0 ? p[1] : p[0];
	fcntl(c->sess_fd[i], F_SETFL, O_NONBLOCK);
	return 0;
}

/* In a machine: a VM for the command (a fork of the template, a fresh boot, or one that
 * is there), its agent on the connection from then on. */
static int machine_connect_cmd(struct vireo_cmd *cmd)
{
	struct mp_msg m;
	int fd, rc;

	if (cmd->ndisks)
		return vireo_fail(EINVAL, "in a machine, disks are the machine's (vireo machine "
					  "start --disk) and a VM's (vireo vm create)");
	if (cmd->net)
		return vireo_fail(ENOTSUP, "networks in a machine are not there yet (issue #14)");
	if (cmd->qemu_machine)
		return vireo_fail(EINVAL, "in a machine, QEMU is the machine's: no --qemu-machine");
	mp_init(&m);
	if (cmd->in_vm) {
		mp_add(&m, "op", "attach");
		mp_add(&m, "name", "%s", cmd->in_vm);
	} else {
		mp_add(&m, "op", "exec");
		mp_add(&m, "fresh", "%d", cmd->fresh ? 1 : 0);
		if (cmd->memory)
			mp_add(&m, "memory", "%llu", (unsigned long long)cmd->memory);
		if (cmd->vcpus)
			mp_add(&m, "vcpus", "%u", cmd->vcpus);
		/* The daemon opens them: paths that mean the same there. */
		char *kernel = cmd->kernel ? realpath(cmd->kernel, NULL) : NULL;
		char *initrd = cmd->initramfs ? realpath(cmd->initramfs, NULL) : NULL;

		if ((cmd->kernel && !kernel) || (cmd->initramfs && !initrd)) {
			rc = vireo_fail(errno, "%s: %s", kernel ? cmd->initramfs : cmd->kernel,
					strerror(errno));
			free(kernel);
			mp_free(&m);
			return rc;
		}
		if (kernel)
			mp_add(&m, "kernel", "%s", kernel);
		if (initrd)
			mp_add(&m, "initrd", "%s", initrd);
		free(kernel);
		free(initrd);
		if (cmd->bootargs)
			mp_add(&m, "bootargs", "console=ttyS0 quiet vireo.exec %s", cmd->bootargs);
		if (cmd->fork_limit)
			mp_add(&m, "mem_limit", "%llu", (unsigned long long)cmd->fork_limit);
	}
	rc = machine_open_stream(cmd->machine, &m, &fd, NULL);
	if (rc)
		return rc;
	/* From here it is a connection that speaks the agent protocol. */
	cmd->connect_fd = fd;
	cmd->connect_link = false;
	return 0;
}

/* vireo_cmd_gdb: listen now, so that the port is known (and taken) when vireo_spawn
 * returns; the session's link carries the server's requests. On the caller's thread with
 * every signal blocked: the server's thread inherits that. */
static int gdb_start(struct vireo_child *c)
{
	const struct vireo_cmd *cmd = c->cmd;
	char err[256];
	int rc;

	if (cmd->gdb_port < 0)
		return 0;
	c->gdb_cc = ctl_client_new();
	if (!c->gdb_cc)
		return vireo_fail(ENOMEM, "out of memory");
	rc = gdb_server_start(&c->gdb, c->gdb_cc, 1 /* the exec VM's id */, (uint16_t)cmd->gdb_port,
			      err, sizeof(err));
	if (rc)
		return vireo_fail(-rc, "gdb server: %s", err);
	c->gdb_port = gdb_server_port(c->gdb);
	return 0;
}

static int spawn(const struct vireo_cmd *cmd, struct vireo_child **out, const bool capture[3],
		 const void *input, size_t input_len)
{
	struct vireo_child *c = calloc(1, sizeof(*c));
	sigset_t all, old;
	int rc = 0;

	*out = NULL;
	if (!c)
		return vireo_fail(ENOMEM, "out of memory");
	for (int i = 0; i < 3; i++) {
		c->user_fd[i] = c->sess_fd[i] = -1;
		c->capture[i] = capture && capture[i];
	}
	c->ctl[0] = c->ctl[1] = c->done[0] = c->done[1] = -1;
	c->link_fd = c->qemu_link_fd = c->log_rd = c->log_wr = c->bundle_fd = -1;
	c->gdb_port = -ENOENT;
	c->input = input;
	c->input_len = input_len;
	c->start_result = 1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->cmd = vireo_cmd_clone(cmd);
	if (!c->cmd) {
		child_destroy(c);
		return vireo_fail(ENOMEM, "out of memory");
	}
	if (pipe2(c->ctl, O_CLOEXEC | O_NONBLOCK) != 0 || pipe2(c->done, O_CLOEXEC) != 0) {
		rc = vireo_fail(errno, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (c->cmd->gdb_port >= 0 &&
	    (c->cmd->mode != VIREO_MODE_VIREO || c->cmd->machine || c->cmd->connect_fd >= 0)) {
		rc = vireo_fail(ENOTSUP, "a gdb server needs a VM under Vireo in a QEMU of its "
					 "own (not bare, not connected; in a machine, `vireo vm "
					 "gdb` serves a running VM)");
		goto fail;
	}
	for (int i = 0; i < 3 && !rc; i++)
		rc = setup_stream(c, i);
	if (rc)
		goto fail;
	if (c->cmd->machine) {
		rc = machine_connect_cmd(c->cmd);
		if (rc)
			goto fail;
	}
	if (c->cmd->connect_fd >= 0) {
		c->link_fd = fcntl(c->cmd->connect_fd, F_DUPFD_CLOEXEC, 3);
		if (c->link_fd < 0) {
			rc = vireo_fail(errno, "dup: %s", strerror(errno));
			goto fail;
		}
	} else {
		rc = vm_prepare(c);
		if (rc)
			goto fail;
	}
	/* The threads take no signal of the process's, whatever the caller blocks. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = gdb_start(c);
	if (!rc) {
		rc = -pthread_create(&c->thread, NULL, session_main, c);
		if (rc)
			vireo_fail(-rc, "cannot start a thread: %s", strerror(-rc));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		goto fail;
	c->thread_started = true;
	pthread_mutex_lock(&c->lock);
	while (c->start_result == 1)
		pthread_cond_wait(&c->cond, &c->lock);
	rc = c->start_result;
	pthread_mutex_unlock(&c->lock);
	if (rc) {
		pthread_join(c->thread, NULL);
		vireo_fail(-rc, "%s", c->start_error);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	child_destroy(c);
	return rc;
}

VIREO_API int vireo_spawn(const struct vireo_cmd *cmd, struct vireo_child **child)
{
	if (!cmd || !child)
		return vireo_fail(EINVAL, "vireo_spawn needs a command and a place for the child");
	return spawn(cmd, child, NULL, NULL, 0);
}

VIREO_API int vireo_child_fd(struct vireo_child *c, int stream)
{
	int fd;

	if (stream < 0 || stream > 2 || c->user_fd[stream] < 0)
		return vireo_fail(EBADF, "stream %d is not a pipe, or was taken already", stream);
	fd = c->user_fd[stream];
	c->user_fd[stream] = -1;
	return fd;
}

/* A request to the thread: one write() of a few bytes, which is async-signal-safe. */
static int request(struct vireo_child *c, int op, int a, int b)
{
	struct ctl_msg m = {op, a, b};

	if (write(c->ctl[1], &m, sizeof(m)) != (ssize_t)sizeof(m))
		return errno == EAGAIN ? -EAGAIN : -EPIPE;
	return 0;
}

VIREO_API int vireo_child_signal(struct vireo_child *c, int sig)
{
	if (sig < 1 || sig > 64)
		return -EINVAL;
	return request(c, CTL_SIGNAL, sig, 0);
}

VIREO_API int vireo_child_winsize(struct vireo_child *c, unsigned rows, unsigned cols)
{
	if (rows > 65535 || cols > 65535)
		return -EINVAL;
	return request(c, CTL_WINSIZE, (int)rows, (int)cols);
}

VIREO_API int vireo_child_stop(struct vireo_child *c)
{
	return request(c, CTL_STOP, 0, 0);
}

static void join(struct vireo_child *c)
{
	if (c->thread_started) {
		pthread_join(c->thread, NULL);
		c->thread_started = false;
	}
}

VIREO_API int vireo_child_wait(struct vireo_child *c, struct vireo_status *status)
{
	char byte;

	/* done[1] is closed by the thread at its very end. */
	while (read(c->done[0], &byte, 1) < 0 && errno == EINTR)
		;
	join(c);
	if (status)
		*status = c->status;
	return c->status.code;
}

VIREO_API int vireo_child_poll(struct vireo_child *c, struct vireo_status *status)
{
	struct pollfd p = {.fd = c->done[0], .events = POLLIN};

	if (poll(&p, 1, 0) <= 0)
		return -EAGAIN;
	return vireo_child_wait(c, status);
}

VIREO_API int vireo_child_done_fd(const struct vireo_child *c)
{
	return c->done[0];
}

VIREO_API pid_t vireo_child_pid(const struct vireo_child *c)
{
	return c->program_pid;
}

VIREO_API pid_t vireo_child_qemu_pid(const struct vireo_child *c)
{
	return c->qemu_pid;
}

VIREO_API int vireo_child_gdb_port(const struct vireo_child *c)
{
	return c->gdb_port;
}

VIREO_API const char *vireo_child_log(const struct vireo_child *c)
{
	bool ended;

	pthread_mutex_lock((pthread_mutex_t *)(uintptr_t)&c->lock);
	ended = c->ended;
	pthread_mutex_unlock((pthread_mutex_t *)(uintptr_t)&c->lock);
	return ended && c->log ? c->log : "";
}

VIREO_API void vireo_child_free(struct vireo_child *c)
{
	if (!c)
		return;
	if (vireo_child_poll(c, NULL) == -EAGAIN) {
		vireo_child_stop(c);
		vireo_child_wait(c, NULL);
	}
	join(c);
	child_destroy(c);
}

VIREO_API int vireo_run(const struct vireo_cmd *cmd, const void *input, size_t len,
			struct vireo_output *output, struct vireo_status *status)
{
	struct vireo_child *c;
	bool capture[3];
	int rc;

	if (output)
		memset(output, 0, sizeof(*output));
	if (!cmd)
		return vireo_fail(EINVAL, "vireo_run needs a command");
	for (int i = 0; i < 3; i++)
		capture[i] = cmd->io[i].how == VIREO_PIPE;
	rc = spawn(cmd, &c, capture, input, input ? len : 0);
	if (rc)
		return rc;
	rc = vireo_child_wait(c, status);
	if (output) {
		char **slot[3] = {NULL, &output->out, &output->err};
		size_t *lens[3] = {NULL, &output->out_len, &output->err_len};

		for (int i = 1; i < 3; i++) {
			*slot[i] = c->captured[i] ? c->captured[i] : calloc(1, 1);
			*lens[i] = c->captured_len[i];
			c->captured[i] = NULL;
		}
	}
	vireo_child_free(c);
	return rc;
}

VIREO_API void vireo_output_free(struct vireo_output *o)
{
	if (!o)
		return;
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof(*o));
}
