// SPDX-License-Identifier: BSD-2-Clause
/* printf-family formatting engine; see vireo/printf.h for what it supports. */
#include <vireo/printf.h>

struct format_spec {
	bool left;
	bool zero;
	bool plus;
	bool space;
	bool alt;
	int width;
	int precision; /* -1: none */
	char length;   /* 'H' hh, 'h', 'l', 'L' ll/j/z/t, 0 int */
};

struct sink {
	printf_putc_fn putc;
	void *ctx;
	int count;
};

static void emit(struct sink *out, char c)
{
	out->putc(out->ctx, c);
	out->count++;
}

static void emit_repeat(struct sink *out, char c, int n)
{
	while (n-- > 0)
		emit(out, c);
}

static void emit_string(struct sink *out, const char *s, const struct format_spec *spec)
{
	int len = 0;

	if (!s)
		s = "(null)";
	while (s[len] && (spec->precision < 0 || len < spec->precision))
		len++;
	if (!spec->left)
		emit_repeat(out, ' ', spec->width - len);
	for (int i = 0; i < len; i++)
		emit(out, s[i]);
	if (spec->left)
		emit_repeat(out, ' ', spec->width - len);
}

static void emit_number(struct sink *out, uint64_t value, bool negative, unsigned base, bool upper,
			const char *prefix, const struct format_spec *spec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int ndigits = 0;
	char sign = 0;
	int prefix_len;

	if (!prefix)
		prefix = "";
	prefix_len = (int)__builtin_strlen(prefix);

	if (negative)
		sign = '-';
	else if (spec->plus)
		sign = '+';
	else if (spec->space)
		sign = ' ';

	while (value) {
		/* cppcheck-suppress zerodivcond ; base is 8, 10 or 16 */
		buf[ndigits++] = digits[value % base];
		value /= base;
	}
	/* "%.0d" of 0 prints nothing; otherwise 0 prints one digit. */
	if (ndigits == 0 && spec->precision != 0)
		buf[ndigits++] = '0';

	int zeros = spec->precision > ndigits ? spec->precision - ndigits : 0;
	/* '#' with octal: the first digit is a 0, adding one only if there is none. */
	if (base == 8 && spec->alt && zeros == 0 && (ndigits == 0 || buf[ndigits - 1] != '0'))
		zeros = 1;
	int body = ndigits + zeros + (sign ? 1 : 0) + prefix_len;
	int pad = spec->width > body ? spec->width - body : 0;
	bool zero_pad = spec->zero && !spec->left && spec->precision < 0;

	if (!spec->left && !zero_pad)
		emit_repeat(out, ' ', pad);
	if (sign)
		emit(out, sign);
	for (int i = 0; i < prefix_len; i++)
		emit(out, prefix[i]);
	if (zero_pad)
		emit_repeat(out, '0', pad);
	emit_repeat(out, '0', zeros);
	while (ndigits)
		emit(out, buf[--ndigits]);
	if (spec->left)
		emit_repeat(out, ' ', pad);
}

static const char *parse_flags(const char *fmt, struct format_spec *spec)
{
	for (;; fmt++) {
		switch (*fmt) {
		case '-':
			spec->left = true;
			break;
		case '0':
			spec->zero = true;
			break;
		case '+':
			spec->plus = true;
			break;
		case ' ':
			spec->space = true;
			break;
		case '#':
			spec->alt = true;
			break;
		default:
			return fmt;
		}
	}
}

static const char *parse_int(const char *fmt, int *value, va_list *ap)
{
	if (*fmt == '*') {
		*value = va_arg(*ap, int);
		return fmt + 1;
	}
	*value = 0;
	while (*fmt >= '0' && *fmt <= '9')
		*value = *value * 10 + (*fmt++ - '0');
	return fmt;
}

static const char *parse_length(const char *fmt, struct format_spec *spec)
{
	switch (*fmt) {
	case 'h':
		if (fmt[1] == 'h') {
			spec->length = 'H';
			return fmt + 2;
		}
		spec->length = 'h';
		return fmt + 1;
	case 'l':
		if (fmt[1] == 'l') {
			spec->length = 'L';
			return fmt + 2;
		}
		spec->length = 'l';
		return fmt + 1;
	case 'z':
	case 't':
	case 'j':
		spec->length = 'L';
		return fmt + 1;
	default:
		return fmt;
	}
}

