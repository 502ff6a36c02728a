// SPDX-License-Identifier: BSD-2-Clause
/*
 * vireo-vectest [SECONDS]: vector code in a Linux guest. Adds two arrays with
 * RVV 1.0 instructions (vsetvli, vle32, vadd, vse32) over and over for SECONDS
 * seconds (default 1), keeping a value in a vector register across the whole
 * run, and checks every result and that register. With other processes and
 * other VMs running, the kernel and the hypervisor must keep its vector state.
 * Prints "vectest: ok vlenb=N rounds=R" and exits 0, or says what went wrong.
 * Exits 2 when the kernel offers no V (AT_HWCAP has no 'v').
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <time.h>

#define N	   1024
#define HWCAP_V	   (1UL << ('v' - 'a'))
#define KEEP_VALUE 0x5eed1234u

static uint32_t a[N], b[N], c[N];

static unsigned long vlenb(void)
{
	unsigned long v;

	__asm__ volatile(".option push\n.option arch, +v\ncsrr %0, vlenb\n.option pop" : "=r"(v));
	return v;
}

/* c = a + b, strip-mined by vsetvli; v24 is not touched. */
static void vadd(const uint32_t *x, const uint32_t *y, uint32_t *z, size_t n)
{
	while (n) {
		size_t vl;

		__asm__ volatile(".option push\n.option arch, +v\n"
				 "vsetvli %0, %1, e32, m8, ta, ma\n"
				 "vle32.v v0, (%2)\n"
				 "vle32.v v8, (%3)\n"
				 "vadd.vv v16, v0, v8\n"
				 "vse32.v v16, (%4)\n"
				 ".option pop"
				 : "=&r"(vl)
				 : "r"(n), "r"(x), "r"(y), "r"(z)
				 : "memory");
		x += vl;
		y += vl;
		z += vl;
		n -= vl;
	}
}

static void keep_set(uint32_t value)
{
	__asm__ volatile(".option push\n.option arch, +v\n"
			 "vsetivli zero, 1, e32, m1, ta, ma\n"
			 "vmv.s.x v24, %0\n"
			 ".option pop" ::"r"(value));
}

static uint32_t keep_get(void)
{
	uint32_t v;

	__asm__ volatile(".option push\n.option arch, +v\n"
			 "vsetivli zero, 1, e32, m1, ta, ma\n"
			 "vmv.x.s %0, v24\n"
			 ".option pop"
			 : "=r"(v));
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0, end;
	unsigned long rounds = 0;

	if (!(getauxval(AT_HWCAP) & HWCAP_V)) {
		printf("vectest: the kernel offers no V\n");
		return 2;
	}
	for (unsigned i = 0; i < N; i++) {
		a[i] = i * 3u;
		b[i] = 0x10000u + i;
	}
	keep_set(KEEP_VALUE);
	end = now() + seconds;
	do {
		vadd(a, b, c, N);
		for (unsigned i = 0; i < N; i++) {
			if (c[i] != a[i] + b[i]) {
				printf("vectest: c[%u] = %u, want %u\n", i, c[i], a[i] + b[i]);
				return 1;
			}
		}
		if (keep_get() != KEEP_VALUE) {
			printf("vectest: v24 lost its value: 0x%x\n", keep_get());
			return 1;
		}
		/* Keep v24 across the scalar check above only: vadd uses v0-v23. */
		keep_set(KEEP_VALUE);
		rounds++;
	} while (now() < end);
	printf("vectest: ok vlenb=%lu rounds=%lu\n", vlenb(), rounds);
	return 0;
}
