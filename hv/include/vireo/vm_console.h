/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A VM's console output on the shared host console. With one VM the bytes
 * pass through untouched (an interactive shell needs that); with several,
 * each complete line is prefixed with the VM's name so they can be told apart.
 */
#ifndef VIREO_VM_CONSOLE_H
#define VIREO_VM_CONSOLE_H

#include <vireo/spinlock.h>
#include <vireo/types.h>

#define VM_CONSOLE_LINE_MAX 256

struct vm_console {
	const char *name;
	char line[VM_CONSOLE_LINE_MAX];
	size_t len;
	spinlock_t lock;
};

void vm_console_init(struct vm_console *c, const char *name);
void vm_console_putc(struct vm_console *c, uint8_t byte);
/* Write out a partial line (at VM end). */
void vm_console_flush(struct vm_console *c);
/* Prefix lines when more than one VM shares the console. */
void vm_console_set_shared(bool shared);

#endif
