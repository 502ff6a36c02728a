// SPDX-License-Identifier: BSD-2-Clause
/*
 * vireo-init, PID 1 of the Linux guest's initramfs. It mounts the pseudo
 * file systems, installs BusyBox's applet links, runs BusyBox's ash as a
 * login shell with job control on the console and starts it again whenever
 * it exits, reaps every orphan, and on a request from BusyBox's poweroff,
 * reboot or halt (a signal to PID 1, see below) stops the other processes,
 * syncs and calls reboot(2).
 *
 * All signals init cares about stay blocked and are taken one at a time with
 * sigwaitinfo(), so there is no handler racing the main loop.
 *
 * With `vireo.exec` on the kernel command line (what libvireo and `vireo
 * exec` boot), init starts no shell: it is the guest agent (agent.c), serving
 * the host on the virtio port named org.vireo.agent, and it powers the VM off
 * when the host is done or gone.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent_proto.h"
#include "net_up.h"

/*
 * How BusyBox's halt, poweroff and reboot (without -f) ask init to stop the
 * machine: one signal to PID 1, the same as BusyBox's own init.
 */
#define INITCTL_HALT	 SIGUSR1
#define INITCTL_POWEROFF SIGUSR2
#define INITCTL_REBOOT	 SIGTERM

#define BUSYBOX_PATH "/bin/busybox"
#define SHELL_PATH   "/bin/sh"
#define SHELL_PROMPT "vireo# "
#define DEFAULT_PATH "/sbin:/usr/sbin:/bin:/usr/bin"
#define PORTS_DIR    "/sys/class/virtio-ports"
#define PORT_WAIT_MS 30000 /* the port's name comes from the device after boot */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dprintf(2, "vireo-init: %s\n", line);
}

static void mount_one(const char *src, const char *dir, const char *type, unsigned long flags,
		      const char *data)
{
	mkdir(dir, 0755);
	/* EBUSY: the kernel (DEVTMPFS_MOUNT) or a previous init already did it. */
	if (mount(src, dir, type, flags, data) != 0 && errno != EBUSY)
		say("mount %s on %s: %s", type, dir, strerror(errno));
}

static void mount_pseudo_fs(void)
{
	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL);
	/* Pseudo-terminals: /dev/ptmx (from devtmpfs) opens the instance on /dev/pts. */
	mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=620,ptmxmode=666");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, NULL);
	mkdir("/mnt", 0755);
}

/*
 * One symlink in /bin per BusyBox applet (the binary knows its own list, and
 * the host cannot run it), made at every boot on the initramfs, which is
 * writable. Names that already exist, /bin/sh among them, are left alone.
 */
static void install_applets(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 1);
		execl(BUSYBOX_PATH, "busybox", "--install", "-s", "/bin", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		say("%s --install -s /bin failed", BUSYBOX_PATH);
}

/*
 * /dev/console can never be a controlling terminal, so ^C would reach no one.
 * The real device behind it is the last name in /sys/class/tty/console/active.
 */
static void console_device(char *path, size_t size)
{
	char buf[128] = "";
	int fd = open("/sys/class/tty/console/active", O_RDONLY);

	snprintf(path, size, "/dev/console");
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	char *last = strrchr(buf, ' ');

	last = last ? last + 1 : buf;
	if (*last)
		snprintf(path, size, "/dev/%s", last);
}

/*
 * In the child: new session, the console as controlling tty and stdio, then
 * exec ash as a login shell ("-sh"): interactive on a tty, it turns on job
 * control, so ^C, ^Z, fg, bg and jobs work.
 */
