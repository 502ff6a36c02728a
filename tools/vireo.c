// SPDX-License-Identifier: BSD-2-Clause
/*
 * vireo: define VMs, pack them into a boot bundle, run them under Vireo on QEMU.
 * The exit status of `vireo run` is QEMU's, which is the guests': Vireo powers
 * the machine off with it. The tool's own errors exit with status 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle_write.h"
#include "qemu_run.h"
#include "vireo_gdb.h"
#include "vireo_exec.h"
#include "vireo_machine.h"
#include "vm_config.h"

#define EXIT_TOOL_ERROR 2

static const char usage[] =
    "usage: vireo exec  [options] [--] PROGRAM [ARGS...]       PROGRAM in a fresh Linux VM\n"
    "       vireo machine start --name NAME | stop | ls | info  a long-lived machine\n"
    "       vireo vm create|start|stop|rm|pause|resume|ls|gdb --machine NAME ...\n"
    "       vireo run   [options] [CONFIG...] [--vm SPEC]...   boot Vireo with these VMs\n"
    "       vireo pack  -o BUNDLE [CONFIG...] [--vm SPEC]...   only write the boot bundle\n"
    "       vireo check [CONFIG...] [--vm SPEC]...             validate, one line per VM\n"
    "\n"
    "A CONFIG file has an optional [machine] section and one [vm NAME] section per VM\n"
    "(see configs/README.md). A SPEC is the same keys as key=value, comma-separated,\n"
    "bootargs last (it takes the rest):\n"
    "  --vm name=hello,kernel=build/guests/hello.bin,memory=64M,vcpus=2,harts=0-1\n"
    "  keys: name kernel initrd memory vcpus harts bootargs disk console testdev rtc\n"
    "        rtc_offset wait net mac irqchip sandbox\n"
    "\n"
    "Machine options (override [machine]):\n"
    "  --smp N            harts of the QEMU machine (default 2)\n"
    "  --mem SIZE         RAM of the QEMU machine (default 1G)\n"
    "  --cpu STR          QEMU CPU model (default rv64,h=true)\n"
    "  --machine STR      QEMU machine (default virt; e.g. virt,aia=aplic-imsic,aia-guests=2)\n"
    "  --disk FILE        a host disk (raw image); repeat for disks 0, 1, ...\n"
    "run options:\n"
    "  --qemu PATH        the QEMU binary (default qemu-system-riscv64)\n"
    "  --hypervisor PATH  Vireo's image (default: vireo.bin next to this tool)\n"
    "  --qemu-arg STR     extra QEMU arguments, split at spaces (repeatable)\n"
    "  --print-command    print the QEMU command line before running it\n"
    "  --machine-mode     a long-lived machine: VMs may be none, and come and go at\n"
    "                     the request of a host program (docs/machine.md)\n"
    "  --gdb VM=PORT[,wait]  a gdb server for VM (its name or number) on 127.0.0.1:PORT\n"
    "                     (0: any free port); wait: the VM waits at its first instruction\n"
    "                     until gdb continues it (docs/debugging.md). Repeatable\n"
    "  --publish [udp:]HOSTPORT:VM:PORT\n"
    "                     forward 127.0.0.1:HOSTPORT on the host to PORT of a VM on the\n"
    "                     default network (repeatable; TCP unless udp:)\n"
    "pack options:\n"
    "  -o, --output FILE  where to write the bundle\n"
    "\n"
    "The exit status of `vireo run` is the guests' (the first VM that failed, else 0);\n"
    "errors of vireo itself exit with 2. `vireo exec --help` describes exec.\n";

enum command { CMD_RUN, CMD_PACK, CMD_CHECK };

/* A CONFIG file or a --vm spec, kept in command-line order: that is the VMs' order. */
struct source {
	bool spec;
	const char *text;
};

struct options {
	enum command command;
	const char *output;
	const char *qemu;
	const char *hypervisor;
	struct vm_config_overrides machine;
	const char **disks;
	const char **extra;
	size_t nextra;
	const char **publish;
	size_t npublish;
	struct source *sources;
	size_t nsources;
	bool print_command;
	bool selftest_panic;
	bool machine_mode;
	struct vireo_gdb_spec *gdb;
	size_t ngdb;
	const char *colour; /* "auto" (default), "always" or "never" */
};

