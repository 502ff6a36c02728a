// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the virtual 16550A UART, driven only through its MMIO ops and public functions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <cmocka.h>

#include <vireo/vm_layout.h>
#include <vireo/vuart.h>

#define IRQ_SOURCE 10
#define TX_MAX	   512

struct fixture {
	struct vuart uart;
	uint8_t tx[TX_MAX];
	unsigned tx_count;
	bool irq;	      /* the level the line was last driven to */
	unsigned irq_changes; /* set_level calls */
};

static void record_tx(void *opaque, uint8_t byte)
{
	struct fixture *f = opaque;

	assert_true(f->tx_count < TX_MAX);
	f->tx[f->tx_count++] = byte;
}

static void record_irq(void *controller, unsigned source, bool level)
{
	struct fixture *f = controller;

	assert_int_equal(source, IRQ_SOURCE);
	/* The UART drives the line only when its level changes. */
	assert_int_not_equal(f->irq, level);
	f->irq = level;
	f->irq_changes++;
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	/* On the stack on purpose: vuart_init must copy it. */
	struct irq_line line = {.set_level = record_irq, .controller = f, .source = IRQ_SOURCE};

	vuart_init(&f->uart, record_tx, f, &line);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	test_free(*state);
	return 0;
}

static uint8_t rd(struct fixture *f, unsigned reg)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(vuart_mmio_ops.read(&f->uart, reg, 1, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static void wr(struct fixture *f, unsigned reg, uint8_t val)
{
	assert_int_equal(vuart_mmio_ops.write(&f->uart, reg, 1, val), 0);
}

static void rx(struct fixture *f, uint8_t byte)
{
	assert_true(vuart_receive(&f->uart, byte));
}

/* FIFOs on with the given RX trigger level index (0..3: 1, 4, 8, 14 bytes). */
static void fifo_on(struct fixture *f, unsigned trig)
{
	wr(f, VUART_FCR, (uint8_t)(VUART_FCR_ENABLE | (trig << VUART_FCR_TRIG_SHIFT)));
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, VUART_IER), 0);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_NO_INT);
	assert_int_equal(rd(f, VUART_LCR), 0);
	assert_int_equal(rd(f, VUART_MCR), 0);
	assert_int_equal(rd(f, VUART_LSR), VUART_LSR_THRE | VUART_LSR_TEMT);
	assert_int_equal(rd(f, VUART_MSR), VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD);
	assert_int_equal(rd(f, VUART_SCR), 0);
	assert_int_equal(rd(f, VUART_RBR), 0);
	assert_true(vuart_rx_has_room(&f->uart));
	assert_false(f->irq);
	assert_int_equal(f->irq_changes, 0);
	assert_int_equal(f->tx_count, 0);
}

static void test_scratch(void **state)
{
	struct fixture *f = *state;

	/* Linux's 16450 detection. */
	wr(f, VUART_SCR, 0xa5);
	assert_int_equal(rd(f, VUART_SCR), 0xa5);
	wr(f, VUART_SCR, 0x5a);
	assert_int_equal(rd(f, VUART_SCR), 0x5a);
	/* DLAB does not hide it. */
	wr(f, VUART_LCR, VUART_LCR_DLAB);
	assert_int_equal(rd(f, VUART_SCR), 0x5a);
}

static void test_ier_probe(void **state)
{
	struct fixture *f = *state;

	/* Linux's existence test: 0 reads 0, 0x0f reads 0x0f; bits 7:4 do not exist. */
	wr(f, VUART_IER, 0);
	assert_int_equal(rd(f, VUART_IER) & 0x0f, 0);
	wr(f, VUART_IER, 0x0f);
	assert_int_equal(rd(f, VUART_IER), 0x0f);
	wr(f, VUART_IER, 0xff);
	assert_int_equal(rd(f, VUART_IER), 0x0f);
	wr(f, VUART_IER, 0);
	assert_false(f->irq);
}

