// SPDX-License-Identifier: BSD-2-Clause
/* VMs on the host channel; see vireo/vm_chan.h and docs/channel.md. */
#include <vireo/chan.h>
#include <vireo/ctl.h>
#include <vireo/hart.h>
#include <vireo/time.h>
#include <vireo/link_host.h>
#include <vireo/log.h>
#include <vireo/vm.h>
#include <vireo/vm_chan.h>

#define DRAIN_TIMEOUT_US 500000
#define DRAIN_POLL_US	 1000

static struct chan_link link;
static bool link_up;

void vm_chan_init(const struct platform *plat)
{
	link_up = link_host_probe(plat, &link) == 0;
	if (link_up)
		ctl_attach(&link);
}

static unsigned chan_id(const struct vm *vm)
{
	return vm->config.console_number;
}

static void console_write(void *ctx, const uint8_t *bytes, size_t n)
{
	struct vm *vm = ctx;

	vm_console_write(&vm->console, bytes, n);
}

static void port_open(void *ctx, bool open)
{
	if (link_up)
		chan_port_open(&link, chan_id(ctx), open);
}

static void tx_ready(void *ctx)
{
	if (link_up)
		chan_port_tx_ready(&link, chan_id(ctx));
}

static void rx_consumed(void *ctx, uint32_t n)
{
	if (link_up)
		chan_port_consumed(&link, chan_id(ctx), n);
}

const struct vcon_ops vm_chan_vcon_ops = {
    .console_write = console_write,
    .port_open = port_open,
    .tx_ready = tx_ready,
    .rx_consumed = rx_consumed,
};

static void move(void *dev, bool *tx_ready_out, uint32_t *consumed)
{
	vcon_move(dev, tx_ready_out, consumed);
}

void vm_chan_attach(struct vm *vm)
{
	struct vcon *c = vm->console_dev;

	if (!link_up || !c)
		return;
	if (chan_port_attach(&link, chan_id(vm), vm->name, &c->to_host, &c->from_host, move, c))
		log_warn("VM '%s': no channel %u for its agent port", vm->name, chan_id(vm));
}

void vm_chan_drain(void)
{
	uint64_t deadline = hart_time() + time_us_to_ticks(DRAIN_TIMEOUT_US);

	while (link_up && hart_time() < deadline) {
		chan_link_pump(&link);
		if (ctl_idle() && chan_link_flushed(&link))
			return;
		hart_pause(time_us_to_ticks(DRAIN_POLL_US));
	}
}

void vm_chan_detach(struct vm *vm, int status)
{
	if (link_up && vm->console_dev)
		chan_port_detach(&link, chan_id(vm), status);
}

bool vm_chan_id_idle(unsigned id)
{
	return !link_up || chan_port_idle(&link, id);
}

void vm_chan_port_opened(struct vm *vm)
{
	if (link_up && vm->console_dev)
		chan_port_open(&link, chan_id(vm), true);
}
