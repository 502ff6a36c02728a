// SPDX-License-Identifier: BSD-2-Clause
/* A client of Vireo's control plane, and a link served for it alone; see ctl_client.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vireo/ctl.h>
#include <vireo/vx.h>

#include "ctl_client.h"
#include "link.h"

#define MAX_LISTENERS 16
#define REQ_HDR	      8 /* u32 id, u16 op, u16 flags */
#define REPLY_HDR     8 /* u32 id, i32 result */

struct call {
	struct call *next;
	uint32_t id;
	bool queued; /* not yet on the link */
	bool done;
	int result;
	uint8_t *reply;
	uint32_t cap, got;
	uint32_t frame_len;
	uint8_t frame[REQ_HDR + CTL_ARGS_MAX];
};

struct ctl_client {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct call *calls; /* waiting for their replies, oldest first */
	uint32_t next_id;
	bool ready, closed;
	int wake[2];
	struct {
		ctl_client_listener fn;
		void *ctx;
	} listeners[MAX_LISTENERS];
};

struct ctl_client *ctl_client_new(void)
{
	struct ctl_client *cc = calloc(1, sizeof(*cc));

	if (!cc)
		return NULL;
	if (pipe2(cc->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(cc);
		return NULL;
	}
	pthread_mutex_init(&cc->lock, NULL);
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cc->cond, &ca);
	pthread_condattr_destroy(&ca);
	cc->next_id = 1;
	return cc;
}

void ctl_client_free(struct ctl_client *cc)
{
	if (!cc)
		return;
	close(cc->wake[0]);
	close(cc->wake[1]);
	pthread_cond_destroy(&cc->cond);
	pthread_mutex_destroy(&cc->lock);
	free(cc);
}

void ctl_client_first_id(struct ctl_client *cc, uint32_t id)
{
	pthread_mutex_lock(&cc->lock);
	cc->next_id = id;
	pthread_mutex_unlock(&cc->lock);
}

int ctl_client_listen(struct ctl_client *cc, ctl_client_listener fn, void *ctx)
{
	int rc = -ENOSPC;

	pthread_mutex_lock(&cc->lock);
	for (unsigned i = 0; i < MAX_LISTENERS; i++) {
		if (!cc->listeners[i].fn) {
			cc->listeners[i].fn = fn;
			cc->listeners[i].ctx = ctx;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&cc->lock);
	return rc;
}

void ctl_client_unlisten(struct ctl_client *cc, ctl_client_listener fn, void *ctx)
{
	pthread_mutex_lock(&cc->lock);
	for (unsigned i = 0; i < MAX_LISTENERS; i++)
		if (cc->listeners[i].fn == fn && cc->listeners[i].ctx == ctx)
			cc->listeners[i].fn = NULL;
	pthread_mutex_unlock(&cc->lock);
}

static void wake(struct ctl_client *cc)
{
	char b = 1;

	if (write(cc->wake[1], &b, 1) < 0) {
		/* Full: the link's thread is woken already. */
	}
}

static void unlink_call(struct ctl_client *cc, struct call *c)
{
	for (struct call **p = &cc->calls; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			return;
		}
	}
}

