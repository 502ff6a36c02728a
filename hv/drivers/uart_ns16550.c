// SPDX-License-Identifier: BSD-2-Clause
/* The host ns16550a UART: QEMU's is ready at reset, so only FIFOs and IER are set. */
#include <vireo/uart.h>

#define UART_RBR 0
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LSR 5

#define UART_IER_RDI  0x01
#define UART_IER_THRI 0x02
#define UART_FCR_FIFO 0x07 /* enable and clear both FIFOs */
#define UART_LSR_DR   0x01
#define UART_LSR_THRE 0x20

static uint32_t reg_read(struct uart_ns16550 *u, unsigned reg)
{
	uintptr_t addr = u->base + ((uintptr_t)reg << u->reg_shift);

	if (u->io_width == 4)
		return *(volatile uint32_t *)addr;
	return *(volatile uint8_t *)addr;
}

static void reg_write(struct uart_ns16550 *u, unsigned reg, uint32_t value)
{
	uintptr_t addr = u->base + ((uintptr_t)reg << u->reg_shift);

	if (u->io_width == 4)
		*(volatile uint32_t *)addr = value;
	else
		*(volatile uint8_t *)addr = (uint8_t)value;
}

void uart_ns16550_init(struct uart_ns16550 *u, uintptr_t base, unsigned reg_shift,
		       unsigned io_width)
{
	u->base = base;
	u->reg_shift = reg_shift;
	u->io_width = io_width == 4 ? 4 : 1;
	reg_write(u, UART_IER, 0);
	reg_write(u, UART_FCR, UART_FCR_FIFO);
}

void uart_ns16550_putc(struct uart_ns16550 *u, char c)
{
	while (!(reg_read(u, UART_LSR) & UART_LSR_THRE))
		;
	reg_write(u, UART_THR, (uint8_t)c);
}

int uart_ns16550_getc(struct uart_ns16550 *u)
{
	if (!(reg_read(u, UART_LSR) & UART_LSR_DR))
		return -1;
	return (int)(reg_read(u, UART_RBR) & 0xff);
}

void uart_ns16550_enable_rx_irq(struct uart_ns16550 *u)
{
	reg_write(u, UART_IER, UART_IER_RDI);
}

void uart_ns16550_set_tx_irq(struct uart_ns16550 *u, bool on)
{
	uint32_t ier = reg_read(u, UART_IER);

	reg_write(u, UART_IER, on ? ier | UART_IER_THRI : ier & ~UART_IER_THRI);
}
