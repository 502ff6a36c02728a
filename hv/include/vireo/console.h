/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hypervisor console: the host's ns16550a UART, shared by every hart
 * (whole lines are kept together) and by the VMs' console output.
 */
#ifndef VIREO_CONSOLE_H
#define VIREO_CONSOLE_H

#include <vireo/types.h>

/* Until console_init, output goes through the firmware (SBI legacy putchar). */
void console_init(uintptr_t uart_base, unsigned reg_shift, unsigned io_width);
/* Send log lines and printk here (vireo/log.h). */
void console_attach_log(void);
void console_putc(char c);
void console_write(const char *s, size_t len);
/* Non-blocking: -1 when no byte is waiting. */
int console_getc(void);
/*
 * Line ownership (with the console lock held): a guest whose line is still open
 * owns it; anyone else writing first ends it. NULL is "at the start of a line".
 */
bool console_line_owned_by(const void *owner);
void console_set_line_owner(const void *owner);
/* If a line is open, end it with \r\n. */
void console_end_line(void);
/* Hypervisor messages in their own colour (when the terminal has colours). */
void console_set_colour(bool colour);
bool console_colour_enabled(void);

/* Interrupt on received bytes (the host interrupt controller routes it). */
void console_enable_rx_irq(void);
/* Raise (or lower) the UART's interrupt line without sending anything: the host
 * interrupt controller's check that its wires reach Vireo. False without a UART. */
bool console_raise_irq(bool on);
/* Lock/unlock for writing several pieces as one unit. */
void console_lock(void);
void console_unlock(void);
/* From now on, ignore the lock (panic: another hart may hold it forever). */
void console_go_lockless(void);
/* Unlocked output for panics: never blocks on a lock another hart holds. */
void console_write_raw(const char *s, size_t len);
/* One byte exactly as given (no \n -> \r\n): guests send their own line ends. */
void console_write_raw_byte(uint8_t byte);

#endif
