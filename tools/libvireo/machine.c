// SPDX-License-Identifier: BSD-2-Clause
/*
 * Machines and their VMs from a client (include/vireo.h, docs/machine.md):
 * starting a machine's daemon in the background and waiting until it is
 * ready, finding running machines, and the requests a client makes on a
 * machine's socket (mproto.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "machined.h"
#include "mproto.h"

#define START_WAIT_MS	  (240 * 1000) /* QEMU, Vireo, and the template's Linux boot */
#define REPLY_WAIT_MS	  (120 * 1000)
#define STOP_WAIT_MS	  (15 * 1000)
#define MAX_MACHINE_DISKS 8

struct vireo_machine_cfg {
	char name[MACHINE_NAME_MAX];
	unsigned harts;
	uint64_t memory;
	char *qemu, *hypervisor, *kernel, *initramfs;
	char *disks[MAX_MACHINE_DISKS];
	bool disks_ro[MAX_MACHINE_DISKS];
	unsigned ndisks;
	bool no_template;
	unsigned spares;
	uint64_t template_memory;
	unsigned template_vcpus;
};

static int no_memory(void)
{
	return vireo_fail(ENOMEM, "out of memory");
}

static int set_path(char **slot, const char *path, const char *what)
{
	char *real;

	if (!path) {
		free(*slot);
		*slot = NULL;
		return 0;
	}
	real = realpath(path, NULL);
	if (!real)
		return vireo_fail(errno, "%s '%s': %s", what, path, strerror(errno));
	free(*slot);
	*slot = real;
	return 0;
}

VIREO_API struct vireo_machine_cfg *vireo_machine_cfg_new(const char *name)
{
	struct vireo_machine_cfg *c;

	if (!name || !machine_name_ok(name)) {
		vireo_fail(EINVAL, "a machine's name is 1..31 of A-Z a-z 0-9 . _ - ('%s')",
			   name ? name : "");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		no_memory();
		return NULL;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->harts = 2;
	c->memory = 1ULL << 30;
	c->template_memory = 256ULL << 20;
	c->template_vcpus = 1;
	/* A template exec forks (a machine whose Vireo cannot fork goes without one). */
	c->no_template = false;
	return c;
}

VIREO_API void vireo_machine_cfg_free(struct vireo_machine_cfg *c)
{
	if (!c)
		return;
	free(c->qemu);
	free(c->hypervisor);
	free(c->kernel);
	free(c->initramfs);
	for (unsigned i = 0; i < c->ndisks; i++)
		free(c->disks[i]);
	free(c);
}

VIREO_API int vireo_machine_cfg_memory(struct vireo_machine_cfg *c, uint64_t bytes)
{
	if (bytes < (64ULL << 20) || bytes % (1ULL << 20) || bytes > (64ULL << 30))
		return vireo_fail(EINVAL, "a machine's memory is whole MiB from 64 MiB to 64 GiB");
	c->memory = bytes;
	return 0;
}

VIREO_API int vireo_machine_cfg_harts(struct vireo_machine_cfg *c, unsigned n)
{
	if (n < 1 || n > 64)
		return vireo_fail(EINVAL, "a machine has 1..64 harts");
	c->harts = n;
	return 0;
}

VIREO_API int vireo_machine_cfg_disk(struct vireo_machine_cfg *c, const char *path, bool ro)
{
	if (c->ndisks == MAX_MACHINE_DISKS)
		return vireo_fail(E2BIG, "a machine has at most %d disks", MAX_MACHINE_DISKS);
	c->disks[c->ndisks] = NULL;
	if (set_path(&c->disks[c->ndisks], path, "disk"))
		return -errno;
	c->disks_ro[c->ndisks++] = ro;
	return 0;
}

VIREO_API int vireo_machine_cfg_spares(struct vireo_machine_cfg *c, unsigned n)
{
	if (n > 8)
		return vireo_fail(EINVAL, "at most 8 spare VMs");
	c->spares = n;
	return 0;
}

VIREO_API int vireo_machine_cfg_template(struct vireo_machine_cfg *c, bool on, uint64_t memory,
					 unsigned vcpus)
{
	if (on && (memory < (16ULL << 20) || memory % (2ULL << 20) || vcpus < 1 || vcpus > 16))
		return vireo_fail(EINVAL, "a template has 16 MiB or more (a multiple of 2 MiB) "
					  "and 1..16 vCPUs");
	c->no_template = !on;
	if (on) {
		c->template_memory = memory;
		c->template_vcpus = vcpus;
	}
	return 0;
}

VIREO_API int vireo_machine_cfg_file(struct vireo_machine_cfg *c, const char *what,
				     const char *path)
{
	if (strcmp(what, "qemu") == 0) {
		char *copy = path ? strdup(path) : NULL;

		if (path && !copy)
			return no_memory();
		free(c->qemu);
		c->qemu = copy;
		return 0;
	}
	if (strcmp(what, "hypervisor") == 0)
		return set_path(&c->hypervisor, path, "hypervisor image");
	if (strcmp(what, "kernel") == 0)
		return set_path(&c->kernel, path, "guest kernel");
	if (strcmp(what, "initramfs") == 0)
		return set_path(&c->initramfs, path, "guest initramfs");
	return vireo_fail(EINVAL, "no file '%s' (qemu, hypervisor, kernel or initramfs)", what);
}

/* ------------------------------------------------------------------ the socket */

static int machine_connect(const char *name, int *fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *dir;
	int s;

	if (!name || !machine_name_ok(name))
		return vireo_fail(EINVAL, "no such machine name '%s'", name ? name : "");
	dir = machine_dir(name);
	if (!dir)
		return vireo_fail(errno ? errno : ENOMEM, "no runtime directory: %s",
				  strerror(errno ? errno : ENOMEM));
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.sock", dir) >=
	    (int)sizeof(sa.sun_path)) {
		free(dir);
		return vireo_fail(ENAMETOOLONG, "the runtime directory's path is too long");
	}
	free(dir);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return vireo_fail(errno, "socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = errno;

		close(s);
		if (err == ENOENT || err == ECONNREFUSED)
			return vireo_fail(ENOENT, "no machine '%s' is running", name);
		return vireo_fail(err, "machine '%s': %s", name, strerror(err));
	}
	*fd = s;
	return 0;
}

