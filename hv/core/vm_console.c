// SPDX-License-Identifier: BSD-2-Clause
/* Guest console output onto the host console; see vireo/vm_console.h. */
#include <vireo/console.h>
#include <vireo/printf.h>
#include <vireo/string.h>
#include <vireo/vm_console.h>

/* ANSI colours for VM tags, in turn: green, yellow, blue, magenta, cyan, red. */
static const char *const tag_colours[] = {"32", "33", "34", "35", "36", "31"};

static bool console_shared;
static bool console_colour;

void vm_console_configure(bool shared, bool colour)
{
	console_shared = shared;
	console_colour = colour;
	console_set_colour(colour);
}

void vm_console_init(struct vm_console *c, const char *name, unsigned number, bool muted)
{
	c->name = name;
	c->number = number;
	c->muted = muted;
}

static void write_tag(const struct vm_console *c)
{
	char tag[64];
	int n;

	if (console_colour)
		n = vireo_snprintf(tag, sizeof(tag), "\033[%sm[%s]\033[0m ",
				   tag_colours[(c->number - 1) % ARRAY_SIZE(tag_colours)], c->name);
	else
		n = vireo_snprintf(tag, sizeof(tag), "[%s] ", c->name);
	console_write_raw(tag, (size_t)MIN(n, (int)sizeof(tag) - 1));
}

/* With the console lock held. */
static void put_locked(struct vm_console *c, uint8_t byte)
{
	if (!console_line_owned_by(c)) {
		console_end_line();
		if (console_shared)
			write_tag(c);
	}
	/* Guests send their own \r\n: pass bytes through untranslated. */
	console_write_raw_byte(byte);
	console_set_line_owner(byte == '\n' ? NULL : c);
}

void vm_console_putc(struct vm_console *c, uint8_t byte)
{
	if (c->muted)
		return;
	console_lock();
	put_locked(c, byte);
	console_unlock();
}

void vm_console_write(struct vm_console *c, const uint8_t *buf, size_t len)
{
	if (c->muted)
		return;
	console_lock();
	for (size_t i = 0; i < len; i++)
		put_locked(c, buf[i]);
	console_unlock();
}

void vm_console_flush(struct vm_console *c)
{
	console_lock();
	if (console_line_owned_by(c))
		console_end_line();
	console_unlock();
}
