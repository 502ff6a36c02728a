// SPDX-License-Identifier: BSD-2-Clause
/*
 * Virtual ns16550a UART: the register model of a 16550A with a 16-byte RX
 * FIFO and an instantaneous transmitter. The interrupt output is recomputed
 * after every register access and every received byte, so the line is
 * always level-correct.
 */
#include <vireo/snap_io.h>
#include <vireo/vuart.h>

static const uint8_t vuart_trigger_levels[4] = {1, 4, 8, 14};

static bool vuart_fifo_enabled(const struct vuart *u)
{
	return u->fcr & VUART_FCR_ENABLE;
}

/* With FIFOs off the receiver is a single RBR, as on a 16450. */
static unsigned vuart_rx_capacity(const struct vuart *u)
{
	return vuart_fifo_enabled(u) ? VUART_FIFO_SIZE : 1;
}

static bool vuart_loopback(const struct vuart *u)
{
	return u->mcr & VUART_MCR_LOOP;
}

static void vuart_rx_push(struct vuart *u, uint8_t byte)
{
	u->rx_fifo[(u->rx_head + u->rx_count) % VUART_FIFO_SIZE] = byte;
	u->rx_count++;
}

static uint8_t vuart_rx_pop(struct vuart *u)
{
	uint8_t byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx_fifo[u->rx_head];
	u->rx_head = (u->rx_head + 1) % VUART_FIFO_SIZE;
	u->rx_count--;
	return byte;
}

