// SPDX-License-Identifier: BSD-2-Clause
/*
 * vireo-perfcount: what `perf stat` would count, without perf. Opens counters
 * for cycles, instructions and two SBI PMU firmware events (set_timer calls
 * and IPIs sent, as raw events with config bits 63:62 = 0b10), runs a busy
 * loop and a few short sleeps (timer interrupts, IPIs to other CPUs) and
 * prints one line "perfcount: NAME=VALUE" per counter, "perfcount: NAME
 * unavailable (ERROR)" for one the kernel could not open. Exits 0 if cycles
 * and instructions both counted, 1 otherwise.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SBI_FW_EVENT(code) ((2ULL << 62) | (code))
#define LOOPS		   20000000UL

struct counter {
	const char *name;
	uint32_t type;
	uint64_t config;
	int fd;
	uint64_t value;
};

static int open_counter(const struct counter *c)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = c->type;
	attr.config = c->config;
	attr.disabled = 1;
	/* No exclude_* flags: without Sscofpmf the SBI PMU cannot filter by mode. */
	return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

int main(void)
{
	struct counter counters[] = {
	    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, -1, 0},
	    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, -1, 0},
	    {"sbi_set_timer", PERF_TYPE_RAW, SBI_FW_EVENT(5), -1, 0},
	    {"sbi_ipi_sent", PERF_TYPE_RAW, SBI_FW_EVENT(6), -1, 0},
	};
	const unsigned n = sizeof(counters) / sizeof(counters[0]);
	struct timespec nap = {0, 10 * 1000 * 1000};
	volatile unsigned long sum = 0;

	for (unsigned i = 0; i < n; i++) {
		counters[i].fd = open_counter(&counters[i]);
		if (counters[i].fd < 0) {
			printf("perfcount: %s unavailable (%s)\n", counters[i].name,
			       strerror(errno));
			continue;
		}
		ioctl(counters[i].fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(counters[i].fd, PERF_EVENT_IOC_ENABLE, 0);
	}
	for (unsigned long i = 0; i < LOOPS; i++)
		sum += i;
	for (unsigned i = 0; i < 5; i++)
		nanosleep(&nap, NULL);
	for (unsigned i = 0; i < n; i++) {
		if (counters[i].fd < 0)
			continue;
		ioctl(counters[i].fd, PERF_EVENT_IOC_DISABLE, 0);
		if (read(counters[i].fd, &counters[i].value, sizeof(counters[i].value)) !=
		    sizeof(counters[i].value))
			printf("perfcount: %s unreadable\n", counters[i].name);
		else
			printf("perfcount: %s=%llu\n", counters[i].name,
			       (unsigned long long)counters[i].value);
	}
	return counters[0].value > 0 && counters[1].value >= LOOPS ? 0 : 1;
}
