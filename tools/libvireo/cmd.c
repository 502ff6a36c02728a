// SPDX-License-Identifier: BSD-2-Clause
/* Building a command (include/vireo.h); the checks that need no file system. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static __thread char last_error[512];

VIREO_API const char *vireo_version(void)
{
	return VIREO_VERSION;
}

VIREO_API const char *vireo_last_error(void)
{
	return last_error;
}

int vireo_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return -err;
}

static int no_memory(void)
{
	return vireo_fail(ENOMEM, "out of memory");
}

/* Append a copy of s to a NULL-terminated list. */
static int push(char ***list, size_t *n, const char *s)
{
	char **l = realloc(*list, (*n + 2) * sizeof(char *));
	char *copy;

	if (!l)
		return no_memory();
	*list = l;
	copy = strdup(s);
	if (!copy)
		return no_memory();
	l[(*n)++] = copy;
	l[*n] = NULL;
	return 0;
}

static int set_str(char **slot, const char *s)
{
	char *copy = s ? strdup(s) : NULL;

	if (s && !copy)
		return no_memory();
	free(*slot);
	*slot = copy;
	return 0;
}

VIREO_API struct vireo_cmd *vireo_cmd_new(const char *program)
{
	struct vireo_cmd *c = calloc(1, sizeof(*c));

	if (!c) {
		no_memory();
		return NULL;
	}
	c->log_fd = -1;
	c->connect_fd = -1;
	c->gdb_port = -1;
	for (int i = 0; i < 3; i++)
		c->io[i].fd = -1;
	if (!program || !*program) {
		vireo_fail(EINVAL, "a command needs a program");
		free(c);
		return NULL;
	}
	if (push(&c->argv, &c->argc, program) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static void free_copies(struct vireo_copy *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].from);
		free(c[i].to);
	}
	free(c);
}

VIREO_API void vireo_cmd_free(struct vireo_cmd *c)
{
	if (!c)
		return;
	free_list(c->argv, c->argc);
	free_list(c->env, c->nenv);
	free(c->cwd);
	free(c->kernel);
	free(c->initramfs);
	for (unsigned i = 0; i < c->ndisks; i++)
		free(c->disks[i].path);
	free(c->bootargs);
	free_copies(c->copy_in, c->ncopy_in);
	free_copies(c->copy_out, c->ncopy_out);
	free(c->qemu);
	free(c->hypervisor);
	free(c->qemu_machine);
	if (c->connect_fd >= 0)
		close(c->connect_fd);
	free(c->machine);
	free(c->in_vm);
	free(c);
}

VIREO_API int vireo_cmd_arg(struct vireo_cmd *c, const char *arg)
{
	if (!arg)
		return vireo_fail(EINVAL, "an argument cannot be NULL");
	return push(&c->argv, &c->argc, arg);
}

VIREO_API int vireo_cmd_env(struct vireo_cmd *c, const char *name, const char *value)
{
	char *entry;
	int err;

	if (!name || !*name || strchr(name, '=') || !value)
		return vireo_fail(EINVAL, "environment variable name '%s' is empty or has a '='",
				  name ? name : "(null)");
	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return no_memory();
	for (size_t i = 0; i < c->nenv; i++) {
		size_t n = strlen(name);

		if (strncmp(c->env[i], name, n) == 0 && c->env[i][n] == '=') {
			free(c->env[i]);
			c->env[i] = entry;
			return 0;
		}
	}
	err = push(&c->env, &c->nenv, entry);
	free(entry);
	return err;
}

VIREO_API int vireo_cmd_cwd(struct vireo_cmd *c, const char *dir)
{
	if (dir && !*dir)
		return vireo_fail(EINVAL, "the working directory cannot be empty");
	return set_str(&c->cwd, dir);
}

VIREO_API int vireo_cmd_stdio(struct vireo_cmd *c, int stream, enum vireo_stdio how, int fd)
{
	if (stream < 0 || stream > 2)
		return vireo_fail(EINVAL, "stream %d is not 0, 1 or 2", stream);
	if (how > VIREO_FD)
		return vireo_fail(EINVAL, "%d is not a vireo_stdio", (int)how);
	if (how == VIREO_FD && fcntl(fd, F_GETFD) < 0)
		return vireo_fail(EBADF, "descriptor %d for stream %d is not open", fd, stream);
	c->io[stream].how = how;
	c->io[stream].fd = how == VIREO_FD ? fd : -1;
	return 0;
}

