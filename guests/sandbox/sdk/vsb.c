// SPDX-License-Identifier: BSD-2-Clause
/* The guest SDK's runtime (vireo_sandbox.h): SBI calls, the console, start-up. */
#include <vireo_sandbox.h>

#define SBI_EXT_BASE		 0x10
#define SBI_BASE_PROBE_EXTENSION 3
#define SBI_EXT_DBCN		 0x4442434E
#define SBI_DBCN_WRITE		 0
#define SBI_EXT_SRST		 0x53525354
#define SBI_SRST_SHUTDOWN	 0
#define SBI_SRST_FAILURE	 1
#define SBI_SANDBOX_READY	 0
#define SBI_SANDBOX_HOSTCALL	 2
#define NAME_MAX		 64

/* Each formatted line goes out whole: a console line is a call, not a byte. */
#define LINE_MAX 256

int vireo_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

struct vsb_result vsb_sbi(unsigned long eid, unsigned long fid, unsigned long a0, unsigned long a1,
			  unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2;
	register unsigned long r3 __asm__("a3") = a3;
	register unsigned long r4 __asm__("a4") = a4;
	register unsigned long r5 __asm__("a5") = a5;
	register unsigned long r6 __asm__("a6") = fid;
	register unsigned long r7 __asm__("a7") = eid;

	__asm__ volatile("ecall"
			 : "+r"(r0), "+r"(r1)
			 : "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r6), "r"(r7)
			 : "memory");
	return (struct vsb_result){(long)r0, (long)r1};
}

struct vsb_result vsb_host_call(const char *name, unsigned long a0, unsigned long a1,
				unsigned long a2, unsigned long a3)
{
	size_t n = strlen(name);

	return vsb_sbi(VSB_SBI_EXT, SBI_SANDBOX_HOSTCALL, (unsigned long)name, n, a0, a1, a2, a3);
}

void vsb_write(const void *bytes, size_t n)
{
	/* Guest-physical is virtual here: translation is off. */
	if (n)
		vsb_sbi(SBI_EXT_DBCN, SBI_DBCN_WRITE, n, (unsigned long)bytes, 0, 0, 0, 0);
}

void vsb_print(const char *s)
{
	vsb_write(s, strlen(s));
}

int vsb_printf(const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vireo_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vsb_write(line, n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	return n;
}

__attribute__((weak)) void vsb_init(void)
{
}

void vsb_return_stub(void);
void vsb_start(void) __attribute__((noreturn));

/* From crt0.S, with a stack and a zeroed .bss. */
void vsb_start(void)
{
	struct vsb_result probe =
	    vsb_sbi(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, VSB_SBI_EXT, 0, 0, 0, 0, 0);

	if (probe.error || !probe.value) {
		vsb_print("vsb: not in a Vireo sandbox (no sandbox SBI extension)\n");
		vsb_sbi(SBI_EXT_SRST, SBI_SRST_SHUTDOWN, 0, SBI_SRST_FAILURE, 0, 0, 0, 0);
	}
	vsb_init();
	vsb_sbi(VSB_SBI_EXT, SBI_SANDBOX_READY, (unsigned long)vsb_return_stub, VSB_SDK_VERSION, 0,
		0, 0, 0);
	/* Never resumed: calls start at their function. */
	for (;;)
		__asm__ volatile("ebreak");
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
