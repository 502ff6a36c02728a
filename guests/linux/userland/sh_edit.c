// SPDX-License-Identifier: BSD-2-Clause
/*
 * The interactive line editor. The terminal is raw only while a line is
 * being typed; commands run with the terminal as it was (cooked, ^C on).
 * Keys: printable, Backspace, Delete, Left/Right, Home/End (^A/^E),
 * Up/Down history, ^U and ^W kill, ^C cancels the line, ^D on an empty line
 * ends input, ^L redraws. Typing at the end of the line echoes just the
 * characters typed, so a script driving the console sees what it sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sh.h"

#define LINE_MAX_LEN 4096
#define HISTORY_LEN  64

struct sh_line {
	char buf[LINE_MAX_LEN];
	int len, pos; /* length, and cursor position in bytes */
	const char *prompt;
};

static struct termios sh_cooked;
static bool sh_have_termios;
static char *sh_history[HISTORY_LEN];
static int sh_history_count;

void sh_edit_init(void)
{
	sh_have_termios = tcgetattr(0, &sh_cooked) == 0;
}

static void sh_out(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(2, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void sh_outs(const char *s)
{
	sh_out(s, strlen(s));
}

static void sh_raw(bool on)
{
	struct termios t = sh_cooked;

	if (!sh_have_termios)
		return;
	if (on) {
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
		t.c_iflag &= ~(tcflag_t)(IXON | INLCR | IGNCR);
		t.c_iflag |= ICRNL;
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
	}
	tcsetattr(0, TCSADRAIN, &t);
}

/* Rewrites the whole line and puts the cursor back where it belongs. */
static void sh_redraw(const struct sh_line *l)
{
	char tail[32];

	sh_outs("\r");
	sh_outs(l->prompt);
	sh_out(l->buf, (size_t)l->len);
	sh_outs("\x1b[K");
	if (l->len > l->pos) {
		snprintf(tail, sizeof(tail), "\x1b[%dD", l->len - l->pos);
		sh_outs(tail);
	}
}

static void sh_insert(struct sh_line *l, char c)
{
	if (l->len >= LINE_MAX_LEN - 1)
		return;
	memmove(l->buf + l->pos + 1, l->buf + l->pos, (size_t)(l->len - l->pos));
	l->buf[l->pos++] = c;
	l->len++;
	if (l->pos == l->len)
		sh_out(&c, 1);
	else
		sh_redraw(l);
}

/* Deletes n bytes before the cursor. */
static void sh_delete_back(struct sh_line *l, int n)
{
	if (n <= 0)
		return;
	memmove(l->buf + l->pos - n, l->buf + l->pos, (size_t)(l->len - l->pos));
	l->pos -= n;
	l->len -= n;
	if (l->pos == l->len && n == 1)
		sh_outs("\b \b");
	else
		sh_redraw(l);
}

static void sh_word_back(struct sh_line *l)
{
	int p = l->pos;

	while (p > 0 && l->buf[p - 1] == ' ')
		p--;
	while (p > 0 && l->buf[p - 1] != ' ')
		p--;
	sh_delete_back(l, l->pos - p);
}

static void sh_set_line(struct sh_line *l, const char *text)
{
	snprintf(l->buf, sizeof(l->buf), "%s", text);
	l->len = l->pos = (int)strlen(l->buf);
	sh_redraw(l);
}

static void sh_history_add(const char *line)
{
	if (!*line || (sh_history_count > 0 &&
		       strcmp(sh_history[(sh_history_count - 1) % HISTORY_LEN], line) == 0))
		return;
	free(sh_history[sh_history_count % HISTORY_LEN]);
	sh_history[sh_history_count % HISTORY_LEN] = strdup(line);
	sh_history_count++;
}

/* Moves through history; *hist is an index, sh_history_count meaning "the new line". */
static void sh_history_move(struct sh_line *l, int *hist, int delta, char *draft)
{
	int oldest = sh_history_count > HISTORY_LEN ? sh_history_count - HISTORY_LEN : 0;
	int next = *hist + delta;

	if (next < oldest || next > sh_history_count)
		return;
	if (*hist == sh_history_count)
		snprintf(draft, LINE_MAX_LEN, "%.*s", l->len, l->buf);
	*hist = next;
	sh_set_line(l, next == sh_history_count ? draft : sh_history[next % HISTORY_LEN]);
}

static int sh_getc(void)
{
	unsigned char c;

	for (;;) {
		ssize_t n = read(0, &c, 1);

		if (n == 1)
			return c;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/* After ESC: arrows and friends, as "ESC [ x", "ESC O x" or "ESC [ n ~". */
static void sh_escape(struct sh_line *l, int *hist, char *draft)
{
	int a = sh_getc(), b = sh_getc();

	if (a != '[' && a != 'O')
		return;
	if (b >= '0' && b <= '9') {
		if (sh_getc() == '~' && b == '3' && l->pos < l->len) {
			l->pos++;
			sh_delete_back(l, 1);
		}
		return;
	}
	switch (b) {
	case 'A':
		sh_history_move(l, hist, -1, draft);
		break;
	case 'B':
		sh_history_move(l, hist, 1, draft);
		break;
	case 'C':
		l->pos += l->pos < l->len;
		sh_redraw(l);
		break;
	case 'D':
		l->pos -= l->pos > 0;
		sh_redraw(l);
		break;
	case 'H':
		l->pos = 0;
		sh_redraw(l);
		break;
	case 'F':
		l->pos = l->len;
		sh_redraw(l);
		break;
	}
}

/* Handles one key: 1 when the line is done, 2 if cancelled, -1 at end of input, 0 to go on. */
static int sh_key(struct sh_line *l, int c, int *hist, char *draft)
{
	switch (c) {
	case -1:
		return l->len ? 1 : -1;
	case '\n':
		return 1;
	case 4: /* ^D */
		return l->len ? 0 : -1;
	case 3: /* ^C: drop the line, as bash does */
		sh_outs("^C\n");
		l->len = l->pos = 0;
		sh_status = 130;
		return 2;
	case 127:
	case '\b':
		if (l->pos > 0)
			sh_delete_back(l, 1);
		return 0;
	case 21: /* ^U */
		sh_delete_back(l, l->pos);
		return 0;
	case 23: /* ^W */
		sh_word_back(l);
		return 0;
	case 1: /* ^A */
	case 5: /* ^E */
		l->pos = c == 1 ? 0 : l->len;
		sh_redraw(l);
		return 0;
	case 12: /* ^L */
		sh_outs("\x1b[H\x1b[2J");
		sh_redraw(l);
		return 0;
	case 27:
		sh_escape(l, hist, draft);
		return 0;
	}
	if (c >= 32)
		sh_insert(l, (char)c);
	return 0;
}

char *sh_edit_read(const char *prompt)
{
	static struct sh_line l;
	static char draft[LINE_MAX_LEN];
	int hist = sh_history_count, done;

	l.len = l.pos = 0;
	l.prompt = prompt;
	sh_outs(prompt);
	sh_raw(true);
	while ((done = sh_key(&l, sh_getc(), &hist, draft)) == 0)
		;
	sh_raw(false);
	if (done < 0)
		return NULL;
	if (done == 1)
		sh_outs("\n");
	l.buf[l.len] = '\0';
	sh_history_add(l.buf);
	return strdup(l.buf);
}
