// SPDX-License-Identifier: BSD-2-Clause
/* The machine's networks, each a learning Ethernet switch; see vireo/net.h. */
#include <vireo/dhcp.h>
#include <vireo/net.h>
#include <vireo/string.h>

/* The source address of Vireo's DHCP answers: locally administered, "RVireo". */
static const uint8_t dhcp_server_mac[6] = {0x52, 0x56, 0x69, 0x72, 0x65, 0x6f};

static uint64_t clock_none(void)
{
	return 0;
}

static uint64_t (*net_now)(void) = clock_none;

static spinlock_t registry_lock = SPINLOCK_INIT;
static struct net_switch networks[NET_MAX_NETWORKS];
static unsigned nnetworks;

void net_set_clock(uint64_t (*now_ms)(void))
{
	net_now = now_ms ? now_ms : clock_none;
}

void net_format_mac(char *buf, const uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned i = 0; i < 6; i++) {
		buf[3 * i] = hex[mac[i] >> 4];
		buf[3 * i + 1] = hex[mac[i] & 15];
		buf[3 * i + 2] = i == 5 ? '\0' : ':';
	}
}

/* ---------------------------------------------------------------- networks */

void net_switch_init(struct net_switch *sw, const char *name)
{
	memset(sw, 0, sizeof(*sw));
	sw->lock = (spinlock_t)SPINLOCK_INIT;
	memcpy(sw->name, name, strnlen(name, sizeof(sw->name) - 1)); /* zeroed: terminated */
	mac_table_init(&sw->macs, NET_MAC_AGE_MS);
}

struct net_switch *net_get(const char *name)
{
	struct net_switch *sw = NULL;
	size_t len = strnlen(name, NET_NAME_MAX);