enum opt_id {
	OPT_VM,
	OPT_CONFIG,
	OPT_SMP,
	OPT_MEM,
	OPT_CPU,
	OPT_MACHINE,
	OPT_DISK,
	OPT_OUTPUT,
	OPT_QEMU,
	OPT_HYPERVISOR,
	OPT_QEMU_ARG,
	OPT_PRINT_COMMAND,
	OPT_SELFTEST_PANIC,
	OPT_COLOUR,
	OPT_MACHINE_MODE,
	OPT_GDB,
	OPT_PUBLISH,
};

#define FOR_ALL	 ((1u << CMD_RUN) | (1u << CMD_PACK) | (1u << CMD_CHECK))
#define FOR_RUN	 (1u << CMD_RUN)
#define FOR_PACK (1u << CMD_PACK)

static const struct option_spec {
	const char *name;
	enum opt_id id;
	bool has_arg;
	unsigned commands;
} option_specs[] = {
    {"--vm", OPT_VM, true, FOR_ALL},
    {"--config", OPT_CONFIG, true, FOR_ALL}, /* the Python tool's spelling */
    {"--smp", OPT_SMP, true, FOR_ALL},
    {"--mem", OPT_MEM, true, FOR_ALL},
    {"--cpu", OPT_CPU, true, FOR_ALL},
    {"--machine", OPT_MACHINE, true, FOR_ALL},
    {"--disk", OPT_DISK, true, FOR_ALL},
    {"-o", OPT_OUTPUT, true, FOR_PACK},
    {"--output", OPT_OUTPUT, true, FOR_PACK},
    {"--qemu", OPT_QEMU, true, FOR_RUN},
    {"--hypervisor", OPT_HYPERVISOR, true, FOR_RUN},
    {"--qemu-arg", OPT_QEMU_ARG, true, FOR_RUN},
    {"--print-command", OPT_PRINT_COMMAND, false, FOR_RUN},
    {"--color", OPT_COLOUR, true, FOR_RUN | FOR_PACK},
    {"--machine-mode", OPT_MACHINE_MODE, false, FOR_RUN | FOR_PACK},
    {"--gdb", OPT_GDB, true, FOR_RUN},
    {"--publish", OPT_PUBLISH, true, FOR_RUN},
    /* Hidden, for Vireo's own tests: the hypervisor panics after boot. */
    {"--selftest-panic", OPT_SELFTEST_PANIC, false, FOR_RUN | FOR_PACK},
};

static const char *const command_names[] = {"run", "pack", "check"};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("vireo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_TOOL_ERROR);
}

static void *xalloc(void *p)
{
	if (!p)
		die("out of memory");
	return p;
}

/* argv outlives everything here, so lists hold pointers into it. */
static void append(const char ***list, size_t *n, const char *item)
{
	*list = xalloc(realloc(*list, (*n + 1) * sizeof(char *)));
	(*list)[(*n)++] = item;
}

static void add_source(struct options *o, bool spec, const char *text)
{
	o->sources = xalloc(realloc(o->sources, (o->nsources + 1) * sizeof(*o->sources)));
	o->sources[o->nsources++] = (struct source){.spec = spec, .text = text};
}

