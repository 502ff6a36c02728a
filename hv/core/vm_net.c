// SPDX-License-Identifier: BSD-2-Clause
/* VMs on Vireo's networks; see vireo/vm_net.h. */
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/net.h>
#include <vireo/net_uplink.h>
#include <vireo/time.h>
#include <vireo/vm.h>
#include <vireo/vm_layout.h>
#include <vireo/vm_net.h>
#include <vireo/vnet.h>

#define BACKLOG_PAGES (NET_BACKLOG_BYTES / PAGE_SIZE)

_Static_assert(NET_BACKLOG_BYTES % PAGE_SIZE == 0, "the backlog store is whole pages");

static uint64_t clock_ms(void)
{
	return time_ticks_to_ns(hart_time()) / 1000000;
}

void vm_net_boot(const struct platform *plat)
{
	net_set_clock(clock_ms);
	net_uplink_probe(plat);
}

static void free_card(struct vm *vm)
{
	if (vm->net_dev->port.backlog_store)
		page_free(vm->net_dev->port.backlog_store, BACKLOG_PAGES);
	kfree(vm->net_dev);
	vm->net_dev = NULL;
}

int vm_net_init(struct vm *vm)
{
	const struct vm_config *c = &vm->config;
	struct irq_line irq = vm_irq_line(vm, VM_VIRTIO_IRQ_BASE + VM_VIRTIO_SLOT_NET);
	struct net_switch *sw;
	uint8_t *store;
	char mac[18];
	int err;

	if (!c->net)
		return 0;
	sw = net_get(c->net_name);
	if (!sw) {
		log_error("VM '%s': no network '%s' (at most %u networks)", vm->name, c->net_name,
			  NET_MAX_NETWORKS);
		return -VIREO_ENOMEM;
	}
	vm->net_dev = kzalloc(sizeof(*vm->net_dev));
	store = page_alloc(BACKLOG_PAGES, PAGE_SIZE);
	if (!vm->net_dev || !store) {
		if (store)
			page_free(store, BACKLOG_PAGES);
		if (vm->net_dev)
			kfree(vm->net_dev);
		vm->net_dev = NULL;
		return -VIREO_ENOMEM;
	}
	err = vnet_init(vm->net_dev, &vm->mem, &irq, c->mac, c->ipv4, vm->name, store);
	net_format_mac(mac, c->mac);
	if (err) {
		page_free(store, BACKLOG_PAGES);
		kfree(vm->net_dev);
		vm->net_dev = NULL;
		log_error("VM '%s': cannot make its network card (MAC %s)", vm->name, mac);
		return err;
	}
	err = net_attach(sw, &vm->net_dev->port);
	if (err) {
		log_error("VM '%s': cannot join network '%s' (%s)", vm->name, c->net_name,
			  err == -VIREO_EEXIST ? "its MAC is another VM's" : "the network is full");
		free_card(vm);
		return err;
	}
	err = mmio_bus_register(&vm->bus, VM_VIRTIO_BASE + VM_VIRTIO_SLOT_NET * VM_VIRTIO_STRIDE,
				VM_VIRTIO_STRIDE, &vnet_mmio_ops, vm->net_dev, "virtio-net");
	if (err) {
		net_detach(&vm->net_dev->port);
		free_card(vm);
		return err;
	}
	log_info("VM '%s': network '%s', MAC %s, address %u.%u.%u.%u", vm->name, c->net_name, mac,
		 c->ipv4 >> 24, (c->ipv4 >> 16) & 255, (c->ipv4 >> 8) & 255, c->ipv4 & 255);
	return 0;
}

void vm_net_free(struct vm *vm)
{
	if (!vm->net_dev)
		return;
	/* Once off the network nothing delivers to the card; then it may go. */
	net_detach(&vm->net_dev->port);
	vnet_reset(vm->net_dev);
	free_card(vm);
}

static void dump_network(struct net_switch *sw, void *arg)
{
	(void)arg;
	spin_lock(&sw->lock);
	for (unsigned i = 0; i < NET_MAX_PORTS; i++) {
		const struct net_port *p = sw->ports[i];

		if (!p)
			continue;
		printk("vireo-net: net=%s port=%s sent=%lu received=%lu spoofed=%lu dropped=%lu "
		       "backlog_dropped=%lu malformed=%lu dhcp=%lu waiting=%u\n",
		       sw->name, p->name, (unsigned long)p->stats.sent,
		       (unsigned long)p->stats.received, (unsigned long)p->stats.spoofed,
		       (unsigned long)p->stats.dropped, (unsigned long)p->backlog.dropped,
		       (unsigned long)__atomic_load_n(&p->malformed, __ATOMIC_RELAXED),
		       (unsigned long)p->stats.dhcp, net_backlog_count(&p->backlog));
	}
	spin_unlock(&sw->lock);
}

void vm_net_dump(void)
{
	net_for_each(dump_network, NULL);
}
