// SPDX-License-Identifier: BSD-2-Clause
/* Runs one expanded simple command: assignments, builtin, or fork + execvp. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sh.h"

bool sh_apply_redirs(const struct sh_cmd *cmd, int saved[3])
{
	if (saved) {
		for (int fd = 0; fd < 3; fd++)
			saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	}
	for (int i = 0; i < cmd->nredir; i++) {
		const struct sh_redir *r = &cmd->redirs[i];

		if (!r->path) {
			dup2(r->dup_from, r->fd);
			continue;
		}
		int fd = open(r->path, r->flags | O_CLOEXEC, 0666);

		if (fd < 0) {
			fprintf(stderr, "sh: %s: %s\n", r->path, strerror(errno));
			return false;
		}
		dup2(fd, r->fd);
		close(fd);
	}
	return true;
}

void sh_restore_fds(int saved[3])
{
	fflush(stdout);
	fflush(stderr);
	for (int fd = 0; fd < 3; fd++) {
		if (saved[fd] >= 0) {
			dup2(saved[fd], fd);
			close(saved[fd]);
		}
	}
}

/* Runs in the shell itself, with its redirections undone afterwards. */
static int sh_in_shell(const struct sh_cmd *cmd, sh_builtin_fn builtin)
{
	int saved[3], status = 0;
	bool ok = sh_apply_redirs(cmd, saved);

	if (ok && cmd->argc == 0) {
		for (int i = 0; i < cmd->nassign; i++)
			putenv(strdup(cmd->assigns[i]));
	} else if (ok) {
		status = builtin(cmd->argc, cmd->argv);
	}
	sh_restore_fds(saved);
	return ok ? status : 1;
}

static void sh_child(const struct sh_cmd *cmd)
{
	/* The shell ignores ^C; the command it runs must not. */
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGTSTP, SIG_DFL);
	if (!sh_apply_redirs(cmd, NULL))
		_exit(1);
	for (int i = 0; i < cmd->nassign; i++)
		putenv(cmd->assigns[i]);
	execvp(cmd->argv[0], cmd->argv);

	int err = errno;

	if (err == ENOENT && !strchr(cmd->argv[0], '/'))
		fprintf(stderr, "sh: %s: not found\n", cmd->argv[0]);
	else
		fprintf(stderr, "sh: %s: %s\n", cmd->argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

/* Turns a wait status into $?, saying why a command died of a signal. */
static int sh_wait_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	int sig = WTERMSIG(ws);

	if (sig == SIGINT)
		fputc('\n', stderr);
	else if (sig != SIGPIPE)
		fprintf(stderr, "%s%s\n", strsignal(sig), WCOREDUMP(ws) ? " (core dumped)" : "");
	return 128 + sig;
}

int sh_exec(const struct sh_cmd *cmd)
{
	sh_builtin_fn builtin = cmd->argc ? sh_find_builtin(cmd->argv[0]) : NULL;

	if (cmd->argc == 0 || builtin)
		return sh_in_shell(cmd, builtin);

	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "sh: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0)
		sh_child(cmd);

	int ws;

	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "sh: waitpid: %s\n", strerror(errno));
			return 2;
		}
	}
	return sh_wait_status(ws);
}
