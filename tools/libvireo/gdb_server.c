// SPDX-License-Identifier: BSD-2-Clause
/* A gdb server for one VM on the loopback; see gdb_server.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vireo/vx.h>

#include "ctl_client.h"
#include "gdb_server.h"
#include "gdb_stub.h"

#define EVENTS	       32
#define REQUEST_MS     15000 /* a request Vireo does not answer in this long: the link is stuck */
#define SEND_TIMEOUT_S 10    /* a debugger that does not read for this long is cut off */
#define OVER_GRACE_MS  2000  /* after detach or the VM's end, the debugger closes; or we do */

struct event {
	int kind; /* 1 stop, 2 the VM ended */
	struct ctl_dbg_stop stop;
	int status;
};

struct gdb_server {
	struct ctl_client *cc;
	uint32_t vm;
	uint16_t port;
	int listen_fd, client_fd;
	int wake[2]; /* events came, or stop */
	pthread_t thread;
	pthread_mutex_t lock;
	struct event events[EVENTS];
	unsigned head, count;
	bool stopping, vm_gone;
	bool done; /* the thread has ended (gdb_server_done) */
	int vm_status;
	struct gdb_stub stub;
	bool stub_live;
	uint8_t rbuf[4096];
};

/* ------------------------------------------------------------------ events (link thread) */

static void push(struct gdb_server *s, const struct event *e)
{
	char b = 1;

	pthread_mutex_lock(&s->lock);
	if (s->count == EVENTS) {
		/* The oldest goes: only the latest stop matters to a debugger. */
		s->head = (s->head + 1) % EVENTS;
		s->count--;
	}
	s->events[(s->head + s->count++) % EVENTS] = *e;
	pthread_mutex_unlock(&s->lock);
	if (write(s->wake[1], &b, 1) < 0) {
		/* Full: the thread is woken already. */
	}
}

static void on_link_event(void *ctx, uint16_t type, uint16_t chan, const uint8_t *p, size_t len)
{
	struct gdb_server *s = ctx;
	struct event e = {0};

	if (type == LINK_VM_EXIT && chan == s->vm && len >= 4) {
		e.kind = 2;
		e.status = (int32_t)vx_get_u32(p);
		pthread_mutex_lock(&s->lock);
		s->vm_gone = true;
		s->vm_status = e.status;
		pthread_mutex_unlock(&s->lock);
		push(s, &e);
		return;
	}
	/* LINK_EVENT: u16 event, u16 0, u32 vm, data. */
	if (type != LINK_EVENT || len < 8 + sizeof(e.stop) || vx_get_u16(p) != CTL_EVENT_DBG_STOP ||
	    vx_get_u32(p + 4) != s->vm)
		return;
	e.kind = 1;
	memcpy(&e.stop, p + 8, sizeof(e.stop)); /* little-endian, as we are */
	push(s, &e);
}

/* ------------------------------------------------------------------ the stub's backend */

static int be_request(void *ctx, uint16_t op, const void *args, uint32_t len, void *reply,
		      uint32_t cap, uint32_t *got)
{
	struct gdb_server *s = ctx;

	return ctl_client_call(s->cc, op, args, len, reply, cap, got, REQUEST_MS);
}

static int be_event(void *ctx, struct ctl_dbg_stop *stop, int *status)
{
	struct gdb_server *s = ctx;
	int kind = 0;

	pthread_mutex_lock(&s->lock);
	if (s->count) {
		struct event *e = &s->events[s->head];

		kind = e->kind;
		*stop = e->stop;
		*status = e->status;
		s->head = (s->head + 1) % EVENTS;
		s->count--;
	}
	pthread_mutex_unlock(&s->lock);
	return kind;
}

