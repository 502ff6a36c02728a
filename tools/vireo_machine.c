// SPDX-License-Identifier: BSD-2-Clause
/*
 * vireo machine ... and vireo vm ...: a long-lived machine and the VMs in it
 * (docs/machine.md). Built on libvireo: this file is options and printing.
 * Errors go to stderr with exit status 2 (1 for a request the machine refused).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvireo/machined.h"
#include "vireo.h"
#include "vireo_machine.h"
#include "vm_config.h"

static const char machine_usage[] =
    "usage: vireo machine start --name NAME [options]   boot a machine in the background\n"
    "       vireo machine stop NAME                     end it (and every VM in it)\n"
    "       vireo machine ls                            the machines running\n"
    "       vireo machine info NAME                     one machine's numbers (bytes)\n"
    "\n"
    "start options:\n"
    "  --memory SIZE          the machine's RAM (default 1G)\n"
    "  --harts N              its harts (default 2)\n"
    "  --disk FILE[,ro]       a raw disk image: host disk 0, 1, ... (repeatable)\n"
    "  --spares N             N Linux VMs booted ahead for exec (default 0): an exec\n"
    "                         with the defaults takes one, no boot to wait for\n"
    "  --template SIZE[,N]    the template exec forks: a Linux booted at start, paused\n"
    "                         (default 256M,1); an exec with those defaults is a fork\n"
    "  --no-template          none: every exec boots its VM (or takes a spare)\n"
    "  --kernel FILE          the default guest kernel (Vireo's Linux)\n"
    "  --initramfs FILE       the default initramfs (Vireo's)\n"
    "  --qemu PATH, --hypervisor PATH\n"
    "\n"
    "Programs run in it with `vireo exec --machine NAME -- PROGRAM`; VMs are made in it\n"
    "with `vireo vm ... --machine NAME` (vireo vm --help).\n";

static const char vm_usage[] =
    "usage: vireo vm COMMAND --machine NAME ...\n"
    "  create VM [SPEC] [--start]  a VM: SPEC is the keys of `vireo run --vm` without\n"
    "                              name (memory=128M,vcpus=2,disk=0,...; bootargs last);\n"
    "                              without a kernel, Vireo's Linux with its agent\n"
    "  start VM | stop VM | rm VM | pause VM | resume VM\n"
    "  ls                          the machine's VMs\n"
    "  gdb VM [--port PORT]        a gdb server for the running VM on 127.0.0.1\n"
    "                              (PORT 0 or none: any free one; it is printed)\n"
    "  snapshot VM FILE [--stop | --then resume|pause|stop]\n"
    "                              its state and RAM into FILE, then it goes on (default)\n"
    "  restore VM FILE [--start]   a new VM from a snapshot file\n"
    "  fork TEMPLATE VM [--start] [--mem-limit SIZE]\n"
    "                              a copy-on-write copy of the paused VM TEMPLATE, which\n"
    "                              never runs again (SIZE: what VM may copy, default 64M)\n";

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("vireo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void check(int rc)
{
	if (rc < 0)
		die(1, "%s", vireo_last_error());
}

/* "--opt=V" or "--opt V"; NULL if argv[*i] is not --opt. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc)
		die(2, "%s needs a value", opt);
	return argv[++*i];
}

static uint64_t size_of(const char *opt, const char *v)
{
	uint64_t bytes;

	if (vm_config_parse_size(v, &bytes))
		die(2, "%s '%s' is not a size (e.g. 256M, 1G)", opt, v);
	return bytes;
}

static unsigned count_of(const char *opt, const char *v)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (*v < '0' || *v > '9' || *end || n == 0 || n > 64)
		die(2, "%s '%s' is not a count from 1 to 64", opt, v);
	return (unsigned)n;
}

/* 0..8 spare VMs. */
static unsigned spares_of(const char *v)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (*v < '0' || *v > '9' || *end || n > 8)
		die(2, "--spares '%s' is not a count from 0 to 8", v);
	return (unsigned)n;
}

static void format_size(uint64_t bytes, char *buf, size_t size)
{
	vm_config_format_size(bytes, buf, size);
}

/* ------------------------------------------------------------------ vireo machine */