static void take_option(struct options *o, enum opt_id id, const char *value)
{
	switch (id) {
	case OPT_VM:
		add_source(o, true, value);
		break;
	case OPT_CONFIG:
		add_source(o, false, value);
		break;
	case OPT_SMP:
		o->machine.harts = value;
		break;
	case OPT_MEM:
		o->machine.memory = value;
		break;
	case OPT_CPU:
		o->machine.cpu = value;
		break;
	case OPT_MACHINE:
		o->machine.machine = value;
		break;
	case OPT_DISK:
		append(&o->disks, &o->machine.ndisks, value);
		o->machine.disks = o->disks;
		break;
	case OPT_OUTPUT:
		o->output = value;
		break;
	case OPT_QEMU:
		o->qemu = value;
		break;
	case OPT_HYPERVISOR:
		o->hypervisor = value;
		break;
	case OPT_QEMU_ARG:
		append(&o->extra, &o->nextra, value);
		break;
	case OPT_PRINT_COMMAND:
		o->print_command = true;
		break;
	case OPT_SELFTEST_PANIC:
		o->selftest_panic = true;
		break;
	case OPT_MACHINE_MODE:
		o->machine_mode = true;
		break;
	case OPT_GDB: {
		char err[256];

		o->gdb = xalloc(realloc(o->gdb, (o->ngdb + 1) * sizeof(*o->gdb)));
		if (vireo_gdb_parse(value, &o->gdb[o->ngdb], err, sizeof(err)))
			die("%s", err);
		o->ngdb++;
		break;
	}
	case OPT_PUBLISH:
		append(&o->publish, &o->npublish, value);
		break;
	case OPT_COLOUR:
		if (strcmp(value, "auto") && strcmp(value, "always") && strcmp(value, "never"))
			die("--color takes auto, always or never, not '%s'", value);
		o->colour = value;
		break;
	}
}

static const struct option_spec *find_option(const char *arg, size_t len)
{
	for (size_t i = 0; i < sizeof(option_specs) / sizeof(option_specs[0]); i++)
		if (strlen(option_specs[i].name) == len &&
		    strncmp(option_specs[i].name, arg, len) == 0)
			return &option_specs[i];
	return NULL;
}

/* One option at argv[*i], as "--opt VALUE" or "--opt=VALUE". */
static void parse_option(struct options *o, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	size_t len = eq && arg[1] == '-' ? (size_t)(eq - arg) : strlen(arg);
	const struct option_spec *spec = find_option(arg, len);
	const char *value = NULL;

	if (!spec)
		die("unknown option '%.*s' (see vireo --help)", (int)len, arg);
	if (!(spec->commands & (1u << o->command)))
		die("%s is not an option of 'vireo %s' (see vireo --help)", spec->name,
		    command_names[o->command]);
	if (spec->has_arg) {
		if (len < strlen(arg))
			value = arg + len + 1;
		else if (*i + 1 < argc)
			value = argv[++*i];
		else
			die("%s needs a value", spec->name);
	} else if (len < strlen(arg)) {
		die("%s takes no value", spec->name);
	}
	take_option(o, spec->id, value);
}

static void parse_args(struct options *o, int argc, char **argv)
{
	bool only_files = false;
	size_t c;

	if (argc < 2)
		die("no command given\n%s", usage);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		exit(0);
	}
	for (c = 0; c < sizeof(command_names) / sizeof(command_names[0]); c++)
		if (strcmp(argv[1], command_names[c]) == 0)
			break;
	if (c == sizeof(command_names) / sizeof(command_names[0]))
		die("unknown command '%s' (exec, run, pack, check, machine or vm; see vireo "
		    "--help)",
		    argv[1]);
	o->command = (enum command)c;
	for (int i = 2; i < argc; i++) {
		if (!only_files && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
			fputs(usage, stdout);
			exit(0);
		}
		if (!only_files && strcmp(argv[i], "--") == 0)
			only_files = true;
		else if (!only_files && argv[i][0] == '-' && argv[i][1] != '\0')
			parse_option(o, argc, argv, &i);
		else
			add_source(o, false, argv[i]);
	}
	if (o->command == CMD_PACK && !o->output)
		die("pack needs -o BUNDLE");
}

/* ------------------------------------------------------------------ VMs */

static void load_config(struct vm_config *cfg, const struct options *o)
{
	unsigned spec_index = 0;
	int err = 0;

	vm_config_init(cfg);
	cfg->machine_mode = o->machine_mode;
	for (size_t i = 0; !err && i < o->nsources; i++) {
		const struct source *s = &o->sources[i];
		if (s->spec)
			err = vm_config_parse_spec(cfg, s->text, ++spec_index);
		else
			err = vm_config_parse_file(cfg, s->text);
	}
	if (!err)
		err = vm_config_apply_overrides(cfg, &o->machine);
	if (!err)
		err = vm_config_finish(cfg, o->command != CMD_PACK);
	if (err) {
		fprintf(stderr, "vireo: %s\n", vm_config_error(cfg));
		vm_config_free(cfg);
		exit(EXIT_TOOL_ERROR);
	}
}

