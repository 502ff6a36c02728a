/* SPDX-License-Identifier: BSD-2-Clause */
/* Driver for the host machine's ns16550a UART (polled output, polled/IRQ input). */
#ifndef VIREO_UART_H
#define VIREO_UART_H

#include <vireo/types.h>

struct uart_ns16550 {
	uintptr_t base;
	unsigned reg_shift;
	unsigned io_width; /* 1 or 4 bytes per register access */
};

void uart_ns16550_init(struct uart_ns16550 *u, uintptr_t base, unsigned reg_shift,
		       unsigned io_width);
void uart_ns16550_putc(struct uart_ns16550 *u, char c);
/* -1 when the receiver is empty. */
int uart_ns16550_getc(struct uart_ns16550 *u);
/* Raise the host RX interrupt when a byte arrives. */
void uart_ns16550_enable_rx_irq(struct uart_ns16550 *u);
/* Interrupt while the transmitter is empty (that is, at once): a way to raise the line. */
void uart_ns16550_set_tx_irq(struct uart_ns16550 *u, bool on);

#endif
