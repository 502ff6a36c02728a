/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest agent: serves the agent protocol (docs/channel.md) on one
 * connection, the virtio port org.vireo.agent in the guest, a socket in the
 * host's unit tests. It runs the program the host asks for with pipes or a
 * pseudo-terminal, relays its stdio under the protocol's flow control,
 * delivers signals to its process group, reports its exit after its output
 * has drained, and copies files in and out (directories as tar streams).
 */
#ifndef VIREO_AGENT_H
#define VIREO_AGENT_H

#include <signal.h>

struct agent_opts {
	const char *const *env; /* the program's environment before AG_EXEC's entries */
	const char *cwd;	/* its working directory when AG_EXEC names none */
	const char *tar;	/* the tar to run for directories ("tar": searched in PATH) */
	const char *hello;	/* AG_HELLO's text; NULL: the kernel and machine from uname */
	/* Signals that end agent_serve() (returned in *sig); blocked by the caller. */
	const sigset_t *stop_signals;
};

enum agent_result {
	AGENT_SHUTDOWN, /* the host sent AG_SHUTDOWN */
	AGENT_HANGUP,	/* the host went away (EOF or an error on the connection) */
	AGENT_BROKEN,	/* the host broke the protocol and was cut off */
	AGENT_SIGNAL,	/* one of opts->stop_signals arrived */
	AGENT_FAILED,	/* the agent itself could not go on (out of memory) */
};

/*
 * Serve the host on fd until one of the above. The program and any helper
 * still running are killed before it returns. SIGCHLD must not be ignored;
 * every child of the calling process may be reaped (the agent is PID 1).
 */
enum agent_result agent_serve(int fd, const struct agent_opts *opts, int *sig);

#endif
