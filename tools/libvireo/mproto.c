// SPDX-License-Identifier: BSD-2-Clause
/* Messages between clients and a machine's daemon; see mproto.h. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vireo/vx.h>

#include "mproto.h"

void mp_init(struct mp_msg *m)
{
	memset(m, 0, sizeof(*m));
}

void mp_free(struct mp_msg *m)
{
	free(m->text);
	mp_init(m);
}

void mp_add(struct mp_msg *m, const char *key, const char *fmt, ...)
{
	char *value = NULL;
	va_list ap;
	size_t need;
	int n;

	if (m->failed)
		return;
	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0 || strchr(value, '\n')) {
		free(n < 0 ? NULL : value);
		m->failed = true;
		return;
	}
	need = m->len + strlen(key) + 1 + (size_t)n + 2;
	if (need > MP_MAX) {
		free(value);
		m->failed = true;
		return;
	}
	if (need > m->cap) {
		size_t cap = need * 2 > MP_MAX ? MP_MAX : need * 2;
		char *t = realloc(m->text, cap);

		if (!t) {
			free(value);
			m->failed = true;
			return;
		}
		m->text = t;
		m->cap = cap;
	}
	m->len += (size_t)sprintf(m->text + m->len, "%s=%s\n", key, value);
	free(value);
}

const char *mp_get_nth(const char *text, size_t len, const char *key, unsigned n, char *buf,
		       size_t size)
{
	size_t klen = strlen(key);
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;

		if ((size_t)(line_end - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			if (n-- == 0) {
				size_t vlen = (size_t)(line_end - p) - klen - 1;

				if (vlen >= size)
					return NULL;
				memcpy(buf, p + klen + 1, vlen);
				buf[vlen] = '\0';
				return buf;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return NULL;
}

const char *mp_get(const char *text, size_t len, const char *key, char *buf, size_t size)
{
	return mp_get_nth(text, len, key, 0, buf, size);
}

bool mp_get_u64(const char *text, size_t len, const char *key, uint64_t *out)
{
	char buf[32], *end;

	/* Digits only (strtoull would take spaces, '+' and a '-' that wraps around). */
	if (!mp_get(text, len, key, buf, sizeof(buf)) || !isdigit((unsigned char)buf[0]))
		return false;
	errno = 0;
	*out = strtoull(buf, &end, 0);
	return !*end && !errno;
}

bool mp_get_i64(const char *text, size_t len, const char *key, int64_t *out)
{
	char buf[32], *end;

	if (!mp_get(text, len, key, buf, sizeof(buf)) ||
	    !isdigit((unsigned char)buf[buf[0] == '-']))
		return false;
	errno = 0;
	*out = strtoll(buf, &end, 0);
	return !*end && !errno;
}

bool mp_valid(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	if (len > MP_MAX || memchr(text, '\0', len))
		return false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *k = p;

		if (!nl)
			return false;
		while (k < nl && ((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
				  *k == '_' || *k == '-'))
			k++;
		if (k == p || k == nl || *k != '=')
			return false;
		p = nl + 1;
	}
	return true;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

int mp_send(int fd, uint16_t type, const void *payload, size_t len)
{
	uint8_t hdr[VX_HDR_SIZE];
	const uint8_t *parts[2] = {hdr, payload};
	size_t sizes[2] = {sizeof(hdr), len};

	if (len > MP_MAX)
		return -EMSGSIZE;
	vx_put_hdr(hdr, type, 0, (uint32_t)len);
	for (int i = 0; i < 2; i++) {
		for (size_t done = 0; done < sizes[i];) {
			ssize_t n = send(fd, parts[i] + done, sizes[i] - done, MSG_NOSIGNAL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};

				poll(&p, 1, 1000);
				continue;
			}
			if (n <= 0)
				return n < 0 ? -errno : -EPIPE;
			done += (size_t)n;
		}
	}
	return 0;
}

/* Exactly n bytes, or an error (-ETIMEDOUT when the deadline passes; -EPIPE at EOF). */
static int read_full(int fd, void *buf, size_t n, unsigned long long deadline)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int wait = -1;
		ssize_t r;

		if (deadline) {
			unsigned long long now = now_ms();

			if (now >= deadline)
				return -ETIMEDOUT;
			wait = (int)(deadline - now);
		}
		r = poll(&p, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -ETIMEDOUT;
		r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		got += (size_t)r;
	}
	return 0;
}

int mp_recv(int fd, uint16_t *type, char **payload, size_t *len, int timeout_ms)
{
	unsigned long long deadline = timeout_ms < 0 ? 0 : now_ms() + (unsigned)timeout_ms;
	uint8_t hdr[VX_HDR_SIZE];
	uint32_t n;
	char *p;
	int rc = read_full(fd, hdr, sizeof(hdr), deadline);

	if (rc)
		return rc;
	n = vx_get_u32(hdr);
	if (n > MP_MAX)
		return -EPROTO;
	*type = (uint16_t)(hdr[4] | hdr[5] << 8);
	p = malloc(n + 1);
	if (!p)
		return -ENOMEM;
	rc = read_full(fd, p, n, deadline);
	if (rc) {
		free(p);
		return rc;
	}
	p[n] = '\0';
	*payload = p;
	*len = n;
	return 0;
}
