// SPDX-License-Identifier: BSD-2-Clause
/*
 * Config files and --vm specs into a struct vm_config. Lines and paths have
 * no length limit (getline, asprintf); the only fixed sizes are the bundle's
 * own (name, bootargs), and those are checked before anything is copied.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vireo/vm_layout.h>

#include "vm_config.h"

#define MIB_BYTES (1ULL << 20)

/* The state of one config file or one --vm spec while it is read. */
struct parse_ctx {
	struct vm_config *cfg;
	struct vm_config_loc loc; /* the line being read */
	const char *base_dir;	  /* relative paths start here; "" = cwd */
	enum { SECTION_NONE, SECTION_MACHINE, SECTION_VM } section;
	struct vm_config_vm *vm;
	unsigned machine_line; /* [machine] of this file, to refuse a second one */
	unsigned seen[16];     /* line (or 1 in specs) where each key was set, per section */
};

typedef int (*key_fn)(struct parse_ctx *p, const char *key, const char *value);

struct key_handler {
	const char *name;
	key_fn set;
	bool repeatable;
};

static void *xalloc(void *p)
{
	if (!p) {
		fputs("vireo: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	return xalloc(strdup(s));
}

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		return xalloc(NULL);
	return s;
}

static char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* "vms.conf:7" or "--vm #2"; the caller frees it. */
static char *loc_string(const struct vm_config_loc *loc)
{
	if (loc->line)
		return xasprintf("%s:%u", loc->source, loc->line);
	return xstrdup(loc->source);
}

static int fail_at(struct vm_config *cfg, const struct vm_config_loc *loc, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
static int fail_at(struct vm_config *cfg, const struct vm_config_loc *loc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(cfg->error);
	if (loc) {
		char *where = loc_string(loc);
		cfg->error = xasprintf("%s: %s", where, msg);
		free(where);
		free(msg);
	} else {
		cfg->error = msg;
	}
	return -1;
}

#define fail(p, ...) fail_at((p)->cfg, &(p)->loc, __VA_ARGS__)

/* Locations outlive the parse (finish() reports them), so the config keeps the names. */
static const char *add_source(struct vm_config *cfg, char *owned_name)
{
	cfg->sources = xalloc(realloc(cfg->sources, (cfg->nsources + 1) * sizeof(char *)));
	cfg->sources[cfg->nsources++] = owned_name;
	return owned_name;
}

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->machine.harts = VM_CONFIG_DEFAULT_MACHINE_HARTS;
	cfg->machine.memory = VM_CONFIG_DEFAULT_MACHINE_MEMORY;
	cfg->machine.cpu = xstrdup(VM_CONFIG_DEFAULT_CPU);
	cfg->machine.machine = xstrdup(VM_CONFIG_DEFAULT_MACHINE);
}

static void clear_host_disks(struct vm_config_machine *m)
{
	for (unsigned i = 0; i < m->ndisks; i++)
		free(m->disks[i].path);
	m->ndisks = 0;
}

void vm_config_free(struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nvms; i++) {
		free(cfg->vms[i].kernel);
		free(cfg->vms[i].initrd);
	}
	clear_host_disks(&cfg->machine);
	free(cfg->machine.cpu);
	free(cfg->machine.machine);
	for (size_t i = 0; i < cfg->nsources; i++)
		free(cfg->sources[i]);
	free(cfg->sources);
	free(cfg->error);
	memset(cfg, 0, sizeof(*cfg));
}

const char *vm_config_error(const struct vm_config *cfg)
{
	return cfg->error ? cfg->error : "no error";
}

/* ------------------------------------------------------------------ values */

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* Trim in place; returns the start of the trimmed text. */
static char *trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Decimal digits, at least one, without overflow; advances *pp. */
static bool parse_uint(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return true;
}

static bool parse_whole_uint(const char *text, uint64_t *out)
{
	const char *p = text;

	return parse_uint(&p, out) && *p == '\0';
}