/* "any", or "0-1,3". */
static void format_harts(uint64_t mask, char *buf, size_t size)
{
	size_t used = 0;

	if (!mask) {
		snprintf(buf, size, "any");
		return;
	}
	buf[0] = '\0';
	for (unsigned i = 0; i < 64 && used < size; i++) {
		unsigned j = i;
		if (!(mask >> i & 1))
			continue;
		while (j + 1 < 64 && (mask >> (j + 1) & 1))
			j++;
		used += (size_t)snprintf(buf + used, size - used, "%s%u", used ? "," : "", i);
		if (j > i && used < size)
			used += (size_t)snprintf(buf + used, size - used, "-%u", j);
		i = j;
	}
}

/* Only what differs from the default (a clock in UTC). */
static void print_rtc(const struct vm_config_vm *vm)
{
	if (vm->rtc == VM_CONFIG_RTC_OFF)
		printf(", rtc off");
	else if (vm->rtc == VM_CONFIG_RTC_LOCALTIME)
		printf(", rtc localtime");
	else if (vm->rtc_offset)
		printf(", rtc utc");
	if (vm->rtc != VM_CONFIG_RTC_OFF && vm->rtc_offset)
		printf(" %+lld s", (long long)vm->rtc_offset);
}

static void print_summary(const struct vm_config_vm *vm)
{
	char mem[32], harts[256];

	vm_config_format_size(vm->memory, mem, sizeof(mem));
	format_harts(vm->hart_mask, harts, sizeof(harts));
	printf("%s: %s, %u vCPU%s on harts %s, kernel %s", vm->name, mem, vm->vcpus,
	       vm->vcpus == 1 ? "" : "s", harts, vm->kernel);
	if (vm->initrd)
		printf(", initrd %s", vm->initrd);
	if (vm->disk.present && vm->disk.whole)
		printf(", disk %u", vm->disk.host);
	else if (vm->disk.present)
		printf(", disk %u:%llu+%llu", vm->disk.host,
		       (unsigned long long)vm->disk.first_sector,
		       (unsigned long long)vm->disk.sectors);
	if (vm->disk.present && vm->disk.readonly)
		printf(",ro");
	if (vm->net.present) {
		const uint8_t *m = vm->net.mac;
		uint32_t ip = vm->net.ipv4;

		printf(", net %s (%02x:%02x:%02x:%02x:%02x:%02x, %u.%u.%u.%u)", vm->net.name, m[0],
		       m[1], m[2], m[3], m[4], m[5], ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		       ip & 255);
	}
	printf(", console %s%s%s%s", vm->console ? "on" : "off", vm->testdev ? ", testdev" : "",
	       vm->irqchip == VM_CONFIG_IRQCHIP_PLIC  ? ", irqchip plic"
	       : vm->irqchip == VM_CONFIG_IRQCHIP_AIA ? ", irqchip aia"
						      : "",
	       vm->wait ? ", waits" : "");
	print_rtc(vm);
	printf(", bootargs '%s'\n", vm->bootargs);
}

/* ------------------------------------------------------------------ run */

/* A port number 1..65535 at *p, up to `end` (':' or the end of the text). */
static bool take_port(const char **p, char end, unsigned *port)
{
	char *stop;
	unsigned long v;

	if (**p < '0' || **p > '9')
		return false;
	v = strtoul(*p, &stop, 10);
	if (*stop != end || v < 1 || v > 65535)
		return false;
	*port = (unsigned)v;
	*p = stop;
	return true;
}

/* --publish [udp:]HOSTPORT:VM:PORT as QEMU's hostfwd rule: the host side listens on
 * 127.0.0.1 only; the VM side is the address Vireo's DHCP gives the VM. */
