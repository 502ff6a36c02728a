/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A VM's console on the shared host console. Bytes go out at once (an
 * interactive prompt has no newline), but every line belongs to one owner:
 * when another VM or the hypervisor writes while a line is open, the line is
 * ended first. With several VMs each line starts with the VM's tag, "[name] ",
 * in the VM's colour when the terminal has colours. With one VM the bytes
 * pass through untouched: the guest owns the terminal.
 */
#ifndef VIREO_VM_CONSOLE_H
#define VIREO_VM_CONSOLE_H

#include <vireo/types.h>

struct vm_console {
	const char *name;
	unsigned number; /* 1-based: the hotkey Ctrl-] <number> gives it the keyboard */
	bool muted;      /* console=off: output dropped, never has the keyboard */
};

void vm_console_init(struct vm_console *c, const char *name, unsigned number, bool muted);
void vm_console_putc(struct vm_console *c, uint8_t byte);
/* Several bytes kept together (one SBI console_write). */
void vm_console_write(struct vm_console *c, const uint8_t *buf, size_t len);
/* End the VM's open line, if it has one (at VM end). */
void vm_console_flush(struct vm_console *c);
/* Tag lines when more than one VM shares the console; colour them if asked. */
void vm_console_configure(bool shared, bool colour);

#endif