int vm_config_parse_size(const char *text, uint64_t *out)
{
	const char *p = text;
	unsigned shift = 0;
	uint64_t v;

	if (!parse_uint(&p, &v))
		return -1;
	switch (toupper((unsigned char)*p)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	}
	if (shift) {
		p++;
		if (strcasecmp(p, "iB") == 0 || strcasecmp(p, "B") == 0)
			p += strlen(p);
	}
	if (*p != '\0' || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

void vm_config_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const struct {
		unsigned shift;
		char unit;
	} units[] = {{40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t one = 1ULL << units[i].shift;
		if (bytes && bytes % one == 0) {
			snprintf(buf, size, "%llu%c", (unsigned long long)(bytes / one),
				 units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "%llu", (unsigned long long)bytes);
}

/* "0", "1-3", "0,2", "0,2-3"; '+' also separates, so that a --vm spec can say 0+2. */
int vm_config_parse_hart_mask(const char *text, uint64_t *mask)
{
	const char *p = text;
	uint64_t m = 0, lo, hi;

	for (;;) {
		p = skip_space(p);
		if (!parse_uint(&p, &lo))
			return -1;
		hi = lo;
		p = skip_space(p);
		if (*p == '-') {
			p = skip_space(p + 1);
			if (!parse_uint(&p, &hi))
				return -1;
			p = skip_space(p);
		}
		if (lo > hi || hi >= VM_CONFIG_MAX_HARTS)
			return -1;
		for (uint64_t i = lo; i <= hi; i++)
			m |= 1ULL << i;
		if (*p == '\0')
			break;
		if (*p != ',' && *p != '+')
			return -1;
		p++;
	}
	*mask = m;
	return 0;
}

/* "N" (whole host disk N) or "N:START+COUNT", then ",ro" or ",rw". -2: COUNT is 0. */
int vm_config_parse_disk(const char *text, struct vm_config_disk *disk)
{
	struct vm_config_disk d = {.present = true, .whole = true};
	const char *p = skip_space(text);
	uint64_t host;

	if (!parse_uint(&p, &host) || host > UINT32_MAX)
		return -1;
	d.host = (unsigned)host;
	p = skip_space(p);
	if (*p == ':') {
		d.whole = false;
		p = skip_space(p + 1);
		if (!parse_uint(&p, &d.first_sector))
			return -1;
		p = skip_space(p);
		if (*p++ != '+')
			return -1;
		p = skip_space(p);
		if (!parse_uint(&p, &d.sectors))
			return -1;
		if (d.sectors == 0)
			return -2;
		if (d.first_sector > UINT64_MAX - d.sectors)
			return -1;
		p = skip_space(p);
	}
	if (*p == ',') {
		p = skip_space(p + 1);
		if (strncmp(p, "ro", 2) == 0)
			d.readonly = true;
		else if (strncmp(p, "rw", 2) != 0)
			return -1;
		p = skip_space(p + 2);
	}
	if (*p != '\0')
		return -1;
	d.loc = disk->loc;
	*disk = d;
	return 0;
}

int vm_config_parse_mac(const char *text, uint8_t mac[6])
{
	static const uint8_t zero[6];
	const char *p = skip_space(text);
	uint8_t m[6];

	for (unsigned i = 0; i < 6; i++) {
		unsigned v = 0;

		for (unsigned k = 0; k < 2; k++, p++) {
			if (!isxdigit((unsigned char)*p))
				return -1;
			v = v * 16 + (unsigned)(isdigit((unsigned char)*p)
						    ? *p - '0'
						    : tolower((unsigned char)*p) - 'a' + 10);
		}
		m[i] = (uint8_t)v;
		if (i < 5 && *p != ':' && *p != '-')
			return -1;
		if (i < 5)
			p++;
	}
	if (*skip_space(p) != '\0' || (m[0] & 1) || memcmp(m, zero, 6) == 0)
		return -1;
	memcpy(mac, m, 6);
	return 0;
}

void vm_config_derive_mac(const char *name, unsigned attempt, uint8_t mac[6])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (unsigned i = 0; i < attempt; i++)
		h = (h ^ (uint8_t)i) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* yes/no, on/off, true/false, 1/0; empty is yes (a bare "testdev" in a --vm spec). */
static int parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"", "yes", "on", "true", "1"};
	static const char *const no[] = {"no", "off", "false", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(text, yes[i]) == 0)
			return *out = true, 0;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(text, no[i]) == 0)
			return *out = false, 0;
	return -1;
}

/* ------------------------------------------------------------------ files */

/* "~/x" from $HOME; relative paths from the config file's directory. */
static char *resolve_path(const char *base_dir, const char *text)
{
	const char *home = getenv("HOME");

	if (strncmp(text, "~/", 2) == 0 && home && *home)
		return xasprintf("%s%s", home, text + 1);
	if (text[0] == '/' || base_dir[0] == '\0')
		return xstrdup(text);
	return xasprintf("%s/%s", base_dir, text);
}

/*
 * Open the file now, so that a typo is reported at its line rather than when
 * packing; *size is its length (lseek also sizes a block device given as a disk).
 */
static int check_file(struct parse_ctx *p, const char *what, const char *text, char **path_out,
		      uint64_t *size)
{
	char *path;
	struct stat st;
	off_t end;
	int fd, err;

	if (*text == '\0')
		return fail(p, "%s is empty", what);
	path = resolve_path(p->base_dir, text);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		free(path);
		if (err == ENOENT)
			return fail(p, "%s '%s' not found: %s", what, text, strerror(err));
		return fail(p, "%s '%s' cannot be opened: %s", what, text, strerror(err));
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		free(path);
		return fail(p, "%s '%s' is a directory", what, text);
	}
	end = lseek(fd, 0, SEEK_END);
	err = errno;
	close(fd);
	if (end < 0) {
		free(path);
		return fail(p, "%s '%s' cannot be sized: %s", what, text, strerror(err));
	}
	*path_out = path;
	*size = (uint64_t)end;
	return 0;
}

static int set_image(struct parse_ctx *p, const char *what, const char *text, char **slot)
{
	uint64_t size;
	char *path;

	if (check_file(p, what, text, &path, &size))
		return -1;
	if (size == 0) {
		free(path);
		return fail(p, "%s '%s' is empty", what, text);
	}
	free(*slot);
	*slot = path;
	return 0;
}

/* ------------------------------------------------------------------ [vm NAME] keys */

static int vm_kernel(struct parse_ctx *p, const char *key, const char *value)
{
	return set_image(p, key, value, &p->vm->kernel);
}

