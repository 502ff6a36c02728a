// SPDX-License-Identifier: BSD-2-Clause
/*
 * vireo exec [options] [--] PROGRAM [ARGS...]: PROGRAM in a fresh Linux VM
 * under Vireo, as if it ran here. Built on libvireo: this file is options,
 * signals and the terminal; the library does the rest.
 *
 * Its stdin, stdout and stderr are ours; its exit status is ours (128 + N
 * when signal N killed it, 127 not found, 126 not executable, 125 when Vireo,
 * QEMU or the guest failed, with the reason on stderr, 124 when --timeout ran
 * out). Nothing else is printed unless something failed (or with -v). ^C and
 * SIGTERM reach PROGRAM as SIGINT and SIGTERM; a second one ends the VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "vireo.h"
#include "vireo_exec.h"
#include "vm_config.h"

static const char usage[] =
    "usage: vireo exec [options] [--] PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM in a fresh Linux VM under Vireo: its stdin, stdout and stderr are\n"
    "this command's, and so is its exit status (128+N: killed by signal N; 127: not\n"
    "found; 126: not executable; 125: Vireo, QEMU or the guest failed, with the reason\n"
    "on stderr; 124: --timeout ran out). ^C and SIGTERM reach PROGRAM; a second one\n"
    "ends the VM.\n"
    "\n"
    "Options:\n"
    "  -t, --tty                 give PROGRAM a pseudo-terminal (this terminal in raw mode)\n"
    "  -e, --env NAME=VALUE      set a variable of PROGRAM's environment (repeatable)\n"
    "  -w, --workdir DIR         PROGRAM's working directory in the guest (default /root)\n"
    "  -i, --copy-in HOST:GUEST  copy a host file or directory into the VM first (repeatable)\n"
    "  -o, --copy-out GUEST:HOST copy a guest file or directory out at the end (repeatable)\n"
    "  -m, --memory SIZE         the VM's memory (default 256M)\n"
    "      --vcpus N             the VM's vCPUs (default: one per hart)\n"
    "      --harts N             harts of the machine (default 1)\n"
    "      --kernel FILE         the guest kernel (default: Vireo's own)\n"
    "      --initramfs FILE      the guest initramfs (default: Vireo's own; 'none': none)\n"
    "      --disk FILE[,ro]      a raw disk image, /dev/vda in the guest\n"
    "      --net                 a network card: the host's network through QEMU's user\n"
    "                            network, the host's loopback at 10.0.2.2\n"
    "      --append ARGS         more kernel command-line arguments\n"
    "      --timeout SECONDS     end the VM after this long (exit status 124)\n"
    "      --bare                plain QEMU without Vireo (the reference of benchmarks)\n"
    "      --qemu-machine M      QEMU's -machine (default virt), e.g. virt,aia=aplic-imsic\n"
    "      --qemu PATH           the QEMU binary (default qemu-system-riscv64)\n"
    "      --hypervisor PATH     Vireo's image (default: vireo.bin next to this tool)\n"
    "  -v, --verbose             show the console (firmware, Vireo, kernel) on stderr\n"
    "      --gdb PORT[,wait]     a gdb server for the VM on 127.0.0.1:PORT (0: any free\n"
    "                            port; printed on stderr) while it runs; ',wait' holds\n"
    "                            the VM at its first instruction until gdb continues it\n"
    "                            (docs/debugging.md)\n"
    "\n"
    "In a long-lived machine (vireo machine start; docs/machine.md):\n"
    "      --machine NAME        run PROGRAM in a new VM of that machine (booted for\n"
    "                            it: no QEMU or Vireo boot, only Linux's)\n"
    "      --fresh               ...booted even when the machine has a template to\n"
    "                            fork (none yet: Vireo cannot fork)\n"
    "      --vm VM               ...in that VM of the machine (its agent; it ends after)\n"
    "      --fork-limit SIZE     memory the fork may copy (default 64M)\n"
    "\n"
    "A GUEST path ending in '/' (or a HOST directory that exists) receives the copy\n"
    "under its own name; relative GUEST paths are relative to the working directory.\n";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("vireo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(VIREO_EXIT_FAILURE);
}

static void check(int rc)
{
	if (rc < 0)
		die("%s", vireo_last_error());
}

static unsigned parse_count(const char *opt, const char *v)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (*v < '0' || *v > '9' || *end || n == 0 || n > 64)
		die("%s '%s' is not a count from 1 to 64", opt, v);
	return (unsigned)n;
}

static void split_copy(const char *opt, const char *v, char **from, char **to)
{
	const char *colon = strchr(v, ':');

	if (!colon || colon == v || !colon[1])
		die("%s '%s' is not SOURCE:DESTINATION", opt, v);
	*from = strndup(v, (size_t)(colon - v));
	*to = strdup(colon + 1);
	if (!*from || !*to)
		die("out of memory");
}

struct exec_opts {
	bool tty, verbose;
	bool gdb, gdb_wait;
};

/* --gdb PORT[,wait] */
static void parse_gdb(const char *v, struct vireo_cmd *cmd, struct exec_opts *eo)
{
	char *end;
	unsigned long port;

	errno = 0;
	port = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || errno || port > 65535 || (*end && strcmp(end, ",wait")))
		die("--gdb '%s': the port must be 0..65535, then maybe ',wait'", v);
	eo->gdb = true;
	eo->gdb_wait = *end != '\0';
	check(vireo_cmd_gdb(cmd, (int)port, eo->gdb_wait));
}

