// SPDX-License-Identifier: BSD-2-Clause
/* The host PLIC: Vireo's own device interrupts (console input, disks). */
#include <vireo/hart.h>
#include <vireo/host_irq.h>
#include <vireo/platform.h>

#define PLIC_MAX_SOURCES      128
#define PLIC_PRIORITY(src)    (4 * (src))
#define PLIC_ENABLE(ctx, src) (0x2000 + 0x80 * (ctx) + 4 * ((src) / 32))
#define PLIC_THRESHOLD(ctx)   (0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)	      (0x200004 + 0x1000 * (ctx))

static uintptr_t plic_base;
static unsigned plic_ndev;
static int hart_context[VIREO_MAX_HARTS]; /* by logical hart index */

static volatile uint32_t *reg(uintptr_t offset)
{
	return (volatile uint32_t *)(plic_base + offset);
}

/* Start with every source masked on this hart's context, threshold 0. */
static void plic_init_hart(unsigned index)
{
	int ctx = index < VIREO_MAX_HARTS ? hart_context[index] : -1;
	if (ctx < 0)
		return;
	/* QEMU accepts only the words below riscv,ndev (not the one holding it). */
	for (unsigned w = 0; w < (plic_ndev + 31) / 32; w++)
		*reg(PLIC_ENABLE(ctx, w * 32)) = 0;
	*reg(PLIC_THRESHOLD(ctx)) = 0;
}

static int plic_enable(unsigned source, unsigned hart_index, bool level, const char **why)
{
	int ctx = hart_index < VIREO_MAX_HARTS ? hart_context[hart_index] : -1;

	(void)level; /* the PLIC's gateways decide, not its driver */
	if (ctx < 0) {
		*why = "the PLIC has no supervisor context for that hart";
		return -VIREO_ENOENT;
	}
	*reg(PLIC_PRIORITY(source)) = 1;
	*reg(PLIC_ENABLE(ctx, source)) |= 1u << (source % 32);
	return 0;
}

static void plic_handle(unsigned hart_index)
{
	int ctx = hart_index < VIREO_MAX_HARTS ? hart_context[hart_index] : -1;
	uint32_t source;

	if (ctx < 0)
		return;
	while ((source = *reg(PLIC_CLAIM(ctx))) != 0) {
		host_irq_dispatch(source);
		*reg(PLIC_CLAIM(ctx)) = source;
	}
}

static struct host_irqchip plic_chip = {
    .name = "PLIC",
    .init_hart = plic_init_hart,
    .enable = plic_enable,
    .handle = plic_handle,
};

const struct host_irqchip *plic_host_init(const struct platform *plat, const char **why)
{
	plic_base = (uintptr_t)plat->plic.base;
	plic_ndev = plat->plic_ndev < PLIC_MAX_SOURCES ? plat->plic_ndev : PLIC_MAX_SOURCES - 1;
	plic_chip.nsources = plic_ndev;
	/* The PLIC's contexts are listed in DT order; Vireo numbers harts boot hart first. */
	for (unsigned i = 0; i < VIREO_MAX_HARTS; i++) {
		int pos = host_irq_dt_position(plat, i);

		hart_context[i] = pos >= 0 ? plat->plic_s_context[pos] : -1;
	}
	if (!plic_chip.nsources) {
		*why = "the PLIC's node gives no riscv,ndev";
		return NULL;
	}
	return &plic_chip;
}