static int vm_initrd(struct parse_ctx *p, const char *key, const char *value)
{
	if (*value == '\0') /* "initrd =": none, as if the key were absent */
		return 0;
	return set_image(p, key, value, &p->vm->initrd);
}

static int vm_memory(struct parse_ctx *p, const char *key, const char *value)
{
	uint64_t bytes;

	if (vm_config_parse_size(value, &bytes))
		return fail(p, "%s '%s' is not a size (e.g. 64M, 1G)", key, value);
	if (bytes < 4 * MIB_BYTES || bytes % (2 * MIB_BYTES))
		return fail(p, "%s '%s' must be a multiple of 2M and at least 4M", key, value);
	p->vm->memory = bytes;
	return 0;
}

static int vm_vcpus(struct parse_ctx *p, const char *key, const char *value)
{
	uint64_t n;

	p->vm->vcpus_loc = p->loc;
	if (strcasecmp(value, "harts") == 0) {
		p->vm->vcpus_follow_harts = true;
		return 0;
	}
	if (!parse_whole_uint(value, &n) || n < 1 || n > VM_CONFIG_MAX_VCPUS)
		return fail(p, "%s '%s' must be 1..%u, or 'harts'", key, value,
			    VM_CONFIG_MAX_VCPUS);
	p->vm->vcpus = (unsigned)n;
	p->vm->vcpus_follow_harts = false;
	return 0;
}

static int vm_harts(struct parse_ctx *p, const char *key, const char *value)
{
	if (vm_config_parse_hart_mask(value, &p->vm->hart_mask))
		return fail(p, "%s '%s' must be hart numbers 0..%u, like 0, 1-3 or 0,2", key, value,
			    VM_CONFIG_MAX_HARTS - 1);
	p->vm->harts_loc = p->loc;
	return 0;
}

static int vm_bootargs(struct parse_ctx *p, const char *key, const char *value)
{
	size_t len = strlen(value);

	if (len >= BUNDLE_ARGS_MAX)
		return fail(p, "%s are %zu bytes long; at most %u", key, len, BUNDLE_ARGS_MAX - 1);
	memcpy(p->vm->bootargs, value, len + 1);
	return 0;
}

static int vm_disk(struct parse_ctx *p, const char *key, const char *value)
{
	int err;

	p->vm->disk.loc = p->loc;
	err = vm_config_parse_disk(value, &p->vm->disk);
	if (err == -2)
		return fail(p, "%s '%s' is a range of 0 sectors", key, value);
	if (err)
		return fail(
		    p, "%s '%s' is not like 0 (host disk 0), 0:2048+4096 (sectors of it) or 0,ro",
		    key, value);
	return 0;
}

static int vm_console(struct parse_ctx *p, const char *key, const char *value)
{
	if (parse_bool(value, &p->vm->console))
		return fail(p, "%s '%s' must be on or off", key, value);
	return 0;
}

static int vm_testdev(struct parse_ctx *p, const char *key, const char *value)
{
	if (parse_bool(value, &p->vm->testdev))
		return fail(p, "%s '%s' must be yes or no", key, value);
	return 0;
}

static int vm_sandbox(struct parse_ctx *p, const char *key, const char *value)
{
	if (parse_bool(value, &p->vm->sandbox))
		return fail(p, "%s '%s' must be yes or no", key, value);
	return 0;
}

static int vm_wait(struct parse_ctx *p, const char *key, const char *value)
{
	if (parse_bool(value, &p->vm->wait))
		return fail(p, "%s '%s' must be yes or no", key, value);
	return 0;
}

/* auto: guest AIA where the machine has IMSIC guest files (else the PLIC); plic; aia. */
static int vm_irqchip(struct parse_ctx *p, const char *key, const char *value)
{
	if (strcmp(value, "auto") == 0)
		p->vm->irqchip = VM_CONFIG_IRQCHIP_AUTO;
	else if (strcmp(value, "plic") == 0)
		p->vm->irqchip = VM_CONFIG_IRQCHIP_PLIC;
	else if (strcmp(value, "aia") == 0)
		p->vm->irqchip = VM_CONFIG_IRQCHIP_AIA;
	else
		return fail(p, "%s '%s' must be auto, plic or aia", key, value);
	return 0;
}

static int vm_rtc(struct parse_ctx *p, const char *key, const char *value)
{
	static const char *const names[] = {"utc", "localtime", "off"};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(value, names[i]) == 0) {
			p->vm->rtc = (enum vm_config_rtc)i;
			return 0;
		}
	}
	return fail(p, "%s '%s' must be utc, localtime or off", key, value);
}

/* A whole number of seconds with an optional sign: "-3600", "+86400", "0". */
static int vm_rtc_offset(struct parse_ctx *p, const char *key, const char *value)
{
	const char *digits = value + (*value == '-' || *value == '+');
	uint64_t n;

	if (!parse_whole_uint(digits, &n) || n > (uint64_t)VM_CONFIG_RTC_OFFSET_MAX)
		return fail(p,
			    "%s '%s' must be whole seconds, e.g. -3600 (at most %lld either way)",
			    key, value, (long long)VM_CONFIG_RTC_OFFSET_MAX);
	p->vm->rtc_offset = *value == '-' ? -(int64_t)n : (int64_t)n;
	p->vm->rtc_offset_loc = p->loc;
	return 0;
}

