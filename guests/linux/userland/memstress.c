// SPDX-License-Identifier: BSD-2-Clause
/*
 * vireo-memstress [-p PROCS] [-m MIB] [-s SECONDS]: a parallel memory
 * workload for SMP guests, a static program of its own in the initramfs.
 * PROCS processes (default: the online CPUs) each map MIB MiB (default 8)
 * afresh every pass, fill every word with a pattern of their own and of the
 * pass, move to another CPU, check every word and unmap. The mapping churn
 * and the migrations make the kernel shoot down TLBs on other harts (remote
 * fences); the signals each process sends its neighbour and the sched_yield
 * calls make IPIs. Runs SECONDS seconds (default 5). Exit status 0 iff every
 * process saw its own pattern everywhere and ended normally.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS_NAME		"vireo-memstress"
#define MS_MAX_PROCS	256
#define MS_MAX_MIB	4096
#define MS_MAX_REPORTED 8 /* mismatches printed in full, per process */
#define MS_GOLDEN	0x9e3779b97f4a7c15ULL

struct ms_opts {
	long procs, mib, seconds;
};

struct ms_result {
	unsigned long passes, errors, signals;
};

/* Shared by the parent and every worker (MAP_SHARED survives fork). */
struct ms_shared {
	int go;			  /* set once every pid below is known */
	pid_t pids[MS_MAX_PROCS]; /* worker i signals worker i + 1 */
	struct ms_result res[MS_MAX_PROCS];
};

static volatile sig_atomic_t ms_signals;

static int ms_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int ms_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, MS_NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int ms_perror(const char *what)
{
	return ms_error("%s: %s", what, strerror(errno));
}

static void ms_on_signal(int sig)
{
	(void)sig;
	ms_signals++;
}

static uint64_t ms_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A positive decimal number no larger than max, or -1. */
static long ms_number(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		return -1;
	return v;
}

static int ms_usage(void)
{
	return ms_error("usage: " MS_NAME " [-p PROCS] [-m MIB] [-s SECONDS]");
}

static bool ms_parse(int argc, char **argv, struct ms_opts *o)
{
	int c;

	o->procs = sysconf(_SC_NPROCESSORS_ONLN);
	if (o->procs < 1)
		o->procs = 1;
	o->mib = 8;
	o->seconds = 5;
	optind = 1;
	while ((c = getopt(argc, argv, "p:m:s:")) != -1) {
		if (c == 'p')
			o->procs = ms_number(optarg, MS_MAX_PROCS);
		else if (c == 'm')
			o->mib = ms_number(optarg, MS_MAX_MIB);
		else if (c == 's')
			o->seconds = ms_number(optarg, 24 * 3600);
		else
			return false;
		if (o->procs < 0 || o->mib < 0 || o->seconds < 0) {
			ms_error("-%c %s: not a number in range", c, optarg);
			return false;
		}
	}
	return optind == argc;
}

/* What word i holds in this pass: differs per process, per pass and per word. */
static uint64_t ms_pattern(uint64_t seed, size_t i)
{
	return seed ^ ((uint64_t)i * MS_GOLDEN);
}

static uint64_t ms_seed(int idx, unsigned long pass)
{
	return ((uint64_t)idx << 48) ^ ((uint64_t)pass << 20) ^ 0x6d656d7374726573ULL;
}

static void ms_fill(uint64_t *mem, size_t words, uint64_t seed)
{
	for (size_t i = 0; i < words; i++)
		mem[i] = ms_pattern(seed, i);
}

static unsigned long ms_check(const volatile uint64_t *mem, size_t words, uint64_t seed, int idx,
			      unsigned long pass, unsigned long reported)
{
	unsigned long errors = 0;

	for (size_t i = 0; i < words; i++) {
		uint64_t want = ms_pattern(seed, i), got = mem[i];

		if (got == want)
			continue;
		if (reported + errors++ < MS_MAX_REPORTED)
			fprintf(stderr,
				MS_NAME ": process %d pass %lu: mismatch at %p: expected "
					"0x%016llx, got 0x%016llx\n",
				idx, pass, (const void *)&mem[i], (unsigned long long)want,
				(unsigned long long)got);
	}
	return errors;
}