static void test_dlab(void **state)
{
	struct fixture *f = *state;

	wr(f, VUART_IER, VUART_IER_ERBFI);
	wr(f, VUART_LCR, VUART_LCR_DLAB | 0x03);
	assert_int_equal(rd(f, VUART_LCR), 0x83);
	wr(f, VUART_DLL, 0x12);
	wr(f, VUART_DLM, 0x34);
	assert_int_equal(rd(f, VUART_DLL), 0x12);
	assert_int_equal(rd(f, VUART_DLM), 0x34);
	/* The divisor latch is not THR/IER. */
	assert_int_equal(f->tx_count, 0);
	rx(f, 'x');
	assert_int_equal(rd(f, VUART_DLL), 0x12); /* does not pop the FIFO */
	assert_true(rd(f, VUART_LSR) & VUART_LSR_DR);
	wr(f, VUART_LCR, 0x03);
	assert_int_equal(rd(f, VUART_IER), VUART_IER_ERBFI);
	assert_int_equal(rd(f, VUART_RBR), 'x');
	wr(f, VUART_LCR, VUART_LCR_DLAB);
	assert_int_equal(rd(f, VUART_DLL), 0x12);
	assert_int_equal(rd(f, VUART_DLM), 0x34);
}

static void test_tx(void **state)
{
	struct fixture *f = *state;
	const char *msg = "Hello, guest\n";

	for (const char *p = msg; *p; p++) {
		wr(f, VUART_THR, (uint8_t)*p);
		/* The transmitter is always done by the time the guest looks. */
		assert_int_equal(rd(f, VUART_LSR) & 0x60, VUART_LSR_THRE | VUART_LSR_TEMT);
	}
	assert_int_equal(f->tx_count, 13);
	assert_memory_equal(f->tx, msg, 13);
	assert_false(f->irq);
}

static void test_rx_fifo_order_and_full(void **state)
{
	struct fixture *f = *state;

	fifo_on(f, 0);
	for (unsigned i = 0; i < VUART_FIFO_SIZE; i++) {
		assert_true(vuart_rx_has_room(&f->uart));
		rx(f, (uint8_t)(0x40 + i));
	}
	assert_false(vuart_rx_has_room(&f->uart));
	assert_false(vuart_receive(&f->uart, 0xee));
	/* Back-pressure, not an overrun: the host keeps the byte. */
	assert_int_equal(rd(f, VUART_LSR), VUART_LSR_DR | VUART_LSR_THRE | VUART_LSR_TEMT);
	for (unsigned i = 0; i < VUART_FIFO_SIZE; i++) {
		assert_true(rd(f, VUART_LSR) & VUART_LSR_DR);
		assert_int_equal(rd(f, VUART_RBR), 0x40 + i);
		assert_true(vuart_rx_has_room(&f->uart));
	}
	assert_false(rd(f, VUART_LSR) & VUART_LSR_DR);
	/* The ring wraps. */
	for (unsigned i = 0; i < 40; i++) {
		rx(f, (uint8_t)i);
		rx(f, (uint8_t)(i + 100));
		assert_int_equal(rd(f, VUART_RBR), i);
		assert_int_equal(rd(f, VUART_RBR), i + 100);
	}
	assert_false(f->irq);
}

static void test_rx_without_fifo_holds_one(void **state)
{
	struct fixture *f = *state;

	wr(f, VUART_IER, VUART_IER_ERBFI);
	rx(f, 'a');
	assert_true(f->irq);
	assert_false(vuart_rx_has_room(&f->uart));
	assert_false(vuart_receive(&f->uart, 'b'));
	/* 16450 mode: RX data available, no FIFO bits in IIR. */
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_RDI);
	assert_int_equal(rd(f, VUART_RBR), 'a');
	assert_false(f->irq);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_NO_INT);
	rx(f, 'b');
	assert_int_equal(rd(f, VUART_RBR), 'b');
}

static void test_loopback_overrun_fifo(void **state)
{
	struct fixture *f = *state;

	fifo_on(f, 0);
	wr(f, VUART_MCR, VUART_MCR_LOOP);
	for (unsigned i = 0; i < 20; i++)
		wr(f, VUART_THR, (uint8_t)i);
	assert_int_equal(f->tx_count, 0);
	assert_int_equal(rd(f, VUART_LSR),
			 VUART_LSR_DR | VUART_LSR_OE | VUART_LSR_THRE | VUART_LSR_TEMT);
	/* OE is cleared by reading LSR. */
	assert_int_equal(rd(f, VUART_LSR), VUART_LSR_DR | VUART_LSR_THRE | VUART_LSR_TEMT);
	/* The FIFO keeps the first 16; the bytes that found it full are lost. */
	for (unsigned i = 0; i < VUART_FIFO_SIZE; i++)
		assert_int_equal(rd(f, VUART_RBR), i);
	assert_false(rd(f, VUART_LSR) & VUART_LSR_DR);
}