/* A network's name: like a VM's, at most BUNDLE_NET_NAME_MAX - 1 characters. */
static bool valid_net_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= BUNDLE_NET_NAME_MAX)
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-_.", *c))
			return false;
	return true;
}

static int vm_net(struct parse_ctx *p, const char *key, const char *value)
{
	struct vm_config_net *n = &p->vm->net;

	n->loc = p->loc;
	if (strcmp(value, VM_CONFIG_NET_NONE) == 0) {
		n->present = false;
		return 0;
	}
	if (!valid_net_name(value))
		return fail(p,
			    "%s '%s' must be a network's name (1-%u letters, digits, '-', '_' "
			    "or '.'; '%s' has the uplink), or '%s'",
			    key, value, BUNDLE_NET_NAME_MAX - 1, VM_CONFIG_NET_DEFAULT,
			    VM_CONFIG_NET_NONE);
	n->present = true;
	memcpy(n->name, value, strlen(value) + 1);
	return 0;
}

static int vm_mac(struct parse_ctx *p, const char *key, const char *value)
{
	struct vm_config_net *n = &p->vm->net;

	n->mac_loc = p->loc;
	if (vm_config_parse_mac(value, n->mac))
		return fail(p, "%s '%s' is not a unicast MAC address like 52:54:00:12:34:56", key,
			    value);
	n->mac_given = true;
	return 0;
}

static const struct key_handler vm_keys[] = {
    {"kernel", vm_kernel, false},   {"initrd", vm_initrd, false},
    {"memory", vm_memory, false},   {"vcpus", vm_vcpus, false},
    {"harts", vm_harts, false},	    {"bootargs", vm_bootargs, false},
    {"disk", vm_disk, false},	    {"console", vm_console, false},
    {"testdev", vm_testdev, false}, {"wait", vm_wait, false},
    {"rtc", vm_rtc, false},	    {"rtc_offset", vm_rtc_offset, false},
    {"net", vm_net, false},	    {"mac", vm_mac, false},
    {"irqchip", vm_irqchip, false}, {"sandbox", vm_sandbox, false},
};

/* ------------------------------------------------------------------ [machine] keys */

static int machine_harts(struct parse_ctx *p, const char *key, const char *value)
{
	uint64_t n;

	if (!parse_whole_uint(value, &n) || n < 1 || n > VM_CONFIG_MAX_HARTS)
		return fail(p, "%s '%s' must be 1..%u", key, value, VM_CONFIG_MAX_HARTS);
	p->cfg->machine.harts = (unsigned)n;
	return 0;
}

static int machine_memory(struct parse_ctx *p, const char *key, const char *value)
{
	uint64_t bytes;

	if (vm_config_parse_size(value, &bytes) || bytes == 0 || bytes % MIB_BYTES)
		return fail(p, "%s '%s' must be a whole number of megabytes (e.g. 1G, 512M)", key,
			    value);
	p->cfg->machine.memory = bytes;
	return 0;
}

static int machine_cpu(struct parse_ctx *p, const char *key, const char *value)
{
	if (*value == '\0')
		return fail(p, "%s is empty", key);
	free(p->cfg->machine.cpu);
	p->cfg->machine.cpu = xstrdup(value);
	return 0;
}

/* QEMU's virt machine, with or without options ("virt,aia=aplic-imsic,aia-guests=2"):
 * Vireo runs on nothing else. */
static int machine_machine(struct parse_ctx *p, const char *key, const char *value)
{
	if (strncmp(value, "virt", 4) != 0 || (value[4] != '\0' && value[4] != ','))
		return fail(p, "%s '%s' is not QEMU's virt machine (e.g. virt,aia=aplic-imsic)",
			    key, value);
	free(p->cfg->machine.machine);
	p->cfg->machine.machine = xstrdup(value);
	return 0;
}

static int machine_disk(struct parse_ctx *p, const char *key, const char *value)
{
	struct vm_config_machine *m = &p->cfg->machine;
	struct vm_config_host_disk *d;
	uint64_t size;

	if (m->ndisks == VM_CONFIG_MAX_HOST_DISKS)
		return fail(p, "too many host disks: at most %u", VM_CONFIG_MAX_HOST_DISKS);
	d = &m->disks[m->ndisks];
	if (check_file(p, key, value, &d->path, &size))
		return -1;
	d->sectors = size / VM_CONFIG_SECTOR;
	m->ndisks++;
	return 0;
}

static const struct key_handler machine_keys[] = {
    {"harts", machine_harts, false}, {"memory", machine_memory, false},
    {"cpu", machine_cpu, false},     {"machine", machine_machine, false},
    {"disk", machine_disk, true},
};

/* ------------------------------------------------------------------ sections */

static char *known_keys(const struct key_handler *keys, size_t n, bool with_name)
{
	char *list = xstrdup(with_name ? "name" : "");

	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%s%s%s", list, *list ? ", " : "", keys[i].name);
		free(list);
		list = next;
	}
	return list;
}