/* `vireo machine serve`: the daemon itself, in the foreground (what start runs). */
static int serve(int argc, char **argv)
{
	struct machined_opts o = {.harts = 2,
				  .memory = 1ULL << 30,
				  .ready_fd = -1,
				  .template_memory = 256ULL << 20,
				  .template_vcpus = 1,
				  .no_template = false};

	for (int i = 0; i < argc; i++) {
		const char *v;

		if ((v = opt_value(argc, argv, &i, "--name")))
			o.name = v;
		else if ((v = opt_value(argc, argv, &i, "--harts")))
			o.harts = count_of("--harts", v);
		else if ((v = opt_value(argc, argv, &i, "--memory")))
			o.memory = size_of("--memory", v);
		else if ((v = opt_value(argc, argv, &i, "--ready-fd")))
			o.ready_fd = atoi(v);
		else if ((v = opt_value(argc, argv, &i, "--qemu")))
			o.qemu = v;
		else if ((v = opt_value(argc, argv, &i, "--hypervisor")))
			o.hypervisor = v;
		else if ((v = opt_value(argc, argv, &i, "--kernel")))
			o.kernel = v;
		else if ((v = opt_value(argc, argv, &i, "--initramfs")))
			o.initramfs = v;
		else if (strcmp(argv[i], "--no-template") == 0)
			o.no_template = true;
		else if ((v = opt_value(argc, argv, &i, "--spares")))
			o.spares = spares_of(v);
		else if ((v = opt_value(argc, argv, &i, "--template"))) {
			char *comma = strchr(v, ',');
			char *mem = comma ? strndup(v, (size_t)(comma - v)) : strdup(v);

			o.template_memory = size_of("--template", mem);
			o.template_vcpus = comma ? count_of("--template", comma + 1) : 1;
			free(mem);
		} else if ((v = opt_value(argc, argv, &i, "--disk"))) {
			size_t n = strlen(v);
			bool ro = n > 3 && strcmp(v + n - 3, ",ro") == 0;

			if (o.ndisks == MACHINE_MAX_DISKS)
				die(2, "at most %d disks", MACHINE_MAX_DISKS);
			o.disks_ro[o.ndisks] = ro;
			o.disks[o.ndisks++] = strndup(v, ro ? n - 3 : n);
		} else
			die(2, "unknown option '%s' of vireo machine serve", argv[i]);
	}
	if (!o.name || !machine_name_ok(o.name))
		die(2, "vireo machine serve needs --name NAME (1..31 of A-Z a-z 0-9 . _ -)");
	if (!o.hypervisor) {
		/* vireo.bin next to this program. */
		char *exe = realpath("/proc/self/exe", NULL), *slash, *bin = NULL;

		if (exe && (slash = strrchr(exe, '/'))) {
			*slash = '\0';
			if (asprintf(&bin, "%s/vireo.bin", exe) < 0 || access(bin, R_OK) != 0) {
				free(bin);
				bin = NULL;
				if (asprintf(&bin, "%s/../share/vireo/vireo.bin", exe) < 0)
					bin = NULL;
			}
		}
		free(exe);
		o.hypervisor = bin;
	}
	return machined_main(&o);
}

static int machine_start(int argc, char **argv)
{
	struct vireo_machine_cfg *cfg = NULL;
	const char *name = NULL;

	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], "--name", 6) == 0)
			name = opt_value(argc, argv, &i, "--name");
	if (!name)
		die(2, "vireo machine start needs --name NAME");
	cfg = vireo_machine_cfg_new(name);
	if (!cfg)
		die(2, "%s", vireo_last_error());
	for (int i = 0; i < argc; i++) {
		const char *v;

		if (opt_value(argc, argv, &i, "--name"))
			continue;
		if ((v = opt_value(argc, argv, &i, "--memory")))
			check(vireo_machine_cfg_memory(cfg, size_of("--memory", v)));
		else if ((v = opt_value(argc, argv, &i, "--harts")))
			check(vireo_machine_cfg_harts(cfg, count_of("--harts", v)));
		else if ((v = opt_value(argc, argv, &i, "--disk"))) {
			size_t n = strlen(v);
			bool ro = n > 3 && strcmp(v + n - 3, ",ro") == 0;
			char *path = strndup(v, ro ? n - 3 : n);

			check(vireo_machine_cfg_disk(cfg, path, ro));
			free(path);
		} else if (strcmp(argv[i], "--no-template") == 0)
			check(vireo_machine_cfg_template(cfg, false, 0, 0));
		else if ((v = opt_value(argc, argv, &i, "--spares")))
			check(vireo_machine_cfg_spares(cfg, spares_of(v)));
		else if ((v = opt_value(argc, argv, &i, "--template"))) {
			char *comma = strchr(v, ',');
			char *mem = comma ? strndup(v, (size_t)(comma - v)) : strdup(v);

			check(vireo_machine_cfg_template(cfg, true, size_of("--template", mem),
							 comma ? count_of("--template", comma + 1)
							       : 1));
			free(mem);
		} else if ((v = opt_value(argc, argv, &i, "--kernel")))
			check(vireo_machine_cfg_file(cfg, "kernel", v));
		else if ((v = opt_value(argc, argv, &i, "--initramfs")))
			check(vireo_machine_cfg_file(cfg, "initramfs", v));
		else if ((v = opt_value(argc, argv, &i, "--qemu")))
			check(vireo_machine_cfg_file(cfg, "qemu", v));
		else if ((v = opt_value(argc, argv, &i, "--hypervisor")))
			check(vireo_machine_cfg_file(cfg, "hypervisor", v));
		else
			die(2, "unknown option '%s' (see vireo machine --help)", argv[i]);
	}
	check(vireo_machine_start(cfg));
	vireo_machine_cfg_free(cfg);
	return 0;
}

