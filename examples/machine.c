// SPDX-License-Identifier: BSD-2-Clause
/*
 * libvireo from C: a machine that stays up (docs/machine.md). It is started
 * with one spare VM (and, by default, its template for exec), a few commands
 * run in it (each in a new VM, without QEMU's or Vireo's boot: the first in
 * the spare, the next a fork of the template, or booted when Vireo cannot
 * fork), a VM is made, listed and removed at run time, and the machine is
 * stopped.
 *
 *   cc machine.c $(pkg-config --cflags --libs vireo) -o machine && ./machine
 *
 * Machines need Vireo: with --bare it says so and does nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vireo.h>

static int fail(const char *what)
{
	fprintf(stderr, "machine example: %s: %s\n", what, vireo_last_error());
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `echo` with one word in a VM of the machine; 0 if it said the word back. */
static int echo_in(const char *machine, const char *word)
{
	struct vireo_cmd *cmd = vireo_cmd_new("echo");
	struct vireo_output out;
	struct vireo_status st;
	double t0 = now();
	int bad;

	if (!cmd || vireo_cmd_arg(cmd, word) || vireo_cmd_machine(cmd, machine) ||
	    vireo_cmd_stdio(cmd, VIREO_STDOUT, VIREO_PIPE, -1))
		return fail("command");
	if (vireo_run(cmd, NULL, 0, &out, &st) < 0)
		return fail("run");
	vireo_cmd_free(cmd);
	printf("echo %s in machine %s: %s  (%.0f ms, exit status %d)\n", word, machine,
	       out.out_len ? strtok(out.out, "\n") : "", (now() - t0) * 1000, st.code);
	bad = st.code != 0 || !out.out_len || strcmp(out.out, word) != 0;
	vireo_output_free(&out);
	return bad;
}

static int wait_spare(const char *machine)
{
	struct vireo_machine_status st;

	for (int i = 0; i < 600; i++) {
		if (vireo_machine_status(machine, &st) < 0)
			return fail("status");
		if (st.spares_ready)
			return 0;
		usleep(100 * 1000);
	}
	fprintf(stderr, "machine example: the spare VM never came up\n");
	return 1;
}

static int vms_in(const char *machine)
{
	struct vireo_vm_status *list;
	size_t n;

	if (vireo_vm_list(machine, &list, &n) < 0)
		return fail("vm list");
	for (size_t i = 0; i < n; i++)
		printf("  VM %-10s id %2u  %-8s %-6s %3llu MiB\n", list[i].name, list[i].id,
		       list[i].state, list[i].origin, (unsigned long long)(list[i].memory >> 20));
	free(list);
	return 0;
}

static int use(const char *name)
{
	int bad = wait_spare(name) || echo_in(name, "spare") || echo_in(name, "forked or booted");

	if (!bad)
		bad = vireo_vm_create(name, "extra", "memory=64M", true) < 0 ? fail("vm create")
									     : vms_in(name);
	if (!bad && vireo_vm_remove(name, "extra") < 0)
		bad = fail("vm remove");
	return bad;
}

int main(int argc, char **argv)
{
	struct vireo_machine_cfg *cfg;
	char name[32];
	int bad;

	if (argc > 1 && strcmp(argv[1], "--bare") == 0) {
		puts("machine example: machines need Vireo (not --bare): skipped");
		return 0;
	}
	snprintf(name, sizeof(name), "example-%d", (int)getpid());
	cfg = vireo_machine_cfg_new(name);
	if (!cfg || vireo_machine_cfg_memory(cfg, 768ULL << 20) || vireo_machine_cfg_spares(cfg, 1))
		return fail("machine config");
	if (vireo_machine_start(cfg) < 0)
		return fail("machine start");
	vireo_machine_cfg_free(cfg);
	bad = use(name);
	if (vireo_machine_stop(name) < 0)
		bad = fail("machine stop");
	return bad;
}