static void be_send(void *ctx, const void *bytes, size_t n)
{
	struct gdb_server *s = ctx;
	const uint8_t *p = bytes;

	while (n && s->client_fd >= 0) {
		ssize_t w = send(s->client_fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* Gone, or not reading: the connection ends (the VM is detached). */
			shutdown(s->client_fd, SHUT_RDWR);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static const struct gdb_stub_backend backend = {
    .request = be_request,
    .event = be_event,
    .send = be_send,
};

/* ------------------------------------------------------------------ the thread */

static void drop_events(struct gdb_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->head = s->count = 0;
	pthread_mutex_unlock(&s->lock);
}

static void end_client(struct gdb_server *s)
{
	if (s->stub_live) {
		gdb_stub_end(&s->stub);
		gdb_stub_free(&s->stub);
		s->stub_live = false;
	}
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
}

static void accept_client(struct gdb_server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC), one = 1, rc;
	struct timeval tv = {.tv_sec = SEND_TIMEOUT_S};

	if (fd < 0)
		return;
	if (s->client_fd >= 0 || s->vm_gone) {
		static const char busy[] = "$E10#a6"; /* EBUSY: another debugger has this VM */

		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* It is turned away either way. */
		}
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	s->client_fd = fd;
	drop_events(s);
	rc = gdb_stub_start(&s->stub, &backend, s, s->vm);
	if (rc < 0) {
		fprintf(stderr, "vireo: gdb on port %u: cannot debug VM %u: %s\n", s->port, s->vm,
			strerror(-rc));
		close(fd);
		s->client_fd = -1;
		return;
	}
	s->stub_live = true;
}

static void *server_main(void *arg)
{
	struct gdb_server *s = arg;
	int over_wait = -1;

	for (;;) {
		struct pollfd p[3] = {
		    {.fd = s->listen_fd, .events = POLLIN},
		    {.fd = s->wake[0], .events = POLLIN},
		    {.fd = s->client_fd, .events = POLLIN},
		};
		int n = poll(p, 3, over_wait);

		if (n < 0 && errno != EINTR)
			break;
		if (n == 0 && over_wait >= 0) {
			end_client(s); /* the debugger did not close after the end */
			over_wait = -1;
			continue;
		}
		if (p[1].revents) {
			char b[64];

			while (read(s->wake[0], b, sizeof(b)) > 0)
				;
			/* Events first: the VM's end may come just before the stop (vireo
			 * exec's), and the debugger hears of it. */
			if (s->stub_live)
				gdb_stub_poll(&s->stub);
			else
				drop_events(s);
			pthread_mutex_lock(&s->lock);
			bool stop = s->stopping;

			pthread_mutex_unlock(&s->lock);
			if (stop)
				break;
		}
		if (p[0].revents)
			accept_client(s);
		if (s->client_fd >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = recv(s->client_fd, s->rbuf, sizeof(s->rbuf), MSG_DONTWAIT);

			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				end_client(s);
				over_wait = -1;
				continue;
			}
			if (r > 0 && s->stub_live)
				gdb_stub_feed(&s->stub, s->rbuf, (size_t)r);
		}
		over_wait = s->stub_live && s->stub.over ? OVER_GRACE_MS : -1;
	}
	end_client(s);
	pthread_mutex_lock(&s->lock);
	s->done = true;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ------------------------------------------------------------------ life */

int gdb_server_start(struct gdb_server **out, struct ctl_client *cc, uint32_t vm, uint16_t port,
		     char *err, size_t err_size)
{
	struct gdb_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t alen = sizeof(addr);
	int one = 1, rc;

	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	s->cc = cc;
	s->vm = vm;
	s->client_fd = -1;
	s->wake[0] = s->wake[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0 || pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = -errno;
		snprintf(err, err_size, "cannot make a socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(s->listen_fd, 2) != 0 ||
	    getsockname(s->listen_fd, (struct sockaddr *)&addr, &alen) != 0) {
		rc = -errno;
		snprintf(err, err_size, "cannot listen on 127.0.0.1:%u: %s", port, strerror(errno));
		goto fail;
	}
	s->port = ntohs(addr.sin_port);
	rc = ctl_client_listen(cc, on_link_event, s);
	if (rc) {
		snprintf(err, err_size, "too many gdb servers");
		goto fail;
	}
	rc = -pthread_create(&s->thread, NULL, server_main, s);
	if (rc) {
		ctl_client_unlisten(cc, on_link_event, s);
		snprintf(err, err_size, "cannot start a thread: %s", strerror(-rc));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->wake[0] >= 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
	return rc;
}

uint16_t gdb_server_port(const struct gdb_server *s)
{
	return s->port;
}

void gdb_server_end(struct gdb_server *s)
{
	char b = 1;

	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->lock);
	if (write(s->wake[1], &b, 1) < 0) {
		/* The pipe is full: the thread is woken already. */
	}
}

bool gdb_server_done(struct gdb_server *s)
{
	bool done;

	pthread_mutex_lock(&s->lock);
	done = s->done;
	pthread_mutex_unlock(&s->lock);
	return done;
}

void gdb_server_stop(struct gdb_server *s)
{
	if (!s)
		return;
	gdb_server_end(s);
	pthread_join(s->thread, NULL);
	ctl_client_unlisten(s->cc, on_link_event, s);
	close(s->listen_fd);
	close(s->wake[0]);
	close(s->wake[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
