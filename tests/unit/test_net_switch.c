// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of Vireo's switch (hv/net/switch.c) with its address table,
 * fair backlog and DHCP server, on fake ports: each records the frames it
 * is handed, takes at most `room` of them (then says FULL) or refuses
 * everything when down, and counts the switch's want_room calls. Time is a
 * fake clock the tests move.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/dhcp.h>
#include <vireo/net.h>

#define MAX_SEEN 512

struct fake_port {
	struct net_port port;
	uint8_t store[NET_BACKLOG_BYTES];
	unsigned room; /* frames it takes before it is full */
	bool down;
	unsigned want_true, want_false;
	bool wanting;
	unsigned nseen;
	uint16_t seen_len[MAX_SEEN];
	uint8_t seen[MAX_SEEN][NET_FRAME_MAX];
};

static uint64_t now_ms;
static struct net_switch *sw_a, *sw_b;
static struct fake_port *ports[8];

static uint64_t fake_clock(void)
{
	return now_ms;
}

static enum net_deliver fake_deliver(struct net_port *p, const struct net_frame *f)
{
	struct fake_port *fp = container_of(p, struct fake_port, port);

	if (fp->down)
		return NET_REFUSED;
	if (!fp->room)
		return NET_FULL;
	assert_true(fp->nseen < MAX_SEEN);
	assert_true(f->len >= NET_ETH_HLEN && f->len <= NET_FRAME_MAX);
	fp->seen_len[fp->nseen] = (uint16_t)net_frame_read(f, 0, fp->seen[fp->nseen], f->len);
	fp->nseen++;
	fp->room--;
	return NET_TAKEN;
}

static void fake_want_room(struct net_port *p, bool want)
{
	struct fake_port *fp = container_of(p, struct fake_port, port);

	if (want)
		fp->want_true++;
	else
		fp->want_false++;
	fp->wanting = want;
}

static const struct net_port_ops fake_ops = {.deliver = fake_deliver, .want_room = fake_want_room};

static const uint8_t mac_vm[4][6] = {
    {0x52, 0x54, 0, 0, 0, 1},
    {0x52, 0x54, 0, 0, 0, 2},
    {0x52, 0x54, 0, 0, 0, 3},
    {0x52, 0x54, 0, 0, 0, 4},
};
static const uint8_t mac_slirp[6] = {0x52, 0x55, 0x0a, 0, 2, 2};
static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
static const uint8_t mac_nobody[6] = {0x52, 0x54, 0, 9, 9, 9};

static struct fake_port *make_port(const char *name, const uint8_t *mac, bool uplink, uint32_t ip)
{
	struct fake_port *fp = calloc(1, sizeof(*fp));

	assert_non_null(fp);
	fp->port.ops = &fake_ops;
	fp->port.name = name;
	fp->port.uplink = uplink;
	fp->port.ipv4 = ip;
	fp->port.backlog_store = fp->store;
	if (mac)
		memcpy(fp->port.mac, mac, 6);
	fp->room = 1000;
	return fp;
}

/* Network A: VMs 0 and 1 and the uplink (ports[0..2]); network B: VMs 2 and 3. */
static int setup(void **state)
{
	(void)state;
	now_ms = 1000;
	net_set_clock(fake_clock);
	sw_a = calloc(1, sizeof(*sw_a));
	sw_b = calloc(1, sizeof(*sw_b));
	net_switch_init(sw_a, "default");
	net_switch_init(sw_b, "lab");
	ports[0] = make_port("vm0", mac_vm[0], false, NET_IP(10, 0, 2, 15));
	ports[1] = make_port("vm1", mac_vm[1], false, NET_IP(10, 0, 2, 16));
	ports[2] = make_port("uplink", NULL, true, 0);
	ports[3] = make_port("vm2", mac_vm[2], false, NET_IP(10, 0, 2, 17));
	ports[4] = make_port("vm3", mac_vm[3], false, NET_IP(10, 0, 2, 18));
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(net_attach(sw_a, &ports[i]->port), 0);
	for (unsigned i = 3; i < 5; i++)
		assert_int_equal(net_attach(sw_b, &ports[i]->port), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 8; i++) {
		if (ports[i])
			net_detach(&ports[i]->port);
		free(ports[i]);
		ports[i] = NULL;
	}
	free(sw_a);
	free(sw_b);
	net_set_clock(NULL);
	return 0;
}

