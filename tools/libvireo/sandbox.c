// SPDX-License-Identifier: BSD-2-Clause
/*
 * Sandboxes (include/vireo.h, docs/sandbox.md): a program of the guest SDK in
 * a micro-VM under Vireo on a QEMU of its own, driven over the link with the
 * sandbox control ops (vireo/ctl_sandbox.h). Everything runs in the caller's
 * thread: a call sends CALL and then serves what comes back -- host calls,
 * catches -- until the RETURN, so host functions and the handler run inside
 * vireo_sandbox_call() and may use the sandbox (read, write, map).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vireo/ctl_sandbox.h>
#include <vireo/vx.h>

#include "bundle_write.h"
#include "internal.h"
#include "qemu_run.h"
#include "sandbox_elf.h"
#include "vm_config.h"

#define SB_VM		1 /* the only VM of the machine */
#define SB_BOOT_MS	(120 * 1000)
#define SB_REPLY_MS	(60 * 1000)
#define SB_MAX_RESTART	100
#define SB_MAX_HOST_FNS 64
#define SB_WRITE_CHUNK	1000 /* what one WRITE carries */
#define SB_MAX_EVENTS	8
#define SB_DEFAULT_RAM	(4ULL << 20)

struct sb_host_fn {
	char name[CTL_SANDBOX_NAME_MAX + 1];
	vireo_host_fn fn;
	void *ctx;
};

struct sb_event {
	uint16_t kind;
	uint32_t len;
	uint8_t data[CTL_SANDBOX_CAUGHT_SIZE + CTL_SANDBOX_NAME_MAX];
};

struct vireo_sandbox {
	struct vireo_child *qemu; /* QEMU's start and descriptors, as for a command's VM */
	struct vireo_sandbox_config cfg;
	struct sbelf elf;
	uint64_t ram_base, ram_size;
	uint32_t next_id;
	bool dead;
	struct sb_host_fn fns[SB_MAX_HOST_FNS];
	vireo_catch_fn on_catch;
	void *catch_ctx;
	struct sb_event events[SB_MAX_EVENTS]; /* arrived while we waited for a reply */
	unsigned nevents;
	char log[VIREO_LOG_TAIL + 1];
	size_t log_len;
	size_t have;			      /* bytes of rbuf */
	uint8_t rbuf[VX_HDR_SIZE + 2 * 4096]; /* frames from Vireo: a reply, an event */
};

/* ------------------------------------------------------------------ the machine */

static int read_file(const char *path, uint8_t **img, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size > (64 << 20)) {
		int err = fd < 0 ? errno : EFBIG;

		if (fd >= 0)
			close(fd);
		return vireo_fail(err, "sandbox program '%s': %s", path, strerror(err));
	}
	*img = malloc((size_t)st.st_size + 1);
	n = *img ? read(fd, *img, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(*img);
		return vireo_fail(EIO, "sandbox program '%s': a short read", path);
	}
	*len = (size_t)n;
	return 0;
}

static int load_symbols(struct vireo_sandbox *sb, const char *path)
{
	uint8_t *img = NULL;
	size_t len = 0;
	const char *why = "";
	int rc = read_file(path, &img, &len);

	if (rc)
		return rc;
	rc = sbelf_parse(&sb->elf, img, len, &why);
	free(img);
	if (rc)
		return vireo_fail(ENOEXEC, "sandbox program '%s': %s", path, why);
	if (!sbelf_find(&sb->elf, "vsb_return_stub"))
		return vireo_fail(ENOEXEC, "sandbox program '%s' is not built with the guest SDK",
				  path);
	return 0;
}