static int set_key(struct parse_ctx *p, const char *key, const char *value)
{
	bool vm = p->section == SECTION_VM;
	const struct key_handler *keys = vm ? vm_keys : machine_keys;
	size_t n = vm ? sizeof(vm_keys) / sizeof(vm_keys[0])
		      : sizeof(machine_keys) / sizeof(machine_keys[0]);
	char *list;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(key, keys[i].name) != 0)
			continue;
		if (p->seen[i] && !keys[i].repeatable) {
			if (p->loc.line)
				return fail(p, "duplicate key '%s' (first at line %u)", key,
					    p->seen[i]);
			return fail(p, "duplicate key '%s'", key);
		}
		p->seen[i] = p->loc.line ? p->loc.line : 1;
		return keys[i].set(p, key, value);
	}
	list = known_keys(keys, n, vm && p->loc.line == 0);
	fail(p, "unknown key '%s' (known: %s)", key, list);
	free(list);
	return -1;
}

static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= BUNDLE_NAME_MAX)
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-_.", *c))
			return false;
	return true;
}

static int start_vm(struct parse_ctx *p, const char *name)
{
	struct vm_config *cfg = p->cfg;
	struct vm_config_vm *vm;

	if (!valid_name(name))
		return fail(p, "VM name '%s' must be 1-%u letters, digits, '-', '_' or '.'", name,
			    BUNDLE_NAME_MAX - 1);
	for (unsigned i = 0; i < cfg->nvms; i++) {
		if (strcmp(cfg->vms[i].name, name) == 0) {
			char *first = loc_string(&cfg->vms[i].loc);
			fail(p, "VM '%s' is defined twice (first at %s)", name, first);
			free(first);
			return -1;
		}
	}
	if (cfg->nvms == VM_CONFIG_MAX_VMS)
		return fail(p, "too many VMs: at most %u", VM_CONFIG_MAX_VMS);
	vm = &cfg->vms[cfg->nvms++];
	memset(vm, 0, sizeof(*vm));
	memcpy(vm->name, name, strlen(name) + 1);
	vm->memory = VM_CONFIG_DEFAULT_VM_MEMORY;
	vm->vcpus = 1;
	vm->console = true;
	vm->loc = p->loc;
	p->section = SECTION_VM;
	p->vm = vm;
	memset(p->seen, 0, sizeof(p->seen));
	return 0;
}

static int end_section(struct parse_ctx *p)
{
	if (p->section == SECTION_VM && !p->vm->kernel)
		return fail_at(p->cfg, &p->vm->loc, "VM '%s' has no kernel", p->vm->name);
	p->section = SECTION_NONE;
	p->vm = NULL;
	return 0;
}

static int start_machine(struct parse_ctx *p)
{
	if (p->machine_line)
		return fail(p, "duplicate section [machine] (first at line %u)", p->machine_line);
	p->machine_line = p->loc.line;
	p->section = SECTION_MACHINE;
	memset(p->seen, 0, sizeof(p->seen));
	return 0;
}

static int parse_header(struct parse_ctx *p, char *line)
{
	size_t len = strlen(line);
	char *inner;

	if (line[len - 1] != ']')
		return fail(p, "section header '%s' has no closing ']'", line);
	line[len - 1] = '\0';
	inner = trim(line + 1);
	if (end_section(p))
		return -1;
	if (strcmp(inner, "machine") == 0)
		return start_machine(p);
	if (strncmp(inner, "vm", 2) == 0 && isspace((unsigned char)inner[2]))
		return start_vm(p, trim(inner + 2));
	if (strcmp(inner, "vm") == 0)
		return fail(p, "[vm] needs a name: [vm NAME]");
	return fail(p, "unknown section [%s] (expected [machine] or [vm NAME])", inner);
}

static int parse_line(struct parse_ctx *p, char *line)
{
	char *eq, *key;

	line = trim(line);
	if (*line == '\0' || *line == '#' || *line == ';')
		return 0;
	if (*line == '[')
		return parse_header(p, line);
	eq = strchr(line, '=');
	if (!eq)
		return fail(p, "expected 'key = value' or a [section], not '%s'", line);
	*eq = '\0';
	key = trim(line);
	for (char *c = key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (*key == '\0')
		return fail(p, "no key before '='");
	if (p->section == SECTION_NONE)
		return fail(p, "key '%s' is outside a section ([machine] or [vm NAME])", key);
	return set_key(p, key, trim(eq + 1));
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup("");
	if (slash == path)
		return xstrdup("/");
	return xalloc(strndup(path, (size_t)(slash - path)));
}

int vm_config_parse_stream(struct vm_config *cfg, FILE *fp, const char *name, const char *base_dir)
{
	struct parse_ctx p = {.cfg = cfg, .base_dir = base_dir};
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int err = 0;

	p.loc.source = add_source(cfg, xstrdup(name));
	errno = 0;
	while (!err && (len = getline(&line, &cap, fp)) >= 0) {
		p.loc.line++;
		if (memchr(line, '\0', (size_t)len))
			err = fail(&p, "line contains a NUL byte");
		else
			err = parse_line(&p, line);
		errno = 0;
	}
	if (!err && ferror(fp))
		err = fail_at(cfg, NULL, "%s: read error: %s", name, strerror(errno ? errno : EIO));
	if (!err)
		err = end_section(&p);
	free(line);
	return err;
}

int vm_config_parse_file(struct vm_config *cfg, const char *path)
{
	FILE *fp = fopen(path, "re");
	char *dir;
	int err;

	if (!fp)
		return fail_at(cfg, NULL, "%s: %s", path, strerror(errno));
	dir = dir_of(path);
	err = vm_config_parse_stream(cfg, fp, path, dir);
	free(dir);
	fclose(fp);
	return err;
}

/* ------------------------------------------------------------------ --vm specs */

struct spec_item {
	char *key;
	char *value;
};

static bool is_vm_key(const char *key)
{
	if (strcmp(key, "name") == 0)
		return true;
	for (size_t i = 0; i < sizeof(vm_keys) / sizeof(vm_keys[0]); i++)
		if (strcmp(key, vm_keys[i].name) == 0)
			return true;
	return false;
}

static void free_items(struct spec_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].key);
		free(items[i].value);
	}
	free(items);
}