static void test_loopback_overrun_16450(void **state)
{
	struct fixture *f = *state;

	wr(f, VUART_MCR, VUART_MCR_LOOP);
	wr(f, VUART_THR, 1);
	assert_int_equal(rd(f, VUART_LSR) & (VUART_LSR_DR | VUART_LSR_OE), VUART_LSR_DR);
	wr(f, VUART_THR, 2);
	/* Without FIFOs the new byte overwrites RBR. */
	assert_int_equal(rd(f, VUART_LSR) & (VUART_LSR_DR | VUART_LSR_OE),
			 VUART_LSR_DR | VUART_LSR_OE);
	assert_int_equal(rd(f, VUART_RBR), 2);
	assert_int_equal(rd(f, VUART_LSR) & (VUART_LSR_DR | VUART_LSR_OE), 0);
}

static void test_linux_size_fifo(void **state)
{
	struct fixture *f = *state;
	unsigned count;

	/* drivers/tty/serial/8250/8250_port.c: size_fifo() must find 16 bytes. */
	wr(f, VUART_LCR, 0);
	wr(f, VUART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX | VUART_FCR_CLEAR_TX);
	wr(f, VUART_MCR, VUART_MCR_LOOP);
	wr(f, VUART_LCR, 0x80);
	wr(f, VUART_DLL, 1);
	wr(f, VUART_DLM, 0);
	wr(f, VUART_LCR, 0x03);
	for (count = 0; count < 256; count++)
		wr(f, VUART_THR, (uint8_t)count);
	for (count = 0; (rd(f, VUART_LSR) & VUART_LSR_DR) && count < 256; count++)
		rd(f, VUART_RBR);
	assert_int_equal(count, 16);
	assert_int_equal(f->tx_count, 0);
}

/* What IIR reports with ERBFI on and n bytes in a FIFO that triggers at trigger bytes. */
static uint8_t rx_iir(unsigned n, unsigned trigger)
{
	if (n == 0)
		return VUART_IIR_FIFOS | VUART_IIR_NO_INT;
	/* Below the trigger level: character timeout; at or above it: data available. */
	return VUART_IIR_FIFOS | (n < trigger ? VUART_IIR_TIMEOUT : VUART_IIR_RDI);
}

static void test_trigger_levels(void **state)
{
	struct fixture *f = *state;
	const unsigned levels[4] = {1, 4, 8, 14};

	wr(f, VUART_IER, VUART_IER_ERBFI);
	for (unsigned t = 0; t < 4; t++) {
		fifo_on(f, t);
		assert_false(f->irq);
		for (unsigned n = 1; n <= VUART_FIFO_SIZE; n++) {
			rx(f, (uint8_t)n);
			assert_int_equal(rd(f, VUART_IIR), rx_iir(n, levels[t]));
			assert_true(f->irq);
		}
		for (unsigned n = VUART_FIFO_SIZE; n > 0; n--) {
			assert_true(f->irq);
			assert_int_equal(rd(f, VUART_RBR), VUART_FIFO_SIZE + 1 - n);
			assert_int_equal(rd(f, VUART_IIR), rx_iir(n - 1, levels[t]));
		}
		assert_false(f->irq);
	}
}

static void test_fcr(void **state)
{
	struct fixture *f = *state;

	wr(f, VUART_IER, VUART_IER_ERBFI);
	fifo_on(f, 3);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_NO_INT);
	rx(f, 1);
	rx(f, 2);
	assert_true(f->irq);
	/* Clearing the RX FIFO empties it and drops the interrupt. */
	wr(f, VUART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX | (3 << VUART_FCR_TRIG_SHIFT));
	assert_false(f->irq);
	assert_false(rd(f, VUART_LSR) & VUART_LSR_DR);
	/* Clearing TX only: the RX FIFO stays. */
	rx(f, 3);
	wr(f, VUART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLEAR_TX | (3 << VUART_FCR_TRIG_SHIFT));
	assert_true(rd(f, VUART_LSR) & VUART_LSR_DR);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_TIMEOUT);
	/* Leaving FIFO mode empties the FIFO; the other bits are not programmed without bit 0. */
	wr(f, VUART_FCR, 0xc0);
	assert_false(f->irq);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_NO_INT);
	assert_false(rd(f, VUART_LSR) & VUART_LSR_DR);
	/* Entering FIFO mode empties RBR too. */
	rx(f, 4);
	assert_true(f->irq);
	fifo_on(f, 0);
	assert_false(f->irq);
	assert_false(rd(f, VUART_LSR) & VUART_LSR_DR);
	/* Rewriting the same mode keeps the data. */
	rx(f, 5);
	fifo_on(f, 0);
	assert_int_equal(rd(f, VUART_RBR), 5);
}

