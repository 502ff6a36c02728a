// SPDX-License-Identifier: BSD-2-Clause
/* The host PLIC: Vireo's own device interrupts (console input, disks). */
#include <vireo/hart.h>
#include <vireo/host_irq.h>
#include <vireo/log.h>

#define PLIC_MAX_SOURCES      128
#define PLIC_PRIORITY(src)    (4 * (src))
#define PLIC_ENABLE(ctx, src) (0x2000 + 0x80 * (ctx) + 4 * ((src) / 32))
#define PLIC_THRESHOLD(ctx)   (0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)	      (0x200004 + 0x1000 * (ctx))

struct host_irq {
	host_irq_handler handler;
	void *opaque;
};

static uintptr_t plic_base;
static unsigned plic_ndev;
static int hart_context[VIREO_MAX_HARTS];
static unsigned hart_contexts;
static struct host_irq irqs[PLIC_MAX_SOURCES];

static volatile uint32_t *reg(uintptr_t offset)
{
	return (volatile uint32_t *)(plic_base + offset);
}

void host_irq_init(uintptr_t base, unsigned ndev, const int *s_context, unsigned nharts)
{
	plic_base = base;
	plic_ndev = ndev < PLIC_MAX_SOURCES ? ndev : PLIC_MAX_SOURCES - 1;
	hart_contexts = nharts;
	for (unsigned h = 0; h < nharts && h < VIREO_MAX_HARTS; h++) {
		hart_context[h] = s_context[h];
		if (s_context[h] < 0)
			continue;
		/* Start with every source masked on every hart, threshold 0. */
		/* QEMU accepts only the words below riscv,ndev (not the one holding it). */
		for (unsigned w = 0; w < (plic_ndev + 31) / 32; w++)
			*reg(PLIC_ENABLE(s_context[h], w * 32)) = 0;
		*reg(PLIC_THRESHOLD(s_context[h])) = 0;
	}
}

int host_irq_register(unsigned source, unsigned hart_index, host_irq_handler handler, void *opaque)
{
	int ctx;

	if (!plic_base || source == 0 || source > plic_ndev || hart_index >= hart_contexts)
		return -VIREO_EINVAL;
	ctx = hart_context[hart_index];
	if (ctx < 0)
		return -VIREO_ENOENT;
	irqs[source] = (struct host_irq){handler, opaque};
	*reg(PLIC_PRIORITY(source)) = 1;
	*reg(PLIC_ENABLE(ctx, source)) |= 1u << (source % 32);
	return 0;
}

void host_irq_handle(void)
{
	unsigned index = this_hart()->index;
	int ctx = index < hart_contexts ? hart_context[index] : -1;
	uint32_t source;

	if (ctx < 0)
		return;
	while ((source = *reg(PLIC_CLAIM(ctx))) != 0) {
		if (source < PLIC_MAX_SOURCES && irqs[source].handler)
			irqs[source].handler(irqs[source].opaque);
		else
			log_warn("spurious host interrupt %u", source);
		*reg(PLIC_CLAIM(ctx)) = source;
	}
}
