// SPDX-License-Identifier: BSD-2-Clause
/* `vireo run --gdb`: see vireo_gdb.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_client.h"
#include "gdb_server.h"
#include "vireo_gdb.h"

struct vireo_gdb {
	struct ctl_client *cc;
	struct ctl_link *link;
	struct gdb_server *servers[VM_CONFIG_MAX_VMS];
	size_t nservers;
	int qemu_fd;
};

int vireo_gdb_parse(const char *text, struct vireo_gdb_spec *spec, char *err, size_t err_size)
{
	const char *eq = strrchr(text, '=');
	char *end;
	unsigned long port;

	memset(spec, 0, sizeof(*spec));
	if (!eq || eq == text) {
		snprintf(err, err_size, "--gdb '%s' is not VM=PORT[,wait]", text);
		return -1;
	}
	errno = 0;
	port = strtoul(eq + 1, &end, 10);
	if (eq[1] < '0' || eq[1] > '9' || errno || port > 65535 ||
	    (*end && strcmp(end, ",wait") != 0)) {
		snprintf(err, err_size, "--gdb '%s': the port must be 0..65535, then maybe ',wait'",
			 text);
		return -1;
	}
	spec->vm = text;
	spec->port = (uint16_t)port;
	spec->wait = *end != '\0';
	return 0;
}

/* spec->vm up to its '=' names this VM (by name, or by number from 1). */
static bool names(const struct vireo_gdb_spec *spec, const struct vm_config *cfg, unsigned i)
{
	size_t len = (size_t)(strrchr(spec->vm, '=') - spec->vm);
	char number[16];

	snprintf(number, sizeof(number), "%u", i + 1);
	return (strlen(cfg->vms[i].name) == len && !strncmp(cfg->vms[i].name, spec->vm, len)) ||
	       (strlen(number) == len && !strncmp(number, spec->vm, len));
}

int vireo_gdb_resolve(struct vm_config *cfg, struct vireo_gdb_spec *specs, size_t n, char *err,
		      size_t err_size)
{
	for (size_t s = 0; s < n; s++) {
		unsigned i;

		for (i = 0; i < cfg->nvms && !names(&specs[s], cfg, i); i++)
			;
		if (i == cfg->nvms) {
			snprintf(err, err_size, "--gdb %s: no such VM (a name, or 1..%u)",
				 specs[s].vm, cfg->nvms);
			return -1;
		}
		for (size_t t = 0; t < s; t++) {
			if (specs[t].index == i) {
				snprintf(err, err_size, "--gdb: VM '%s' named twice",
					 cfg->vms[i].name);
				return -1;
			}
		}
		specs[s].index = i;
		if (specs[s].wait)
			cfg->vms[i].wait = true;
	}
	return 0;
}

int vireo_gdb_start(struct vireo_gdb **out, const struct vm_config *cfg,
		    const struct vireo_gdb_spec *specs, size_t n, int *qemu_fd, char *err,
		    size_t err_size)
{
	struct vireo_gdb *g = calloc(1, sizeof(*g));
	int sv[2] = {-1, -1}, rc;

	if (g)
		g->qemu_fd = -1;
	if (!g || !(g->cc = ctl_client_new())) {
		snprintf(err, err_size, "out of memory");
		free(g);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, err_size, "cannot make the link: %s", strerror(errno));
		goto fail;
	}
	/* QEMU's end is inherited across its exec; ours is not. */
	fcntl(sv[1], F_SETFD, 0);
	g->qemu_fd = sv[1];
	rc = ctl_link_start(&g->link, sv[0], g->cc);
	if (rc) {
		close(sv[0]);
		snprintf(err, err_size, "cannot serve the link: %s", strerror(-rc));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vm_config_vm *vm = &cfg->vms[specs[i].index];

		if (gdb_server_start(&g->servers[g->nservers], g->cc, specs[i].index + 1,
				     specs[i].port, err, err_size))
			goto fail;
		fprintf(stderr, "vireo: gdb server for VM '%s' on 127.0.0.1:%u%s\n", vm->name,
			gdb_server_port(g->servers[g->nservers]),
			vm->wait ? " (it waits at its first instruction)" : "");
		g->nservers++;
	}
	*qemu_fd = g->qemu_fd;
	*out = g;
	return 0;
fail:
	vireo_gdb_stop(g);
	return -1;
}

void vireo_gdb_stop(struct vireo_gdb *g)
{
	if (!g)
		return;
	/* The link first: a server's last requests then fail at once. */
	ctl_link_stop(g->link);
	if (!g->link)
		ctl_client_closed(g->cc);
	for (size_t i = 0; i < g->nservers; i++)
		gdb_server_stop(g->servers[i]);
	if (g->qemu_fd >= 0)
		close(g->qemu_fd);
	ctl_client_free(g->cc);
	free(g);
}
