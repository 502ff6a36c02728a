// SPDX-License-Identifier: BSD-2-Clause
/*
 * The host APLIC's supervisor-level domain, which firmware delegates to
 * Vireo. In direct mode it signals each hart's supervisor external interrupt
 * through the hart's IDC, claimed with claimi; in MSI mode it writes the
 * source's number as an MSI into the target hart's S-level IMSIC file,
 * claimed with stopei. Which mode is the hardware's choice: the device tree
 * says which (msi-parent), and the domain's DM bit must agree.
 *
 * Delegation is firmware's: the machine-level (root) domain must forward each
 * wire to this domain, and only it can (the root is out of Vireo's reach:
 * OpenSBI guards it with PMP). OpenSBI v1.1 does so on QEMU 7.2, with both
 * aia=aplic and aia=aplic-imsic; a firmware that does not would leave every
 * wire at the root, where it goes nowhere. So before trusting the wires
 * Vireo raises one (the console UART's, with its transmitter-empty
 * interrupt) and looks whether this domain sees it (in_clrip); if not, it
 * says so and the host's devices are polled instead (host_irq.h).
 */
#include <vireo/aia.h>
#include <vireo/aplic_regs.h>
#include <vireo/console.h>
#include <vireo/hart.h>
#include <vireo/host_irq.h>
#include <vireo/platform.h>
#include <vireo/printf.h>

static uintptr_t aplic_base;
static bool msi_mode;
static int idc_of[VIREO_MAX_HARTS];	   /* direct: by logical hart index, -1 none */
static unsigned msi_hart[VIREO_MAX_HARTS]; /* MSI: the hart index of its IMSIC file */
static bool has_file[VIREO_MAX_HARTS];	   /* MSI: that hart has an S-level file */
static bool level_source[HOST_IRQ_MAX_SOURCES];
static unsigned imsic_ids;
static char name[64];

static volatile uint32_t *reg(uintptr_t offset)
{
	return (volatile uint32_t *)(aplic_base + offset);
}

/* The source's rectified input (its wire, as this domain sees it). */
static bool input_seen(unsigned source)
{
	return (*reg(APLIC_IN_CLRIP + 4 * (source / 32)) >> (source % 32)) & 1;
}

static void aplic_init_hart(unsigned index)
{
	int idc = index < VIREO_MAX_HARTS ? idc_of[index] : -1;

	if (msi_mode) {
		imsic_host_init_hart();
		return;
	}
	if (idc < 0)
		return;
	*reg(APLIC_IDC(idc) + APLIC_IDC_ITHRESHOLD) = 0;
	*reg(APLIC_IDC(idc) + APLIC_IDC_IFORCE) = 0;
	*reg(APLIC_IDC(idc) + APLIC_IDC_IDELIVERY) = 1;
}

static int aplic_enable(unsigned source, unsigned hart_index, bool level, const char **why)
{
	uint32_t target;

	if (msi_mode) {
		if (!has_file[hart_index]) {
			*why = "that hart has no supervisor-level IMSIC file";
			return -VIREO_ENOENT;
		}
		if (source > imsic_ids) {
			*why = "the IMSIC has no interrupt identity that large";
			return -VIREO_ERANGE;
		}
		/* The MSI carries the source's own number as its identity. */
		target = msi_hart[hart_index] << APLIC_TARGET_HART_SHIFT | source;
	} else {
		if (idc_of[hart_index] < 0) {
			*why = "the APLIC delivers to no IDC of that hart";
			return -VIREO_ENOENT;
		}
		target =
		    (uint32_t)idc_of[hart_index] << APLIC_TARGET_HART_SHIFT | 1; /* priority 1 */
	}
	level_source[source] = level;
	*reg(APLIC_SOURCECFG(source)) = level ? APLIC_SM_LEVEL1 : APLIC_SM_EDGE1;
	if ((*reg(APLIC_SOURCECFG(source)) & APLIC_SOURCECFG_SM) == APLIC_SM_INACTIVE) {
		*why = "firmware did not delegate it to supervisor level";
		return -VIREO_ENOENT;
	}
	*reg(APLIC_TARGET(source)) = target;
	*reg(APLIC_SETIENUM) = source;
	return 0;
}

