/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libvireo's insides: the command as built, the child, the session its thread
 * runs. Only the functions of include/vireo.h are exported from the shared
 * library (VIREO_API); everything else is hidden.
 */
#ifndef VIREO_LIB_INTERNAL_H
#define VIREO_LIB_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "vireo.h"

#include "agent_host.h"
#include "link.h"
#include "obuf.h"

#define VIREO_API __attribute__((visibility("default")))

#define VIREO_MAX_DISKS	      8
#define VIREO_DEFAULT_MEMORY  (256ULL << 20)
#define VIREO_DEFAULT_HARTS   1
#define VIREO_BOOT_TIMEOUT_MS (180 * 1000) /* from QEMU's start to the agent's hello */
#define VIREO_LOG_TAIL	      (16 * 1024)

struct ctl_client;
struct gdb_server;

struct vireo_copy {
	char *from, *to;
};

struct vireo_cmd {
	char **argv;
	size_t argc;
	char **env; /* NAME=value */
	size_t nenv;
	char *cwd;
	struct {
		enum vireo_stdio how;
		int fd;
	} io[3];
	bool tty;
	unsigned rows, cols;
	uint64_t memory;
	unsigned vcpus, harts;
	char *kernel, *initramfs;
	bool no_initramfs;
	struct {
		char *path;
		bool readonly;
	} disks[VIREO_MAX_DISKS];
	unsigned ndisks;
	bool net; /* a network card on the default network, with the uplink */
	char *bootargs;
	uint64_t time_limit_ms;
	struct vireo_copy *copy_in, *copy_out;
	size_t ncopy_in, ncopy_out;
	enum vireo_mode mode;
	char *qemu, *hypervisor;
	char *qemu_machine; /* QEMU's -machine value; NULL: "virt" */
	int log_fd;
	int connect_fd;
	bool connect_link;
	char *machine;	     /* run in this machine's VM (docs/machine.md) */
	char *in_vm;	     /* ...in this VM of it (its agent), not a new one */
	bool fresh;	     /* ...in a VM booted for it, not a fork of the template */
	uint64_t fork_limit; /* ...a fork's limit on the pages it copies (0: the machine's) */
	int gdb_port;	     /* a gdb server for the VM on this port (0: any; -1: none) */
	bool gdb_wait;	     /* ...and the VM waits for it at its first instruction */
};

/* A byte ring, as big as the window granted for what it holds. */
struct vring {
	uint8_t *buf;
	size_t cap, head, len;
};

/* Where the program's stdout or stderr goes, on the host. */
struct sink {
	enum { SINK_NULL, SINK_FD, SINK_MEMORY } kind;
	int fd;
	bool own_pipe;	/* our end of a VIREO_PIPE: non-blocking */
	bool is_socket; /* send() without SIGPIPE and without blocking */
	bool is_file;	/* a regular file: a write never waits */
	struct vring ring;
	bool eof;    /* the agent ended the stream */
	bool broken; /* the reader went away: the program gets EPIPE */
	bool stop_sent;
	char *mem;
	size_t mem_len, mem_cap;
};

/* Where the program's stdin comes from. */
struct source {
	enum { SOURCE_NULL, SOURCE_FD, SOURCE_MEMORY } kind;
	int fd;
	bool is_socket;
	bool at_end;   /* read to its end */
	bool eof_sent; /* AG_EOF on stdin went out */
	const uint8_t *mem;
	size_t mem_len, mem_at;
};

enum phase {
	PH_LINK,     /* waiting for Vireo's LINK_HELLO and our channel's LINK_OPEN */
	PH_HELLO,    /* waiting for the agent's AG_HELLO */
	PH_COPY_IN,  /* AG_PUTs */
	PH_EXEC,     /* AG_EXEC sent, waiting for AG_STARTED */
	PH_RUN,	     /* the program runs */
	PH_COPY_OUT, /* AG_GETs */
	PH_END,	     /* over: QEMU going down, output draining */
};

/* A copy in or out under way. */
struct xfer {
	bool active;
	int fd;	   /* the file, or the tar's pipe */
	pid_t tar; /* a host tar, or 0 */
	const struct vireo_copy *copy;
	bool accepted, at_end, eof_sent;
	char *dest;	   /* copy-out: the host path written */
	struct vring ring; /* copy-out: bytes for fd */
	uint32_t mode;
};