	if (len == 0 || len == NET_NAME_MAX)
		return NULL;
	spin_lock(&registry_lock);
	for (unsigned i = 0; i < nnetworks && !sw; i++)
		if (strcmp(networks[i].name, name) == 0)
			sw = &networks[i];
	if (!sw && nnetworks < NET_MAX_NETWORKS) {
		sw = &networks[nnetworks];
		net_switch_init(sw, name);
		/* Published last: net_for_each reads the count without the lock. */
		__atomic_store_n(&nnetworks, nnetworks + 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&registry_lock);
	return sw;
}

void net_for_each(void (*fn)(struct net_switch *sw, void *arg), void *arg)
{
	unsigned n = __atomic_load_n(&nnetworks, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		fn(&networks[i], arg);
}

/* ---------------------------------------------------------------- ports */

int net_attach(struct net_switch *sw, struct net_port *p)
{
	int err = -VIREO_EBUSY;

	if (!p->ops || !p->ops->deliver || !p->backlog_store)
		return -VIREO_EINVAL;
	spin_lock(&sw->lock);
	for (unsigned i = 0; i < NET_MAX_PORTS; i++) {
		if (sw->ports[i])
			continue;
		if (p->uplink && sw->uplink)
			break;
		err = p->uplink ? 0 : mac_table_add_static(&sw->macs, p->mac, i);
		if (err)
			break;
		net_backlog_init(&p->backlog, p->backlog_store);
		memset(&p->stats, 0, sizeof(p->stats));
		p->index = i;
		p->net = sw;
		sw->ports[i] = p;
		if (p->uplink)
			sw->uplink = p;
		break;
	}
	spin_unlock(&sw->lock);
	return err;
}

void net_detach(struct net_port *p)
{
	struct net_switch *sw = p->net;

	if (!sw)
		return;
	spin_lock(&sw->lock);
	sw->ports[p->index] = NULL;
	if (sw->uplink == p)
		sw->uplink = NULL;
	mac_table_remove_port(&sw->macs, p->index);
	for (unsigned i = 0; i < NET_MAX_PORTS; i++)
		if (sw->ports[i])
			net_backlog_drop_source(&sw->ports[i]->backlog, p->index);
	net_backlog_clear(&p->backlog);
	p->net = NULL;
	spin_unlock(&sw->lock);
}

void net_port_malformed(struct net_port *p)
{
	__atomic_fetch_add(&p->malformed, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- delivery */

static void account(struct net_port *p, enum net_deliver r)
{
	if (r == NET_TAKEN)
		p->stats.received++;
	else
		p->stats.dropped++;
}

/* Hand the port its backlog, round-robin by source, while it takes frames. Lock held. */
static void drain(struct net_port *p)
{
	struct net_frame f;
	unsigned src;

	while (net_backlog_peek(&p->backlog, &f, &src)) {
		enum net_deliver r = p->ops->deliver(p, &f);

		if (r == NET_FULL)
			return;
		net_backlog_pop(&p->backlog);
		account(p, r);
	}
	if (p->ops->want_room)
		p->ops->want_room(p, false);
}

/* One frame for port dst, from the port with index src. Lock held. */
static void deliver_to(struct net_port *dst, unsigned src, const struct net_frame *f)
{
	enum net_deliver r;

	/* Frames already waiting go first: nobody overtakes the backlog. */
	if (net_backlog_count(&dst->backlog)) {
		if (!net_backlog_push(&dst->backlog, src, f))
			dst->stats.dropped++;
		return;
	}
	r = dst->ops->deliver(dst, f);
	if (r != NET_FULL) {
		account(dst, r);
		return;
	}
	if (!net_backlog_push(&dst->backlog, src, f)) {
		dst->stats.dropped++;
		return;
	}
	/* Ask for room first, then look again: room that came meanwhile is not missed. */
	if (dst->ops->want_room)
		dst->ops->want_room(dst, true);
	drain(dst);
}

/* Is mac a source address this port may use? Learns it from the uplink. Lock held. */
static bool source_ok(struct net_switch *sw, struct net_port *src, const uint8_t mac[6])
{
	if (!src->uplink)
		return net_mac_equal(mac, src->mac);
	return mac_table_learn(&sw->macs, mac, src->index, net_now()) == 0;
}

/* A VM's DHCP traffic: Vireo answers requests; a VM playing server is dropped. True when
 * the frame was DHCP and is dealt with. Lock held. */
static bool dhcp_intercept(struct net_switch *sw, struct net_port *src, const struct net_frame *f,
			   const uint8_t *head, uint32_t head_len)
{
	struct dhcp_lease lease = {
	    .client_ip = src->ipv4,
	    .netmask = NET_NETMASK,
	    .server_ip = NET_GATEWAY,
	    .router = sw->uplink ? NET_GATEWAY : 0,
	    .dns = sw->uplink ? NET_DNS : 0,
	    .lease_s = DHCP_LEASE_INFINITE,
	};
	struct net_frame reply;
	size_t n;

	/* Only IPv4/UDP is looked at closer (EtherType, then the IP protocol). */
	if (head_len < NET_ETH_HLEN + 10 || head[12] != 0x08 || head[13] != 0x00 ||
	    head[NET_ETH_HLEN + 9] != 17)
		return false;
	net_frame_read(f, 0, sw->frame, f->len);
	switch (dhcp_classify(sw->frame, f->len)) {
	case DHCP_CLIENT:
		memcpy(lease.server_mac, dhcp_server_mac, 6);
		n = dhcp_answer(sw->frame, f->len, src->mac, &lease, sw->reply, sizeof(sw->reply));
		if (n) {
			src->stats.dhcp++;
			net_frame_flat(&reply, sw->reply, (uint32_t)n);
			deliver_to(src, src->index, &reply);
		}
		return true;
	case DHCP_SERVER:
		src->stats.spoofed++;
		return true;
	default:
		return false;
	}
}

void net_send(struct net_port *src, const struct net_frame *f)
{
	struct net_switch *sw = src->net;
	uint8_t head[NET_ETH_HLEN + 24];
	uint32_t head_len;
	int port;

	if (!sw)
		return;
	if (f->len < NET_ETH_HLEN || f->len > NET_FRAME_MAX) {
		net_port_malformed(src);
		return;
	}
	head_len = net_frame_read(f, 0, head, sizeof(head));
	spin_lock(&sw->lock);
	if (src->net != sw)
		goto out; /* detached meanwhile */
	if (!source_ok(sw, src, head + NET_ETH_ALEN)) {
		src->stats.spoofed++;
		goto out;
	}
	if (!src->uplink && dhcp_intercept(sw, src, f, head, head_len))
		goto out;
	src->stats.sent++;
	if (net_mac_multicast(head)) {
		for (unsigned i = 0; i < NET_MAX_PORTS; i++)
			if (sw->ports[i] && i != src->index)
				deliver_to(sw->ports[i], src->index, f);
		goto out;
	}
	port = mac_table_lookup(&sw->macs, head, net_now());
	if (port >= 0 && (unsigned)port != src->index && sw->ports[port])
		deliver_to(sw->ports[port], src->index, f);
	else if (port < 0 && !src->uplink && sw->uplink)
		deliver_to(sw->uplink, src->index, f);
	else
		sw->unknown++; /* nobody has it, or it is the sender's own */
out:
	spin_unlock(&sw->lock);
}

void net_port_room(struct net_port *p)
{
	struct net_switch *sw = p->net;

	if (!sw)
		return;
	spin_lock(&sw->lock);
	if (p->net == sw)
		drain(p);
	spin_unlock(&sw->lock);
}
