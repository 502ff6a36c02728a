// SPDX-License-Identifier: BSD-2-Clause
/*
 * A machine's daemon; see machined.h and docs/machine.md.
 *
 * One thread, one poll loop: the link to Vireo (QEMU's virtio console), the
 * socket clients connect to, each client, QEMU's end (a pidfd) and the
 * signals that end the daemon. A client's request runs to its end before
 * the next one is read (Vireo answers one request at a time anyway); while a
 * request waits for Vireo, the loop goes on moving bytes of every channel
 * that has a client attached, so one client's long request stalls no
 * other's program.
 *
 * Flow control, as docs/channel.md has it: on each VM's channel the daemon
 * grants Vireo only the room of that channel's buffer and grants again as a
 * client takes the bytes; it reads a client only as far as Vireo's credit
 * on that channel goes. Nothing grows with a slow reader.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vireo/ctl.h>
#include <vireo/vx.h>

#include "bundle_write.h"
#include "ctl_client.h"
#include "internal.h"
#include "machined.h"
#include "machined_int.h"
#include "mproto.h"
#include "obuf.h"
#include "qemu_run.h"
#include "vm_config.h"

/* ------------------------------------------------------------------ small helpers */

unsigned long long md_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

void md_say(struct daemon *d, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (d->log_fd >= 0 && write(d->log_fd, "vireo-machine: ", 15) == 15 &&
	    write(d->log_fd, line, (size_t)n) < 0)
		return;
}

bool machine_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= MACHINE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    name[i]))
			return false;
	return true;
}

