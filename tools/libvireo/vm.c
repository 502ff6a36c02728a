// SPDX-License-Identifier: BSD-2-Clause
/*
 * The VM of a child: its files found, its boot bundle written into an
 * anonymous memory file, QEMU's command line, and QEMU started from the
 * child's thread so that it dies with that thread (PR_SET_PDEATHSIG), in its
 * own session (a ^C on the terminal is ours to forward, not QEMU's to take),
 * with exactly these descriptors: 0 /dev/null, 1 and 2 the log pipe, 3 the
 * channel's socket, 4 the bundle (read as /proc/self/fd/4).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle_write.h"
#include "internal.h"
#include "qemu_run.h"
#include "vm_config.h"

#define QEMU_FD_LINK   3
#define QEMU_FD_BUNDLE 4
#define EXEC_BOOTARGS  "console=ttyS0 quiet vireo.exec"

/* The directory this code was loaded from: build/ in a build tree, PREFIX/lib or
 * PREFIX/bin installed. */
static char *own_dir(void)
{
	Dl_info info;
	char *path = NULL, *slash;

	if (dladdr((void *)own_dir, &info) && info.dli_fname && strchr(info.dli_fname, '/'))
		path = realpath(info.dli_fname, NULL);
	if (!path)
		path = realpath("/proc/self/exe", NULL);
	if (!path)
		return NULL;
	slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	return path;
}

static char *existing(char *path)
{
	struct stat st;

	if (path && stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return path;
	free(path);
	return NULL;
}

char *vm_default_file(const char *env, const char *build_rel, const char *share_rel)
{
	const char *given = getenv(env);
	char *dir, *path = NULL;

	if (given && *given)
		return strdup(given);
	dir = own_dir();
	if (!dir)
		return NULL;
	if (asprintf(&path, "%s/%s", dir, build_rel) >= 0)
		path = existing(path);
	if (!path && asprintf(&path, "%s/../share/vireo/%s", dir, share_rel) >= 0)
		path = existing(path);
	free(dir);
	return path;
}

/* A file the VM needs, made absolute and checked. */
static int need_file(char **slot, const char *env, const char *build_rel, const char *share_rel,
		     const char *what)
{
	char *path = *slot ? strdup(*slot) : vm_default_file(env, build_rel, share_rel), *real;

	if (!path)
		return vireo_fail(ENOENT,
				  "no %s: none given, none in $%s, none next to the library "
				  "(%s) and none installed (share/vireo/%s); run make",
				  what, env, build_rel, share_rel);
	real = realpath(path, NULL);
	if (!real) {
		int err = errno;

		vireo_fail(err, "%s '%s': %s", what, path, strerror(err));
		free(path);
		return -err;
	}
	free(path);
	if (strchr(real, '\n'))
		return vireo_fail(EINVAL, "%s '%s' has a newline in its name", what, real);
	free(*slot);
	*slot = real;
	return 0;
}

/* The program to exec, found in PATH now: after fork only async-signal-safe calls. */
char *vm_find_program(const char *name)
{
	const char *path = getenv("PATH");
	char *found = NULL;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? strdup(name) : NULL;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; !found; p++) {
		const char *end = strchrnul(p, ':');

		if (asprintf(&found, "%.*s/%s", (int)(end - p), p, name) < 0)
			return NULL;
		if (access(found, X_OK) != 0) {
			free(found);
			found = NULL;
		}
		if (!*end)
			break;
		p = end;
	}
	return found;
}

