// SPDX-License-Identifier: BSD-2-Clause
/* A switch's address table; see vireo/mac_table.h. */
#include <vireo/mac_table.h>
#include <vireo/string.h>

#define MASK (MAC_TABLE_SLOTS - 1)

_Static_assert((MAC_TABLE_SLOTS & MASK) == 0, "MAC_TABLE_SLOTS must be a power of two");
_Static_assert(MAC_TABLE_LEARNED + MAC_TABLE_STATIC <= MAC_TABLE_SLOTS * 3 / 4,
	       "the table must keep free slots for probing to stay short");

static bool usable(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

/* FNV-1a over the six bytes: the low bits of locally administered addresses that
 * differ only at the end still spread. */
static unsigned home(const uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	return (h ^ (h >> 16)) & MASK;
}

void mac_table_init(struct mac_table *t, uint64_t max_age)
{
	memset(t, 0, sizeof(*t));
	t->max_age = max_age;
}

static struct mac_entry *find(struct mac_table *t, const uint8_t mac[6])
{
	for (unsigned i = home(mac), n = 0; n < MAC_TABLE_SLOTS; i = (i + 1) & MASK, n++) {
		struct mac_entry *e = &t->slots[i];

		if (e->state == MAC_ENTRY_FREE)
			return NULL;
		if (memcmp(e->mac, mac, 6) == 0)
			return e;
	}
	return NULL;
}

/* Empty slot i and pull later entries of its probe run back, so that every entry stays
 * reachable from its home slot without tombstones. */
static void delete_slot(struct mac_table *t, unsigned i)
{
	if (t->slots[i].state == MAC_ENTRY_STATIC)
		t->nstatic--;
	else
		t->nlearned--;
	for (unsigned j = (i + 1) & MASK;; j = (j + 1) & MASK) {
		struct mac_entry *e = &t->slots[j];
		unsigned h;

		if (e->state == MAC_ENTRY_FREE)
			break;
		h = home(e->mac);
		/* e may fill the hole when its home is not within (i, j] cyclically. */
		if (((j - h) & MASK) >= ((j - i) & MASK)) {
			t->slots[i] = *e;
			i = j;
		}
	}
	t->slots[i] = (struct mac_entry){0};
}

static void delete_entry(struct mac_table *t, struct mac_entry *e)
{
	delete_slot(t, (unsigned)(e - t->slots));
}

static bool expired(const struct mac_table *t, const struct mac_entry *e, uint64_t now)
{
	return e->state == MAC_ENTRY_LEARNED && now - e->seen >= t->max_age;
}

static struct mac_entry *insert(struct mac_table *t, const uint8_t mac[6], unsigned port,
				uint8_t state, uint64_t now)
{
	unsigned i = home(mac);

	while (t->slots[i].state != MAC_ENTRY_FREE)
		i = (i + 1) & MASK; /* the bounds above leave a free slot */
	t->slots[i] = (struct mac_entry){.port = (uint8_t)port, .state = state, .seen = now};
	memcpy(t->slots[i].mac, mac, 6);
	if (state == MAC_ENTRY_STATIC)
		t->nstatic++;
	else
		t->nlearned++;
	return &t->slots[i];
}

/* Room for one more learned entry: drop the aged ones, else the stalest. */
static void make_room(struct mac_table *t, uint64_t now)
{
	int stalest = -1;

	for (unsigned i = 0; i < MAC_TABLE_SLOTS; i++) {
		if (expired(t, &t->slots[i], now)) {
			delete_slot(t, i);
			i--; /* the shift may have pulled another entry into slot i */
		}
	}
	if (t->nlearned < MAC_TABLE_LEARNED)
		return;
	/* Deleting moves entries: find the stalest first, then delete it. */
	for (unsigned i = 0; i < MAC_TABLE_SLOTS; i++) {
		const struct mac_entry *e = &t->slots[i];

		if (e->state == MAC_ENTRY_LEARNED &&
		    (stalest < 0 || e->seen < t->slots[stalest].seen))
			stalest = (int)i;
	}
	if (stalest >= 0)
		delete_slot(t, (unsigned)stalest);
}

int mac_table_lookup(struct mac_table *t, const uint8_t mac[6], uint64_t now)
{
	struct mac_entry *e = find(t, mac);

	if (!e)
		return -1;
	if (expired(t, e, now)) {
		delete_entry(t, e);
		return -1;
	}
	return e->port;
}

int mac_table_learn(struct mac_table *t, const uint8_t mac[6], unsigned port, uint64_t now)
{
	struct mac_entry *e;

	if (!usable(mac))
		return -VIREO_EINVAL;
	e = find(t, mac);
	if (e && e->state == MAC_ENTRY_STATIC)
		return e->port == port ? 0 : -VIREO_EEXIST;
	if (e) {
		e->port = (uint8_t)port;
		e->seen = now;
		return 0;
	}
	if (t->nlearned >= MAC_TABLE_LEARNED)
		make_room(t, now);
	insert(t, mac, port, MAC_ENTRY_LEARNED, now);
	return 0;
}

int mac_table_add_static(struct mac_table *t, const uint8_t mac[6], unsigned port)
{
	struct mac_entry *e;

	if (!usable(mac))
		return -VIREO_EINVAL;
	e = find(t, mac);
	if (e && e->state == MAC_ENTRY_STATIC)
		return -VIREO_EEXIST;
	if (t->nstatic >= MAC_TABLE_STATIC)
		return -VIREO_ENOMEM;
	if (e)
		delete_entry(t, e);
	insert(t, mac, port, MAC_ENTRY_STATIC, 0);
	return 0;
}

void mac_table_remove_port(struct mac_table *t, unsigned port)
{
	for (unsigned i = 0; i < MAC_TABLE_SLOTS; i++) {
		if (t->slots[i].state != MAC_ENTRY_FREE && t->slots[i].port == port) {
			delete_slot(t, i);
			i--; /* look at what the shift moved into slot i */
		}
	}
}

unsigned mac_table_learned(const struct mac_table *t)
{
	return t->nlearned;
}
