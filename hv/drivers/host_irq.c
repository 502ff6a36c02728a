// SPDX-License-Identifier: BSD-2-Clause
/*
 * The host's interrupt controller, chosen from its device tree: an APLIC
 * (forwarding MSIs to IMSICs, or delivering directly) when there is one for
 * supervisor level, else a PLIC. The handlers of the sources are kept here;
 * the chip drivers only route, claim and call host_irq_dispatch.
 */
#include <vireo/hart.h>
#include <vireo/host_irq.h>
#include <vireo/log.h>
#include <vireo/platform.h>
#include <vireo/printf.h>
#include <vireo/time.h>

struct host_irq {
	host_irq_handler handler;
	void *opaque;
};

static const struct host_irqchip *chip;
static struct host_irq irqs[HOST_IRQ_MAX_SOURCES];
static bool level_triggered[HOST_IRQ_MAX_SOURCES];
static char last_error[120];
static uint64_t next_poll;
static unsigned highest_source; /* the largest registered: what polling walks */

int host_irq_dt_position(const struct platform *plat, unsigned hart_index)
{
	const struct hart *h = hart_by_index(hart_index);

	for (unsigned i = 0; h && i < plat->nharts; i++)
		if (plat->hartids[i] == h->hartid)
			return (int)i;
	return -1;
}

/* Edge-triggered sources are rare (QEMU's are all level-high); those whose node says
 * so are remembered, every other one is level-triggered. */
static void note_trigger(const struct platform_mmio *dev)
{
	if (!dev->present || !dev->irq || dev->irq >= HOST_IRQ_MAX_SOURCES)
		return;
	level_triggered[dev->irq] = !(dev->irq_type == PLATFORM_IRQ_EDGE_RISING ||
				      dev->irq_type == PLATFORM_IRQ_EDGE_FALLING);
}

void host_irq_init(const struct platform *plat)
{
	const char *why = "the device tree has no PLIC, and no APLIC for supervisor level";

	for (unsigned i = 0; i < HOST_IRQ_MAX_SOURCES; i++)
		level_triggered[i] = true;
	note_trigger(&plat->uart);
	for (unsigned i = 0; i < plat->nvirtio; i++)
		note_trigger(&plat->virtio[i]);
	if (plat->aplic.present)
		chip = aplic_host_init(plat, &why);
	else if (plat->plic.present)
		chip = plic_host_init(plat, &why);
	if (!chip) {
		log_warn("no host interrupt controller: %s; console input and disks will not work",
			 why);
		return;
	}
	if (chip->polled)
		log_warn("host interrupts: %s: firmware forwards none of the device interrupts to "
			 "supervisor level; Vireo polls the devices every %u us instead",
			 chip->name, HOST_IRQ_POLL_US);
	else
		log_info("host interrupts: %s, %u sources", chip->name, chip->nsources);
	host_irq_init_hart();
}

void host_irq_init_hart(void)
{
	if (chip && chip->init_hart)
		chip->init_hart(this_hart()->index);
}

const char *host_irq_controller(void)
{
	return chip ? chip->name : NULL;
}

const char *host_irq_error(void)
{
	return last_error;
}

int host_irq_register(unsigned source, unsigned hart_index, host_irq_handler handler, void *opaque)
{
	const char *why = NULL;
	int err;

	last_error[0] = '\0';
	if (!chip) {
		vireo_snprintf(last_error, sizeof(last_error),
			       "the machine has no interrupt controller Vireo can use");
		return -VIREO_ENOENT;
	}
	if (source == 0 || source > chip->nsources || source >= HOST_IRQ_MAX_SOURCES) {
		vireo_snprintf(last_error, sizeof(last_error),
			       "its interrupt %u is not one of the %s's sources 1..%u", source,
			       chip->name, chip->nsources);
		return -VIREO_EINVAL;
	}
	if (!hart_by_index(hart_index)) {
		vireo_snprintf(last_error, sizeof(last_error), "there is no hart %u to take it",
			       hart_index);
		return -VIREO_EINVAL;
	}
	irqs[source] = (struct host_irq){handler, opaque};
	highest_source = MAX(highest_source, source);
	if (chip->polled)
		return 0;
	err = chip->enable(source, hart_index, level_triggered[source], &why);
	if (err) {
		irqs[source] = (struct host_irq){0};
		vireo_snprintf(last_error, sizeof(last_error), "its interrupt %u: %s", source,
			       why ? why : "the interrupt controller refused it");
	}
	return err;
}

void host_irq_dispatch(unsigned source)
{
	if (source < HOST_IRQ_MAX_SOURCES && irqs[source].handler)
		irqs[source].handler(irqs[source].opaque);
	else
		log_warn("spurious host interrupt %u", source);
}

void host_irq_handle(void)
{
	if (chip && chip->polled)
		host_irq_poll(UINT64_MAX);
	else if (chip)
		chip->handle(this_hart()->index);
}

bool host_irq_polled(void)
{
	return chip && chip->polled;
}

uint64_t host_irq_poll_deadline(void)
{
	if (!host_irq_polled() || this_hart()->index != 0 || !highest_source)
		return UINT64_MAX;
	return next_poll;
}

bool host_irq_poll(uint64_t now)
{
	if (now < host_irq_poll_deadline())
		return false;
	/* A handler finds nothing to do when its device has not interrupted. */
	for (unsigned s = 1; s <= highest_source; s++)
		if (irqs[s].handler)
			irqs[s].handler(irqs[s].opaque);
	next_poll = hart_time() + time_us_to_ticks(HOST_IRQ_POLL_US);
	return true;
}