char *machine_root(void)
{
	const char *env = getenv("VIREO_RUNTIME_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	char *root = NULL;
	struct stat st;

	if (env && *env)
		root = strdup(env);
	else if (xdg && *xdg && asprintf(&root, "%s/vireo", xdg) < 0)
		root = NULL;
	else if ((!xdg || !*xdg) && asprintf(&root, "/tmp/vireo-%u", (unsigned)getuid()) < 0)
		root = NULL;
	if (!root)
		return NULL;
	if (mkdir(root, 0700) != 0 && errno != EEXIST) {
		free(root);
		return NULL;
	}
	/* Somebody else's directory there would let them see our sockets. */
	if (lstat(root, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
		free(root);
		errno = EACCES;
		return NULL;
	}
	return root;
}

char *machine_dir(const char *name)
{
	char *root = machine_root(), *dir = NULL;

	if (root && asprintf(&dir, "%s/%s", root, name) < 0)
		dir = NULL;
	free(root);
	return dir;
}

struct mvm *md_vm_by_name(struct daemon *d, const char *name)
{
	for (struct mvm *v = d->vms; v; v = v->next)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

struct mvm *md_vm_by_id(struct daemon *d, unsigned id)
{
	for (struct mvm *v = d->vms; v && id; v = v->next)
		if (v->id == id)
			return v;
	return NULL;
}

void md_vm_free(struct daemon *d, struct mvm *vm)
{
	for (struct mvm **p = &d->vms; *p; p = &(*p)->next) {
		if (*p == vm) {
			*p = vm->next;
			break;
		}
	}
	if (d->tmpl == vm)
		d->tmpl = NULL;
	for (struct mvm *v = d->vms; v; v = v->next)
		if (v->parent == vm)
			v->parent = NULL;
	if (vm->parent && vm->id && vm->parent->forks)
		vm->parent->forks--;
	free(vm->def);
	free(vm->hello);
	free(vm);
}

struct mvm *md_vm_new(struct daemon *d, const char *name)
{
	struct mvm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm->next = d->vms;
	d->vms = vm;
	return vm;
}

/* ------------------------------------------------------------------ the link */

bool md_link_frame(struct daemon *d, uint16_t type, uint16_t chan, const void *p, size_t len)
{
	if (!obuf_frame(&d->link_out, type, chan, p, len)) {
		md_say(d, "the link's queue is full: a frame of type %u dropped", type);
		return false;
	}
	return true;
}

static void grant(struct daemon *d, unsigned ch, uint32_t n)
{
	uint8_t p[4];

	vx_put_u32(p, n);
	if (md_link_frame(d, LINK_CREDIT, (uint16_t)ch, p, 4))
		d->chans[ch].granted += n;
}

void md_chan_reset(struct daemon *d, unsigned ch)
{
	struct chan *c = &d->chans[ch];

	c->open = false;
	c->credit = c->granted = c->owed = 0;
	c->buf.head = c->buf.tail = 0;
	c->client = NULL;
	free(c->preface);
	c->preface = NULL;
	c->preface_len = c->preface_at = 0;
}

/* A whole AG_HELLO frame at the start of what the agent sent: keep a copy. */
static void catch_hello(struct daemon *d, unsigned ch, struct mvm *vm)
{
	struct chan *c = &d->chans[ch];
	const uint8_t *p = obuf_data(&c->buf);
	size_t n = obuf_len(&c->buf);
	uint32_t len;

	if (vm->hello || n < VX_HDR_SIZE || vx_get_u16(p + 4) != AG_HELLO)
		return;
	len = vx_get_u32(p);
	if (len > VX_CONTROL_MAX || n < VX_HDR_SIZE + len)
		return;
	vm->hello = malloc(VX_HDR_SIZE + len);
	if (vm->hello) {
		memcpy(vm->hello, p, VX_HDR_SIZE + len);
		vm->hello_len = VX_HDR_SIZE + len;
	}
}

/* Move Vireo's bytes of a channel to its client; grant what was taken. */
void md_chan_deliver(struct daemon *d, unsigned ch)
{
	struct chan *c = &d->chans[ch];
	struct client *cl = c->client;

	while (cl && !cl->dead && c->preface_at < c->preface_len) {
		ssize_t n = send(cl->fd, c->preface + c->preface_at, c->preface_len - c->preface_at,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			cl->dead = true;
			return;
		}
		c->preface_at += (size_t)n;
	}
	while (cl && !cl->dead && !obuf_empty(&c->buf)) {
		ssize_t n = send(cl->fd, obuf_data(&c->buf), obuf_len(&c->buf),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			/* The client went: what it would have read is dropped, and granted. */
			cl->dead = true;
			n = (ssize_t)obuf_len(&c->buf);
		}
		obuf_consume(&c->buf, (size_t)n);
		c->owed += (uint32_t)n;
	}
	if (c->open && c->owed && (c->owed >= GRANT_BATCH || obuf_empty(&c->buf))) {
		grant(d, ch, c->owed);
		c->owed = 0;
	}
}

/* The daemon's record of a VM that Vireo ended (its channel is reset already). */
void md_vm_ended(struct daemon *d, struct mvm *vm, int status)
{
	if (vm->owner && vm->owner->chan == vm->id)
		vm->owner = NULL;
	if (vm->parent && vm->id && vm->parent->forks)
		vm->parent->forks--;
	vm->id = 0;
	vm->exited = true;
	vm->status = status;
	vm->state = MVM_STOPPED;
	md_say(d, "VM '%s' ended with status %d", vm->name, status);
}

static void on_vm_exit(struct daemon *d, unsigned ch, int status)
{
	struct mvm *vm = md_vm_by_id(d, ch);
	struct chan *c = &d->chans[ch];
	struct client *cl = c->client;

	md_chan_deliver(d, ch);
	if (cl && !cl->dead) {
		/* What it has not taken yet goes with it; then its connection ends. */
		size_t n = obuf_len(&c->buf);
		uint8_t *p = n ? obuf_reserve(&cl->out, n) : NULL;

		if (p) {
			memcpy(p, obuf_data(&c->buf), n);
			obuf_commit(&cl->out, n);
		}
		cl->drain_close = true;
		cl->raw = false;
	}
	md_chan_reset(d, ch);
	md_gdb_vm_ended(d, ch);
	if (!vm) {
		c->early_exit = true;
		c->early_status = status;
		return;
	}
	md_vm_ended(d, vm, status);
	/* Spares short (one ended, or could not be made for want of memory that this VM
	 * frees): the main loop makes them again. */
	if (d->o->spares && !d->refill_at)
		d->refill_at = md_now_ms();
	if (!vm->keep)
		md_vm_free(d, vm);
}

static bool on_link_control(void *ctx, const struct vx_hdr *h, const uint8_t *p)
{
	struct daemon *d = ctx;
	unsigned ch = h->chan;

	if (!d->hello_seen && h->type != LINK_HELLO)
		return false;
	if (ch >= CHANNELS)
		return true;
	switch (h->type) {
	case LINK_HELLO: {
		uint8_t b[8];

		d->hello_seen = true;
		vx_put_u32(b, VX_PROTOCOL_VER);
		vx_put_u32(b + 4, 0);
		md_link_frame(d, LINK_HELLO, 0, b, 8);
		if (d->cc)
			ctl_client_ready(d->cc); /* the gdb servers' requests may go */
		break;
	}
	case LINK_OPEN:
		if (!ch || d->chans[ch].open)
			break;
		d->chans[ch].open = true;
		grant(d, ch, VX_WINDOW);
		break;
	case LINK_CREDIT:
		if (h->len == 4 && ch && d->chans[ch].open)
			d->chans[ch].credit += vx_get_u32(p);
		break;
	case LINK_CLOSE:
		break;
	case LINK_VM_EXIT:
		if (h->len >= 4 && ch) {
			md_gdb_reply(d, LINK_VM_EXIT, (uint16_t)ch, p, h->len);
			on_vm_exit(d, ch, (int32_t)vx_get_u32(p));
		}
		break;
	case LINK_ERROR:
		snprintf(d->link_error, sizeof(d->link_error),
			 "Vireo says the daemon broke the "
			 "link protocol (error %u)",
			 h->len >= 4 ? vx_get_u32(p) : 0);
		md_say(d, "%s", d->link_error);
		break;
	default:
		break;
	}
	return true;
}

static void on_reply(struct daemon *d)
{
	struct pending *w = d->waiting;
	const uint8_t *p = d->reply_buf;

	/* The gdb servers' replies and Vireo's events (their stops) are theirs. */
	if (md_gdb_reply(d, d->reply_type, d->reply_chan, p, d->reply_have))
		return;
	if (d->reply_type == LINK_EVENT || d->reply_have < 8)
		return; /* events (catches) are nothing the daemon itself acts on */
	if (!w || w->done || vx_get_u32(p) != w->id)
		return; /* the reply of a request nobody waits for any more */
	w->result = (int32_t)vx_get_u32(p + 4);
	w->len = d->reply_have - 8;
	w->data = malloc(w->len + 1);
	if (w->data) {
		memcpy(w->data, p + 8, w->len);
		w->data[w->len] = 0;
	} else {
		w->len = 0;
	}
	w->done = true;
}

static bool on_link_data(void *ctx, const struct vx_hdr *h, uint32_t offset, const uint8_t *bytes,
			 size_t n, bool last)
{
	struct daemon *d = ctx;
	unsigned ch = h->chan;

	if (h->type == LINK_REPLY || h->type == LINK_EVENT) {
		/* Replies are up to 4 KiB of data: gathered here, whole. */
		if (offset == 0) {
			d->reply_have = 0;
			d->reply_type = h->type;
			d->reply_chan = h->chan;
		}
		if (h->len > sizeof(d->reply_buf))
			return true;
		memcpy(d->reply_buf + d->reply_have, bytes, n);
		d->reply_have += n;
		if (last)
			on_reply(d);
		return true;
	}
	if (ch == 0 || ch >= CHANNELS || !d->chans[ch].open)
		return true;
	struct chan *c = &d->chans[ch];

	if (offset == 0) {
		if (h->len > c->granted) {
			md_say(d, "Vireo sent %u bytes on channel %u beyond the window of %u",
			       h->len, ch, c->granted);
			c->granted = 0;
		} else {
			c->granted -= h->len;
		}
	}
	if (n) {
		uint8_t *dst = obuf_reserve(&c->buf, n);

		if (!dst)
			return true; /* beyond the window: dropped (said above) */
		memcpy(dst, bytes, n);
		obuf_commit(&c->buf, n);
	}
	if (last) {
		struct mvm *vm = md_vm_by_id(d, ch);

		if (vm && !vm->hello)
			catch_hello(d, ch, vm);
		md_chan_deliver(d, ch);
	}
	return true;
}

static const struct vx_parser_ops link_ops = {on_link_control, on_link_data};

static void read_link(struct daemon *d)
{
	uint8_t buf[64 * 1024];

	for (int round = 0; round < 8; round++) {
		ssize_t n = recv(d->link_fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			d->stopping = true;
			return;
		}
		if (vx_parser_feed(&d->parser, buf, (size_t)n) < (size_t)n || d->parser.error) {
			md_say(d, "Vireo broke the link protocol: %s",
			       vx_error_text(d->parser.error));
			d->stopping = true;
			return;
		}
	}
}

static void write_link(struct daemon *d)
{
	while (!obuf_empty(&d->link_out)) {
		ssize_t n = send(d->link_fd, obuf_data(&d->link_out), obuf_len(&d->link_out),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN)
				d->stopping = true;
			return;
		}
		obuf_consume(&d->link_out, (size_t)n);
	}
}

/* ------------------------------------------------------------------ clients */

static void client_close(struct daemon *d, struct client *cl);

/* A raw client's bytes for its VM, as far as Vireo's credit goes. */
static void read_raw(struct daemon *d, struct client *cl)
{
	struct chan *c = &d->chans[cl->chan];

	while (c->open && c->credit && obuf_room(&d->link_out) > VX_HDR_SIZE + 4096) {
		size_t want = c->credit;
		uint8_t *p;
		ssize_t n;

		if (want > obuf_room(&d->link_out) - VX_HDR_SIZE)
			want = obuf_room(&d->link_out) - VX_HDR_SIZE;
		if (want > VX_MAX_PAYLOAD)
			want = VX_MAX_PAYLOAD;
		p = obuf_reserve(&d->link_out, VX_HDR_SIZE + want);
		if (!p)
			return;
		n = recv(cl->fd, p + VX_HDR_SIZE, want, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			cl->reading_eof = true;
			return;
		}
		vx_put_hdr(p, LINK_DATA, (uint16_t)cl->chan, (uint32_t)n);
		obuf_commit(&d->link_out, VX_HDR_SIZE + (size_t)n);
		c->credit -= (uint32_t)n;
	}
}

static void handle_request(struct daemon *d, struct client *cl, const char *text, size_t len);

/* A client in request mode: frames in, one request at a time. */
static void read_requests(struct daemon *d, struct client *cl)
{
	ssize_t n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		cl->dead = true;
		return;
	}
	cl->in_len += (size_t)n;
	while (cl->in_len >= VX_HDR_SIZE && !cl->dead && !cl->raw) {
		uint32_t len = vx_get_u32(cl->in);
		uint16_t type = vx_get_u16(cl->in + 4);

		if (len > MP_MAX || type != MP_REQUEST) {
			cl->dead = true;
			return;
		}
		if (cl->in_len < VX_HDR_SIZE + len)
			return;
		handle_request(d, cl, (const char *)cl->in + VX_HDR_SIZE, len);
		memmove(cl->in, cl->in + VX_HDR_SIZE + len, cl->in_len - VX_HDR_SIZE - len);
		cl->in_len -= VX_HDR_SIZE + len;
	}
	/* Bytes after the request that made it raw are already its agent stream. */
	if (cl->raw && cl->in_len) {
		struct chan *c = &d->chans[cl->chan];
		size_t k = cl->in_len < c->credit ? cl->in_len : c->credit;

		if (k && md_link_frame(d, LINK_DATA, (uint16_t)cl->chan, cl->in, k)) {
			c->credit -= (uint32_t)k;
			memmove(cl->in, cl->in + k, cl->in_len - k);
			cl->in_len -= k;
		}
	}
}

static void write_client(struct daemon *d, struct client *cl)
{
	while (!cl->dead && !obuf_empty(&cl->out)) {
		ssize_t n = send(cl->fd, obuf_data(&cl->out), obuf_len(&cl->out),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			cl->dead = true;
			return;
		}
		obuf_consume(&cl->out, (size_t)n);
	}
	if (cl->drain_close && obuf_empty(&cl->out))
		cl->dead = true;
	if (cl->raw)
		md_chan_deliver(d, cl->chan);
}

void md_send_reply(struct client *cl, struct mp_msg *m)
{
	if (m->failed) {
		mp_free(m);
		mp_add(m, "error", "%d", ENOMEM);
		mp_add(m, "message", "the reply did not fit");
	}
	if (!obuf_frame(&cl->out, MP_REPLY, 0, m->text ? m->text : "", m->len))
		cl->dead = true;
	mp_free(m);
}

void md_reply_error(struct client *cl, int err, const char *fmt, ...)
{
	struct mp_msg m;
	char text[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (char *p = text; *p; p++)
		if (*p == '\n')
			*p = ' ';
	mp_init(&m);
	mp_add(&m, "error", "%d", err);
	mp_add(&m, "message", "%s", text);
	md_send_reply(cl, &m);
}

static void accept_client(struct daemon *d)
{
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct client *cl;

	if (fd < 0)
		return;
	if (d->nclients >= MAX_CLIENTS) {
		/* More would let one process hold the daemon's descriptors hostage. */
		close(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl || obuf_init(&cl->out, CLIENT_OUT_CAP)) {
		free(cl);
		close(fd);
		return;
	}
	cl->fd = fd;
	cl->next = d->clients;
	d->clients = cl;
	d->nclients++;
}

static void client_close(struct daemon *d, struct client *cl)
{
	for (struct client **p = &d->clients; *p; p = &(*p)->next) {
		if (*p == cl) {
			*p = cl->next;
			break;
		}
	}
	d->nclients--;
	if (cl->raw && d->chans[cl->chan].client == cl) {
		d->chans[cl->chan].client = NULL;
		/* A program's VM goes with its client. */
		struct mvm *vm = md_vm_by_id(d, cl->chan);

		if (vm && vm->exec)
			md_vm_destroy_async(d, vm->id, STATUS_KILLED);
	}
	for (struct mvm *vm = d->vms; vm; vm = vm->next)
		if (vm->owner == cl)
			vm->owner = NULL;
	close(cl->fd);
	obuf_free(&cl->out);
	free(cl);
}

/* ------------------------------------------------------------------ the loop */

enum { FIXED_LINK, FIXED_LISTEN, FIXED_SIG, FIXED_QEMU, FIXED_GDB, FIXED_N };

static void take_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		d->stopping = true;
}

static void reap_qemu(struct daemon *d)
{
	int st;

	if (d->qemu && waitpid(d->qemu, &st, WNOHANG) == d->qemu) {
		d->qemu_status = st;
		d->qemu_gone = true;
		d->qemu = 0;
		d->stopping = true;
	}
}

/*
 * One round of the loop. `requests`: read clients' requests too (the main loop);
 * a request waiting for Vireo runs rounds without, so that no request starts inside
 * another. Clients that went are freed only in the main loop (a request may hold one).
 */
void md_pump(struct daemon *d, int timeout, bool requests)
{
	struct pollfd p[FIXED_N + MAX_CLIENTS];
	struct client *who[MAX_CLIENTS];
	unsigned n = FIXED_N, nc = 0;

	for (unsigned i = 0; i < FIXED_N; i++)
		p[i] = (struct pollfd){.fd = -1};
	p[FIXED_LINK].fd = d->link_fd;
	p[FIXED_LINK].events = (short)(POLLIN | (obuf_empty(&d->link_out) ? 0 : POLLOUT));
	p[FIXED_LISTEN].fd = requests ? d->listen_fd : -1;
	p[FIXED_LISTEN].events = POLLIN;
	p[FIXED_SIG].fd = d->sig_fd;
	p[FIXED_SIG].events = POLLIN;
	p[FIXED_QEMU].fd = d->qemu_pidfd;
	p[FIXED_QEMU].events = POLLIN;
	p[FIXED_GDB].fd = d->cc ? ctl_client_wake_fd(d->cc) : -1;
	p[FIXED_GDB].events = POLLIN;
	for (struct client *cl = d->clients; cl && nc < MAX_CLIENTS; cl = cl->next) {
		short ev = 0;

		if (cl->dead)
			continue;
		if (cl->raw) {
			struct chan *c = &d->chans[cl->chan];

			if (!cl->reading_eof && c->open && c->credit)
				ev |= POLLIN;
			if (!obuf_empty(&c->buf) || c->preface_at < c->preface_len)
				ev |= POLLOUT;
		} else if (requests && !cl->drain_close) {
			ev |= POLLIN;
		}
		if (!obuf_empty(&cl->out))
			ev |= POLLOUT;
		p[n] = (struct pollfd){.fd = cl->fd, .events = ev};
		who[nc++] = cl;
		n++;
	}
	if (poll(p, n, timeout) < 0 && errno != EINTR)
		return;
	if (p[FIXED_SIG].revents)
		take_signals(d);
	if (p[FIXED_QEMU].revents || d->qemu_pidfd < 0)
		reap_qemu(d);
	if (p[FIXED_LINK].revents & (POLLIN | POLLHUP | POLLERR))
		read_link(d);
	for (unsigned i = 0; i < nc; i++) {
		struct client *cl = who[i];
		short rev = p[FIXED_N + i].revents;

		if (cl->dead)
			continue;
		if (rev & POLLOUT)
			write_client(d, cl);
		if (rev & (POLLIN | POLLHUP | POLLERR)) {
			if (cl->raw && (rev & (POLLHUP | POLLERR)) && !(rev & POLLIN))
				cl->dead = true;
			else if (cl->raw)
				read_raw(d, cl);
			else if (requests && !cl->drain_close)
				read_requests(d, cl);
			else if (rev & (POLLHUP | POLLERR))
				cl->dead = true;
		}
		/* A raw client that closed its side is done with its VM. */
		if (cl->raw && cl->reading_eof)
			cl->dead = true;
	}
	if (p[FIXED_LISTEN].revents & POLLIN)
		accept_client(d);
	md_gdb_pump(d);
	write_link(d);
	if (requests) {
		for (struct client *cl = d->clients, *next; cl; cl = next) {
			next = cl->next;
			/* Its VM ended with nothing left to tell it: no POLLOUT would close it. */
			if (cl->drain_close && obuf_empty(&cl->out))
				cl->dead = true;
			if (cl->dead)
				client_close(d, cl);
		}
	}
}

/* ------------------------------------------------------------------ requests to Vireo */

/*
 * Ask Vireo and wait for the answer (moving everyone's bytes meanwhile). Returns the
 * result (>= 0) or a negative errno; *data (malloc'ed, may be NULL) and *len are the
 * reply's data: on an error, Vireo's reason in words, put in why when given.
 */
int md_vreq(struct daemon *d, uint16_t op, const void *args, size_t len, uint8_t **data,
	    size_t *dlen, char *why, size_t why_size)
{
	uint8_t frame[8 + CTL_ARGS_MAX];
	struct pending w = {.id = ++d->next_req};
	unsigned long long deadline = md_now_ms() + REQUEST_WAIT_MS;

	if (data)
		*data = NULL;
	if (why && why_size)
		why[0] = '\0';
	if (len > CTL_ARGS_MAX)
		return -EINVAL;
	vx_put_u32(frame, w.id);
	vx_put_u16(frame + 4, op);
	vx_put_u16(frame + 6, 0);
	if (len)
		memcpy(frame + 8, args, len);
	if (!md_link_frame(d, LINK_REQUEST, 0, frame, 8 + len))
		return -EAGAIN;
	d->waiting = &w;
	while (!w.done && !d->stopping && md_now_ms() < deadline) {
		write_link(d);
		md_pump(d, 50, false);
	}
	d->waiting = NULL;
	if (!w.done) {
		if (why)
			snprintf(why, why_size, "%s",
				 d->stopping ? "the machine is stopping"
					     : "Vireo did not answer in time");
		return d->stopping ? -ESHUTDOWN : -ETIMEDOUT;
	}
	if (w.result < 0 && why && w.len)
		snprintf(why, why_size, "%.*s", (int)w.len, (const char *)w.data);
	else if (w.result < 0 && why)
		snprintf(why, why_size, "%s", strerror(-w.result));
	if (data)
		*data = w.data;
	else
		free(w.data);
	if (dlen)
		*dlen = w.len;
	return w.result;
}

void md_vm_destroy_async(struct daemon *d, unsigned id, int status)
{
	uint8_t a[8], frame[16];

	vx_put_u32(a, id);
	vx_put_u32(a + 4, (uint32_t)status);
	vx_put_u32(frame, ++d->next_req);
	vx_put_u16(frame + 4, CTL_OP_VM_DESTROY);
	vx_put_u16(frame + 6, 0);
	memcpy(frame + 8, a, 8);
	md_link_frame(d, LINK_REQUEST, 0, frame, sizeof(frame));
}

int md_vreq_vm(struct daemon *d, uint16_t op, unsigned id, char *why, size_t size)
{
	uint8_t a[4];

	vx_put_u32(a, id);
	return md_vreq(d, op, a, 4, NULL, NULL, why, size);
}

/* Where host-physical [hpa, hpa + len) is in our mapping of the RAM, or NULL. */
uint8_t *md_ram_at(struct daemon *d, uint64_t hpa, uint64_t len)
{
	if (!d->ram || hpa < d->ram_base || hpa - d->ram_base > d->ram_size ||
	    len > d->ram_size - (hpa - d->ram_base))
		return NULL;
	return d->ram + (hpa - d->ram_base);
}

/* A blob of size bytes; its id, and where it is in our mapping. */
int md_blob_alloc(struct daemon *d, uint64_t size, uint32_t *id, uint8_t **at, char *why,
		  size_t why_size)
{
	uint8_t a[8], *r = NULL;
	size_t rlen = 0;
	int rc;

	vx_put_u64(a, size);
	rc = md_vreq(d, CTL_OP_BLOB_ALLOC, a, 8, &r, &rlen, why, why_size);
	if (rc == 0 && rlen >= 24) {
		*id = vx_get_u32(r);
		*at = md_ram_at(d, vx_get_u64(r + 8), size);
		if (!*at) {
			snprintf(why, why_size, "Vireo put a blob outside the machine's RAM");
			rc = -EFAULT;
		}
	} else if (rc == 0) {
		rc = -EPROTO;
	}
	free(r);
	return rc;
}

void md_blob_free(struct daemon *d, uint32_t id)
{
	uint8_t a[4];

	vx_put_u32(a, id);
	md_vreq(d, CTL_OP_BLOB_FREE, a, 4, NULL, NULL, NULL, 0);
}

/* The blob holding this file (loaded once, while it does not change). */
static int md_image_blob(struct daemon *d, const char *path, uint32_t *blob, char *why,
			 size_t why_size)
{
	struct stat st;
	struct image *im;
	uint8_t *at;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = -errno;
		snprintf(why, why_size, "%s: %s", path, fd < 0 ? strerror(errno) : "not a file");
		if (fd >= 0)
			close(fd);
		return rc ? rc : -EINVAL;
	}
	for (im = d->images; im; im = im->next) {
		if (im->dev == st.st_dev && im->ino == st.st_ino && im->size == st.st_size &&
		    im->mtime.tv_sec == st.st_mtim.tv_sec &&
		    im->mtime.tv_nsec == st.st_mtim.tv_nsec) {
			close(fd);
			*blob = im->blob;
			return 0;
		}
	}
	rc = md_blob_alloc(d, (uint64_t)st.st_size, blob, &at, why, why_size);
	for (off_t done = 0; rc == 0 && done < st.st_size;) {
		ssize_t n = pread(fd, at + done, (size_t)(st.st_size - done), done);

		if (n <= 0) {
			snprintf(why, why_size, "%s: %s", path, n ? strerror(errno) : "shrank");
			md_blob_free(d, *blob);
			rc = -EIO;
		}
		done += n > 0 ? n : 0;
	}
	close(fd);
	if (rc)
		return rc;
	im = calloc(1, sizeof(*im));
	if (im) {
		im->path = strdup(path);
		im->dev = st.st_dev;
		im->ino = st.st_ino;
		im->size = st.st_size;
		im->mtime = st.st_mtim;
		im->blob = *blob;
		im->next = d->images;
		d->images = im;
	}
	return 0;
}

/* ------------------------------------------------------------------ VM definitions */

/* The definition text of a VM from a request: [vm NAME] with its keys. */
static char *definition(struct daemon *d, const char *text, size_t len, const char *name, char *why,
			size_t why_size)
{
	static const char *const keys[] = {"kernel", "initrd",	   "memory",  "vcpus",
					   "harts",  "disk",	   "console", "testdev",
					   "rtc",    "rtc_offset", "bootargs"};
	char *out = NULL, value[4096];
	size_t olen = 0;
	FILE *fp = open_memstream(&out, &olen);

	if (!fp) {
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	fprintf(fp, "[machine]\nharts = %u\nmemory = %lluM\n", d->o->harts,
		(unsigned long long)(d->o->memory >> 20));
	for (unsigned i = 0; i < d->o->ndisks; i++)
		fprintf(fp, "disk = %s\n", d->o->disks[i]);
	fprintf(fp, "[vm %s]\n", name);
	if (!mp_get(text, len, "kernel", value, sizeof(value)))
		fprintf(fp, "kernel = %s\n", d->kernel);
	if (!mp_get(text, len, "kernel", value, sizeof(value)) &&
	    !mp_get(text, len, "initrd", value, sizeof(value)) && d->initramfs)
		fprintf(fp, "initrd = %s\n", d->initramfs);
	if (!mp_get(text, len, "bootargs", value, sizeof(value)) &&
	    !mp_get(text, len, "kernel", value, sizeof(value)))
		fprintf(fp, "bootargs = %s\n", DEFAULT_BOOTARGS);
	if (!mp_get(text, len, "vcpus", value, sizeof(value)))
		fprintf(fp, "vcpus = 1\n");
	if (!mp_get(text, len, "memory", value, sizeof(value)))
		fprintf(fp, "memory = %lluM\n", DEFAULT_EXEC_MEM >> 20);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (mp_get(text, len, keys[i], value, sizeof(value)))
			fprintf(fp, "%s = %s\n", keys[i], value);
	fclose(fp);
	return out;
}

/* Parse a definition into cfg (one VM), checked as `vireo check` would. */
static int parse_definition(const char *def, struct vm_config *cfg, char *why, size_t why_size)
{
	/* fmemopen wants a writable buffer even to read. */
	char *copy = strdup(def);
	FILE *fp = copy ? fmemopen(copy, strlen(copy), "r") : NULL;
	int rc;

	vm_config_init(cfg);
	if (!fp) {
		free(copy);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	rc = vm_config_parse_stream(cfg, fp, "the VM", "/");
	fclose(fp);
	free(copy);
	if (!rc)
		rc = vm_config_finish(cfg, false);
	if (rc) {
		snprintf(why, why_size, "%s", vm_config_error(cfg));
		vm_config_free(cfg);
		return -EINVAL;
	}
	return 0;
}

/* VM_CREATE's arguments (struct ctl_vm_create) for a parsed VM. */
static size_t create_args(uint8_t *a, const struct vm_config_vm *v, uint32_t kernel,
			  uint32_t initrd, uint32_t flags, const char *name)
{
	size_t nb = strlen(v->bootargs);

	memset(a, 0, CTL_VM_CREATE_SIZE);
	if (v->testdev)
		flags |= CTL_VMC_TESTDEV;
	if (!v->console)
		flags |= CTL_VMC_NO_CONSOLE;
	if (v->rtc == VM_CONFIG_RTC_OFF)
		flags |= CTL_VMC_NO_RTC;
	if (v->disk.present)
		flags |= CTL_VMC_DISK | (v->disk.readonly ? CTL_VMC_DISK_RO : 0);
	vx_put_u32(a, flags);
	vx_put_u32(a + 4, v->vcpus);
	vx_put_u64(a + 8, v->memory);
	vx_put_u64(a + 16, v->hart_mask);
	vx_put_u32(a + 24, kernel);
	vx_put_u32(a + 28, initrd);
	vx_put_u32(a + 32, v->disk.host);
	vx_put_u64(a + 40, v->disk.whole ? 0 : v->disk.first_sector);
	vx_put_u64(a + 48, v->disk.whole ? 0 : v->disk.sectors);
	vx_put_u64(a + 56, (uint64_t)v->rtc_offset);
	snprintf((char *)a + 64, 32, "%s", name);
	vx_put_u16(a + 108, (uint16_t)nb);
	memcpy(a + CTL_VM_CREATE_SIZE, v->bootargs, nb);
	return CTL_VM_CREATE_SIZE + nb;
}

/* Make (and, with start, start) a VM from its definition: Vireo's id, or -errno. */
/* End one spare that no exec has taken, to free its memory; false if there is none. */
static bool drop_spare(struct daemon *d)
{
	for (struct mvm *vm = d->vms; vm; vm = vm->next) {
		if (vm->spare && vm->id && !d->chans[vm->id].client) {
			char name[MACHINE_NAME_MAX];
			unsigned id = vm->id;
			uint8_t a[8];

			snprintf(name, sizeof(name), "%s", vm->name);
			vx_put_u32(a, id);
			vx_put_u32(a + 4, STATUS_KILLED);
			md_say(d, "spare VM '%s' ends to make room", name);
			if (md_vreq(d, CTL_OP_VM_DESTROY, a, 8, NULL, NULL, NULL, 0) < 0)
				return false;
			md_wait_end(d, name, id);
			return true;
		}
	}
	return false;
}

static int md_boot_vm(struct daemon *d, struct mvm *vm, bool start, char *why, size_t why_size)
{
	struct vm_config cfg;
	uint8_t args[CTL_VM_CREATE_SIZE + BUNDLE_ARGS_MAX];
	uint32_t kernel = 0, initrd = 0;
	size_t len;
	int rc = parse_definition(vm->def, &cfg, why, why_size);

	if (rc)
		return rc;
	rc = md_image_blob(d, cfg.vms[0].kernel, &kernel, why, why_size);
	if (!rc && cfg.vms[0].initrd)
		rc = md_image_blob(d, cfg.vms[0].initrd, &initrd, why, why_size);
	if (!rc) {
		len = create_args(args, &cfg.vms[0], kernel, initrd, start ? CTL_VMC_START : 0,
				  vm->name);
		for (unsigned ch = 0; ch < CHANNELS; ch++)
			d->chans[ch].early_exit = false;
		rc = md_vreq(d, CTL_OP_VM_CREATE, args, len, NULL, NULL, why, why_size);
		/* Spares only wait: one makes room for a VM asked for (and comes back later). */
		while (rc == -ENOMEM && !vm->spare && drop_spare(d)) {
			for (unsigned ch = 0; ch < CHANNELS; ch++)
				d->chans[ch].early_exit = false;
			rc = md_vreq(d, CTL_OP_VM_CREATE, args, len, NULL, NULL, why, why_size);
		}
	}
	/* The channel was reset when its last VM ended; what came for this one before the
	 * reply (LINK_OPEN, its exit) is its own. */
	if (rc > 0) {
		vm->id = (unsigned)rc;
		vm->state = start ? MVM_RUNNING : MVM_CREATED;
		vm->memory = cfg.vms[0].memory;
		vm->vcpus = cfg.vms[0].vcpus;
		vm->exited = false;
		vm->origin = ORIGIN_BOOT;
		memcpy(vm->cargs, args, CTL_VM_CREATE_SIZE);
		memset(vm->cargs + 24, 0, 8); /* its blobs are not the copy's */
		vx_put_u32(vm->cargs, vx_get_u32(args) & ~(uint32_t)CTL_VMC_START);
		vx_put_u16(vm->cargs + 108, 0);
		vm->cargs_set = true;
		if (rc < CHANNELS && d->chans[rc].early_exit)
			md_vm_ended(d, vm, d->chans[rc].early_status);
	}
	vm_config_free(&cfg);
	return rc;
}

/* Wait until the VM's agent said hello (or the VM ended, or time ran out). */
static int md_wait_hello(struct daemon *d, struct mvm *vm, unsigned long long ms, char *why,
			 size_t why_size)
{
	unsigned long long deadline = md_now_ms() + ms;
	char name[MACHINE_NAME_MAX];

	snprintf(name, sizeof(name), "%s", vm->name);
	while (!d->stopping && md_now_ms() < deadline) {
		vm = md_vm_by_name(d, name);
		if (!vm || !vm->id) {
			snprintf(why, why_size, "VM '%s' ended before its agent said hello", name);
			return -ECHILD;
		}
		if (vm->hello)
			return 0;
		md_pump(d, 50, false);
	}
	snprintf(why, why_size, "no hello from VM '%s''s agent", name);
	return -ETIMEDOUT;
}

/* ------------------------------------------------------------------ requests */

bool md_request_name(const char *text, size_t len, char *name, struct client *cl)
{
	if (!mp_get(text, len, "name", name, MACHINE_NAME_MAX) || !machine_name_ok(name)) {
		md_reply_error(cl, EINVAL, "a VM name is 1..31 of A-Z a-z 0-9 . _ -");
		return false;
	}
	return true;
}

struct mvm *md_request_vm(struct daemon *d, const char *text, size_t len, struct client *cl)
{
	char name[MACHINE_NAME_MAX];
	struct mvm *vm;

	if (!md_request_name(text, len, name, cl))
		return NULL;
	vm = md_vm_by_name(d, name);
	if (!vm)
		md_reply_error(cl, ENOENT, "no VM '%s' in this machine", name);
	return vm;
}

static unsigned spares_ready(struct daemon *d)
{
	unsigned n = 0;

	for (struct mvm *vm = d->vms; vm; vm = vm->next)
		n += vm->spare && vm->id && vm->hello && vm->state == MVM_RUNNING &&
		     !d->chans[vm->id].client;
	return n;
}

static void op_info(struct daemon *d, struct client *cl)
{
	uint8_t *r = NULL;
	size_t rlen = 0;
	struct mp_msg m;
	int rc = md_vreq(d, CTL_OP_MACHINE_INFO, NULL, 0, &r, &rlen, NULL, 0);

	mp_init(&m);
	mp_add(&m, "ok", "1");
	mp_add(&m, "name", "%s", d->o->name);
	mp_add(&m, "pid", "%d", (int)getpid());
	mp_add(&m, "harts", "%u", d->o->harts);
	mp_add(&m, "memory", "%llu", (unsigned long long)d->o->memory);
	mp_add(&m, "template", "%s", d->tmpl ? d->tmpl->name : "");
	mp_add(&m, "spares", "%u", d->o->spares);
	mp_add(&m, "spares_ready", "%u", spares_ready(d));
	if (rc == 0 && rlen >= CTL_MACHINE_INFO_SIZE) {
		mp_add(&m, "free", "%llu", (unsigned long long)vx_get_u64(r + 24));
		mp_add(&m, "limit", "%llu", (unsigned long long)vx_get_u64(r + 32));
		mp_add(&m, "committed", "%llu", (unsigned long long)vx_get_u64(r + 40));
		mp_add(&m, "vms", "%u", vx_get_u32(r + 48));
		mp_add(&m, "blobs", "%u", vx_get_u32(r + 56));
	}
	free(r);
	md_send_reply(cl, &m);
}

static void op_vm_list(struct daemon *d, struct client *cl)
{
	struct mp_msg m;

	mp_init(&m);
	mp_add(&m, "ok", "1");
	for (struct mvm *vm = d->vms; vm; vm = vm->next)
		mp_add(&m, "vm", "%s %u %s %s %u %llu %d %d", vm->name, vm->id,
		       state_names[vm->state], vm->spare ? "spare" : origin_names[vm->origin],
		       vm->vcpus, (unsigned long long)vm->memory, vm->exited ? vm->status : -1,
		       vm->hello != NULL);
	md_send_reply(cl, &m);
}

static void op_vm_create(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	char name[MACHINE_NAME_MAX], why[512];
	uint64_t start = 0;
	struct vm_config cfg;
	struct mvm *vm;
	struct mp_msg m;
	char *def;
	int rc;

	if (!md_request_name(text, len, name, cl))
		return;
	if (md_vm_by_name(d, name)) {
		md_reply_error(cl, EEXIST, "there is a VM '%s' already", name);
		return;
	}
	mp_get_u64(text, len, "start", &start);
	def = definition(d, text, len, name, why, sizeof(why));
	if (!def || parse_definition(def, &cfg, why, sizeof(why))) {
		free(def);
		md_reply_error(cl, EINVAL, "%s", why);
		return;
	}
	vm_config_free(&cfg);
	vm = md_vm_new(d, name);
	if (!vm) {
		free(def);
		md_reply_error(cl, ENOMEM, "out of memory");
		return;
	}
	vm->def = def;
	vm->keep = true;
	rc = md_boot_vm(d, vm, start != 0, why, sizeof(why));
	if (rc < 0) {
		md_vm_free(d, vm);
		md_reply_error(cl, -rc, "%s", why);
		return;
	}
	mp_init(&m);
	mp_add(&m, "ok", "1");
	mp_add(&m, "id", "%u", vm->id);
	md_send_reply(cl, &m);
}

void md_reply_ok(struct client *cl)
{
	struct mp_msg m;

	mp_init(&m);
	mp_add(&m, "ok", "1");
	md_send_reply(cl, &m);
}

static void op_vm_start(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	struct mvm *vm = md_request_vm(d, text, len, cl);
	char why[512];
	int rc;

	if (!vm)
		return;
	if (vm->state == MVM_CREATED) {
		char name[MACHINE_NAME_MAX];
		unsigned id = vm->id;

		snprintf(name, sizeof(name), "%s", vm->name);
		rc = md_vreq_vm(d, CTL_OP_VM_START, id, why, sizeof(why));
		vm = md_vm_by_name(d, name);
		if (rc < 0 && vm && vm->id == id && vm->origin == ORIGIN_RESTORE) {
			/* A restored state Vireo refused: that VM is gone (docs/channel.md). */
			md_vm_destroy_async(d, id, STATUS_KILLED);
			md_forget_ended(d, name, id, STATUS_KILLED);
			vm = md_vm_by_name(d, name);
			if (vm)
				md_vm_free(d, vm);
		}
		if (rc < 0) {
			md_reply_error(cl, -rc, "%s", why);
			return;
		}
		/* A short guest may have ended (LINK_VM_EXIT) before the reply came. */
		vm = md_vm_by_name(d, name);
		if (vm && vm->id == id && vm->state == MVM_CREATED)
			vm->state = MVM_RUNNING;
	} else if (vm->state == MVM_STOPPED && vm->def) {
		rc = md_boot_vm(d, vm, true, why, sizeof(why));
		if (rc < 0) {
			md_reply_error(cl, -rc, "%s", why);
			return;
		}
	} else if (vm->state == MVM_STOPPED) {
		md_reply_error(cl, EINVAL,
			       "VM '%s' was not booted: it cannot be started again "
			       "(restore its snapshot)",
			       vm->name);
		return;
	} else {
		md_reply_error(cl, EBUSY, "VM '%s' is %s", vm->name, state_phrases[vm->state]);
		return;
	}
	md_reply_ok(cl);
}

/* Wait until the VM has ended (LINK_VM_EXIT). */
void md_wait_end(struct daemon *d, const char *name, unsigned id)
{
	unsigned long long deadline = md_now_ms() + REQUEST_WAIT_MS;

	while (!d->stopping && md_now_ms() < deadline) {
		struct mvm *vm = md_vm_by_name(d, name);

		if (!vm || vm->id != id)
			return;
		md_pump(d, 50, false);
	}
}

/* Vireo knows no VM id any more: it ended on its own while we asked, and its exit is on
 * the link still (or, should it never come, the daemon stops waiting for it). */
void md_forget_ended(struct daemon *d, const char *name, unsigned id, int status)
{
	unsigned long long deadline = md_now_ms() + 1000;
	struct mvm *vm;

	while ((vm = md_vm_by_name(d, name)) && vm->id == id && md_now_ms() < deadline)
		md_pump(d, 50, false);
	if (vm && vm->id == id) {
		md_chan_reset(d, id);
		md_vm_ended(d, vm, status);
	}
}

static void op_vm_stop(struct daemon *d, struct client *cl, const char *text, size_t len, bool rm)
{
	struct mvm *vm = md_request_vm(d, text, len, cl);
	char name[MACHINE_NAME_MAX], why[512];
	int64_t status = STATUS_KILLED;
	uint8_t a[8];
	int rc;

	if (!vm)
		return;
	mp_get_i64(text, len, "status", &status);
	snprintf(name, sizeof(name), "%s", vm->name);
	if (vm->id) {
		unsigned id = vm->id;

		if (vm->forks && !rm) {
			md_reply_error(cl, EBUSY,
				       "VM '%s' is the template of %u forks: it is not stopped, "
				       "only removed (vm rm)",
				       name, vm->forks);
			return;
		}
		vx_put_u32(a, id);
		vx_put_u32(a + 4, (uint32_t)status);
		rc = md_vreq(d, CTL_OP_VM_DESTROY, a, 8, NULL, NULL, why, sizeof(why));
		if (rc == -ENOENT)
			md_forget_ended(d, name, id, (int)status);
		else if (rc < 0) {
			md_reply_error(cl, -rc, "%s", why);
			return;
		}
		md_wait_end(d, name, id);
	}
	vm = md_vm_by_name(d, name);
	if (rm && vm)
		md_vm_free(d, vm);
	md_reply_ok(cl);
}

static void op_vm_pause(struct daemon *d, struct client *cl, const char *text, size_t len,
			bool pause)
{
	struct mvm *vm = md_request_vm(d, text, len, cl);
	char why[512];
	int rc;

	if (!vm)
		return;
	if (vm->state != (pause ? MVM_RUNNING : MVM_PAUSED) &&
	    !(pause && vm->state == MVM_PAUSED)) {
		md_reply_error(cl, EBUSY, "VM '%s' is %s", vm->name, state_phrases[vm->state]);
		return;
	}
	rc = md_vreq_vm(d, pause ? CTL_OP_VM_PAUSE : CTL_OP_VM_RESUME, vm->id, why, sizeof(why));
	if (rc < 0) {
		md_reply_error(cl, -rc, "%s", why);
		return;
	}
	vm->state = pause ? MVM_PAUSED : MVM_RUNNING;
	md_reply_ok(cl);
}

/* Bind the client to the VM's channel: from now on its socket is the VM's agent. */
void md_go_raw(struct daemon *d, struct client *cl, struct mvm *vm, bool replay_hello)
{
	struct chan *c = &d->chans[vm->id];
	struct mp_msg m;

	mp_init(&m);
	mp_add(&m, "ok", "1");
	mp_add(&m, "id", "%u", vm->id);
	mp_add(&m, "name", "%s", vm->name);
	md_send_reply(cl, &m);
	/* The reply goes out first: the agent's bytes follow it on the socket. */
	write_client(d, cl);
	if (!obuf_empty(&cl->out)) {
		/* A client that does not read its reply gets no stream. */
		cl->dead = true;
		return;
	}
	if (replay_hello && vm->hello) {
		c->preface = malloc(vm->hello_len);
		if (c->preface) {
			memcpy(c->preface, vm->hello, vm->hello_len);
			c->preface_len = vm->hello_len;
			c->preface_at = 0;
		}
	}
	cl->raw = true;
	cl->chan = vm->id;
	c->client = cl;
	vm->owner = cl;
	md_chan_deliver(d, vm->id);
}

/* Boot spare VMs up to the number asked for; one that cannot be made (no memory, say) is
 * tried again at the next exec. */
static void refill_spares(struct daemon *d)
{
	unsigned have = 0;
	char why[512];

	for (struct mvm *vm = d->vms; vm; vm = vm->next)
		have += vm->spare && vm->id;
	while (have < d->o->spares && !d->stopping) {
		char name[MACHINE_NAME_MAX];
		struct mvm *vm;
		char *def;

		snprintf(name, sizeof(name), "spare-%u", ++d->spare_seq);
		def = definition(d, "", 0, name, why, sizeof(why));
		vm = def ? md_vm_new(d, name) : NULL;
		if (!vm) {
			free(def);
			return;
		}
		vm->def = def;
		vm->spare = true;
		if (md_boot_vm(d, vm, true, why, sizeof(why)) < 0) {
			md_say(d, "no spare VM: %s", why);
			md_vm_free(d, vm);
			return;
		}
		have++;
	}
}

/*
 * Making a VM keeps Vireo busy for a while (its RAM is cleared, its images loaded), and
 * the exec that took a spare would wait behind that: a new spare is made once no exec's
 * VM runs, or SPARE_DELAY_MS after one was taken, whichever comes first.
 */
static void spares_maybe(struct daemon *d)
{
	bool exec_alive = false;

	if (!d->refill_at)
		return;
	for (struct mvm *vm = d->vms; vm; vm = vm->next)
		exec_alive |= vm->exec && vm->id;
	if (exec_alive && md_now_ms() < d->refill_at + SPARE_DELAY_MS)
		return;
	d->refill_at = 0;
	refill_spares(d);
}

/* A spare whose agent has said hello and that nobody took yet; NULL if none is ready. */
static struct mvm *ready_spare(struct daemon *d)
{
	for (struct mvm *vm = d->vms; vm; vm = vm->next)
		if (vm->spare && vm->id && vm->hello && vm->state == MVM_RUNNING &&
		    !d->chans[vm->id].client)
			return vm;
	return NULL;
}

static void op_exec(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	char name[MACHINE_NAME_MAX], why[512], value[64];
	uint64_t fresh = 0;
	struct mvm *vm;
	int rc;

	mp_get_u64(text, len, "fresh", &fresh);
	/* Anything but the template's own shape boots afresh. */
	if (mp_get(text, len, "kernel", value, sizeof(value)) ||
	    mp_get(text, len, "initrd", value, sizeof(value)) ||
	    mp_get(text, len, "bootargs", value, sizeof(value)) ||
	    mp_get(text, len, "disk", value, sizeof(value)))
		fresh = 1;
	if (!fresh && d->tmpl) {
		uint64_t mem = d->tmpl->memory, vcpus = d->tmpl->vcpus, v;

		if (mp_get_u64(text, len, "memory", &v) && v != mem)
			fresh = 1;
		if (mp_get_u64(text, len, "vcpus", &v) && v != vcpus)
			fresh = 1;
	}
	snprintf(name, sizeof(name), "exec-%u", ++d->exec_seq);
	/* A spare has exec's defaults: a command that sets memory or vCPUs at all boots. */
	if (!fresh && !mp_get(text, len, "memory", value, sizeof(value)) &&
	    !mp_get(text, len, "vcpus", value, sizeof(value)) && (vm = ready_spare(d))) {
		/* Its hello waits in the channel's buffer: the client reads it first. */
		snprintf(vm->name, sizeof(vm->name), "%s", name);
		vm->spare = false;
		vm->exec = true;
		md_go_raw(d, cl, vm, false);
		d->refill_at = md_now_ms();
		return;
	}
	if (!fresh && d->tmpl && !d->no_fork) {
		uint64_t limit = 0;

		mp_get_u64(text, len, "mem_limit", &limit);
		rc = md_fork_vm(d, d->tmpl, name, true, limit, why, sizeof(why));
		vm = rc > 0 ? md_vm_by_name(d, name) : NULL;
		if (vm && vm->id) {
			vm->exec = true;
			md_say(d, "exec: VM '%s' is a fork of the template", name);
			md_go_raw(d, cl, vm, true);
			return;
		}
		/* No fork (Vireo cannot, or no memory for it): the command boots its VM. */
		if (rc == -ENOSYS)
			d->no_fork = true;
		if (vm)
			md_vm_free(d, vm);
		md_say(d, "exec: no fork of the template (%s): VM '%s' boots",
		       rc < 0 ? why : "it ended at once", name);
	}
	char *def = definition(d, text, len, name, why, sizeof(why));

	vm = def ? md_vm_new(d, name) : NULL;
	if (!vm) {
		free(def);
		md_reply_error(cl, ENOMEM, "out of memory");
		return;
	}
	vm->def = def;
	vm->exec = true;
	rc = md_boot_vm(d, vm, true, why, sizeof(why));
	if (rc < 0) {
		md_vm_free(d, vm);
		md_reply_error(cl, -rc, "%s", why);
		return;
	}
	md_go_raw(d, cl, vm, false);
	if (d->o->spares && !d->refill_at)
		d->refill_at = md_now_ms();
}

static void op_attach(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	struct mvm *vm = md_request_vm(d, text, len, cl);

	if (!vm)
		return;
	if (!vm->id || vm->state == MVM_TEMPLATE || vm->state == MVM_STOPPED) {
		md_reply_error(cl, EBUSY, "VM '%s' is %s", vm->name, state_phrases[vm->state]);
		return;
	}
	if (d->chans[vm->id].client) {
		md_reply_error(cl, EBUSY, "VM '%s' has a client already", vm->name);
		return;
	}
	/* Its agent spoke before: a client that comes later hears the hello again. */
	md_go_raw(d, cl, vm, obuf_empty(&d->chans[vm->id].buf));
}

static void handle_request(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	char op[32];

	if (!mp_valid(text, len) || !mp_get(text, len, "op", op, sizeof(op))) {
		md_reply_error(cl, EPROTO, "a request is lines key=value, the first op=NAME");
		return;
	}
	if (d->stopping) {
		md_reply_error(cl, ESHUTDOWN, "the machine is stopping");
		return;
	}
	if (strcmp(op, "info") == 0)
		op_info(d, cl);
	else if (strcmp(op, "vm-list") == 0)
		op_vm_list(d, cl);
	else if (strcmp(op, "vm-create") == 0)
		op_vm_create(d, cl, text, len);
	else if (strcmp(op, "vm-start") == 0)
		op_vm_start(d, cl, text, len);
	else if (strcmp(op, "vm-stop") == 0)
		op_vm_stop(d, cl, text, len, false);
	else if (strcmp(op, "vm-rm") == 0)
		op_vm_stop(d, cl, text, len, true);
	else if (strcmp(op, "vm-pause") == 0)
		op_vm_pause(d, cl, text, len, true);
	else if (strcmp(op, "vm-resume") == 0)
		op_vm_pause(d, cl, text, len, false);
	else if (strcmp(op, "vm-snapshot") == 0)
		md_op_vm_snapshot(d, cl, text, len);
	else if (strcmp(op, "vm-restore") == 0)
		md_op_vm_restore(d, cl, text, len);
	else if (strcmp(op, "vm-fork") == 0)
		md_op_vm_fork(d, cl, text, len);
	else if (strcmp(op, "exec") == 0)
		op_exec(d, cl, text, len);
	else if (strcmp(op, "attach") == 0)
		op_attach(d, cl, text, len);
	else if (strcmp(op, "vm-gdb") == 0)
		md_op_vm_gdb(d, cl, text, len);
	else if (strcmp(op, "stop") == 0) {
		md_reply_ok(cl);
		write_client(d, cl);
		d->stopping = true;
	} else
		md_reply_error(cl, ENOSYS, "no operation '%s'", op);
}

/* ------------------------------------------------------------------ start and end */

static int fail_start(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_start(struct daemon *d, const char *fmt, ...)
{
	char text[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	md_say(d, "%s", text);
	if (d->o->ready_fd >= 0) {
		dprintf(d->o->ready_fd, "error: %s\n", text);
		close(d->o->ready_fd);
	}
	return 2;
}

/* The lock of the machine's directory: held for the daemon's life. A held lock means the
 * name is taken; a free one left behind is a daemon that was killed: its files go. */
static int take_lock(struct daemon *d)
{
	char pid[32];
	int n;

	d->lock_fd = open(d->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return fail_start(d, "%s: %s", d->lock_path, strerror(errno));
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		n = (int)pread(d->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(d->lock_fd);
		d->lock_fd = -1;
		return fail_start(d, "machine '%s' is running already (pid %s)", d->o->name,
				  pid[0] ? pid : "?");
	}
	unlink(d->sock_path);
	unlink(d->log_path);
	if (ftruncate(d->lock_fd, 0) == 0)
		dprintf(d->lock_fd, "%d\n", (int)getpid());
	return 0;
}

static int start_qemu(struct daemon *d, int link_qemu, int bundle_fd)
{
	char *extra[1] = {NULL}, **argv;
	const char *disks[MACHINE_MAX_DISKS];
	pid_t parent = getpid();
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	for (unsigned i = 0; i < d->o->ndisks; i++)
		disks[i] = d->o->disks[i];
	if (asprintf(&extra[0],
		     "-object memory-backend-file,id=vireo-ram,size=%lluM,mem-path=/proc/self/fd/5,"
		     "share=on -machine memory-backend=vireo-ram",
		     (unsigned long long)(d->ram_size >> 20)) < 0)
		return -ENOMEM;
	argv = qemu_run_argv(&(struct qemu_run_opts){
	    .qemu = d->o->qemu ? d->o->qemu : QEMU_RUN_DEFAULT_QEMU,
	    .cpu = VM_CONFIG_DEFAULT_CPU,
	    .harts = d->o->harts,
	    .memory = d->ram_size,
	    .kernel = d->o->hypervisor,
	    .initrd = "/proc/self/fd/4",
	    .disks = disks,
	    .disks_ro = d->o->disks_ro,
	    .ndisks = d->o->ndisks,
	    .link_fd = 3,
	    .agent_fd = -1,
	    .extra = (const char *const *)extra,
	    .nextra = 1,
	});
	free(extra[0]);
	d->qemu = fork();
	if (d->qemu == 0) {
		/* Async-signal-safe from here: the daemon has one thread, but md_say so anyway. */
		int src[6] = {devnull, d->log_fd, d->log_fd, link_qemu, bundle_fd, d->ram_fd};

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(125);
		for (int i = 0; i < 6; i++)
			if ((src[i] = fcntl(src[i], F_DUPFD, 16)) < 0)
				_exit(125);
		for (int i = 0; i < 6; i++)
			if (dup2(src[i], i) < 0)
				_exit(125);
		for (int fd = 6; fd < 1024; fd++)
			close(fd);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[0], argv);
		_exit(127);
	}
	qemu_run_free_argv(argv);
	if (devnull >= 0)
		close(devnull);
	if (d->qemu < 0)
		return -errno;
	d->qemu_pidfd = (int)syscall(SYS_pidfd_open, d->qemu, 0);
	return 0;
}

/* The boot bundle of a machine: no VM, machine mode. */
static int write_bundle(struct daemon *d)
{
	struct vm_config cfg;
	char *err = NULL;
	int fd = memfd_create("vireo-bundle", MFD_CLOEXEC);
	FILE *fp;
	int rc = 0;

	if (fd < 0)
		return -errno;
	vm_config_init(&cfg);
	cfg.machine_mode = true;
	cfg.machine.harts = d->o->harts;
	cfg.machine.memory = d->ram_size;
	fp = fdopen(dup(fd), "wb");
	if (!fp || bundle_write(&cfg, BUNDLE_MACHINE, fp, "the boot bundle", &err) != 0)
		rc = -EIO;
	if (fp && fclose(fp) != 0)
		rc = -EIO;
	if (rc)
		md_say(d, "the boot bundle: %s", err ? err : strerror(errno));
	free(err);
	vm_config_free(&cfg);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* One fork of the new template, ended at once: a Vireo that cannot fork says so now, not
 * at the first exec, and the template's memory goes back to the machine. */
static int probe_fork(struct daemon *d, struct mvm *tmpl, char *why, size_t why_size)
{
	int rc = md_fork_vm(d, tmpl, "template-probe", false, 0, why, why_size);
	struct mvm *probe = md_vm_by_name(d, "template-probe");

	if (probe && probe->id) {
		unsigned id = probe->id;
		uint8_t a[8];

		vx_put_u32(a, id);
		vx_put_u32(a + 4, STATUS_KILLED);
		if (md_vreq(d, CTL_OP_VM_DESTROY, a, 8, NULL, NULL, NULL, 0) >= 0)
			md_wait_end(d, "template-probe", id);
	}
	probe = md_vm_by_name(d, "template-probe");
	if (probe)
		md_vm_free(d, probe);
	if (rc == -ENOSYS)
		d->no_fork = true;
	return rc < 0 ? rc : 0;
}

/* Boot the template exec forks: a VM of Vireo's Linux whose agent waits for a host. */
static int make_template(struct daemon *d, char *why, size_t why_size)
{
	struct mvm *vm = md_vm_new(d, "template");
	char *def = NULL;
	int rc;

	if (!vm)
		return -ENOMEM;
	if (asprintf(&def,
		     "[machine]\nharts = %u\nmemory = %lluM\n[vm template]\nkernel = %s\n"
		     "initrd = %s\nmemory = %lluM\nvcpus = %u\nbootargs = %s\n",
		     d->o->harts, (unsigned long long)(d->o->memory >> 20), d->kernel, d->initramfs,
		     (unsigned long long)(d->o->template_memory >> 20), d->o->template_vcpus,
		     DEFAULT_BOOTARGS) < 0) {
		md_vm_free(d, vm);
		return -ENOMEM;
	}
	vm->def = def;
	vm->keep = true;
	rc = md_boot_vm(d, vm, true, why, why_size);
	if (rc < 0) {
		md_vm_free(d, vm);
		return rc;
	}
	rc = md_wait_hello(d, vm, BOOT_WAIT_MS, why, why_size);
	vm = md_vm_by_name(d, "template");
	if (!rc && vm)
		rc = md_vreq_vm(d, CTL_OP_VM_PAUSE, vm->id, why, why_size);
	if (rc < 0)
		return rc;
	/* Its hello is the forks' now: nobody reads the template's channel. */
	obuf_consume(&d->chans[vm->id].buf, obuf_len(&d->chans[vm->id].buf));
	md_chan_deliver(d, vm->id);
	vm->state = MVM_TEMPLATE;
	d->tmpl = vm;
	return probe_fork(d, vm, why, why_size);
}

static int set_up(struct daemon *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int sv[2], bundle, rc;
	sigset_t sigs;
	uint8_t *r = NULL;
	size_t rlen = 0;
	char why[512];

	if (take_lock(d))
		return 2;
	d->log_fd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (strlen(d->sock_path) >= sizeof(sa.sun_path))
		return fail_start(d, "socket path too long: %s", d->sock_path);
	strcpy(sa.sun_path, d->sock_path);
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d->listen_fd < 0 || bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(d->listen_fd, 16) != 0)
		return fail_start(d, "%s: %s", d->sock_path, strerror(errno));
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	/* The machine's RAM: a memory file QEMU maps, and so do we. */
	d->ram_size = d->o->memory;
	d->ram_fd = memfd_create("vireo-ram", MFD_CLOEXEC);
	if (d->ram_fd < 0 || ftruncate(d->ram_fd, (off_t)d->ram_size) != 0)
		return fail_start(d, "the machine's memory: %s", strerror(errno));
	d->ram = mmap(NULL, d->ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->ram_fd, 0);
	if (d->ram == MAP_FAILED) {
		d->ram = NULL;
		return fail_start(d, "mapping the machine's memory: %s", strerror(errno));
	}
	bundle = write_bundle(d);
	if (bundle < 0)
		return fail_start(d, "cannot write the boot bundle");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return fail_start(d, "socketpair: %s", strerror(errno));
	/* QEMU's console port drops what its socket cannot take: room for every channel. */
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &(int){8 << 20}, sizeof(int));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &(int){8 << 20}, sizeof(int));
	d->link_fd = sv[0];
	rc = start_qemu(d, sv[1], bundle);
	close(sv[1]);
	close(bundle);
	if (rc)
		return fail_start(d, "cannot start QEMU: %s", strerror(-rc));
	/* Vireo's hello, then what kind of machine it is. */
	{
		unsigned long long deadline = md_now_ms() + 60000;

		while (!d->hello_seen && !d->stopping && md_now_ms() < deadline)
			md_pump(d, 100, false);
	}
	if (!d->hello_seen)
		return fail_start(d, "no hello from Vireo (see %s)", d->log_path);
	rc = md_vreq(d, CTL_OP_MACHINE_INFO, NULL, 0, &r, &rlen, why, sizeof(why));
	if (rc < 0 || rlen < CTL_MACHINE_INFO_SIZE || !(vx_get_u32(r + 4) & CTL_MACHINE_MODE)) {
		free(r);
		return fail_start(d, "Vireo is not in machine mode (%s)", rc < 0 ? why : "flags");
	}
	d->ram_base = vx_get_u64(r + 8);
	free(r);
	if (!d->o->no_template && !md_can_fork(d)) {
		d->no_fork = true;
		md_say(d, "no template: this Vireo cannot fork VMs (ENOSYS); every exec boots");
	} else if (!d->o->no_template && (!d->kernel || !d->initramfs)) {
		md_say(d, "no template: no default kernel or initramfs");
	} else if (!d->o->no_template) {
		/* A machine without its template still runs VMs: exec boots them. */
		rc = make_template(d, why, sizeof(why));
		if (rc < 0) {
			struct mvm *t = md_vm_by_name(d, "template");

			md_say(d, "no template: %s; every exec boots", why);
			d->tmpl = NULL;
			if (t && t->id) {
				t->keep = false; /* forgotten once it ended */
				md_vm_destroy_async(d, t->id, STATUS_KILLED);
			} else if (t) {
				md_vm_free(d, t);
			}
		}
	}
	refill_spares(d);
	return 0;
}

static void tear_down(struct daemon *d)
{
	uint8_t a[4] = {0};
	unsigned long long deadline;

	md_gdb_fini(d); /* each debugger's connection ends; the VMs end below */
	/* Vireo powers off (ending every VM); QEMU gets a moment, then the kill. */
	if (d->qemu && !d->qemu_gone && d->hello_seen) {
		md_link_frame(d, LINK_REQUEST, 0,
			      (uint8_t[]){1, 0, 0, 0, (uint8_t)CTL_OP_POWER_OFF,
					  CTL_OP_POWER_OFF >> 8, 0, 0, a[0], a[1], a[2], a[3]},
			      12);
		write_link(d);
		deadline = md_now_ms() + 3000;
		while (!d->qemu_gone && md_now_ms() < deadline) {
			struct pollfd p = {.fd = d->qemu_pidfd, .events = POLLIN};

			poll(&p, 1, 50);
			reap_qemu(d);
		}
	}
	if (d->qemu && !d->qemu_gone) {
		kill(d->qemu, SIGKILL);
		waitpid(d->qemu, NULL, 0);
	}
	for (struct client *cl = d->clients, *next; cl; cl = next) {
		next = cl->next;
		client_close(d, cl);
	}
	while (d->vms)
		md_vm_free(d, d->vms);
	while (d->images) {
		struct image *im = d->images;

		d->images = im->next;
		free(im->path);
		free(im);
	}
	if (d->ram)
		munmap(d->ram, d->ram_size);
	unlink(d->sock_path);
	unlink(d->log_path);
	unlink(d->lock_path);
	rmdir(d->dir);
}

int machined_main(const struct machined_opts *o)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return 2;
	d->o = o;
	d->lock_fd = d->listen_fd = d->link_fd = d->sig_fd = d->qemu_pidfd = d->ram_fd = d->log_fd =
	    -1;
	for (unsigned i = 0; i < CHANNELS; i++)
		if (obuf_init(&d->chans[i].buf, VX_WINDOW))
			return 2;
	vx_parser_init(&d->parser, &link_ops, d,
		       1u << LINK_DATA | 1u << LINK_REPLY | 1u << LINK_EVENT);
	if (obuf_init(&d->link_out, LINK_OUT_CAP))
		return 2;
	d->dir = machine_dir(o->name);
	if (!d->dir || (mkdir(d->dir, 0700) != 0 && errno != EEXIST)) {
		fprintf(stderr, "vireo: the machine's directory: %s\n", strerror(errno));
		return 2;
	}
	if (asprintf(&d->sock_path, "%s/ctl.sock", d->dir) < 0 ||
	    asprintf(&d->lock_path, "%s/lock", d->dir) < 0 ||
	    asprintf(&d->log_path, "%s/console.log", d->dir) < 0)
		return 2;
	d->kernel = o->kernel ? realpath(o->kernel, NULL)
			      : vm_default_file("VIREO_KERNEL", "linux/Image", "Image");
	d->initramfs = o->initramfs ? realpath(o->initramfs, NULL)
				    : vm_default_file("VIREO_INITRAMFS", "linux/initramfs.cpio",
						      "initramfs.cpio");
	rc = md_gdb_init(d) ? 2 : set_up(d);
	if (rc == 0 && (!d->kernel || !d->initramfs) && o->no_template)
		md_say(d, "no default kernel or initramfs: VMs must name theirs");
	if (rc == 0) {
		md_say(d, "machine '%s' ready (pid %d)", o->name, (int)getpid());
		if (o->ready_fd >= 0) {
			dprintf(o->ready_fd, "ok\n");
			close(o->ready_fd);
		}
		bool gdb_ending = false;

		while (!d->stopping) {
			md_pump(d, d->refill_at || gdb_ending ? SPARE_POLL_MS : -1, true);
			spares_maybe(d);
			gdb_ending = md_gdb_reap(d);
		}
		md_say(d, "machine '%s' stops", o->name);
	}
	if (rc != 2 || d->lock_fd >= 0)
		tear_down(d);
	return rc ? rc : 0;
}