struct session {
	struct vireo_child *child;
	const struct vireo_cmd *cmd;
	int link_fd;	 /* QEMU's chardev socket, or the connect fd */
	bool link_mode;	 /* the link protocol wraps the agent protocol */
	int log_fd;	 /* QEMU's stdout and stderr */
	int qemu_pidfd;	 /* readable when QEMU ends; -1 without pidfd_open */
	pid_t qemu;	 /* 0 once reaped */
	int qemu_status; /* waitpid status */
	bool qemu_gone;
	struct obuf agent_out; /* agent-protocol bytes for the guest */
	struct obuf link_out;  /* what goes to the socket (the same as agent_out if not link) */
	struct ah_core ah;
	struct lk_core lk;
	struct ctl_client *cc; /* the gdb server's requests ride on the link (or NULL) */
	enum phase phase;
	struct source in;
	struct sink out[2];
	size_t next_copy;
	struct xfer xfer;
	bool have_status;
	struct vireo_status status;
	bool copy_failed;
	unsigned long long started_ms, deadline_ms, boot_deadline_ms, end_deadline_ms;
	bool pending_shutdown;
	bool link_eof;
	char copy_error[400];
	/* Requests from the API (signals, window size, stop), waiting for room. */
	int pending_sig[16];
	unsigned npending_sig;
	bool pending_winsize;
	unsigned rows, cols;
	char log_tail[VIREO_LOG_TAIL];
	size_t log_len, log_at; /* a ring of the console's last bytes */
	uint8_t rbuf[64 * 1024];
};

/* Commands from the API to the child's thread, through a pipe (async-signal-safe). */
struct ctl_msg {
	int op; /* CTL_* */
	int a, b;
};
enum { CTL_SIGNAL = 1, CTL_WINSIZE, CTL_STOP };

struct vireo_child {
	struct vireo_cmd *cmd; /* the child's own copy */
	pthread_t thread;
	bool thread_started;
	int ctl[2];  /* API -> thread */
	int done[2]; /* the thread closes done[1] when the child has ended */
	int user_fd[3];
	int sess_fd[3]; /* the session's ends of the pipes, or copies of given descriptors */
	int link_fd, qemu_link_fd, log_rd, log_wr, bundle_fd;
	char **qemu_argv;
	char *qemu_path;
	/* The thread tells vireo_spawn whether QEMU started. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int start_result; /* 1 while unknown, then 0 or a negative errno */
	char start_error[512];
	pid_t qemu_pid;
	volatile pid_t program_pid;
	bool ended;
	struct vireo_status status;
	char *log;
	/* For vireo_run: the memory streams. */
	const uint8_t *input;
	size_t input_len;
	bool capture[3];
	char *captured[3];
	size_t captured_len[3];
	struct session *session;
	/* vireo_cmd_gdb: the server, and the control client the session's link serves. */
	struct ctl_client *gdb_cc;
	struct gdb_server *gdb;
	int gdb_port;
};

/* Errors: set this thread's message and return -err. */
int vireo_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* child.c: the gdb server's end (from the session's thread, or when the child goes). */
void child_gdb_stop(struct vireo_child *c);

/* cmd.c */
struct vireo_cmd *vireo_cmd_clone(const struct vireo_cmd *cmd);

/* vm.c: everything about the VM before the thread starts, and QEMU's start in it. */
int vm_prepare(struct vireo_child *c);
/* In the child's thread: fork and exec QEMU; 0 or -errno with start_error set. */
int vm_start_qemu(struct vireo_child *c);
/* Default files: the first of VIREO_<WHAT> (environment), next to the library, the
 * install's share/vireo. NULL if none exists (the caller frees the result). */
char *vm_default_file(const char *env, const char *build_rel, const char *share_rel);

/* machine.c: connect to a machine and make a request that turns the connection into a
 * VM's agent stream; 0 with *fd and the VM's id, or -errno with the last error set. */
struct mp_msg;
int machine_open_stream(const char *machine, struct mp_msg *req, int *fd, unsigned *id);

/* A program found in PATH (or name itself with a '/', if executable); NULL if none. */
char *vm_find_program(const char *name);

/* session.c: the thread. */
void *session_main(void *arg);

unsigned long long vireo_now_ms(void);

#endif
