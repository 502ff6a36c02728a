// SPDX-License-Identifier: BSD-2-Clause
/* A vCPU's IMSIC interrupt file: a hardware guest file while one is free on its hart,
 * software otherwise (see vireo/vcpu_aia.h). */
#include <vireo/aia.h>
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/host_irq.h>
#include <vireo/platform.h>
#include <vireo/vcpu.h>

#define CSR_SIREG  0x151 /* as the guest names them: VS-mode's sireg is vsireg */
#define CSR_STOPEI 0x15c

static uintptr_t sfile[VIREO_MAX_HARTS]; /* each hart's S-level file; its guest files follow */
static unsigned files_per_hart;
static unsigned num_ids;
static bool imsic_present;
/* Per hart, touched only by that hart: the guest files in use (bit f: file f), and
 * what its hgeie holds. */
static unsigned long files_busy[VIREO_MAX_HARTS];
static unsigned long hgeie_now[VIREO_MAX_HARTS];

void vcpu_aia_setup(const struct platform *plat)
{
	unsigned gib = plat->imsic.guest_index_bits;

	imsic_present = plat->imsic.present && cpu_features.ssaia;
	if (!imsic_present)
		return;
	num_ids = MIN(plat->imsic.num_ids, (unsigned)AIA_MAX_IDS - 1);
	files_per_hart = MIN(cpu_features.geilen, (1u << gib) - 1);
	/* A hart without files means none anywhere: vCPUs move between all harts. */
	for (unsigned i = 0; i < hart_count(); i++) {
		int pos = host_irq_dt_position(plat, i);

		sfile[i] = pos >= 0 ? (uintptr_t)plat->imsic.file[pos] : 0;
		if (!sfile[i])
			files_per_hart = 0;
	}
}

bool vcpu_aia_possible(bool hardware)
{
	return imsic_present && num_ids && (!hardware || files_per_hart);
}

unsigned vcpu_aia_num_ids(void)
{
	return num_ids;
}

unsigned vcpu_aia_files_per_hart(void)
{
	return files_per_hart;
}

void vcpu_aia_init(struct vcpu *v, bool on)
{
	struct vcpu_aia *x = &v->aia;

	x->lock = (spinlock_t)SPINLOCK_INIT;
	x->on = on;
	x->file = 0;
	vimsic_init(&x->sw, num_ids);
}

/* The software file's output is the vCPU's VSEIP (with aia.lock held). */
static void sw_line(struct vcpu *v)
{
	spin_assert_held(&v->aia.lock);
	if (!v->aia.file)
		vcpu_set_ext_irq(v, vimsic_output(&v->aia.sw));
}

void vcpu_aia_deliver(struct vcpu *v, uint32_t id)
{
	struct vcpu_aia *x = &v->aia;

	spin_lock(&x->lock);
	if (x->file) {
		/* Into the hardware: a running guest takes it with no exit. A waiting vCPU's
		 * hart is kicked to look at it: the vCPU went waiting before it looked at its
		 * file (vcpu_aia_pending), and we look at `waiting` after the MSI is in. */
		aia_file_send(x->page, id);
		x->msis_hw++;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&v->waiting, __ATOMIC_ACQUIRE))
			vcpu_kick(v);
	} else {
		vimsic_set_pending(&x->sw, id);
		x->msis_sw++;
		sw_line(v);
	}
	spin_unlock(&x->lock);
}

static unsigned alloc_file(unsigned hart)
{
	for (unsigned f = 1; f <= files_per_hart; f++) {
		if (!(files_busy[hart] & BIT(f))) {
			files_busy[hart] |= BIT(f);
			return f;
		}
	}
	return 0;
}

/*
 * QEMU 7.2 decides whether an MSI into the file a running guest uses (VGEIN) is that
 * guest's interrupt from a snapshot taken before it locks: a hart entering the guest
 * at that moment can drop the interrupt, and a guest that unmasks (vsie) an interrupt
 * already in its file is not told either; it then runs with the interrupt pending and
 * unseen until something else interrupts it. With the running vCPU's file in hgeie,
 * such an MSI also raises SGEIP, which keeps QEMU looking, and it finds the guest's
 * interrupt. SGEI itself stays off (hie.SGEIE = 0): no exit, the guest takes it.
 */
static void nudge(struct vcpu *v, unsigned hart)
{
	unsigned long files = v->aia.file ? BIT(v->aia.file) : 0;

	if (files != hgeie_now[hart]) {
		hgeie_now[hart] = files;
		aia_gfile_watch(files);
	}
}

void vcpu_aia_load(struct vcpu *v)
{
	struct vcpu_aia *x = &v->aia;
	unsigned hart = this_hart()->index;
	unsigned f;

	if (!files_per_hart)
		return;
	if (x->on && !x->file && (f = alloc_file(hart)) != 0) {
		spin_lock(&x->lock);
		aia_gfile_restore(f, &x->sw.regs, num_ids);
		x->file = f;
		x->hart_index = hart;
		x->page = sfile[hart] + f * AIA_FILE_SIZE;
		vcpu_arch_set_guest_file(&v->arch, f);
		/* The file drives VSEIP from now on, not the line the software file drove. */
		__atomic_store_n(&v->ext_irq, 0, __ATOMIC_SEQ_CST);
		spin_unlock(&x->lock);
	}
	nudge(v, hart);
}

void vcpu_aia_release(struct vcpu *v)
{
	struct vcpu_aia *x = &v->aia;

	if (!x->on || !x->file)
		return;
	spin_lock(&x->lock);
	aia_gfile_save(x->file, &x->sw.regs, num_ids);
	files_busy[x->hart_index] &= ~BIT(x->file);
	x->file = 0;
	x->moves++;
	vcpu_arch_set_guest_file(&v->arch, 0);
	sw_line(v);
	spin_unlock(&x->lock);
}

bool vcpu_aia_pending(struct vcpu *v)
{
	struct vcpu_aia *x = &v->aia;

	/* After `waiting` was set: an MSI delivered later sees it and kicks us. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return x->file && x->hart_index == this_hart()->index &&
	       (aia_gfile_pending() & BIT(x->file));
}

bool vcpu_aia_csr(struct vcpu *v)
{
	struct vcpu_aia *x = &v->aia;
	const struct insn_csr *c = &v->exit.csr;
	uint64_t src, old = 0, value, mask;
	bool ok = true;

	if (!x->on || (c->csr != CSR_SIREG && c->csr != CSR_STOPEI))
		return false;
	src = c->imm ? c->src : vcpu_arch_get_reg(&v->arch, c->src);
	value = c->op == INSN_CSR_RC ? 0 : c->op == INSN_CSR_RS ? ~0ULL : src;
	mask = !c->writes ? 0 : c->op == INSN_CSR_RW ? ~0ULL : src;
	spin_lock(&x->lock);
	if (x->file) {
		ok = false; /* with a hardware file these do not trap: not ours to judge */
	} else if (c->csr == CSR_STOPEI) {
		/* Any write claims; the value written does not matter. */
		old = c->writes ? vimsic_claim(&x->sw) : vimsic_topei(&x->sw);
	} else {
		ok = vimsic_rmw(&x->sw, (unsigned)v->exit.csr_select, value, mask, &old) == 0;
	}
	if (ok)
		sw_line(v);
	spin_unlock(&x->lock);
	if (!ok)
		return false;
	vcpu_arch_set_reg(&v->arch, c->rd, old);
	vcpu_arch_skip_insn(&v->arch, 4);
	return true;
}