static int64_t fetch_signed(const struct format_spec *spec, va_list *ap)
{
	switch (spec->length) {
	case 'H':
		return (signed char)va_arg(*ap, int);
	case 'h':
		return (short)va_arg(*ap, int);
	case 'l':
		return va_arg(*ap, long);
	case 'L':
		return va_arg(*ap, long long);
	default:
		return va_arg(*ap, int);
	}
}

static uint64_t fetch_unsigned(const struct format_spec *spec, va_list *ap)
{
	switch (spec->length) {
	case 'H':
		return (unsigned char)va_arg(*ap, unsigned int);
	case 'h':
		return (unsigned short)va_arg(*ap, unsigned int);
	case 'l':
		return va_arg(*ap, unsigned long);
	case 'L':
		return va_arg(*ap, unsigned long long);
	default:
		return va_arg(*ap, unsigned int);
	}
}

/* Handle one conversion after '%' and its flags/width/precision/length. */
static void format_conversion(struct sink *out, char conv, struct format_spec *spec, va_list *ap)
{
	/* '+' and ' ' apply to signed conversions only. */
	if (conv != 'd' && conv != 'i')
		spec->plus = spec->space = false;
	switch (conv) {
	case 'd':
	case 'i': {
		int64_t v = fetch_signed(spec, ap);
		uint64_t magnitude = v < 0 ? -(uint64_t)v : (uint64_t)v;
		emit_number(out, magnitude, v < 0, 10, false, NULL, spec);
		break;
	}
	case 'u':
		emit_number(out, fetch_unsigned(spec, ap), false, 10, false, NULL, spec);
		break;
	case 'x':
	case 'X': {
		uint64_t v = fetch_unsigned(spec, ap);
		const char *prefix = spec->alt && v ? (conv == 'x' ? "0x" : "0X") : NULL;
		emit_number(out, v, false, 16, conv == 'X', prefix, spec);
		break;
	}
	case 'o':
		emit_number(out, fetch_unsigned(spec, ap), false, 8, false, NULL, spec);
		break;
	case 'p':
		spec->length = 'L';
		emit_number(out, (uintptr_t)va_arg(*ap, void *), false, 16, false, "0x", spec);
		break;
	case 'c': {
		char c = (char)va_arg(*ap, int);
		if (!spec->left)
			emit_repeat(out, ' ', spec->width - 1);
		emit(out, c);
		if (spec->left)
			emit_repeat(out, ' ', spec->width - 1);
		break;
	}
	case 's':
		emit_string(out, va_arg(*ap, const char *), spec);
		break;
	case '%':
		emit(out, '%');
		break;
	default:
		/* Unknown conversion: show it rather than guess at its argument. */
		emit(out, '%');
		if (conv)
			emit(out, conv);
		break;
	}
}

int vireo_vformat(printf_putc_fn putc, void *ctx, const char *fmt, va_list ap)
{
	struct sink out = {.putc = putc, .ctx = ctx, .count = 0};
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			emit(&out, *fmt++);
			continue;
		}
		struct format_spec spec = {.precision = -1};
		fmt = parse_flags(fmt + 1, &spec);
		fmt = parse_int(fmt, &spec.width, &args);
		if (spec.width < 0) {
			spec.left = true;
			spec.width = -spec.width;
		}
		if (*fmt == '.') {
			fmt = parse_int(fmt + 1, &spec.precision, &args);
			if (spec.precision < 0)
				spec.precision = -1;
		}
		fmt = parse_length(fmt, &spec);
		format_conversion(&out, *fmt, &spec, &args);
		if (*fmt)
			fmt++;
	}
	va_end(args);
	return out.count;
}

struct buffer_sink {
	char *buf;
	size_t size;
	size_t pos;
};

static void buffer_putc(void *ctx, char c)
{
	struct buffer_sink *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int vireo_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buffer_sink b = {.buf = buf, .size = size, .pos = 0};
	int n = vireo_vformat(buffer_putc, &b, fmt, ap);

	if (size > 0)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
}

int vireo_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vireo_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