static void aplic_handle(unsigned hart_index)
{
	unsigned id;

	if (msi_mode) {
		while ((id = aia_sfile_claim()) != 0) {
			host_irq_dispatch(id);
			/* In MSI mode a level source that is still asserted sends no new MSI by
			 * itself: setting its pending bit again does (AIA, "Special consideration
			 * for level-sensitive interrupt sources"). The spec has the APLIC ignore
			 * that while the input is low; QEMU 7.2's sets it anyway (an endless
			 * stream of MSIs), so look at the input first. If it rises after the
			 * look, the rising edge sends the MSI. */
			if (id < HOST_IRQ_MAX_SOURCES && level_source[id] && input_seen(id))
				*reg(APLIC_SETIPNUM_LE) = id;
		}
		return;
	}
	if (hart_index >= VIREO_MAX_HARTS || idc_of[hart_index] < 0)
		return;
	while ((id = *reg(APLIC_IDC(idc_of[hart_index]) + APLIC_IDC_CLAIMI) >>
		     APLIC_TOPI_ID_SHIFT) != 0)
		host_irq_dispatch(id);
}

static struct host_irqchip aplic_chip = {
    .name = name,
    .init_hart = aplic_init_hart,
    .enable = aplic_enable,
    .handle = aplic_handle,
};

/* Do the wires reach this domain? Raise the console UART's and look (with the source
 * active and disabled, so nothing is delivered). No UART interrupt: assume they do. */
static bool wires_delegated(const struct platform *plat)
{
	unsigned src = plat->uart.irq;
	bool seen = true;

	if (!plat->uart.present || !src || src > aplic_chip.nsources)
		return true;
	*reg(APLIC_SOURCECFG(src)) = APLIC_SM_LEVEL1;
	if (console_raise_irq(true)) {
		/* QEMU raises the line as the write happens; a real APLIC may take a moment. */
		for (unsigned i = 0; i < 1000 && !input_seen(src); i++)
			;
		seen = input_seen(src);
		console_raise_irq(false);
	}
	*reg(APLIC_CLRIPNUM) = src;
	*reg(APLIC_SOURCECFG(src)) = APLIC_SM_INACTIVE;
	return seen;
}

const struct host_irqchip *aplic_host_init(const struct platform *plat, const char **why)
{
	uint32_t want;

	aplic_base = (uintptr_t)plat->aplic.base;
	msi_mode = plat->aplic.msi;
	aplic_chip.nsources = MIN(plat->aplic.nsources, (unsigned)APLIC_MAX_SOURCES - 1);
	for (unsigned i = 0; i < VIREO_MAX_HARTS; i++) {
		int pos = host_irq_dt_position(plat, i);

		idc_of[i] = pos >= 0 ? plat->aplic.idc[pos] : -1;
		has_file[i] = pos >= 0 && plat->imsic.file[pos];
		msi_hart[i] = pos >= 0 ? plat->imsic.hart_index[pos] : 0;
	}
	if (msi_mode && imsic_host_init(plat, why))
		return NULL;
	imsic_ids = plat->imsic.num_ids;
	/* Everything off while it is set up; sources are configured as drivers ask. */
	*reg(APLIC_DOMAINCFG) = 0;
	for (unsigned s = 0; s <= aplic_chip.nsources; s += 32)
		*reg(APLIC_CLRIE + 4 * (s / 32)) = ~0u;
	want = APLIC_DOMAINCFG_IE | (msi_mode ? APLIC_DOMAINCFG_DM : 0);
	*reg(APLIC_DOMAINCFG) = want;
	if ((*reg(APLIC_DOMAINCFG) & (APLIC_DOMAINCFG_IE | APLIC_DOMAINCFG_DM)) != want) {
		*why = msi_mode
			   ? "the APLIC does not take MSI delivery mode, which its node says"
			   : "the APLIC does not take direct delivery mode, which its node says";
		return NULL;
	}
	aplic_chip.polled = !wires_delegated(plat);
	vireo_snprintf(name, sizeof(name), "APLIC at %#lx (%s)", (unsigned long)aplic_base,
		       msi_mode ? "MSIs to IMSICs" : "direct delivery");
	return &aplic_chip;
}
