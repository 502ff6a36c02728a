// SPDX-License-Identifier: BSD-2-Clause
/*
 * Leveled "vireo: ..." log lines; each line is written as one unit. lib
 * depends on nothing above it: where the lines go (the console) is
 * registered at boot with log_set_output().
 */
#include <vireo/log.h>
#include <vireo/printf.h>

#define LOG_LINE_MAX 256

static enum log_level current_level = LOG_INFO;
static const struct log_output *output;

void log_set_output(const struct log_output *out)
{
	output = out;
}

static void out_write(const char *s, size_t len)
{
	if (output)
		output->write(s, len);
}

static bool out_colour(void)
{
	return output && output->colour && output->colour();
}

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

static const char *level_tag(enum log_level level)
{
	switch (level) {
	case LOG_ERROR:
		return "error: ";
	case LOG_WARN:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int n;

	if (level > current_level)
		return;
	/* Vireo's own lines stand out from the guests' (bold when there are colours). */
	n = vireo_snprintf(line, sizeof(line), "%svireo:%s %s", out_colour() ? "\033[1m" : "",
			   out_colour() ? "\033[0m" : "", level_tag(level));
	if (n < (int)sizeof(line))
		n += vireo_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	out_write(line, (size_t)n);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static void char_sink(void *ctx, char c)
{
	(void)ctx;
	out_write(&c, 1);
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;
	char buf[LOG_LINE_MAX];

	va_start(ap, fmt);
	n = vireo_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < (int)sizeof(buf)) {
		out_write(buf, (size_t)n);
		return n;
	}
	/* Too long for one buffer: stream it (may interleave with other harts). */
	va_start(ap, fmt);
	n = vireo_vformat(char_sink, NULL, fmt, ap);
	va_end(ap);
	return n;
}