static void print_machine(const struct vireo_machine_status *m, bool header)
{
	char mem[16], lim[16], com[16];

	format_size(m->memory, mem, sizeof(mem));
	format_size(m->limit, lim, sizeof(lim));
	format_size(m->committed, com, sizeof(com));
	if (header)
		printf("%-16s %8s %5s %6s %4s %10s %10s %s\n", "NAME", "PID", "HARTS", "MEMORY",
		       "VMS", "COMMITTED", "FOR VMS", "TEMPLATE");
	printf("%-16s %8d %5u %6s %4u %10s %10s %s\n", m->name, m->pid, m->harts, mem, m->vms, com,
	       lim, m->template_vm[0] ? m->template_vm : "-");
}

int vireo_machine_main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(machine_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "start"))
		return machine_start(argc - 2, argv + 2);
	if (!strcmp(argv[1], "serve"))
		return serve(argc - 2, argv + 2);
	if (!strcmp(argv[1], "stop")) {
		if (argc != 3)
			die(2, "usage: vireo machine stop NAME");
		check(vireo_machine_stop(argv[2]));
		return 0;
	}
	if (!strcmp(argv[1], "ls")) {
		struct vireo_machine_status *list;
		size_t n;

		check(vireo_machine_list(&list, &n));
		for (size_t i = 0; i < n; i++)
			print_machine(&list[i], i == 0);
		free(list);
		return 0;
	}
	if (!strcmp(argv[1], "info")) {
		struct vireo_machine_status st;

		if (argc != 3)
			die(2, "usage: vireo machine info NAME");
		check(vireo_machine_status(argv[2], &st));
		/* Exact numbers, one a line: for scripts and tests (the leak test reads free). */
		printf("name %s\npid %d\nharts %u\nvms %u\nmemory %llu\nfree %llu\nlimit %llu\n"
		       "committed %llu\ntemplate %s\nspares %u\nspares_ready %u\n",
		       st.name, st.pid, st.harts, st.vms, (unsigned long long)st.memory,
		       (unsigned long long)st.free, (unsigned long long)st.limit,
		       (unsigned long long)st.committed, st.template_vm[0] ? st.template_vm : "-",
		       st.spares, st.spares_ready);
		return 0;
	}
	die(2, "unknown command 'machine %s' (start, stop, ls, info)", argv[1]);
}

/* ------------------------------------------------------------------ vireo vm */