/* An option's value: "--opt=V", "--opt V", "-xV" or "-x V". */
static const char *value_of(int argc, char **argv, int *i, const char *arg, size_t len)
{
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len])
		return arg + len; /* -xV */
	if (*i + 1 >= argc)
		die("%s needs a value (see vireo exec --help)", arg);
	return argv[++*i];
}

static bool is(const char *arg, const char *s, const char *l, size_t *len)
{
	size_t n;

	if (s && strncmp(arg, s, 2) == 0) {
		*len = 2;
		return true;
	}
	n = strlen(l);
	if (strncmp(arg, l, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
		*len = n;
		return true;
	}
	return false;
}

/* Options into cmd; returns the index of PROGRAM. */
static int parse(int argc, char **argv, struct vireo_cmd **cmdp, struct exec_opts *eo)
{
	struct vireo_cmd *cmd = NULL;
	/* Options come before the program; they are applied once it is known. */
	struct {
		const char *arg, *value;
		size_t len;
	} opts[256];
	size_t nopts = 0;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t len;
		static const char *const flags[] = {"-t",     "--tty", "-v",	 "--verbose",
						    "--bare", "--net", "--fresh"};
		static const struct {
			const char *s, *l;
		} valued[] = {
		    {"-e", "--env"},	  {"-w", "--workdir"},	    {"-i", "--copy-in"},
		    {"-o", "--copy-out"}, {"-m", "--memory"},	    {NULL, "--vcpus"},
		    {NULL, "--harts"},	  {NULL, "--kernel"},	    {NULL, "--initramfs"},
		    {NULL, "--disk"},	  {NULL, "--append"},	    {NULL, "--timeout"},
		    {NULL, "--qemu"},	  {NULL, "--qemu-machine"}, {NULL, "--hypervisor"},
		    {NULL, "--machine"},  {NULL, "--vm"},	    {NULL, "--fork-limit"},
		    {NULL, "--gdb"},
		};
		bool found = false;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			exit(0);
		}
		for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]) && !found; f++)
			found = strcmp(a, flags[f]) == 0;
		if (found) {
			opts[nopts++] = (typeof(opts[0])){a, NULL, strlen(a)};
		} else {
			for (size_t v = 0; v < sizeof(valued) / sizeof(valued[0]) && !found; v++) {
				if (!is(a, valued[v].s, valued[v].l, &len))
					continue;
				found = true;
				opts[nopts++] = (typeof(opts[0])){
				    valued[v].l, value_of(argc, argv, &i, a, len), 0};
			}
		}
		if (!found)
			die("unknown option '%s' (see vireo exec --help)", a);
		if (nopts == sizeof(opts) / sizeof(opts[0]))
			die("too many options");
	}
	if (i >= argc)
		die("no program given (vireo exec [options] -- PROGRAM [ARGS...])");
	cmd = vireo_cmd_new(argv[i]);
	if (!cmd)
		die("%s", vireo_last_error());
	for (int j = i + 1; j < argc; j++)
		check(vireo_cmd_arg(cmd, argv[j]));
	for (size_t k = 0; k < nopts; k++) {
		const char *o = opts[k].arg, *v = opts[k].value;

		if (!strcmp(o, "-t") || !strcmp(o, "--tty"))
			eo->tty = true;
		else if (!strcmp(o, "-v") || !strcmp(o, "--verbose"))
			eo->verbose = true;
		else if (!strcmp(o, "--bare"))
			check(vireo_cmd_mode(cmd, VIREO_MODE_BARE));
		else if (!strcmp(o, "--fresh"))
			check(vireo_cmd_fresh(cmd, true));
		else if (!strcmp(o, "--machine"))
			check(vireo_cmd_machine(cmd, v));
		else if (!strcmp(o, "--vm"))
			check(vireo_cmd_in_vm(cmd, v));
		else if (!strcmp(o, "--fork-limit")) {
			uint64_t bytes;

			if (vm_config_parse_size(v, &bytes))
				die("--fork-limit '%s' is not a size (e.g. 64M)", v);
			check(vireo_cmd_fork_limit(cmd, bytes));
		} else if (!strcmp(o, "--net"))
			check(vireo_cmd_net(cmd, true));
		else if (!strcmp(o, "--env")) {
			const char *eq = strchr(v, '=');
			char *name = eq ? strndup(v, (size_t)(eq - v)) : NULL;

			if (!eq || eq == v)
				die("--env '%s' is not NAME=VALUE", v);
			check(vireo_cmd_env(cmd, name, eq + 1));
			free(name);
		} else if (!strcmp(o, "--workdir"))
			check(vireo_cmd_cwd(cmd, v));
		else if (!strcmp(o, "--copy-in") || !strcmp(o, "--copy-out")) {
			char *from, *to;

			split_copy(o, v, &from, &to);
			check(o[7] == 'i' ? vireo_cmd_copy_in(cmd, from, to)
					  : vireo_cmd_copy_out(cmd, from, to));
			free(from);
			free(to);
		} else if (!strcmp(o, "--memory")) {
			uint64_t bytes;

			if (vm_config_parse_size(v, &bytes))
				die("--memory '%s' is not a size (e.g. 256M, 1G)", v);
			check(vireo_cmd_memory(cmd, bytes));
		} else if (!strcmp(o, "--vcpus"))
			check(vireo_cmd_vcpus(cmd, parse_count(o, v)));
		else if (!strcmp(o, "--harts"))
			check(vireo_cmd_harts(cmd, parse_count(o, v)));
		else if (!strcmp(o, "--kernel"))
			check(vireo_cmd_kernel(cmd, v));
		else if (!strcmp(o, "--initramfs"))
			check(vireo_cmd_initramfs(cmd, strcmp(v, "none") ? v : NULL));
		else if (!strcmp(o, "--disk")) {
			size_t n = strlen(v);
			bool ro = n > 3 && strcmp(v + n - 3, ",ro") == 0;
			char *path = strndup(v, ro ? n - 3 : n);

			check(vireo_cmd_disk(cmd, path, ro));
			free(path);
		} else if (!strcmp(o, "--append"))
			check(vireo_cmd_bootargs(cmd, v));
		else if (!strcmp(o, "--timeout")) {
			char *end;
			double s = strtod(v, &end);

			if (*end || !(s > 0) || s > 1e9)
				die("--timeout '%s' is not a number of seconds", v);
			check(vireo_cmd_time_limit(cmd, (uint64_t)(s * 1000 + 0.5)));
		} else if (!strcmp(o, "--qemu"))
			check(vireo_cmd_qemu(cmd, v));
		else if (!strcmp(o, "--qemu-machine"))
			check(vireo_cmd_qemu_machine(cmd, v));
		else if (!strcmp(o, "--hypervisor"))
			check(vireo_cmd_hypervisor(cmd, v));
		else if (!strcmp(o, "--gdb"))
			parse_gdb(v, cmd, eo);
	}
	*cmdp = cmd;
	return i;
}