VIREO_API int vireo_cmd_tty(struct vireo_cmd *c, bool on, unsigned rows, unsigned cols)
{
	if (rows > UINT16_MAX || cols > UINT16_MAX)
		return vireo_fail(EINVAL, "a terminal of %u x %u characters", rows, cols);
	c->tty = on;
	c->rows = rows ? rows : 24;
	c->cols = cols ? cols : 80;
	return 0;
}

VIREO_API int vireo_cmd_memory(struct vireo_cmd *c, uint64_t bytes)
{
	if (bytes < (16ULL << 20) || bytes % (2ULL << 20) || bytes > (64ULL << 30))
		return vireo_fail(
		    EINVAL,
		    "memory of %llu bytes: it must be a multiple of 2 MiB from 16 MiB "
		    "to 64 GiB",
		    (unsigned long long)bytes);
	c->memory = bytes;
	return 0;
}

VIREO_API int vireo_cmd_vcpus(struct vireo_cmd *c, unsigned n)
{
	if (n < 1 || n > 16)
		return vireo_fail(EINVAL, "%u vCPUs: 1 to 16", n);
	c->vcpus = n;
	return 0;
}

VIREO_API int vireo_cmd_harts(struct vireo_cmd *c, unsigned n)
{
	if (n < 1 || n > 64)
		return vireo_fail(EINVAL, "%u harts: 1 to 64", n);
	c->harts = n;
	return 0;
}

VIREO_API int vireo_cmd_kernel(struct vireo_cmd *c, const char *path)
{
	return set_str(&c->kernel, path);
}

VIREO_API int vireo_cmd_initramfs(struct vireo_cmd *c, const char *path)
{
	c->no_initramfs = path == NULL;
	return set_str(&c->initramfs, path);
}

VIREO_API int vireo_cmd_disk(struct vireo_cmd *c, const char *path, bool readonly)
{
	if (!path || !*path)
		return vireo_fail(EINVAL, "a disk needs a path");
	if (c->ndisks == VIREO_MAX_DISKS)
		return vireo_fail(E2BIG, "at most %d disks", VIREO_MAX_DISKS);
	if (set_str(&c->disks[c->ndisks].path, path) < 0)
		return -ENOMEM;
	c->disks[c->ndisks++].readonly = readonly;
	return 0;
}

VIREO_API int vireo_cmd_net(struct vireo_cmd *c, bool on)
{
	c->net = on;
	return 0;
}

VIREO_API int vireo_cmd_bootargs(struct vireo_cmd *c, const char *args)
{
	return set_str(&c->bootargs, args);
}

VIREO_API int vireo_cmd_time_limit(struct vireo_cmd *c, uint64_t ms)
{
	c->time_limit_ms = ms;
	return 0;
}

static int add_copy(struct vireo_copy **list, size_t *n, const char *from, const char *to)
{
	struct vireo_copy *l;

	if (!from || !*from || !to || !*to)
		return vireo_fail(EINVAL, "a copy needs a source and a destination");
	l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l)
		return no_memory();
	*list = l;
	l[*n].from = strdup(from);
	l[*n].to = strdup(to);
	if (!l[*n].from || !l[*n].to) {
		free(l[*n].from);
		free(l[*n].to);
		return no_memory();
	}
	(*n)++;
	return 0;
}

VIREO_API int vireo_cmd_copy_in(struct vireo_cmd *c, const char *host, const char *guest)
{
	return add_copy(&c->copy_in, &c->ncopy_in, host, guest);
}

VIREO_API int vireo_cmd_copy_out(struct vireo_cmd *c, const char *guest, const char *host)
{
	return add_copy(&c->copy_out, &c->ncopy_out, guest, host);
}

VIREO_API int vireo_cmd_mode(struct vireo_cmd *c, enum vireo_mode mode)
{
	if (mode != VIREO_MODE_VIREO && mode != VIREO_MODE_BARE)
		return vireo_fail(EINVAL, "%d is not a vireo_mode", (int)mode);
	c->mode = mode;
	return 0;
}

VIREO_API int vireo_cmd_qemu(struct vireo_cmd *c, const char *path)
{
	return set_str(&c->qemu, path);
}

VIREO_API int vireo_cmd_hypervisor(struct vireo_cmd *c, const char *path)
{
	return set_str(&c->hypervisor, path);
}