static void test_iir_priority_order(void **state)
{
	struct fixture *f = *state;

	fifo_on(f, 0);
	/* Loop back 17 bytes (one overrun), with a modem-status change on the way. */
	wr(f, VUART_MCR, VUART_MCR_LOOP);
	for (unsigned i = 0; i < VUART_FIFO_SIZE + 1; i++)
		wr(f, VUART_THR, (uint8_t)i);
	assert_false(f->irq);
	wr(f, VUART_IER, 0x0f);
	assert_true(f->irq);

	/* 1: receiver line status, cleared by reading LSR */
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_RLSI);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_RLSI);
	rd(f, VUART_LSR);
	assert_true(f->irq);
	/* 2: received data, until the FIFO is drained */
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_RDI);
	for (unsigned i = 0; i < VUART_FIFO_SIZE; i++) {
		assert_true(f->irq);
		rd(f, VUART_RBR);
	}
	assert_true(f->irq);
	/* 3: THR empty, acknowledged by the IIR read that reports it */
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_THRI);
	assert_true(f->irq);
	/* 4: modem status (CTS, DSR, DCD dropped on entering loopback), cleared by reading MSR */
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_MSI);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_MSI);
	assert_true(f->irq);
	assert_int_equal(rd(f, VUART_MSR) & 0x0f, VUART_MSR_DCTS | VUART_MSR_DDSR | VUART_MSR_DDCD);
	assert_false(f->irq);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_NO_INT);
}

static void test_masked_sources_do_not_interrupt(void **state)
{
	struct fixture *f = *state;

	fifo_on(f, 0);
	wr(f, VUART_MCR, VUART_MCR_LOOP | VUART_MCR_RTS);
	for (unsigned i = 0; i < 20; i++)
		wr(f, VUART_THR, (uint8_t)i);
	/* Data, overrun, THR empty and modem deltas all present, IER 0: line low. */
	assert_false(f->irq);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_NO_INT);
	wr(f, VUART_IER, VUART_IER_EDSSI);
	assert_true(f->irq);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_MSI);
	wr(f, VUART_IER, 0);
	assert_false(f->irq);
}

static void test_thre_semantics(void **state)
{
	struct fixture *f = *state;

	/* Enabling ETBEI with THR empty raises THRE. */
	wr(f, VUART_IER, VUART_IER_ETBEI);
	assert_true(f->irq);
	/* Reading IIR that reports THRE clears it. */
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_THRI);
	assert_false(f->irq);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_NO_INT);
	/* Writing THR sends the byte; THR is empty again at once, so THRE comes back. */
	wr(f, VUART_THR, 'z');
	assert_int_equal(f->tx_count, 1);
	assert_true(f->irq);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_THRI);
	assert_false(f->irq);
	/* Disabling ETBEI drops the line; enabling it again raises it. */
	wr(f, VUART_THR, 'y');
	assert_true(f->irq);
	wr(f, VUART_IER, 0);
	assert_false(f->irq);
	wr(f, VUART_IER, VUART_IER_ETBEI);
	assert_true(f->irq);
	/* LSR and MSR reads do not acknowledge THRE. */
	rd(f, VUART_LSR);
	rd(f, VUART_MSR);
	assert_true(f->irq);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_THRI);
	assert_false(f->irq);
}

static void test_thre_kept_behind_rx(void **state)
{
	struct fixture *f = *state;

	fifo_on(f, 0);
	wr(f, VUART_IER, VUART_IER_ERBFI | VUART_IER_ETBEI);
	rx(f, 'q');
	/* The IIR read reports RX, so it must not acknowledge the THRE behind it. */
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_RDI);
	assert_int_equal(rd(f, VUART_RBR), 'q');
	assert_true(f->irq);
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_FIFOS | VUART_IIR_THRI);
	assert_false(f->irq);
}