static void exec_shell(const sigset_t *orig_mask)
{
	char tty[64];

	sigprocmask(SIG_SETMASK, orig_mask, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	setsid();
	console_device(tty, sizeof(tty));
	int fd = open(tty, O_RDWR);

	if (fd < 0)
		fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		ioctl(fd, TIOCSCTTY, 0);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	execl(SHELL_PATH, "-sh", (char *)NULL);
	say("cannot run %s: %s", SHELL_PATH, strerror(errno));
	_exit(127);
}

static pid_t spawn_shell(const sigset_t *orig_mask)
{
	pid_t pid = fork();

	if (pid == 0)
		exec_shell(orig_mask);
	if (pid < 0)
		say("fork: %s", strerror(errno));
	return pid;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reaps every exited child; returns true if the shell was among them. */
static bool reap(pid_t shell)
{
	bool shell_died = false;
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
		if (pid == shell)
			shell_died = true;
	}
	return shell_died;
}

/*
 * Gives the other processes a chance to exit cleanly, then kills the rest.
 * An interactive ash ignores SIGTERM but ends on SIGHUP; SIGCONT wakes
 * stopped jobs so that they see the signals now.
 */
static void stop_everything(void)
{
	kill(-1, SIGTERM);
	kill(-1, SIGHUP);
	kill(-1, SIGCONT);
	for (int i = 0; i < 20 && waitpid(-1, NULL, WNOHANG) >= 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		nanosleep(&ts, NULL);
	}
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void shutdown_machine(int sig)
{
	int cmd = RB_AUTOBOOT;
	const char *what = "rebooting";

	if (sig == INITCTL_POWEROFF) {
		cmd = RB_POWER_OFF;
		what = "powering off";
	} else if (sig == INITCTL_HALT) {
		cmd = RB_HALT_SYSTEM;
		what = "halting";
	}
	say("%s", what);
	stop_everything();
	sync();
	reboot(cmd);
	say("reboot(2): %s", strerror(errno));
}

static void nothing(int sig)
{
	(void)sig;
}

/*
 * Blocks the signals the main loop waits for. They also get a handler: a
 * signal left at SIG_DFL is dropped before it ever reaches PID 1.
 */
static void setup_signals(sigset_t *wanted, sigset_t *orig)
{
	static const int sigs[] = {SIGCHLD, SIGINT, INITCTL_HALT, INITCTL_POWEROFF, INITCTL_REBOOT};
	struct sigaction sa = {.sa_handler = nothing};

	sigemptyset(wanted);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(wanted, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, wanted, orig);
	/* Ctrl-Alt-Del from the kernel arrives as SIGINT instead of an instant reboot. */
	reboot(RB_DISABLE_CAD);
}

/* ------------------------------------------------------------------ exec mode */

/* The value of NAME= on the kernel command line (or "" for a bare NAME), or NULL. */
static const char *cmdline_arg(const char *name, char *buf, size_t size)
{
	static char line[1024];
	static bool read_once;
	size_t n = strlen(name);

	if (!read_once) {
		int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
		ssize_t len = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;

		line[len > 0 ? len : 0] = '\0';
		if (fd >= 0)
			close(fd);
		read_once = true;
	}
	for (const char *p = line; *p; p += strcspn(p, " \n"), p += strspn(p, " \n")) {
		size_t len = strcspn(p, " \n");

		if (len < n || strncmp(p, name, n) != 0)
			continue;
		if (len == n) {
			snprintf(buf, size, "%s", "");
			return buf;
		}
		if (p[n] == '=') {
			snprintf(buf, size, "%.*s", (int)(len - n - 1), p + n + 1);
			return buf;
		}
	}
	return NULL;
}

/* The device of the virtio port named AG_PORT_NAME, waiting for it to show up. */
static int open_agent_port(void)
{
	for (int waited = 0; waited < PORT_WAIT_MS; waited += 2) {
		DIR *d = opendir(PORTS_DIR);
		struct dirent *e;

		while (d && (e = readdir(d)) != NULL) {
			char path[300], name[64] = "";
			int fd;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), PORTS_DIR "/%s/name", e->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			ssize_t n = read(fd, name, sizeof(name) - 1);

			close(fd);
			name[n > 0 ? n : 0] = '\0';
			name[strcspn(name, "\n")] = '\0';
			if (strcmp(name, AG_PORT_NAME) != 0)
				continue;
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			closedir(d);
			return open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		}
		if (d)
			closedir(d);
		usleep(2000);
	}
	errno = ENOENT;
	return -1;
}

/*
 * Test hooks, for the host's tests of a hostile guest (vireo.test=MODE): the
 * agent says hello and then breaks the protocol in a way that no timing can
 * excuse. "garbage": a frame longer than any allowed; "noise": bytes that are
 * no frames at all. Then it stalls: the host must cut it off.
 */
static void hostile_agent(int fd, const char *mode)
{
	static const char hello[] = "hostile agent";
	uint8_t buf[4096];
	uint32_t x = 0x12345678;

	vx_put_hdr(buf, AG_HELLO, 0, 4 + sizeof(hello) - 1);
	vx_put_u32(buf + VX_HDR_SIZE, VX_PROTOCOL_VER);
	memcpy(buf + VX_HDR_SIZE + 4, hello, sizeof(hello) - 1);
	if (write(fd, buf, VX_HDR_SIZE + 4 + sizeof(hello) - 1) < 0)
		return;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
	if (strcmp(mode, "noise") != 0)
		vx_put_hdr(buf, AG_DATA, AG_STREAM_STDOUT, 0x7fffffff);
	for (int i = 0; i < 64; i++)
		if (write(fd, buf, sizeof(buf)) < 0)
			break;
	for (;;)
		pause();
}

static void exec_mode(const sigset_t *stop)
{
	static const char *const env[] = {"PATH=" DEFAULT_PATH, "HOME=/root",	     "USER=root",
					  "LOGNAME=root",	"SHELL=" SHELL_PATH, NULL};
	const struct agent_opts opts = {
	    .env = env, .cwd = "/root", .tar = BUSYBOX_PATH, .stop_signals = stop};
	char test[32];
	int fd = open_agent_port(), sig = 0;

	if (fd < 0) {
		say("no virtio port named %s: %s", AG_PORT_NAME, strerror(errno));
		shutdown_machine(INITCTL_POWEROFF);
		return;
	}
	if (cmdline_arg("vireo.test", test, sizeof(test)))
		hostile_agent(fd, test);
	switch (agent_serve(fd, &opts, &sig)) {
	case AGENT_SIGNAL:
		shutdown_machine(sig);
		break;
	case AGENT_SHUTDOWN:
		shutdown_machine(INITCTL_POWEROFF);
		break;
	case AGENT_BROKEN:
		say("the host broke the agent protocol; powering off");
		shutdown_machine(INITCTL_POWEROFF);
		break;
	default:
		shutdown_machine(INITCTL_POWEROFF);
		break;
	}
}

static void hello(void)
{
	struct utsname u;

	uname(&u);
	say("hello: Linux %s on %s, %ld CPU(s) online, PID %d; starting %s", u.release, u.machine,
	    sysconf(_SC_NPROCESSORS_ONLN), (int)getpid(), SHELL_PATH);
}

int main(void)
{
	sigset_t wanted, orig, stop;
	char flag[8];

	setup_signals(&wanted, &orig);
	mount_pseudo_fs();
	install_applets();
	sethostname("vireo", 5);
	/* /sbin, /usr/bin and /usr/sbin are links to /bin in the initramfs. */
	setenv("PATH", "/sbin:/usr/sbin:/bin:/usr/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("SHELL", SHELL_PATH, 1);
	setenv("USER", "root", 1);
	setenv("LOGNAME", "root", 1);
	setenv("TERM", "vt100", 0);
	setenv("PS1", SHELL_PROMPT, 1);
	if (chdir("/root") != 0 && chdir("/") != 0)
		say("chdir /: %s", strerror(errno));
	if (cmdline_arg("vireo.exec", flag, sizeof(flag))) {
		/* poweroff, reboot and halt from the program end the VM; SIGCHLD is the
		 * agent's own. */
		stop = wanted;
		sigdelset(&stop, SIGCHLD);
		sigdelset(&stop, SIGINT);
		net_up(); /* lo, and eth0 by DHCP when `vireo exec --net` gave a card */
		exec_mode(&stop);
		for (;;)
			pause();
	}
	hello();
	net_up();

	double started = now();
	pid_t shell = spawn_shell(&orig);

	for (;;) {
		siginfo_t si;
		int sig = shell < 0 ? SIGCHLD : sigwaitinfo(&wanted, &si);

		if (sig == INITCTL_HALT || sig == INITCTL_POWEROFF || sig == INITCTL_REBOOT)
			shutdown_machine(sig);
		if (sig != SIGCHLD || (shell > 0 && !reap(shell)))
			continue;
		/* A shell that dies at once would spin the CPU: respawn at most once a second. */
		if (now() - started < 1.0)
			sleep(1);
		started = now();
		shell = spawn_shell(&orig);
	}
}