/* The machine as a config file: one hart, one VM, the sandbox. */
static int write_bundle(struct vireo_child *c, const char *elf, uint64_t ram, uint64_t *memory)
{
	struct vm_config cfg;
	char *text = NULL, *err = NULL;
	int len, rc = 0;
	FILE *fp, *out;

	len = asprintf(&text,
		       "[machine]\nharts = 1\n[vm sandbox]\nkernel = %s\nmemory = %lluM\n"
		       "sandbox = yes\n",
		       elf, (unsigned long long)(ram >> 20));
	if (len < 0)
		return vireo_fail(ENOMEM, "out of memory");
	vm_config_init(&cfg);
	fp = fmemopen(text, (size_t)len, "r");
	if (!fp || vm_config_parse_stream(&cfg, fp, "the sandbox", "") != 0) {
		rc = vireo_fail(EINVAL, "%s", fp ? vm_config_error(&cfg) : "out of memory");
		goto out;
	}
	cfg.machine.memory = vm_config_machine_memory(&cfg);
	if (vm_config_finish(&cfg, true) != 0) {
		rc = vireo_fail(EINVAL, "%s", vm_config_error(&cfg));
		goto out;
	}
	*memory = cfg.machine.memory;
	c->bundle_fd = memfd_create("vireo-sandbox", MFD_CLOEXEC);
	out = c->bundle_fd >= 0 ? fdopen(dup(c->bundle_fd), "wb") : NULL;
	if (!out || bundle_write(&cfg, 0, out, "the boot bundle", &err) != 0)
		rc = vireo_fail(EIO, "%s", err ? err : strerror(errno));
	if (out && fclose(out) != 0 && !rc)
		rc = vireo_fail(EIO, "the boot bundle: %s", strerror(errno));
out:
	if (fp)
		fclose(fp);
	free(err);
	free(text);
	vm_config_free(&cfg);
	return rc;
}

static int start_machine(struct vireo_sandbox *sb, const char *elf)
{
	struct vireo_child *c = calloc(1, sizeof(*c));
	char *real = realpath(elf, NULL), *hv = NULL;
	uint64_t memory = 0;
	int sv[2], logp[2], rc;

	if (!c || !real) {
		free(c);
		free(real);
		return vireo_fail(errno ? errno : ENOMEM, "sandbox program '%s': %s", elf,
				  strerror(errno ? errno : ENOMEM));
	}
	sb->qemu = c;
	c->link_fd = c->qemu_link_fd = c->log_rd = c->log_wr = c->bundle_fd = -1;
	rc = write_bundle(c, real, sb->cfg.memory, &memory);
	if (!rc) {
		hv = sb->cfg.hypervisor
			 ? realpath(sb->cfg.hypervisor, NULL)
			 : vm_default_file("VIREO_HYPERVISOR", "vireo.bin", "vireo.bin");
		c->qemu_path = vm_find_program(sb->cfg.qemu ? sb->cfg.qemu : QEMU_RUN_DEFAULT_QEMU);
		if (!hv)
			rc = vireo_fail(ENOENT, "no hypervisor image (vireo.bin): run make");
		else if (!c->qemu_path)
			rc = vireo_fail(ENOENT, "QEMU not found (Debian package qemu-system-misc)");
	}
	if (!rc && (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
		    pipe2(logp, O_CLOEXEC) != 0))
		rc = vireo_fail(errno, "socketpair or pipe: %s", strerror(errno));
	if (!rc) {
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &(int){1 << 20}, sizeof(int));
		c->link_fd = sv[0];
		c->qemu_link_fd = sv[1];
		c->log_rd = logp[0];
		c->log_wr = logp[1];
		c->qemu_argv = qemu_run_argv(&(struct qemu_run_opts){
		    .qemu = c->qemu_path,
		    .cpu = VM_CONFIG_DEFAULT_CPU,
		    .harts = 1,
		    .memory = memory,
		    .kernel = hv,
		    .initrd = "/proc/self/fd/4", /* vm_start_qemu: the bundle is fd 4 */
		    .link_fd = 3,
		    .agent_fd = -1,
		    .extra = &sb->cfg.qemu_args,
		    .nextra = sb->cfg.qemu_args ? 1 : 0,
		});
		if (!c->qemu_argv)
			rc = vireo_fail(ENOMEM, "out of memory");
	}
	free(hv);
	free(real);
	if (!rc && (rc = vm_start_qemu(c)) != 0)
		vireo_fail(-rc, "%s", c->start_error);
	return rc;
}

/* ------------------------------------------------------------------ the link */

static void take_log(struct vireo_sandbox *sb)
{
	char buf[4096];
	ssize_t n = read(sb->qemu->log_rd, buf, sizeof(buf));

	if (n <= 0)
		return;
	if (sb->cfg.log_fd > 0 && write(sb->cfg.log_fd, buf, (size_t)n) < 0)
		sb->cfg.log_fd = -1;
	if ((size_t)n > VIREO_LOG_TAIL)
		n = VIREO_LOG_TAIL;
	if (sb->log_len + (size_t)n > VIREO_LOG_TAIL) {
		size_t drop = sb->log_len + (size_t)n - VIREO_LOG_TAIL;

		memmove(sb->log, sb->log + drop, sb->log_len - drop);
		sb->log_len -= drop;
	}
	memcpy(sb->log + sb->log_len, buf, (size_t)n);
	sb->log_len += (size_t)n;
	sb->log[sb->log_len] = '\0';
}