int ctl_client_call(struct ctl_client *cc, uint16_t op, const void *args, uint32_t len, void *reply,
		    uint32_t cap, uint32_t *got, unsigned timeout_ms)
{
	struct call *c;
	struct timespec until;
	int rc = 0;

	*got = 0;
	if (len > CTL_ARGS_MAX)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	c->reply = reply;
	c->cap = cap;
	pthread_mutex_lock(&cc->lock);
	if (cc->closed) {
		pthread_mutex_unlock(&cc->lock);
		free(c);
		return -EPIPE;
	}
	c->id = cc->next_id++;
	vx_put_u32(c->frame, c->id);
	vx_put_u16(c->frame + 4, op);
	vx_put_u16(c->frame + 6, 0);
	if (len)
		memcpy(c->frame + REQ_HDR, args, len);
	c->frame_len = REQ_HDR + len;
	c->queued = true;
	/* At the end: requests go out in the order they were made. */
	struct call **tail = &cc->calls;

	while (*tail)
		tail = &(*tail)->next;
	*tail = c;
	wake(cc);
	while (!c->done && !cc->closed && rc == 0)
		rc = pthread_cond_timedwait(&cc->cond, &cc->lock, &until);
	if (c->done) {
		rc = c->result;
		*got = c->got;
	} else {
		rc = cc->closed ? -EPIPE : -ETIMEDOUT;
	}
	unlink_call(cc, c);
	pthread_mutex_unlock(&cc->lock);
	free(c);
	return rc;
}

int ctl_client_wake_fd(const struct ctl_client *cc)
{
	return cc->wake[0];
}

void ctl_client_drain_wake(struct ctl_client *cc)
{
	char b[64];

	while (read(cc->wake[0], b, sizeof(b)) > 0)
		;
}

void ctl_client_ready(struct ctl_client *cc)
{
	pthread_mutex_lock(&cc->lock);
	cc->ready = true;
	pthread_mutex_unlock(&cc->lock);
	wake(cc);
}

void ctl_client_take(struct ctl_client *cc, struct obuf *out)
{
	pthread_mutex_lock(&cc->lock);
	for (struct call *c = cc->calls; cc->ready && c; c = c->next) {
		if (!c->queued)
			continue;
		if (!obuf_frame(out, LINK_REQUEST, 0, c->frame, c->frame_len))
			break;
		c->queued = false;
	}
	pthread_mutex_unlock(&cc->lock);
}

static void on_reply(struct ctl_client *cc, const uint8_t *p, size_t len)
{
	uint32_t id;

	if (len < REPLY_HDR)
		return;
	id = vx_get_u32(p);
	pthread_mutex_lock(&cc->lock);
	for (struct call *c = cc->calls; c; c = c->next) {
		if (c->id != id || c->queued || c->done)
			continue;
		c->result = (int32_t)vx_get_u32(p + 4);
		c->got = (uint32_t)(len - REPLY_HDR < c->cap ? len - REPLY_HDR : c->cap);
		if (c->got)
			memcpy(c->reply, p + REPLY_HDR, c->got);
		c->done = true;
		pthread_cond_broadcast(&cc->cond);
		break;
	}
	/* A reply nobody waits for (its caller timed out) is dropped. */
	pthread_mutex_unlock(&cc->lock);
}

void ctl_client_frame(struct ctl_client *cc, uint16_t type, uint16_t chan, const uint8_t *payload,
		      size_t len)
{
	struct {
		ctl_client_listener fn;
		void *ctx;
	} to[MAX_LISTENERS];

	if (type == LINK_REPLY) {
		on_reply(cc, payload, len);
		return;
	}
	if (type != LINK_EVENT && type != LINK_VM_EXIT)
		return;
	pthread_mutex_lock(&cc->lock);
	memcpy(to, cc->listeners, sizeof(to));
	pthread_mutex_unlock(&cc->lock);
	for (unsigned i = 0; i < MAX_LISTENERS; i++)
		if (to[i].fn)
			to[i].fn(to[i].ctx, type, chan, payload, len);
}

void ctl_client_closed(struct ctl_client *cc)
{
	pthread_mutex_lock(&cc->lock);
	cc->closed = true;
	pthread_cond_broadcast(&cc->cond);
	pthread_mutex_unlock(&cc->lock);
}

/* ------------------------------------------------------------------ a link of its own */

struct ctl_link {
	int fd;
	int stop[2];
	pthread_t thread;
	struct ctl_client *cc;
	struct lk_core lk;
	struct obuf out;
	bool failed;
	uint8_t rbuf[64 * 1024];
};