/*
 * key=value items split at commas, except that bootargs takes the rest of the
 * spec, and a bare item continues harts or disk ("harts=0,2", "disk=0,ro").
 * Any other bare item is a key with an empty value ("testdev").
 */
static void split_spec(const char *spec, struct spec_item **out, size_t *nout)
{
	struct spec_item *items = NULL;
	size_t n = 0;
	const char *rest = spec;

	while (*rest) {
		const char *start = skip_space(rest);
		size_t len = strcspn(start, ",");
		char *item, *eq, *key;
		const char *value;

		if (strncmp(start, "bootargs", 8) == 0 && *skip_space(start + 8) == '=')
			len = strlen(start);
		rest = start[len] ? start + len + 1 : start + len;
		item = xalloc(strndup(start, len));
		eq = strchr(item, '=');
		if (eq)
			*eq = '\0';
		key = trim(item);
		value = eq ? trim(eq + 1) : "";
		if (*key == '\0' && !eq) {
			free(item);
			continue;
		}
		if (!eq && !is_vm_key(key) && n &&
		    (strcmp(items[n - 1].key, "harts") == 0 ||
		     strcmp(items[n - 1].key, "disk") == 0)) {
			char *joined = xasprintf("%s,%s", items[n - 1].value, key);
			free(items[n - 1].value);
			items[n - 1].value = joined;
			free(item);
			continue;
		}
		items = xalloc(realloc(items, (n + 1) * sizeof(*items)));
		items[n].key = xstrdup(key);
		items[n].value = xstrdup(value);
		n++;
		free(item);
	}
	*out = items;
	*nout = n;
}

static int spec_name(struct parse_ctx *p, const struct spec_item *items, size_t n,
		     const char **name)
{
	*name = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(items[i].key, "name") != 0)
			continue;
		if (*name)
			return fail(p, "duplicate key 'name'");
		*name = items[i].value;
	}
	if (!*name)
		return fail(p, "VM has no name (name=NAME)");
	return 0;
}

int vm_config_parse_spec(struct vm_config *cfg, const char *spec, unsigned index)
{
	struct parse_ctx p = {.cfg = cfg, .base_dir = ""};
	struct spec_item *items;
	const char *name;
	size_t n;
	int err;

	p.loc.source = add_source(cfg, xasprintf("--vm #%u", index));
	split_spec(spec, &items, &n);
	err = spec_name(&p, items, n, &name) || start_vm(&p, name);
	for (size_t i = 0; !err && i < n; i++)
		if (strcmp(items[i].key, "name") != 0)
			err = set_key(&p, items[i].key, items[i].value);
	if (!err)
		err = end_section(&p);
	free_items(items, n);
	return err ? -1 : 0;
}

/* ------------------------------------------------------------------ command line */

static int override(struct vm_config *cfg, const char *option, key_fn set, const char *key,
		    const char *value)
{
	struct parse_ctx p = {.cfg = cfg, .base_dir = "", .section = SECTION_MACHINE};
	char *copy = xstrdup(value);
	int err;

	p.loc.source = add_source(cfg, xstrdup(option));
	err = set(&p, key, trim(copy));
	free(copy);
	return err;
}