/* One request on an open connection: 0 and the reply's text (malloc'ed), or -errno with
 * the daemon's reason as the last error. */
static int ask(int fd, const char *machine, struct mp_msg *req, char **reply, size_t *rlen)
{
	uint16_t type = 0;
	char *text = NULL, buf[600];
	size_t len = 0;
	int64_t err;
	int rc;

	if (req->failed) {
		mp_free(req);
		return vireo_fail(EINVAL, "a value holds a newline, or the request is too big");
	}
	rc = mp_send(fd, MP_REQUEST, req->text, req->len);
	mp_free(req);
	if (!rc)
		rc = mp_recv(fd, &type, &text, &len, REPLY_WAIT_MS);
	if (rc)
		return vireo_fail(-rc, "machine '%s': %s", machine,
				  rc == -EPIPE ? "it closed the connection" : strerror(-rc));
	if (type != MP_REPLY || !mp_valid(text, len)) {
		free(text);
		return vireo_fail(EPROTO, "machine '%s' answered nonsense", machine);
	}
	if (mp_get_i64(text, len, "error", &err)) {
		rc = vireo_fail(
		    err > 0 && err < 4096 ? (int)err : EIO, "%s",
		    mp_get(text, len, "message", buf, sizeof(buf)) ? buf : strerror((int)err));
		free(text);
		return rc;
	}
	if (reply) {
		*reply = text;
		*rlen = len;
	} else {
		free(text);
	}
	return 0;
}

/* Connect, ask, close. */
static int request(const char *machine, struct mp_msg *req, char **reply, size_t *rlen)
{
	int fd, rc = machine_connect(machine, &fd);

	if (rc) {
		mp_free(req);
		return rc;
	}
	rc = ask(fd, machine, req, reply, rlen);
	close(fd);
	return rc;
}

int machine_open_stream(const char *machine, struct mp_msg *req, int *fd_out, unsigned *id)
{
	char *reply = NULL;
	size_t len = 0;
	uint64_t v = 0;
	int fd, rc = machine_connect(machine, &fd);

	if (rc) {
		mp_free(req);
		return rc;
	}
	rc = ask(fd, machine, req, &reply, &len);
	if (rc) {
		close(fd);
		return rc;
	}
	mp_get_u64(reply, len, "id", &v);
	free(reply);
	if (id)
		*id = (unsigned)v;
	*fd_out = fd;
	return 0;
}

/* ------------------------------------------------------------------ starting and stopping */

