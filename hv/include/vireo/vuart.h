/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtual ns16550a UART every VM gets (reg-shift 0, reg-io-width 1),
 * driven by the guest through trapped MMIO and by the host console through
 * vuart_receive().
 *
 * Transmission is instantaneous: each byte written to THR goes straight to
 * the tx callback (or, in MCR loopback mode, back into the RX FIFO), so
 * THR and the transmitter are always empty (LSR.THRE = LSR.TEMT = 1).
 * The modem inputs read as CTS, DSR and DCD asserted (a console that is
 * always connected), RI clear. The interrupt output is not gated by
 * MCR.OUT2 (as on SoC-style 16550s and QEMU's virt machine).
 *
 * Locking: each instance has its own spinlock, held while the tx callback
 * and irq_line_set() run, so that bytes and interrupt levels leave in
 * order. Neither callback may call back into this UART. Lock order is
 * UART -> PLIC (the PLIC never calls back into a device).
 */
#ifndef VIREO_VUART_H
#define VIREO_VUART_H

#include <vireo/types.h>
#include <vireo/spinlock.h>
#include <vireo/mmio_bus.h>
#include <vireo/irq_line.h>

#define VUART_FIFO_SIZE 16

/* Register offsets (DLAB selects DLL/DLM at 0/1). */
#define VUART_RBR      0 /* read, DLAB=0 */
#define VUART_THR      0 /* write, DLAB=0 */
#define VUART_DLL      0 /* DLAB=1 */
#define VUART_IER      1 /* DLAB=0 */
#define VUART_DLM      1 /* DLAB=1 */
#define VUART_IIR      2 /* read */
#define VUART_FCR      2 /* write */
#define VUART_LCR      3
#define VUART_MCR      4
#define VUART_LSR      5
#define VUART_MSR      6
#define VUART_SCR      7
#define VUART_NUM_REGS 8

#define VUART_IER_ERBFI 0x01 /* received data available */
#define VUART_IER_ETBEI 0x02 /* THR empty */
#define VUART_IER_ELSI	0x04 /* receiver line status */
#define VUART_IER_EDSSI 0x08 /* modem status */

#define VUART_IIR_NO_INT  0x01
#define VUART_IIR_MSI	  0x00
#define VUART_IIR_THRI	  0x02
#define VUART_IIR_RDI	  0x04
#define VUART_IIR_RLSI	  0x06
#define VUART_IIR_TIMEOUT 0x0c
#define VUART_IIR_FIFOS	  0xc0 /* both set when FIFOs are enabled */

#define VUART_FCR_ENABLE     0x01
#define VUART_FCR_CLEAR_RX   0x02
#define VUART_FCR_CLEAR_TX   0x04
#define VUART_FCR_DMA	     0x08
#define VUART_FCR_TRIG_SHIFT 6

#define VUART_LCR_DLAB 0x80

#define VUART_MCR_DTR  0x01
#define VUART_MCR_RTS  0x02
#define VUART_MCR_OUT1 0x04
#define VUART_MCR_OUT2 0x08
#define VUART_MCR_LOOP 0x10

#define VUART_LSR_DR   0x01
#define VUART_LSR_OE   0x02
#define VUART_LSR_THRE 0x20
#define VUART_LSR_TEMT 0x40

#define VUART_MSR_DCTS 0x01
#define VUART_MSR_DDSR 0x02
#define VUART_MSR_TERI 0x04
#define VUART_MSR_DDCD 0x08
#define VUART_MSR_CTS  0x10
#define VUART_MSR_DSR  0x20
#define VUART_MSR_RI   0x40
#define VUART_MSR_DCD  0x80

typedef void (*vuart_tx_fn)(void *opaque, uint8_t byte);

struct vuart {
	spinlock_t lock;
	uint8_t rx_fifo[VUART_FIFO_SIZE];
	uint8_t rx_head; /* index of the oldest byte */
	uint8_t rx_count;
	uint8_t ier;
	uint8_t fcr; /* the programmed bits: enable, DMA mode, trigger level */
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr_err; /* sticky error bits (OE), cleared by reading LSR */
	uint8_t msr;	 /* modem inputs (bits 7:4) and their deltas (bits 3:0) */
	uint8_t scr;
	uint8_t dll;
	uint8_t dlm;
	bool thre_pending; /* THRE interrupt latched, not yet acknowledged */
	bool irq_level;	   /* last level driven onto the irq line */
	vuart_tx_fn tx;
	void *opaque;
	struct irq_line irq; /* a copy; all zero when none was given */
};

struct snap_writer;
struct snap_reader;
/* Snapshots (vireo/vm_snapshot.h): the registers and the RX FIFO; load drives the line
 * to what they say, and is -VIREO_EINVAL (FIFO emptied) for a FIFO out of range. */
void vuart_save(struct vuart *u, struct snap_writer *w);
int vuart_load(struct vuart *u, struct snap_reader *r);

/* Resets the UART; irq may be NULL. The line is assumed low and is not driven here. */
void vuart_init(struct vuart *u, vuart_tx_fn tx, void *opaque, const struct irq_line *irq);

/*
 * Host console input. Returns false, leaving the byte with the caller, when
 * the receiver has no room (FIFO full, or a full RBR with FIFOs off) or is
 * disconnected from the line by MCR loopback; retry later, e.g. after the
 * guest's next access or on a timer.
 */
bool vuart_receive(struct vuart *u, uint8_t byte);
bool vuart_rx_has_room(struct vuart *u);

/*
 * MMIO: offsets 0..7 are the registers, accessed at any width (a wider
 * access reads the register zero-extended, writes its low byte), as QEMU
 * does; 8..VM_UART_SIZE-1 are reserved: read 0, writes ignored.
 */
extern const struct mmio_ops vuart_mmio_ops;

#endif