static int write_bundle(struct vireo_child *c, const char *bootargs, unsigned harts, unsigned vcpus,
			uint64_t *machine_memory)
{
	const struct vireo_cmd *cmd = c->cmd;
	struct vm_config cfg;
	char *text = NULL, *err = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len), *out;
	int fd, rc = 0;

	if (!fp)
		return vireo_fail(ENOMEM, "out of memory");
	/* The VM as a config file: every value is the rest of its line, whatever it holds. */
	fprintf(fp, "[machine]\nharts = %u\n", harts);
	for (unsigned i = 0; i < cmd->ndisks; i++)
		fprintf(fp, "disk = %s\n", cmd->disks[i].path);
	fprintf(fp, "[vm exec]\nkernel = %s\n", cmd->kernel);
	if (cmd->initramfs)
		fprintf(fp, "initrd = %s\n", cmd->initramfs);
	fprintf(fp, "memory = %lluM\nvcpus = %u\nbootargs = %s\n",
		(unsigned long long)(cmd->memory >> 20), vcpus, bootargs);
	if (cmd->ndisks)
		fprintf(fp, "disk = 0%s\n", cmd->disks[0].readonly ? ",ro" : "");
	if (cmd->net)
		fprintf(fp, "net = %s\n", VM_CONFIG_NET_DEFAULT);
	if (cmd->gdb_wait)
		fprintf(fp, "wait = on\n");
	fclose(fp);
	vm_config_init(&cfg);
	fp = fmemopen(text, len, "r");
	if (!fp || vm_config_parse_stream(&cfg, fp, "the VM", "") != 0) {
		rc = vireo_fail(EINVAL, "%s", fp ? vm_config_error(&cfg) : "out of memory");
		goto out;
	}
	cfg.machine.memory = vm_config_machine_memory(&cfg);
	if (vm_config_finish(&cfg, true) != 0) {
		rc = vireo_fail(EINVAL, "%s", vm_config_error(&cfg));
		goto out;
	}
	*machine_memory = cfg.machine.memory;
	fd = memfd_create("vireo-bundle", MFD_CLOEXEC);
	if (fd < 0) {
		rc = vireo_fail(errno, "memfd_create: %s", strerror(errno));
		goto out;
	}
	c->bundle_fd = fd;
	out = fdopen(dup(fd), "wb");
	if (!out || bundle_write(&cfg, 0, out, "the boot bundle", &err) != 0) {
		rc = vireo_fail(EIO, "%s", err ? err : strerror(errno));
		if (out)
			fclose(out);
	} else if (fclose(out) != 0) {
		rc = vireo_fail(EIO, "the boot bundle: %s", strerror(errno));
	}
out:
	if (fp)
		fclose(fp);
	free(err);
	free(text);
	vm_config_free(&cfg);
	return rc;
}

int vm_prepare(struct vireo_child *c)
{
	struct vireo_cmd *cmd = c->cmd;
	bool bare = cmd->mode == VIREO_MODE_BARE;
	unsigned harts = cmd->harts ? cmd->harts : VIREO_DEFAULT_HARTS;
	unsigned vcpus = cmd->vcpus ? cmd->vcpus : harts;
	uint64_t memory;
	const char *disks[VIREO_MAX_DISKS];
	bool ro[VIREO_MAX_DISKS];
	char *bootargs = NULL;
	int sv[2], logp[2], rc;

	if (!cmd->memory)
		cmd->memory = VIREO_DEFAULT_MEMORY;
	if (bare)
		harts = vcpus;
	rc = need_file(&cmd->kernel, "VIREO_KERNEL", "linux/Image", "Image", "guest kernel");
	if (!rc && !cmd->no_initramfs)
		rc = need_file(&cmd->initramfs, "VIREO_INITRAMFS", "linux/initramfs.cpio",
			       "initramfs.cpio", "guest initramfs");
	if (!rc && !bare)
		rc = need_file(&cmd->hypervisor, "VIREO_HYPERVISOR", "vireo.bin", "vireo.bin",
			       "hypervisor image");
	for (unsigned i = 0; !rc && i < cmd->ndisks; i++)
		rc = need_file(&cmd->disks[i].path, "VIREO_NO_DISK", "-", "-", "disk");
	if (rc)
		return rc;
	if (!bare && cmd->ndisks > 1)
		return vireo_fail(E2BIG, "under Vireo a VM has one disk (%u given)", cmd->ndisks);
	if (!bare && vcpus > harts * 8)
		return vireo_fail(EINVAL, "%u vCPUs on %u hart%s: at most 8 a hart", vcpus, harts,
				  harts == 1 ? "" : "s");
	if (asprintf(&bootargs, "%s%s%s", EXEC_BOOTARGS, cmd->bootargs ? " " : "",
		     cmd->bootargs ? cmd->bootargs : "") < 0)
		return vireo_fail(ENOMEM, "out of memory");
	if (strchr(bootargs, '\n')) {
		free(bootargs);
		return vireo_fail(EINVAL, "boot arguments with a newline");
	}
	memory = cmd->memory;
	if (!bare) {
		rc = write_bundle(c, bootargs, harts, vcpus, &memory);
		if (rc) {
			free(bootargs);
			return rc;
		}
	}
	c->qemu_path = vm_find_program(cmd->qemu ? cmd->qemu : QEMU_RUN_DEFAULT_QEMU);
	if (!c->qemu_path) {
		free(bootargs);
		return vireo_fail(ENOENT, "QEMU ('%s') not found%s",
				  cmd->qemu ? cmd->qemu : QEMU_RUN_DEFAULT_QEMU,
				  cmd->qemu ? "" : " in PATH (Debian package qemu-system-misc)");
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(logp, O_CLOEXEC) != 0) {
		free(bootargs);
		return vireo_fail(errno, "socketpair or pipe: %s", strerror(errno));
	}
	/* QEMU's console port drops what its socket cannot take (link.h): as much room as the
	 * system allows between what Vireo sends and what we have read. */
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &(int){4 << 20}, sizeof(int));
	c->link_fd = sv[0];
	c->qemu_link_fd = sv[1];
	c->log_rd = logp[0];
	c->log_wr = logp[1];
	for (unsigned i = 0; i < cmd->ndisks; i++) {
		disks[i] = cmd->disks[i].path;
		ro[i] = cmd->disks[i].readonly;
	}
	c->qemu_argv = qemu_run_argv(&(struct qemu_run_opts){
	    .qemu = c->qemu_path,
	    .machine = cmd->qemu_machine,
	    .cpu = VM_CONFIG_DEFAULT_CPU,
	    .harts = harts,
	    .memory = memory,
	    .kernel = bare ? cmd->kernel : cmd->hypervisor,
	    .initrd = bare ? cmd->initramfs : "/proc/self/fd/" /* + QEMU_FD_BUNDLE */ "4",
	    .append = bare ? bootargs : NULL,
	    .disks = disks,
	    .disks_ro = ro,
	    .ndisks = cmd->ndisks,
	    .link_fd = bare ? -1 : QEMU_FD_LINK,
	    .agent_fd = bare ? QEMU_FD_LINK : -1,
	    /* Bare, the guest drives QEMU's virtio-net itself; under Vireo, Vireo does. */
	    .net_uplink = cmd->net,
	});
	free(bootargs);
	return 0;
}