/* The vireo command next to this library (build/vireo), or the installed bin/vireo. */
static char *find_tool(void)
{
	const char *env = getenv("VIREO_TOOL");
	Dl_info info;
	char *lib = NULL, *slash, *path = NULL;

	if (env && *env)
		return strdup(env);
	if (dladdr((void *)find_tool, &info) && info.dli_fname && strchr(info.dli_fname, '/'))
		lib = realpath(info.dli_fname, NULL);
	if (!lib)
		lib = realpath("/proc/self/exe", NULL);
	if (!lib)
		return NULL;
	slash = strrchr(lib, '/');
	if (slash)
		*slash = '\0';
	const char *tries[] = {"", "/../bin"};
	for (size_t i = 0; i < 2 && !path; i++) {
		if (asprintf(&path, "%s%s/vireo", lib, tries[i]) < 0) {
			path = NULL;
			break;
		}
		if (access(path, X_OK) != 0) {
			free(path);
			path = NULL;
		}
	}
	free(lib);
	return path;
}

static int push_arg(char ***argv, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int push_arg(char ***argv, size_t *n, const char *fmt, ...)
{
	char **a = realloc(*argv, (*n + 2) * sizeof(char *));
	va_list ap;
	int r;

	if (!a)
		return -1;
	*argv = a;
	va_start(ap, fmt);
	r = vasprintf(&a[*n], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	a[++*n] = NULL;
	return 0;
}

static void free_argv(char **argv)
{
	for (char **p = argv; p && *p; p++)
		free(*p);
	free(argv);
}

/* The daemon's command line for this configuration. */
static char **serve_argv(const char *tool, const struct vireo_machine_cfg *c, int ready_fd)
{
	char **argv = NULL;
	size_t n = 0;
	int bad = 0;

	bad |= push_arg(&argv, &n, "%s", tool);
	bad |= push_arg(&argv, &n, "machine");
	bad |= push_arg(&argv, &n, "serve");
	bad |= push_arg(&argv, &n, "--name=%s", c->name);
	bad |= push_arg(&argv, &n, "--harts=%u", c->harts);
	bad |= push_arg(&argv, &n, "--memory=%lluM", (unsigned long long)(c->memory >> 20));
	bad |= push_arg(&argv, &n, "--ready-fd=%d", ready_fd);
	bad |= push_arg(&argv, &n, "--spares=%u", c->spares);
	if (c->no_template)
		bad |= push_arg(&argv, &n, "--no-template");
	else
		bad |= push_arg(&argv, &n, "--template=%lluM,%u",
				(unsigned long long)(c->template_memory >> 20), c->template_vcpus);
	if (c->qemu)
		bad |= push_arg(&argv, &n, "--qemu=%s", c->qemu);
	if (c->hypervisor)
		bad |= push_arg(&argv, &n, "--hypervisor=%s", c->hypervisor);
	if (c->kernel)
		bad |= push_arg(&argv, &n, "--kernel=%s", c->kernel);
	if (c->initramfs)
		bad |= push_arg(&argv, &n, "--initramfs=%s", c->initramfs);
	for (unsigned i = 0; i < c->ndisks; i++)
		bad |= push_arg(&argv, &n, "--disk=%s%s", c->disks[i], c->disks_ro[i] ? ",ro" : "");
	if (bad) {
		free_argv(argv);
		return NULL;
	}
	return argv;
}

VIREO_API int vireo_machine_start(const struct vireo_machine_cfg *c)
{
	char *tool = find_tool(), **argv, msg[600];
	int ready[2], devnull, status;
	size_t got = 0;
	unsigned long long deadline;
	struct timespec ts;
	pid_t pid;

	if (!tool)
		return vireo_fail(ENOENT, "the vireo command was not found next to libvireo or "
					  "installed (set VIREO_TOOL)");
	if (pipe2(ready, O_CLOEXEC) != 0) {
		free(tool);
		return vireo_fail(errno, "pipe: %s", strerror(errno));
	}
	argv = serve_argv(tool, c, 3);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (!argv || devnull < 0) {
		free(tool);
		free_argv(argv);
		close(ready[0]);
		close(ready[1]);
		if (devnull >= 0)
			close(devnull);
		return no_memory();
	}
	pid = fork();
	if (pid == 0) {
		/* In the background, in a session of its own, reparented to init: nothing of
		 * the caller's (its terminal, its signals, its descriptors) reaches it. */
		sigset_t none;

		setsid();
		if (fork() != 0)
			_exit(0);
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0 ||
		    dup2(ready[1], 3) < 0)
			_exit(125);
		for (int fd = 4; fd < 1024; fd++)
			close(fd);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(tool, argv);
		_exit(127);
	}
	close(ready[1]);
	close(devnull);
	free(tool);
	free_argv(argv);
	if (pid < 0) {
		close(ready[0]);
		return vireo_fail(errno, "fork: %s", strerror(errno));
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (unsigned long long)ts.tv_sec * 1000 + START_WAIT_MS;
	for (;;) {
		struct pollfd p = {.fd = ready[0], .events = POLLIN};
		unsigned long long now;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now =
		    (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
		if (now >= deadline) {
			close(ready[0]);
			return vireo_fail(ETIMEDOUT, "machine '%s' was not ready in %d s", c->name,
					  START_WAIT_MS / 1000);
		}
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			continue;
		r = read(ready[0], msg + got, sizeof(msg) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof(msg) - 1)
			break;
	}
	close(ready[0]);
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	if (strcmp(msg, "ok") == 0)
		return 0;
	if (strncmp(msg, "error: ", 7) == 0)
		return vireo_fail(strstr(msg, "running already") ? EEXIST : EIO, "%s", msg + 7);
	return vireo_fail(EIO, "machine '%s' did not start (the daemon ended without a word)",
			  c->name);
}

VIREO_API int vireo_machine_stop(const char *name)
{
	struct mp_msg m;
	char *dir;
	int rc, lock;
	struct timespec ts = {0, 20 * 1000 * 1000};

	mp_init(&m);
	mp_add(&m, "op", "stop");
	rc = request(name, &m, NULL, NULL);
	if (rc)
		return rc;
	/* Stopped when its lock is free (its files are gone, or going). */
	dir = machine_dir(name);
	if (!dir)
		return 0;
	for (int i = 0; i < STOP_WAIT_MS / 20; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s/lock", dir) < 0)
			break;
		lock = open(path, O_RDONLY | O_CLOEXEC);
		free(path);
		if (lock < 0)
			break;
		if (flock(lock, LOCK_SH | LOCK_NB) == 0) {
			close(lock);
			break;
		}
		close(lock);
		nanosleep(&ts, NULL);
	}
	free(dir);
	return 0;
}

/* ------------------------------------------------------------------ status */

static void fill_status(struct vireo_machine_status *st, const char *text, size_t len)
{
	uint64_t v;
	char buf[32];

	memset(st, 0, sizeof(*st));
	if (mp_get(text, len, "name", buf, sizeof(buf)))
		snprintf(st->name, sizeof(st->name), "%s", buf);
	if (mp_get(text, len, "template", buf, sizeof(buf)))
		snprintf(st->template_vm, sizeof(st->template_vm), "%s", buf);
	if (mp_get_u64(text, len, "pid", &v))
		st->pid = (int)v;
	if (mp_get_u64(text, len, "harts", &v))
		st->harts = (unsigned)v;
	if (mp_get_u64(text, len, "vms", &v))
		st->vms = (unsigned)v;
	mp_get_u64(text, len, "memory", &st->memory);
	mp_get_u64(text, len, "free", &st->free);
	mp_get_u64(text, len, "limit", &st->limit);
	mp_get_u64(text, len, "committed", &st->committed);
	if (mp_get_u64(text, len, "spares", &v))
		st->spares = (unsigned)v;
	if (mp_get_u64(text, len, "spares_ready", &v))
		st->spares_ready = (unsigned)v;
}

VIREO_API int vireo_machine_status(const char *name, struct vireo_machine_status *st)
{
	struct mp_msg m;
	char *text = NULL;
	size_t len = 0;
	int rc;

	mp_init(&m);
	mp_add(&m, "op", "info");
	rc = request(name, &m, &text, &len);
	if (rc)
		return rc;
	fill_status(st, text, len);
	free(text);
	return 0;
}

/* A directory left by a daemon that was killed: its lock is free. Remove it. */
static bool stale(const char *root, const char *name)
{
	char *path = NULL;
	int fd;
	bool gone = false;

	if (asprintf(&path, "%s/%s/lock", root, name) < 0)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
		char *f = NULL;
		static const char *const files[] = {"ctl.sock", "console.log", "lock"};

		for (size_t i = 0; i < 3; i++) {
			if (asprintf(&f, "%s/%s/%s", root, name, files[i]) >= 0) {
				unlink(f);
				free(f);
			}
		}
		if (asprintf(&f, "%s/%s", root, name) >= 0) {
			rmdir(f);
			free(f);
		}
		gone = true;
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return gone;
}

VIREO_API int vireo_machine_list(struct vireo_machine_status **list, size_t *n)
{
	char *root = machine_root();
	DIR *dir;
	struct dirent *e;
	struct vireo_machine_status *out = NULL;
	size_t count = 0;

	*list = NULL;
	*n = 0;
	if (!root)
		return vireo_fail(errno ? errno : ENOMEM, "no runtime directory");
	dir = opendir(root);
	if (!dir) {
		free(root);
		return 0;
	}
	while ((e = readdir(dir))) {
		struct vireo_machine_status st;

		if (!machine_name_ok(e->d_name) || stale(root, e->d_name))
			continue;
		if (vireo_machine_status(e->d_name, &st) != 0)
			continue;
		struct vireo_machine_status *grown = realloc(out, (count + 1) * sizeof(*out));

		if (!grown)
			break;
		out = grown;
		out[count++] = st;
	}
	closedir(dir);
	free(root);
	*list = out;
	*n = count;
	return 0;
}

/* ------------------------------------------------------------------ VMs */

static const char *const spec_keys[] = {"kernel", "initrd",	"memory",  "vcpus",
					"harts",  "disk",	"console", "testdev",
					"rtc",	  "rtc_offset", "bootargs"};

/* "key=value,key=value,...,bootargs=the rest" into request lines; files made absolute. */
static int add_spec(struct mp_msg *m, const char *spec)
{
	char *copy = strdup(spec ? spec : ""), *p = copy, yes[] = "yes";

	if (!copy)
		return no_memory();
	while (p && *p) {
		char *comma, *eq, *value;
		bool known = false;

		if (strncmp(p, "bootargs=", 9) == 0) {
			mp_add(m, "bootargs", "%s", p + 9);
			break;
		}
		comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		eq = strchr(p, '=');
		value = eq ? eq + 1 : yes;
		if (eq)
			*eq = '\0';
		for (size_t i = 0; i < sizeof(spec_keys) / sizeof(spec_keys[0]); i++)
			known |= strcmp(p, spec_keys[i]) == 0;
		if (!known) {
			int rc = vireo_fail(EINVAL, "no VM key '%s' (%s, ...)", p, spec_keys[0]);

			free(copy);
			return rc;
		}
		if (strcmp(p, "kernel") == 0 || strcmp(p, "initrd") == 0) {
			char *real = realpath(value, NULL);

			if (!real) {
				int rc =
				    vireo_fail(errno, "%s '%s': %s", p, value, strerror(errno));

				free(copy);
				return rc;
			}
			mp_add(m, p, "%s", real);
			free(real);
		} else if (strcmp(p, "disk") == 0 && comma && strncmp(comma + 1, "ro", 2) == 0 &&
			   (comma[3] == ',' || comma[3] == '\0')) {
			mp_add(m, "disk", "%s,ro", value);
			comma += 3;
			if (!*comma)
				comma = NULL;
		} else {
			mp_add(m, p, "%s", value);
		}
		p = comma ? comma + 1 : NULL;
	}
	free(copy);
	return 0;
}

VIREO_API int vireo_vm_create(const char *machine, const char *name, const char *spec, bool start)
{
	struct mp_msg m;
	int rc;

	mp_init(&m);
	mp_add(&m, "op", "vm-create");
	mp_add(&m, "name", "%s", name ? name : "");
	mp_add(&m, "start", "%d", start ? 1 : 0);
	rc = add_spec(&m, spec);
	if (rc) {
		mp_free(&m);
		return rc;
	}
	return request(machine, &m, NULL, NULL);
}

static int vm_op(const char *machine, const char *op, const char *name)
{
	struct mp_msg m;

	mp_init(&m);
	mp_add(&m, "op", "%s", op);
	mp_add(&m, "name", "%s", name ? name : "");
	return request(machine, &m, NULL, NULL);
}

VIREO_API int vireo_vm_start(const char *machine, const char *name)
{
	return vm_op(machine, "vm-start", name);
}

VIREO_API int vireo_vm_stop(const char *machine, const char *name)
{
	return vm_op(machine, "vm-stop", name);
}

VIREO_API int vireo_vm_remove(const char *machine, const char *name)
{
	return vm_op(machine, "vm-rm", name);
}

VIREO_API int vireo_vm_pause(const char *machine, const char *name)
{
	return vm_op(machine, "vm-pause", name);
}

VIREO_API int vireo_vm_resume(const char *machine, const char *name)
{
	return vm_op(machine, "vm-resume", name);
}

VIREO_API int vireo_vm_gdb(const char *machine, const char *name, int port, int *port_out)
{
	struct mp_msg m;
	char *reply = NULL;
	size_t len = 0;
	uint64_t got = 0;
	int rc;

	if (port < 0 || port > 65535)
		return vireo_fail(EINVAL, "the port must be 0..65535 (0: any free one)");
	mp_init(&m);
	mp_add(&m, "op", "vm-gdb");
	mp_add(&m, "name", "%s", name ? name : "");
	mp_add(&m, "port", "%d", port);
	rc = request(machine, &m, &reply, &len);
	if (rc)
		return rc;
	mp_get_u64(reply, len, "port", &got);
	free(reply);
	if (port_out)
		*port_out = (int)got;
	return 0;
}

VIREO_API int vireo_vm_list(const char *machine, struct vireo_vm_status **list, size_t *n)
{
	struct mp_msg m;
	char *text = NULL, line[256];
	size_t len = 0, count = 0;
	struct vireo_vm_status *out = NULL;
	int rc;

	*list = NULL;
	*n = 0;
	mp_init(&m);
	mp_add(&m, "op", "vm-list");
	rc = request(machine, &m, &text, &len);
	if (rc)
		return rc;
	for (unsigned i = 0; mp_get_nth(text, len, "vm", i, line, sizeof(line)); i++) {
		struct vireo_vm_status st = {0}, *grown;
		unsigned long long mem = 0;

		st.agent = 0;
		if (sscanf(line, "%31s %u %15s %15s %u %llu %d %d", st.name, &st.id, st.state,
			   st.origin, &st.vcpus, &mem, &st.exit_status, &st.agent) < 7)
			continue;
		st.memory = mem;
		grown = realloc(out, (count + 1) * sizeof(*out));
		if (!grown) {
			free(out);
			free(text);
			return no_memory();
		}
		out = grown;
		out[count++] = st;
	}
	free(text);
	*list = out;
	*n = count;
	return 0;
}

VIREO_API int vireo_vm_snapshot(const char *machine, const char *name, const char *path,
				enum vireo_snapshot_then then)
{
	static const char *const thens[] = {"resume", "pause", "stop"};
	struct mp_msg m;
	char *abs = NULL;

	if (!path || (unsigned)then > VIREO_SNAPSHOT_STOP)
		return vireo_fail(EINVAL,
				  "a snapshot needs a file, and then resume, pause or stop");
	/* The daemon writes the file: give it a path that means the same to it. */
	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);

		if (!cwd || asprintf(&abs, "%s/%s", cwd, path) < 0) {
			free(cwd);
			return no_memory();
		}
		free(cwd);
	}
	mp_init(&m);
	mp_add(&m, "op", "vm-snapshot");
	mp_add(&m, "name", "%s", name ? name : "");
	mp_add(&m, "path", "%s", abs ? abs : path);
	mp_add(&m, "then", "%s", thens[then]);
	free(abs);
	return request(machine, &m, NULL, NULL);
}

VIREO_API int vireo_vm_restore(const char *machine, const char *name, const char *path, bool start)
{
	struct mp_msg m;
	char *real = path ? realpath(path, NULL) : NULL;

	if (!real)
		return vireo_fail(errno ? errno : EINVAL, "snapshot '%s': %s", path ? path : "",
				  strerror(errno ? errno : EINVAL));
	mp_init(&m);
	mp_add(&m, "op", "vm-restore");
	mp_add(&m, "name", "%s", name ? name : "");
	mp_add(&m, "path", "%s", real);
	mp_add(&m, "start", "%d", start ? 1 : 0);
	free(real);
	return request(machine, &m, NULL, NULL);
}

VIREO_API int vireo_vm_fork(const char *machine, const char *from, const char *name, bool start,
			    uint64_t mem_limit)
{
	struct mp_msg m;

	mp_init(&m);
	mp_add(&m, "op", "vm-fork");
	mp_add(&m, "from", "%s", from ? from : "");
	mp_add(&m, "name", "%s", name ? name : "");
	mp_add(&m, "start", "%d", start ? 1 : 0);
	if (mem_limit)
		mp_add(&m, "mem_limit", "%llu", (unsigned long long)mem_limit);
	return request(machine, &m, NULL, NULL);
}