static char *publish_rule(const struct vm_config *cfg, const char *spec)
{
	const char *proto = "tcp", *p = spec, *colon;
	const struct vm_config_vm *vm;
	unsigned host_port, vm_port;
	char name[BUNDLE_NAME_MAX];
	char *rule;
	uint32_t ip;

	if (strncmp(p, "tcp:", 4) == 0 || strncmp(p, "udp:", 4) == 0) {
		proto = strncmp(p, "udp:", 4) == 0 ? "udp" : "tcp";
		p += 4;
	}
	if (!take_port(&p, ':', &host_port) || !(colon = strchr(++p, ':')) ||
	    (size_t)(colon - p) >= sizeof(name) || colon == p)
		die("--publish '%s' is not [udp:]HOSTPORT:VM:PORT (ports 1-65535)", spec);
	memcpy(name, p, (size_t)(colon - p));
	name[colon - p] = '\0';
	p = colon + 1;
	if (!take_port(&p, '\0', &vm_port))
		die("--publish '%s' is not [udp:]HOSTPORT:VM:PORT (ports 1-65535)", spec);
	vm = vm_config_find(cfg, name);
	if (!vm)
		die("--publish '%s': there is no VM '%s'", spec, name);
	if (!vm->net.present || strcmp(vm->net.name, VM_CONFIG_NET_DEFAULT) != 0)
		die("--publish '%s': VM '%s' is not on the network '%s', which has the uplink "
		    "(net = %s)",
		    spec, name, VM_CONFIG_NET_DEFAULT, VM_CONFIG_NET_DEFAULT);
	ip = vm->net.ipv4;
	if (asprintf(&rule, "%s:127.0.0.1:%u-%u.%u.%u.%u:%u", proto, host_port, ip >> 24,
		     (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, vm_port) < 0)
		die("out of memory");
	return rule;
}

/* The temporary bundle, for the signal handler to remove. */
static char *volatile temp_bundle;

static void remove_temp_and_die(int sig)
{
	if (temp_bundle)
		unlink(temp_bundle);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = remove_temp_and_die};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		/* An ignored signal (nohup, a background job) stays ignored. */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

static char *make_temp_bundle(const struct vm_config *cfg, uint32_t flags)
{
	const char *tmpdir = getenv("TMPDIR");
	char *path, *err = NULL;
	sigset_t block, old;
	FILE *fp;
	int fd;

	if (asprintf(&path, "%s/vireo-bundle-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp") < 0)
		die("out of memory");
	/* No signal between creating the file and recording it for removal. */
	sigfillset(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	fd = mkstemp(path);
	if (fd >= 0)
		temp_bundle = path;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd < 0)
		die("cannot create a temporary bundle %s: %s", path, strerror(errno));
	fp = fdopen(fd, "wb");
	if (!fp || bundle_write(cfg, flags, fp, path, &err) != 0 || fclose(fp) != 0) {
		unlink(path);
		die("%s", err ? err : strerror(errno));
	}
	return path;
}

/* build/vireo.bin next to build/vireo; installed, PREFIX/share/vireo/vireo.bin. */
static char *default_hypervisor(void)
{
	size_t cap = 256;
	char *exe = NULL, *slash, *path;
	struct stat st;
	ssize_t n;

	for (;;) {
		exe = xalloc(realloc(exe, cap));
		n = readlink("/proc/self/exe", exe, cap);
		if (n < 0)
			die("cannot find this program (/proc/self/exe): %s; give --hypervisor",
			    strerror(errno));
		if ((size_t)n < cap)
			break;
		cap *= 2;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&path, "%s/vireo.bin", exe) < 0)
		die("out of memory");
	if (stat(path, &st) != 0) {
		char *shared;

		if (asprintf(&shared, "%s/../share/vireo/vireo.bin", exe) < 0)
			die("out of memory");
		if (stat(shared, &st) == 0) {
			free(path);
			path = shared;
		} else {
			free(shared);
		}
	}
	free(exe);
	return path;
}