static void vuart_rx_clear(struct vuart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* The interrupt the IIR reports now, in the 16550's priority order. */
static uint8_t vuart_iir_source(const struct vuart *u)
{
	if ((u->ier & VUART_IER_ELSI) && u->lsr_err)
		return VUART_IIR_RLSI;
	if ((u->ier & VUART_IER_ERBFI) && u->rx_count) {
		/*
		 * Data below the trigger level would raise a character timeout
		 * after four idle character times; with no line timing to model
		 * it is reported at once, which the guest handles the same way.
		 */
		if (vuart_fifo_enabled(u) && u->rx_count < vuart_trigger_levels[u->fcr >> 6])
			return VUART_IIR_TIMEOUT;
		return VUART_IIR_RDI;
	}
	if ((u->ier & VUART_IER_ETBEI) && u->thre_pending)
		return VUART_IIR_THRI;
	if ((u->ier & VUART_IER_EDSSI) && (u->msr & 0x0f))
		return VUART_IIR_MSI;
	return VUART_IIR_NO_INT;
}

/* Called with the lock held after every state change; drives the line only on a change. */
static void vuart_update_irq(struct vuart *u)
{
	bool level = vuart_iir_source(u) != VUART_IIR_NO_INT;

	spin_assert_held(&u->lock);
	if (level == u->irq_level)
		return;
	u->irq_level = level;
	irq_line_set(&u->irq, level);
}

/* Modem inputs: the console line is always up; loopback wires them to the MCR outputs. */
static uint8_t vuart_modem_inputs(const struct vuart *u)
{
	uint8_t in = 0;

	if (!vuart_loopback(u))
		return VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD;
	if (u->mcr & VUART_MCR_RTS)
		in |= VUART_MSR_CTS;
	if (u->mcr & VUART_MCR_DTR)
		in |= VUART_MSR_DSR;
	if (u->mcr & VUART_MCR_OUT1)
		in |= VUART_MSR_RI;
	if (u->mcr & VUART_MCR_OUT2)
		in |= VUART_MSR_DCD;
	return in;
}

/* Latch the delta bits: any change of CTS/DSR/DCD, and RI only on its trailing edge. */
static void vuart_update_msr(struct vuart *u)
{
	uint8_t old = u->msr & 0xf0, now = vuart_modem_inputs(u);
	uint8_t changed = old ^ now, delta = 0;

	if (changed & VUART_MSR_CTS)
		delta |= VUART_MSR_DCTS;
	if (changed & VUART_MSR_DSR)
		delta |= VUART_MSR_DDSR;
	if ((old & VUART_MSR_RI) && !(now & VUART_MSR_RI))
		delta |= VUART_MSR_TERI;
	if (changed & VUART_MSR_DCD)
		delta |= VUART_MSR_DDCD;
	u->msr = now | (u->msr & 0x0f) | delta;
}

void vuart_init(struct vuart *u, vuart_tx_fn tx, void *opaque, const struct irq_line *irq)
{
	__builtin_memset(u, 0, sizeof(*u));
	u->lock = (spinlock_t)SPINLOCK_INIT;
	u->tx = tx;
	u->opaque = opaque;
	if (irq)
		u->irq = *irq;
	u->msr = vuart_modem_inputs(u);
}

bool vuart_rx_has_room(struct vuart *u)
{
	bool room;

	spin_lock(&u->lock);
	room = !vuart_loopback(u) && u->rx_count < vuart_rx_capacity(u);
	spin_unlock(&u->lock);
	return room;
}

bool vuart_receive(struct vuart *u, uint8_t byte)
{
	bool ok = false;

	spin_lock(&u->lock);
	if (!vuart_loopback(u) && u->rx_count < vuart_rx_capacity(u)) {
		vuart_rx_push(u, byte);
		vuart_update_irq(u);
		ok = true;
	}
	spin_unlock(&u->lock);
	return ok;
}

/* A byte looped back from THR arrives like one from the line: it can overrun. */
static void vuart_loopback_receive(struct vuart *u, uint8_t byte)
{
	if (u->rx_count < vuart_rx_capacity(u)) {
		vuart_rx_push(u, byte);
		return;
	}
	u->lsr_err |= VUART_LSR_OE;
	/* A 16450's RBR is overwritten; a full 16550 FIFO keeps its bytes and drops the new one. */
	if (!vuart_fifo_enabled(u))
		u->rx_fifo[u->rx_head] = byte;
}

static void vuart_write_thr(struct vuart *u, uint8_t byte)
{
	if (vuart_loopback(u))
		vuart_loopback_receive(u, byte);
	else if (u->tx)
		u->tx(u->opaque, byte);
	/* THR empties at once, which raises THRE again. */
	u->thre_pending = true;
}

static void vuart_write_ier(struct vuart *u, uint8_t val)
{
	u->ier = val & 0x0f;
	/* Enabling ETBEI while THR is empty (always, here) raises THRE; Linux tests this. */
	if (u->ier & VUART_IER_ETBEI)
		u->thre_pending = true;
}

static void vuart_write_fcr(struct vuart *u, uint8_t val)
{
	bool enable = val & VUART_FCR_ENABLE;

	/* Switching between FIFO and 16450 mode empties the FIFOs. */
	if (enable != vuart_fifo_enabled(u))
		vuart_rx_clear(u);
	/* The other bits are only programmed while the enable bit is written as 1. */
	if (!enable) {
		u->fcr = 0;
		return;
	}
	if (val & VUART_FCR_CLEAR_RX)
		vuart_rx_clear(u);
	u->fcr = val & (VUART_FCR_ENABLE | VUART_FCR_DMA | (3 << VUART_FCR_TRIG_SHIFT));
}

static uint8_t vuart_read_iir(struct vuart *u)
{
	uint8_t src = vuart_iir_source(u);

	/* Reading IIR acknowledges THRE when that is what it reports. */
	if (src == VUART_IIR_THRI)
		u->thre_pending = false;
	return src | (vuart_fifo_enabled(u) ? VUART_IIR_FIFOS : 0);
}

static uint8_t vuart_read_lsr(struct vuart *u)
{
	uint8_t lsr = u->lsr_err | VUART_LSR_THRE | VUART_LSR_TEMT;

	if (u->rx_count)
		lsr |= VUART_LSR_DR;
	u->lsr_err = 0;
	return lsr;
}

static uint8_t vuart_read_msr(struct vuart *u)
{
	uint8_t msr = u->msr;

	u->msr &= 0xf0;
	return msr;
}

static uint8_t vuart_reg_read(struct vuart *u, unsigned reg)
{
	bool dlab = u->lcr & VUART_LCR_DLAB;

	switch (reg) {
	case VUART_RBR:
		return dlab ? u->dll : vuart_rx_pop(u);
	case VUART_IER:
		return dlab ? u->dlm : u->ier;
	case VUART_IIR:
		return vuart_read_iir(u);
	case VUART_LCR:
		return u->lcr;
	case VUART_MCR:
		return u->mcr;
	case VUART_LSR:
		return vuart_read_lsr(u);
	case VUART_MSR:
		return vuart_read_msr(u);
	default:
		return u->scr;
	}
}

static void vuart_reg_write(struct vuart *u, unsigned reg, uint8_t val)
{
	bool dlab = u->lcr & VUART_LCR_DLAB;

	switch (reg) {
	case VUART_THR:
		if (dlab)
			u->dll = val;
		else
			vuart_write_thr(u, val);
		break;
	case VUART_IER:
		if (dlab)
			u->dlm = val;
		else
			vuart_write_ier(u, val);
		break;
	case VUART_FCR:
		vuart_write_fcr(u, val);
		break;
	case VUART_LCR:
		u->lcr = val;
		break;
	case VUART_MCR:
		u->mcr = val & 0x1f;
		vuart_update_msr(u);
		break;
	case VUART_SCR:
		u->scr = val;
		break;
	default:
		break; /* LSR and MSR: writes have no effect */
	}
}

static int vuart_mmio_read(void *opaque, uint64_t offset, unsigned width UNUSED, uint64_t *value)
{
	struct vuart *u = opaque;

	if (offset >= VUART_NUM_REGS) {
		*value = 0;
		return 0;
	}
	spin_lock(&u->lock);
	/* Only these reads change what the IIR reports (LSR only by clearing an error):
	 * the LSR polls of a console driver skip the re-evaluation. */
	bool may_change = offset == VUART_RBR || offset == VUART_IIR || offset == VUART_MSR ||
			  (offset == VUART_LSR && u->lsr_err);
	*value = vuart_reg_read(u, (unsigned)offset);
	if (may_change)
		vuart_update_irq(u);
	spin_unlock(&u->lock);
	return 0;
}

static int vuart_mmio_write(void *opaque, uint64_t offset, unsigned width UNUSED, uint64_t value)
{
	struct vuart *u = opaque;

	if (offset >= VUART_NUM_REGS)
		return 0;
	spin_lock(&u->lock);
	vuart_reg_write(u, (unsigned)offset, (uint8_t)value);
	vuart_update_irq(u);
	spin_unlock(&u->lock);
	return 0;
}

const struct mmio_ops vuart_mmio_ops = {.read = vuart_mmio_read, .write = vuart_mmio_write};

/* ---------------------------------------------------------------- snapshots */

void vuart_save(struct vuart *u, struct snap_writer *w)
{
	spin_lock(&u->lock);
	snap_put_bytes(w, u->rx_fifo, sizeof(u->rx_fifo));
	snap_put_u8(w, u->rx_head);
	snap_put_u8(w, u->rx_count);
	snap_put_u8(w, u->ier);
	snap_put_u8(w, u->fcr);
	snap_put_u8(w, u->lcr);
	snap_put_u8(w, u->mcr);
	snap_put_u8(w, u->lsr_err);
	snap_put_u8(w, u->msr);
	snap_put_u8(w, u->scr);
	snap_put_u8(w, u->dll);
	snap_put_u8(w, u->dlm);
	snap_put_u8(w, u->thre_pending);
	spin_unlock(&u->lock);
}

int vuart_load(struct vuart *u, struct snap_reader *r)
{
	spin_lock(&u->lock);
	snap_get_bytes(r, u->rx_fifo, sizeof(u->rx_fifo));
	u->rx_head = snap_get_u8(r);
	u->rx_count = snap_get_u8(r);
	u->ier = snap_get_u8(r) & 0x0f;
	u->fcr = snap_get_u8(r);
	u->lcr = snap_get_u8(r);
	u->mcr = snap_get_u8(r) & 0x1f;
	u->lsr_err = snap_get_u8(r);
	u->msr = snap_get_u8(r);
	u->scr = snap_get_u8(r);
	u->dll = snap_get_u8(r);
	u->dlm = snap_get_u8(r);
	u->thre_pending = snap_get_bool(r);
	if (u->rx_head >= VUART_FIFO_SIZE || u->rx_count > VUART_FIFO_SIZE)
		r->failed = true;
	if (r->failed)
		u->rx_head = u->rx_count = 0;
	/* The line as the state has it (the PLIC's saved level agrees). */
	u->irq_level = vuart_iir_source(u) == VUART_IIR_NO_INT;
	vuart_update_irq(u);
	spin_unlock(&u->lock);
	return r->failed ? -VIREO_EINVAL : 0;
}