static void test_linux_thre_and_txen_tests(void **state)
{
	struct fixture *f = *state;
	uint8_t iir1, iir, lsr;

	/* serial8250_do_startup(): clear FIFOs, clear interrupt registers */
	wr(f, VUART_FCR, VUART_FCR_ENABLE);
	wr(f, VUART_FCR, VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX | VUART_FCR_CLEAR_TX);
	wr(f, VUART_FCR, 0);
	rd(f, VUART_LSR);
	rd(f, VUART_RBR);
	rd(f, VUART_IIR);
	rd(f, VUART_MSR);
	assert_int_not_equal(rd(f, VUART_LSR), 0xff);

	/* The UART_BUG_THRE test: THRE must be reasserted after being cleared. */
	assert_true(rd(f, VUART_LSR) & VUART_LSR_THRE);
	wr(f, VUART_IER, VUART_IER_ETBEI);
	iir1 = rd(f, VUART_IIR);
	wr(f, VUART_IER, 0);
	wr(f, VUART_IER, VUART_IER_ETBEI);
	iir = rd(f, VUART_IIR);
	wr(f, VUART_IER, 0);
	assert_false(iir1 & VUART_IIR_NO_INT);
	assert_false(iir & VUART_IIR_NO_INT);
	assert_false(f->irq);

	/* The UART_BUG_TXEN test: enabling ETBEI must show an interrupt. */
	wr(f, VUART_LCR, 0x03);
	wr(f, VUART_MCR, VUART_MCR_OUT2 | VUART_MCR_RTS | VUART_MCR_DTR);
	wr(f, VUART_IER, VUART_IER_ETBEI);
	lsr = rd(f, VUART_LSR);
	iir = rd(f, VUART_IIR);
	wr(f, VUART_IER, 0);
	assert_true(lsr & VUART_LSR_TEMT);
	assert_false(iir & VUART_IIR_NO_INT);
	assert_false(f->irq);
}

static void test_linux_autoconfig(void **state)
{
	struct fixture *f = *state;
	uint8_t save_mcr;

	/* autoconfig(): IER existence test */
	wr(f, VUART_IER, 0);
	assert_int_equal(rd(f, VUART_IER) & 0x0f, 0);
	wr(f, VUART_IER, 0x0f);
	assert_int_equal(rd(f, VUART_IER) & 0x0f, 0x0f);
	wr(f, VUART_IER, 0);
	/* loopback test: MCR = LOOP | OUT2 | RTS must read MSR[7:4] = DCD | CTS */
	save_mcr = rd(f, VUART_MCR);
	wr(f, VUART_MCR, VUART_MCR_LOOP | 0x0a);
	assert_int_equal(rd(f, VUART_MSR) & 0xf0, 0x90);
	wr(f, VUART_MCR, save_mcr);
	/* EFR probe at LCR 0xbf lands on FCR; then FIFOs on: IIR[7:6] = 3 means 16550A */
	wr(f, VUART_LCR, 0xbf);
	wr(f, VUART_FCR, 0);
	wr(f, VUART_LCR, 0);
	wr(f, VUART_FCR, VUART_FCR_ENABLE);
	assert_int_equal(rd(f, VUART_IIR) >> 6, 3);
	assert_false(f->irq);
	assert_int_equal(f->tx_count, 0);
}

static void test_loopback(void **state)
{
	struct fixture *f = *state;

	fifo_on(f, 0);
	wr(f, VUART_IER, VUART_IER_ERBFI);
	wr(f, VUART_MCR, VUART_MCR_LOOP);
	assert_int_equal(rd(f, VUART_MCR), VUART_MCR_LOOP);
	/* The line is disconnected: host input waits, bytes written come back. */
	assert_false(vuart_rx_has_room(&f->uart));
	assert_false(vuart_receive(&f->uart, 'h'));
	wr(f, VUART_THR, 'a');
	assert_true(f->irq);
	wr(f, VUART_THR, 'b');
	assert_int_equal(f->tx_count, 0);
	assert_int_equal(rd(f, VUART_RBR), 'a');
	assert_int_equal(rd(f, VUART_RBR), 'b');
	assert_false(f->irq);
	/* Out of loopback: bytes go to the host again, host input is accepted. */
	wr(f, VUART_MCR, 0);
	wr(f, VUART_THR, 'c');
	assert_int_equal(f->tx_count, 1);
	assert_int_equal(f->tx[0], 'c');
	assert_false(f->irq);
	assert_true(vuart_rx_has_room(&f->uart));
	rx(f, 'h');
	assert_true(f->irq);
	assert_int_equal(rd(f, VUART_RBR), 'h');
	assert_false(f->irq);
}