int vm_config_apply_overrides(struct vm_config *cfg, const struct vm_config_overrides *o)
{
	if (o->harts && override(cfg, "--smp", machine_harts, "harts", o->harts))
		return -1;
	if (o->memory && override(cfg, "--mem", machine_memory, "memory", o->memory))
		return -1;
	if (o->cpu && override(cfg, "--cpu", machine_cpu, "cpu", o->cpu))
		return -1;
	if (o->machine && override(cfg, "--machine", machine_machine, "machine", o->machine))
		return -1;
	if (o->ndisks)
		clear_host_disks(&cfg->machine);
	for (size_t i = 0; i < o->ndisks; i++)
		if (override(cfg, "--disk", machine_disk, "disk", o->disks[i]))
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ the whole */

static void disk_range(const struct vm_config_disk *d, uint64_t *first, uint64_t *end)
{
	*first = d->whole ? 0 : d->first_sector;
	*end = d->whole ? UINT64_MAX : d->first_sector + d->sectors;
}

static char *disk_string(const struct vm_config_disk *d)
{
	if (d->whole)
		return xasprintf("all of host disk %u", d->host);
	return xasprintf("sectors %llu..%llu of host disk %u", (unsigned long long)d->first_sector,
			 (unsigned long long)(d->first_sector + d->sectors - 1), d->host);
}

/* One VM's disk must not share a sector with another's: VMs are isolated. */
static int check_overlap(struct vm_config *cfg, unsigned i)
{
	const struct vm_config_disk *d = &cfg->vms[i].disk;
	uint64_t first, end;

	disk_range(d, &first, &end);
	for (unsigned j = 0; j < i; j++) {
		const struct vm_config_disk *o = &cfg->vms[j].disk;
		uint64_t ofirst, oend;
		char *mine, *theirs;

		if (!o->present || o->host != d->host)
			continue;
		disk_range(o, &ofirst, &oend);
		if (first >= oend || ofirst >= end)
			continue;
		mine = disk_string(d);
		theirs = disk_string(o);
		fail_at(cfg, &d->loc, "disk of VM '%s' (%s) overlaps the disk of VM '%s' (%s)",
			cfg->vms[i].name, mine, cfg->vms[j].name, theirs);
		free(mine);
		free(theirs);
		return -1;
	}
	return 0;
}

static int check_disk(struct vm_config *cfg, unsigned i)
{
	const struct vm_config_vm *vm = &cfg->vms[i];
	const struct vm_config_disk *d = &vm->disk;
	const struct vm_config_machine *m = &cfg->machine;

	if (!d->present)
		return 0;
	if (m->ndisks == 0)
		return fail_at(cfg, &d->loc,
			       "VM '%s' uses host disk %u, but no host disk is given "
			       "([machine] disk = FILE or --disk FILE)",
			       vm->name, d->host);
	if (d->host >= m->ndisks)
		return fail_at(cfg, &d->loc,
			       "VM '%s' uses host disk %u, but only %u host disk%s given (0..%u)",
			       vm->name, d->host, m->ndisks, m->ndisks == 1 ? " is" : "s are",
			       m->ndisks - 1);
	if (!d->whole && d->first_sector + d->sectors > m->disks[d->host].sectors)
		return fail_at(cfg, &d->loc,
			       "disk of VM '%s' ends at sector %llu, past the end of host disk %u "
			       "('%s', %llu sectors)",
			       vm->name, (unsigned long long)(d->first_sector + d->sectors - 1),
			       d->host, m->disks[d->host].path,
			       (unsigned long long)m->disks[d->host].sectors);
	return check_overlap(cfg, i);
}

static int resolve_vcpus(struct vm_config *cfg, struct vm_config_vm *vm)
{
	unsigned n;

	if (!vm->vcpus_follow_harts)
		return 0;
	/* As many vCPUs as the harts the VM may run on. */
	n = vm->hart_mask ? (unsigned)__builtin_popcountll(vm->hart_mask) : cfg->machine.harts;
	if (n > VM_CONFIG_MAX_VCPUS)
		return fail_at(cfg, &vm->vcpus_loc,
			       "vcpus = harts means %u vCPUs for VM '%s'; at most %u", n, vm->name,
			       VM_CONFIG_MAX_VCPUS);
	vm->vcpus = n;
	return 0;
}

#define RAM_ALIGN (2ULL << 20) /* the hypervisor gives VMs RAM in 2 MiB multiples */

static uint64_t file_bytes(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* What the machine's RAM holds besides the VMs' own RAM: Vireo and its reserve, each
 * VM's page tables and vCPUs, and the boot bundle with every kernel and initrd (the
 * same reckoning as vireo/vm_layout.h gives the hypervisor). */
static uint64_t hypervisor_share(const struct vm_config *cfg)
{
	uint64_t bundle = 64 * 1024;

	for (unsigned i = 0; i < cfg->nvms; i++)
		bundle += file_bytes(cfg->vms[i].kernel) + file_bytes(cfg->vms[i].initrd);
	return VM_HOST_RESERVE + cfg->nvms * VM_OVERHEAD_EACH +
	       (bundle + RAM_ALIGN - 1) / RAM_ALIGN * RAM_ALIGN;
}

uint64_t vm_config_machine_memory(const struct vm_config *cfg)
{
	uint64_t total = hypervisor_share(cfg);

	for (unsigned i = 0; i < cfg->nvms; i++)
		total += cfg->vms[i].memory;
	return (total + MIB_BYTES - 1) / MIB_BYTES * MIB_BYTES;
}

/* An offset for a clock the VM does not have is a mistake worth naming. */
static int check_rtc(struct vm_config *cfg, const struct vm_config_vm *vm)
{
	if (vm->rtc == VM_CONFIG_RTC_OFF && vm->rtc_offset)
		return fail_at(cfg, &vm->rtc_offset_loc,
			       "VM '%s' has an rtc_offset but rtc = off (no clock to offset)",
			       vm->name);
	return 0;
}

/* A sandbox is one vCPU and no devices (vireo/sandbox.h). */
static int check_sandbox(struct vm_config *cfg, const struct vm_config_vm *vm)
{
	if (!vm->sandbox)
		return 0;
	if (vm->vcpus != 1)
		return fail_at(cfg, &vm->loc, "VM '%s' is a sandbox: it has one vCPU (%u given)",
			       vm->name, vm->vcpus);
	if (vm->disk.present)
		return fail_at(cfg, &vm->disk.loc, "VM '%s' is a sandbox: it has no disk",
			       vm->name);
	if (vm->net.present)
		return fail_at(cfg, &vm->net.loc, "VM '%s' is a sandbox: it has no network card",
			       vm->name);
	return 0;
}

static int check_on_machine(struct vm_config *cfg)
{
	const struct vm_config_machine *m = &cfg->machine;
	uint64_t total = 0, vms, share;
	char need[32], have[32], ours[32];

	for (unsigned i = 0; i < cfg->nvms; i++) {
		const struct vm_config_vm *vm = &cfg->vms[i];
		uint64_t outside = m->harts < 64 ? vm->hart_mask >> m->harts : 0;
		if (outside)
			return fail_at(
			    cfg, &vm->harts_loc,
			    "VM '%s' is pinned to hart %u, but the machine has %u hart%s "
			    "(0..%u)",
			    vm->name, m->harts + (unsigned)__builtin_ctzll(outside), m->harts,
			    m->harts == 1 ? "" : "s", m->harts - 1);
		total += vm->memory; /* a multiple of 2M already */
	}
	vms = total;
	share = hypervisor_share(cfg);
	total += share;
	if (total > m->memory) {
		vm_config_format_size(vms, need, sizeof(need));
		vm_config_format_size(share, ours, sizeof(ours));
		vm_config_format_size(m->memory, have, sizeof(have));
		return fail_at(
		    cfg, NULL,
		    "the VMs need %s of memory and Vireo %s more (firmware, hypervisor, "
		    "boot bundle), more than the machine's %s ([machine] memory or --mem)",
		    need, ours, have);
	}
	return 0;
}

const struct vm_config_vm *vm_config_find(const struct vm_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->nvms; i++)
		if (strcmp(cfg->vms[i].name, name) == 0)
			return &cfg->vms[i];
	return NULL;
}

