/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hypervisor console: the host's ns16550a UART, shared by every hart
 * (whole lines are kept together) and by the VMs' console output.
 */
#ifndef VIREO_CONSOLE_H
#define VIREO_CONSOLE_H

#include <vireo/types.h>

void console_init(uintptr_t uart_base, unsigned reg_shift, unsigned io_width);
void console_putc(char c);
void console_write(const char *s, size_t len);
/* Non-blocking: -1 when no byte is waiting. */
int console_getc(void);
/* Interrupt on received bytes (the host PLIC routes it). */
void console_enable_rx_irq(void);
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