static void test_modem_status(void **state)
{
	struct fixture *f = *state;

	wr(f, VUART_IER, VUART_IER_EDSSI);
	/* Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	wr(f, VUART_MCR, VUART_MCR_LOOP | VUART_MCR_RTS | VUART_MCR_DTR | VUART_MCR_OUT2);
	/* The same levels as the console line: no delta. */
	assert_false(f->irq);
	wr(f, VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT1);
	assert_true(f->irq);
	assert_int_equal(rd(f, VUART_MSR),
			 VUART_MSR_RI | VUART_MSR_DCTS | VUART_MSR_DDSR | VUART_MSR_DDCD);
	assert_false(f->irq);
	assert_int_equal(rd(f, VUART_MSR), VUART_MSR_RI);
	/* RI trailing edge sets TERI. */
	wr(f, VUART_MCR, VUART_MCR_LOOP);
	assert_true(f->irq);
	assert_int_equal(rd(f, VUART_MSR), VUART_MSR_TERI);
	assert_false(f->irq);
	/* Leaving loopback: the console line (CTS, DSR, DCD) comes back. */
	wr(f, VUART_MCR, 0);
	assert_true(f->irq);
	assert_int_equal(rd(f, VUART_MSR), VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD |
					       VUART_MSR_DCTS | VUART_MSR_DDSR | VUART_MSR_DDCD);
	assert_false(f->irq);
	/* Outside loopback the MCR outputs do not move the inputs. */
	wr(f, VUART_MCR, 0x0f);
	assert_false(f->irq);
	assert_int_equal(rd(f, VUART_MSR), VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD);
}

static void test_mcr_and_readonly_registers(void **state)
{
	struct fixture *f = *state;

	wr(f, VUART_MCR, 0xff);
	assert_int_equal(rd(f, VUART_MCR), 0x1f);
	wr(f, VUART_MCR, 0);
	rd(f, VUART_MSR);
	/* LSR and MSR writes do nothing. */
	wr(f, VUART_LSR, 0xff);
	assert_int_equal(rd(f, VUART_LSR), VUART_LSR_THRE | VUART_LSR_TEMT);
	wr(f, VUART_MSR, 0x0f);
	assert_int_equal(rd(f, VUART_MSR), VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD);
	/* Nor do IIR reads of an idle UART. */
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_NO_INT);
	assert_int_equal(f->irq_changes, 0);
}

static void test_widths_and_reserved_offsets(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	/* A wider access hits the register at its offset, zero-extended. */
	assert_int_equal(vuart_mmio_ops.write(&f->uart, VUART_SCR, 4, 0x12345678), 0);
	assert_int_equal(vuart_mmio_ops.read(&f->uart, VUART_SCR, 8, &v), 0);
	assert_int_equal(v, 0x78);
	assert_int_equal(vuart_mmio_ops.write(&f->uart, VUART_THR, 4, 0x141), 0);
	assert_int_equal(f->tx_count, 1);
	assert_int_equal(f->tx[0], 0x41);
	/* Reserved space: reads 0, writes ignored. */
	for (uint64_t off = VUART_NUM_REGS; off < VM_UART_SIZE; off++) {
		v = 0xff;
		assert_int_equal(vuart_mmio_ops.write(&f->uart, off, 1, 0xff), 0);
		assert_int_equal(vuart_mmio_ops.read(&f->uart, off, 1, &v), 0);
		assert_int_equal(v, 0);
	}
	assert_int_equal(f->tx_count, 1);
	assert_int_equal(rd(f, VUART_IER), 0);
	assert_int_equal(rd(f, VUART_SCR), 0x78);
}

static void test_no_callbacks(void **state)
{
	struct fixture *f = *state;

	vuart_init(&f->uart, NULL, NULL, NULL);
	wr(f, VUART_IER, 0x0f);
	wr(f, VUART_THR, 'x');
	assert_true(vuart_receive(&f->uart, 'y'));
	assert_int_equal(rd(f, VUART_IIR), VUART_IIR_RDI);
	assert_int_equal(rd(f, VUART_RBR), 'y');
	assert_int_equal(f->irq_changes, 0);
	assert_int_equal(f->tx_count, 0);
}

