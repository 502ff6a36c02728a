// SPDX-License-Identifier: BSD-2-Clause
/* Guest console output onto the host console; see vireo/vm_console.h. */
#include <vireo/console.h>
#include <vireo/hart.h>
#include <vireo/printf.h>
#include <vireo/sched.h>
#include <vireo/string.h>
#include <vireo/time.h>
#include <vireo/vm_console.h>

#define MAX_CONSOLES 16

/* ANSI colours for VM tags, in turn: green, yellow, blue, magenta, cyan, red. */
static const char *const tag_colours[] = {"32", "33", "34", "35", "36", "31"};

static bool console_shared;
static bool console_colour;
/* Consoles with a partial line waiting, for the quiet-time flush. */
static struct vm_console *waiting[MAX_CONSOLES];
static spinlock_t waiting_lock = SPINLOCK_INIT;

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
	c->lock = (spinlock_t)SPINLOCK_INIT;
	c->len = 0;
	c->flush_at = UINT64_MAX;
	c->tracked = false;
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

/* Out with the gathered bytes (c->lock held). A line that continues what this VM
 * left open needs no new tag. */
static void emit(struct vm_console *c)
{
	bool complete = c->len && c->line[c->len - 1] == '\n';

	spin_assert_held(&c->lock);
	if (!c->len)
		return;
	console_lock();
	if (!console_line_owned_by(c)) {
		console_end_line();
		write_tag(c);
	}
	for (size_t i = 0; i < c->len; i++)
		console_write_raw_byte((uint8_t)c->line[i]);
	console_set_line_owner(complete ? NULL : c);
	console_unlock();
	c->len = 0;
	c->flush_at = UINT64_MAX;
}

/* Each console is on the list at most once (c->tracked): a console whose line was
 * completed stays listed with no deadline and is not added again. */
static void track_waiting(struct vm_console *c, bool add)
{
	spin_lock(&waiting_lock);
	if (add != c->tracked) {
		for (unsigned i = 0; i < MAX_CONSOLES; i++) {
			if (add && !waiting[i]) {
				waiting[i] = c;
				break;
			}
			if (!add && waiting[i] == c)
				waiting[i] = NULL;
		}
		c->tracked = add;
	}
	spin_unlock(&waiting_lock);
}

/* Gather one byte (c->lock held). */
static void gather(struct vm_console *c, uint8_t byte)
{
	c->line[c->len++] = (char)byte;
	if (byte == '\n' || c->len == sizeof(c->line)) {
		emit(c);
		return;
	}
	if (c->flush_at == UINT64_MAX) {
		c->flush_at = hart_time() + time_us_to_ticks(VM_CONSOLE_QUIET_US);
		track_waiting(c, true);
		sched_timer_changed();
	}
}

static void put_raw(uint8_t byte)
{
	/* Guests send their own \r\n: pass bytes through untranslated. */
	console_lock();
	console_write_raw_byte(byte);
	console_set_line_owner(NULL);
	console_unlock();
}

void vm_console_write(struct vm_console *c, const uint8_t *buf, size_t len)
{
	if (c->muted)
		return;
	if (!console_shared) {
		for (size_t i = 0; i < len; i++)
			put_raw(buf[i]);
		return;
	}
	spin_lock(&c->lock);
	for (size_t i = 0; i < len; i++)
		gather(c, buf[i]);
	spin_unlock(&c->lock);
}

void vm_console_putc(struct vm_console *c, uint8_t byte)
{
	vm_console_write(c, &byte, 1);
}

void vm_console_flush(struct vm_console *c)
{
	spin_lock(&c->lock);
	emit(c);
	spin_unlock(&c->lock);
	track_waiting(c, false);
	console_lock();
	if (console_line_owned_by(c))
		console_end_line();
	console_unlock();
}

uint64_t vm_console_next_flush(void)
{
	uint64_t next = UINT64_MAX;

	spin_lock(&waiting_lock);
	for (unsigned i = 0; i < MAX_CONSOLES; i++)
		if (waiting[i])
			next = MIN(next, waiting[i]->flush_at);
	spin_unlock(&waiting_lock);
	return next;
}

void vm_console_tick(uint64_t now)
{
	/*
	 * Emit with waiting_lock held, so that vm_console_flush (which a VM's end calls
	 * before freeing it) cannot return while a flush here still uses the console.
	 * gather() takes the locks the other way round, hence the trylock: a console
	 * busy right now is writing anyway and will be looked at on the next tick.
	 */
	spin_lock(&waiting_lock);
	for (unsigned i = 0; i < MAX_CONSOLES; i++) {
		struct vm_console *c = waiting[i];
		if (!c || c->flush_at > now || !spin_trylock(&c->lock))
			continue;
		waiting[i] = NULL;
		c->tracked = false;
		emit(c);
		spin_unlock(&c->lock);
	}
	spin_unlock(&waiting_lock);
}