static int gone(struct vireo_sandbox *sb, const char *what)
{
	const char *tail = sb->log_len > 300 ? sb->log + sb->log_len - 300 : sb->log;

	sb->dead = true;
	return vireo_fail(EPIPE, "the sandbox's machine %s; its console ended: %s", what, tail);
}

static int send_frame(struct vireo_sandbox *sb, uint16_t type, const void *p, size_t len)
{
	uint8_t f[VX_HDR_SIZE + VX_CONTROL_MAX];
	size_t at = 0;

	if (sb->dead)
		return vireo_fail(EPIPE, "the sandbox's machine is gone");
	if (len > VX_CONTROL_MAX)
		return vireo_fail(E2BIG, "a request too long for the link");
	vx_put_hdr(f, type, 0, (uint32_t)len);
	memcpy(f + VX_HDR_SIZE, p, len);
	while (at < VX_HDR_SIZE + len) {
		ssize_t n = send(sb->qemu->link_fd, f + at, VX_HDR_SIZE + len - at, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return gone(sb, "does not take requests");
		at += (size_t)n;
	}
	return 0;
}

static void drop_frame(struct vireo_sandbox *sb, const struct vx_hdr *h)
{
	size_t used = VX_HDR_SIZE + h->len;

	memmove(sb->rbuf, sb->rbuf + used, sb->have - used);
	sb->have -= used;
}

/* The next frame from Vireo (its header in *h, payload at rbuf + VX_HDR_SIZE, consumed
 * by the next call), waiting at most ms. Frames too long to be a reply or an event (the
 * sandbox has no channel; nothing else is that long) end the machine. */
static int next_frame(struct vireo_sandbox *sb, struct vx_hdr *h, bool *consumed, int ms)
{
	unsigned long long deadline = vireo_now_ms() + (unsigned long long)ms;

	if (*consumed) {
		drop_frame(sb, h);
		*consumed = false;
	}
	for (;;) {
		struct pollfd p[2] = {{sb->qemu->link_fd, POLLIN, 0},
				      {sb->qemu->log_rd, POLLIN, 0}};
		long long left = (long long)(deadline - vireo_now_ms());
		ssize_t n;

		if (sb->have >= VX_HDR_SIZE) {
			h->len = vx_get_u32(sb->rbuf);
			h->type = vx_get_u16(sb->rbuf + 4);
			h->chan = vx_get_u16(sb->rbuf + 6);
			if (h->len > sizeof(sb->rbuf) - VX_HDR_SIZE)
				return gone(sb, "sent a frame too long for the sandbox link");
			if (sb->have >= VX_HDR_SIZE + h->len) {
				*consumed = true;
				return 0;
			}
		}
		if (sb->dead)
			return vireo_fail(EPIPE, "the sandbox's machine is gone");
		if (left <= 0 || vireo_now_ms() > deadline)
			return vireo_fail(ETIMEDOUT, "the sandbox did not answer in %d s",
					  ms / 1000);
		if (poll(p, 2, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			return vireo_fail(errno, "poll: %s", strerror(errno));
		if (p[1].revents)
			take_log(sb);
		if (!p[0].revents)
			continue;
		n = read(sb->qemu->link_fd, sb->rbuf + sb->have, sizeof(sb->rbuf) - sb->have);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
			take_log(sb);
			return gone(sb, "ended");
		}
		if (n > 0)
			sb->have += (size_t)n;
	}
}

/* A frame that is neither the reply waited for nor an event: Vireo's own. */
static int other_frame(struct vireo_sandbox *sb, const struct vx_hdr *h, const uint8_t *p)
{
	if (h->type == LINK_HELLO)
		return 0;
	if (h->type == LINK_VM_EXIT || h->type == LINK_ERROR)
		return gone(sb, h->type == LINK_ERROR ? "refused a request" : "stopped the VM");
	(void)p;
	return 0; /* LINK_OPEN, CREDIT, ...: the sandbox has no channel to serve */
}

static int keep_event(struct vireo_sandbox *sb, const struct vx_hdr *h, const uint8_t *p)
{
	struct sb_event *e;

	if (h->len < 8 || vx_get_u32(p + 4) != SB_VM)
		return 0;
	if (vx_get_u16(p) == CTL_EVENT_SANDBOX_EXIT)
		return gone(sb, "stopped the sandbox");
	if (sb->nevents == SB_MAX_EVENTS || h->len - 8 > sizeof(e->data))
		return gone(sb, "sent more events than a sandbox can");
	e = &sb->events[sb->nevents++];
	e->kind = vx_get_u16(p);
	e->len = h->len - 8;
	memcpy(e->data, p + 8, e->len);
	return 0;
}

/* Frames until `want` (LINK_REPLY with id, or an event when id is 0) is there. */
static int pump(struct vireo_sandbox *sb, uint32_t id, uint8_t *out, size_t cap, size_t *out_len,
		int ms)
{
	struct vx_hdr h = {0, 0, 0};
	bool consumed = false;
	int rc;

	for (;;) {
		const uint8_t *p;

		if (!id && sb->nevents) {
			if (consumed)
				drop_frame(sb, &h);
			return 0;
		}
		rc = next_frame(sb, &h, &consumed, ms);
		if (rc)
			return rc;
		p = sb->rbuf + VX_HDR_SIZE;
		if (h.type == LINK_EVENT)
			rc = keep_event(sb, &h, p);
		else if (h.type == LINK_REPLY && h.len >= 8 && id && vx_get_u32(p) == id)
			break;
		else
			rc = other_frame(sb, &h, p);
		if (rc)
			return rc;
	}
	rc = (int32_t)vx_get_u32(sb->rbuf + VX_HDR_SIZE + 4);
	if (out_len)
		*out_len = h.len - 8 < cap ? h.len - 8 : cap;
	if (out)
		memcpy(out, sb->rbuf + VX_HDR_SIZE + 8, h.len - 8 < cap ? h.len - 8 : cap);
	drop_frame(sb, &h); /* now: the caller may send and read again */
	return rc;
}

/* One control request; its result (>= 0) or a negative errno. */
static int request(struct vireo_sandbox *sb, uint16_t op, const void *args, size_t len, void *out,
		   size_t cap, size_t *out_len)
{
	uint8_t p[VX_CONTROL_MAX];
	uint32_t id = ++sb->next_id ? sb->next_id : ++sb->next_id;
	int rc;

	if (len > sizeof(p) - 8)
		return vireo_fail(E2BIG, "a request too long for the link");
	vx_put_u32(p, id);
	vx_put_u16(p + 4, op);
	vx_put_u16(p + 6, 0);
	memcpy(p + 8, args, len);
	rc = send_frame(sb, LINK_REQUEST, p, len + 8);
	if (rc)
		return rc;
	rc = pump(sb, id, out, cap, out_len, SB_REPLY_MS);
	if (rc < 0 && rc != -EPIPE && rc != -ETIMEDOUT)
		vireo_fail(-rc, "sandbox request 0x%04x: %s", op, strerror(-rc));
	return rc;
}

static int next_event(struct vireo_sandbox *sb, struct sb_event *e, int ms)
{
	int rc = pump(sb, 0, NULL, 0, NULL, ms);

	if (rc)
		return rc;
	*e = sb->events[0];
	memmove(&sb->events[0], &sb->events[1], --sb->nevents * sizeof(*e));
	return 0;
}

/* ------------------------------------------------------------------ open and close */

static int boot(struct vireo_sandbox *sb)
{
	uint8_t hello[8];
	struct sb_event e;
	struct ctl_sandbox_info info;
	uint32_t vm = SB_VM;
	size_t n = 0;
	int rc;

	vx_put_u32(hello, VX_PROTOCOL_VER);
	vx_put_u32(hello + 4, 0);
	rc = send_frame(sb, LINK_HELLO, hello, sizeof(hello));
	if (!rc)
		rc = next_event(sb, &e, SB_BOOT_MS);
	if (rc)
		return rc;
	if (e.kind != CTL_EVENT_SANDBOX_READY)
		return gone(sb, "did not start the program");
	rc = request(sb, CTL_OP_SANDBOX_OPEN, &vm, sizeof(vm), &info, sizeof(info), &n);
	if (rc < 0)
		return rc;
	if (n != sizeof(info) || info.state != CTL_SANDBOX_IDLE)
		return gone(sb, "answered OPEN oddly");
	sb->ram_base = info.ram_base;
	sb->ram_size = info.ram_size;
	return 0;
}

VIREO_API int vireo_sandbox_open(const char *elf, const struct vireo_sandbox_config *cfg,
				 struct vireo_sandbox **out)
{
	struct vireo_sandbox *sb = calloc(1, sizeof(*sb));
	int rc;

	*out = NULL;
	if (!sb)
		return vireo_fail(ENOMEM, "out of memory");
	if (cfg)
		sb->cfg = *cfg;
	if (!sb->cfg.memory)
		sb->cfg.memory = SB_DEFAULT_RAM;
	if (sb->cfg.memory % (1 << 20) || sb->cfg.memory > (1ULL << 30)) {
		free(sb);
		return vireo_fail(EINVAL, "a sandbox's memory is whole MiB, at most 1 GiB");
	}
	rc = load_symbols(sb, elf);
	if (!rc)
		rc = start_machine(sb, elf);
	if (!rc)
		rc = boot(sb);
	if (rc) {
		char why[512];

		snprintf(why, sizeof(why), "%s", vireo_last_error());
		vireo_sandbox_close(sb);
		vireo_fail(-rc, "%s", why);
		return rc;
	}
	*out = sb;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

VIREO_API void vireo_sandbox_close(struct vireo_sandbox *sb)
{
	struct vireo_child *c;

	if (!sb)
		return;
	c = sb->qemu;
	if (c) {
		if (c->qemu_pid > 0) {
			kill(c->qemu_pid, SIGKILL);
			waitpid(c->qemu_pid, NULL, 0);
		}
		close_fd(&c->link_fd);
		close_fd(&c->qemu_link_fd);
		close_fd(&c->log_rd);
		close_fd(&c->log_wr);
		close_fd(&c->bundle_fd);
		qemu_run_free_argv(c->qemu_argv);
		free(c->qemu_path);
		free(c);
	}
	sbelf_free(&sb->elf);
	free(sb);
}

/* ------------------------------------------------------------------ memory */

VIREO_API int vireo_sandbox_read(struct vireo_sandbox *sb, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *to = buf;

	while (len) {
		uint32_t n = len > CTL_SANDBOX_RW_MAX ? CTL_SANDBOX_RW_MAX : (uint32_t)len;
		uint8_t args[16];
		size_t got = 0;
		int rc;

		vx_put_u32(args, SB_VM);
		vx_put_u32(args + 4, n);
		vx_put_u64(args + 8, gpa);
		rc = request(sb, CTL_OP_SANDBOX_READ, args, sizeof(args), to, n, &got);
		if (rc < 0)
			return rc;
		if (got != n)
			return gone(sb, "answered a READ short");
		to += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

VIREO_API int vireo_sandbox_write(struct vireo_sandbox *sb, uint64_t gpa, const void *buf,
				  size_t len)
{
	const uint8_t *from = buf;

	while (len) {
		uint32_t n = len > SB_WRITE_CHUNK ? SB_WRITE_CHUNK : (uint32_t)len;
		uint8_t args[16 + SB_WRITE_CHUNK];
		int rc;

		vx_put_u32(args, SB_VM);
		vx_put_u32(args + 4, n);
		vx_put_u64(args + 8, gpa);
		memcpy(args + 16, from, n);
		rc = request(sb, CTL_OP_SANDBOX_WRITE, args, 16 + n, NULL, 0, NULL);
		if (rc < 0)
			return rc;
		from += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

VIREO_API int vireo_sandbox_map(struct vireo_sandbox *sb, uint64_t gpa, uint64_t size,
				unsigned perms)
{
	uint8_t args[24];
	int rc;

	vx_put_u32(args, SB_VM);
	vx_put_u32(args + 4, perms);
	vx_put_u64(args + 8, gpa);
	vx_put_u64(args + 16, size);
	rc = request(sb, CTL_OP_SANDBOX_MAP, args, sizeof(args), NULL, 0, NULL);
	return rc < 0 ? rc : 0;
}

VIREO_API int vireo_sandbox_symbol(const struct vireo_sandbox *sb, const char *name, uint64_t *addr,
				   uint64_t *size)
{
	const struct sbelf_sym *s = sbelf_find(&sb->elf, name);

	if (!s)
		return vireo_fail(ENOENT, "the sandbox program has no symbol '%s'", name);
	if (addr)
		*addr = s->addr;
	if (size)
		*size = s->size;
	return 0;
}

/* [offset, offset + len) of buffer `name`, checked against its size. */
static int buffer_at(struct vireo_sandbox *sb, const char *name, uint64_t offset, size_t len,
		     uint64_t *gpa)
{
	uint64_t size;
	int rc = vireo_sandbox_symbol(sb, name, gpa, &size);

	if (rc)
		return rc;
	if (offset > size || len > size - offset)
		return vireo_fail(ERANGE, "%zu bytes at %llu are beyond buffer '%s' (%llu bytes)",
				  len, (unsigned long long)offset, name, (unsigned long long)size);
	*gpa += offset;
	return 0;
}

VIREO_API int vireo_sandbox_read_buffer(struct vireo_sandbox *sb, const char *name, uint64_t offset,
					void *buf, size_t len)
{
	uint64_t gpa;
	int rc = buffer_at(sb, name, offset, len, &gpa);

	return rc ? rc : vireo_sandbox_read(sb, gpa, buf, len);
}

VIREO_API int vireo_sandbox_write_buffer(struct vireo_sandbox *sb, const char *name,
					 uint64_t offset, const void *buf, size_t len)
{
	uint64_t gpa;
	int rc = buffer_at(sb, name, offset, len, &gpa);

	return rc ? rc : vireo_sandbox_write(sb, gpa, buf, len);
}

VIREO_API int vireo_sandbox_reset(struct vireo_sandbox *sb, bool full)
{
	uint8_t args[8], out[8];
	size_t n = 0;
	int rc;

	vx_put_u32(args, SB_VM);
	vx_put_u32(args + 4, full ? CTL_SANDBOX_RESET_FULL : 0);
	rc = request(sb, CTL_OP_SANDBOX_RESET, args, sizeof(args), out, sizeof(out), &n);
	if (rc < 0)
		return rc;
	return n >= 4 ? (int)vx_get_u32(out) : rc;
}

VIREO_API int vireo_sandbox_stats(struct vireo_sandbox *sb, struct vireo_sandbox_stats *st)
{
	uint32_t vm = SB_VM;
	struct ctl_sandbox_stats s;
	size_t n = 0;
	int rc = request(sb, CTL_OP_SANDBOX_STATS, &vm, sizeof(vm), &s, sizeof(s), &n);

	if (rc < 0)
		return rc;
	if (n != sizeof(s))
		return gone(sb, "answered STATS oddly");
	*st = (struct vireo_sandbox_stats){
	    s.calls,	      s.hostcalls,	 s.catches,	      s.resets,
	    s.pages_restored, s.catch_out_insns, s.continue_in_insns, s.continues};
	return 0;
}

VIREO_API const char *vireo_sandbox_log(struct vireo_sandbox *sb)
{
	while (!sb->dead && poll(&(struct pollfd){sb->qemu->log_rd, POLLIN, 0}, 1, 0) == 1) {
		size_t before = sb->log_len;

		take_log(sb);
		if (sb->log_len == before)
			break;
	}
	return sb->log;
}

/* ------------------------------------------------------------------ calls */

VIREO_API int vireo_sandbox_host_fn(struct vireo_sandbox *sb, const char *name, vireo_host_fn fn,
				    void *ctx)
{
	struct sb_host_fn *free_slot = NULL;
	size_t len = strlen(name);

	if (!len || len > CTL_SANDBOX_NAME_MAX)
		return vireo_fail(EINVAL, "a host function's name is 1..%d bytes",
				  CTL_SANDBOX_NAME_MAX);
	for (unsigned i = 0; i < SB_MAX_HOST_FNS; i++) {
		struct sb_host_fn *f = &sb->fns[i];

		if (f->fn && strcmp(f->name, name) == 0) {
			f->fn = fn;
			f->ctx = ctx;
			return 0;
		}
		if (!f->fn && !free_slot)
			free_slot = f;
	}
	if (!fn)
		return 0;
	if (!free_slot)
		return vireo_fail(ENOSPC, "at most %d host functions", SB_MAX_HOST_FNS);
	memcpy(free_slot->name, name, len + 1);
	free_slot->fn = fn;
	free_slot->ctx = ctx;
	return 0;
}

VIREO_API void vireo_sandbox_on_catch(struct vireo_sandbox *sb, vireo_catch_fn fn, void *ctx)
{
	sb->on_catch = fn;
	sb->catch_ctx = ctx;
}

VIREO_API void vireo_sandbox_budget(struct vireo_sandbox *sb, uint64_t budget_us)
{
	sb->cfg.budget_us = budget_us;
}

struct sb_call {
	uint64_t pc;
	uint64_t args[6];
	unsigned catches, restarts;
	const char *name;
};

static int start_call(struct vireo_sandbox *sb, const struct sb_call *k, bool reset)
{
	struct ctl_sandbox_call c = {
	    .vm = SB_VM,
	    .flags = reset || sb->cfg.reset_each_call ? CTL_SANDBOX_CALL_RESET : 0,
	    .pc = k->pc,
	    .budget_us = sb->cfg.budget_us,
	};
	int rc;

	memcpy(c.args, k->args, sizeof(c.args));
	rc = request(sb, CTL_OP_SANDBOX_CALL, &c, sizeof(c), NULL, 0, NULL);
	return rc < 0 ? rc : 0;
}

static int answer(struct vireo_sandbox *sb, int64_t error, int64_t value)
{
	uint8_t args[24];
	int rc;

	vx_put_u32(args, SB_VM);
	vx_put_u32(args + 4, 0);
	vx_put_u64(args + 8, (uint64_t)error);
	vx_put_u64(args + 16, (uint64_t)value);
	rc = request(sb, CTL_OP_SANDBOX_ANSWER, args, sizeof(args), NULL, 0, NULL);
	return rc < 0 ? rc : 0;
}

/* Resume a caught call with what the handler left in c (orig: what it was given). */
static int resume(struct vireo_sandbox *sb, const struct vireo_catch *c,
		  const struct vireo_catch *orig)
{
	uint8_t args[CTL_SANDBOX_CONTINUE_SIZE + 31 * 8];
	struct ctl_sandbox_continue k = {.vm = SB_VM, .pc = c->pc, .budget_us = c->budget_us};
	bool regs = memcmp(&c->x[1], &orig->x[1], 31 * sizeof(uint64_t)) != 0;
	size_t len = sizeof(k);
	int rc;

	k.flags = (c->pc != orig->pc ? CTL_SANDBOX_CONTINUE_PC : 0) |
		  (regs ? CTL_SANDBOX_CONTINUE_REGS : 0) |
		  (c->budget_us ? CTL_SANDBOX_CONTINUE_BUDGET : 0);
	memcpy(args, &k, sizeof(k)); /* the host is little-endian, like the wire (vireo.h) */
	if (regs) {
		for (unsigned i = 1; i < 32; i++)
			vx_put_u64(args + len + (i - 1) * 8, c->x[i]);
		len += 31 * 8;
	}
	rc = request(sb, CTL_OP_SANDBOX_CONTINUE, args, len, NULL, 0, NULL);
	return rc < 0 ? rc : 0;
}

static const char *why_name(unsigned why)
{
	switch (why) {
	case VIREO_CATCH_FAULT:
		return "a fault";
	case VIREO_CATCH_BREAKPOINT:
		return "a breakpoint";
	case VIREO_CATCH_ILLEGAL:
		return "an illegal instruction";
	case VIREO_CATCH_TIMEOUT:
		return "the time budget ran out";
	case VIREO_CATCH_HOSTCALL:
		return "a call of an unknown host function";
	default:
		return "a catch";
	}
}

/* The handler's decision carried out: 1 the call goes on, 0 over (*rc), < 0 failure. */
static int decide(struct vireo_sandbox *sb, struct sb_call *k, struct vireo_catch *c)
{
	struct vireo_catch orig = *c;
	enum vireo_catch_action act =
	    sb->on_catch ? sb->on_catch(sb, sb->catch_ctx, c) : VIREO_CATCH_ABORT;
	int rc;

	if (sb->dead)
		return -EPIPE;
	switch (act) {
	case VIREO_CATCH_CONTINUE:
		if (c->why == VIREO_CATCH_HOSTCALL)
			return answer(sb, c->hostcall_error ? c->hostcall_error : -2, 0);
		return resume(sb, c, &orig);
	case VIREO_CATCH_RESTART:
		if (++k->restarts > SB_MAX_RESTART)
			break;
		return start_call(sb, k, true);
	case VIREO_CATCH_ABORT:
	default:
		break;
	}
	rc = vireo_sandbox_reset(sb, false);
	if (rc < 0)
		return rc;
	if (act == VIREO_CATCH_RESTART)
		return vireo_fail(ELOOP, "call of '%s' restarted %d times", k->name,
				  SB_MAX_RESTART);
	return vireo_fail(ECANCELED, "call of '%s' aborted at %s, pc 0x%llx (cause %llu)", k->name,
			  why_name(orig.why), (unsigned long long)orig.pc,
			  (unsigned long long)orig.cause);
}

static void caught_from(struct vireo_catch *c, const struct sb_event *e)
{
	struct ctl_sandbox_caught w;

	memset(c, 0, sizeof(*c));
	memcpy(&w, e->data, sizeof(w)); /* little-endian host, like the wire */
	c->why = w.why;
	c->insn = w.insn;
	c->cause = w.cause;
	c->pc = w.pc;
	c->tval = w.tval;
	c->gpa = w.gpa;
	memcpy(c->x, w.x, sizeof(c->x));
	c->x[0] = 0;
}

static int host_call(struct vireo_sandbox *sb, struct sb_call *k, const struct sb_event *e)
{
	struct ctl_sandbox_hostcall h;
	struct vireo_catch c;
	char name[CTL_SANDBOX_NAME_MAX + 1];
	int64_t result = 0;

	memcpy(&h, e->data, sizeof(h));
	if (h.name_len == 0 || h.name_len > CTL_SANDBOX_NAME_MAX || h.name_len > e->len - sizeof(h))
		return gone(sb, "sent a malformed host call");
	memcpy(name, e->data + sizeof(h), h.name_len);
	name[h.name_len] = '\0';
	for (unsigned i = 0; i < SB_MAX_HOST_FNS; i++) {
		const struct sb_host_fn *f = &sb->fns[i];

		if (f->fn && strlen(f->name) == h.name_len &&
		    memcmp(f->name, name, h.name_len) == 0) {
			int err = f->fn(sb, f->ctx, h.args, &result);

			if (sb->dead)
				return -EPIPE;
			return answer(sb, err, err ? 0 : result);
		}
	}
	/* Nobody serves it: a catch like any other. */
	memset(&c, 0, sizeof(c));
	c.why = VIREO_CATCH_HOSTCALL;
	memcpy(c.name, name, h.name_len + 1);
	for (unsigned i = 0; i < 4; i++)
		c.x[12 + i] = h.args[i]; /* a2..a5, where the guest put them */
	c.count = ++k->catches;
	return decide(sb, k, &c);
}

VIREO_API int vireo_sandbox_call(struct vireo_sandbox *sb, const char *name, const uint64_t *args,
				 unsigned nargs, int64_t *result)
{
	struct sb_call k = {.name = name};
	struct sb_event e;
	int rc;

	if (nargs > 6)
		return vireo_fail(E2BIG, "a call takes at most 6 arguments");
	rc = vireo_sandbox_symbol(sb, name, &k.pc, NULL);
	if (rc)
		return rc;
	memcpy(k.args, args, nargs * sizeof(*args));
	rc = start_call(sb, &k, false);
	while (!rc) {
		rc = next_event(sb, &e, INT32_MAX);
		if (rc)
			break;
		if (e.kind == CTL_EVENT_SANDBOX_RETURN && e.len >= 8) {
			if (result)
				*result = (int64_t)vx_get_u64(e.data);
			return 0;
		}
		if (e.kind == CTL_EVENT_SANDBOX_HOSTCALL && e.len >= CTL_SANDBOX_HOSTCALL_SIZE) {
			rc = host_call(sb, &k, &e);
		} else if (e.kind == CTL_EVENT_SANDBOX_CAUGHT && e.len >= CTL_SANDBOX_CAUGHT_SIZE) {
			struct vireo_catch c;

			caught_from(&c, &e);
			c.count = ++k.catches;
			rc = decide(sb, &k, &c);
		} else {
			rc = gone(sb, "sent an event a call does not expect");
		}
	}
	return rc;
}