/* ------------------------------------------------------------------ the terminal */

static struct termios saved_termios;
static bool raw_mode;

static void restore_terminal(void)
{
	if (raw_mode)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
	raw_mode = false;
}

static void enter_raw_mode(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) != 0)
		return;
	t = saved_termios;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0) {
		raw_mode = true;
		atexit(restore_terminal);
	}
}

static bool window_size(unsigned *rows, unsigned *cols)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
		return false;
	if (!ws.ws_row || !ws.ws_col)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

/* ------------------------------------------------------------------ running */

/* The signals we forward, taken through a signalfd. One ignored on entry (nohup, a
 * background job) stays ignored. */
static int signal_fd(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaddset(&set, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* The tail of the console, for a VM that failed: its last lines. */
static void print_tail(const char *log)
{
	const char *start = log + strlen(log);
	int lines = 0;

	while (start > log && lines <= 10)
		if (*--start == '\n')
			lines++;
	if (*start == '\n')
		start++;
	if (!*start)
		return;
	fprintf(stderr, "vireo: the VM's console ended with:\n");
	for (const char *l = start; *l;) {
		size_t n = strcspn(l, "\n");

		fprintf(stderr, "  | %.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
}

int vireo_exec_main(int argc, char **argv)
{
	struct exec_opts eo = {0};
	struct vireo_cmd *cmd;
	struct vireo_child *child;
	struct vireo_status st;
	unsigned rows = 24, cols = 80, interrupts = 0;
	int sfd, code, stop_signal = SIGINT;
	bool stopped_by_us = false;

	parse(argc, argv, &cmd, &eo);
	if (eo.tty) {
		window_size(&rows, &cols);
		check(vireo_cmd_tty(cmd, true, rows, cols));
	}
	if (eo.verbose)
		check(vireo_cmd_log(cmd, STDERR_FILENO));
	sfd = signal_fd();
	if (vireo_spawn(cmd, &child) < 0)
		die("%s", vireo_last_error());
	vireo_cmd_free(cmd);
	if (eo.gdb)
		/* On stderr: stdout is the program's. */
		fprintf(stderr, "vireo: gdb server for the VM on 127.0.0.1:%d%s\n",
			vireo_child_gdb_port(child),
			eo.gdb_wait ? " (it waits at its first instruction)" : "");
	if (eo.tty)
		enter_raw_mode();
	for (;;) {
		struct pollfd p[2] = {{.fd = vireo_child_done_fd(child), .events = POLLIN},
				      {.fd = sfd, .events = POLLIN}};
		struct signalfd_siginfo si;

		if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (!(p[1].revents & POLLIN) || read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGWINCH:
			if (eo.tty && window_size(&rows, &cols))
				vireo_child_winsize(child, rows, cols);
			break;
		case SIGINT:
		case SIGTERM:
			/* The first reaches the program; a second (of either) ends the VM. */
			if (++interrupts >= 2) {
				stopped_by_us = true;
				stop_signal = (int)si.ssi_signo;
				vireo_child_stop(child);
			} else {
				vireo_child_signal(child, (int)si.ssi_signo);
			}
			break;
		default:
			vireo_child_signal(child, (int)si.ssi_signo);
			break;
		}
	}
	code = vireo_child_wait(child, &st);
	restore_terminal();
	if (stopped_by_us && st.end == VIREO_STOPPED) {
		code = 128 + stop_signal;
	} else if (st.message[0]) {
		fprintf(stderr, "vireo: %s\n", st.message);
		if (st.end == VIREO_FAILED && !eo.verbose)
			print_tail(vireo_child_log(child));
	}
	vireo_child_free(child);
	return code;
}