/* An Ethernet frame of len bytes: dst, src, EtherType 0x88b5, then a byte pattern tagged
 * with `tag` so that frames can be told apart. */
static uint8_t frame_buf[2048];

static struct net_frame frame(const uint8_t *dst, const uint8_t *src, uint32_t len, uint8_t tag)
{
	struct net_frame f;

	memcpy(frame_buf, dst, 6);
	memcpy(frame_buf + 6, src, 6);
	frame_buf[12] = 0x88;
	frame_buf[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		frame_buf[i] = (uint8_t)(tag + i);
	if (len > 14)
		frame_buf[14] = tag;
	net_frame_flat(&f, frame_buf, len);
	return f;
}

static void send(unsigned from, const uint8_t *dst, const uint8_t *src, uint32_t len, uint8_t tag)
{
	struct net_frame f = frame(dst, src, len, tag);

	net_send(&ports[from]->port, &f);
}

static unsigned seen(unsigned p)
{
	return ports[p]->nseen;
}

/* ---------------------------------------------------------------- attaching */

static void test_attach_rules(void **state)
{
	struct fake_port *dup = make_port("dup", mac_vm[0], false, 0);
	struct fake_port *up2 = make_port("uplink2", NULL, true, 0);
	struct fake_port *bad = make_port("bad", mac_mcast, false, 0);
	struct fake_port *nostore = make_port("nostore", mac_nobody, false, 0);

	(void)state;
	/* Another port with a VM's address, a second uplink, a multicast address. */
	assert_int_equal(net_attach(sw_a, &dup->port), -VIREO_EEXIST);
	assert_int_equal(net_attach(sw_a, &up2->port), -VIREO_EBUSY);
	assert_int_equal(net_attach(sw_a, &bad->port), -VIREO_EINVAL);
	nostore->port.backlog_store = NULL;
	assert_int_equal(net_attach(sw_a, &nostore->port), -VIREO_EINVAL);
	assert_null(dup->port.net);
	/* The same address is fine on another network. */
	assert_int_equal(net_attach(sw_b, &dup->port), 0);
	net_detach(&dup->port);
	/* Once the VM left, its address is free again. */
	net_detach(&ports[0]->port);
	assert_int_equal(net_attach(sw_a, &dup->port), 0);
	net_detach(&dup->port);
	free(dup);
	free(up2);
	free(bad);
	free(nostore);
}

static void test_network_full(void **state)
{
	struct fake_port *many[NET_MAX_PORTS];
	unsigned n = 0;
	uint8_t mac[6] = {0x52, 0x54, 1, 0, 0, 0};

	(void)state;
	for (;; n++) {
		mac[5] = (uint8_t)n;
		many[n] = make_port("many", mac, false, 0);
		if (net_attach(sw_b, &many[n]->port))
			break;
	}
	/* Two ports were there already. */
	assert_int_equal(n, NET_MAX_PORTS - 2);
	for (unsigned i = 0; i <= n; i++) {
		net_detach(&many[i]->port);
		free(many[i]);
	}
}

static void test_registry(void **state)
{
	char long_name[NET_NAME_MAX + 1];

	(void)state;
	assert_ptr_equal(net_get("one"), net_get("one"));
	assert_ptr_not_equal(net_get("one"), net_get("two"));
	assert_string_equal(net_get("two")->name, "two");
	assert_null(net_get(""));
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[NET_NAME_MAX] = '\0';
	assert_null(net_get(long_name));
	long_name[NET_NAME_MAX - 1] = '\0';
	assert_non_null(net_get(long_name));
}

/* ---------------------------------------------------------------- forwarding */

static void test_unicast_between_vms(void **state)
{
	(void)state;
	send(0, mac_vm[1], mac_vm[0], 60, 7);
	assert_int_equal(seen(1), 1);
	assert_int_equal(ports[1]->seen_len[0], 60);
	assert_int_equal(ports[1]->seen[0][14], 7);
	assert_memory_equal(ports[1]->seen[0], mac_vm[1], 6);
	/* Nobody else saw it: not the sender, not the uplink, not the other network. */
	assert_int_equal(seen(0) + seen(2) + seen(3) + seen(4), 0);
	assert_int_equal(ports[0]->port.stats.sent, 1);
	assert_int_equal(ports[1]->port.stats.received, 1);
}

static void test_broadcast_and_multicast_flood_one_network(void **state)
{
	(void)state;
	send(0, mac_bcast, mac_vm[0], 42, 1);
	send(0, mac_mcast, mac_vm[0], 42, 2);
	assert_int_equal(seen(0), 0);
	assert_int_equal(seen(1), 2);
	assert_int_equal(seen(2), 2);
	/* Network B never hears of it. */
	assert_int_equal(seen(3) + seen(4), 0);
	send(3, mac_bcast, mac_vm[2], 42, 3);
	assert_int_equal(seen(4), 1);
	assert_int_equal(seen(0), 0);
	assert_int_equal(seen(1), 2);
	assert_int_equal(seen(2), 2);
	/* From the uplink, to every VM of its network. */
	send(2, mac_bcast, mac_slirp, 42, 4);
	assert_int_equal(seen(0), 1);
	assert_int_equal(seen(1), 3);
}

static void test_spoofed_sources_are_dropped(void **state)
{
	(void)state;
	/* A VM sending as another VM, as a third party, as a multicast address. */
	send(0, mac_vm[1], mac_vm[1], 60, 1);
	send(0, mac_bcast, mac_slirp, 60, 2);
	send(0, mac_vm[1], mac_bcast, 60, 3);
	assert_int_equal(seen(1) + seen(2), 0);
	assert_int_equal(ports[0]->port.stats.spoofed, 3);
	assert_int_equal(ports[0]->port.stats.sent, 0);
	/* The uplink claiming a VM's address: dropped too, and the VM stays where it is. */
	send(2, mac_bcast, mac_vm[1], 60, 4);
	assert_int_equal(ports[2]->port.stats.spoofed, 1);
	assert_int_equal(seen(0) + seen(1), 0);
	send(0, mac_vm[1], mac_vm[0], 60, 5);
	assert_int_equal(seen(1), 1);
	assert_int_equal(seen(2), 0);
	/* A VM of another network cannot reach A's VM by its address either. */
	send(3, mac_vm[0], mac_vm[2], 60, 6);
	assert_int_equal(seen(0), 0);
}

static void test_unknown_unicast_goes_only_to_the_uplink(void **state)
{
	(void)state;
	send(0, mac_nobody, mac_vm[0], 60, 1);
	assert_int_equal(seen(2), 1);
	assert_int_equal(seen(1), 0);
	/* From the uplink, an address nobody has is dropped, not flooded to the VMs. */
	send(2, mac_nobody, mac_slirp, 60, 2);
	assert_int_equal(seen(0) + seen(1), 0);
	assert_int_equal(sw_a->unknown, 1);
	/* Without an uplink there is nowhere to send it. */
	send(3, mac_nobody, mac_vm[2], 60, 3);
	assert_int_equal(seen(4), 0);
	assert_int_equal(sw_b->unknown, 1);
	/* To oneself: nowhere. */
	send(0, mac_vm[0], mac_vm[0], 60, 4);
	assert_int_equal(seen(0), 0);
}

static void test_uplink_addresses_are_learned_and_age(void **state)
{
	(void)state;
	send(2, mac_vm[0], mac_slirp, 60, 1);
	assert_int_equal(seen(0), 1);
	assert_int_equal(mac_table_learned(&sw_a->macs), 1);
	assert_int_equal(mac_table_lookup(&sw_a->macs, mac_slirp, now_ms), ports[2]->port.index);
	now_ms += NET_MAC_AGE_MS - 1;
	assert_int_equal(mac_table_lookup(&sw_a->macs, mac_slirp, now_ms), ports[2]->port.index);
	now_ms += 1;
	assert_int_equal(mac_table_lookup(&sw_a->macs, mac_slirp, now_ms), -1);
	/* The VMs' own addresses never age. */
	now_ms += 10 * NET_MAC_AGE_MS;
	assert_int_equal(mac_table_lookup(&sw_a->macs, mac_vm[1], now_ms), ports[1]->port.index);
}

static void test_frame_lengths(void **state)
{
	uint8_t big[NET_FRAME_MAX + 1];
	struct net_frame f;

	(void)state;
	memset(big, 0, sizeof(big));
	memcpy(big, mac_vm[1], 6);
	memcpy(big + 6, mac_vm[0], 6);
	net_frame_flat(&f, big, NET_FRAME_MAX + 1);
	net_send(&ports[0]->port, &f);
	net_frame_flat(&f, big, NET_ETH_HLEN - 1);
	net_send(&ports[0]->port, &f);
	assert_int_equal(seen(1), 0);
	assert_int_equal(ports[0]->port.malformed, 2);
	/* The extremes that are fine: a bare header and a 1500-byte payload with a tag. */
	net_frame_flat(&f, big, NET_FRAME_MAX);
	net_send(&ports[0]->port, &f);
	net_frame_flat(&f, big, NET_ETH_HLEN);
	net_send(&ports[0]->port, &f);
	assert_int_equal(seen(1), 2);
	assert_int_equal(ports[1]->seen_len[0], NET_FRAME_MAX);
}

static void test_frames_in_pieces(void **state)
{
	uint8_t a[5], b[20], c[40];
	struct net_frame f = {0};
	uint8_t out[65];

	(void)state;
	for (unsigned i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(5 + i);
	for (unsigned i = 0; i < sizeof(c); i++)
		c[i] = (uint8_t)(25 + i);
	assert_true(net_frame_add(&f, a, sizeof(a)));
	assert_true(net_frame_add(&f, b, 0)); /* an empty piece is no piece */
	assert_true(net_frame_add(&f, b, sizeof(b)));
	assert_true(net_frame_add(&f, c, sizeof(c)));
	assert_int_equal(f.len, 65);
	assert_int_equal(f.nsegs, 3);
	assert_int_equal(net_frame_read(&f, 3, out, 30), 30);
	for (unsigned i = 0; i < 30; i++)
		assert_int_equal(out[i], 3 + i);
	assert_int_equal(net_frame_read(&f, 60, out, 30), 5);
	assert_int_equal(net_frame_read(&f, 70, out, 30), 0);
	for (unsigned i = f.nsegs; i < NET_FRAME_SEGS; i++)
		assert_true(net_frame_add(&f, a, 1));
	assert_false(net_frame_add(&f, a, 1));
	memcpy(a, mac_vm[1], 5); /* a split header still forwards */
	f = (struct net_frame){0};
	memcpy(c, mac_vm[1] + 5, 1);
	memcpy(c + 1, mac_vm[0], 6);
	c[7] = 0x88;
	c[8] = 0xb5;
	net_frame_add(&f, a, 5);
	net_frame_add(&f, c, 40);
	net_send(&ports[0]->port, &f);
	assert_int_equal(seen(1), 1);
}

/* ---------------------------------------------------------------- fair backlog */

static void test_backlog_waits_for_room(void **state)
{
	(void)state;
	ports[1]->room = 0;
	send(0, mac_vm[1], mac_vm[0], 60, 1);
	send(0, mac_vm[1], mac_vm[0], 60, 2);
	assert_int_equal(seen(1), 0);
	assert_int_equal(net_backlog_count(&ports[1]->port.backlog), 2);
	assert_int_equal(ports[1]->want_true, 1);
	assert_true(ports[1]->wanting);
	/* Room for one: the first comes, the second waits. */
	ports[1]->room = 1;
	net_port_room(&ports[1]->port);
	assert_int_equal(seen(1), 1);
	assert_int_equal(ports[1]->seen[0][14], 1);
	assert_true(ports[1]->wanting);
	/* A newcomer waits behind the backlog even when there is room. */
	ports[1]->room = 5;
	send(0, mac_vm[1], mac_vm[0], 60, 3);
	assert_int_equal(seen(1), 1);
	net_port_room(&ports[1]->port);
	assert_int_equal(seen(1), 3);
	assert_int_equal(ports[1]->seen[1][14], 2);
	assert_int_equal(ports[1]->seen[2][14], 3);
	assert_false(ports[1]->wanting);
	assert_int_equal(ports[1]->want_false, 1);
}

static void test_backlog_of_a_port_that_goes_down(void **state)
{
	(void)state;
	ports[1]->room = 0;
	send(0, mac_vm[1], mac_vm[0], 60, 1);
	ports[1]->down = true;
	net_port_room(&ports[1]->port);
	assert_int_equal(net_backlog_count(&ports[1]->port.backlog), 0);
	assert_int_equal(ports[1]->port.stats.dropped, 1);
	/* Down: frames for it are dropped at once, not kept. */
	send(0, mac_vm[1], mac_vm[0], 60, 2);
	assert_int_equal(ports[1]->port.stats.dropped, 2);
	assert_int_equal(net_backlog_count(&ports[1]->port.backlog), 0);
}

/* A flooding VM and a quiet one send to a VM that has no room: when it has, the quiet
 * one's frames all get through, the flood takes what is left. */
static void test_flood_cannot_crowd_out_a_quiet_sender(void **state)
{
	struct fake_port *quiet = make_port("quiet", mac_nobody, false, 0);
	unsigned flood = 0, calm = 0;

	(void)state;
	assert_int_equal(net_attach(sw_a, &quiet->port), 0);
	ports[1]->room = 0;
	for (unsigned i = 0; i < 500; i++) {
		send(0, mac_vm[1], mac_vm[0], 100, 1);
		if (i % 50 == 0) {
			struct net_frame f = frame(mac_vm[1], mac_nobody, 100, 2);
			net_send(&quiet->port, &f);
		}
	}
	assert_int_equal(net_backlog_count(&ports[1]->port.backlog), NET_BACKLOG_SLOTS);
	assert_true(ports[1]->port.backlog.dropped >= 500 + 10 - NET_BACKLOG_SLOTS);
	ports[1]->room = 1000;
	net_port_room(&ports[1]->port);
	for (unsigned i = 0; i < seen(1); i++) {
		if (ports[1]->seen[i][14] == 2)
			calm++;
		else
			flood++;
	}
	assert_int_equal(calm, 10);
	assert_int_equal(flood, NET_BACKLOG_SLOTS - 10);
	/* Round-robin: the quiet sender's frames come early, not after the flood's. */
	for (unsigned i = 0, k = 0; i < seen(1) && k < 10; i++)
		if (ports[1]->seen[i][14] == 2)
			assert_true(i <= 2 * k++ + 1);
	net_detach(&quiet->port);
	free(quiet);
}

static void test_detach_drops_its_waiting_frames(void **state)
{
	(void)state;
	ports[1]->room = 0;
	send(0, mac_vm[1], mac_vm[0], 60, 1);
	send(2, mac_vm[1], mac_slirp, 60, 2);
	assert_int_equal(net_backlog_count(&ports[1]->port.backlog), 2);
	net_detach(&ports[0]->port);
	assert_int_equal(net_backlog_count(&ports[1]->port.backlog), 1);
	ports[1]->room = 5;
	net_port_room(&ports[1]->port);
	assert_int_equal(seen(1), 1);
	assert_int_equal(ports[1]->seen[0][14], 2);
	/* A detached port sends nothing and gets nothing. */
	send(0, mac_vm[1], mac_vm[0], 60, 3);
	send(1, mac_vm[0], mac_vm[1], 60, 4);
	assert_int_equal(seen(0), 0);
	assert_int_equal(seen(1), 1);
	net_port_room(&ports[0]->port);
}

static void test_backlog_unit(void **state)
{
	static uint8_t store[NET_BACKLOG_BYTES];
	struct net_backlog *b = calloc(1, sizeof(*b));
	uint8_t data[100] = {0};
	struct net_frame f;
	unsigned src;

	(void)state;
	net_backlog_init(b, store);
	assert_false(net_backlog_peek(b, &f, &src));
	net_frame_flat(&f, data, sizeof(data));
	/* Source 3 fills the store; source 5 still gets in, at 3's expense. */
	for (unsigned i = 0; i < NET_BACKLOG_SLOTS; i++) {
		data[0] = (uint8_t)i;
		assert_true(net_backlog_push(b, 3, &f));
	}
	data[0] = 0xee;
	assert_true(net_backlog_push(b, 5, &f));
	assert_int_equal(net_backlog_count(b), NET_BACKLOG_SLOTS);
	assert_int_equal(b->count[3], NET_BACKLOG_SLOTS - 1);
	/* 3's oldest went. */
	assert_true(net_backlog_peek(b, &f, &src));
	assert_int_equal(src, 3);
	assert_int_equal(f.segs[0].p[0], 1);
	net_backlog_pop(b);
	assert_true(net_backlog_peek(b, &f, &src));
	assert_int_equal(src, 5);
	assert_int_equal(f.segs[0].p[0], 0xee);
	net_backlog_pop(b);
	/* A source as long as the longest loses its own new frame. */
	net_frame_flat(&f, data, sizeof(data));
	for (unsigned i = 0; b->free != NET_BACKLOG_NONE; i++)
		assert_true(net_backlog_push(b, 4, &f));
	while (b->count[4] < b->count[3])
		assert_true(net_backlog_push(b, 4, &f));
	assert_false(net_backlog_push(b, 4, &f));
	/* Out of range sources and frames too big for a slot are refused. */
	assert_false(net_backlog_push(b, NET_BACKLOG_SOURCES, &f));
	net_frame_flat(&f, data, NET_BACKLOG_SLOT + 1);
	assert_false(net_backlog_push(b, 1, &f));
	net_backlog_drop_source(b, 3);
	net_backlog_drop_source(b, 4);
	net_backlog_drop_source(b, NET_BACKLOG_SOURCES);
	assert_int_equal(net_backlog_count(b), 0);
	net_backlog_pop(b); /* nothing to pop: nothing happens */
	free(b);
}

/* ---------------------------------------------------------------- the address table */

static void test_mac_table(void **state)
{
	struct mac_table *t = calloc(1, sizeof(*t));
	uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 0};

	(void)state;
	mac_table_init(t, 100);
	assert_int_equal(mac_table_add_static(t, mac_vm[0], 1), 0);
	assert_int_equal(mac_table_add_static(t, mac_vm[0], 2), -VIREO_EEXIST);
	assert_int_equal(mac_table_add_static(t, mac_bcast, 2), -VIREO_EINVAL);
	assert_int_equal(mac_table_learn(t, mac_vm[0], 3, 0), -VIREO_EEXIST);
	assert_int_equal(mac_table_learn(t, mac_vm[0], 1, 0), 0);
	assert_int_equal(mac_table_learn(t, mac_mcast, 3, 0), -VIREO_EINVAL);
	assert_int_equal(mac_table_learn(t, (const uint8_t[6]){0}, 3, 0), -VIREO_EINVAL);
	/* Learning moves an address with the frames. */
	assert_int_equal(mac_table_learn(t, mac_slirp, 3, 0), 0);
	assert_int_equal(mac_table_learn(t, mac_slirp, 4, 10), 0);
	assert_int_equal(mac_table_lookup(t, mac_slirp, 50), 4);
	assert_int_equal(mac_table_lookup(t, mac_slirp, 110), -1);
	/* A static address replaces a learned one. */
	assert_int_equal(mac_table_learn(t, mac_vm[1], 3, 200), 0);
	assert_int_equal(mac_table_add_static(t, mac_vm[1], 5), 0);
	assert_int_equal(mac_table_lookup(t, mac_vm[1], 10000), 5);
	/* Bounded: many more addresses than it keeps, the newest always in. */
	for (unsigned i = 0; i < 3 * MAC_TABLE_LEARNED; i++) {
		mac[3] = (uint8_t)(i >> 8);
		mac[4] = (uint8_t)i;
		assert_int_equal(mac_table_learn(t, mac, 7, 300 + i), 0);
		assert_int_equal(mac_table_lookup(t, mac, 300 + i), 7);
		assert_true(mac_table_learned(t) <= MAC_TABLE_LEARNED);
	}
	/* Statics never go: not with the churn, not with time. */
	assert_int_equal(mac_table_lookup(t, mac_vm[0], UINT64_MAX / 2), 1);
	mac_table_remove_port(t, 7);
	assert_int_equal(mac_table_learned(t), 0);
	mac_table_remove_port(t, 1);
	assert_int_equal(mac_table_lookup(t, mac_vm[0], 0), -1);
	assert_int_equal(mac_table_lookup(t, mac_vm[1], 0), 5);
	/* At most MAC_TABLE_STATIC statics. */
	for (unsigned i = 0; i < MAC_TABLE_STATIC - 1; i++) {
		mac[3] = 0x40;
		mac[4] = (uint8_t)i;
		assert_int_equal(mac_table_add_static(t, mac, 8), 0);
	}
	mac[4] = 0xff;
	assert_int_equal(mac_table_add_static(t, mac, 8), -VIREO_ENOMEM);
	free(t);
}

/* ---------------------------------------------------------------- DHCP through the switch */

/* A DHCP client message from port `from`'s MAC (type, requested address, server id). */
static uint32_t build_dhcp(uint8_t *buf, const uint8_t *mac, int type, uint32_t req_ip,
			   uint32_t server)
{
	uint8_t *ip = buf + 14, *udp = ip + 20, *b = udp + 8, *o = b + 240;
	uint32_t blen, len;

	memset(buf, 0, 600);
	memcpy(buf, mac_bcast, 6);
	memcpy(buf + 6, mac, 6);
	buf[12] = 0x08;
	ip[0] = 0x45;
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	udp[1] = 68;
	udp[3] = 67;
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	b[4] = 0xca;
	b[5] = 0xfe;
	memcpy(b + 28, mac, 6);
	b[236] = 0x63;
	b[237] = 0x82;
	b[238] = 0x53;
	b[239] = 0x63;
	*o++ = 53;
	*o++ = 1;
	*o++ = (uint8_t)type;
	if (req_ip) {
		*o++ = 50;
		*o++ = 4;
		for (int i = 3; i >= 0; i--)
			*o++ = (uint8_t)(req_ip >> (8 * i));
	}
	if (server) {
		*o++ = 54;
		*o++ = 4;
		for (int i = 3; i >= 0; i--)
			*o++ = (uint8_t)(server >> (8 * i));
	}
	*o++ = 255;
	blen = (uint32_t)(o - b);
	len = 8 + blen;
	udp[4] = (uint8_t)(len >> 8);
	udp[5] = (uint8_t)len;
	len += 20;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	return 14 + len;
}

static uint8_t answer_type(const uint8_t *f)
{
	const uint8_t *o = f + 14 + 20 + 8 + 240;

	assert_int_equal(o[0], 53);
	return o[2];
}

static bool has_option(const uint8_t *f, unsigned len, uint8_t code)
{
	for (unsigned i = 14 + 20 + 8 + 240; i + 1 < len && f[i] != 255; i += 2 + f[i + 1])
		if (f[i] == code)
			return true;
	return false;
}

static void test_dhcp_is_answered_by_vireo(void **state)
{
	static uint8_t buf[600];
	struct net_frame f;
	uint32_t len;

	(void)state;
	len = build_dhcp(buf, mac_vm[0], 1, 0, 0);
	net_frame_flat(&f, buf, len);
	net_send(&ports[0]->port, &f);
	/* Answered, to the asker only; never forwarded to the uplink or the other VM. */
	assert_int_equal(seen(0), 1);
	assert_int_equal(seen(1) + seen(2), 0);
	assert_int_equal(answer_type(ports[0]->seen[0]), 2); /* OFFER */
	/* yiaddr: the port's address; router and DNS with an uplink. */
	assert_memory_equal(ports[0]->seen[0] + 14 + 20 + 8 + 16, ((uint8_t[]){10, 0, 2, 15}), 4);
	assert_true(has_option(ports[0]->seen[0], ports[0]->seen_len[0], 3));
	assert_true(has_option(ports[0]->seen[0], ports[0]->seen_len[0], 6));
	assert_int_equal(ports[0]->port.stats.dhcp, 1);
	/* REQUEST for its address: ACK; for another: NAK; for another server: nothing. */
	len = build_dhcp(buf, mac_vm[0], 3, NET_IP(10, 0, 2, 15), NET_GATEWAY);
	net_frame_flat(&f, buf, len);
	net_send(&ports[0]->port, &f);
	assert_int_equal(answer_type(ports[0]->seen[1]), 5);
	len = build_dhcp(buf, mac_vm[0], 3, NET_IP(10, 0, 2, 99), 0);
	net_frame_flat(&f, buf, len);
	net_send(&ports[0]->port, &f);
	assert_int_equal(answer_type(ports[0]->seen[2]), 6);
	len = build_dhcp(buf, mac_vm[0], 3, NET_IP(10, 0, 2, 15), NET_IP(10, 0, 2, 9));
	net_frame_flat(&f, buf, len);
	net_send(&ports[0]->port, &f);
	assert_int_equal(seen(0), 3);
	/* On a network without an uplink: an address, but no router and no DNS. */
	len = build_dhcp(buf, mac_vm[2], 1, 0, 0);
	net_frame_flat(&f, buf, len);
	net_send(&ports[3]->port, &f);
	assert_int_equal(seen(3), 1);
	assert_memory_equal(ports[3]->seen[0] + 14 + 20 + 8 + 16, ((uint8_t[]){10, 0, 2, 17}), 4);
	assert_false(has_option(ports[3]->seen[0], ports[3]->seen_len[0], 3));
	assert_false(has_option(ports[3]->seen[0], ports[3]->seen_len[0], 6));
	assert_int_equal(seen(4), 0);
}

static void test_dhcp_server_in_a_vm_is_dropped(void **state)
{
	static uint8_t buf[600];
	struct net_frame f;
	uint32_t len = build_dhcp(buf, mac_vm[0], 2, 0, 0);

	(void)state;
	buf[14 + 20 + 1] = 67; /* from port 67 */
	buf[14 + 20 + 3] = 68; /* to 68: a server's answer */
	net_frame_flat(&f, buf, len);
	net_send(&ports[0]->port, &f);
	assert_int_equal(seen(1) + seen(2), 0);
	assert_int_equal(ports[0]->port.stats.spoofed, 1);
	/* The uplink's DHCP traffic is its own business: forwarded as any frame. */
	memcpy(buf + 6, mac_slirp, 6);
	net_send(&ports[2]->port, &f);
	assert_int_equal(seen(0) + seen(1), 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_attach_rules),
	    T(test_network_full),
	    T(test_registry),
	    T(test_unicast_between_vms),
	    T(test_broadcast_and_multicast_flood_one_network),
	    T(test_spoofed_sources_are_dropped),
	    T(test_unknown_unicast_goes_only_to_the_uplink),
	    T(test_uplink_addresses_are_learned_and_age),
	    T(test_frame_lengths),
	    T(test_frames_in_pieces),
	    T(test_backlog_waits_for_room),
	    T(test_backlog_of_a_port_that_goes_down),
	    T(test_flood_cannot_crowd_out_a_quiet_sender),
	    T(test_detach_drops_its_waiting_frames),
	    T(test_backlog_unit),
	    T(test_mac_table),
	    T(test_dhcp_is_answered_by_vireo),
	    T(test_dhcp_server_in_a_vm_is_dropped),
	};

	return cmocka_run_group_tests_name("net_switch", tests, NULL, NULL);
}