static void on_hello(void *ctx, uint32_t version, uint32_t flags)
{
	struct ctl_link *l = ctx;

	(void)version;
	(void)flags;
	if (!lk_hello(&l->lk))
		l->failed = true;
	ctl_client_ready(l->cc);
}

/* A guest that opens its agent port gets no window here: it waits, harmlessly. */
static void on_open(void *ctx, uint32_t vm_id, const char *name, size_t len)
{
	(void)ctx;
	(void)vm_id;
	(void)name;
	(void)len;
}

static void on_data(void *ctx, const uint8_t *bytes, size_t n)
{
	(void)ctx;
	(void)bytes;
	(void)n;
}

static void on_close(void *ctx)
{
	(void)ctx;
}

static void on_vm_exit(void *ctx, int32_t status, const char *reason, size_t len)
{
	(void)ctx;
	(void)status;
	(void)reason;
	(void)len;
}

static void on_error(void *ctx, uint32_t code, const char *text, size_t len)
{
	struct ctl_link *l = ctx;

	(void)code;
	(void)text;
	(void)len;
	l->failed = true;
}

static void on_control(void *ctx, uint16_t type, uint16_t chan, const uint8_t *payload, size_t len)
{
	struct ctl_link *l = ctx;

	ctl_client_frame(l->cc, type, chan, payload, len);
}

static const struct lk_ops link_ops = {
    .hello = on_hello,
    .open = on_open,
    .data = on_data,
    .close = on_close,
    .vm_exit = on_vm_exit,
    .error = on_error,
    .control = on_control,
};

static bool flush(struct ctl_link *l)
{
	while (!obuf_empty(&l->out)) {
		ssize_t n =
		    send(l->fd, obuf_data(&l->out), obuf_len(&l->out), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		obuf_consume(&l->out, (size_t)n);
	}
	return true;
}

static void *link_main(void *arg)
{
	struct ctl_link *l = arg;

	while (!l->failed) {
		struct pollfd p[3] = {
		    {.fd = l->fd, .events = POLLIN | (obuf_empty(&l->out) ? 0 : POLLOUT)},
		    {.fd = ctl_client_wake_fd(l->cc), .events = POLLIN},
		    {.fd = l->stop[0], .events = POLLIN},
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[2].revents)
			break;
		if (p[1].revents)
			ctl_client_drain_wake(l->cc);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(l->fd, l->rbuf, sizeof(l->rbuf), MSG_DONTWAIT);

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (n > 0 && !lk_feed(&l->lk, l->rbuf, (size_t)n))
				break;
		}
		ctl_client_take(l->cc, &l->out);
		if (!flush(l))
			break;
	}
	ctl_client_closed(l->cc);
	return NULL;
}

int ctl_link_start(struct ctl_link **out, int fd, struct ctl_client *cc)
{
	struct ctl_link *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->fd = fd;
	l->cc = cc;
	if (obuf_init(&l->out, 256 * 1024) || pipe2(l->stop, O_CLOEXEC) != 0) {
		obuf_free(&l->out);
		free(l);
		return -ENOMEM;
	}
	/* Channel 0 is Vireo's own: no VM's agent channel is served here. */
	lk_init(&l->lk, &link_ops, l, &l->out, 0);
	err = pthread_create(&l->thread, NULL, link_main, l);
	if (err) {
		close(l->stop[0]);
		close(l->stop[1]);
		obuf_free(&l->out);
		free(l);
		return -err;
	}
	*out = l;
	return 0;
}

void ctl_link_stop(struct ctl_link *l)
{
	char b = 1;

	if (!l)
		return;
	if (write(l->stop[1], &b, 1) < 0) {
		/* The thread sees the pipe's other end close below at the latest. */
	}
	pthread_join(l->thread, NULL);
	close(l->stop[0]);
	close(l->stop[1]);
	close(l->fd);
	obuf_free(&l->out);
	free(l);
}
