/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libvireo: run a program in a fresh RISC-V Linux VM as easily as a
 * subprocess.
 *
 *	struct vireo_cmd *cmd = vireo_cmd_new("sort");
 *	struct vireo_output out;
 *	struct vireo_status st;
 *
 *	vireo_cmd_stdio(cmd, VIREO_STDOUT, VIREO_PIPE, -1);
 *	vireo_run(cmd, "b\na\n", 4, &out, &st);   // out.out is "a\nb\n", st.code 0
 *
 * A command is a program, its arguments, environment and working directory,
 * what its stdin, stdout and stderr are, and the VM it runs in (memory,
 * vCPUs, kernel, initramfs, disks, a time limit, files copied in before it
 * starts and out after it ends). vireo_spawn() boots the VM under Vireo on
 * QEMU (qemu-system-riscv64 -machine virt -cpu rv64,h=true) and starts the
 * program; the child it returns has pipe descriptors, can be signalled, and
 * is waited for like a process. vireo_run() does all of it and captures the
 * output. Each child has its own QEMU and its own VM; any number may run at
 * once.
 *
 * Nothing is left behind: QEMU is killed when the thread that started it
 * ends (when the process ends, even by SIGKILL), the boot bundle is an
 * anonymous memory file and the link to QEMU a socketpair -- no temporary
 * file, no socket in the file system.
 *
 * Threads: each child has one thread of the library's own, which starts
 * QEMU, relays the program's stdio and reaps QEMU (with waitpid on its pid:
 * do not reap every child with waitpid(-1) meanwhile). It blocks all signals
 * and never raises SIGPIPE. A child with a gdb server (vireo_cmd_gdb) has a
 * second thread, the server's, alike.
 *
 * Errors: functions that can fail return 0 (or a descriptor, a status) on
 * success and a negative errno on failure; vireo_last_error() then describes
 * it in a sentence (per thread). Sizes are bytes, times milliseconds.
 *
 * Exit statuses (struct vireo_status.code) follow docker, podman and libkrun:
 * the program's own 0..255; 128 + N when signal N killed it; 127 when the
 * program was not found, 126 when it could not be executed; 125 when Vireo,
 * QEMU, the guest or its agent failed (status.message says why, and
 * vireo_child_log() has the tail of the VM's console); 124 when the time
 * limit ran out; 137 when vireo_child_stop() ended the VM.
 */
#ifndef VIREO_H
#define VIREO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIREO_VERSION "0.1.0"

#define VIREO_EXIT_TIMEOUT	  124
#define VIREO_EXIT_FAILURE	  125
#define VIREO_EXIT_CANNOT_EXECUTE 126
#define VIREO_EXIT_NOT_FOUND	  127
#define VIREO_EXIT_STOPPED	  137 /* 128 + SIGKILL: the VM was ended from outside */

/* The program's standard streams. */
enum { VIREO_STDIN = 0, VIREO_STDOUT = 1, VIREO_STDERR = 2 };

/* What each of them is connected to. */
enum vireo_stdio {
	VIREO_INHERIT = 0, /* the caller's own stdin, stdout or stderr (the default) */
	VIREO_PIPE,	   /* a pipe; vireo_child_fd() gives the caller's end */
	VIREO_NULL,	   /* nothing: stdin is at its end, output is discarded */
	VIREO_FD,	   /* a descriptor of the caller's (duplicated at spawn) */
};

/* Where the VM runs. */
enum vireo_mode {
	VIREO_MODE_VIREO = 0, /* under the Vireo hypervisor on QEMU (the default) */
	VIREO_MODE_BARE,      /* the same kernel on plain QEMU, no hypervisor (a reference) */
};

/* How a run ended. */
enum vireo_end {
	VIREO_EXITED,	      /* the program exited; value is its status */
	VIREO_SIGNALED,	      /* a signal killed it; value is the signal */
	VIREO_NOT_FOUND,      /* the program does not exist (code 127); value is an errno */
	VIREO_NOT_EXECUTABLE, /* it could not be executed (code 126); value is an errno */
	VIREO_TIMED_OUT,      /* the time limit ran out (code 124) */
	VIREO_STOPPED,	      /* vireo_child_stop() ended the VM (code 137) */
	VIREO_FAILED,	      /* Vireo, QEMU, the guest or its agent failed (code 125) */
	VIREO_COPY_FAILED,    /* a copy in or out failed (code 125 unless the program failed) */
};

struct vireo_status {
	int code; /* the exit status, 0..255, as above */
	enum vireo_end end;
	int value;
	char message[512]; /* why, when end is neither VIREO_EXITED nor VIREO_SIGNALED */
};

struct vireo_cmd;
struct vireo_child;

/* The library's version, VIREO_VERSION. */
const char *vireo_version(void);
/* The last error of this thread, in a sentence ("" if none). */
const char *vireo_last_error(void);

/* ------------------------------------------------------------------ the command */

/* A command running `program` (searched in the guest's PATH unless it has a '/'). NULL when
 * out of memory. Everything below has a default that works with Vireo's own kernel and
 * initramfs (build/linux/ next to the library, or PREFIX/share/vireo when installed). */
struct vireo_cmd *vireo_cmd_new(const char *program);
void vireo_cmd_free(struct vireo_cmd *cmd);
/* One more argument (after the program, which is argv[0]). */
int vireo_cmd_arg(struct vireo_cmd *cmd, const char *arg);
/* An environment variable (replacing one of the same name). The program's environment is
 * the agent's (PATH, HOME=/root, TERM, ...) plus these; the host's own is not passed. */
int vireo_cmd_env(struct vireo_cmd *cmd, const char *name, const char *value);
/* The working directory in the guest (created if missing; default /root). */
int vireo_cmd_cwd(struct vireo_cmd *cmd, const char *dir);
/* Stream VIREO_STDIN/STDOUT/STDERR connected as `how`; fd is used with VIREO_FD only. */
int vireo_cmd_stdio(struct vireo_cmd *cmd, int stream, enum vireo_stdio how, int fd);
/* A pseudo-terminal for the program (its stdin, stdout and stderr; its stderr stream then
 * carries nothing), rows x cols characters (0, 0: 24 x 80). */
int vireo_cmd_tty(struct vireo_cmd *cmd, bool on, unsigned rows, unsigned cols);

/* The VM: RAM in bytes (a multiple of 2 MiB, default 256 MiB); vCPUs (default: harts);
 * harts of the QEMU machine (default 1). */
int vireo_cmd_memory(struct vireo_cmd *cmd, uint64_t bytes);
int vireo_cmd_vcpus(struct vireo_cmd *cmd, unsigned n);
int vireo_cmd_harts(struct vireo_cmd *cmd, unsigned n);
/* The guest kernel (a Linux Image) and initramfs; initramfs NULL: none (a root disk with
 * the agent as its init, and root=... in the boot arguments). */
int vireo_cmd_kernel(struct vireo_cmd *cmd, const char *path);
int vireo_cmd_initramfs(struct vireo_cmd *cmd, const char *path);
/* A raw disk image, /dev/vda, /dev/vdb, ... in the guest (under Vireo: one per VM). */
int vireo_cmd_disk(struct vireo_cmd *cmd, const char *path, bool readonly);
/* A network card on the default network (docs/networking.md): QEMU's user-mode network
 * behind it, DHCP at boot, the host's loopback at 10.0.2.2. Off by default. */
int vireo_cmd_net(struct vireo_cmd *cmd, bool on);
/* Kernel command-line arguments added to Vireo's own. */
int vireo_cmd_bootargs(struct vireo_cmd *cmd, const char *args);
/* The VM ends after this many milliseconds in all (0: no limit, the default): code 124. */
int vireo_cmd_time_limit(struct vireo_cmd *cmd, uint64_t ms);
/* A host file or directory copied to `guest` before the program starts (a directory
 * becomes `guest`, created with its parents; a guest path ending in '/' receives the file
 * under its own name). Relative guest paths are relative to the working directory. */
int vireo_cmd_copy_in(struct vireo_cmd *cmd, const char *host, const char *guest);
/* A guest file or directory copied to `host` after the program ends (into an existing
 * host directory under its own name). A failed copy makes the code 125 if it was 0. */
int vireo_cmd_copy_out(struct vireo_cmd *cmd, const char *guest, const char *host);
int vireo_cmd_mode(struct vireo_cmd *cmd, enum vireo_mode mode);
/* The QEMU binary (default qemu-system-riscv64 in PATH) and Vireo's image (vireo.bin). */
int vireo_cmd_qemu(struct vireo_cmd *cmd, const char *path);
int vireo_cmd_hypervisor(struct vireo_cmd *cmd, const char *path);
/* QEMU's -machine value (default "virt"), e.g. "virt,aia=aplic-imsic,aia-guests=2" for
 * an AIA machine (docs/aia.md); NULL: the default. Checked by QEMU when the VM starts. */
int vireo_cmd_qemu_machine(struct vireo_cmd *cmd, const char *machine);
/* QEMU's own output (firmware, Vireo, the kernel) also goes to fd as it comes (-1: kept
 * only as the tail that vireo_child_log() returns). */
int vireo_cmd_log(struct vireo_cmd *cmd, int fd);
/*
 * A gdb server for the command's VM (docs/debugging.md): the remote protocol of
 * gdb-multiarch on 127.0.0.1:port, from vireo_spawn() for as long as the child runs (0: a
 * free port, vireo_child_gdb_port() says which; -1: none, the default). wait: the VM waits
 * at its first instruction until a debugger continues it. While a server is there the boot
 * has no time limit (a debugger may hold the VM as long as it likes; vireo_cmd_time_limit
 * still counts), and gdb is told the program's exit status when the child ends ("exited
 * with code N"). Only under Vireo with a QEMU of the child's own: vireo_spawn() fails with
 * -ENOTSUP in VIREO_MODE_BARE, in a machine or with vireo_cmd_connect(), and with bind()'s
 * errno (-EADDRINUSE, ...) when it cannot listen. -EINVAL: port not -1..65535.
 */
int vireo_cmd_gdb(struct vireo_cmd *cmd, int port, bool wait);
/* No VM: speak the link protocol (link true) or the agent protocol straight on fd, a
 * connected stream socket (duplicated). For tests and other transports. */
int vireo_cmd_connect(struct vireo_cmd *cmd, int fd, bool link);
/*
 * Run in a machine (below) instead of a QEMU of its own: in a VM booted for it (what
 * memory, vCPUs, kernel, initramfs and bootargs say). Once Vireo can fork, a machine
 * with a template will fork it instead (no boot) unless fresh is set or the command
 * sets any of those differently from the template;
 * with in_vm, in that VM of the machine, which must be running Vireo's agent and have
 * no client (it ends with the program). Disks and the QEMU options are the machine's.
 * fork_limit: bytes of memory the fork may copy (0: the machine's default, 64 MiB); a
 * fork that reaches it ends with code 125.
 */
int vireo_cmd_machine(struct vireo_cmd *cmd, const char *machine);
int vireo_cmd_fresh(struct vireo_cmd *cmd, bool fresh);
int vireo_cmd_in_vm(struct vireo_cmd *cmd, const char *vm);
int vireo_cmd_fork_limit(struct vireo_cmd *cmd, uint64_t bytes);

/* ------------------------------------------------------------------ the child */

/* Boot the VM and start the program. Returns 0 and *child once QEMU runs; the program's
 * own fate (not found, ...) comes with vireo_child_wait(). */
int vireo_spawn(const struct vireo_cmd *cmd, struct vireo_child **child);
/* The caller's end of a VIREO_PIPE stream (stdin: write to it, close it for EOF); it is
 * the caller's from then on. -EBADF if the stream is no pipe or was taken already. */
int vireo_child_fd(struct vireo_child *child, int stream);
/* Send signal sig (Linux numbers) to the program's process group. Async-signal-safe. */
int vireo_child_signal(struct vireo_child *child, int sig);
/* The pseudo-terminal's size. Async-signal-safe. */
int vireo_child_winsize(struct vireo_child *child, unsigned rows, unsigned cols);
/* End the VM now, whatever the program is doing (code 137). Async-signal-safe. */
int vireo_child_stop(struct vireo_child *child);
/* Wait for the end; fills *status (may be NULL) and returns its code. */
int vireo_child_wait(struct vireo_child *child, struct vireo_status *status);
/* The same without waiting: -EAGAIN while it runs. */
int vireo_child_poll(struct vireo_child *child, struct vireo_status *status);
/* A descriptor that becomes readable when the child has ended (for poll, select, asyncio). */
int vireo_child_done_fd(const struct vireo_child *child);
/* The program's PID in the guest (0 until it started). */
pid_t vireo_child_pid(const struct vireo_child *child);
/* QEMU's PID on the host (0 with vireo_cmd_connect). */
pid_t vireo_child_qemu_pid(const struct vireo_child *child);
/* The port of the child's gdb server (vireo_cmd_gdb), or -ENOENT without one. */
int vireo_child_gdb_port(const struct vireo_child *child);
/* The last lines QEMU printed (firmware, Vireo, the kernel), once the child has ended. */
const char *vireo_child_log(const struct vireo_child *child);
/* Free the child; a child still running is stopped first. */
void vireo_child_free(struct vireo_child *child);

/* ------------------------------------------------------------------ all in one */

struct vireo_output {
	char *out, *err; /* malloc'ed, NUL-terminated for convenience (may contain NULs) */
	size_t out_len, err_len;
};

/*
 * Run cmd to its end. Streams set to VIREO_PIPE are captured: stdout and stderr into
 * *output, stdin fed from input (len bytes; NULL: empty); the others are as set. Returns
 * the code and fills *status (may be NULL); output (may be NULL) is freed with
 * vireo_output_free(). A negative errno when the VM could not even start.
 */
int vireo_run(const struct vireo_cmd *cmd, const void *input, size_t len,
	      struct vireo_output *output, struct vireo_status *status);
void vireo_output_free(struct vireo_output *output);

/* ------------------------------------------------------------------ machines */

/*
 * A machine: one QEMU running Vireo that stays up, with VMs made and ended in it at run
 * time (docs/machine.md). vireo_machine_start() starts its daemon in the background and
 * returns once the machine is ready (Vireo up); it runs until vireo_machine_stop(). A machine is
 * known by its name, per user: its socket is in $VIREO_RUNTIME_DIR, else $XDG_RUNTIME_DIR/vireo,
 * else /tmp/vireo-UID. Starting a name that runs already fails with -EEXIST.
 */
struct vireo_machine_cfg;

/* Defaults: 2 harts, 1 GiB, Vireo's kernel and initramfs, a template for exec. */
struct vireo_machine_cfg *vireo_machine_cfg_new(const char *name);
void vireo_machine_cfg_free(struct vireo_machine_cfg *cfg);
int vireo_machine_cfg_memory(struct vireo_machine_cfg *cfg, uint64_t bytes);
int vireo_machine_cfg_harts(struct vireo_machine_cfg *cfg, unsigned n);
/* A raw disk image: host disk 0, 1, ... of the machine, which VMs take ranges of. */
int vireo_machine_cfg_disk(struct vireo_machine_cfg *cfg, const char *path, bool readonly);
/* The template commands fork (docs/machine.md, "A template for exec"): on (the default:
 * 256 MiB, 1 vCPU) boots a Linux with exec's defaults when the machine starts, waits for
 * its agent and pauses it; a command with those defaults is then a fork of it, no boot.
 * Off, or when Vireo cannot fork (the machine's console.log says why), each boots. */
/* Spare VMs (0..8, default 0): Linux VMs with exec's defaults (256 MiB, 1 vCPU) booted
 * ahead, each taken by one command that asks for nothing else (no boot to wait for) and
 * replaced at once. Not forks: each holds its own memory while it waits. */
int vireo_machine_cfg_spares(struct vireo_machine_cfg *cfg, unsigned n);
int vireo_machine_cfg_template(struct vireo_machine_cfg *cfg, bool on, uint64_t memory,
			       unsigned vcpus);
/* what: "qemu", "hypervisor", "kernel" or "initramfs" (the defaults of the machine's VMs). */
int vireo_machine_cfg_file(struct vireo_machine_cfg *cfg, const char *what, const char *path);

int vireo_machine_start(const struct vireo_machine_cfg *cfg);
/* Every VM ends, then QEMU; returns once the machine is gone. */
int vireo_machine_stop(const char *name);

struct vireo_machine_status {
	char name[32];
	int pid;	       /* the daemon's */
	unsigned harts, vms;   /* VMs alive in Vireo */
	uint64_t memory;       /* the machine's RAM */
	uint64_t free;	       /* bytes Vireo has free */
	uint64_t limit;	       /* what VMs may be promised in all (docs/machine.md, Limits) */
	uint64_t committed;    /* ...and are */
	char template_vm[32];  /* the template's name, "" without one */
	unsigned spares;       /* spare VMs asked for (vireo_machine_cfg_spares) */
	unsigned spares_ready; /* ...booted, their agents waiting for an exec */
};

int vireo_machine_status(const char *name, struct vireo_machine_status *status);
/* Every running machine of this user; *list is malloc'ed (free it), *n its length. */
int vireo_machine_list(struct vireo_machine_status **list, size_t *n);

/* ------------------------------------------------------------------ VMs in a machine */

struct vireo_vm_status {
	char name[32];
	unsigned id;	 /* Vireo's (its channel number); 0 when it is not alive */
	char state[16];	 /* created, running, paused, template, stopped */
	char origin[16]; /* boot, fork, restore */
	unsigned vcpus;
	uint64_t memory;
	int exit_status; /* a stopped VM's; -1 while alive */
	int agent;	 /* 1: its agent has said hello (a client may attach, exec --vm) */
};

/*
 * A VM named name, defined by spec: the keys of `vireo run --vm` (configs/README.md)
 * without name, comma-separated, bootargs last: "memory=128M,vcpus=2,disk=0:0+2048".
 * Without a kernel it is Vireo's Linux running the agent (vireo_cmd_in_vm). start: at once.
 * A VM that was booted can be started again after it stopped; remove forgets it.
 */
int vireo_vm_create(const char *machine, const char *name, const char *spec, bool start);
int vireo_vm_start(const char *machine, const char *name);
int vireo_vm_stop(const char *machine, const char *name);
int vireo_vm_remove(const char *machine, const char *name);
int vireo_vm_pause(const char *machine, const char *name);
int vireo_vm_resume(const char *machine, const char *name);
/*
 * A gdb remote-protocol server for a running VM, served by the machine's daemon on
 * 127.0.0.1:port (0: any free port) until the VM ends or the machine stops
 * (docs/debugging.md). *port_out (may be NULL) is the port. -EBUSY: the VM is not
 * running, or has a server already; -EINVAL: a port out of range; bind's errno.
 */
int vireo_vm_gdb(const char *machine, const char *name, int port, int *port_out);
/* Every VM the machine knows; *list is malloc'ed (free it). */
int vireo_vm_list(const char *machine, struct vireo_vm_status **list, size_t *n);

/* What a VM does once its snapshot is written. */
enum vireo_snapshot_then { VIREO_SNAPSHOT_RESUME, VIREO_SNAPSHOT_PAUSE, VIREO_SNAPSHOT_STOP };
/*
 * Snapshots (docs/machine.md, "Snapshots and forks"). vireo_vm_snapshot() pauses the VM
 * (running, paused or a template), writes its whole state and RAM into the file at path
 * (written by the machine's daemon: a relative path is made absolute here; a temporary
 * file is renamed over it once whole), and then resumes it, leaves it paused, or ends it.
 * A fork cannot be saved (-EINVAL from Vireo): save its template.
 *
 * vireo_vm_restore() makes the VM name from a snapshot file, in this machine or another
 * one with the disks it used; start: at once (else vireo_vm_start()). The whole file is
 * checked first: a truncated, damaged, newer or mismatched one is refused with the file's
 * name and the reason (-EINVAL, -EBADMSG, -EPROTO, -ENODEV) and nothing is made.
 * Its agent, if it had said hello, takes a client (vireo_cmd_in_vm) without saying it
 * again.
 */
int vireo_vm_snapshot(const char *machine, const char *name, const char *path,
		      enum vireo_snapshot_then then);
int vireo_vm_restore(const char *machine, const char *name, const char *path, bool start);
/*
 * A new VM name that is a copy of the paused VM from, its RAM shared copy-on-write
 * (docs/machine.md, "Snapshots and forks"). From then on from is a template: it never
 * runs again, and may be removed at any time (Vireo keeps what its forks share).
 * mem_limit: bytes of memory the fork may copy (0: 64 MiB). start: at once. The fork's
 * agent takes a client (vireo_cmd_in_vm) as the template's would have.
 */
int vireo_vm_fork(const char *machine, const char *from, const char *name, bool start,
		  uint64_t mem_limit);

/* ------------------------------------------------------------------ sandboxes */

/*
 * A sandbox: a small program built with the guest SDK (guests/sandbox/sdk, its
 * vireo_sandbox.h) loaded into a micro-VM of its own under Vireo on its own QEMU, and
 * driven call by call (docs/sandbox.md):
 *
 *	struct vireo_sandbox *sb;
 *	int64_t r;
 *
 *	vireo_sandbox_open("checksum.elf", NULL, &sb);
 *	vireo_sandbox_host_fn(sb, "log", my_log, NULL);     // the guest may call "log"
 *	vireo_sandbox_on_catch(sb, my_handler, NULL);       // what it cannot do comes here
 *	vireo_sandbox_write_buffer(sb, "input", 0, data, n);
 *	vireo_sandbox_call(sb, "checksum", (uint64_t[]){n}, 1, &r);
 *	vireo_sandbox_close(sb);
 *
 * Try-catch with continuation: every exit the program cannot handle itself (a fault,
 * an illegal instruction, ebreak, a host function nobody registered, running past the
 * call's time budget) stops it with its whole state and calls the handler with the
 * cause, pc, the faulting address and the registers. The handler may change pc and
 * registers, map memory or write it, and then continue the call where it stopped,
 * restart it from the freshly loaded state, or abort it (the call returns -ECANCELED
 * and the sandbox is reset). Without a handler every catch aborts.
 *
 * The program sees only its own RAM (and what a handler maps); the host reads and
 * writes it only through these functions, every access checked against the RAM, a
 * mapping or a buffer's size. Functions and buffers are found by name in the ELF's
 * symbol table. Calls take up to 6 integer arguments and return one.
 *
 * Threads: a sandbox is used by one thread at a time; QEMU is killed when the thread
 * that opened it ends (and when the process ends). Host functions and the handler run
 * in the caller's thread, inside vireo_sandbox_call().
 */
struct vireo_sandbox;

struct vireo_sandbox_config {
	uint64_t memory;	/* the sandbox's RAM, bytes (a multiple of 1 MiB; 0: 4 MiB) */
	uint64_t budget_us;	/* each call's time budget (0: none); host calls do not count */
	bool reset_each_call;	/* every call starts from the freshly loaded state */
	const char *qemu;	/* NULL: qemu-system-riscv64 in PATH */
	const char *hypervisor; /* NULL: vireo.bin as for vireo_cmd_hypervisor() */
	int log_fd;	       /* QEMU's console output also goes here; -1 (or 0): kept as a tail */
	const char *qemu_args; /* more QEMU arguments, split at whitespace (NULL: none) */
};

/* Why a sandbox was caught (struct vireo_catch.why). */
enum vireo_catch_why {
	VIREO_CATCH_FAULT = 1,	    /* an access to memory it has not, a fetch from nowhere */
	VIREO_CATCH_BREAKPOINT = 2, /* ebreak */
	VIREO_CATCH_ILLEGAL = 4,    /* an illegal instruction */
	VIREO_CATCH_TIMEOUT = 8,    /* the call's time budget ran out */
	VIREO_CATCH_HOSTCALL = 16,  /* a host function no one registered (name in .name) */
};

/* What a handler decides. */
enum vireo_catch_action {
	VIREO_CATCH_CONTINUE = 0, /* resume at .pc with .x (changed or not) */
	VIREO_CATCH_RESTART,	  /* the call again from the freshly loaded state */
	VIREO_CATCH_ABORT,	  /* the call fails with -ECANCELED; the sandbox is reset */
};

struct vireo_catch {
	enum vireo_catch_why why;
	uint32_t insn;	    /* the trapping instruction when known, else 0 */
	uint64_t cause;	    /* scause (0 for a time-out or an unknown host call) */
	uint64_t pc;	    /* where it stopped; the handler may move it */
	uint64_t tval;	    /* stval */
	uint64_t gpa;	    /* the guest-physical address that faulted, else 0 */
	uint64_t x[32];	    /* x[1..31]: the registers, the handler may change them */
	uint64_t budget_us; /* continue: a fresh budget for the rest of the call (0: keep) */
	/* VIREO_CATCH_HOSTCALL: the name; continuing makes the call return hostcall_error. */
	char name[65];
	int64_t hostcall_error;
	unsigned count; /* catches in this call so far (restarts too), this one included */
};

/* A host function: args are the guest's four; *result is what it gets. Return 0, or a
 * negative error the guest sees as its vsb_result.error. */
typedef int (*vireo_host_fn)(struct vireo_sandbox *sb, void *ctx, const uint64_t args[4],
			     int64_t *result);
typedef enum vireo_catch_action (*vireo_catch_fn)(struct vireo_sandbox *sb, void *ctx,
						  struct vireo_catch *c);

/* Boot the program (cfg NULL: defaults) and wait until it is ready for calls. */
int vireo_sandbox_open(const char *elf, const struct vireo_sandbox_config *cfg,
		       struct vireo_sandbox **sb);
/* Stop its VM and QEMU, free everything. */
void vireo_sandbox_close(struct vireo_sandbox *sb);
/* Register (or replace; fn NULL: remove) the host function `name` (1..64 bytes). */
int vireo_sandbox_host_fn(struct vireo_sandbox *sb, const char *name, vireo_host_fn fn, void *ctx);
/* The catch handler (NULL: abort every catch). */
void vireo_sandbox_on_catch(struct vireo_sandbox *sb, vireo_catch_fn fn, void *ctx);
/* Call the program's function `name` with nargs (0..6) arguments. 0 and *result; -ENOENT
 * no such function; -ECANCELED the handler aborted it (vireo_last_error() says why);
 * -ELOOP restarted more than 100 times; -EPIPE the VM or QEMU is gone. */
int vireo_sandbox_call(struct vireo_sandbox *sb, const char *name, const uint64_t *args,
		       unsigned nargs, int64_t *result);
/* The time budget of the calls from now on (0: none). */
void vireo_sandbox_budget(struct vireo_sandbox *sb, uint64_t budget_us);
/* Back to the freshly loaded state (only the dirtied pages are copied back; full: all);
 * mappings go. Returns the pages restored. */
int vireo_sandbox_reset(struct vireo_sandbox *sb, bool full);
/* Guest memory, by guest-physical address: its RAM or a mapping. */
int vireo_sandbox_read(struct vireo_sandbox *sb, uint64_t gpa, void *buf, size_t len);
int vireo_sandbox_write(struct vireo_sandbox *sb, uint64_t gpa, const void *buf, size_t len);
/* Fresh zeroed memory at gpa (page-aligned, outside RAM), perms 1 R | 2 W | 4 X, for the
 * rest of the call's life: gone at the next reset. */
int vireo_sandbox_map(struct vireo_sandbox *sb, uint64_t gpa, uint64_t size, unsigned perms);
/* A symbol of the program (a function or a VSB_BUFFER): 0 and its address and size. */
int vireo_sandbox_symbol(const struct vireo_sandbox *sb, const char *name, uint64_t *addr,
			 uint64_t *size);
/* A buffer's bytes at offset, checked against its size. */
int vireo_sandbox_read_buffer(struct vireo_sandbox *sb, const char *name, uint64_t offset,
			      void *buf, size_t len);
int vireo_sandbox_write_buffer(struct vireo_sandbox *sb, const char *name, uint64_t offset,
			       const void *buf, size_t len);
/* Counts since it booted: calls, host calls, catches, resets, pages restored; and
 * Vireo's own instructions for catches (from its catch handler to the event queued) and
 * continues (the CONTINUE op), summed, and the continues (0 where Vireo cannot count). */
struct vireo_sandbox_stats {
	uint64_t calls, hostcalls, catches, resets, pages_restored;
	uint64_t catch_out_insns, continue_in_insns, continues;
};
int vireo_sandbox_stats(struct vireo_sandbox *sb, struct vireo_sandbox_stats *st);
/* QEMU's console output so far (its last 16 KiB). */
const char *vireo_sandbox_log(struct vireo_sandbox *sb);

#ifdef __cplusplus
}
#endif

#endif
