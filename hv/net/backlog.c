// SPDX-License-Identifier: BSD-2-Clause
/* A port's fair, bounded backlog; see vireo/net_backlog.h. */
#include <vireo/net_backlog.h>
#include <vireo/string.h>

_Static_assert(NET_BACKLOG_SLOTS < NET_BACKLOG_NONE, "slot numbers fit a byte");

static uint8_t *slot(const struct net_backlog *b, unsigned i)
{
	return b->store + (size_t)i * NET_BACKLOG_SLOT;
}

void net_backlog_clear(struct net_backlog *b)
{
	for (unsigned i = 0; i < NET_BACKLOG_SLOTS; i++)
		b->next[i] = (uint8_t)(i + 1 < NET_BACKLOG_SLOTS ? i + 1 : NET_BACKLOG_NONE);
	b->free = 0;
	for (unsigned s = 0; s < NET_BACKLOG_SOURCES; s++) {
		b->head[s] = b->tail[s] = NET_BACKLOG_NONE;
		b->count[s] = 0;
	}
	b->total = 0;
	b->rr = 0;
}

void net_backlog_init(struct net_backlog *b, uint8_t *store)
{
	memset(b, 0, sizeof(*b));
	b->store = store;
	net_backlog_clear(b);
}

/* Unlink the oldest frame of source s and put its slot on the free list. */
static void drop_head(struct net_backlog *b, unsigned s)
{
	uint8_t i = b->head[s];

	b->head[s] = b->next[i];
	if (b->head[s] == NET_BACKLOG_NONE)
		b->tail[s] = NET_BACKLOG_NONE;
	b->count[s]--;
	b->total--;
	b->next[i] = b->free;
	b->free = i;
}

/* The source with the most frames waiting (the first of them from index 0). */
static unsigned longest(const struct net_backlog *b)
{
	unsigned best = 0;

	for (unsigned s = 1; s < NET_BACKLOG_SOURCES; s++)
		if (b->count[s] > b->count[best])
			best = s;
	return best;
}

bool net_backlog_push(struct net_backlog *b, unsigned src, const struct net_frame *f)
{
	uint8_t i;

	if (src >= NET_BACKLOG_SOURCES || f->len > NET_BACKLOG_SLOT) {
		b->dropped++;
		return false;
	}
	if (b->free == NET_BACKLOG_NONE) {
		unsigned victim = longest(b);

		b->dropped++;
		if (b->count[src] >= b->count[victim])
			return false;
		drop_head(b, victim);
	}
	i = b->free;
	b->free = b->next[i];
	b->len[i] = (uint16_t)net_frame_read(f, 0, slot(b, i), f->len);
	b->next[i] = NET_BACKLOG_NONE;
	if (b->tail[src] == NET_BACKLOG_NONE)
		b->head[src] = i;
	else
		b->next[b->tail[src]] = i;
	b->tail[src] = i;
	b->count[src]++;
	b->total++;
	return true;
}

/* The source whose turn it is: the first with frames from rr on, cyclically. */
static int turn(const struct net_backlog *b)
{
	for (unsigned k = 0; k < NET_BACKLOG_SOURCES; k++) {
		unsigned s = (b->rr + k) % NET_BACKLOG_SOURCES;

		if (b->count[s])
			return (int)s;
	}
	return -1;
}

bool net_backlog_peek(struct net_backlog *b, struct net_frame *f, unsigned *src)
{
	int s = turn(b);

	if (s < 0)
		return false;
	net_frame_flat(f, slot(b, b->head[s]), b->len[b->head[s]]);
	*src = (unsigned)s;
	return true;
}

void net_backlog_pop(struct net_backlog *b)
{
	int s = turn(b);

	if (s < 0)
		return;
	drop_head(b, (unsigned)s);
	b->rr = ((unsigned)s + 1) % NET_BACKLOG_SOURCES;
}

void net_backlog_drop_source(struct net_backlog *b, unsigned src)
{
	if (src >= NET_BACKLOG_SOURCES)
		return;
	while (b->count[src])
		drop_head(b, src);
}