static int run(const struct vm_config *cfg, const struct options *o, uint32_t flags)
{
	char *hypervisor = o->hypervisor ? strdup(o->hypervisor) : default_hypervisor();
	const char *disks[VM_CONFIG_MAX_HOST_DISKS];
	struct stat st;
	char *bundle, *err = NULL, **argv, gdb_err[256];
	struct vireo_gdb *gdb = NULL;
	int status, link_fd = -1;

	if (!hypervisor)
		die("out of memory");
	if (stat(hypervisor, &st) != 0)
		die("hypervisor image '%s': %s (run make)", hypervisor, strerror(errno));
	char **hostfwd = xalloc(calloc(o->npublish + 1, sizeof(char *)));

	for (unsigned i = 0; i < cfg->machine.ndisks; i++)
		disks[i] = cfg->machine.disks[i].path;
	for (size_t i = 0; i < o->npublish; i++)
		hostfwd[i] = publish_rule(cfg, o->publish[i]);
	catch_signals();
	if (o->ngdb &&
	    vireo_gdb_start(&gdb, cfg, o->gdb, o->ngdb, &link_fd, gdb_err, sizeof(gdb_err)))
		die("%s", gdb_err);
	bundle = make_temp_bundle(cfg, flags);
	argv = qemu_run_argv(&(struct qemu_run_opts){
	    .qemu = o->qemu ? o->qemu : QEMU_RUN_DEFAULT_QEMU,
	    .cpu = cfg->machine.cpu,
	    .machine = cfg->machine.machine,
	    .harts = cfg->machine.harts,
	    .memory = cfg->machine.memory,
	    .kernel = hypervisor,
	    .initrd = bundle,
	    .disks = disks,
	    .ndisks = cfg->machine.ndisks,
	    .link_fd = link_fd,
	    .agent_fd = -1,
	    .extra = o->extra,
	    .nextra = o->nextra,
	    .net_uplink = vm_config_wants_uplink(cfg),
	    .hostfwd = (const char *const *)hostfwd,
	    .nhostfwd = o->npublish,
	});
	if (o->print_command) {
		char *line = qemu_run_command_line(argv);
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	status = qemu_run(argv, &err);
	vireo_gdb_stop(gdb);
	unlink(bundle);
	temp_bundle = NULL;
	free(bundle);
	qemu_run_free_argv(argv);
	for (size_t i = 0; i < o->npublish; i++)
		free(hostfwd[i]);
	free(hostfwd);
	free(hypervisor);
	if (status < 0) {
		fprintf(stderr, "vireo: %s\n", err);
		free(err);
		return EXIT_TOOL_ERROR;
	}
	return status;
}

/* Tag VMs' console lines in colour when a person watches a terminal that has colours. */
static bool want_colour(const struct options *o)
{
	const char *term = getenv("TERM");

	if (o->colour && strcmp(o->colour, "auto") != 0)
		return strcmp(o->colour, "always") == 0;
	if (getenv("NO_COLOR") || o->command != CMD_RUN)
		return false;
	return isatty(STDOUT_FILENO) && term && strcmp(term, "dumb") != 0;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct vm_config cfg;
	uint32_t flags;
	char *err = NULL;
	int status = 0;

	if (argc > 1 && strcmp(argv[1], "exec") == 0)
		return vireo_exec_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "machine") == 0)
		return vireo_machine_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "vm") == 0)
		return vireo_vm_main(argc - 1, argv + 1);
	parse_args(&o, argc, argv);
	load_config(&cfg, &o);
	if (o.ngdb) {
		char gdb_err[256];

		if (vireo_gdb_resolve(&cfg, o.gdb, o.ngdb, gdb_err, sizeof(gdb_err)))
			die("%s", gdb_err);
	}
	flags = o.selftest_panic ? BUNDLE_SELFTEST_PANIC : 0;
	if (o.machine_mode)
		flags |= BUNDLE_MACHINE;
	if (want_colour(&o))
		flags |= BUNDLE_CONSOLE_COLOUR;
	switch (o.command) {
	case CMD_RUN:
		status = run(&cfg, &o, flags);
		break;
	case CMD_PACK:
		if (bundle_write_file(&cfg, flags, o.output, &err) != 0) {
			fprintf(stderr, "vireo: %s\n", err);
			free(err);
			status = EXIT_TOOL_ERROR;
		}
		break;
	case CMD_CHECK:
		for (unsigned i = 0; i < cfg.nvms; i++)
			print_summary(&cfg.vms[i]);
		break;
	}
	vm_config_free(&cfg);
	free(o.sources);
	free(o.disks);
	free(o.extra);
	free(o.gdb);
	free(o.publish);
	return status;
}