VIREO_API int vireo_cmd_qemu_machine(struct vireo_cmd *c, const char *machine)
{
	if (machine && (!*machine || strchr(machine, ' ')))
		return vireo_fail(EINVAL, "QEMU machine '%s' is not one word like virt,aia=aplic",
				  machine);
	return set_str(&c->qemu_machine, machine);
}

VIREO_API int vireo_cmd_log(struct vireo_cmd *c, int fd)
{
	c->log_fd = fd;
	return 0;
}

VIREO_API int vireo_cmd_connect(struct vireo_cmd *c, int fd, bool link)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (copy < 0)
		return vireo_fail(errno, "descriptor %d: %s", fd, strerror(errno));
	if (c->connect_fd >= 0)
		close(c->connect_fd);
	c->connect_fd = copy;
	c->connect_link = link;
	return 0;
}

VIREO_API int vireo_cmd_gdb(struct vireo_cmd *c, int port, bool wait)
{
	if (port < -1 || port > 65535)
		return vireo_fail(EINVAL, "gdb port %d: 0 to 65535 (0: any free one), or -1", port);
	c->gdb_port = port;
	c->gdb_wait = port >= 0 && wait;
	return 0;
}

VIREO_API int vireo_cmd_machine(struct vireo_cmd *c, const char *machine)
{
	return set_str(&c->machine, machine);
}

VIREO_API int vireo_cmd_fresh(struct vireo_cmd *c, bool fresh)
{
	c->fresh = fresh;
	return 0;
}

VIREO_API int vireo_cmd_in_vm(struct vireo_cmd *c, const char *vm)
{
	return set_str(&c->in_vm, vm);
}

VIREO_API int vireo_cmd_fork_limit(struct vireo_cmd *c, uint64_t bytes)
{
	c->fork_limit = bytes;
	return 0;
}

static int clone_list(char ***to, size_t *nto, char *const *from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (push(to, nto, from[i]) < 0)
			return -1;
	return 0;
}

struct vireo_cmd *vireo_cmd_clone(const struct vireo_cmd *c)
{
	struct vireo_cmd *d = calloc(1, sizeof(*d));
	bool ok;

	if (!d)
		return NULL;
	*d = *c;
	d->argv = d->env = NULL;
	d->argc = d->nenv = 0;
	d->cwd = d->kernel = d->initramfs = d->bootargs = d->qemu = d->hypervisor = NULL;
	d->machine = d->in_vm = NULL;
	d->qemu_machine = NULL;
	d->copy_in = d->copy_out = NULL;
	d->ncopy_in = d->ncopy_out = 0;
	d->ndisks = 0;
	memset(d->disks, 0, sizeof(d->disks)); /* the pointers copied above are c's */
	d->connect_fd = -1;
	ok = clone_list(&d->argv, &d->argc, c->argv, c->argc) == 0 &&
	     clone_list(&d->env, &d->nenv, c->env, c->nenv) == 0 && set_str(&d->cwd, c->cwd) == 0 &&
	     set_str(&d->kernel, c->kernel) == 0 && set_str(&d->initramfs, c->initramfs) == 0 &&
	     set_str(&d->bootargs, c->bootargs) == 0 && set_str(&d->qemu, c->qemu) == 0 &&
	     set_str(&d->hypervisor, c->hypervisor) == 0 && set_str(&d->machine, c->machine) == 0 &&
	     set_str(&d->in_vm, c->in_vm) == 0 && set_str(&d->qemu_machine, c->qemu_machine) == 0;
	for (unsigned i = 0; ok && i < c->ndisks; i++)
		ok = vireo_cmd_disk(d, c->disks[i].path, c->disks[i].readonly) == 0;
	for (size_t i = 0; ok && i < c->ncopy_in; i++)
		ok = add_copy(&d->copy_in, &d->ncopy_in, c->copy_in[i].from, c->copy_in[i].to) == 0;
	for (size_t i = 0; ok && i < c->ncopy_out; i++)
		ok = add_copy(&d->copy_out, &d->ncopy_out, c->copy_out[i].from,
			      c->copy_out[i].to) == 0;
	if (ok && c->connect_fd >= 0) {
		d->connect_fd = fcntl(c->connect_fd, F_DUPFD_CLOEXEC, 3);
		ok = d->connect_fd >= 0;
	}
	if (!ok) {
		vireo_cmd_free(d);
		return NULL;
	}
	return d;
}
