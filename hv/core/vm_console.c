// SPDX-License-Identifier: BSD-2-Clause
/* Guest console output onto the host console. */
#include <vireo/console.h>
#include <vireo/printf.h>
#include <vireo/string.h>
#include <vireo/vm_console.h>

static bool console_shared;

void vm_console_set_shared(bool shared)
{
	console_shared = shared;
}

void vm_console_init(struct vm_console *c, const char *name)
{
	c->name = name;
	c->len = 0;
	c->lock = (spinlock_t)SPINLOCK_INIT;
}

static void emit_line(struct vm_console *c)
{
	char prefix[48];
	int n = vireo_snprintf(prefix, sizeof(prefix), "[%s] ", c->name);

	console_lock();
	console_write_raw(prefix, (size_t)MIN(n, (int)sizeof(prefix) - 1));
	console_write_raw(c->line, c->len);
	console_unlock();
	c->len = 0;
}

void vm_console_putc(struct vm_console *c, uint8_t byte)
{
	if (!console_shared) {
		/* Pass bytes through untouched: the guest owns its terminal. */
		console_lock();
		console_write_raw_byte(byte);
		console_unlock();
		return;
	}
	spin_lock(&c->lock);
	if (byte != '\r') {
		c->line[c->len++] = (char)byte;
		if (byte == '\n' || c->len == sizeof(c->line))
			emit_line(c);
	}
	spin_unlock(&c->lock);
}

void vm_console_flush(struct vm_console *c)
{
	spin_lock(&c->lock);
	if (c->len) {
		c->line[c->len++] = '\n';
		emit_line(c);
	}
	spin_unlock(&c->lock);
}
