// SPDX-License-Identifier: BSD-2-Clause
/* The hypervisor console on the host UART, shared by every hart. */
#include <vireo/console.h>
#include <vireo/log.h>
#include <vireo/sbi_host.h>
#include <vireo/spinlock.h>
#include <vireo/uart.h>

static struct uart_ns16550 console_uart;
static const void *line_owner; /* who has an unfinished line; NULL = none */
static bool colour;
static bool console_ready;
static spinlock_t console_spin = SPINLOCK_INIT;

static const struct log_output console_log_output = {
    .write = console_write,
    .colour = console_colour_enabled,
};

void console_attach_log(void)
{
	log_set_output(&console_log_output);
}

void console_init(uintptr_t uart_base, unsigned reg_shift, unsigned io_width)
{
	uart_ns16550_init(&console_uart, uart_base, reg_shift, io_width);
	console_ready = true;
}

#define SBI_LEGACY_CONSOLE_PUTCHAR 0x01

/* Before the UART is known, the firmware's console prints for us. */
static void put_early(char c)
{
	sbi_host_call(SBI_LEGACY_CONSOLE_PUTCHAR, 0, (unsigned char)c, 0, 0, 0);
}

static void put_raw(char c)
{
	if (!console_ready) {
		put_early(c);
		return;
	}
	if (c == '\n')
		uart_ns16550_putc(&console_uart, '\r');
	uart_ns16550_putc(&console_uart, c);
}

/* After a panic, output must not wait on a lock a stopped hart may hold. */
static volatile bool console_lockless;

void console_go_lockless(void)
{
	console_lockless = true;
}

void console_lock(void)
{
	if (!console_lockless)
		spin_lock(&console_spin);
}

void console_unlock(void)
{
	if (!console_lockless)
		spin_unlock(&console_spin);
}

void console_putc(char c)
{
	console_lock();
	put_raw(c);
	console_unlock();
}

void console_write(const char *s, size_t len)
{
	console_lock();
	console_end_line();
	console_write_raw(s, len);
	console_unlock();
}

void console_write_raw_byte(uint8_t byte)
{
	if (!console_ready)
		put_early((char)byte);
	else
		uart_ns16550_putc(&console_uart, (char)byte);
}

void console_write_raw(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		put_raw(s[i]);
}

int console_getc(void)
{
	if (!console_ready)
		return -1;
	return uart_ns16550_getc(&console_uart);
}

void console_enable_rx_irq(void)
{
	if (console_ready)
		uart_ns16550_enable_rx_irq(&console_uart);
}

bool console_raise_irq(bool on)
{
	if (console_ready)
		uart_ns16550_set_tx_irq(&console_uart, on);
	return console_ready;
}

bool console_line_owned_by(const void *owner)
{
	return line_owner == owner;
}

void console_set_line_owner(const void *owner)
{
	line_owner = owner;
}

void console_end_line(void)
{
	if (line_owner) {
		put_raw('\n');
		line_owner = NULL;
	}
}

void console_set_colour(bool on)
{
	colour = on;
}

bool console_colour_enabled(void)
{
	return colour;
}