/* Run on another CPU from now on: the check then reads what a different hart wrote. */
static void ms_migrate(long cpu, long ncpus)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)(cpu % ncpus), &set);
	sched_setaffinity(0, sizeof(set), &set); /* best effort: a CPU may be offline */
}

/* Poke the neighbour (an IPI if it runs elsewhere) and give up the CPU (a reschedule). */
static void ms_disturb(struct ms_shared *sh, int idx, long procs)
{
	pid_t next = sh->pids[(idx + 1) % procs];

	/* 0 would signal the whole process group, the shell included: only if fork failed. */
	if (next > 0 && next != getpid())
		kill(next, SIGUSR1);
	sched_yield();
}

static int ms_worker(struct ms_shared *sh, int idx, const struct ms_opts *o, uint64_t end_ns)
{
	size_t bytes = (size_t)o->mib << 20, words = bytes / sizeof(uint64_t);
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct ms_result *r = &sh->res[idx];
	unsigned long pass = 0;

	while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
		sched_yield();
	if (ncpus < 1)
		ncpus = 1;
	do {
		uint64_t seed = ms_seed(idx, pass);
		uint64_t *mem =
		    mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (mem == MAP_FAILED) {
			fprintf(stderr, MS_NAME ": process %d: mmap %ld MiB: %s\n", idx, o->mib,
				strerror(errno));
			r->errors++;
			break;
		}
		ms_fill(mem, words, seed);
		ms_disturb(sh, idx, o->procs);
		ms_migrate(idx + (long)pass + 1, ncpus);
		r->errors += ms_check(mem, words, seed, idx, pass, r->errors);
		munmap(mem, bytes);
		pass++;
	} while (ms_now_ns() < end_ns);
	r->passes = pass;
	r->signals = (unsigned long)ms_signals;
	return r->errors ? 1 : 0;
}

/* Fork the workers; returns how many started (all of them, unless fork failed). */
static long ms_spawn(struct ms_shared *sh, const struct ms_opts *o, uint64_t end_ns)
{
	for (long i = 0; i < o->procs; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			int status = ms_worker(sh, (int)i, o, end_ns);

			fflush(stderr);
			_exit(status);
		}
		if (pid < 0) {
			ms_perror("fork");
			return i;
		}
		sh->pids[i] = pid;
	}
	return o->procs;
}

/* Reap every worker; true if all of them exited with status 0. */
static bool ms_reap(struct ms_shared *sh, long started)
{
	bool ok = true;

	for (long i = 0; i < started; i++) {
		int status;

		while (waitpid(sh->pids[i], &status, 0) < 0) {
			if (errno != EINTR) {
				ms_perror("waitpid");
				return false;
			}
		}
		if (WIFSIGNALED(status))
			fprintf(stderr, MS_NAME ": process %ld killed by signal %d\n", i,
				WTERMSIG(status));
		ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	return ok;
}

int main(int argc, char **argv)
{
	struct ms_opts o;
	struct ms_shared *sh;
	struct sigaction sa = {.sa_handler = ms_on_signal, .sa_flags = SA_RESTART};
	unsigned long passes = 0, errors = 0, signals = 0;
	long started;
	bool ok;

	if (!ms_parse(argc, argv, &o))
		return ms_usage();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return ms_perror("mmap");
	/* Installed before fork: a worker must never die of its neighbour's poke. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	printf(MS_NAME ": %ld processes x %ld MiB for %ld s\n", o.procs, o.mib, o.seconds);
	fflush(stdout);
	started = ms_spawn(sh, &o, ms_now_ns() + (uint64_t)o.seconds * 1000000000ULL);
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	ok = ms_reap(sh, started) && started == o.procs;
	for (long i = 0; i < started; i++) {
		passes += sh->res[i].passes;
		errors += sh->res[i].errors;
		signals += sh->res[i].signals;
	}
	printf(MS_NAME ": %lu signals between processes\n", signals);
	printf(MS_NAME ": %ld processes, %lu passes, %lu errors\n", started, passes, errors);
	return ok && errors == 0 ? 0 : 1;
}
