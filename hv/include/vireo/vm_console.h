/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A VM's console on the shared host console. With one VM the bytes pass
 * straight through: the guest owns the terminal. With several, each VM's
 * output is gathered into lines, and every line goes out whole, starting
 * with the VM's tag "[name] " (in the VM's colour when the terminal has
 * colours), so VMs on different harts never mix inside a line. A line
 * without its newline yet (a shell prompt) goes out after a short quiet
 * time, and the rest of it follows without a new tag if nobody wrote
 * in between.
 */
#ifndef VIREO_VM_CONSOLE_H
#define VIREO_VM_CONSOLE_H

#include <vireo/spinlock.h>
#include <vireo/types.h>

#define VM_CONSOLE_LINE_MAX 256
/* How long a partial line may wait for the rest of it, in microseconds. */
#define VM_CONSOLE_QUIET_US 20000

struct vm_console {
	const char *name;
	unsigned number; /* 1-based: the hotkey Ctrl-] <number> gives it the keyboard */
	bool muted;	 /* console=off: output dropped, never has the keyboard */
	spinlock_t lock;
	char line[VM_CONSOLE_LINE_MAX];
	size_t len;
	uint64_t flush_at; /* when a partial line goes out; UINT64_MAX: none waiting */
	bool tracked;	   /* on the list of consoles the quiet-time flush looks at */
};

void vm_console_init(struct vm_console *c, const char *name, unsigned number, bool muted);
void vm_console_putc(struct vm_console *c, uint8_t byte);
/* Several bytes kept together (one SBI console_write). */
void vm_console_write(struct vm_console *c, const uint8_t *buf, size_t len);
/* Write out whatever the VM has gathered (at VM end, or when its quiet time is up). */
void vm_console_flush(struct vm_console *c);
/* Tag lines when more than one VM shares the console; colour them if asked. */
void vm_console_configure(bool shared, bool colour);
/* When the next partial line is due (time CSR units), UINT64_MAX if none. */
uint64_t vm_console_next_flush(void);
/* Call from time to time (the scheduler does on every host interrupt): flushes what is due. */
void vm_console_tick(uint64_t now);

#endif