int vireo_vm_main(int argc, char **argv)
{
	const char *machine = getenv("VIREO_MACHINE"), *pos[3] = {0}, *then = "resume";
	bool start = false, no_start = false;
	uint64_t limit = 0;
	unsigned npos = 0;
	const char *port = NULL;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(vm_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (int i = 2; i < argc; i++) {
		const char *v;

		if ((v = opt_value(argc, argv, &i, "--machine")))
			machine = v;
		else if ((v = opt_value(argc, argv, &i, "--then")))
			then = v;
		else if ((v = opt_value(argc, argv, &i, "--port")))
			port = v;
		else if ((v = opt_value(argc, argv, &i, "--limit")))
			limit = size_of("--limit", v);
		else if ((v = opt_value(argc, argv, &i, "--mem-limit")))
			limit = size_of("--mem-limit", v);
		else if (!strcmp(argv[i], "--stop"))
			then = "stop";
		else if (!strcmp(argv[i], "--start"))
			start = true;
		else if (!strcmp(argv[i], "--no-start"))
			no_start = true;
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			die(2, "unknown option '%s' (see vireo vm --help)", argv[i]);
		else if (npos < 3)
			pos[npos++] = argv[i];
		else
			die(2, "too many arguments (see vireo vm --help)");
	}
	if (!machine)
		die(2, "which machine? (--machine NAME, or $VIREO_MACHINE)");
	const char *cmd = argv[1];

	if (!strcmp(cmd, "ls")) {
		struct vireo_vm_status *list;
		size_t n;

		check(vireo_vm_list(machine, &list, &n));
		printf("%-20s %3s %-9s %-8s %5s %7s %5s %s\n", "NAME", "ID", "STATE", "ORIGIN",
		       "VCPUS", "MEMORY", "AGENT", "STATUS");
		for (size_t i = 0; i < n; i++) {
			char mem[16], status[16] = "-";

			format_size(list[i].memory, mem, sizeof(mem));
			if (list[i].exit_status >= 0)
				snprintf(status, sizeof(status), "%d", list[i].exit_status);
			printf("%-20s %3u %-9s %-8s %5u %7s %5s %s\n", list[i].name, list[i].id,
			       list[i].state, list[i].origin, list[i].vcpus, mem,
			       list[i].agent ? "yes" : "-", status);
		}
		free(list);
		return 0;
	}
	if (!strcmp(cmd, "create")) {
		if (npos < 1 || npos > 2)
			die(2, "usage: vireo vm create VM [SPEC] [--start] --machine NAME");
		check(vireo_vm_create(machine, pos[0], npos > 1 ? pos[1] : "", start));
		return 0;
	}
	static const struct {
		const char *name;
		int (*fn)(const char *, const char *);
	} simple[] = {
	    {"start", vireo_vm_start}, {"stop", vireo_vm_stop},	    {"rm", vireo_vm_remove},
	    {"pause", vireo_vm_pause}, {"resume", vireo_vm_resume},
	};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (strcmp(cmd, simple[i].name))
			continue;
		if (npos != 1)
			die(2, "usage: vireo vm %s VM --machine NAME", cmd);
		check(simple[i].fn(machine, pos[0]));
		return 0;
	}
	if (!strcmp(cmd, "gdb")) {
		char *end = NULL;
		long p = port ? strtol(port, &end, 10) : 0;
		int got;

		if (npos != 1)
			die(2, "usage: vireo vm gdb VM [--port PORT] --machine NAME");
		if (port && (!*port || *end || p < 0 || p > 65535))
			die(2, "--port must be 0..65535 (0: any free one)");
		check(vireo_vm_gdb(machine, pos[0], (int)p, &got));
		printf("%d\n", got);
		fprintf(stderr, "vireo: gdb for VM '%s': target remote 127.0.0.1:%d\n", pos[0],
			got);
		return 0;
	}
	if (!strcmp(cmd, "snapshot")) {
		enum vireo_snapshot_then t = VIREO_SNAPSHOT_RESUME;

		if (npos != 2)
			die(2,
			    "usage: vireo vm snapshot VM FILE [--stop | --then resume|pause|stop]");
		if (!strcmp(then, "pause"))
			t = VIREO_SNAPSHOT_PAUSE;
		else if (!strcmp(then, "stop"))
			t = VIREO_SNAPSHOT_STOP;
		else if (strcmp(then, "resume"))
			die(2, "--then resume, pause or stop");
		check(vireo_vm_snapshot(machine, pos[0], pos[1], t));
		return 0;
	}
	if (!strcmp(cmd, "restore")) {
		if (npos != 2)
			die(2, "usage: vireo vm restore VM FILE [--start]");
		check(vireo_vm_restore(machine, pos[0], pos[1], start && !no_start));
		return 0;
	}
	if (!strcmp(cmd, "fork")) {
		if (npos != 2)
			die(2, "usage: vireo vm fork TEMPLATE VM [--start] [--mem-limit SIZE]");
		check(vireo_vm_fork(machine, pos[0], pos[1], start && !no_start, limit));
		return 0;
	}
	die(2, "unknown command 'vm %s' (see vireo vm --help)", cmd);
}