bool vm_config_wants_uplink(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nvms; i++)
		if (cfg->vms[i].net.present &&
		    strcmp(cfg->vms[i].net.name, VM_CONFIG_NET_DEFAULT) == 0)
			return true;
	return false;
}

/* Another networked VM before index `end` (or any, with end = nvms) with this MAC. */
static int mac_owner(const struct vm_config *cfg, const uint8_t mac[6], unsigned self, unsigned end,
		     bool given_only)
{
	for (unsigned j = 0; j < end; j++) {
		const struct vm_config_net *o = &cfg->vms[j].net;

		if (j != self && o->present && (!given_only || o->mac_given) &&
		    memcmp(o->mac, mac, 6) == 0)
			return (int)j;
	}
	return -1;
}

/*
 * Network cards: a "mac" needs a "net"; given MACs are unique; the others are
 * derived from the VM's name, unique too; VM n gets the address 10.0.2.(15 + n).
 */
static int resolve_nets(struct vm_config *cfg)
{
	unsigned nets = 0;

	for (unsigned i = 0; i < cfg->nvms; i++) {
		const struct vm_config_net *n = &cfg->vms[i].net;
		bool seen = false;

		for (unsigned j = 0; j < i && n->present; j++)
			seen |=
			    cfg->vms[j].net.present && strcmp(cfg->vms[j].net.name, n->name) == 0;
		if (n->present && !seen && ++nets > VM_CONFIG_MAX_NETS)
			return fail_at(cfg, &n->loc,
				       "network '%s' is one too many: at most %u networks", n->name,
				       VM_CONFIG_MAX_NETS);
	}
	for (unsigned i = 0; i < cfg->nvms; i++) {
		struct vm_config_vm *vm = &cfg->vms[i];
		int other;

		if (vm->net.mac_given && !vm->net.present)
			return fail_at(
			    cfg, &vm->net.mac_loc,
			    "VM '%s' has a mac but no network (net = %s, or another name)",
			    vm->name, VM_CONFIG_NET_DEFAULT);
		if (!vm->net.present || !vm->net.mac_given)
			continue;
		other = mac_owner(cfg, vm->net.mac, i, i, true);
		if (other >= 0) {
			char *first = loc_string(&cfg->vms[other].net.mac_loc);
			fail_at(cfg, &vm->net.mac_loc, "VM '%s' has the MAC of VM '%s' (at %s)",
				vm->name, cfg->vms[other].name, first);
			free(first);
			return -1;
		}
	}
	for (unsigned i = 0; i < cfg->nvms; i++) {
		struct vm_config_net *n = &cfg->vms[i].net;

		if (!n->present)
			continue;
		n->ipv4 = VM_CONFIG_IPV4_BASE + i;
		if (n->mac_given)
			continue;
		/* Unique among the given MACs and the ones derived before it. */
		for (unsigned attempt = 0;; attempt++) {
			vm_config_derive_mac(cfg->vms[i].name, attempt, n->mac);
			if (mac_owner(cfg, n->mac, i, cfg->nvms, true) < 0 &&
			    mac_owner(cfg, n->mac, i, i, false) < 0)
				break;
		}
	}
	return 0;
}

int vm_config_finish(struct vm_config *cfg, bool for_machine)
{
	if (cfg->nvms == 0 && !cfg->machine_mode)
		return fail_at(
		    cfg, NULL,
		    "no VM defined: give a CONFIG file with [vm NAME] sections or --vm SPEC");
	for (unsigned i = 0; i < cfg->nvms; i++)
		if (resolve_vcpus(cfg, &cfg->vms[i]) || check_disk(cfg, i) ||
		    check_rtc(cfg, &cfg->vms[i]) || check_sandbox(cfg, &cfg->vms[i]))
			return -1;
	if (resolve_nets(cfg))
		return -1;
	return for_machine ? check_on_machine(cfg) : 0;
}