/* Host input, guest reads and guest writes from different threads: no byte lost or reordered. */
#define STRESS_BYTES 50000

struct stress {
	struct vuart uart;
	unsigned tx_count; /* the callbacks run under the UART lock */
	uint8_t tx_expect;
	unsigned tx_bad;
	bool irq;
	unsigned irq_bad;
	bool stop; /* the reader gave up: let the host thread finish */
};

static void stress_tx(void *opaque, uint8_t byte)
{
	struct stress *s = opaque;

	if (byte != s->tx_expect++)
		s->tx_bad++;
	s->tx_count++;
}

static void stress_irq(void *controller, unsigned source UNUSED, bool level)
{
	struct stress *s = controller;

	if (s->irq == level)
		s->irq_bad++;
	s->irq = level;
}

static void *stress_host(void *opaque)
{
	struct stress *s = opaque;

	for (unsigned i = 0; i < STRESS_BYTES; i++)
		while (!vuart_receive(&s->uart, (uint8_t)i))
			if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
				return NULL;
	return NULL;
}

static void *stress_writer(void *opaque)
{
	struct stress *s = opaque;

	for (unsigned i = 0; i < STRESS_BYTES; i++)
		vuart_mmio_ops.write(&s->uart, VUART_THR, 1, (uint8_t)i);
	return NULL;
}

static void test_concurrent_access(void **state UNUSED)
{
	struct stress *s = test_calloc(1, sizeof(*s));
	struct irq_line line = {.set_level = stress_irq, .controller = s, .source = IRQ_SOURCE};
	pthread_t host, writer;
	unsigned received = 0, rx_bad = 0;
	uint64_t v;

	vuart_init(&s->uart, stress_tx, s, &line);
	vuart_mmio_ops.write(&s->uart, VUART_FCR, 1,
			     VUART_FCR_ENABLE | (2 << VUART_FCR_TRIG_SHIFT));
	vuart_mmio_ops.write(&s->uart, VUART_IER, 1, VUART_IER_ERBFI);
	assert_int_equal(pthread_create(&host, NULL, stress_host, s), 0);
	assert_int_equal(pthread_create(&writer, NULL, stress_writer, s), 0);
	/* Read as the guest would; give up if input stops arriving (a lost byte). */
	for (unsigned long idle = 0; received < STRESS_BYTES && idle < 100000000UL;) {
		vuart_mmio_ops.read(&s->uart, VUART_LSR, 1, &v);
		if (!(v & VUART_LSR_DR)) {
			idle++;
			continue;
		}
		idle = 0;
		vuart_mmio_ops.read(&s->uart, VUART_RBR, 1, &v);
		if (v != (received & 0xff))
			rx_bad++;
		received++;
	}
	__atomic_store_n(&s->stop, true, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(host, NULL), 0);
	assert_int_equal(pthread_join(writer, NULL), 0);
	assert_int_equal(received, STRESS_BYTES);
	assert_int_equal(rx_bad, 0);
	assert_int_equal(s->tx_count, STRESS_BYTES);
	assert_int_equal(s->tx_bad, 0);
	assert_int_equal(s->irq_bad, 0);
	assert_false(s->irq);
	test_free(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_reset_state),
	    T(test_scratch),
	    T(test_ier_probe),
	    T(test_dlab),
	    T(test_tx),
	    T(test_rx_fifo_order_and_full),
	    T(test_rx_without_fifo_holds_one),
	    T(test_loopback_overrun_fifo),
	    T(test_loopback_overrun_16450),
	    T(test_linux_size_fifo),
	    T(test_trigger_levels),
	    T(test_fcr),
	    T(test_iir_priority_order),
	    T(test_masked_sources_do_not_interrupt),
	    T(test_thre_semantics),
	    T(test_thre_kept_behind_rx),
	    T(test_linux_thre_and_txen_tests),
	    T(test_linux_autoconfig),
	    T(test_loopback),
	    T(test_modem_status),
	    T(test_mcr_and_readonly_registers),
	    T(test_widths_and_reserved_offsets),
	    T(test_no_callbacks),
	    cmocka_unit_test(test_concurrent_access),
	};

	return cmocka_run_group_tests_name("vuart", tests, NULL, NULL);
}