/* ------------------------------------------------------------------ QEMU's start */

static void close_from(int first)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, first, ~0U, 0) == 0)
		return;
#endif
	struct rlimit rl;
	long max =
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (long)rl.rlim_cur : 65536;

	for (long fd = first; fd < max; fd++)
		close((int)fd);
}

/* After fork, in a process that may have had many threads: async-signal-safe calls only. */
__attribute__((noreturn)) static void qemu_child(struct vireo_child *c, pid_t parent, int devnull,
						 int report)
{
	int src[5] = {devnull, c->log_wr, c->log_wr, c->qemu_link_fd, c->bundle_fd}, err;
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(125);
	setsid();
	/* Out of the way of the targets first (the report pipe too), then into place. */
	report = fcntl(report, F_DUPFD_CLOEXEC, 16);
	if (report < 0)
		_exit(125);
	for (int i = 0; i < 5; i++)
		if (src[i] >= 0 && (src[i] = fcntl(src[i], F_DUPFD, 16)) < 0)
			goto fail;
	for (int i = 0; i < 5; i++)
		if (src[i] >= 0 && dup2(src[i], i) < 0)
			goto fail;
	if (dup3(report, 5, O_CLOEXEC) < 0)
		goto fail;
	report = 5;
	close_from(6);
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};

		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	}
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(c->qemu_path, c->qemu_argv);
fail:
	err = errno;
	if (write(report, &err, sizeof(err)) < 0)
		_exit(125);
	_exit(125);
}

int vm_start_qemu(struct vireo_child *c)
{
	int report[2], devnull, err = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(report, O_CLOEXEC) != 0) {
		err = errno;
		if (devnull >= 0)
			close(devnull);
		snprintf(c->start_error, sizeof(c->start_error), "cannot start QEMU: %s",
			 strerror(err));
		return -err;
	}
	pid = fork();
	if (pid == 0)
		qemu_child(c, parent, devnull, report[1]);
	err = errno;
	close(report[1]);
	close(devnull);
	if (pid < 0) {
		close(report[0]);
		snprintf(c->start_error, sizeof(c->start_error), "cannot start QEMU: fork: %s",
			 strerror(err));
		return -err;
	}
	do
		n = read(report[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0);
		snprintf(c->start_error, sizeof(c->start_error), "cannot run QEMU '%s': %s",
			 c->qemu_path, strerror(err));
		return -err;
	}
	c->qemu_pid = pid;
	/* QEMU has its ends now. */
	close(c->qemu_link_fd);
	c->qemu_link_fd = -1;
	close(c->log_wr);
	c->log_wr = -1;
	if (c->bundle_fd >= 0) {
		close(c->bundle_fd);
		c->bundle_fd = -1;
	}
	return 0;
}
